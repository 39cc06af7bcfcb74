#!/bin/sh
# test_checkaws.sh - `eipfloatd check-aws` against the local emulator on
# loopback (aws.endpoint and aws.imds_endpoint point at it; the metadata
# service is enabled only for the check-aws process): every check passes
# with a full role; an unreachable IMDS and a role denied AssociateAddress
# each give a failing line with its fix and a non-zero exit; private
# addresses: the interface, the subnet rule, the source/destination check
# and each route table, with their fixes.
. "${top_srcdir:-.}/tests/lib.sh"

IA=i-0aaaaaaaaaaaaaaa1
IB=i-0bbbbbbbbbbbbbbb2
cat >"$T/world.json" <<EOF
{
  "region": "eu-west-1",
  "instances": [
    {"id": "$IA", "private_ip": "10.0.0.20", "az": "eu-west-1a",
     "imds_listen": "127.0.0.1:0"},
    {"id": "$IB", "private_ip": "10.0.1.20", "az": "eu-west-1b"}
  ],
  "addresses": [
    {"allocation_id": "eipalloc-0abc1234", "public_ip": "52.1.2.3",
     "instance_id": "$IB"}
  ],
  "access_keys": []
}
EOF

emu_up() { # emu_up NAME [--fault JSON]
	_n=$1; shift
	"$PYTHON3" "$top_srcdir/tests/ec2emu.py" --world "${WORLD:-$T/world.json}" \
		--port 0 --ready-file "$T/$_n.ready" "$@" \
		>"$T/$_n.out" 2>"$T/$_n.err" &
	track $!
	wait_for 15 test -s "$T/$_n.ready" || { echo "emulator did not start"; cat "$T/$_n.err"; exit 1; }
}
url() { "$PYTHON3" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$T/$1.ready" "$2"; }
make_key "$T/authkey"
EIP_RES='{ type = "eip"; allocation_id = "eipalloc-0abc1234"; }'
conf() { # conf FILE EC2_URL IMDS_URL
	cat >"$1" <<CONF
cluster = { name = "t"; authkey = "$T/authkey"; };
nodes = (
  { name = "node-a"; addresses = [ "127.0.0.1" ]; priority = 100; },
  { name = "node-b"; addresses = [ "127.0.0.2" ]; priority = 50;
    instance_id = "$IB"; }
);
aws = { endpoint = "$2"; imds_endpoint = "$3"; timeout_ms = 3000; };
resources = ( ${RES:-$EIP_RES} );
CONF
}
check_aws() { # check_aws CONF OUT: only this process may use IMDS
	env -u AWS_EC2_METADATA_DISABLED -u AWS_ACCESS_KEY_ID \
		-u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		AWS_SHARED_CREDENTIALS_FILE=/nonexistent HOME="$T" \
		"$EIPFLOATD" check-aws -c "$1" -n node-a >"$2" 2>&1
}

emu_up full
conf "$T/full.conf" "$(url full ec2)" "$(url full "imds.$IA")"
check_aws "$T/full.conf" "$T/full.out"; rc=$?
sed 's/^/# /' "$T/full.out"
check "full_role_exits_0" [ "$rc" -eq 0 ]
check "full_role_no_failed_line" sh -c "! grep -q '^✗' '$T/full.out'"
check "full_role_imds_line" grep -q "^✓ IMDSv2 .*instance $IA in Region eu-west-1 (AZ eu-west-1a)" "$T/full.out"
check "full_role_credentials_line" grep -q '^✓ credentials from .*expire' "$T/full.out"
check "full_role_describe_line" grep -q "^✓ DescribeAddresses eipalloc-0abc1234 (52.1.2.3): on $IB (the peer)" "$T/full.out"
check "full_role_dry_run_line" grep -q "^✓ AssociateAddress eipalloc-0abc1234 to $IA allowed (DryRun)" "$T/full.out"
check "full_role_peer_line" grep -q "^✓ peer node-b is instance $IB" "$T/full.out"
check "security_group_reminder" grep -q '^! security group .*UDP 5405' "$T/full.out"
check "dry_run_moved_nothing" sh -c "\"$PYTHON3\" \"$top_srcdir/tests/emuctl.py\" '$(url full ec2)' eval \"owner('eipalloc-0abc1234')\" | grep -q '$IB'"

conf "$T/noimds.conf" "$(url full ec2)" "http://127.0.0.1:9"
check_aws "$T/noimds.conf" "$T/noimds.out"; rc=$?
sed 's/^/# /' "$T/noimds.out"
check "imds_unreachable_exits_nonzero" [ "$rc" -ne 0 ]
check "imds_unreachable_line_says_so" grep -q '^✗ IMDSv2 not reachable at http://127.0.0.1:9' "$T/noimds.out"
check "imds_unreachable_gives_fix" grep -q 'fix: .*http-put-response-hop-limit' "$T/noimds.out"

emu_up denied --fault '{"action": "AssociateAddress", "dry_run": true, "code": "UnauthorizedOperation", "message": "You are not authorized to perform this operation."}'
conf "$T/denied.conf" "$(url denied ec2)" "$(url denied "imds.$IA")"
check_aws "$T/denied.conf" "$T/denied.out"; rc=$?
sed 's/^/# /' "$T/denied.out"
check "denied_associate_exits_nonzero" [ "$rc" -ne 0 ]
check "denied_associate_line_names_action" grep -q '^✗ AssociateAddress eipalloc-0abc1234 .*UnauthorizedOperation' "$T/denied.out"
check "denied_associate_fix_names_iam_action" grep -q 'fix: allow ec2:AssociateAddress' "$T/denied.out"
check "denied_describe_still_passes" grep -q '^✓ DescribeAddresses eipalloc-0abc1234' "$T/denied.out"

# --- private addresses: two subnets, the check on, one table without it ----
cat >"$T/net.json" <<EOF
{
  "region": "eu-west-1",
  "instances": [
    {"id": "$IA", "private_ip": "10.0.0.20", "az": "eu-west-1a",
     "imds_listen": "127.0.0.1:0", "subnet_id": "subnet-0aaaaaaa",
     "source_dest_check": true},
    {"id": "$IB", "private_ip": "10.0.1.20", "az": "eu-west-1b",
     "subnet_id": "subnet-0bbbbbbb"}
  ],
  "subnets": [{"id": "subnet-0aaaaaaa", "cidr": "10.0.0.0/24", "az": "eu-west-1a"},
              {"id": "subnet-0bbbbbbb", "cidr": "10.0.1.0/24", "az": "eu-west-1b"}],
  "route_tables": [{"id": "rtb-0aaaaaaa"},
    {"id": "rtb-0bbbbbbb", "routes": [{"destination": "192.168.100.10/32", "eni": "eni-0bbbbbbbbbbbbbbb2"}]}]
}
EOF
WORLD=$T/net.json emu_up net
RES='{ type = "secondary_ip"; address = "10.0.0.50"; },
  { type = "route"; destination = "192.168.100.10/32"; route_tables = [ "rtb-0aaaaaaa", "rtb-0bbbbbbb" ]; }' \
	conf "$T/net.conf" "$(url net ec2)" "$(url net "imds.$IA")"
check_aws "$T/net.conf" "$T/net.out"; rc=$?
sed 's/^/# /' "$T/net.out"
check "net_problems_exit_nonzero" [ "$rc" -ne 0 ]
check "net_interface_line" grep -q "^✓ this node's interface is eni-0aaaaaaaaaaaaaaa1 in subnet-0aaaaaaa (eu-west-1a), primary address 10.0.0.20" "$T/net.out"
check "net_two_subnets_fail" grep -q "^✗ secondary IPs cannot move: this node's eni-0aaaaaaaaaaaaaaa1 is in subnet-0aaaaaaa (eu-west-1a), the peer's eni-0bbbbbbbbbbbbbbb2 in subnet-0bbbbbbb (eu-west-1b)" "$T/net.out"
check "net_source_dest_check_fail" grep -q "^✗ source/destination check is enabled on eni-0aaaaaaaaaaaaaaa1" "$T/net.out"
check "net_source_dest_check_fix" grep -q "fix: aws ec2 modify-network-interface-attribute --network-interface-id eni-0aaaaaaaaaaaaaaa1 --no-source-dest-check" "$T/net.out"
check "net_table_without_route" grep -q "^✓ route table rtb-0aaaaaaa: no route to 192.168.100.10/32 yet" "$T/net.out"
check "net_table_with_route" grep -q "^✓ route table rtb-0bbbbbbb: 192.168.100.10/32 -> eni-0bbbbbbbbbbbbbbb2" "$T/net.out"
RES='{ type = "route"; destination = "192.168.100.10/32"; route_tables = [ "rtb-0ccccccc" ]; }' \
	conf "$T/net2.conf" "$(url net ec2)" "$(url net "imds.$IA")"
check_aws "$T/net2.conf" "$T/net2.out"; rc=$?
sed 's/^/# /' "$T/net2.out"
check "net_unknown_table_fails_with_code" grep -q "^✗ DescribeRouteTables for 192.168.100.10/32: InvalidRouteTableID.NotFound" "$T/net2.out"

finish
