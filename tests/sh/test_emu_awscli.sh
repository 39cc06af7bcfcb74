#!/bin/bash
# test_emu_awscli.sh - proves tests/ec2emu.py speaks AWS: Debian's awscli
# and botocore drive it (EC2 Query API, SigV4, IMDSv2 role credentials).
# Exit 0 pass, 1 fail, 77 skip. Only ever talks to 127.0.0.1.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
AWS=/usr/bin/aws
REGION=eu-west-1
KEY=AKIAEMUTEST000000001
SECRET='emu/Secret+Key/0123456789abcdefghijklmnopq'
IA=i-0aaaaaaaaaaaaaaa1
IB=i-0bbbbbbbbbbbbbbb2

skip() { echo "SKIP: $*"; exit 77; }
[ -x "$PY" ] || skip "$PY not found"
[ -x "$AWS" ] || skip "Debian awscli ($AWS) not installed"
"$PY" -c 'import botocore' 2>/dev/null ||
	skip "python3-botocore not installed for $PY"
command -v timeout >/dev/null || skip "coreutils timeout missing"

TMP=$(mktemp -d /tmp/test_emu_awscli.XXXXXX)
EMU_PID=
# shellcheck disable=SC2317  # called through trap
cleanup() {
	if [ -n "$EMU_PID" ]; then
		kill "$EMU_PID" 2>/dev/null
		wait "$EMU_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

PASSED=0
FAILED=0
pass() { echo "PASS: $1"; PASSED=$((PASSED + 1)); }
fail() {
	echo "FAIL: $1"
	shift
	[ $# -gt 0 ] && printf '      %s\n' "$@"
	FAILED=$((FAILED + 1))
}

cat >"$TMP/world.json" <<EOF
{
  "region": "$REGION",
  "account": "123456789012",
  "role": "eipfloatd-role",
  "credential_ttl": 3600,
  "instances": [
    {"id": "$IA", "private_ip": "10.0.0.20", "eni_id": "eni-0aaaaaaaaaaaaaaa1",
     "az": "${REGION}a", "imds_listen": "127.0.0.1:0"},
    {"id": "$IB", "private_ip": "10.0.1.20", "eni_id": "eni-0bbbbbbbbbbbbbbb2",
     "az": "${REGION}b", "imds_listen": "127.0.0.1:0"}
  ],
  "addresses": [
    {"allocation_id": "eipalloc-0abc", "public_ip": "52.1.2.3",
     "instance_id": "$IA", "association_id": "eipassoc-0first"},
    {"allocation_id": "eipalloc-0def", "public_ip": "52.1.2.4"}
  ],
  "route_tables": [{"id": "rtb-0e2e0000000000001"}],
  "access_keys": [{"access_key_id": "$KEY", "secret": "$SECRET"}]
}
EOF

# HTTPS too when openssl can make a certificate for 127.0.0.1.
TLS_ARGS=()
if command -v openssl >/dev/null &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" \
		-out "$TMP/cert.pem" >/dev/null 2>&1; then
	TLS_ARGS=(--tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem")
fi

"$PY" "$HERE/../ec2emu.py" --world "$TMP/world.json" --port 0 \
	--ready-file "$TMP/ready.json" "${TLS_ARGS[@]}" \
	>"$TMP/emu.out" 2>"$TMP/emu.err" &
EMU_PID=$!
for _ in $(seq 100); do
	grep -q '^ec2emu ready ' "$TMP/emu.out" 2>/dev/null && break
	kill -0 "$EMU_PID" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q '^ec2emu ready ' "$TMP/emu.out" 2>/dev/null; then
	echo "FAIL: emulator did not start"
	cat "$TMP/emu.err"
	exit 1
fi
url() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$TMP/ready.json" "$1"; }
EC2=$(url ec2)
IMDS_A=$(url "imds.$IA")
echo "emulator: $(cat "$TMP/emu.out")"

: >"$TMP/aws_config"
: >"$TMP/aws_credentials"
# A clean environment: no proxies, no profiles, IMDS off for the CLI.
awsenv() {
	env -i PATH=/usr/bin:/bin HOME="$TMP" LANG=C.UTF-8 \
		AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE="$TMP/aws_config" \
		AWS_SHARED_CREDENTIALS_FILE="$TMP/aws_credentials" AWS_PAGER= \
		AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS="${ATTEMPTS:-1}" \
		"$@"
}
# aws ARGS... with the static key; output in $OUT, stderr in $ERR.
awscli() {
	OUT=$(awsenv AWS_ACCESS_KEY_ID="$KEY" AWS_SECRET_ACCESS_KEY="${SECRET_OVERRIDE:-$SECRET}" \
		timeout 60 "$AWS" --endpoint-url "${ENDPOINT:-$EC2}" --region "$REGION" \
		--cli-connect-timeout 5 --cli-read-timeout "${READ_TIMEOUT:-10}" \
		--output json "$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(cat "$TMP/stderr")
	return $RC
}
# jq-less JSON probe: jget 'expression over d' <<<"$json"
jget() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
emu_get() { "$PY" -c "import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())" "$EC2$1"; }
emu_post() {
	"$PY" -c "import sys,urllib.request
r = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method=sys.argv[3])
sys.stdout.write(urllib.request.urlopen(r).read().decode())" "$EC2$1" "${2:-}" "${3:-POST}" >/dev/null
}
# Last EC2 call record field: last_call FIELD
last_call() { emu_get /_emu/calls | jget "d[-1]['$1']"; }

# --- AWS CLI against the Query API -----------------------------------------

if awscli ec2 describe-addresses &&
	[ "$(jget "sorted(a['AllocationId'] for a in d['Addresses'])" <<<"$OUT")" = "['eipalloc-0abc', 'eipalloc-0def']" ] &&
	[ "$(jget "[a.get('InstanceId') for a in d['Addresses'] if a['AllocationId']=='eipalloc-0abc'][0]" <<<"$OUT")" = "$IA" ]; then
	pass "describe_addresses_lists_world_and_initial_association"
else
	fail "describe_addresses_lists_world_and_initial_association" "$OUT" "$ERR"
fi

ASSOC=
if awscli ec2 associate-address --allocation-id eipalloc-0abc \
	--instance-id "$IB" --allow-reassociation; then
	ASSOC=$(jget "d['AssociationId']" <<<"$OUT")
fi
if [[ "$ASSOC" == eipassoc-* ]] &&
	awscli ec2 describe-addresses --allocation-ids eipalloc-0abc &&
	[ "$(jget "d['Addresses'][0]['InstanceId']" <<<"$OUT")" = "$IB" ] &&
	[ "$(jget "d['Addresses'][0]['AssociationId']" <<<"$OUT")" = "$ASSOC" ] &&
	[ "$(jget "d['Addresses'][0]['PrivateIpAddress']" <<<"$OUT")" = "10.0.1.20" ]; then
	pass "associate_with_reassociation_moves_eip_to_other_instance"
else
	fail "associate_with_reassociation_moves_eip_to_other_instance" "$OUT" "$ERR"
fi

if awscli ec2 describe-addresses --filters "Name=instance-id,Values=$IB" &&
	[ "$(jget "[a['AllocationId'] for a in d['Addresses']]" <<<"$OUT")" = "['eipalloc-0abc']" ] &&
	awscli ec2 describe-addresses --filters "Name=instance-id,Values=$IA" &&
	[ "$(jget "len(d['Addresses'])" <<<"$OUT")" = 0 ]; then
	pass "describe_addresses_filters_by_instance_id"
else
	fail "describe_addresses_filters_by_instance_id" "$OUT" "$ERR"
fi

if ! awscli ec2 associate-address --allocation-id eipalloc-0abc \
	--instance-id "$IA" && grep -q 'Resource.AlreadyAssociated' <<<"$ERR"; then
	pass "associate_without_reassociation_fails_when_associated"
else
	fail "associate_without_reassociation_fails_when_associated" "$OUT" "$ERR"
fi

if awscli ec2 disassociate-address --association-id "$ASSOC" &&
	awscli ec2 describe-addresses --public-ips 52.1.2.3 &&
	[ "$(jget "d['Addresses'][0].get('InstanceId', 'none')" <<<"$OUT")" = none ]; then
	pass "disassociate_address_leaves_eip_unassociated"
else
	fail "disassociate_address_leaves_eip_unassociated" "$OUT" "$ERR"
fi

if ! awscli ec2 disassociate-address --association-id "$ASSOC" &&
	grep -q 'InvalidAssociationID.NotFound' <<<"$ERR"; then
	pass "disassociate_stale_association_is_not_found"
else
	fail "disassociate_stale_association_is_not_found" "$ERR"
fi

# --- secondary private IPs and routes ----------------------------------------

if awscli ec2 assign-private-ip-addresses --network-interface-id eni-0aaaaaaaaaaaaaaa1 \
	--private-ip-addresses 10.0.0.60 --allow-reassignment &&
	awscli ec2 describe-network-interfaces \
		--filters Name=addresses.private-ip-address,Values=10.0.0.60 &&
	[ "$(jget "[(n['NetworkInterfaceId'], n['Attachment']['InstanceId'], [p['PrivateIpAddress'] for p in n['PrivateIpAddresses']]) for n in d['NetworkInterfaces']]" <<<"$OUT")" = "[('eni-0aaaaaaaaaaaaaaa1', '$IA', ['10.0.0.20', '10.0.0.60'])]" ]; then
	pass "assign_private_ip_shows_in_describe_network_interfaces"
else
	fail "assign_private_ip_shows_in_describe_network_interfaces" "$OUT" "$ERR"
fi

if ! awscli ec2 assign-private-ip-addresses --network-interface-id eni-0bbbbbbbbbbbbbbb2 \
	--private-ip-addresses 10.0.0.60 --allow-reassignment &&
	grep -q "InvalidParameterValue.*does not fall within the subnet" <<<"$ERR"; then
	pass "assign_outside_the_subnet_is_InvalidParameterValue"
else
	fail "assign_outside_the_subnet_is_InvalidParameterValue" "$OUT" "$ERR"
fi

if awscli ec2 describe-network-interface-attribute --network-interface-id eni-0aaaaaaaaaaaaaaa1 \
	--attribute sourceDestCheck &&
	[ "$(jget "d['SourceDestCheck']['Value']" <<<"$OUT")" = True ]; then
	pass "source_dest_check_is_on_by_default"
else
	fail "source_dest_check_is_on_by_default" "$OUT" "$ERR"
fi

if ! awscli ec2 replace-route --route-table-id rtb-0e2e0000000000001 \
	--destination-cidr-block 192.168.100.10/32 --network-interface-id eni-0aaaaaaaaaaaaaaa1 &&
	grep -q "InvalidParameterValue.*no route defined.*Use CreateRoute" <<<"$ERR" &&
	awscli ec2 create-route --route-table-id rtb-0e2e0000000000001 \
		--destination-cidr-block 192.168.100.10/32 --network-interface-id eni-0aaaaaaaaaaaaaaa1 &&
	awscli ec2 replace-route --route-table-id rtb-0e2e0000000000001 \
		--destination-cidr-block 192.168.100.10/32 --network-interface-id eni-0bbbbbbbbbbbbbbb2 &&
	awscli ec2 describe-route-tables --route-table-ids rtb-0e2e0000000000001 &&
	[ "$(jget "[(r['DestinationCidrBlock'], r.get('InstanceId'), r.get('NetworkInterfaceId')) for r in d['RouteTables'][0]['Routes'] if 'GatewayId' not in r]" <<<"$OUT")" = "[('192.168.100.10/32', '$IB', 'eni-0bbbbbbbbbbbbbbb2')]" ]; then
	pass "replace_route_needs_create_route_then_moves_the_target"
else
	fail "replace_route_needs_create_route_then_moves_the_target" "$OUT" "$ERR"
fi

if ! awscli ec2 create-route --route-table-id rtb-0e2e0000000000001 \
	--destination-cidr-block 192.168.100.10/32 --network-interface-id eni-0aaaaaaaaaaaaaaa1 &&
	grep -q RouteAlreadyExists <<<"$ERR" &&
	! awscli ec2 describe-route-tables --route-table-ids rtb-0e2e00000000000ff &&
	grep -q "InvalidRouteTableID.NotFound" <<<"$ERR"; then
	pass "route_errors_are_awss"
else
	fail "route_errors_are_awss" "$OUT" "$ERR"
fi

if ! awscli ec2 associate-address --allocation-id eipalloc-0nosuch \
	--instance-id "$IA" --allow-reassociation &&
	grep -q 'InvalidAllocationID.NotFound' <<<"$ERR"; then
	pass "associate_unknown_allocation_is_InvalidAllocationID.NotFound"
else
	fail "associate_unknown_allocation_is_InvalidAllocationID.NotFound" "$ERR"
fi

if ! awscli ec2 associate-address --allocation-id eipalloc-0def \
	--instance-id i-0123456789abcdef0 && grep -q 'InvalidInstanceID.NotFound' <<<"$ERR"; then
	pass "associate_unknown_instance_is_InvalidInstanceID.NotFound"
else
	fail "associate_unknown_instance_is_InvalidInstanceID.NotFound" "$ERR"
fi

if ! SECRET_OVERRIDE='wrong/secret' awscli ec2 describe-addresses &&
	grep -q 'AuthFailure' <<<"$ERR" &&
	[ "$(last_call signature_valid)" = False ] &&
	[ "$(last_call status)" = 401 ]; then
	pass "wrong_secret_is_401_AuthFailure_and_logged_invalid"
else
	fail "wrong_secret_is_401_AuthFailure_and_logged_invalid" "$ERR"
fi

# EC2's clock (Date on every answer, control API too) in seconds from ours.
date_skew() {
	"$PY" - "$EC2$1" <<'PY'
import email.utils, sys, time, urllib.error, urllib.request
try:
    h = urllib.request.urlopen(sys.argv[1], timeout=5).headers
except urllib.error.HTTPError as e:
    h = e.headers
d = h.get("Date")
print(round(email.utils.parsedate_to_datetime(d).timestamp() - time.time())
      if d else "none")
PY
}
emu_post /_emu/set '{"clock_offset": 400}'
if ! awscli ec2 describe-addresses && grep -q 'RequestExpired' <<<"$ERR" &&
	grep -q 'Signature expired' <<<"$ERR" &&
	[ "$(last_call status)" = 400 ] &&
	[ "$(last_call signature_valid)" = True ]; then
	pass "request_dated_over_5_minutes_ago_is_RequestExpired"
else
	fail "request_dated_over_5_minutes_ago_is_RequestExpired" "$ERR"
fi
s1=$(date_skew /) s2=$(date_skew /_emu/state)
if [ "$s1" -ge 399 ] && [ "$s1" -le 401 ] && [ "$s2" -ge 399 ] &&
	[ "$s2" -le 401 ]; then
	pass "date_header_follows_clock_offset"
else
	fail "date_header_follows_clock_offset" "ec2 $s1 s, control $s2 s"
fi
emu_post /_emu/set '{"clock_offset": -400}'
if ! awscli ec2 describe-addresses && grep -q 'RequestExpired' <<<"$ERR" &&
	grep -q 'Signature not yet current' <<<"$ERR"; then
	pass "request_dated_over_5_minutes_ahead_is_RequestExpired"
else
	fail "request_dated_over_5_minutes_ahead_is_RequestExpired" "$ERR"
fi
emu_post /_emu/set '{"clock_offset": 0}'
s1=$(date_skew /)
if [ "$s1" -ge -1 ] && [ "$s1" -le 1 ]; then
	pass "date_header_is_host_time_without_offset"
else
	fail "date_header_is_host_time_without_offset" "skew $s1 s"
fi

# The CLI's own retry logic must see our throttling and transport faults as
# retryable: that is what proves the error format and status are right.
emu_post /_emu/faults '{"action": "DescribeAddresses", "mode": "error", "code": "RequestLimitExceeded", "count": 1}'
if ATTEMPTS=3 awscli ec2 describe-addresses &&
	[ "$(emu_get '/_emu/calls?action=DescribeAddresses' | jget "[(c['status'], c['error_code']) for c in d[-2:]]")" = "[(503, 'RequestLimitExceeded'), (200, None)]" ]; then
	pass "throttling_fault_is_503_and_retried_by_cli"
else
	fail "throttling_fault_is_503_and_retried_by_cli" "$ERR"
fi

emu_post /_emu/faults '{"action": "DescribeAddresses", "mode": "drop", "count": 1}'
if ATTEMPTS=3 awscli ec2 describe-addresses &&
	[ "$(emu_get '/_emu/calls?action=DescribeAddresses' | jget "[c['status'] for c in d[-2:]]")" = "[0, 200]" ]; then
	pass "dropped_connection_is_retried_by_cli"
else
	fail "dropped_connection_is_retried_by_cli" "$ERR"
fi

emu_post /_emu/faults '{"action": "DescribeAddresses", "mode": "hang", "count": 1}'
T0=$(date +%s)
if ATTEMPTS=2 READ_TIMEOUT=2 awscli ec2 describe-addresses &&
	[ $(($(date +%s) - T0)) -ge 2 ] &&
	[ "$(emu_get '/_emu/calls?action=DescribeAddresses' | jget "[c['status'] for c in d[-2:]]")" = "[0, 200]" ]; then
	pass "hung_request_times_out_in_cli_then_retry_succeeds"
else
	fail "hung_request_times_out_in_cli_then_retry_succeeds" "$ERR"
fi
emu_post /_emu/faults '' DELETE

if [ ${#TLS_ARGS[@]} -gt 0 ]; then
	if ENDPOINT=$(url ec2_tls) awscli ec2 describe-addresses \
		--ca-bundle "$TMP/cert.pem" &&
		[ "$(jget "len(d['Addresses'])" <<<"$OUT")" = 2 ]; then
		pass "https_endpoint_with_self_signed_cert"
	else
		fail "https_endpoint_with_self_signed_cert" "$ERR"
	fi
else
	echo "SKIP: https_endpoint_with_self_signed_cert (no openssl)"
fi

# --- botocore: IMDSv2 role credentials, then EC2 with them -------------------

# AWS_EC2_METADATA_DISABLED is deliberately absent for this one process: its
# metadata endpoint is the emulator's IMDS listener for instance A.
if env -i PATH=/usr/bin:/bin HOME="$TMP" LANG=C.UTF-8 \
	AWS_CONFIG_FILE="$TMP/aws_config" \
	AWS_SHARED_CREDENTIALS_FILE="$TMP/aws_credentials" \
	AWS_EC2_METADATA_SERVICE_ENDPOINT="$IMDS_A/" \
	timeout 60 "$PY" - "$EC2" "$IMDS_A" "$REGION" "$IA" \
	>"$TMP/boto.out" 2>&1 <<'PYEOF'
import json
import sys
import urllib.error
import urllib.request

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

ec2_url, imds_url, region, inst = sys.argv[1:5]
failed = 0


def check(name, ok, detail=""):
    global failed
    print("%s: %s%s" % ("PASS" if ok else "FAIL", name,
                        "" if ok else "\n      " + str(detail)))
    if not ok:
        failed += 1


def emu(path, body=None, method=None):
    req = urllib.request.Request(ec2_url + path, method=method,
                                 data=None if body is None else
                                 json.dumps(body).encode())
    return json.loads(urllib.request.urlopen(req, timeout=10).read() or b"null")


def status(path, method="GET", headers=None):
    req = urllib.request.Request(imds_url + path, method=method,
                                 headers=headers or {})
    try:
        return urllib.request.urlopen(req, timeout=10).status
    except urllib.error.HTTPError as e:
        return e.code


NOSIGN = Config(retries={"total_max_attempts": 1})


def client(session, **creds):
    return session.create_client("ec2", region_name=region,
                                 endpoint_url=ec2_url, config=NOSIGN,
                                 **creds)


def error_code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


emu("/_emu/reset-calls", {})
session = botocore.session.get_session()
creds = session.get_credentials()
check("botocore_chain_finds_imds_role_credentials",
      creds is not None and creds.method == "iam-role",
      creds and creds.method)
if creds is None:
    sys.exit(1)
frozen = creds.get_frozen_credentials()
check("role_credentials_are_temporary_with_token",
      frozen.access_key.startswith("ASIA") and len(frozen.token) > 100,
      frozen.access_key)

imds_calls = emu("/_emu/calls?service=imds")
check("botocore_used_imdsv2_token_flow",
      imds_calls and imds_calls[0]["method"] == "PUT" and
      imds_calls[0]["path"] == "/latest/api/token" and
      imds_calls[0]["status"] == 200 and
      all(c["token_valid"] for c in imds_calls[1:]) and
      all(c["status"] == 200 for c in imds_calls),
      [(c["method"], c["path"], c["status"], c["token_valid"])
       for c in imds_calls])

r = client(session).describe_addresses(AllocationIds=["eipalloc-0def"])
last = emu("/_emu/calls")[-1]
check("role_credentials_sign_ec2_call_with_session_token",
      r["Addresses"][0]["PublicIp"] == "52.1.2.4" and
      last["access_key_id"] == frozen.access_key and
      last["instance"] == inst and last["signature_valid"] and
      last["status"] == 200, last)

# DescribeInstanceStatus, as botocore's model reads it.
c = client(session)
r = c.describe_instance_status(InstanceIds=[inst], IncludeAllInstances=True)
s = r["InstanceStatuses"][0]
check("instance_status_running_ok",
      s["InstanceId"] == inst and s["InstanceState"]["Name"] == "running" and
      s["InstanceState"]["Code"] == 16 and
      s["InstanceStatus"]["Status"] == "ok" and
      s["SystemStatus"]["Status"] == "ok", s)
emu("/_emu/set", {"instance_state": {inst: {"state": "stopped"}}})
r = c.describe_instance_status(InstanceIds=[inst])
check("stopped_instance_only_with_include_all", r["InstanceStatuses"] == [], r)
r = c.describe_instance_status(InstanceIds=[inst], IncludeAllInstances=True)
s = r["InstanceStatuses"][0]
check("stopped_instance_status_not_applicable",
      s["InstanceState"]["Name"] == "stopped" and
      s["InstanceState"]["Code"] == 80 and
      s["InstanceStatus"]["Status"] == "not-applicable", s)
r = c.describe_instances(InstanceIds=[inst])
check("describe_instances_follows_the_state",
      r["Reservations"][0]["Instances"][0]["State"]["Name"] == "stopped", r)
emu("/_emu/set", {"instance_state": {inst: {"state": "running",
                                            "instance_status": "impaired"}}})
r = c.describe_instance_status(InstanceIds=[inst])
check("impaired_instance_status_shown",
      r["InstanceStatuses"][0]["InstanceStatus"]["Status"] == "impaired", r)
emu("/_emu/set", {"instance_state": {inst: {"instance_status": "ok"}}})
code = error_code(lambda: c.describe_instance_status(
    InstanceIds=["i-0ffffffffffffffff"]))
check("unknown_instance_is_NotFound", code == "InvalidInstanceID.NotFound",
      code)

bad_tok = frozen.token[:-8] + ("A" * 8 if not frozen.token.endswith("A" * 8)
                               else "B" * 8)
code = error_code(lambda: client(
    session, aws_access_key_id=frozen.access_key,
    aws_secret_access_key=frozen.secret_key,
    aws_session_token=bad_tok).describe_addresses())
check("wrong_session_token_is_AuthFailure", code == "AuthFailure", code)

code = error_code(lambda: client(
    session, aws_access_key_id=frozen.access_key,
    aws_secret_access_key=frozen.secret_key).describe_addresses())
check("role_key_without_session_token_is_AuthFailure",
      code == "AuthFailure", code)

emu("/_emu/set", {"expire_credentials": True})
code = error_code(lambda: client(
    session, aws_access_key_id=frozen.access_key,
    aws_secret_access_key=frozen.secret_key,
    aws_session_token=frozen.token).describe_addresses())
check("expired_role_credentials_are_RequestExpired",
      code == "RequestExpired", code)

fresh = botocore.session.get_session()
fcreds = fresh.get_credentials().get_frozen_credentials()
ok = fcreds.access_key != frozen.access_key
r = client(fresh).describe_addresses()
check("imds_issues_fresh_credentials_after_expiry",
      ok and len(r["Addresses"]) == 2, fcreds.access_key)

t = urllib.request.urlopen(urllib.request.Request(
    imds_url + "/latest/api/token", method="PUT",
    headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}),
    timeout=10).read().decode()
check("imds_requires_token_and_valid_ttl",
      status("/latest/meta-data/instance-id") == 401 and
      status("/latest/meta-data/instance-id",
             headers={"X-aws-ec2-metadata-token": "bogus"}) == 401 and
      status("/latest/api/token", "PUT",
             {"X-aws-ec2-metadata-token-ttl-seconds": "0"}) == 400 and
      status("/latest/api/token", "PUT",
             {"X-aws-ec2-metadata-token-ttl-seconds": "21601"}) == 400 and
      status("/latest/meta-data/instance-id",
             headers={"X-aws-ec2-metadata-token": t}) == 200)
sys.exit(1 if failed else 0)
PYEOF
then
	BOTO_RC=0
else
	BOTO_RC=1
fi
cat "$TMP/boto.out"
PASSED=$((PASSED + $(grep -c '^PASS: ' "$TMP/boto.out")))
FAILED=$((FAILED + $(grep -c '^FAIL: ' "$TMP/boto.out")))
if [ "$BOTO_RC" -ne 0 ] && ! grep -q '^FAIL: ' "$TMP/boto.out"; then
	fail "botocore_block_ran_to_the_end (exit $BOTO_RC)"
fi

# Every EC2 call carried a valid signature except the one wrong secret
# (date_skew's unsigned probes are MissingAuthenticationToken).
if [ "$(emu_get '/_emu/calls?service=ec2' | jget "sum(1 for c in d if not c['signature_valid'])")" = 0 ] &&
	[ "$("$PY" -c 'import re,sys; print(len(re.findall(r"^(?!.*MissingAuthenticationToken).*sig=BAD", open(sys.argv[1]).read(), re.M)))' "$TMP/emu.err")" = 1 ]; then
	pass "every_call_signature_valid_except_the_wrong_secret"
else
	fail "every_call_signature_valid_except_the_wrong_secret" \
		"$(grep 'sig=BAD' "$TMP/emu.err")"
fi

if grep -q -e "$SECRET" -e 'SecretAccessKey' "$TMP/emu.err"; then
	fail "emulator_log_has_no_secrets"
else
	pass "emulator_log_has_no_secrets"
fi

kill "$EMU_PID"
for _ in $(seq 50); do
	kill -0 "$EMU_PID" 2>/dev/null || break
	sleep 0.1
done
if ! kill -0 "$EMU_PID" 2>/dev/null && wait "$EMU_PID"; then
	pass "sigterm_stops_emulator_cleanly"
else
	fail "sigterm_stops_emulator_cleanly"
fi
EMU_PID=

echo "passed: $PASSED, failed: $FAILED"
[ "$FAILED" -eq 0 ] || { echo "--- emulator log ---"; tail -40 "$TMP/emu.err"; exit 1; }
exit 0
