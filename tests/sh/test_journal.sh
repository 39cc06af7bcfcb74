#!/bin/sh
# test_journal.sh - under systemd (JOURNAL_STREAM set) the daemon logs
# through the journal's native protocol: asserted on a datagram socket the
# test owns (EIPFLOATD_JOURNAL_SOCKET), decoded as journald would, with the
# MESSAGE_ID and EIPFLOATD_* fields of a state change, a failover and
# rejected packets. Without a reachable socket: stderr as before.
. "${top_srcdir:-.}/tests/lib.sh"

make_key "$T/authkey"
port=$((20000 + ($$ + 11000) % 20000))
cat >"$T/j.conf" <<CONF
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
CONF
idof() { sed -n "s/^#define $1 \"\([0-9a-f]*\)\"/\1/p" "$top_srcdir/src/log.h"; }
ID_STATE=$(idof LOG_ID_STATE_CHANGE)
ID_FAILOVER=$(idof LOG_ID_FAILOVER)
ID_REJECTED=$(idof LOG_ID_REJECTED)

# The "journal": decode each datagram (NAME=value, or NAME\n + le64 + value
# + \n) into one JSON object per line.
"$PYTHON3" - "$T/journal.sock" "$T/journal.jsonl" <<'PY' &
import json, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(0.2)
def decode(b):
    out, i = {}, 0
    while i < len(b):
        nl = b.index(b"\n", i)
        line = b[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1); i = nl + 1
        else:
            k = line; n = struct.unpack("<Q", b[nl + 1:nl + 9])[0]
            v = b[nl + 9:nl + 9 + n]; assert b[nl + 9 + n:nl + 10 + n] == b"\n"
            i = nl + 10 + n
        out[k.decode()] = v.decode()
    return out
end = time.time() + 60
with open(sys.argv[2], "a", buffering=1) as f:
    while time.time() < end:
        try:
            f.write(json.dumps(decode(s.recv(65536))) + "\n")
        except socket.timeout:
            pass
PY
track $!
wait_for 5 test -S "$T/journal.sock"

mkdir -p "$T/run"
JOURNAL_STREAM=1:1 EIPFLOATD_JOURNAL_SOCKET="$T/journal.sock" \
	"$EIPFLOATD" -c "$T/j.conf" -n node-a --runtime-dir "$T/run" \
	2>"$T/d.log" &
dpid=$!; track $dpid
has() { # has PYTHON-EXPR: some entry e satisfies it
	"$PYTHON3" -c "
import json, sys
sys.exit(0 if any(($1) for e in map(json.loads, open('$T/journal.jsonl'))) else 1)"
}
check "journal_gets_startup_line" wait_for 10 has "e.get('MESSAGE', '').startswith('eipfloatd ') and e.get('PRIORITY') == '5' and e.get('SYSLOG_IDENTIFIER') == 'eipfloatd'"
check "journal_state_change_fields" wait_for 10 has "e.get('MESSAGE_ID') == '$ID_STATE' and e.get('EIPFLOATD_STATE') == 'ACTIVE' and e.get('EIPFLOATD_FROM') == 'STARTING' and e.get('EIPFLOATD_TERM') == '1' and e.get('EIPFLOATD_PEER') == 'node-b' and e['MESSAGE'].startswith('STARTING -> ACTIVE: ') and e['EIPFLOATD_REASON'] and not e['EIPFLOATD_REASON'].startswith('STARTING')"
check "journal_failover_fields" wait_for 10 has "e.get('MESSAGE_ID') == '$ID_FAILOVER' and e.get('EIPFLOATD_STATE') == 'ACTIVE' and e.get('EIPFLOATD_TERM') == '1'"
"$PYTHON3" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.2', 0))
s.sendto(b'garbage that is no heartbeat', ('127.0.0.1', $port))"
check "journal_rejected_packet_fields" wait_for 10 has "e.get('MESSAGE_ID') == '$ID_REJECTED' and e.get('EIPFLOATD_REASON') and e.get('PRIORITY') == '4'"
check "journal_mode_keeps_stderr_quiet" sh -c "! grep -q 'STARTING -> ACTIVE' '$T/d.log'"
kill -TERM $dpid; wait $dpid

# No reachable journal socket: the lines go to stderr as before.
JOURNAL_STREAM=1:1 EIPFLOATD_JOURNAL_SOCKET="$T/nothing.sock" \
	"$EIPFLOATD" -c "$T/j.conf" -n node-a --runtime-dir "$T/run" \
	2>"$T/d2.log" &
dpid=$!; track $dpid
check "no_journal_socket_falls_back_to_stderr" wait_for 10 grep_log "$T/d2.log" 'STARTING -> ACTIVE'
kill -TERM $dpid; wait $dpid

finish
