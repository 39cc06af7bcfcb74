#!/bin/sh
# test_e2e_failback.sh - failback = true: the lower priority node holds the
# EIP alone, the higher priority node joins, and once it has been alive and
# healthy for failback_delay_ms the holder yields and it takes the EIP back.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start none

FAILBACK=true FAILBACK_DELAY=2000 write_conf "$T/e2e.conf"

# node-b (priority 50) alone: the peer is silent at the end of the wait.
run_node b "$T/e2e.conf"
check "alone_node_b_becomes_active" wait_state b ACTIVE 15
check "alone_eip_on_node_b" wait_for 10 owner_is b
check "alone_one_write" [ "$(writes_since 0)" -eq 1 ]

# node-a (priority 100) joins: STANDBY first, then takes the EIP back.
seq=$(emu_seq)
t0=$(now_s)
run_node a "$T/e2e.conf"
check "joining_node_a_waits_in_standby" wait_state a STANDBY 10
check "failback_node_a_becomes_active" wait_state a ACTIVE 15
check "failback_node_b_yields_to_standby" wait_state b STANDBY 5
check "failback_eip_on_node_a" wait_for 10 owner_is a
d=$(assoc_delay "$seq" "$t0")
echo "# node-a start -> failback AssociateAddress: $d s (failback_delay 2 s)"
check "failback_not_before_delay" le 2.0 "$d"
check "failback_within_delay_plus_5s" le "$d" 7.0
check "failback_one_write" [ "$(writes_since "$seq")" -eq 1 ]
check "failback_logged_with_reason" grep_log "$T/b.log" 'ACTIVE -> STANDBY: .*'
check "failback_stable" stays_state a ACTIVE 3
check "failback_no_tug_of_war" [ "$(writes_since "$seq")" -eq 1 ]

check "every_ec2_request_validly_signed" emu_all_signed
finish
