#!/bin/sh
# test_e2e_stale.sh - EC2's eventually consistent reads (issue 10, "the
# write is the commit"). DescribeAddresses lags the writes by 3 s (the
# emulator's read_lag_ms), later shows no association for 3 s after each
# change (empty_read_ms). Each failover must cost exactly one
# AssociateAddress (one remap at the emulator) and the new ACTIVE must never
# leave ACTIVE (its standby hook never runs), whether the old ACTIVE died
# (kill -9) or is alive and STANDBY (failback: it yielded).
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start none

cat >"$T/hook" <<EOF
#!/bin/sh
echo "\$EIPFLOATD_NODE \$EIPFLOATD_OLD_STATE \$EIPFLOATD_STATE" >>"$T/hooks.log"
EOF
chmod 755 "$T/hook"
: >"$T/hooks.log"
INTERVAL=100 TIMEOUT=1000 STARTUP=1500 MONITOR=1000 FAILBACK=true \
	FAILBACK_DELAY=2000 write_conf "$T/e2e.conf"
echo "hooks = { active = \"$T/hook\"; standby = \"$T/hook\"; fault = \"$T/hook\"; };" \
	>>"$T/e2e.conf"

remaps() { emu eval "remaps('$ALLOC')"; }
hook_lines() { wc -l <"$T/hooks.log"; }
# hooks_since N NODE: NODE's hook runs after the first N lines ("OLD NEW").
hooks_since() { tail -n "+$(($1 + 1))" "$T/hooks.log" | sed -n "s/^$2 //p" | tr '\n' ' '; }
log_lines() { wc -l <"$T/$1.log"; }
# log_since N NODE: NODE's log after its first N lines.
log_since() { tail -n "+$(($1 + 1))" "$T/$2.log" | grep -v ' dump: '; }

run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "cold_start_node_a_active" wait_state a ACTIVE 15
check "cold_start_node_b_standby" wait_state b STANDBY 10
check "cold_start_eip_on_node_a" wait_for 10 owner_is a
sleep 1

# --- kill -9 of the ACTIVE while reads lag 3 s ---------------------------
emu post /_emu/set '{"read_lag_ms": 3000}' >/dev/null
seq=$(emu_seq)
r0=$(remaps)
h0=$(hook_lines)
l0=$(log_lines b)
stop_node a KILL
check "lag_kill9_node_b_takes_over" wait_state b ACTIVE 15
check "lag_kill9_eip_moves_to_node_b" wait_for 10 owner_is b
check "lag_kill9_node_b_stays_active_through_the_lag" stays_state b ACTIVE 8
check "lag_kill9_exactly_one_write" [ "$(writes_since "$seq")" -eq 1 ]
check "lag_kill9_exactly_one_remap" [ "$(($(remaps) - r0))" -eq 1 ]
check "lag_kill9_node_b_only_hook_is_active" \
	[ "$(hooks_since "$h0" node-b)" = "STANDBY ACTIVE " ]
check "lag_kill9_no_flap_in_the_log" \
	sh -c "! printf '%s\n' \"\$1\" | grep -E -q 'ACTIVE -> (STANDBY|FAULT):'" _ \
	"$(log_since "$l0" b)"
check "lag_kill9_stale_read_was_seen_and_read_again" \
	has_line "$(log_since "$l0" b)" 'stale \(it predates our AssociateAddress\)'
check "lag_kill9_dump_shows_our_association_settled" \
	has_line "$(dump_state b)" '^resource 0 eip .*association eipassoc-[0-9a-f]+ \(ours, .*settled\)'

# --- failback: the peer alive and STANDBY (it yielded), reads lag 3 s ----
seq=$(emu_seq)
r0=$(remaps)
h0=$(hook_lines)
l0=$(log_lines a)
run_node a "$T/e2e.conf"
check "failback_node_a_joins_standby" wait_state a STANDBY 10
check "failback_node_a_takes_the_eip_back" wait_state a ACTIVE 15
check "failback_eip_on_node_a" wait_for 10 owner_is a
check "failback_node_a_stays_active_through_the_lag" stays_state a ACTIVE 8
check "failback_node_b_stays_standby" state_is b STANDBY
check "failback_exactly_one_write" [ "$(writes_since "$seq")" -eq 1 ]
check "failback_exactly_one_remap" [ "$(($(remaps) - r0))" -eq 1 ]
check "failback_node_a_hooks_standby_then_active" \
	[ "$(hooks_since "$h0" node-a)" = "STARTING STANDBY STANDBY ACTIVE " ]
check "failback_node_a_no_fault" \
	sh -c "! printf '%s\n' \"\$1\" | grep -E -q 'ACTIVE -> (STANDBY|FAULT):'" _ \
	"$(log_since "$l0" a)"
check "failback_stale_read_was_seen" \
	has_line "$(log_since "$l0" a)" 'stale \(it predates our AssociateAddress\)'

# --- kill -9 while reads show no association for 3 s after a change ------
emu post /_emu/set '{"read_lag_ms": 0, "empty_read_ms": 3000}' >/dev/null
seq=$(emu_seq)
r0=$(remaps)
h0=$(hook_lines)
l0=$(log_lines b)
stop_node a KILL
check "empty_kill9_node_b_takes_over" wait_state b ACTIVE 15
check "empty_kill9_eip_moves_to_node_b" wait_for 10 owner_is b
check "empty_kill9_node_b_stays_active" stays_state b ACTIVE 8
check "empty_kill9_exactly_one_write" [ "$(writes_since "$seq")" -eq 1 ]
check "empty_kill9_exactly_one_remap" [ "$(($(remaps) - r0))" -eq 1 ]
check "empty_kill9_node_b_only_hook_is_active" \
	[ "$(hooks_since "$h0" node-b)" = "STANDBY ACTIVE " ]
check "empty_kill9_stale_empty_read_was_seen" \
	has_line "$(log_since "$l0" b)" 'shows no association: stale'

check "every_ec2_request_validly_signed" emu_all_signed
finish
