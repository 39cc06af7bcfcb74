#!/bin/sh
# test_e2e_failover.sh - two real daemons in network namespaces with role
# credentials from the emulator's IMDS: cold start, kill -9 of the ACTIVE,
# the old ACTIVE restarted (no failback), SIGTERM of the ACTIVE.
# A 2 s timeout makes "takeover after the timeout" and "well before the
# timeout" measurable apart.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start none

INTERVAL=100 TIMEOUT=2000 STARTUP=1500 write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"

# --- cold start: the higher priority takes the unassociated EIP, once -----
check "cold_start_node_a_becomes_active" wait_state a ACTIVE 15
check "cold_start_node_b_becomes_standby" wait_state b STANDBY 10
check "cold_start_eip_on_node_a" owner_is a
sleep 2
check "cold_start_exactly_one_associate_address" \
	[ "$(emu_count AssociateAddress)" -eq 1 ]
check "cold_start_no_disassociate" [ "$(emu_count DisassociateAddress)" -eq 0 ]
check "cold_start_associate_names_node_a_instance" \
	emu_is "calls(action='AssociateAddress')[0]['params'].get('InstanceId')" "$IA"
check "role_credentials_from_imds_sign_every_call" \
	emu_is "all(c['access_key_id'].startswith('ASIA') and c['instance'] for c in calls())" true
st=$(dump_state b)
check "standby_dump_names_peer" has_line "$st" '^peer: .*node-a'
check "standby_dump_link_0_up" has_line "$st" '^link 0 .*: alive'
check "standby_dump_link_1_up" has_line "$st" '^link 1 .*: alive'
term_a=$(state_term a)

# --- kill -9 of the ACTIVE: takeover once the timeout has passed ----------
seq=$(emu_seq)
t0=$(now_s)
stop_node a KILL
check "kill9_standby_takes_over" wait_state b ACTIVE 15
check "kill9_eip_moves_to_node_b" wait_for 10 owner_is b
d=$(assoc_delay "$seq" "$t0")
echo "# kill -9 -> AssociateAddress at the emulator: $d s (timeout 2 s)"
check "kill9_takeover_not_before_timeout" le 1.8 "$d"
check "kill9_takeover_within_timeout_plus_2s" le "$d" 4.0
check "kill9_exactly_one_associate" [ "$(writes_since "$seq")" -eq 1 ]
check "kill9_log_says_why" grep_log "$T/b.log" \
	'STANDBY -> ACTIVE: .*node-a.*silent'
check "kill9_takeover_raises_the_term" gt "$(state_term b)" "$term_a"

# --- the old ACTIVE comes back: STANDBY, no failback, no API write --------
seq=$(emu_seq)
run_node a "$T/e2e.conf"
check "restarted_node_a_settles_standby" wait_state a STANDBY 15
check "restarted_node_a_stays_standby" stays_state a STANDBY 3
check "restart_node_b_stays_active" state_is b ACTIVE
check "restart_zero_api_writes" [ "$(writes_since "$seq")" -eq 0 ]
check "restart_eip_stays_on_node_b" owner_is b

# --- SIGTERM of the ACTIVE: LEAVE, takeover well before the timeout -------
seq=$(emu_seq)
t0=$(now_s)
stop_node b TERM
check "sigterm_exits_0" [ "$NODE_RC" -eq 0 ]
check "sigterm_peer_takes_over" wait_state a ACTIVE 10
check "sigterm_eip_moves_to_node_a" wait_for 10 owner_is a
d=$(assoc_delay "$seq" "$t0")
echo "# SIGTERM -> AssociateAddress at the emulator: $d s (timeout 2 s)"
check "sigterm_takeover_well_before_timeout" le "$d" 1.0
check "sigterm_leaving_node_does_not_touch_eip" \
	emu_is "[c['instance'] for c in writes($seq)]" "[\"$IA\"]"
check "sigterm_log_names_leave" grep_log "$T/a.log" 'STANDBY -> ACTIVE: .*(left|leave|LEAVE)'

check "every_ec2_request_validly_signed" emu_all_signed
finish
