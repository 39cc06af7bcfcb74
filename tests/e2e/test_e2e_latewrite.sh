#!/bin/sh
# test_e2e_latewrite.sh - rule 4 with a write that lands late (issue 11):
# both nodes start partitioned and both take over with term 1; node-a's
# AssociateAddress is held 3 s by EC2, node-b's lands at once. The
# partition heals, node-a loses the equal-term contest (EC2 says node-b)
# and steps down, cancelling its request, but EC2 still applies it: the
# EIP lands on the STANDBY. node-b, the winner, verifies once the window in
# which a cancelled write can land is over (aws.timeout_ms + 1 s) and takes
# the EIP back, long before its next monitor check (60 s).
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start none

cut_link 0
cut_link 1
emu_fault "{\"action\": \"AssociateAddress\", \"instance\": \"$IA\", \"mode\": \"delay\", \"ms\": 3000, \"count\": 1}"
INTERVAL=100 TIMEOUT=500 STARTUP=1000 MONITOR=60000 AWS_TIMEOUT=5000 \
	write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"

check "partitioned_start_node_b_active" wait_state b ACTIVE 15
check "partitioned_start_eip_on_node_b" wait_for 10 owner_is b
check "partitioned_start_node_a_active_write_held" wait_state a ACTIVE 5
heal_link 0
heal_link 1
check "healed_node_a_loses_and_steps_down" wait_state a STANDBY 5
check "healed_step_down_logged" grep_log "$T/a.log" \
	'same term 1 and wins .*stepping down'
check "late_write_lands_on_the_standby" wait_for 10 owner_is a
check "winner_takes_the_eip_back" wait_for 10 owner_is b
check "winner_still_active" state_is b ACTIVE
check "loser_still_standby" state_is a STANDBY
check "three_writes_in_all" [ "$(writes_since 0)" -eq 3 ]
check "eip_stays_on_the_winner" stays_state b ACTIVE 3
check "eip_still_on_node_b" owner_is b
finish
