#!/bin/sh
# test_daemon.sh - the daemon's lifecycle driven through the real binary:
# -t, --keygen, exit codes, the pid lock, SIGUSR1 dump, SIGHUP reload (good,
# bad, and not-live-changeable), sd_notify to a socket the test owns,
# journal-style logging, SIGTERM. One node only (the peer never answers);
# the resource is the test-only "file" type, so no AWS is involved.
. "${top_srcdir:-.}/tests/lib.sh"

make_key "$T/authkey"
write_conf() { # write_conf FILE PORT0 PRIORITY_A [RESOURCES]
	_res=${4:-"{ type = \"file\"; path = \"$T/owner\"; }"}
	cat >"$1" <<CONF
cluster = { name = "t"; authkey = "$T/authkey"; };
nodes = (
  { name = "node-a"; addresses = [ "127.0.0.1" ]; priority = $3;
    instance_id = "i-0000000000000000a"; },
  { name = "node-b"; addresses = [ "127.0.0.2" ]; priority = 50;
    instance_id = "i-0000000000000000b"; }
);
heartbeat = { interval_ms = 50; timeout_ms = 300; ports = [ $2 ]; };
election = { startup_wait_ms = 300; };
aws = { endpoint = "http://127.0.0.1:9"; imds_endpoint = "http://127.0.0.1:9"; };
resources = ( $_res );
CONF
}
port=$((20000 + $$ % 20000))
write_conf "$T/good.conf" "$port" 100

# -t
out=$("$EIPFLOATD" -t -c "$T/good.conf" -n node-a 2>&1); rc=$?
check "config_check_ok_exits_0_with_summary" [ "$rc" -eq 0 ]
check "config_check_summary_names_nodes" sh -c "echo '$out' | grep -q 'node-a.*node-b'"
printf 'cluster = { name = "t"; authkey = "%s"; };\nnodes = ( oops );\n' "$T/authkey" >"$T/bad.conf"
out=$("$EIPFLOATD" -t -c "$T/bad.conf" -n node-a 2>&1); rc=$?
check "config_check_bad_exits_78" [ "$rc" -eq 78 ]
check "config_check_bad_names_file_and_line" sh -c "echo '$out' | grep -q '$T/bad.conf:2'"
"$EIPFLOATD" -t -c "$T/missing.conf" >/dev/null 2>&1; rc=$?
check "missing_config_exits_78" [ "$rc" -eq 78 ]
# -T: every default filled in, no key bytes, and the output loads again
"$EIPFLOATD" -T -c "$T/good.conf" -n node-a >"$T/T1.conf" 2>&1; rc=$?
check "print_config_exits_0" [ "$rc" -eq 0 ]
check "print_config_fills_defaults" grep -q 'failback_delay_ms = 30000;' "$T/T1.conf"
check "print_config_shows_the_key_path" grep -q "authkey = \"$T/authkey\";" "$T/T1.conf"
check "print_config_shows_no_key_bytes" sh -c "! grep -q -a -v '^[[:print:][:space:]]*\$' '$T/T1.conf'"
"$EIPFLOATD" -T -c "$T/T1.conf" -n node-a >"$T/T2.conf" 2>&1
check "print_config_round_trips" cmp -s "$T/T1.conf" "$T/T2.conf"
"$EIPFLOATD" -T -c "$T/bad.conf" -n node-a >/dev/null 2>&1; rc=$?
check "print_config_bad_exits_78" [ "$rc" -eq 78 ]
"$EIPFLOATD" --bogus >/dev/null 2>&1; rc=$?
check "bad_option_exits_2" [ "$rc" -eq 2 ]
check "version_prints" sh -c "'$EIPFLOATD' -V | grep -q '^eipfloatd '"

# --keygen
"$EIPFLOATD" --keygen "$T/newkey" >/dev/null; rc=$?
check "keygen_writes_key" [ "$rc" -eq 0 ]
check "keygen_mode_0600" [ "$(stat -c %a "$T/newkey")" = 600 ]
check "keygen_64_bytes" [ "$(stat -c %s "$T/newkey")" -eq 64 ]
cp "$T/newkey" "$T/newkey.orig"
"$EIPFLOATD" --keygen "$T/newkey" >/dev/null 2>&1; rc=$?
check "keygen_refuses_to_overwrite" sh -c "[ $rc -ne 0 ] && cmp -s '$T/newkey' '$T/newkey.orig'"
chmod 644 "$T/newkey"
sed "s|$T/authkey|$T/newkey|" "$T/good.conf" >"$T/loose.conf"
out=$("$EIPFLOATD" -t -c "$T/loose.conf" -n node-a 2>&1); rc=$?
check "loose_authkey_refused_78" sh -c "[ $rc -eq 78 ] && echo '$out' | grep -q 'group/other'"

# A running daemon with a notify socket the test owns.
"$PYTHON3" - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(0.2)
end = time.time() + 60
with open(sys.argv[2], "a", buffering=1) as f:
    while time.time() < end:
        try:
            f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        except socket.timeout:
            pass
PY
track $!
wait_for 5 test -S "$T/notify.sock"
mkdir -p "$T/run"
echo node-b >"$T/owner" # the peer held it: node-a takes it over at start
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 \
	"$EIPFLOATD" -c "$T/good.conf" -n node-a --runtime-dir "$T/run" -l info \
	2>"$T/d.log" &
dpid=$!; track $dpid
check "sd_notify_ready_sent" wait_for 10 grep -q 'READY=1' "$T/notify.log"
check "sd_notify_watchdog_pings" wait_for 5 grep -q 'WATCHDOG=1' "$T/notify.log"
check "pid_file_written" sh -c "[ \"\$(cat '$T/run/eipfloatd.pid')\" = $dpid ]"
"$EIPFLOATD" -c "$T/good.conf" -n node-a --runtime-dir "$T/run" 2>"$T/d2.log"; rc=$?
check "second_instance_refused" sh -c "[ $rc -eq 1 ] && grep -q 'another eipfloatd (pid $dpid)' '$T/d2.log'"
check "plain_log_has_level_names" grep_log "$T/d.log" ' notice: eipfloatd .* starting'

kill -USR1 $dpid
check "sigusr1_writes_state_file" wait_for 5 test -s "$T/run/state"
check "state_dump_has_uptime_and_config" sh -c "grep -q '^uptime:' '$T/run/state' && grep -q '^config:' '$T/run/state'"
check "state_dump_goes_to_log" wait_for 5 grep_log "$T/d.log" 'dump: uptime:'
check "state_dump_has_no_secret" sh -c "! grep -q -a \"\$(head -c 16 '$T/authkey' | od -An -tx1 | tr -d ' \n')\" '$T/run/state'"
# One owner fact: once acquired, the election says "this instance" (not yet
# verified) where the resource says "self", never the answer before it
# ("on node-b's instance").
check "state_dump_owner_agrees_with_the_resource" sh -c "grep -q '^owner: EIP on this instance' '$T/run/state' && grep -q '^resource 0 .*: owner self' '$T/run/state'"

# Reload: good change applied, bad file rejected, port change refused.
write_conf "$T/good.conf.new" "$port" 120
cp "$T/good.conf.new" "$T/good.conf"
kill -HUP $dpid
check "reload_applies_priority_change" wait_for 5 grep_log "$T/d.log" 'reloaded .*priority 120'
check "sd_notify_reloading" wait_for 5 grep -q 'RELOADING=1' "$T/notify.log"
echo 'this is { not valid' >"$T/good.conf"
kill -HUP $dpid
check "reload_rejects_bad_file" wait_for 5 grep_log "$T/d.log" 'reload rejected, keeping the running configuration: .*good.conf:1'
write_conf "$T/good.conf" $((port + 1)) 120
kill -HUP $dpid
check "reload_refuses_port_change" wait_for 5 grep_log "$T/d.log" 'reload rejected.*ports'
check "daemon_survives_reloads" kill -0 $dpid

# Reload that changes the resources (issue 11): the ACTIVE takes an added
# resource at once and stops managing a removed one; the dump follows.
F1="{ type = \"file\"; path = \"$T/owner\"; }"
F2="{ type = \"file\"; path = \"$T/owner2\"; }"
rm -f "$T/owner2" # a new resource nobody holds yet
write_conf "$T/good.conf" "$port" 120 "$F1, $F2"
kill -HUP $dpid
check "reload_rebuilds_the_resource_layer" wait_for 5 grep_log "$T/d.log" 'reloaded .*resources changed: resource layer rebuilt'
check "reload_added_resource_taken_at_once" wait_for 5 grep -qx node-a "$T/owner2"
write_conf "$T/good.conf" "$port" 120 "$F2"
kill -HUP $dpid
wait_for 5 sh -c "[ \$(grep -c 'resource layer rebuilt' '$T/d.log') -ge 2 ]"
echo node-b >"$T/owner"
rm -f "$T/run/state"
kill -USR1 $dpid
wait_for 5 test -s "$T/run/state"
check "reload_removed_resource_no_longer_managed" sh -c "! grep -q '$T/owner\$' '$T/run/state' && grep -q 'owner2' '$T/run/state'"
sleep 0.5
check "reload_removed_resource_left_alone" grep -qx node-b "$T/owner"
# From a configuration without AWS to one with an EIP: SIGUSR1 used to
# crash in the dump (the AWS clients never built). EC2 is unreachable here.
write_conf "$T/good.conf" "$port" 120 "$F2, { type = \"eip\"; allocation_id = \"eipalloc-0abc1234\"; }"
kill -HUP $dpid
wait_for 5 sh -c "[ \$(grep -c 'resource layer rebuilt' '$T/d.log') -ge 3 ]"
rm -f "$T/run/state"
kill -USR1 $dpid
check "dump_after_reload_to_an_eip_works" wait_for 5 grep -q '^aws: ' "$T/run/state"
check "daemon_survives_dump_after_reload" kill -0 $dpid
write_conf "$T/good.conf" "$port" 120
kill -HUP $dpid
wait_for 5 sh -c "[ \$(grep -c 'resource layer rebuilt' '$T/d.log') -ge 4 ]"

# A SIGUSR1 or SIGHUP that arrives while the daemon is still starting (a
# script that read the pid file at once) must not kill it.
: >"$T/notify.log"
write_conf "$T/early.conf" $((port + 1)) 120
NOTIFY_SOCKET="$T/notify.sock" \
	"$EIPFLOATD" -c "$T/early.conf" -n node-a --runtime-dir "$T/run3" 2>"$T/d3.log" &
epid=$!; track $epid
i=0; pf=""
while [ -z "$pf" ] && [ $i -lt 100000 ]; do
	read -r pf <"$T/run3/eipfloatd.pid" 2>/dev/null; i=$((i + 1))
done
kill -USR1 "$pf"; kill -HUP "$pf"
sleep 1
check "early_usr1_hup_do_not_kill" kill -0 $epid
# READY=1 comes from the election once start-up is done, never from a
# reload that arrived before (systemd would think start-up had finished).
check "early_hup_sends_no_reloading" sh -c "! grep -q 'RELOADING=1' '$T/notify.log'"
check "early_hup_ready_sent_once" sh -c "[ \$(grep -c 'READY=1' '$T/notify.log') -eq 1 ]"
kill -TERM $epid; wait $epid

kill -TERM $dpid
wait $dpid; rc=$?
check "sigterm_exits_0" [ "$rc" -eq 0 ]
check "sd_notify_stopping" grep -q 'STOPPING=1' "$T/notify.log"
check "pid_file_removed" test ! -e "$T/run/eipfloatd.pid"

# Journal format: JOURNAL_STREAM naming our stderr gives <N> prefixes.
write_conf "$T/j.conf" $((port + 2)) 100
"$EIPFLOATD" -t -c "$T/j.conf" -n node-a >/dev/null 2>&1
( exec 2>"$T/j.log"
  JOURNAL_STREAM=$(stat -L -c '%d:%i' /proc/self/fd/2) \
  EIPFLOATD_JOURNAL_SOCKET=/nonexistent/journal.sock \
  exec "$EIPFLOATD" -c "$T/j.conf" -n node-a --runtime-dir "$T/run2" ) &
jpid=$!; track $jpid
check "journal_lines_have_priority_prefix" wait_for 5 grep_log "$T/j.log" '^<5>eipfloatd .* starting'
kill -TERM $jpid; wait $jpid

finish
