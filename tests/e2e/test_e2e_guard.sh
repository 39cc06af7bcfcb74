#!/bin/sh
# test_e2e_guard.sh - the partition guard's way out (issue 11): node-a,
# guarded STANDBY after node-b took the EIP in a partition, asks EC2 about
# the instance holding it (DescribeInstanceStatus) at every monitor run.
# While that instance runs, node-a stays put; once node-b dies and its
# instance is stopped with the EIP still on it, node-a takes over: one
# more write, and the log says why.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start a

INTERVAL=100 TIMEOUT=500 MONITOR=1000 write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "start_node_a_active" wait_state a ACTIVE 15
check "start_node_b_standby" wait_state b STANDBY 10

seq=$(emu_seq)
cut_link 0
cut_link 1
check "partition_node_b_takes_over" wait_state b ACTIVE 10
check "partition_node_a_guarded" wait_state a STANDBY 10
check "partition_guard_in_dump" has_line "$(dump_state a)" '^guarded: yes'
check "guarded_node_asks_about_the_holder" wait_for 10 \
	emu_ge "len(calls(action='DescribeInstanceStatus', since=$seq))" 1
check "holder_running_guard_stays" stays_state a STANDBY 3
check "holder_running_one_write" [ "$(writes_since "$seq")" -eq 1 ]

# node-b's instance stops with the EIP still associated (EC2 keeps an
# EIP on a stopped VPC instance).
stop_node b KILL
emu post /_emu/set "{\"instance_state\": {\"$IB\": {\"state\": \"stopped\"}}}" >/dev/null
check "holder_stopped_node_a_takes_over" wait_state a ACTIVE 10
check "holder_stopped_eip_back_on_node_a" wait_for 10 owner_is a
check "holder_stopped_two_writes_in_all" [ "$(writes_since "$seq")" -eq 2 ]
check "holder_stopped_logged" grep_log "$T/a.log" \
	"cannot be serving \\($IB is stopped\\)"
check "holder_stopped_guard_cleared_in_state_dir" \
	grep -q '^guarded=off' "$T/state-a/state"
check "every_ec2_request_validly_signed" emu_all_signed
finish
