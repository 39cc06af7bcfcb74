#!/bin/sh
# test_twonode.sh - two real daemons on loopback (127.0.0.1 / 127.0.0.2,
# two links each) with the test-only file resource: exactly one ACTIVE,
# kill -9 of the ACTIVE -> takeover after the timeout, the old ACTIVE
# restarted -> no failback, SIGTERM -> takeover without waiting for the
# timeout, hooks run with their environment, garbage and forged packets
# from a third address -> counted, no state change. Runs without root.
. "${top_srcdir:-.}/tests/lib.sh"

make_key "$T/authkey"
base=$((21000 + $$ % 20000))
for r in active standby fault; do
	cat >"$T/hook-$r" <<HOOK
#!/bin/sh
echo "\$EIPFLOATD_NODE \$EIPFLOATD_OLD_STATE->\$EIPFLOATD_STATE term=\$EIPFLOATD_TERM peer=\$EIPFLOATD_PEER reason=\$EIPFLOATD_REASON" >>"$T/hooks.log"
HOOK
	chmod 755 "$T/hook-$r"
done
cat >"$T/c.conf" <<CONF
cluster = { name = "twonode"; authkey = "$T/authkey"; };
nodes = (
  { name = "node-a"; addresses = [ "127.0.0.1", "127.0.1.1" ]; priority = 100;
    instance_id = "i-0000000000000000a"; },
  { name = "node-b"; addresses = [ "127.0.0.2", "127.0.1.2" ]; priority = 50;
    instance_id = "i-0000000000000000b"; }
);
heartbeat = { interval_ms = 100; timeout_ms = 2000; ports = [ $base, $((base + 1)) ]; };
election = { startup_wait_ms = 1000; };
monitor = { interval_ms = 1000; };
resources = ( { type = "file"; path = "$T/owner"; } );
hooks = { active = "$T/hook-active"; standby = "$T/hook-standby";
          fault = "$T/hook-fault"; timeout_ms = 5000; };
aws = { endpoint = "http://127.0.0.1:9"; imds_endpoint = "http://127.0.0.1:9"; };
CONF

start() { # start NODE (the log of an earlier run is kept as NODE.log.old)
	[ -e "$T/$1.log" ] && mv "$T/$1.log" "$T/$1.log.old"
	# EIPFLOATD_WRAPPER: a command to run the daemon under (valgrind).
	${EIPFLOATD_WRAPPER:-} "$EIPFLOATD" -c "$T/c.conf" -n "node-$1" \
		--runtime-dir "$T/run-$1" --state-dir "$T/state-$1" -l info \
		2>"$T/$1.log" &
	eval "pid_$1=$!"
	track $!
	# SIGUSR1 before the handlers are set would kill it: wait for them.
	wait_for 10 grep -q 'STARTING: waiting' "$T/$1.log"
}
state_of() { # state_of NODE -> prints the role from a fresh dump
	rm -f "$T/run-$1/state"
	eval "kill -USR1 \$pid_$1" 2>/dev/null || return 1
	wait_for 5 test -s "$T/run-$1/state" || return 1
	sed -n 's/^state: //p' "$T/run-$1/state"
}
is_state() { [ "$(state_of "$1")" = "$2" ]; }
owner() { cat "$T/owner" 2>/dev/null; }

start a
start b
check "cold_start_a_active" wait_for 10 is_state a ACTIVE
check "cold_start_b_standby" wait_for 10 is_state b STANDBY
check "cold_start_owner_is_a" [ "$(owner)" = node-a ]
check "active_hook_ran_with_env" wait_for 5 grep -q 'node-a STARTING->ACTIVE term=1 peer=node-b' "$T/hooks.log"
check "standby_hook_ran" wait_for 5 grep -q 'node-b STARTING->STANDBY' "$T/hooks.log"

# Garbage and forged packets from a third address: counted, ignored.
"$PYTHON3" - "$base" <<'PY'
import os, socket, sys
base = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.9", 0))
for i in range(50):
    for port in (base, base + 1):
        s.sendto(os.urandom(1 + i * 7 % 400), ("127.0.0.1", port))
        s.sendto(b"EIPF" + os.urandom(188), ("127.0.0.2", port))
PY
sleep 1
check "garbage_leaves_a_active" is_state a ACTIVE
check "garbage_leaves_b_standby" is_state b STANDBY
check "garbage_counted_as_rejected" grep -q 'wrong-source' "$T/run-a/state"

# kill -9 of the ACTIVE: takeover only after the timeout.
t0=$(date +%s%N)
kill -9 $pid_a
check "kill9_b_takes_over" wait_for 10 sh -c "[ \"\$(cat '$T/owner')\" = node-b ]"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "# takeover after kill -9 took $ms ms (timeout 2000 ms)"
check "kill9_takeover_waits_for_timeout" [ "$ms" -ge 1900 ]
check "kill9_b_active" is_state b ACTIVE
check "kill9_reason_logged" grep_log "$T/b.log" 'STANDBY -> ACTIVE: peer node-a silent on all links for (19|20)[0-9][0-9] ms'

# Restart the old ACTIVE (higher priority): no failback.
start a
check "restart_a_standby" wait_for 10 is_state a STANDBY
sleep 2
check "restart_no_failback_b_still_active" is_state b ACTIVE
check "restart_owner_still_b" [ "$(owner)" = node-b ]

# SIGTERM of the ACTIVE: LEAVE, the peer takes over before the timeout.
t0=$(date +%s%N)
kill -TERM $pid_b
check "sigterm_a_takes_over" wait_for 10 sh -c "[ \"\$(cat '$T/owner')\" = node-a ]"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "# takeover after SIGTERM took $ms ms (timeout 2000 ms)"
check "sigterm_takeover_before_timeout" [ "$ms" -lt 1500 ]
wait $pid_b; rc=$?
check "sigterm_exit_0" [ "$rc" -eq 0 ]
check "sigterm_standby_hook_ran" grep -q 'node-b ACTIVE->STANDBY' "$T/hooks.log"
check "leave_logged" grep_log "$T/a.log" 'STANDBY -> ACTIVE: peer node-b left'
check "exactly_one_active_at_the_end" is_state a ACTIVE

kill -TERM $pid_a; wait $pid_a
finish
