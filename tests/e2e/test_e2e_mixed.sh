#!/bin/sh
# test_e2e_mixed.sh - an Elastic IP, a secondary private IP and a route in
# one resources list move together as one group. Throttled and failing
# writes on one item are retried (ec2.c's policy) while the others go
# through; an item that fails for good fails the acquisition, which the
# election retries like an EIP's; the dump and status show every item and
# its owner; the client reaches all three addresses on the ACTIVE node.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
. "$top_srcdir/tests/e2e/dataplane.sh"
. "$top_srcdir/tests/e2e/private.sh"
netns_require
have_nft || skip_all "needs nft for the data plane"
topo_up
private_world same
emu_start none
DP_ROUTES=1 dp_start 0
check "web_service_node_a" web_start a
check "web_service_node_b" web_start b
all_on() { # all_on a|b: the EIP, the secondary IP and both routes
	_who=$IA
	[ "$1" = b ] && _who=$IB
	owner_is "$1" && emu_is "secondary('$SECIP')" "$_who" &&
		emu_is "route('$RTB1', '$OVERLAY/32')" "$_who" &&
		emu_is "route('$RTB2', '$OVERLAY/32')" "$_who"
}
client_all() { # client_all node-a|node-b: every address answers NAME
	client_sees "$1" "http://$EIP/" &&
		client_sees "$1" "http://$SECIP/" &&
		client_sees "$1" "http://$OVERLAY/"
}

# The first writes of the route fail (throttled, then an internal error):
# retried by the client, the other items are not held up.
emu_fault "[{\"action\": \"ReplaceRoute\", \"instance\": \"$IA\", \"code\": \"RequestLimitExceeded\", \"count\": 1},
	{\"action\": \"CreateRoute\", \"instance\": \"$IA\", \"code\": \"InternalError\", \"count\": 1}]"
_eip="{ type = \"eip\"; allocation_id = \"$ALLOC\"; }"
INTERVAL=100 TIMEOUT=1000 STARTUP=1000 MONITOR=1000 \
	RESOURCES="$_eip, $SECIP_RES, $ROUTE_RES" write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"

check "cold_start_node_a_active" wait_state a ACTIVE 15
check "cold_start_node_b_standby" wait_state b STANDBY 10
check "cold_start_whole_group_on_node_a" wait_for 10 all_on a
check "cold_start_route_write_retried" grep_log "$T/a.log" \
	'(replace|create) route .*(RequestLimitExceeded|InternalError).*retry [0-9]+/[0-9]+ in [0-9]+ ms'
check "cold_start_one_associate_one_assign" \
	[ "$(emu_count AssociateAddress)" -eq 1 ] && [ "$(emu_count AssignPrivateIpAddresses)" -eq 1 ]
check "cold_start_secip_only_on_node_a" wait_for 5 host_only a "$SECIP"
check "cold_start_overlay_only_on_node_a" wait_for 5 host_only a "$OVERLAY"
check "cold_start_client_reaches_all_on_node_a" wait_for 5 client_all node-a
st=$(dump_state a)
check "dump_item_eip" has_line "$st" "^resource 0 eip $ALLOC.*: owner self \\($IA\\)"
check "dump_item_secondary_ip" has_line "$st" "^resource 1 secondary_ip $SECIP: owner self \\($IA\\)"
check "dump_item_route" has_line "$st" "^resource 2 route $OVERLAY/32: owner self \\($IA\\)"
js=$("$EIPFLOATD" status --json --runtime-dir "$T/run-a" 2>/dev/null)
check "status_json_lists_three_items" sh -c "printf '%s' '$js' | '$PYTHON3' -c '
import json, sys
r = json.load(sys.stdin)[\"resources\"]
assert [x[\"type\"] for x in r] == [\"eip\", \"secondary_ip\", \"route\"], r
assert all(x[\"owner\"] == \"self\" for x in r), r
'"
check "status_text_lists_every_item" sh -c "'$EIPFLOATD' status --runtime-dir '$T/run-b' | grep -q '$SECIP'"

# --- one item fails for good during the takeover: the group is retried -----
emu_fault "{\"action\": \"AssignPrivateIpAddresses\", \"instance\": \"$IB\", \"code\": \"InvalidParameterValue\", \"message\": \"injected\", \"count\": 1}"
seq=$(emu_seq)
stop_node a KILL
check "failed_item_named_in_the_log" wait_for 10 grep -q -E \
	"assign $SECIP to $ENI_B: InvalidParameterValue: injected" "$T/b.log"
check "group_retried_to_the_whole_group_on_node_b" wait_for 30 all_on b
check "node_b_active_after_the_retry" wait_state b ACTIVE 10
check "the_retry_assigned_again" emu_ge "len(calls(action='AssignPrivateIpAddresses', since=$seq))" 2
check "client_reaches_all_on_node_b" wait_for 5 client_all node-b
run_node a "$T/e2e.conf"
check "restarted_node_a_standby" wait_state a STANDBY 15
only_b() { host_only b "$SECIP" && host_only b "$OVERLAY"; }
check "restarted_node_a_holds_no_address" wait_for 5 only_b

# --- a reload drops the secondary IP: it leaves the host, the rest stays ---
INTERVAL=100 TIMEOUT=1000 STARTUP=1000 MONITOR=1000 \
	RESOURCES="$_eip, $ROUTE_RES" write_conf "$T/e2e.conf"
kill -HUP "$(pid_of b)"
check "reload_logged" wait_for 5 grep -q 'reloaded .*resource layer rebuilt' "$T/b.log"
check "reload_takes_the_dropped_address_off_the_host" wait_for 5 \
	sh -c "! ip -n $NS_B -4 addr show | grep -q 'inet $SECIP/'"
check "reload_keeps_the_overlay_address" host_has b "$OVERLAY"
check "reload_node_b_still_active" stays_state b ACTIVE 2
check "every_ec2_request_validly_signed" emu_all_signed
finish
