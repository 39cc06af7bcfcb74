#!/bin/sh
# test_sigv4_botocore.sh - signs many random EC2-like requests with botocore's
# SigV4Auth and with tests/unit/sigv4_tool (our sigv4.c), and compares the two.
#
# Usage: test_sigv4_botocore.sh [path/to/sigv4_tool]  (or env SIGV4_TOOL)
# Env: SIGV4_CASES (default 200), SIGV4_SEED (default 20240301).
# Signing is local: no network. Exit 0 pass, 1 fail, 77 skip.

PY=/usr/bin/python3
AWS_EC2_METADATA_DISABLED=true
export AWS_EC2_METADATA_DISABLED

if [ ! -x "$PY" ] || ! "$PY" -c 'import botocore.auth' 2>/dev/null; then
	echo "SKIP: /usr/bin/python3 cannot import botocore (python3-botocore)"
	exit 77
fi

tool=${1:-$SIGV4_TOOL}
if [ -z "$tool" ]; then
	for t in ./sigv4_tool ./tests/unit/sigv4_tool "$(dirname "$0")/../unit/sigv4_tool"; do
		if [ -x "$t" ]; then
			tool=$t
			break
		fi
	done
fi
if [ -z "$tool" ] || [ ! -x "$tool" ]; then
	echo "FAIL: sigv4_tool not found (pass it as \$1 or SIGV4_TOOL)"
	exit 1
fi

exec "$PY" - "$tool" <<'EOF'
import datetime
import os
import random
import subprocess
import sys
import types
from urllib.parse import quote

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TOOL = sys.argv[1]
CASES = int(os.environ.get("SIGV4_CASES", "200"))
SEED = int(os.environ.get("SIGV4_SEED", "20240301"))
EPOCH = datetime.datetime(1970, 1, 1)


class FixedClock(datetime.datetime):
    """botocore.auth reads datetime.datetime.utcnow(); this one is fixed."""
    fixed = EPOCH

    @classmethod
    def utcnow(cls):
        return cls.fixed


# Only botocore.auth sees the fixed clock; the real module stays intact.
botocore.auth.datetime = types.SimpleNamespace(datetime=FixedClock)


class CapturingAuth(botocore.auth.SigV4Auth):
    def canonical_request(self, request):
        self.last_creq = super().canonical_request(request)
        return self.last_creq


REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2",
           "sa-east-1", "us-gov-west-1", "cn-north-1", "il-central-1"]
ACTIONS = ["AssociateAddress", "DisassociateAddress", "DescribeAddresses",
           "DescribeInstances", "AllocateAddress", "ReleaseAddress"]
SPECIAL = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\t" \
          "äöüßé€ሴ漢字😀\u00a0"
TOKEN_CHARS = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789+/")
HDR_VALUE_CHARS = ("abcXYZ019-_.;,=/\"'()[]{}<>@:?!#$%&*+ \t  "
                   "äéሴ")


def rand_hex(rnd, n):
    return "".join(rnd.choice("0123456789abcdef") for _ in range(n))


def rand_text(rnd, lo, hi):
    alphabet = "abcdefghijKLMNOP0123456789-_.~" + SPECIAL
    return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(lo, hi)))


def ec2_params(rnd):
    action = rnd.choice(ACTIONS)
    params = [("Action", action), ("Version", "2016-11-15")]
    if rnd.random() < 0.7:
        params.append(("AllocationId", "eipalloc-" + rand_hex(rnd, 17)))
    if rnd.random() < 0.6:
        params.append(("InstanceId", "i-" + rand_hex(rnd, 17)))
    if rnd.random() < 0.4:
        params.append(("AllowReassociation", rnd.choice(["true", "false"])))
    for i in range(rnd.randint(0, 3)):
        params.append((f"Filter.{i + 1}.Name", rnd.choice(
            ["domain", "public-ip", "tag:Name", "tag:" + rand_text(rnd, 1, 8)])))
        params.append((f"Filter.{i + 1}.Value.1", rand_text(rnd, 0, 24)))
    rnd.shuffle(params)
    return params


def form(params):
    return "&".join(quote(k, safe="-_.~") + "=" + quote(v, safe="-_.~")
                    for k, v in params).encode("utf-8")


def rand_path(rnd):
    segs = ["", ".", "..", "a", "b c", "ä", "x%y", "~u", "-._", "ሴ", "d;e"]
    path = "/" + "/".join(rnd.choice(segs) for _ in range(rnd.randint(0, 5)))
    if rnd.random() < 0.3:
        path += "/"
    return path


def rand_header_value(rnd):
    return "".join(rnd.choice(HDR_VALUE_CHARS)
                   for _ in range(rnd.randint(0, 30)))


def make_case(rnd):
    region = rnd.choice(REGIONS)
    host = f"ec2.{region}.amazonaws.com"
    case = {
        "region": region,
        "service": rnd.choice(["ec2", "ec2", "ec2", "sts", "service"]),
        "time": rnd.randint(946684800, 2145916799),  # 2000 .. 2037
        "akid": rnd.choice(["AKIA", "ASIA"]) + rand_hex(rnd, 16).upper(),
        "secret": "".join(rnd.choice(TOKEN_CHARS) for _ in range(40)),
        "token": None,
        "headers": [("Host", host)],
        "path": "/",
        "params": [],
        "body": b"",
    }
    if rnd.random() < 0.5:
        case["token"] = "".join(rnd.choice(TOKEN_CHARS)
                                for _ in range(rnd.randint(16, 400))) + "=="
    if rnd.random() < 0.8:
        case["method"] = "POST"
        case["body"] = form(ec2_params(rnd))
        case["headers"].append(
            ("Content-Type",
             rnd.choice(["application/x-www-form-urlencoded; charset=utf-8",
                         "application/x-www-form-urlencoded"])))
    else:
        case["method"] = "GET"
        case["path"] = rand_path(rnd)
        case["params"] = ec2_params(rnd)
    for _ in range(rnd.randint(0, 3)):
        name = rnd.choice(["X-Custom", "x-custom", "X-Amz-Meta-Note",
                           "My-Header1", "Accept"])
        case["headers"].append((name, rand_header_value(rnd)))
    rnd.shuffle(case["headers"])
    return case


def tool_input(case):
    lines = [
        "method " + case["method"],
        "path " + case["path"],
        "query " + "&".join(quote(k, safe="-_.~") + "=" +
                            quote(v, safe="-_.~") for k, v in case["params"]),
        "region " + case["region"],
        "service " + case["service"],
        "time %d" % case["time"],
        "access_key " + case["akid"],
        "secret_key " + case["secret"],
        "normalize 1",
    ]
    if case["token"]:
        lines.append("token " + case["token"])
    for name, value in case["headers"]:
        lines.append(f"header {name}:{value}")
    lines.append("body_hex " + case["body"].hex())
    lines.append("sign")
    return "\n".join(lines) + "\n"


def botocore_sign(case):
    FixedClock.fixed = EPOCH + datetime.timedelta(seconds=case["time"])
    host = dict((k.lower(), v) for k, v in case["headers"])["host"]
    req = AWSRequest(method=case["method"],
                     url="https://" + host + case["path"],
                     data=case["body"],
                     params=dict(case["params"]) if case["params"] else None)
    for name, value in case["headers"]:
        req.headers[name] = value  # HTTPHeaders appends repeated names
    if case["params"] and len(dict(case["params"])) != len(case["params"]):
        raise ValueError("repeated query keys are not representable")
    auth = CapturingAuth(Credentials(case["akid"], case["secret"],
                                     case["token"]),
                         case["service"], case["region"])
    auth.add_auth(req)
    return (req.headers["X-Amz-Date"], req.headers["Authorization"],
            auth.last_creq)


def main():
    rnd = random.Random(SEED)
    cases = [make_case(rnd) for _ in range(CASES)]
    proc = subprocess.run([TOOL], input="".join(map(tool_input, cases))
                          .encode("utf-8"), stdout=subprocess.PIPE,
                          timeout=120)
    out = proc.stdout.decode("utf-8").splitlines()
    if proc.returncode != 0 or len(out) != 2 * len(cases):
        print(f"FAIL: sigv4_tool exit {proc.returncode}, "
              f"{len(out)} lines for {len(cases)} cases")
        print("\n".join(l for l in out if l.startswith("error"))[:2000])
        return 1
    failed = 0
    for i, case in enumerate(cases):
        want_date, want_auth, want_creq = botocore_sign(case)
        got_date = out[2 * i].split(": ", 1)[1]
        got_auth = out[2 * i + 1].split(": ", 1)[1]
        if (got_date, got_auth) == (want_date, want_auth):
            continue
        failed += 1
        if failed <= 3:
            mine = subprocess.run([TOOL, "-v"], input=tool_input(case)
                                  .encode("utf-8"), capture_output=True)
            print(f"case {i} differs:\n want {want_date} {want_auth}\n"
                  f" got  {got_date} {got_auth}\n"
                  f"--- botocore canonical request\n{want_creq}\n"
                  f"--- ours\n{mine.stderr.decode('utf-8', 'replace')}")
    tokens = sum(1 for c in cases if c["token"])
    posts = sum(1 for c in cases if c["method"] == "POST")
    print(f"botocore {botocore.__version__}: {len(cases) - failed}/"
          f"{len(cases)} signatures identical (seed {SEED}, {posts} POST, "
          f"{tokens} with session token)")
    return 1 if failed else 0


sys.exit(main())
EOF
