#!/bin/sh
# test_e2e_route.sh - a route-table entry floats an overlay IP across AZs:
# ReplaceRoute (CreateRoute where the table has no such route) in both
# tables to the ACTIVE node's interface, the address on exactly the ACTIVE
# node's host, and a client's TCP connection through the API namespace's
# router to whichever node the tables name. Cold start, kill -9, no
# failback, SIGTERM hand-over, partition and heal, a read lag after the
# write, the source/destination check warning, an unknown route table.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
. "$top_srcdir/tests/e2e/dataplane.sh"
. "$top_srcdir/tests/e2e/private.sh"
netns_require
have_nft || skip_all "needs nft for the data plane"
topo_up
SDC_B=true private_world same
emu_start none
DP_ROUTES=1 dp_start 0
check "web_service_node_a" web_start a
check "web_service_node_b" web_start b
URL=http://$OVERLAY/
route_on() { # route_on a|b: both tables point at the node
	_who=$IA
	[ "$1" = b ] && _who=$IB
	emu_is "route('$RTB1', '$OVERLAY/32')" "$_who" &&
		emu_is "route('$RTB2', '$OVERLAY/32')" "$_who"
}

INTERVAL=100 TIMEOUT=1000 STARTUP=1000 MONITOR=1000 RESOURCES=$ROUTE_RES \
	write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"

# --- cold start -----------------------------------------------------------
check "cold_start_node_a_active" wait_state a ACTIVE 15
check "cold_start_node_b_standby" wait_state b STANDBY 10
check "cold_start_both_tables_route_to_node_a" wait_for 5 route_on a
check "cold_start_create_route_where_missing" \
	emu_is "[c['params']['RouteTableId'] for c in calls(action='CreateRoute') if c['status'] == 200]" "[\"$RTB1\"]"
check "cold_start_replace_route_where_present" \
	emu_is "'$RTB2' in [c['params']['RouteTableId'] for c in calls(action='ReplaceRoute') if c['status'] == 200]" true
check "cold_start_address_only_on_node_a" wait_for 5 host_only a "$OVERLAY"
check "cold_start_client_reaches_node_a" wait_for 5 client_sees node-a "$URL"
check "source_dest_check_warning_names_the_fix" grep_log "$T/b.log" \
	"$ENI_B has its source/destination check enabled.*--no-source-dest-check"
check "source_dest_check_disabled_is_fine" grep_log "$T/a.log" \
	"$ENI_A has its source/destination check disabled"
st=$(dump_state a)
check "dump_shows_the_route_and_its_owner" has_line "$st" \
	"^resource 0 route $OVERLAY/32: owner self \\($IA\\).*on the host"
check "selftest_dry_run_allowed" has_line "$st" \
	'^resource 0 permission: ok: (Replace|Create)Route .*allowed \(DryRun\)'

# --- kill -9 of the ACTIVE ------------------------------------------------
seq=$(emu_seq)
stop_node a KILL
check "kill9_node_b_takes_over" wait_state b ACTIVE 10
check "kill9_tables_route_to_node_b" wait_for 5 route_on b
check "kill9_client_reaches_node_b" wait_for 5 client_sees node-b "$URL"
check "kill9_address_on_node_b" host_has b "$OVERLAY"
check "kill9_two_writes_one_per_table" [ "$(writes_since "$seq")" -eq 2 ]

# --- the old ACTIVE restarted: its stale address goes, no failback --------
seq=$(emu_seq)
run_node a "$T/e2e.conf"
check "restart_node_a_standby" wait_state a STANDBY 15
check "restart_removes_the_stale_host_address" wait_for 5 host_only b "$OVERLAY"
check "restart_no_failback" stays_state a STANDBY 3
check "restart_zero_writes" [ "$(writes_since "$seq")" -eq 0 ]
check "restart_client_still_on_node_b" client_sees node-b "$URL"

# --- SIGTERM of the ACTIVE: hand-over, its address leaves with it ----------
seq=$(emu_seq)
stop_node b TERM
check "sigterm_node_a_takes_over" wait_state a ACTIVE 10
check "sigterm_tables_route_to_node_a" wait_for 5 route_on a
check "sigterm_address_only_on_node_a" wait_for 5 host_only a "$OVERLAY"
check "sigterm_client_reaches_node_a" wait_for 5 client_sees node-a "$URL"
check "sigterm_leaving_node_wrote_nothing" \
	emu_is "sorted(set(c['instance'] for c in writes($seq)))" "[\"$IA\"]"
run_node b "$T/e2e.conf"
check "node_b_back_standby" wait_state b STANDBY 15

# --- partition: both links cut, EC2 arbitrates; heal: one ACTIVE ----------
cut_link 0
cut_link 1
check "partition_node_b_takes_over" wait_state b ACTIVE 10
check "partition_node_a_steps_down" wait_state a STANDBY 10
check "partition_tables_route_to_node_b" wait_for 5 route_on b
check "partition_address_only_on_node_b" wait_for 5 host_only b "$OVERLAY"
heal_link 0
heal_link 1
seq=$(emu_seq)
check "heal_node_b_stays_active" stays_state b ACTIVE 3
check "heal_node_a_stays_standby" state_is a STANDBY
check "heal_no_tug_of_war" [ "$(writes_since "$seq")" -eq 0 ]
check "heal_client_reaches_node_b" client_sees node-b "$URL"

# --- a read lag after the write: stale reads are read again, not acted on --
emu post /_emu/set '{"read_lag_ms": 4000}' >/dev/null
seq=$(emu_seq)
stop_node b TERM
check "lag_node_a_takes_over" wait_state a ACTIVE 10
check "lag_node_a_stays_active_through_stale_reads" stays_state a ACTIVE 6
check "lag_one_write_per_table" [ "$(writes_since "$seq")" -eq 2 ]
check "lag_stale_reads_logged" grep_log "$T/a.log" \
	"resource $OVERLAY/32: the read shows $ENI_B: stale"
check "lag_client_reaches_node_a" client_sees node-a "$URL"
emu post /_emu/set '{"read_lag_ms": 0}' >/dev/null

# --- an unknown route table: a clear error, retried, nothing moved --------
stop_node a TERM
seq=$(emu_seq)
RESOURCES="{ type = \"route\"; destination = \"$OVERLAY/32\";
    route_tables = [ \"rtb-0e2e00000000000ff\" ]; }" write_conf "$T/bad.conf"
run_node a "$T/bad.conf"
check "unknown_table_clear_error" wait_for 10 grep -q -E \
	"AWS set-up: resolving resources: .*InvalidRouteTableID.NotFound: The routeTable ID 'rtb-0e2e00000000000ff' does not exist" "$T/a.log"
check "unknown_table_takeover_waits" wait_for 10 grep -q -E \
	'takeover waits for the AWS set-up \(resolving resources\)' "$T/a.log"
check "unknown_table_moves_nothing" [ "$(writes_since "$seq")" -eq 0 ]

check "every_ec2_request_validly_signed" emu_all_signed
finish
