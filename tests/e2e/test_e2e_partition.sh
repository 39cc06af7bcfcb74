#!/bin/sh
# test_e2e_partition.sh - heartbeat links cut while the EC2 API still
# answers: one link cut is no failover; both links cut is a takeover by the
# standby, the old ACTIVE steps down at its next monitor run (EC2 is the
# arbiter) into guarded STANDBY, which a restart during the partition
# keeps (the state directory), and after healing there is exactly one ACTIVE and no further
# API write (no tug of war).
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start a

INTERVAL=100 TIMEOUT=500 MONITOR=1000 write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"

# The EIP is already on node a: it becomes ACTIVE without any write.
check "eip_already_home_node_a_active" wait_state a ACTIVE 15
check "eip_already_home_node_b_standby" wait_state b STANDBY 10
sleep 1
check "eip_already_home_zero_api_writes" [ "$(writes_since 0)" -eq 0 ]
check "monitor_runs_describe_addresses" wait_for 5 \
	emu_ge "len(calls(action='DescribeAddresses'))" 2

# --- one heartbeat link cut: no failover ----------------------------------
cut_link 0
check "one_link_cut_node_b_stays_standby" stays_state b STANDBY 3
check "one_link_cut_node_a_stays_active" state_is a ACTIVE
st=$(dump_state b)
check "one_link_cut_dump_link_0_down" has_line "$st" '^link 0 .*: dead'
check "one_link_cut_dump_link_1_up" has_line "$st" '^link 1 .*: alive'
check "one_link_cut_logged" grep_log "$T/b.log" 'link 0 .*down'
check "one_link_cut_zero_api_writes" [ "$(writes_since 0)" -eq 0 ]
heal_link 0
check "link_0_heals" wait_for 5 sh -c "grep -q -E 'link 0 .*up' '$T/b.log'"

# --- both links cut, the API still answers --------------------------------
seq=$(emu_seq)
cut_link 0
cut_link 1
check "partition_standby_takes_over" wait_state b ACTIVE 10
check "partition_eip_moves_to_node_b" wait_for 10 owner_is b
check "partition_old_active_steps_down_at_monitor" wait_state a STANDBY 5
check "partition_step_down_logged_with_reason" grep_log "$T/a.log" \
	'ACTIVE -> STANDBY: .*node-b.*guarded'
check "partition_step_down_without_api_write" \
	emu_is "[c['instance'] for c in writes($seq)]" "[\"$IB\"]"
check "partition_guarded_standby_does_not_take_back" stays_state a STANDBY 4
check "partition_node_b_still_active" state_is b ACTIVE
check "partition_one_write_only" [ "$(writes_since "$seq")" -eq 1 ]
st=$(dump_state a)
check "partition_dump_says_guarded" has_line "$st" '^guarded: yes'
check "partition_guard_saved_in_state_dir" grep -q '^guarded=on' "$T/state-a/state"

# --- node-a restarted during the partition: the guard holds ----------------
stop_node a TERM
run_node a "$T/e2e.conf"
check "restarted_guarded_node_stays_standby" wait_state a STANDBY 10
check "restarted_guarded_node_does_not_take_back" stays_state a STANDBY 4
check "restarted_guard_logged" grep_log "$T/a.log" 'guarded STANDBY kept across the restart'
check "restarted_still_one_write" [ "$(writes_since "$seq")" -eq 1 ]

# --- heal: exactly one ACTIVE, no further writes ---------------------------
heal_link 0
heal_link 1
sleep 3
sa=$(node_state a)
sb=$(node_state b)
echo "# after healing: node-a $sa, node-b $sb, EIP on $(emu_owner)"
check "healed_exactly_one_active" sh -c "[ '$sa $sb' = 'STANDBY ACTIVE' ] || [ '$sa $sb' = 'ACTIVE STANDBY' ]"
active_holds_eip() { if [ "$sa" = ACTIVE ]; then owner_is a; else owner_is b; fi; }
check "healed_active_holds_the_eip" active_holds_eip
check "healed_no_further_writes" [ "$(writes_since "$seq")" -eq 1 ]
check "healed_stays_put" stays_state b "$sb" 2
check "healed_no_writes_later" [ "$(writes_since "$seq")" -eq 1 ]
check "healed_guard_cleared_in_state_dir" grep -q '^guarded=off' "$T/state-a/state"

check "every_ec2_request_validly_signed" emu_all_signed
finish
