#!/bin/sh
# test_emu_consistency.sh - the emulator's eventual consistency: with
# read_lag_ms DescribeAddresses answers with the association of N ms ago,
# with empty_read_ms it shows no association for N ms after each change;
# AssociateAddress issues a fresh eipassoc- id every time and the state
# counts remaps per allocation. Standard library only (its own SigV4
# signer), 127.0.0.1 only. Exit 0 pass, 1 fail, 77 skip.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: $PY not found"; exit 77; }
exec "$PY" - "$HERE/../ec2emu.py" <<'EOF'
import datetime, hashlib, hmac, json, os, shutil, subprocess, sys, tempfile
import time, urllib.parse, urllib.request
import xml.etree.ElementTree as ET

EMU = sys.argv[1]
KEY, SECRET, REGION = "AKIAEMUTEST000000001", "emu/consistency/secret", "eu-west-1"
IA, IB, ALLOC = "i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2", "eipalloc-0abc"
tmp = tempfile.mkdtemp(prefix="test_emu_consistency.")
world = {
    "region": REGION,
    "instances": [{"id": IA, "private_ip": "10.0.0.20"},
                  {"id": IB, "private_ip": "10.0.1.20"}],
    "addresses": [{"allocation_id": ALLOC, "public_ip": "52.1.2.3",
                   "instance_id": IA, "association_id": "eipassoc-0first"}],
    "access_keys": [{"access_key_id": KEY, "secret": SECRET}],
}
with open(os.path.join(tmp, "world.json"), "w") as f:
    json.dump(world, f)
ready = os.path.join(tmp, "ready.json")
emu = subprocess.Popen([sys.executable, EMU, "--world",
                        os.path.join(tmp, "world.json"), "--port", "0",
                        "--ready-file", ready],
                       stdout=subprocess.DEVNULL,
                       stderr=open(os.path.join(tmp, "emu.err"), "w"))
failed = 0

def done(rc):
    emu.terminate()
    emu.wait(10)
    if rc:
        sys.stdout.write(open(os.path.join(tmp, "emu.err")).read()[-3000:])
    shutil.rmtree(tmp)
    sys.exit(rc)

for _ in range(100):
    if os.path.exists(ready) or emu.poll() is not None:
        break
    time.sleep(0.1)
if not os.path.exists(ready):
    print("FAIL: emulator did not start")
    done(1)
EC2 = json.load(open(ready))["ec2"]
HOST = urllib.parse.urlsplit(EC2).netloc

def check(name, ok, detail=""):
    global failed
    if ok:
        print("ok - " + name)
    else:
        failed += 1
        print("not ok - %s %s" % (name, detail))

def hm(k, m):
    return hmac.new(k, m.encode(), hashlib.sha256).digest()

def ec2(action, **params):
    params = dict(Action=action, Version="2016-11-15", **params)
    body = urllib.parse.urlencode(sorted(params.items()),
                                  quote_via=urllib.parse.quote)
    now = datetime.datetime.now(datetime.timezone.utc)
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    ctype = "application/x-www-form-urlencoded; charset=utf-8"
    canon = "\n".join(["POST", "/", "",
                       "content-type:" + ctype, "host:" + HOST,
                       "x-amz-date:" + amz, "",
                       "content-type;host;x-amz-date",
                       hashlib.sha256(body.encode()).hexdigest()])
    scope = "%s/%s/ec2/aws4_request" % (day, REGION)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                     hashlib.sha256(canon.encode()).hexdigest()])
    k = hm(hm(hm(hm(("AWS4" + SECRET).encode(), day), REGION), "ec2"),
           "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(EC2 + "/", data=body.encode(), headers={
        "Content-Type": ctype, "X-Amz-Date": amz,
        "Authorization": "AWS4-HMAC-SHA256 Credential=%s/%s, "
        "SignedHeaders=content-type;host;x-amz-date, Signature=%s"
        % (KEY, scope, sig)})
    with urllib.request.urlopen(req, timeout=10) as r:
        return ET.fromstring(r.read())

def tag(el, name):
    for e in el.iter():
        if e.tag.rsplit("}", 1)[-1] == name:
            return e.text
    return None

def read():
    x = ec2("DescribeAddresses", **{"AllocationId.1": ALLOC})
    return tag(x, "instanceId"), tag(x, "associationId")

def associate(iid):
    x = ec2("AssociateAddress", AllocationId=ALLOC, InstanceId=iid,
            AllowReassociation="true")
    return tag(x, "associationId")

def control(method, path, obj=None):
    data = None if obj is None else json.dumps(obj).encode()
    req = urllib.request.Request(EC2 + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())

def addr_state():
    return control("GET", "/_emu/state")["addresses"][0]

# Consistent by default; every AssociateAddress is a fresh association.
st = addr_state()
check("state_shows_association_id_and_zero_remaps",
      st["association_id"] == "eipassoc-0first" and st["remaps"] == 0, st)
a1 = associate(IB)
a2 = associate(IB)
check("associate_returns_fresh_association_ids",
      a1.startswith("eipassoc-") and a2.startswith("eipassoc-") and
      len({a1, a2, "eipassoc-0first"}) == 3, (a1, a2))
check("consistent_read_shows_the_latest_write", read() == (IB, a2), read())
st = addr_state()
check("remaps_count_every_association",
      st["remaps"] == 2 and st["association_id"] == a2, st)

# read_lag_ms: reads answer with the association of N ms ago.
st = control("POST", "/_emu/set", {"read_lag_ms": 1500})
check("set_read_lag_shows_in_state", st["read_lag_ms"] == 1500, st)
time.sleep(1.6)  # a2 is older than the lag now
r = read()
check("lagging_read_shows_an_old_enough_write", r == (IB, a2), r)
a3 = associate(IA)
r = read()
check("lagging_read_shows_the_previous_association", r == (IB, a2), r)
check("state_is_current_while_reads_lag",
      addr_state()["association_id"] == a3)
time.sleep(1.7)
r = read()
check("lagging_read_catches_up_after_the_lag", r == (IA, a3), r)

# empty_read_ms: no association at all for N ms after each change.
control("POST", "/_emu/set", {"read_lag_ms": 0, "empty_read_ms": 1000})
a4 = associate(IB)
r = read()
check("empty_read_right_after_a_change", r == (None, None), r)
time.sleep(1.2)
r = read()
check("empty_read_ends_after_the_window", r == (IB, a4), r)

# Both: the empty window follows the lagged change.
control("POST", "/_emu/set", {"read_lag_ms": 1000, "empty_read_ms": 1000})
time.sleep(1.0)  # a4 is out of both windows now
a5 = associate(IA)
r1 = read()
time.sleep(1.3)
r2 = read()
time.sleep(1.0)
r3 = read()
check("lag_then_empty_then_new",
      r1 == (IB, a4) and r2 == (None, None) and r3 == (IA, a5),
      (r1, r2, r3))

# A console change is a remap too; bad values are refused.
control("POST", "/_emu/set", {"read_lag_ms": 0, "empty_read_ms": 0,
                              "associate": {"allocation_id": ALLOC,
                                            "instance_id": IB}})
check("console_associate_counts_a_remap", addr_state()["remaps"] == 6,
      addr_state())
try:
    control("POST", "/_emu/set", {"read_lag_ms": -1})
    bad = False
except urllib.error.HTTPError as e:
    bad = e.code == 400
check("negative_read_lag_is_refused", bad)
done(1 if failed else 0)
EOF
