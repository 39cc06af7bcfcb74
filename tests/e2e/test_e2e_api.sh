#!/bin/sh
# test_e2e_api.sh - the EC2 API misbehaving: throttled, failing and dropped
# AssociateAddress calls during a takeover are retried to success; with the
# API unreachable at start-up the pair waits, then settles on the EC2 truth
# once it answers: exactly one ACTIVE holding the EIP, at most one write.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start a

write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "start_node_a_active" wait_state a ACTIVE 15
check "start_node_b_standby" wait_state b STANDBY 10

# --- throttled and failing API during the takeover --------------------------
emu_fault '[{"action": "AssociateAddress", "code": "RequestLimitExceeded", "count": 2},
	{"action": "AssociateAddress", "code": "InternalError", "count": 1},
	{"action": "AssociateAddress", "code": "Unavailable", "count": 1},
	{"action": "AssociateAddress", "mode": "drop", "count": 1}]'
seq=$(emu_seq)
stop_node a KILL
check "faulty_api_standby_takes_over" wait_state b ACTIVE 10
check "faulty_api_associate_retried_to_success" wait_for 30 owner_is b
st=$(emu eval "[c['status'] for c in calls(action='AssociateAddress', since=$seq)]")
echo "# AssociateAddress statuses during the takeover: $st"
check "faulty_api_saw_each_fault_then_200" [ "$st" = "[503, 503, 500, 503, 0, 200]" ]
check "faulty_api_retries_logged_with_backoff" grep_log "$T/b.log" \
	'associate .*(RequestLimitExceeded|InternalError|Unavailable).*retry [0-9]+/[0-9]+ in [0-9]+ ms'
check "faulty_api_success_within_10s" emu_is \
	"(lambda c: c[-1]['wall'] - c[0]['wall'] < 10)(calls(action='AssociateAddress', since=$seq))" true
sleep 2
check "faulty_api_no_more_writes_after_success" [ "$(writes_since "$seq")" -eq 6 ]
check "faulty_api_faults_used_up" emu_is "len(state()['faults'])" 0
emu_clear_faults
stop_node b TERM

# --- the API unreachable at start ---------------------------------------------
# Static keys and ids in the file this time; the API link of both nodes
# drops everything (the EC2 endpoint and IMDS alike).
cut_link api
CRED_MODE=static
write_conf "$T/static.conf"
seq=$(emu_seq)
run_node a "$T/static.conf"
run_node b "$T/static.conf"
sleep 4
sa=$(node_state a)
sb=$(node_state b)
echo "# with the API unreachable: node-a $sa, node-b $sb"
check "unreachable_daemons_keep_running" sh -c "kill -0 $NODE_PID_a && kill -0 $NODE_PID_b"
check "unreachable_no_request_reached_ec2" [ "$(emu_count '' "$seq")" -eq 0 ]
check "unreachable_logged" grep_log "$T/a.log" '(timed out|Timeout|timeout|connect)'
heal_link api
# The EIP is still on node-b from the takeover above; DESIGN.md leaves open
# who takes it when the EC2 truth is unknown at the end of the start-up
# wait, so only the outcome is checked: one ACTIVE that holds it.
settled() {
	sa=$(node_state a)
	sb=$(node_state b)
	case "$sa $sb" in
	"ACTIVE STANDBY") owner_is a ;;
	"STANDBY ACTIVE") owner_is b ;;
	*) return 1 ;;
	esac
}
check "reachable_settles_one_active_holding_the_eip" wait_for 20 settled
echo "# API back: node-a $sa, node-b $sb, EIP on $(emu_owner), $(writes_since "$seq") write(s)"
check "reachable_at_most_one_write" [ "$(writes_since "$seq")" -le 1 ]
w=$(writes_since "$seq")
sleep 3
check "reachable_stable_no_tug_of_war" settled
check "reachable_no_further_writes" [ "$(writes_since "$seq")" -eq "$w" ]
check "static_keys_used_after_restart" \
	emu_is "all(c['access_key_id'] == '$KEY' for c in calls(since=$seq))" true

check "every_ec2_request_validly_signed" emu_all_signed
finish
