#!/bin/sh
# test_e2e_secip.sh - a secondary private IP floats between two nodes in
# one subnet: AssignPrivateIpAddresses (AllowReassignment) to the ACTIVE
# node's interface, the address on exactly the ACTIVE node's host (with a
# gratuitous ARP), IMDS local-ipv4s following, and a client's TCP
# connection reaching whichever node holds it. Cold start, kill -9, no
# failback, SIGTERM hand-over, partition and heal, a read lag after the
# write, the address removed by hand; then nodes in two subnets: a clear
# warning as soon as the peer's interface is known.
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
URL=http://$SECIP/
held_by() { # held_by a|b
	_who=$IA
	[ "$1" = b ] && _who=$IB
	emu_is "secondary('$SECIP')" "$_who"
}

INTERVAL=100 TIMEOUT=1000 STARTUP=1000 MONITOR=1000 RESOURCES=$SECIP_RES \
	write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"

# --- cold start -----------------------------------------------------------
check "cold_start_node_a_active" wait_state a ACTIVE 15
check "cold_start_node_b_standby" wait_state b STANDBY 10
check "cold_start_assigned_to_node_a" wait_for 5 held_by a
check "cold_start_assign_allows_reassignment" \
	emu_is "calls(action='AssignPrivateIpAddresses')[0]['params'].get('AllowReassignment')" true
check "cold_start_address_only_on_node_a" wait_for 5 host_only a "$SECIP"
check "cold_start_on_the_subnets_interface" \
	sh -c "ip -n $NS_A -4 addr show dev hb0 | grep -q 'inet $SECIP/24'"
check "cold_start_imds_local_ipv4s_follow" imds_has a "$SECIP"
check "cold_start_client_reaches_node_a" wait_for 5 client_sees node-a "$URL"
check "same_subnet_no_warning" sh -c "! grep -q 'cannot move between subnets' '$T/a.log'"
check "interface_from_imds" grep_log "$T/a.log" "IMDS: primary network interface $ENI_A"
st=$(dump_state a)
check "dump_shows_the_address_and_its_owner" has_line "$st" \
	"^resource 0 secondary_ip $SECIP: owner self \\($IA\\).*on the host \\(hb0\\)"
check "selftest_dry_run_allowed" has_line "$st" \
	'^resource 0 permission: ok: AssignPrivateIpAddresses .*allowed \(DryRun\)'

# --- the address removed by hand on the ACTIVE: the monitor puts it back ---
ip -n "$NS_A" addr del "$SECIP/24" dev hb0
check "removed_by_hand_put_back_at_the_next_monitor_run" wait_for 5 host_has a "$SECIP"
check "removed_by_hand_logged" grep_log "$T/a.log" \
	"resource $SECIP: the address is gone from this host .*adding it again"

# --- kill -9 of the ACTIVE (the remap completes 1.5 s after the call) -----
emu post /_emu/set '{"remap_ms": 1500}' >/dev/null
seq=$(emu_seq)
stop_node a KILL
check "kill9_node_b_takes_over" wait_state b ACTIVE 10
check "kill9_assigned_to_node_b" wait_for 5 held_by b
check "kill9_client_reaches_node_b" wait_for 5 client_sees node-b "$URL"
check "kill9_address_on_node_b" host_has b "$SECIP"
check "kill9_imds_local_ipv4s_on_node_b" wait_for 5 imds_has b "$SECIP"
check "kill9_remap_completion_seen_in_imds" wait_for 5 grep -q -E \
	"resource $SECIP: IMDS local-ipv4s lists it (1[4-9]|[2-9])[0-9]{2,} ms after the assignment" "$T/b.log"
check "kill9_dump_shows_the_remap" has_line "$(dump_state b)" \
	"^resource 0 secondary_ip .*remap seen in IMDS after [0-9]+ ms"
emu post /_emu/set '{"remap_ms": 0}' >/dev/null
check "kill9_one_write" [ "$(writes_since "$seq")" -eq 1 ]

# --- the old ACTIVE restarted: its stale address goes, no failback --------
seq=$(emu_seq)
run_node a "$T/e2e.conf"
check "restart_node_a_standby" wait_state a STANDBY 15
check "restart_removes_the_stale_host_address" wait_for 5 host_only b "$SECIP"
check "restart_no_failback" stays_state a STANDBY 3
check "restart_zero_writes" [ "$(writes_since "$seq")" -eq 0 ]

# --- SIGTERM of the ACTIVE: hand-over, its address leaves with it ----------
seq=$(emu_seq)
stop_node b TERM
check "sigterm_node_a_takes_over" wait_state a ACTIVE 10
check "sigterm_assigned_to_node_a" wait_for 5 held_by a
check "sigterm_address_only_on_node_a" wait_for 5 host_only a "$SECIP"
check "sigterm_client_reaches_node_a" wait_for 5 client_sees node-a "$URL"
check "sigterm_leaving_node_wrote_nothing" \
	emu_is "sorted(set(c['instance'] for c in writes($seq)))" "[\"$IA\"]"
run_node b "$T/e2e.conf"
check "node_b_back_standby" wait_state b STANDBY 15

# --- partition and heal ---------------------------------------------------
cut_link 0
cut_link 1
check "partition_node_b_takes_over" wait_state b ACTIVE 10
check "partition_node_a_steps_down" wait_state a STANDBY 10
check "partition_assigned_to_node_b" wait_for 5 held_by b
check "partition_address_only_on_node_b" wait_for 5 host_only b "$SECIP"
heal_link 0
heal_link 1
seq=$(emu_seq)
check "heal_node_b_stays_active" stays_state b ACTIVE 3
check "heal_node_a_stays_standby" state_is a STANDBY
check "heal_no_tug_of_war" [ "$(writes_since "$seq")" -eq 0 ]
check "heal_client_reaches_node_b" client_sees node-b "$URL"

# --- a read lag after the write -------------------------------------------
emu post /_emu/set '{"read_lag_ms": 4000}' >/dev/null
seq=$(emu_seq)
stop_node b TERM
check "lag_node_a_takes_over" wait_state a ACTIVE 10
check "lag_node_a_stays_active_through_stale_reads" stays_state a ACTIVE 6
check "lag_one_write" [ "$(writes_since "$seq")" -eq 1 ]
check "lag_stale_reads_logged" grep_log "$T/a.log" \
	"resource $SECIP: the read shows $ENI_B: stale"
check "lag_client_reaches_node_a" client_sees node-a "$URL"
stop_node a TERM
check "stopped_node_leaves_no_address" sh -c "! ip -n $NS_A -4 addr show | grep -q 'inet $SECIP/'"

# --- nodes in two subnets: the address cannot move; said at start-up -------
kill "$EMU_PID" 2>/dev/null
wait "$EMU_PID" 2>/dev/null
private_world split 2>/dev/null
emu_start none
# Instance ids from IMDS and the heartbeats: node-a learns the peer's
# instance only from node-b's heartbeats, and checks the subnets then.
INTERVAL=100 TIMEOUT=1000 STARTUP=1000 RESOURCES=$SECIP_RES \
	write_conf "$T/split.conf"
run_node a "$T/split.conf"
run_node b "$T/split.conf"
check "two_subnets_clear_warning" wait_for 10 grep -q -E \
	"resource $SECIP: this node's $ENI_A is in $SUBNET \\(${REGION}a\\), the peer's $ENI_B in $SUBNET_B \\(${REGION}b\\): a secondary private IP cannot move between subnets" "$T/a.log"

check "every_ec2_request_validly_signed" emu_all_signed
finish
