#!/bin/sh
# test_e2e_norole.sh - node-a's instance has no role (no credentials): as
# ACTIVE its AssociateAddress can never be signed. The acquisition deadline
# makes that a failure: after acquire_timeout_ms x migration_threshold it
# goes to FAULT and node-b, which has credentials, takes over and moves the
# EIP; node-a does not retry while node-b can hold it. Then both start at
# once with the EIP unassociated: node-a knows it has no credentials, says
# so in its heartbeats (flag 0x02), log and dump, and node-b, the lower
# priority, takes the EIP within the start-up wait plus the acquire timeout.
# A kill -9 of node-b then leaves node-a trying.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
NO_ROLE=a emu_start none

ACQUIRE_TIMEOUT=3000 MIGRATION=2 write_conf "$T/e2e.conf"

# node-a alone: it takes over after the start-up wait, and cannot sign.
run_node a "$T/e2e.conf"
check "norole_a_takes_over_alone" wait_state a ACTIVE 10
run_node b "$T/e2e.conf"
check "norole_b_standby_under_active_a" wait_state b STANDBY 10

# FAULT lasts only until node-b's first ACTIVE heartbeat: read the log.
check "norole_a_fault_after_the_deadlines" \
	wait_for 20 grep_log "$T/a.log" 'ACTIVE -> FAULT: '
# From the log's own stamps: ACTIVE at the takeover, FAULT two deadlines on.
ms_of() { grep -v ' dump: ' "$T/a.log" | grep -m1 -E "$1" |
	sed -E 's/^[0-9-]+T([0-9]+):([0-9]+):([0-9]+)\.([0-9]+) .*/\1 \2 \3 \4/' |
	awk '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + $4 }'; }
took=$(($(ms_of 'ACTIVE -> FAULT: ') - $(ms_of 'STARTING -> ACTIVE: ')))
echo "# node-a: ACTIVE -> FAULT in $took ms (2 x acquire_timeout_ms 3000)"
check "norole_fault_after_two_deadlines" test "$took" -ge 6000 -a "$took" -le 9000
check "norole_a_says_the_deadline" grep_log "$T/a.log" \
	'acquisition failed \(not done after 3000 ms, election.acquire_timeout_ms\)'
check "norole_a_counted_two_failures" grep_log "$T/a.log" \
	'2 failed acquisitions \(migration_threshold 2\)'
check "norole_b_takes_over_from_fault" wait_state b ACTIVE 10
check "norole_eip_on_node_b" wait_for 15 owner_is b
check "norole_b_logged_the_fault_takeover" grep_log "$T/b.log" \
	'STANDBY -> ACTIVE: peer node-a reports FAULT'
check "norole_a_steps_down_to_standby" wait_state a STANDBY 10
check "norole_no_write_signed_by_node_a" \
	emu_is "[c for c in writes(0) if c['instance'] == '$IA']" "[]"
check "norole_one_successful_write_by_b" \
	emu_is "[c['instance'] for c in writes(0) if c['status'] == 200]" "[\"$IB\"]"
check "norole_b_stays_active" stays_state b ACTIVE 3

# --- both at once: the node that can move the EIP gets it ---------------
stop_node a TERM
stop_node b TERM
emu post /_emu/set "{\"disassociate\": {\"allocation_id\": \"$ALLOC\"}}" >/dev/null
check "restart_eip_unassociated" owner_is none
seq=$(emu_seq)
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "restart_b_holds_the_eip_in_startup_plus_acquire_timeout" \
	wait_for 6 owner_is b
check "restart_b_active" wait_state b ACTIVE 5
check "restart_a_standby" wait_state a STANDBY 5
check "restart_a_logs_why" grep_log "$T/a.log" \
	'this node cannot use the EC2 API \(peer node-b is preferred .*\): describe .*NoCredentials'
check "restart_a_dump_says_why" sh -c \
	"grep -q '^ec2 api: cannot use it from this node: .*NoCredentials' '$T/run-a/state'"
check "restart_a_retries_without_requests_cost_no_quota" sh -c \
	"grep -q '^ec2 clock offset .*, retry quota 500/500' '$T/run-a/state'"
check "restart_a_election_line_says_it" sh -c \
	"grep -q '^election: STANDBY .*, cannot use the EC2 API' '$T/run-a/state'"
dump_state b >/dev/null
check "restart_b_hears_it_in_heartbeats" sh -c \
	"grep -q '^peer: node-a alive, .*, cannot use the EC2 API' '$T/run-b/state'"
check "restart_one_write_by_b" \
	emu_is "[c['instance'] for c in writes($seq)]" "[\"$IB\"]"
check "restart_b_stays_active" stays_state b ACTIVE 2

# node-b dies: node-a, the only one left, still tries.
stop_node b KILL
check "alone_a_takes_over_anyway" \
	wait_for 5 grep_log "$T/a.log" 'STANDBY -> ACTIVE: peer node-b silent'
check "alone_a_keeps_trying_in_fault" \
	wait_for 15 grep_log "$T/a.log" 'FAULT: retrying the acquisition \(peer node-b not alive\)'
check "alone_status_json_fault" wait_for 10 sh -c \
	"'$EIPFLOATD' status --json --runtime-dir '$T/run-a' | '$PYTHON3' -c 'import json, sys; j = json.load(sys.stdin); sys.exit(0 if j[\"state\"] == \"FAULT\" and j[\"peer\"][\"alive\"] is False else 1)'"
check "alone_status_text_fault" sh -c \
	"'$EIPFLOATD' status --runtime-dir '$T/run-a' | grep -q '^state: FAULT'"
check "alone_no_write_signed_by_node_a" \
	emu_is "[c for c in writes(0) if c['instance'] == '$IA']" "[]"

check "every_ec2_request_validly_signed" emu_all_signed
finish
