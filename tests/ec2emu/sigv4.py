"""SigV4 verification of EC2 requests, in AWS's order of checks."""

import datetime
import hashlib
import hmac
import re
import urllib.parse

from .common import SKEW_LIMIT, EmuError, amz_date


class AuthResult:
    def __init__(self):
        self.access_key_id = None
        self.instance_id = None # for role credentials
        self.signature_valid = False
        self.error = None   # EmuError, or None when accepted
        self.detail = None  # canonical request etc. on mismatch


def _uri_encode(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


def canonical_uri(raw_path):
    """EC2 (every service but S3): remove dot segments and empty segments,
    then encode the already-encoded path once more."""
    out = []
    for seg in raw_path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    path = "/" + "/".join(out)
    if raw_path.endswith("/") and path != "/":
        path += "/"
    return _uri_encode(path, safe="/~-_.")


def canonical_query(raw_query):
    """Query parameters decoded as a form ('+' is a space: botocore signs
    %20 but sends '+'), re-encoded the SigV4 way and sorted."""
    pairs = []
    if raw_query:
        for part in raw_query.split("&"):
            if not part:
                continue
            k, _, v = part.partition("=")
            k = urllib.parse.unquote_plus(k)
            v = urllib.parse.unquote_plus(v)
            pairs.append((_uri_encode(k), _uri_encode(v)))
    pairs.sort()
    return "&".join("%s=%s" % kv for kv in pairs)


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _redact_token(text, token):
    if token:
        text = text.replace(token, "<token %d chars>" % len(token))
    return text


class SigV4Verifier:
    """Checks an EC2 request the way AWS does, in AWS's order: the header's
    shape, the key, the scope, the signature, the clock, the session token,
    then the expiry of temporary credentials."""

    AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)

    def __init__(self, world):
        self.world = world

    def verify(self, method, raw_path, raw_query, headers, body):
        res = AuthResult()
        try:
            self._verify(res, method, raw_path, raw_query, headers,
                         body)
        except EmuError as e:
            res.error = e
        return res

    def _verify(self, res, method, raw_path, raw_query, headers, body):
        authz = headers.get("Authorization")
        if authz is None:
            if "X-Amz-Signature" in raw_query:
                raise EmuError("AuthFailure",
                    "ec2emu does not accept presigned URLs")
            raise EmuError("MissingAuthenticationToken",
                "The request must contain either a valid "
                "(registered) AWS access key ID or X.509 "
                "certificate.")
        m = self.AUTH_RE.match(authz.strip())
        if not m:
            raise EmuError("IncompleteSignature",
                "Unsupported Authorization Type")
        fields = {}
        for part in m.group(1).split(","):
            k, eq, v = part.strip().partition("=")
            if eq:
                fields[k.strip()] = v.strip()
        for need in ("Credential", "SignedHeaders", "Signature"):
            if need not in fields:
                raise EmuError("IncompleteSignature",
                    "Authorization header requires '%s' "
                    "parameter." % need)
        scope = fields["Credential"].split("/")
        if len(scope) != 5:
            raise EmuError("IncompleteSignature",
                "Credential must have exactly 5 slash-delimited "
                "elements, e.g. keyid/date/region/service/term")
        akid, sdate, sregion, sservice, sterm = scope
        res.access_key_id = akid

        date_hdr = headers.get("X-Amz-Date")
        when = None
        if date_hdr is not None:
            try:
                when = datetime.datetime.strptime(
                    date_hdr.strip(), "%Y%m%dT%H%M%SZ").replace(
                        tzinfo=datetime.timezone.utc)
            except ValueError:
                raise EmuError("IncompleteSignature",
                    "Invalid X-Amz-Date %r" % date_hdr)
        else:
            raise EmuError("IncompleteSignature",
                "Authorization header requires existence of "
                "either a 'X-Amz-Date' or a 'Date' header.")

        w = self.world
        with w.lock:
            secret = w.static_keys.get(akid)
            role = w.role_creds.get(akid)
        if secret is None and role is None:
            raise EmuError("AuthFailure")
        if role is not None:
            secret = role.secret
            res.instance_id = role.instance_id

        if sterm != "aws4_request":
            raise EmuError("AuthFailure",
                "Credential should be scoped with a valid "
                "terminator: 'aws4_request', not '%s'." % sterm)
        if sservice != "ec2":
            raise EmuError("AuthFailure",
                "Credential should be scoped to correct service: "
                "'ec2'.")
        if sregion != w.region:
            raise EmuError("AuthFailure",
                "Credential should be scoped to a valid region, "
                "not '%s'." % sregion)
        if sdate != date_hdr.strip()[:8]:
            raise EmuError("AuthFailure",
                "Date in Credential scope does not match YYYYMMDD "
                "from ISO-8601 version of date from HTTP: '%s' != "
                "'%s', from '%s'." % (sdate, date_hdr[:8],
                                      date_hdr))

        signed = fields["SignedHeaders"].split(";")
        if "host" not in signed:
            raise EmuError("AuthFailure",
                "'Host' must be a signed header")
        for must in ("x-amz-date", "x-amz-security-token"):
            if headers.get(must) is not None and must not in signed:
                raise EmuError("AuthFailure",
                    "'%s' must be a signed header" % must)

        creq = self._canonical_request(method, raw_path, raw_query,
                                       headers, signed, body)
        sts = "\n".join([
            "AWS4-HMAC-SHA256", date_hdr.strip(),
            "/".join(scope[1:]),
            hashlib.sha256(creq.encode("utf-8")).hexdigest()
        ])
        k = _hmac(("AWS4" + secret).encode("utf-8"), sdate)
        k = _hmac(k, sregion)
        k = _hmac(k, sservice)
        k = _hmac(k, "aws4_request")
        want = hmac.new(k, sts.encode("utf-8"),
                hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, fields["Signature"].lower()):
            tok = headers.get("X-Amz-Security-Token")
            res.detail = {
                "canonical_request": _redact_token(creq, tok),
                "string_to_sign": sts,
            }
            raise EmuError("AuthFailure")
        res.signature_valid = True

        now = w.now()
        t = when.timestamp()
        # EC2 answers a request outside its window with RequestExpired;
        # the message is SigV4's, which says which clock is off.
        if t < now - SKEW_LIMIT:
            raise EmuError("RequestExpired",
                "Signature expired: %s is now earlier than %s "
                "(%s - 5 min.)" % (amz_date(t),
                                   amz_date(now - SKEW_LIMIT),
                                   amz_date(now)))
        if t > now + SKEW_LIMIT:
            raise EmuError("RequestExpired",
                "Signature not yet current: %s is still later "
                "than %s (%s + 5 min.)" % (
                    amz_date(t), amz_date(now + SKEW_LIMIT),
                    amz_date(now)))

        tok = headers.get("X-Amz-Security-Token")
        if role is None:
            if tok is not None:
                raise EmuError("AuthFailure",
                    "The security token included in the "
                    "request is invalid.")
            return
        if tok is None or not hmac.compare_digest(
            tok.strip().encode(), role.token.encode()):
            raise EmuError("AuthFailure",
                "The security token included in the request is "
                "invalid.")
        with w.lock:
            expired = role.expiration <= w.now()
        if expired:
            raise EmuError("RequestExpired", "Request has expired.")

    @staticmethod
    def _canonical_request(method, raw_path, raw_query, headers, signed,
                           body):
        lines = []
        for name in sorted(signed):
            vals = headers.get_all(name) or []
            lines.append("%s:%s" % (name, ",".join(
                " ".join(v.split()) for v in vals)))
        return "\n".join([
            method,
            canonical_uri(raw_path),
            canonical_query(raw_query),
            "\n".join(lines) + "\n",
            ";".join(sorted(signed)),
            hashlib.sha256(body).hexdigest(),
        ])
