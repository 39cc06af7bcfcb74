#!/bin/sh
# test_e2e_perm.sh - the permission self-test (issue 10): each node runs
# AssociateAddress with DryRun=true to its own instance once its AWS set-up
# is done and again after a reload. node-b's role lacks ec2:AssociateAddress:
# its log and dump name the refused action and the IAM fix at start, before
# any failover needs it; after the policy is fixed a reload says allowed.
# DryRun moves nothing: no write.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start a
emu post /_emu/set "{\"denied_actions\": {\"$IB\": [\"AssociateAddress\"]}}" >/dev/null

write_conf "$T/e2e.conf"
seq=$(emu_seq)
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "start_node_a_active" wait_state a ACTIVE 15
check "start_node_b_standby" wait_state b STANDBY 10
check "denied_self_test_logged_at_start" wait_for 10 grep_log "$T/b.log" \
	"permission self-test $ALLOC: AssociateAddress to $IB \\(DryRun\\): UnauthorizedOperation: .*fix: allow ec2:AssociateAddress"
check "denied_self_test_in_dump" has_line "$(dump_state b)" \
	'^resource 0 permission: REFUSED: .*UnauthorizedOperation'
check "allowed_self_test_at_node_a" wait_for 10 grep_log "$T/a.log" \
	"permission self-test $ALLOC: AssociateAddress to $IA allowed \\(DryRun\\)"
check "allowed_self_test_in_dump" has_line "$(dump_state a)" \
	'^resource 0 permission: ok: AssociateAddress .* allowed'
check "dry_runs_reached_ec2" [ "$(emu eval "len(calls(action='AssociateAddress', since=$seq, dry=True))")" -ge 2 ]
check "dry_runs_are_no_writes" [ "$(writes_since "$seq")" -eq 0 ]
check "denied_node_says_no_api_in_heartbeats" wait_for 10 sh -c \
	"grep -q -E 'peer node-b cannot use the EC2 API' '$T/a.log'"

# The policy fixed, a reload runs the test again.
emu post /_emu/set "{\"denied_actions\": {\"$IB\": []}}" >/dev/null
l0=$(wc -l <"$T/b.log")
kill -HUP "$(pid_of b)"
check "reload_self_test_allowed" wait_for 10 sh -c "tail -n +$l0 '$T/b.log' |
	grep -q 'permission self-test $ALLOC: AssociateAddress to $IB allowed (DryRun)'"
check "reload_dump_ok" has_line "$(dump_state b)" '^resource 0 permission: ok'
check "still_no_writes" [ "$(writes_since "$seq")" -eq 0 ]
check "every_ec2_request_validly_signed" emu_all_signed
finish
