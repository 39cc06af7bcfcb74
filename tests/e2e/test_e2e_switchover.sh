#!/bin/sh
# test_e2e_switchover.sh - `eipfloatd switchover` and `eipfloatd
# maintenance` on a real pair in network namespaces: a switchover asked on
# the ACTIVE and one asked on the STANDBY each move the EIP with exactly one
# AssociateAddress, the new ACTIVE's hook runs before the old one's standby
# hook; a second switchover while one runs and a switchover to a peer in
# maintenance are refused with the reason; a STANDBY in maintenance does not
# take over after a kill -9 of the ACTIVE, keeps the flag over a restart,
# and maintenance on the ACTIVE hands over.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start none

cat >"$T/hook" <<EOF2
#!/bin/sh
echo "\$(date +%s.%N) \$EIPFLOATD_NODE \$EIPFLOATD_OLD_STATE \$EIPFLOATD_STATE" >>"$T/hooks.log"
EOF2
chmod 755 "$T/hook"
: >"$T/hooks.log"
INTERVAL=100 TIMEOUT=1000 STARTUP=1500 write_conf "$T/e2e.conf"
echo "hooks = { active = \"$T/hook\"; standby = \"$T/hook\"; };" >>"$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "pair_settles_a_active" wait_state a ACTIVE 15
check "pair_settles_b_standby" wait_state b STANDBY 10
sleep 1

ctl() { # ctl NODE ARGS...: a subcommand against the node's socket
	_n=$1; shift
	"$EIPFLOATD" "$@" --runtime-dir "$T/run-$_n"
}
json_is() { # json_is NODE PYTHON-EXPR-ON-j
	ctl "$1" status --json >"$T/$1.json" || return 1
	"$PYTHON3" -c "
import json, sys
j = json.load(open('$T/$1.json'))
sys.exit(0 if ($2) else 1)"
}
# hooks_in_order FROM_LINE "node-x STATE" "node-y STATE": both hooks ran
# after line FROM_LINE of hooks.log, the first one before the second.
hooks_in_order() {
	tail -n "+$(($1 + 1))" "$T/hooks.log" | "$PYTHON3" -c "
import sys
first = second = None
for line in sys.stdin:
    t, node, old, new = line.split()
    if first is None and '%s %s' % (node, new) == sys.argv[1]:
        first = float(t)
    if second is None and '%s %s' % (node, new) == sys.argv[2]:
        second = float(t)
sys.exit(0 if first is not None and second is not None and first <= second else 1)
" "$2" "$3"
}
hook_lines() { wc -l <"$T/hooks.log"; }
# refused NODE PATTERN ARGS...: exit 1 and the reason on stderr.
refused() {
	_n=$1 _p=$2; shift 2
	ctl "$_n" "$@" >"$T/out" 2>"$T/err"
	_rc=$?
	sed 's/^/# /' "$T/err"
	[ "$_rc" -eq 1 ] && grep -q -E -- "$_p" "$T/err"
}

# --- switchover asked on the ACTIVE (node-a) ------------------------------
seq=$(emu_seq)
h=$(hook_lines)
term_a=$(state_term a)
# The peer's AssociateAddress takes 800 ms: meanwhile node-a stays ACTIVE.
emu_fault '{"action": "AssociateAddress", "mode": "delay", "ms": 800, "count": 1}'
ctl a switchover >"$T/sw.out" &
swpid=$!
track $swpid
check "switchover_on_active_b_takes_over" wait_state b ACTIVE 10
check "switchover_a_active_during_the_api_call" state_is a ACTIVE
wait $swpid; rc=$?
sed 's/^/# /' "$T/sw.out"
check "switchover_on_active_accepted" [ "$rc" -eq 0 ]
check "switchover_waits_and_says_done" grep -q '^switchover done: node-b is ACTIVE (term 2), node-a is STANDBY' "$T/sw.out"
check "switchover_on_active_a_steps_down" wait_state a STANDBY 10
check "switchover_on_active_eip_on_b" wait_for 10 owner_is b
emu_clear_faults
sleep 1.5
check "switchover_on_active_exactly_one_write" [ "$(writes_since "$seq")" -eq 1 ]
check "switchover_on_active_hooks_b_active_then_a_standby" \
	wait_for 5 hooks_in_order "$h" "node-b ACTIVE" "node-a STANDBY"
check "switchover_on_active_raises_term" gt "$(state_term b)" "$term_a"
check "switchover_on_active_log_a" grep_log "$T/a.log" \
	'ACTIVE -> STANDBY: switchover: peer node-b is ACTIVE'
check "switchover_on_active_log_b" grep_log "$T/b.log" \
	'STANDBY -> ACTIVE: switchover: peer node-a .* asked this node to take over'

# --- switchover asked on the STANDBY (node-a), a second one while it runs -
emu_fault '{"action": "AssociateAddress", "mode": "delay", "ms": 1500, "count": 1}'
seq=$(emu_seq)
h=$(hook_lines)
check "switchover_on_standby_accepted" ctl a switchover --no-wait
check "second_switchover_while_one_runs_refused" \
	refused a 'in progress' switchover
check "second_switchover_on_old_active_refused" \
	refused b 'in progress' switchover
check "switchover_on_standby_a_active" wait_state a ACTIVE 10
check "switchover_on_standby_b_standby" wait_state b STANDBY 10
check "switchover_on_standby_eip_on_a" wait_for 10 owner_is a
sleep 1.5
check "switchover_on_standby_exactly_one_write" [ "$(writes_since "$seq")" -eq 1 ]
check "switchover_on_standby_hooks_a_active_then_b_standby" \
	wait_for 5 hooks_in_order "$h" "node-a ACTIVE" "node-b STANDBY"
emu_clear_faults

# --- maintenance on the STANDBY (node-b) ----------------------------------
check "maintenance_on_standby_accepted" ctl b maintenance on
check "maintenance_file_written" grep -q '^maintenance=on$' "$T/state-b/state"
sleep 0.5
check "json_b_maintenance" json_is b "j['maintenance'] is True and j['state'] == 'STANDBY'"
check "json_a_sees_peer_in_maintenance" json_is a "j['peer']['maintenance'] is True and j['peer']['healthy'] is True"
check "status_b_text_maintenance" sh -c "'$EIPFLOATD' status --runtime-dir '$T/run-b' | grep -q '^maintenance: yes'"
check "status_a_text_peer_in_maintenance" sh -c "'$EIPFLOATD' status --runtime-dir '$T/run-a' | grep -q '^peer: node-b .*in maintenance'"
seq=$(emu_seq)
check "switchover_to_peer_in_maintenance_refused" \
	refused a 'node-b is in maintenance' switchover
check "switchover_on_standby_in_maintenance_refused" \
	refused b 'maintenance' switchover
check "maintenance_on_active_refused_without_able_peer" \
	refused a 'nobody could take over.*--force' maintenance on
check "refusals_write_nothing" [ "$(writes_since "$seq")" -eq 0 ]
check "refusals_leave_a_active" state_is a ACTIVE

# --- kill -9 of the ACTIVE: the STANDBY in maintenance does not take over -
seq=$(emu_seq)
stop_node a KILL
check "maintenance_standby_no_takeover_after_kill9" never_state b ACTIVE 3
check "maintenance_no_write_after_kill9" [ "$(writes_since "$seq")" -eq 0 ]
check "maintenance_status_says_why" sh -c "'$EIPFLOATD' status --runtime-dir '$T/run-b' | grep -q 'in maintenance (never taking over)'"
check "maintenance_log_says_why" grep_log "$T/b.log" 'silent .*not taking over: in maintenance'

# --- the flag survives a restart ------------------------------------------
stop_node b TERM
run_node b "$T/e2e.conf"
check "maintenance_restarted_b_settles_standby" wait_state b STANDBY 10
check "maintenance_survives_restart" json_is b "j['maintenance'] is True"
check "maintenance_restart_logged" grep_log "$T/b.log" 'maintenance is on \(from '
check "maintenance_restart_no_write" [ "$(writes_since "$seq")" -eq 0 ]

# --- maintenance off, then maintenance on the ACTIVE hands over -----------
run_node a "$T/e2e.conf"
check "restarted_a_active_again" wait_state a ACTIVE 10
check "maintenance_off_accepted" ctl b maintenance off
check "maintenance_off_file" grep -q '^maintenance=off$' "$T/state-b/state"
sleep 0.5
seq=$(emu_seq)
h=$(hook_lines)
# a slow AssociateAddress keeps the hooks' order measurable
emu_fault '{"action": "AssociateAddress", "mode": "delay", "ms": 300, "count": 1}'
check "maintenance_on_active_accepted" sh -c "'$EIPFLOATD' maintenance on --runtime-dir '$T/run-a' >'$T/mo.out'"
sed 's/^/# /' "$T/mo.out"
check "maintenance_on_active_waits_for_the_swap" grep -q '^maintenance done: node-b is ACTIVE' "$T/mo.out"
check "maintenance_on_active_b_takes_over" state_is b ACTIVE
check "maintenance_on_active_a_standby" state_is a STANDBY
sleep 1.5
check "maintenance_on_active_exactly_one_write" [ "$(writes_since "$seq")" -eq 1 ]
check "maintenance_on_active_hooks_in_order" \
	wait_for 5 hooks_in_order "$h" "node-b ACTIVE" "node-a STANDBY"
check "json_a_in_maintenance_standby" json_is a "j['maintenance'] is True and j['state'] == 'STANDBY'"
check "bad_subcommand_usage" sh -c "'$EIPFLOATD' maintenance maybe --runtime-dir '$T/run-a' 2>/dev/null; [ \$? -eq 2 ]"
check "every_ec2_request_validly_signed" emu_all_signed
finish
