#!/bin/sh
# test_e2e_health.sh - the health check: a failing check on the ACTIVE hands
# the EIP over; a healthy node again does not take it back (no failback);
# an unhealthy STANDBY never takes over, even from a dead peer, until its
# check passes again.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start none

# One configuration for both; the check fails on a node while
# $T/sick-<node> exists (the check's environment names the node, so one
# configuration serves both).
CHECK="test ! -e $T/sick-\$EIPFLOATD_NODE" write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "healthy_node_a_active" wait_state a ACTIVE 15
check "healthy_node_b_standby" wait_state b STANDBY 10
check "healthy_eip_on_node_a" wait_for 10 owner_is a

# The ACTIVE turns unhealthy: hand-over.
seq=$(emu_seq)
touch "$T/sick-node-a"
check "sick_active_hands_over" wait_state b ACTIVE 10
check "sick_active_eip_moves_to_node_b" wait_for 10 owner_is b
sa=$(node_state a)
not_active() { [ "$sa" = STANDBY ] || [ "$sa" = FAULT ]; }
check "sick_node_a_leaves_active" not_active
check "sick_health_change_logged" grep_log "$T/a.log" 'health: .*unhealthy'
check "sick_hand_over_one_write" [ "$(writes_since "$seq")" -eq 1 ]

# Healthy again: no failback by default.
seq=$(emu_seq)
rm -f "$T/sick-node-a"
check "recovered_node_a_standby" wait_state a STANDBY 10
check "recovered_no_failback" stays_state b ACTIVE 3
check "recovered_zero_writes" [ "$(writes_since "$seq")" -eq 0 ]

# An unhealthy STANDBY does not take over from a dead peer...
touch "$T/sick-node-a"
sleep 1
seq=$(emu_seq)
stop_node b KILL
check "sick_standby_never_takes_over" never_state a ACTIVE 3
check "sick_standby_zero_writes" [ "$(writes_since "$seq")" -eq 0 ]
# ...until its check passes again.
rm -f "$T/sick-node-a"
check "healed_standby_takes_over_from_dead_peer" wait_state a ACTIVE 10
check "healed_standby_eip_on_node_a" wait_for 10 owner_is a

check "every_ec2_request_validly_signed" emu_all_signed
finish
