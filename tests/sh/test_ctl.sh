#!/bin/sh
# test_ctl.sh - the control socket and its subcommands through the real
# binary: not running, unknown subcommand, status, garbage on the socket,
# clients that connect and never read or never finish a line; the daemon
# keeps answering and sending heartbeats. One node (the peer never
# answers); the test-only "file" resource, so no AWS is involved.
. "${top_srcdir:-.}/tests/lib.sh"

make_key "$T/authkey"
port=$((20000 + ($$ + 7000) % 20000))
cat >"$T/c.conf" <<CONF
cluster = { name = "t"; authkey = "$T/authkey"; };
nodes = (
  { name = "node-a"; addresses = [ "127.0.0.1" ]; priority = 100;
    instance_id = "i-0000000000000000a"; },
  { name = "node-b"; addresses = [ "127.0.0.2" ]; priority = 50;
    instance_id = "i-0000000000000000b"; }
);
heartbeat = { interval_ms = 50; timeout_ms = 300; ports = [ $port ]; };
election = { startup_wait_ms = 300; };
aws = { endpoint = "http://127.0.0.1:9"; imds_endpoint = "http://127.0.0.1:9"; };
resources = ( { type = "file"; path = "$T/owner"; } );
metrics = { textfile = "$T/prom/eipfloatd.prom"; };
CONF
run="$T/run"
mkdir "$T/prom"

out=$("$EIPFLOATD" status --runtime-dir "$run" 2>&1); rc=$?
check "status_not_running_exits_3" [ "$rc" -eq 3 ]
check "status_not_running_says_so" sh -c "echo '$out' | grep -q 'eipfloatd is not running (no control socket at $run/ctl)'"
"$EIPFLOATD" metrics --runtime-dir "$run" >/dev/null 2>&1; rc=$?
check "metrics_not_running_exits_3" [ "$rc" -eq 3 ]
out=$("$EIPFLOATD" frobnicate 2>&1); rc=$?
check "unknown_subcommand_exits_2" [ "$rc" -eq 2 ]
check "unknown_subcommand_names_it" sh -c "echo '$out' | grep -q 'unknown subcommand \"frobnicate\"'"
"$EIPFLOATD" status --bogus --runtime-dir "$run" >/dev/null 2>&1; rc=$?
check "status_bad_option_exits_2" [ "$rc" -eq 2 ]

mkdir -p "$run"
"$EIPFLOATD" -c "$T/c.conf" -n node-a --runtime-dir "$run" -l info \
	2>"$T/d.log" &
dpid=$!; track $dpid
check "control_socket_created" wait_for 10 test -S "$run/ctl"
check "control_socket_mode_0600" [ "$(stat -c %a "$run/ctl")" = 600 ]
wait_for 10 sh -c "'$EIPFLOATD' status --runtime-dir '$run' | grep -q '^state: ACTIVE'"
out=$("$EIPFLOATD" status --runtime-dir "$run"); rc=$?
check "status_running_exits_0" [ "$rc" -eq 0 ]
check "status_shows_state" sh -c "echo '$out' | grep -q '^state: ACTIVE'"
check "status_shows_peer" sh -c "echo '$out' | grep -q '^peer: node-b'"
check "status_shows_resource" sh -c "echo '$out' | grep -q '^resource 0 file'"
kill -USR1 $dpid
wait_for 5 test -s "$run/state"
check "status_has_the_dump_lines" sh -c "[ \"\$(grep -c -E '^(state|term|peer|link 0|resource 0)' '$run/state')\" -eq \"\$(echo '$out' | grep -c -E '^(state|term|peer|link 0|resource 0)')\" ]"

# status --json: one object with the documented keys
"$EIPFLOATD" status --json --runtime-dir "$run" >"$T/status.json"; rc=$?
check "status_json_exits_0" [ "$rc" -eq 0 ]
check "status_json_schema" "$PYTHON3" - "$T/status.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["node"] == "node-a" and j["state"] == "ACTIVE", j
assert j["since"].endswith("Z") and isinstance(j["term"], int), j
assert j["maintenance"] is False
p = j["peer"]
assert p["name"] == "node-b" and p["state"] is None and p["alive"] is False, p
assert len(j["links"]) == 1 and j["links"][0]["up"] is False
assert j["links"][0]["sent"] > 0
r = j["resources"]
assert len(r) == 1 and r[0]["id"] == sys.argv[1].rsplit("/", 1)[0] + "/owner" \
    and r[0]["owner"] == "self" and r[0]["verified_at"].endswith("Z"), r
assert j["counters"]["transitions_to"]["ACTIVE"] == 1, j["counters"]
PY

# metrics: Prometheus text, read by the real client library's parser
"$EIPFLOATD" metrics --runtime-dir "$run" >"$T/metrics.txt"; rc=$?
check "metrics_exits_0" [ "$rc" -eq 0 ]
check "metrics_parse_with_prometheus_client" "$PYTHON3" - "$T/metrics.txt" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
def value(name, **labels):
    for s in fams[name.removesuffix("_total")].samples:
        if s.labels == labels:
            return s.value
    raise AssertionError((name, labels, fams[name].samples))
assert value("eipfloatd_state", state="ACTIVE") == 1
assert value("eipfloatd_state", state="STANDBY") == 0
assert fams["eipfloatd_transitions"].type == "counter"
assert value("eipfloatd_transitions_total", to="ACTIVE") == 1
assert value("eipfloatd_link_up", link="0") == 0
assert value("eipfloatd_packets_rejected_total", reason="bad-mac") == 0
assert fams["eipfloatd_packets_rejected"].type == "counter"
res = [s for s in fams["eipfloatd_resource_owned"].samples]
assert len(res) == 1 and res[0].value == 1, res
PY

# metrics.textfile: the same exposition, replaced atomically (a new inode
# each time, and a reader never sees a partial file)
prom="$T/prom/eipfloatd.prom"
check "textfile_written" wait_for 10 test -s "$prom"
check "textfile_atomic_replacement" "$PYTHON3" - "$prom" <<'PY'
import os, sys, time
from prometheus_client.parser import text_string_to_metric_families
path, inodes, reads = sys.argv[1], set(), 0
end = time.time() + 12
while time.time() < end and len(inodes) < 3:
    with open(path) as f:
        inodes.add(os.fstat(f.fileno()).st_ino)
        text = f.read()
    assert text.endswith("\n") and "eipfloatd_resource_owned{" in text, text[-200:]
    fams = {m.name for m in text_string_to_metric_families(text)}
    assert "eipfloatd_state" in fams and "eipfloatd_link_up" in fams, fams
    reads += 1
    time.sleep(0.005)
assert len(inodes) >= 3, ("not replaced", inodes, reads)
PY
check "textfile_no_temporary_left" wait_for 3 sh -c "[ \"\$(ls '$T/prom')\" = eipfloatd.prom ]"

sent_count() { # heartbeats sent on link 0, from status
	"$EIPFLOATD" status --runtime-dir "$run" |
		sed -n 's/^link 0 .*sent[= ]\([0-9]*\).*/\1/p'
}

# Hostile clients: garbage, an overlong line, a half line that never ends,
# connections that never send, a request whose answer is never read.
"$PYTHON3" - "$run/ctl" "$T/hostile.out" <<'PY'
import socket, sys, time
path, out = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s
res = []
g = conn(); g.sendall(b"\x00\xff garbage\n"); res.append(g.recv(200))
l = conn(); l.sendall(b"a" * 5000)
try:
    res.append(l.recv(200))
except OSError as e:
    res.append(repr(e).encode())
u = conn(); u.sendall(b"bogus command\n"); res.append(u.recv(200))
with open(out, "wb") as f:
    f.write(b"\n".join(res) + b"\n")
PY
check "garbage_answered_with_error" grep -q '^ERR .*' "$T/hostile.out"
check "garbage_error_says_not_text" grep -q 'not text' "$T/hostile.out"
check "overlong_line_refused" grep -q 'longer than' "$T/hostile.out"
check "unknown_request_refused" grep -q 'unknown request "bogus command"' "$T/hostile.out"

"$PYTHON3" - "$run/ctl" "$T/hogs.ready" <<'PY' &
import socket, sys, time
socks = []
for i in range(6):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.connect(sys.argv[1])
    if i % 3 == 1:
        s.sendall(b"stat")            # a line that never ends
    elif i % 3 == 2:
        s.sendall(b"status\n")        # an answer never read
    socks.append(s)
open(sys.argv[2], "w").close()
time.sleep(8)
PY
hogs=$!; track $hogs
wait_for 5 test -e "$T/hogs.ready"
s1=$(sent_count)
sleep 1
s2=$(sent_count)
check "status_answers_while_clients_hog" [ -n "$s1" ]
check "heartbeats_continue_while_clients_hog" [ "${s2:-0}" -gt "${s1:-0}" ]
check "idle_clients_closed_after_timeout" wait_for 8 grep_log "$T/d.log" 'control socket: client idle for 5000 ms, closed'
check "daemon_unaffected_by_hostile_clients" kill -0 $dpid
kill $hogs 2>/dev/null; wait $hogs 2>/dev/null

kill -TERM $dpid
wait $dpid; rc=$?
check "sigterm_exits_0" [ "$rc" -eq 0 ]
check "control_socket_removed_at_exit" test ! -e "$run/ctl"
check "textfile_removed_at_exit" test ! -e "$T/prom/eipfloatd.prom"
"$EIPFLOATD" status --runtime-dir "$run" >/dev/null 2>&1; rc=$?
check "status_after_stop_exits_3" [ "$rc" -eq 3 ]

finish
