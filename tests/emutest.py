"""emutest - the scaffold the emulator's own tests share: start ec2emu on
127.0.0.1 with a world, sign EC2 Query calls with a standard-library SigV4
signer (a second implementation, independent of src/sigv4.c), reach the
/_emu/ control API and IMDS, and report TAP-like "ok - name" lines.

    import emutest
    t = emutest.Emu("test_emu_limits", world, key=KEY, secret=SECRET)
    st, code, msg = t.ec2("DescribeAddresses", **{"AllocationId.1": A})
    t.check("name", ok, detail)
    t.done()        # stops the emulator, exit 1 if a check failed

Standard library only.
"""

import datetime
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
EMU = os.path.join(HERE, "ec2emu.py")
CTYPE = "application/x-www-form-urlencoded; charset=utf-8"


def _hm(k, m):
    return hmac.new(k, m.encode(), hashlib.sha256).digest()


def sign(url, region, body, creds, now=None):
    """SigV4 headers for a POST of `body` to `url` (creds: key, secret,
    token or None)."""
    akid, secret, token = creds
    host = urllib.parse.urlsplit(url).netloc
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    hdrs = [("content-type", CTYPE), ("host", host), ("x-amz-date", amz)]
    if token:
        hdrs.append(("x-amz-security-token", token))
    signed = ";".join(h for h, _ in hdrs)
    canon = "\n".join(["POST", "/", ""] + ["%s:%s" % h for h in hdrs] +
                      ["", signed, hashlib.sha256(body.encode()).hexdigest()])
    scope = "%s/%s/ec2/aws4_request" % (day, region)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                     hashlib.sha256(canon.encode()).hexdigest()])
    k = _hm(_hm(_hm(_hm(("AWS4" + secret).encode(), day), region), "ec2"),
            "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    h = {"Content-Type": CTYPE, "X-Amz-Date": amz,
         "Authorization": "AWS4-HMAC-SHA256 Credential=%s/%s, "
         "SignedHeaders=%s, Signature=%s" % (akid, scope, signed, sig)}
    if token:
        h["X-Amz-Security-Token"] = token
    return h


def tag(el, name):
    """The text of the first element named `name`, whatever its namespace."""
    for e in el.iter():
        if e.tag.rsplit("}", 1)[-1] == name:
            return e.text
    return None


class Emu:
    def __init__(self, name, world, key, secret):
        self.tmp = tempfile.mkdtemp(prefix=name + ".")
        self.region = world["region"]
        self.static = (key, secret, None)
        self.failed = 0
        wpath = os.path.join(self.tmp, "world.json")
        with open(wpath, "w") as f:
            json.dump(world, f)
        ready = os.path.join(self.tmp, "ready.json")
        self.err = os.path.join(self.tmp, "emu.err")
        self.proc = subprocess.Popen(
            [sys.executable, EMU, "--world", wpath, "--port", "0",
             "--ready-file", ready],
            stdout=subprocess.DEVNULL, stderr=open(self.err, "w"))
        for _ in range(100):
            if os.path.exists(ready) or self.proc.poll() is not None:
                break
            time.sleep(0.1)
        if not os.path.exists(ready):
            print("FAIL: emulator did not start")
            self.done(1)
        with open(ready) as f:
            self.ready = json.load(f)
        self.url = self.ready["ec2"]

    def done(self, rc=None):
        """Stop the emulator, clean up and exit (1 if a check failed)."""
        if rc is None:
            rc = 1 if self.failed else 0
        self.proc.terminate()
        self.proc.wait(10)
        if rc:
            with open(self.err) as f:
                sys.stdout.write(f.read()[-3000:])
        shutil.rmtree(self.tmp)
        sys.exit(rc)

    def check(self, name, ok, detail=""):
        if ok:
            print("ok - " + name)
        else:
            self.failed += 1
            print("not ok - %s %s" % (name, detail))

    def call(self, action, creds=None, **params):
        """One signed call: (HTTP status, parsed XML answer)."""
        params = dict(Action=action, Version="2016-11-15", **params)
        body = urllib.parse.urlencode(sorted(params.items()),
                                      quote_via=urllib.parse.quote)
        h = sign(self.url, self.region, body, creds or self.static)
        req = urllib.request.Request(self.url + "/", data=body.encode(),
                                     headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, ET.fromstring(r.read())
        except urllib.error.HTTPError as e:
            return e.code, ET.fromstring(e.read())

    def ec2(self, action, creds=None, **params):
        """One signed call: (HTTP status, error code or None, message)."""
        st, x = self.call(action, creds, **params)
        if st == 200:
            return st, None, ""
        return st, x.findtext(".//Code"), x.findtext(".//Message")

    def control(self, method, path, obj=None):
        data = None if obj is None else json.dumps(obj).encode()
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def refused(self, obj):
        """Whether /_emu/set answers 400 to `obj`."""
        try:
            self.control("POST", "/_emu/set", obj)
            return False
        except urllib.error.HTTPError as e:
            return e.code == 400

    def role_creds(self, iid):
        """The instance's role credentials through its IMDSv2."""
        base = self.ready["imds." + iid]
        tok = urllib.request.urlopen(urllib.request.Request(
            base + "/latest/api/token", method="PUT",
            headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}),
            timeout=10).read().decode()

        def get(path):
            return urllib.request.urlopen(urllib.request.Request(
                base + path, headers={"X-aws-ec2-metadata-token": tok}),
                timeout=10).read().decode()
        path = "/latest/meta-data/iam/security-credentials/"
        role = get(path).strip()
        c = json.loads(get(path + role))
        return c["AccessKeyId"], c["SecretAccessKey"], c["Token"]
