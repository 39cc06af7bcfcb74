#!/usr/bin/python3
"""ec2emu - a local EC2 Query API + IMDSv2 emulator for eipfloatd's tests.

Python 3 standard library only (Debian 12's /usr/bin/python3).  One process,
threaded HTTP servers:

  * an EC2 endpoint (plain HTTP, optionally also HTTPS) speaking the Query
    API, version 2016-11-15, with AWS's XML and error format.  Every request
    is checked like AWS checks it: SigV4 (recomputed here with hmac/hashlib),
    credential scope, clock skew, session token, expiry of role credentials.
    Actions: DescribeAddresses, AssociateAddress, DisassociateAddress,
    DescribeInstances.
  * IMDSv2 listeners (one per instance, or shared and keyed by the client's
    source address): session tokens, instance identity, placement and
    expiring, rotating role credentials.
  * a control API under /_emu/ on the EC2 listener (not signed): call log,
    world state, fault injection (errors, throttling, delays, hangs, dropped
    or reset connections), and "console" changes to the world.

Run `ec2emu.py --help`; tests/ec2emu.md documents the world file and the
control API.  Nothing here ever sends traffic: it only listens.
"""

import argparse
import base64
import datetime
import fnmatch
import hashlib
import hmac
import json
import os
import re
import secrets
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape as xml_escape

API_VERSION = "2016-11-15"
XMLNS = "http://ec2.amazonaws.com/doc/%s/" % API_VERSION
SKEW_LIMIT = 300        # seconds between X-Amz-Date and our clock
BODY_MAX = 1024 * 1024
IMDS_TTL_MAX = 21600
CONN_IDLE_TIMEOUT = 120     # seconds an idle keep-alive connection lives
HANG_DEFAULT_MS = 600000

# HTTP status EC2 uses per error code; anything else is a 400.
ERROR_STATUS = {
    "AuthFailure": 401,
    "MissingAuthenticationToken": 401,
    "UnauthorizedOperation": 403,
    "OptInRequired": 403,
    "Blocked": 403,
    "DryRunOperation": 412,
    "RequestLimitExceeded": 503,
    "ServiceUnavailable": 503,
    "Unavailable": 503,
    "InternalError": 500,
    "InsufficientInstanceCapacity": 500,
}

ERROR_MESSAGE = {
    "AuthFailure":
        "AWS was not able to validate the provided access credentials",
    "UnauthorizedOperation":
        "You are not authorized to perform this operation.",
    "RequestLimitExceeded": "Request limit exceeded.",
    "InternalError":
        "An internal error has occurred",
    "Unavailable": "The server is overloaded and can't handle the request.",
    "ServiceUnavailable":
        "The request has failed due to a temporary failure of the server.",
    "RequestExpired": "Request has expired.",
}


class EmuError(Exception):
    """An EC2 error answer: code, message and HTTP status."""

    def __init__(self, code, message=None, status=None):
        super().__init__(code)
        self.code = code
        self.message = message or ERROR_MESSAGE.get(code, code)
        self.status = status or ERROR_STATUS.get(code, 400)


class ControlError(Exception):
    """A bad request to the /_emu/ control API (HTTP 400, JSON body)."""


def log(fmt, *args):
    """One line to stderr; callers never pass secrets."""
    ts = time.strftime("%H:%M:%S")
    sys.stderr.write("ec2emu %s %s\n" % (ts, fmt % args if args else fmt))
    sys.stderr.flush()


def iso8601(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def amz_date(epoch):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def hex_id(prefix, nbytes=9):
    return prefix + secrets.token_hex(nbytes)[:17]


def parse_hostport(text):
    """'127.0.0.1:0', '[::1]:8080', ':0' -> (host, port)."""
    m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:(\d+)|([^:\[\]]*):(\d+)",
                     text.strip())
    if not m:
        raise ValueError("expected HOST:PORT or [V6]:PORT, got %r" % text)
    host = m.group(1) if m.group(1) is not None else (m.group(3) or
                                                      "127.0.0.1")
    port = int(m.group(2) or m.group(4))
    if port > 65535:
        raise ValueError("port out of range in %r" % text)
    return host, port


def url_for(scheme, host, port):
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s:%d" % (scheme, host, port)


# ---------------------------------------------------------------------------
# World: instances, addresses, keys, role credentials and the clock.


class Instance:
    def __init__(self, spec, world):
        self.id = _req_str(spec, "id", "instance")
        if not self.id.startswith("i-"):
            raise ValueError("instance id %r must start with i-" %
                             self.id)
        self.private_ip = _req_str(spec, "private_ip", self.id)
        self.private_ips = [self.private_ip] + list(
            spec.get("secondary_private_ips", []))
        self.eni_id = spec.get("eni_id") or "eni-" + self.id[2:]
        self.az = spec.get("az") or world.region + "a"
        self.role = spec.get("role", world.role)
        self.imds_listen = spec.get("imds_listen")
        self.source_ips = list(spec.get("source_ips", []))
        self.imds_url = None

    def mac(self):
        h = hashlib.sha256(self.id.encode()).digest()
        return "0a:" + ":".join("%02x" % b for b in h[:5])


class Address:
    def __init__(self, spec):
        self.allocation_id = _req_str(spec, "allocation_id", "address")
        self.public_ip = _req_str(spec, "public_ip",
                                  self.allocation_id)
        # The current association, or None.
        self.association_id = None
        self.instance_id = None
        self.eni_id = None
        self.private_ip = None


class RoleCredential:
    """Temporary credentials issued through IMDS to one instance."""

    def __init__(self, instance_id, role, now, ttl):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        self.access_key_id = "ASIA" + "".join(
            secrets.choice(alphabet) for _ in range(16))
        self.secret = base64.b64encode(secrets.token_bytes(30)).decode()
        # Real tokens are long and full of '/', '+' and '=': clients
        # must carry them untouched.
        self.token = base64.b64encode(secrets.token_bytes(300)).decode()
        self.instance_id = instance_id
        self.role = role
        self.issued = now
        self.expiration = int(now) + ttl

    def public(self, now):
        return {
            "access_key_id": self.access_key_id,
            "instance_id": self.instance_id,
            "role": self.role,
            "issued": iso8601(self.issued),
            "expiration": iso8601(self.expiration),
            "expired": self.expiration <= now,
        }


def _req_str(spec, key, where):
    v = spec.get(key)
    if not isinstance(v, str) or not v:
        raise ValueError("%s: missing or empty %r" % (where, key))
    return v


class World:
    """All mutable emulator state, guarded by one lock.

    The emulator clock is the wall clock plus clock_offset, so tests can
    make the client look skewed without touching either host clock.
    """

    def __init__(self, spec):
        self.lock = threading.RLock()
        self.region = spec.get("region", "eu-west-1")
        self.account = str(spec.get("account", "123456789012"))
        self.role = spec.get("role", "eipfloatd-role")
        self.credential_ttl = int(spec.get("credential_ttl", 21600))
        self.refresh_ahead = spec.get("credential_refresh_ahead")
        self.clock_offset = float(spec.get("clock_offset", 0))
        self.imds_v1 = bool(spec.get("imds_v1", False))
        self.instances = {}
        for ispec in spec.get("instances", []):
            inst = Instance(ispec, self)
            if inst.id in self.instances:
                raise ValueError("duplicate instance %s" %
                                 inst.id)
            self.instances[inst.id] = inst
        self.addresses = []
        for aspec in spec.get("addresses", []):
            self.addresses.append(Address(aspec))
        for addr, aspec in zip(self.addresses,
                               spec.get("addresses", [])):
            iid = aspec.get("instance_id")
            if iid:
                if iid not in self.instances:
                    raise ValueError(
                        "address %s: unknown instance %s" %
                        (addr.allocation_id, iid))
                inst = self.instances[iid]
                self._bind(addr, inst, inst.eni_id,
                           inst.private_ip,
                           aspec.get("association_id"))
        self.static_keys = {}
        for k in spec.get("access_keys", []):
            self.static_keys[_req_str(k, "access_key_id",
                                      "access_keys")] = _req_str(
                                          k, "secret", "access_keys")
        self.role_creds = {}    # access key id -> RoleCredential
        self.current_cred = {}  # instance id -> RoleCredential
        self.imds_tokens = {}   # token -> (instance id, mono expiry)
        if self.credential_ttl < 1:
            raise ValueError("credential_ttl must be >= 1")

    def now(self):
        return time.time() + self.clock_offset

    # -- lookups (caller holds the lock) --

    def address_by_alloc(self, alloc):
        for a in self.addresses:
            if a.allocation_id == alloc:
                return a
        return None

    def address_by_ip(self, ip):
        for a in self.addresses:
            if a.public_ip == ip:
                return a
        return None

    def instance_by_eni(self, eni):
        for i in self.instances.values():
            if i.eni_id == eni:
                return i
        return None

    def instance_by_source(self, ip):
        if ip.startswith("::ffff:"):
            ip = ip[7:]
        for i in self.instances.values():
            if ip in i.source_ips:
                return i
        for i in self.instances.values():
            if ip == i.private_ip:
                return i
        return None

    # -- associations --

    def _bind(self, addr, inst, eni, private_ip, assoc_id=None):
        # One EIP per private address: AWS silently detaches the
        # address that was there before.
        for other in self.addresses:
            if (other is not addr and other.eni_id == eni and
                other.private_ip == private_ip):
                self._unbind(other)
        addr.association_id = assoc_id or hex_id("eipassoc-")
        addr.instance_id = inst.id
        addr.eni_id = eni
        addr.private_ip = private_ip
        return addr.association_id

    @staticmethod
    def _unbind(addr):
        addr.association_id = None
        addr.instance_id = None
        addr.eni_id = None
        addr.private_ip = None

    def associate(self, addr, inst, private_ip=None):
        return self._bind(addr, inst, inst.eni_id,
                          private_ip or inst.private_ip)

    def disassociate(self, addr):
        self._unbind(addr)

    # -- role credentials --

    def _refresh_ahead(self):
        if self.refresh_ahead is not None:
            return float(self.refresh_ahead)
        return min(300.0, self.credential_ttl / 2.0)

    def role_credential_for(self, inst):
        """The instance's current credentials, rotated ahead of expiry
        as AWS does; older ones stay valid until they expire."""
        now = self.now()
        cur = self.current_cred.get(inst.id)
        if cur is None or cur.expiration - now <= self._refresh_ahead():
            cur = RoleCredential(inst.id, inst.role, now,
                                 self.credential_ttl)
            self.role_creds[cur.access_key_id] = cur
            self.current_cred[inst.id] = cur
            log("imds: issued role credentials %s to %s, expire %s",
                cur.access_key_id, inst.id, iso8601(cur.expiration))
        return cur

    def expire_credentials(self):
        now = self.now()
        for c in self.role_creds.values():
            c.expiration = min(c.expiration, int(now) - 1)
        self.current_cred.clear()

    # -- IMDS tokens (real time: they are not part of the skew game) --

    def new_imds_token(self, inst, ttl):
        tok = base64.urlsafe_b64encode(secrets.token_bytes(42)).decode()
        self.imds_tokens[tok] = (inst.id, time.monotonic() + ttl)
        mono = time.monotonic()
        for t, (_, exp) in list(self.imds_tokens.items()):
            if exp <= mono:
                del self.imds_tokens[t]
        return tok

    def imds_token_valid(self, tok, inst):
        ent = self.imds_tokens.get(tok)
        return (ent is not None and ent[0] == inst.id and
            ent[1] > time.monotonic())

    # -- views --

    def address_view(self, a):
        return {
            "allocation_id": a.allocation_id,
            "public_ip": a.public_ip,
            "association_id": a.association_id,
            "instance_id": a.instance_id,
            "network_interface_id": a.eni_id,
            "private_ip": a.private_ip,
        }

    def state(self):
        now = self.now()
        return {
            "region": self.region,
            "account": self.account,
            "clock": iso8601(now),
            "clock_offset": self.clock_offset,
            "credential_ttl": self.credential_ttl,
            "credential_refresh_ahead": self._refresh_ahead(),
            "imds_v1": self.imds_v1,
            "addresses": [self.address_view(a) for a in self.addresses],
            "instances": [{
                "id": i.id,
                "private_ip": i.private_ip,
                "eni_id": i.eni_id,
                "az": i.az,
                "role": i.role,
                "imds_url": i.imds_url,
                "source_ips": i.source_ips,
            } for i in self.instances.values()],
            "credentials": [c.public(now)
                    for c in self.role_creds.values()],
        }


# ---------------------------------------------------------------------------
# SigV4 verification.


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
        if t < now - SKEW_LIMIT:
            raise EmuError("AuthFailure",
                "Signature expired: %s is now earlier than %s "
                "(%s - 5 min.)" % (amz_date(t),
                                   amz_date(now - SKEW_LIMIT),
                                   amz_date(now)))
        if t > now + SKEW_LIMIT:
            raise EmuError("AuthFailure",
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


# ---------------------------------------------------------------------------
# Faults.


class Fault:
    MODES = ("error", "delay", "hang", "drop", "reset")

    def __init__(self, spec, fid):
        if not isinstance(spec, dict):
            raise ControlError("a fault is a JSON object")
        known = {"target", "action", "path", "instance", "mode", "code",
                 "status", "message", "ms", "count", "after"}
        unknown = set(spec) - known
        if unknown:
            raise ControlError("unknown fault keys: %s" %
                               ", ".join(sorted(unknown)))
        self.id = fid
        self.target = spec.get("target", "ec2")
        if self.target not in ("ec2", "imds"):
            raise ControlError("target must be ec2 or imds")
        self.action = spec.get("action", "*")
        self.path = spec.get("path", "")
        self.instance = spec.get("instance")
        self.mode = spec.get("mode", "error")
        if self.mode not in self.MODES:
            raise ControlError("mode must be one of %s" %
                               ", ".join(self.MODES))
        default_code = "InternalError" if self.target == "ec2" else None
        self.code = spec.get("code", default_code)
        self.status = spec.get("status")
        if self.status is None:
            self.status = (ERROR_STATUS.get(self.code, 400)
                           if self.target == "ec2" else 500)
        self.message = spec.get("message")
        self.ms = spec.get("ms")
        if self.mode == "delay" and not isinstance(self.ms, (int, float)):
            raise ControlError("delay needs ms")
        self.count = spec.get("count")
        if self.count is not None and (not isinstance(self.count, int) or
                                       self.count < 1):
            raise ControlError("count must be a positive integer")
        self.after = bool(spec.get("after", False))
        if self.after and self.mode == "error":
            raise ControlError("after applies to delay/hang/drop/"
                               "reset only")
        if not isinstance(self.status, int) or not 100 <= self.status < 600:
            raise ControlError("status must be an HTTP status")
        self.hits = 0
        self.released = threading.Event()

    def matches(self, target, what, instance_id):
        if target != self.target:
            return False
        if self.instance is not None and self.instance != instance_id:
            return False
        if target == "ec2":
            return self.action == "*" or self.action == what
        return what.startswith(self.path)

    def view(self):
        return {
            "id": self.id, "target": self.target, "action": self.action,
            "path": self.path, "instance": self.instance,
            "mode": self.mode, "code": self.code, "status": self.status,
            "ms": self.ms, "remaining": self.count, "hits": self.hits,
            "after": self.after,
        }

    def describe(self):
        if self.mode == "error":
            return "error %s/%d" % (self.code, self.status)
        if self.mode == "delay":
            return "delay %dms" % self.ms
        return self.mode + (" after" if self.after else "")


class Faults:
    """Active fault rules; the oldest matching rule wins and a counted
    rule disappears once used up."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.next_id = 1

    def add(self, spec):
        with self.lock:
            f = Fault(spec, self.next_id)
            self.next_id += 1
            self.rules.append(f)
            return f

    def take(self, target, what, instance_id, errors_too=True):
        with self.lock:
            for f in self.rules:
                if f.mode == "error" and not errors_too:
                    continue
                if f.matches(target, what, instance_id):
                    f.hits += 1
                    if f.count is not None:
                        f.count -= 1
                        if f.count == 0:
                            self.rules.remove(f)
                    return f
        return None

    def clear(self, fid=None):
        with self.lock:
            keep = []
            for f in self.rules:
                if fid is None or f.id == fid:
                    f.released.set()
                else:
                    keep.append(f)
            found = len(keep) != len(self.rules)
            self.rules = keep
            return found

    def view(self):
        with self.lock:
            return [f.view() for f in self.rules]


# ---------------------------------------------------------------------------
# Call log.


class CallLog:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []
        self.seq = 0

    def add(self, rec):
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.calls.append(rec)
            if len(self.calls) > 100000:
                del self.calls[:10000]

    def reset(self):
        with self.lock:
            self.calls = []

    def query(self, service="ec2", action=None, since=0):
        with self.lock:
            out = []
            for c in self.calls:
                if c["seq"] <= since:
                    continue
                if service != "all" and c["service"] != service:
                    continue
                if action and c.get("action") != action:
                    continue
                out.append(dict(c))
            return out


SECRET_PARAM_RE = re.compile(r"secret|token|password|signature", re.I)


def safe_params(params):
    return {k: ("<redacted>" if SECRET_PARAM_RE.search(k) else v)
        for k, v in params.items()}


# ---------------------------------------------------------------------------
# EC2 actions.


def to_xml(name, value):
    """Python value -> EC2 XML: dicts nest, lists become <item>s, None is
    left out."""
    if value is None:
        return ""
    if isinstance(value, dict):
        inner = "".join(to_xml(k, v) for k, v in value.items())
        return "<%s>%s</%s>" % (name, inner, name)
    if isinstance(value, list):
        if not value:
            return "<%s/>" % name
        inner = "".join(to_xml("item", v) for v in value)
        return "<%s>%s</%s>" % (name, inner, name)
    if isinstance(value, bool):
        value = "true" if value else "false"
    return "<%s>%s</%s>" % (name, xml_escape(str(value)), name)


def indexed(params, prefix):
    """Prefix.1, Prefix.2, ... -> values in index order."""
    out = []
    rx = re.compile(re.escape(prefix) + r"\.(\d+)$")
    for k, v in params.items():
        m = rx.match(k)
        if m:
            out.append((int(m.group(1)), v))
    return [v for _, v in sorted(out)]


def parse_filters(params):
    """Filter.N.Name / Filter.N.Value.M -> [(name, [values])]."""
    filters = {}
    rx = re.compile(r"Filter\.(\d+)\.(Name|Value\.(\d+))$")
    for k, v in params.items():
        m = rx.match(k)
        if not m:
            continue
        f = filters.setdefault(int(m.group(1)), {"name": None,
                                                 "values": []})
        if m.group(2) == "Name":
            f["name"] = v
        else:
            f["values"].append((int(m.group(3)), v))
    out = []
    for n in sorted(filters):
        f = filters[n]
        if f["name"] is None:
            raise EmuError("InvalidParameterValue",
                "The filter 'null' is invalid")
        out.append((f["name"], [v for _, v in sorted(f["values"])]))
    return out


def parse_bool(params, key):
    v = params.get(key)
    if v is None:
        return False
    if v.lower() in ("true", "1"):
        return True
    if v.lower() in ("false", "0"):
        return False
    raise EmuError("InvalidParameterValue",
        "Invalid value '%s' for %s. Expected a boolean." % (v, key))


def check_params(params, allowed):
    common = ("Action", "Version", "DryRun")
    for k in params:
        if k in common:
            continue
        if not any(re.fullmatch(p, k) for p in allowed):
            raise EmuError("UnknownParameter",
                "The parameter %s is not recognized" % k)


FILTER_PARAMS = (r"Filter\.\d+\.Name", r"Filter\.\d+\.Value\.\d+")


class Ec2Api:
    """The EC2 actions over a World.  Each returns the response's inner
    XML (after requestId) or raises EmuError."""

    def __init__(self, world):
        self.world = world
        self.actions = {
            "DescribeAddresses": self.describe_addresses,
            "AssociateAddress": self.associate_address,
            "DisassociateAddress": self.disassociate_address,
            "DescribeInstances": self.describe_instances,
        }

    def run(self, action, params):
        fn = self.actions.get(action)
        if fn is None:
            raise EmuError("InvalidAction",
                "The action %s is not valid for this web service."
                % action)
        with self.world.lock:
            return fn(params, parse_bool(params, "DryRun"))

    @staticmethod
    def _dry_run(dry):
        if dry:
            raise EmuError("DryRunOperation",
                "Request would have succeeded, but DryRun flag is "
                "set.")

    def _address_item(self, a):
        w = self.world
        item = {
            "publicIp": a.public_ip,
            "allocationId": a.allocation_id,
            "domain": "vpc",
        }
        if a.association_id:
            item.update({
                "instanceId": a.instance_id,
                "associationId": a.association_id,
                "networkInterfaceId": a.eni_id,
                "networkInterfaceOwnerId": w.account,
                "privateIpAddress": a.private_ip,
            })
        item["tagSet"] = []
        item["publicIpv4Pool"] = "amazon"
        item["networkBorderGroup"] = w.region
        return item

    ADDRESS_FILTERS = {
        "allocation-id": lambda a: a.allocation_id,
        "association-id": lambda a: a.association_id,
        "instance-id": lambda a: a.instance_id,
        "network-interface-id": lambda a: a.eni_id,
        "network-interface-owner-id": None, # filled in below
        "private-ip-address": lambda a: a.private_ip,
        "public-ip": lambda a: a.public_ip,
        "domain": lambda a: "vpc",
        "network-border-group": None,
    }

    def _address_field(self, name, a):
        if name == "network-interface-owner-id":
            return self.world.account if a.association_id else None
        if name == "network-border-group":
            return self.world.region
        return self.ADDRESS_FILTERS[name](a)

    def describe_addresses(self, params, dry):
        check_params(params, (r"AllocationId\.\d+", r"PublicIp\.\d+") +
                     FILTER_PARAMS)
        w = self.world
        filters = parse_filters(params)
        for name, _ in filters:
            if name not in self.ADDRESS_FILTERS:
                raise EmuError("InvalidParameterValue",
                    "The filter '%s' is invalid" % name)
        allocs = indexed(params, "AllocationId")
        ips = indexed(params, "PublicIp")
        for alloc in allocs:
            if not alloc.startswith("eipalloc-"):
                raise EmuError("InvalidAllocationID.Malformed",
                    "Invalid id: \"%s\" (expecting "
                    "\"eipalloc-...\")" % alloc)
            if w.address_by_alloc(alloc) is None:
                raise EmuError("InvalidAllocationID.NotFound",
                    "The allocation ID '%s' does not exist" %
                    alloc)
        for ip in ips:
            if w.address_by_ip(ip) is None:
                raise EmuError("InvalidAddress.NotFound",
                    "Address '%s' not found." % ip)
        self._dry_run(dry)
        items = []
        for a in w.addresses:
            if allocs and a.allocation_id not in allocs:
                continue
            if ips and a.public_ip not in ips:
                continue
            if not all(self._filter_ok(name, vals, a)
                       for name, vals in filters):
                continue
            items.append(self._address_item(a))
        return to_xml("addressesSet", items)

    def _filter_ok(self, name, vals, a):
        v = self._address_field(name, a)
        if v is None:
            return False
        return any(fnmatch.fnmatchcase(v, pat) for pat in vals)

    def _find_instance(self, iid):
        inst = self.world.instances.get(iid)
        if inst is None:
            if not re.fullmatch(r"i-[0-9a-f]{8,17}", iid):
                raise EmuError("InvalidInstanceID.Malformed",
                    "Invalid id: \"%s\"" % iid)
            raise EmuError("InvalidInstanceID.NotFound",
                "The instance ID '%s' does not exist" % iid)
        return inst

    def associate_address(self, params, dry):
        check_params(params, ("AllocationId", "PublicIp", "InstanceId",
                              "NetworkInterfaceId", "PrivateIpAddress",
                              "AllowReassociation"))
        w = self.world
        alloc = params.get("AllocationId")
        pub = params.get("PublicIp")
        if alloc is None and pub is None:
            raise EmuError("MissingParameter",
                "The request must contain the parameter "
                "AllocationId")
        iid = params.get("InstanceId")
        eni = params.get("NetworkInterfaceId")
        if iid is None and eni is None:
            raise EmuError("MissingParameter",
                "Either an instance ID or a network interface ID "
                "must be specified")
        if iid is not None and eni is not None:
            raise EmuError("InvalidParameterCombination",
                "Only one of instance ID or network interface ID "
                "may be specified")
        reassoc = parse_bool(params, "AllowReassociation")
        if alloc is not None:
            addr = w.address_by_alloc(alloc)
            if addr is None:
                raise EmuError("InvalidAllocationID.NotFound",
                    "The allocation ID '%s' does not exist" %
                    alloc)
        else:
            addr = w.address_by_ip(pub)
            if addr is None:
                raise EmuError("InvalidAddress.NotFound",
                    "Address '%s' not found." % pub)
        if iid is not None:
            inst = self._find_instance(iid)
        else:
            inst = w.instance_by_eni(eni)
            if inst is None:
                raise EmuError(
                    "InvalidNetworkInterfaceID.NotFound",
                    "The networkInterface ID '%s' does not "
                    "exist" % eni)
        pip = params.get("PrivateIpAddress")
        if pip is not None and pip not in inst.private_ips:
            raise EmuError("InvalidParameterValue",
                "The private IP address %s is not assigned to "
                "network interface %s" % (pip, inst.eni_id))
        if addr.association_id and not reassoc:
            raise EmuError("Resource.AlreadyAssociated",
                "resource %s is already associated with "
                "associate-id %s" % (addr.allocation_id,
                                     addr.association_id))
        self._dry_run(dry)
        assoc = w.associate(addr, inst, pip)
        log("ec2: %s (%s) -> %s (%s)", addr.allocation_id,
            addr.public_ip, inst.id, assoc)
        return to_xml("return", True) + to_xml("associationId", assoc)

    def disassociate_address(self, params, dry):
        check_params(params, ("AssociationId", "PublicIp"))
        w = self.world
        assoc = params.get("AssociationId")
        pub = params.get("PublicIp")
        if assoc is None and pub is None:
            raise EmuError("MissingParameter",
                "The request must contain the parameter "
                "AssociationId")
        if assoc is not None:
            addr = None
            for a in w.addresses:
                if a.association_id == assoc:
                    addr = a
            if addr is None:
                raise EmuError("InvalidAssociationID.NotFound",
                    "The association ID '%s' does not exist" %
                    assoc)
        else:
            addr = w.address_by_ip(pub)
            if addr is None:
                raise EmuError("InvalidAddress.NotFound",
                    "Address '%s' not found." % pub)
        self._dry_run(dry)
        if addr.association_id:
            log("ec2: %s (%s) disassociated from %s",
                addr.allocation_id, addr.public_ip,
                addr.instance_id)
        w.disassociate(addr)
        return to_xml("return", True)

    def describe_instances(self, params, dry):
        check_params(params, (r"InstanceId\.\d+", "MaxResults",
                              "NextToken") + FILTER_PARAMS)
        w = self.world
        ids = indexed(params, "InstanceId")
        for iid in ids:
            self._find_instance(iid)
        filters = parse_filters(params)
        for name, _ in filters:
            if name not in ("instance-id", "private-ip-address",
                    "availability-zone",
                    "network-interface.network-interface-id"):
                raise EmuError("InvalidParameterValue",
                    "The filter '%s' is invalid" % name)
        self._dry_run(dry)
        items = []
        for inst in w.instances.values():
            if ids and inst.id not in ids:
                continue
            fields = {
                "instance-id": inst.id,
                "private-ip-address": inst.private_ip,
                "availability-zone": inst.az,
                "network-interface.network-interface-id":
                inst.eni_id,
            }
            if not all(any(fnmatch.fnmatchcase(fields[n], p)
                           for p in vals) for n, vals in filters):
                continue
            items.append(self._reservation(inst))
        return to_xml("reservationSet", items)

    def _reservation(self, inst):
        w = self.world
        pub = None
        for a in w.addresses:
            if a.instance_id == inst.id and \
                a.private_ip == inst.private_ip:
                pub = a.public_ip
        eni = {
            "networkInterfaceId": inst.eni_id,
            "ownerId": w.account,
            "status": "in-use",
            "macAddress": inst.mac(),
            "privateIpAddress": inst.private_ip,
        }
        if pub:
            eni["association"] = {"publicIp": pub,
                                  "ipOwnerId": w.account}
        desc = {
            "instanceId": inst.id,
            "imageId": "ami-0e0e0e0e0e0e0e0e0",
            "instanceState": {"code": 16, "name": "running"},
            "privateIpAddress": inst.private_ip,
            "ipAddress": pub,
            "instanceType": "t3.micro",
            "placement": {"availabilityZone": inst.az,
                          "tenancy": "default"},
            "networkInterfaceSet": [eni],
        }
        return {
            "reservationId": "r-" + hashlib.sha256(
                inst.id.encode()).hexdigest()[:17],
            "ownerId": w.account,
            "groupSet": [],
            "instancesSet": [desc],
        }


# ---------------------------------------------------------------------------
# HTTP plumbing shared by both handlers.


class DropConnection(Exception):
    """Abort the exchange without an answer (fault injection)."""

    def __init__(self, reset=False):
        super().__init__("drop")
        self.reset = reset


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = CONN_IDLE_TIMEOUT
    server_version = "ec2emu"
    sys_version = ""

    emu = None      # set on the subclass per server

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError) as e:
                log("tls handshake from %s failed: %s",
                    self.client_address[0], e)
                self.close_connection = True
                raise

    def log_request(self, code="-", size="-"):
        pass        # we log one line per request ourselves

    def log_message(self, fmt, *args):
        log("http %s: %s", self.client_address[0], fmt % args)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == \
            "chunked":
            return self._read_chunked()
        n = self.headers.get("Content-Length")
        if n is None:
            return b""
        try:
            n = int(n)
        except ValueError:
            n = -1
        if n < 0 or n > BODY_MAX:
            self.close_connection = True
            raise ValueError("bad Content-Length")
        return self.rfile.read(n)

    def _read_chunked(self):
        out = bytearray()
        while True:
            line = self.rfile.readline(1024)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (
                    b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline(8)
            if len(out) > BODY_MAX:
                self.close_connection = True
                raise ValueError("body too large")

    def send_body(self, status, body, ctype, extra=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def drop(self, reset):
        """Close without an answer; reset sends a TCP RST."""
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def hang(self, fault):
        """Hold the request unanswered until the fault is cleared, the
        client gives up, the emulator stops or fault.ms passes."""
        limit = time.monotonic() + (fault.ms or HANG_DEFAULT_MS) / 1e3
        while time.monotonic() < limit:
            if fault.released.wait(0.05) or self.emu.stopping.is_set():
                break
            if self._peer_closed():
                break
        raise DropConnection()

    def _peer_closed(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError, ssl.SSLError):
            return True

    def apply_network_fault(self, fault):
        """delay sleeps then goes on; hang/drop/reset never answer."""
        if fault.mode == "delay":
            self.emu.stopping.wait(fault.ms / 1e3)
        elif fault.mode == "hang":
            self.hang(fault)
        elif fault.mode in ("drop", "reset"):
            raise DropConnection(fault.mode == "reset")

    def split_path(self):
        path, _, query = self.path.partition("?")
        return path, query


# ---------------------------------------------------------------------------
# EC2 endpoint and control API.


class Ec2Handler(BaseHandler):
    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def dispatch(self):
        t0 = time.monotonic()
        try:
            path, query = self.split_path()
            if path.startswith("/_emu/") or path == "/_emu":
                self.emu.control.handle(self, path, query)
            else:
                self.handle_ec2(path, query, t0)
        except DropConnection as d:
            self.drop(d.reset)
        except (ConnectionError, BrokenPipeError, socket.timeout):
            self.close_connection = True
        except Exception:   # never a traceback to the client
            log("internal error: %s", traceback.format_exc())
            self.close_connection = True
            try:
                self.send_ec2_error(EmuError("InternalError"),
                                    str(uuid.uuid4()))
            except OSError:
                pass

    def send_ec2_error(self, err, rid):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            "<Response><Errors><Error><Code>%s</Code>"
            "<Message>%s</Message></Error></Errors>"
            "<RequestID>%s</RequestID></Response>" % (
                xml_escape(err.code), xml_escape(err.message), rid))
        self.send_body(err.status, body, "text/xml;charset=UTF-8",
                   {"x-amzn-RequestId": rid, "Server": "AmazonEC2"})

    def send_ec2_ok(self, action, inner, rid):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<%sResponse xmlns="%s"><requestId>%s</requestId>%s'
            "</%sResponse>" % (action, XMLNS, rid, inner, action))
        self.send_body(200, body, "text/xml;charset=UTF-8",
                   {"x-amzn-RequestId": rid, "Server": "AmazonEC2"})

    def handle_ec2(self, path, query, t0):
        emu = self.emu
        rid = str(uuid.uuid4())
        rec = {
            "service": "ec2",
            "wall": time.time(),
            "time": iso8601(time.time()),
            "mono": t0,
            "client": self.client_address[0],
            "method": self.command,
            "path": path,
            "action": None,
            "params": {},
            "access_key_id": None,
            "instance": None,
            "signature_valid": False,
            "auth_error": None,
            "status": None,
            "error_code": None,
            "fault": None,
            "request_id": rid,
        }
        try:
            self._ec2(rec, path, query, rid)
        except DropConnection as d:
            rec["status"] = 0
            rec["error_code"] = "(no answer)"
            raise d
        finally:
            rec["latency_ms"] = round(
                (time.monotonic() - t0) * 1000, 3)
            emu.calls.add(rec)
            log("ec2 %s %s %s -> %s %s key=%s inst=%s sig=%s%s %.1fms",
                rec["client"], self.command, rec["action"],
                rec["status"], rec["error_code"] or "",
                rec["access_key_id"], rec["instance"],
                "ok" if rec["signature_valid"] else "BAD",
                " fault=" + rec["fault"] if rec["fault"] else "",
                rec["latency_ms"])

    def _ec2(self, rec, path, query, rid):
        emu = self.emu
        try:
            body = self.read_body()
        except ValueError as e:
            err = EmuError("MalformedQueryString", str(e))
            rec["status"], rec["error_code"] = err.status, err.code
            self.send_ec2_error(err, rid)
            return
        if self.command not in ("GET", "POST"):
            err = EmuError("UnsupportedOperation",
                "HTTP method %s is not supported" % self.command,
                405)
            rec["status"], rec["error_code"] = err.status, err.code
            self.send_ec2_error(err, rid)
            return
        auth = emu.verifier.verify(self.command, path, query,
                                   self.headers, body)
        rec["access_key_id"] = auth.access_key_id
        rec["instance"] = auth.instance_id
        rec["signature_valid"] = auth.signature_valid
        if auth.error:
            rec["auth_error"] = auth.error.code
            if auth.detail:
                rec["signature_detail"] = auth.detail
        params = {}
        err = None
        try:
            for src in (query, body.decode("utf-8")):
                for k, v in urllib.parse.parse_qsl(
                    src, keep_blank_values=True,
                    errors="strict"):
                    params.setdefault(k, v)
        except (UnicodeDecodeError, ValueError):
            err = EmuError("MalformedQueryString",
                "The query string is malformed")
        action = params.get("Action")
        rec["action"] = action
        rec["params"] = safe_params(params)
        if err is None and auth.error:
            err = auth.error
        if err is None and canonical_uri(path) != "/":
            err = EmuError("InvalidAction",
                "The path %s is not valid for this web service." %
                path)
        if err is None and not action:
            err = EmuError("MissingAction",
                "The request must contain the parameter Action")
        if err is None and "Version" not in params:
            err = EmuError("MissingParameter",
                "The request must contain the parameter Version")
        if err is None and params["Version"] != API_VERSION:
            err = EmuError("NoSuchVersion",
                "The requested version (%s) of service AmazonEC2 "
                "does not exist" % params["Version"])
        # The network fails whatever the request says; an injected API
        # error only answers a request EC2 would otherwise have accepted.
        fault = emu.faults.take("ec2", action, auth.instance_id,
                                errors_too=err is None)
        if fault:
            rec["fault"] = fault.describe()
            if fault.mode == "error":
                err = EmuError(fault.code, fault.message,
                               fault.status)
            elif not fault.after:
                self.apply_network_fault(fault)
        if err is not None:
            rec["status"], rec["error_code"] = err.status, err.code
            self.send_ec2_error(err, rid)
            return
        try:
            inner = emu.api.run(action, params)
        except EmuError as e:
            rec["status"], rec["error_code"] = e.status, e.code
            self.send_ec2_error(e, rid)
            return
        if fault and fault.after:
            self.apply_network_fault(fault)
        rec["status"] = 200
        self.send_ec2_ok(action, inner, rid)


class ControlApi:
    """The unsigned /_emu/ endpoints tests use to watch and steer."""

    def __init__(self, emu):
        self.emu = emu

    def handle(self, h, path, query):
        q = dict(urllib.parse.parse_qsl(query))
        try:
            body = h.read_body()
            route = (h.command, path.rstrip("/"))
            fn = {
                ("GET", "/_emu/calls"): self.get_calls,
                ("POST", "/_emu/reset-calls"): self.reset_calls,
                ("GET", "/_emu/state"): self.get_state,
                ("GET", "/_emu/faults"): self.get_faults,
                ("POST", "/_emu/faults"): self.post_faults,
                ("DELETE", "/_emu/faults"): self.delete_faults,
                ("POST", "/_emu/set"): self.post_set,
            }.get(route)
            if fn is None and h.command == "DELETE" and \
                path.startswith("/_emu/faults/"):
                fn = self.delete_fault
            if fn is None:
                return self.reply(h, 404, {
                    "error": "no such control endpoint: %s %s"
                    % (h.command, path)})
            data = None
            if body:
                try:
                    data = json.loads(body)
                except ValueError as e:
                    raise ControlError("bad JSON: %s" % e)
            self.reply(h, 200, fn(q, data, path))
        except ControlError as e:
            self.reply(h, 400, {"error": str(e)})

    @staticmethod
    def reply(h, status, obj):
        h.send_body(status, json.dumps(obj, indent=1) + "\n",
                "application/json")

    def get_calls(self, q, data, path):
        try:
            since = int(q.get("since", 0))
        except ValueError:
            raise ControlError("since must be an integer")
        service = q.get("service", "ec2")
        if service not in ("ec2", "imds", "all"):
            raise ControlError("service must be ec2, imds or all")
        return self.emu.calls.query(service, q.get("action"), since)

    def reset_calls(self, q, data, path):
        self.emu.calls.reset()
        return {"ok": True}

    def get_state(self, q, data, path):
        with self.emu.world.lock:
            st = self.emu.world.state()
        st["faults"] = self.emu.faults.view()
        return st

    def get_faults(self, q, data, path):
        return self.emu.faults.view()

    def post_faults(self, q, data, path):
        specs = data if isinstance(data, list) else [data]
        ids = []
        for spec in specs:
            f = self.emu.faults.add(spec)
            log("fault %d added: %s %s %s", f.id, f.target,
                f.action if f.target == "ec2" else f.path or "*",
                f.describe())
            ids.append(f.id)
        return {"ids": ids, "id": ids[0] if ids else None}

    def delete_faults(self, q, data, path):
        self.emu.faults.clear()
        log("faults cleared")
        return {"ok": True}

    def delete_fault(self, q, data, path):
        try:
            fid = int(path.rsplit("/", 1)[1])
        except ValueError:
            raise ControlError("fault id must be an integer")
        return {"ok": self.emu.faults.clear(fid)}

    def post_set(self, q, data, path):
        if not isinstance(data, dict):
            raise ControlError("set takes a JSON object")
        w = self.emu.world
        handlers = {
            "associate": self._set_associate,
            "disassociate": self._set_disassociate,
            "credential_ttl": self._set_ttl,
            "credential_refresh_ahead": self._set_refresh,
            "expire_credentials": self._set_expire,
            "expire_imds_tokens": self._set_expire_tokens,
            "clock_offset": self._set_clock,
            "imds_v1": self._set_imds_v1,
        }
        unknown = set(data) - set(handlers)
        if unknown:
            raise ControlError("unknown set keys: %s" %
                               ", ".join(sorted(unknown)))
        with w.lock:
            for k, v in data.items():
                handlers[k](w, v)
                log("set %s", k)
            st = w.state()
        return st

    @staticmethod
    def _addr(w, spec):
        if spec.get("allocation_id"):
            a = w.address_by_alloc(spec["allocation_id"])
        else:
            a = w.address_by_ip(spec.get("public_ip", ""))
        if a is None:
            raise ControlError("no such address: %r" % spec)
        return a

    def _set_associate(self, w, spec):
        if not isinstance(spec, dict):
            raise ControlError("associate takes an object")
        a = self._addr(w, spec)
        inst = None
        if spec.get("instance_id"):
            inst = w.instances.get(spec["instance_id"])
        elif spec.get("network_interface_id"):
            inst = w.instance_by_eni(spec["network_interface_id"])
        if inst is None:
            raise ControlError("no such instance/eni: %r" % spec)
        pip = spec.get("private_ip")
        if pip is not None and pip not in inst.private_ips:
            raise ControlError("%s is not an address of %s" %
                       (pip, inst.id))
        w.associate(a, inst, pip)

    def _set_disassociate(self, w, spec):
        if not isinstance(spec, dict):
            raise ControlError("disassociate takes an object")
        w.disassociate(self._addr(w, spec))

    @staticmethod
    def _num(v, what, lo):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or \
            v < lo:
            raise ControlError("%s must be a number >= %s" %
                       (what, lo))
        return v

    def _set_ttl(self, w, v):
        w.credential_ttl = int(self._num(v, "credential_ttl", 1))

    def _set_refresh(self, w, v):
        w.refresh_ahead = None if v is None else self._num(
            v, "credential_refresh_ahead", 0)

    @staticmethod
    def _set_expire(w, v):
        if v:
            w.expire_credentials()

    @staticmethod
    def _set_expire_tokens(w, v):
        if v:
            w.imds_tokens.clear()

    def _set_clock(self, w, v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ControlError("clock_offset must be a number")
        w.clock_offset = float(v)

    @staticmethod
    def _set_imds_v1(w, v):
        w.imds_v1 = bool(v)


# ---------------------------------------------------------------------------
# IMDS.


class ImdsHandler(BaseHandler):
    """IMDSv2 in "required" mode (or "optional" with imds_v1).

    fixed_instance is set for a per-instance listener; a shared listener
    finds the instance from the client's source address."""

    fixed_instance = None

    def do_GET(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        t0 = time.monotonic()
        path, _ = self.split_path()
        rec = {
            "service": "imds",
            "wall": time.time(),
            "time": iso8601(time.time()),
            "mono": t0,
            "client": self.client_address[0],
            "method": self.command,
            "path": path,
            "action": None,
            "instance": None,
            "token_valid": None,
            "status": None,
            "error_code": None,
            "fault": None,
        }
        try:
            self.read_body()
            self._serve(rec, path)
        except DropConnection as d:
            rec["status"] = 0
            rec["error_code"] = "(no answer)"
            self.drop(d.reset)
        except (ConnectionError, BrokenPipeError, socket.timeout):
            self.close_connection = True
        except ValueError:
            self.close_connection = True
            self._text(rec, 400, "Bad Request")
        except Exception:
            log("imds internal error: %s", traceback.format_exc())
            self.close_connection = True
            try:
                self._text(rec, 500, "Internal Server Error")
            except OSError:
                pass
        finally:
            rec["latency_ms"] = round(
                (time.monotonic() - t0) * 1000, 3)
            self.emu.calls.add(rec)
            log("imds %s %s %s inst=%s -> %s%s %.1fms", rec["client"],
                self.command, path, rec["instance"], rec["status"],
                " fault=" + rec["fault"] if rec["fault"] else "",
                rec["latency_ms"])

    def _text(self, rec, status, text, extra=None):
        rec["status"] = status
        if status >= 400:
            rec["error_code"] = text
        self.send_body(status, text, "text/plain", extra)

    def _instance(self):
        w = self.emu.world
        if self.fixed_instance is not None:
            return w.instances.get(self.fixed_instance)
        return w.instance_by_source(self.client_address[0])

    def _serve(self, rec, path):
        w = self.emu.world
        with w.lock:
            inst = self._instance()
        if inst is None:
            return self._text(rec, 403, "Forbidden: ec2emu knows no "
                              "instance with source address %s" %
                              self.client_address[0])
        rec["instance"] = inst.id
        fault = self.emu.faults.take("imds", path, inst.id)
        if fault:
            rec["fault"] = fault.describe()
            if fault.mode == "error":
                return self._text(rec, fault.status,
                                  fault.message or
                                  "Injected error")
            if not fault.after:
                self.apply_network_fault(fault)
        self._answer(rec, path, inst, w)
        if fault and fault.after:
            self.apply_network_fault(fault)

    def _answer(self, rec, path, inst, w):
        if path == "/latest/api/token":
            return self._token(rec, inst, w)
        if self.command != "GET":
            return self._text(rec, 405, "Method Not Allowed",
                      {"Allow": "GET, PUT"})
        tok = self.headers.get("X-aws-ec2-metadata-token")
        with w.lock:
            if tok is not None:
                rec["token_valid"] = w.imds_token_valid(tok, inst)
                if not rec["token_valid"]:
                    return self._text(rec, 401,
                                      "Unauthorized")
            elif not w.imds_v1:
                return self._text(rec, 401, "Unauthorized")
            body = self._lookup(path, inst, w)
        if body is None:
            return self._text(rec, 404, "Not Found")
        self._text(rec, 200, body)

    def _token(self, rec, inst, w):
        if self.command != "PUT":
            return self._text(rec, 405, "Method Not Allowed",
                      {"Allow": "PUT"})
        if self.headers.get("X-Forwarded-For") is not None:
            return self._text(rec, 403, "Forbidden")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        try:
            ttl = int(ttl)
        except (TypeError, ValueError):
            return self._text(rec, 400, "Bad Request")
        if not 1 <= ttl <= IMDS_TTL_MAX:
            return self._text(rec, 400, "Bad Request")
        with w.lock:
            tok = w.new_imds_token(inst, ttl)
        self._text(rec, 200, tok,
               {"X-aws-ec2-metadata-token-ttl-seconds": str(ttl)})

    def _lookup(self, path, inst, w):
        """Metadata for path: a str, or None for 404.  Directories
        list their entries, subdirectories with a trailing '/'."""
        tree = self._tree(inst, w)
        node = tree
        for seg in [s for s in path.split("/") if s]:
            if not isinstance(node, dict) or seg not in node:
                return None
            node = node[seg]
            if callable(node):
                node = node()
        if isinstance(node, dict):
            return "\n".join(k + "/" if isinstance(v, dict) else k
                             for k, v in node.items())
        return node

    def _tree(self, inst, w):
        now = w.now()
        pub = None
        for a in w.addresses:
            if a.instance_id == inst.id and \
                a.private_ip == inst.private_ip:
                pub = a.public_ip
        ident = json.dumps({
            "accountId": w.account,
            "architecture": "x86_64",
            "availabilityZone": inst.az,
            "imageId": "ami-0e0e0e0e0e0e0e0e0",
            "instanceId": inst.id,
            "instanceType": "t3.micro",
            "pendingTime": iso8601(now - 3600),
            "privateIp": inst.private_ip,
            "region": w.region,
            "version": "2017-09-30",
        }, indent=2)
        iam = {}
        if inst.role:
            def creds():
                c = w.role_credential_for(inst)
                return json.dumps({
                    "Code": "Success",
                    "LastUpdated": iso8601(c.issued),
                    "Type": "AWS-HMAC",
                    "AccessKeyId": c.access_key_id,
                    "SecretAccessKey": c.secret,
                    "Token": c.token,
                    "Expiration": iso8601(c.expiration),
                }, indent=2)
            iam = {
                "info": json.dumps({
                    "Code": "Success",
                    "LastUpdated": iso8601(now),
                    "InstanceProfileArn":
                        "arn:aws:iam::%s:instance-profile/%s" % (
                            w.account, inst.role),
                    "InstanceProfileId": "AIPA" + hashlib.sha256(
                        inst.role.encode()).hexdigest()[:16].upper(),
                }, indent=2),
                "security-credentials": {inst.role: creds},
            }
        hostname = "ip-%s.%s.compute.internal" % (
            inst.private_ip.replace(".", "-"), w.region)
        meta = {
            "ami-id": "ami-0e0e0e0e0e0e0e0e0",
            "hostname": hostname,
            "instance-id": inst.id,
            "instance-type": "t3.micro",
            "local-hostname": hostname,
            "local-ipv4": inst.private_ip,
            "mac": inst.mac(),
            "placement": {
                "availability-zone": inst.az,
                "region": w.region,
            },
        }
        if pub:
            meta["public-ipv4"] = pub
        if iam:
            meta["iam"] = iam
        return {
            "latest": {
                "meta-data": meta,
                "dynamic": {"instance-identity": {"document": ident}},
            },
        }


# ---------------------------------------------------------------------------
# The process: servers, signals, ready line.


def make_server(host, port, handler, tls_ctx=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Server(ThreadingHTTPServer):
        address_family = family
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 64

        def handle_error(self, request, client_address):
            # A client hanging up is not worth a traceback.
            exc = sys.exc_info()[1]
            if isinstance(exc, (OSError, ssl.SSLError)):
                return
            log("connection from %s: %s", client_address[0],
                traceback.format_exc())

    srv = Server((host, port), handler)
    if tls_ctx is not None:
        srv.socket = tls_ctx.wrap_socket(srv.socket, server_side=True,
                                         do_handshake_on_connect=False)
    return srv


class Emulator:
    def __init__(self, world, imds_shared=(), listen="127.0.0.1", port=0,
                 tls=None, tls_port=0):
        self.world = world
        self.verifier = SigV4Verifier(world)
        self.api = Ec2Api(world)
        self.faults = Faults()
        self.calls = CallLog()
        self.control = ControlApi(self)
        self.stopping = threading.Event()
        self.servers = []
        self.urls = {}
        emu = self

        class Ec2(Ec2Handler):
            pass
        Ec2.emu = emu

        srv = make_server(listen, port, Ec2)
        self._add("ec2", srv, "http")
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls[0], tls[1])
            srv = make_server(listen, tls_port, Ec2, ctx)
            self._add("ec2_tls", srv, "https")

        for inst in world.instances.values():
            if not inst.imds_listen:
                continue
            host, p = parse_hostport(inst.imds_listen)

            class Imds(ImdsHandler):
                pass
            Imds.emu = emu
            Imds.fixed_instance = inst.id
            srv = make_server(host, p, Imds)
            inst.imds_url = self._add("imds." + inst.id, srv,
                                      "http")
        for i, spec in enumerate(imds_shared):
            host, p = parse_hostport(spec)

            class SharedImds(ImdsHandler):
                pass
            SharedImds.emu = emu
            srv = make_server(host, p, SharedImds)
            self._add("imds" if i == 0 else "imds%d" % i, srv,
                      "http")

    def _add(self, name, srv, scheme):
        host, port = srv.server_address[:2]
        url = url_for(scheme, host, port)
        self.urls[name] = url
        self.servers.append(srv)
        return url

    def start(self):
        for srv in self.servers:
            t = threading.Thread(target=srv.serve_forever,
                                 kwargs={"poll_interval": 0.1},
                                 daemon=True)
            t.start()

    def stop(self):
        self.stopping.set()
        self.faults.clear()
        # Each shutdown() waits for its serve loop to notice: do them
        # all at once so SIGTERM ends the process promptly.
        ts = [threading.Thread(target=srv.shutdown) for srv in self.servers]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for srv in self.servers:
            srv.server_close()

    def ready_line(self):
        return "ec2emu ready " + " ".join(
            "%s=%s" % kv for kv in self.urls.items())


def load_world(path):
    try:
        with open(path) as f:
            spec = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError("cannot read world %s: %s" % (path, e))
    if not isinstance(spec, dict):
        raise ValueError("world %s: top level must be an object" % path)
    known = {"region", "account", "role", "credential_ttl",
             "credential_refresh_ahead", "clock_offset", "imds_v1",
             "instances", "addresses", "access_keys", "comment"}
    unknown = set(spec) - known
    if unknown:
        raise ValueError("world %s: unknown keys %s" %
                 (path, ", ".join(sorted(unknown))))
    return World(spec)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Local EC2 Query API + IMDSv2 emulator for tests.")
    ap.add_argument("--world", required=True, help="world JSON file")
    ap.add_argument("--listen", default="127.0.0.1",
            help="EC2 listen address (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0,
            help="EC2 HTTP port (0: pick a free one)")
    ap.add_argument("--tls-cert", help="PEM certificate: also serve EC2 "
            "over HTTPS")
    ap.add_argument("--tls-key", help="PEM private key for --tls-cert")
    ap.add_argument("--tls-port", type=int, default=0,
            help="EC2 HTTPS port (0: pick a free one)")
    ap.add_argument("--imds", action="append", default=[],
            metavar="HOST:PORT", help="shared IMDS listener that "
            "finds the instance by source address (repeatable)")
    ap.add_argument("--imds-v1", action="store_true",
            help="IMDS optional mode: allow token-less GETs")
    ap.add_argument("--fault", action="append", default=[],
            metavar="JSON", help="install a fault at start "
            "(repeatable), same JSON as POST /_emu/faults")
    ap.add_argument("--ready-file", help="write the listener URLs here "
            "(JSON) once listening")
    args = ap.parse_args(argv)

    try:
        world = load_world(args.world)
        if args.imds_v1:
            world.imds_v1 = True
        if bool(args.tls_cert) != bool(args.tls_key):
            raise ValueError("--tls-cert and --tls-key go together")
        tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
        emu = Emulator(world, args.imds, args.listen, args.port, tls,
                       args.tls_port)
        for fj in args.fault:
            emu.faults.add(json.loads(fj))
    except (ValueError, ControlError, OSError, ssl.SSLError) as e:
        sys.stderr.write("ec2emu: %s\n" % e)
        return 2

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    emu.start()
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(dict(emu.urls, pid=os.getpid()), f, indent=1)
        os.rename(tmp, args.ready_file)
    sys.stdout.write(emu.ready_line() + "\n")
    sys.stdout.flush()
    log("%s", emu.ready_line())
    while not stop.wait(0.1):
        pass
    log("stopping")
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
