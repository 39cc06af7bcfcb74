#!/bin/sh
# tests/demo.sh - `make demo`: a two-node eipfloatd cluster against the
# local EC2 + IMDS emulator, on a machine without AWS. Shows who holds the
# Elastic IP, kills the ACTIVE with SIGKILL, prints the failover timeline
# measured from the emulator's call log, and removes everything it started.
#
# As root the nodes live in network namespaces (tests/e2e/netns.sh); otherwise
# on loopback (127.0.0.1 and 127.0.0.2), each with its own IMDS listener.
# DEMO_MODE=loopback forces the latter; DEMO_INTERVAL / DEMO_TIMEOUT set the
# heartbeat (default: the daemon's defaults, 200 ms and 1000 ms).
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=.}"
: "${PYTHON3:=/usr/bin/python3}"
export top_srcdir top_builddir PYTHON3
EIPFLOATD=${EIPFLOATD:-$top_builddir/eipfloatd}
if [ ! -x "$EIPFLOATD" ]; then
	echo "demo: building eipfloatd first"
	make -C "$top_builddir" eipfloatd >/dev/null || exit 1
fi
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"

INTERVAL=${DEMO_INTERVAL:-200}
TIMEOUT=${DEMO_TIMEOUT:-1000}
STARTUP=2000
MONITOR=2000
mode=loopback
if [ "${DEMO_MODE:-}" != loopback ] && [ "$(id -u)" -eq 0 ] &&
	ip netns add "demo-probe-$$" 2>/dev/null; then
	ip netns del "demo-probe-$$"
	mode=netns
fi

say() { printf '%s\n' "$*"; }
die() { say "demo: $*"; FAILED=1; exit 1; }

# --- loopback flavour of the netns.sh pieces the demo uses -----------------
lo_setup() {
	base=$((20000 + $$ % 20000))
	PORT0=$base
	PORT1=$((base + 1))
	cat >"$T/world.json" <<EOF
{
  "region": "$REGION",
  "instances": [
    {"id": "$IA", "private_ip": "10.0.0.20", "az": "${REGION}a",
     "imds_listen": "127.0.0.1:0"},
    {"id": "$IB", "private_ip": "10.0.1.20", "az": "${REGION}b",
     "imds_listen": "127.0.0.1:0"}
  ],
  "addresses": [{"allocation_id": "$ALLOC", "public_ip": "$EIP"}]
}
EOF
	"$PYTHON3" "$top_srcdir/tests/ec2emu.py" --world "$T/world.json" \
		--listen 127.0.0.1 --port 0 --ready-file "$T/emu.ready" \
		>"$T/emu.out" 2>>"$T/emu.log" &
	EMU_PID=$!
	track "$EMU_PID"
	wait_for 15 test -s "$T/emu.ready" || die "the emulator did not start"
	ready() {
		"$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
			"$T/emu.ready" "$1"
	}
	EC2_URL=$(ready ec2)
	IMDS_A=$(ready "imds.$IA")
	IMDS_B=$(ready "imds.$IB")
	make_key "$T/authkey"
	cat >"$T/demo.conf" <<EOF
cluster = { name = "demo"; authkey = "$T/authkey"; };
nodes = (
  { name = "node-a"; addresses = [ "127.0.0.1", "127.0.1.1" ]; priority = 100; },
  { name = "node-b"; addresses = [ "127.0.0.2", "127.0.1.2" ]; priority = 50; }
);
heartbeat = { interval_ms = $INTERVAL; timeout_ms = $TIMEOUT; ports = [ $PORT0, $PORT1 ]; };
election = { startup_wait_ms = $STARTUP; };
aws = { endpoint = "$EC2_URL"; timeout_ms = 2000; };  # IMDS: per node, below
resources = ( { type = "eip"; allocation_id = "$ALLOC"; } );
monitor = { interval_ms = $MONITOR; };
EOF
}
lo_emu() { "$PYTHON3" "$top_srcdir/tests/emuctl.py" "$EC2_URL" "$@"; }
lo_run_node() {
	mkdir -p "$T/run-$1"
	touch "$T/$1.log"
	starts=$(grep -c ' starting' "$T/$1.log")
	if [ "$1" = a ]; then imds=$IMDS_A; else imds=$IMDS_B; fi
	env -u AWS_EC2_METADATA_DISABLED -u AWS_ACCESS_KEY_ID \
		-u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		HOME="$T" AWS_EC2_METADATA_SERVICE_ENDPOINT="$imds" \
		"$EIPFLOATD" -c "$T/demo.conf" -n "node-$1" \
		--runtime-dir "$T/run-$1" -l info 2>>"$T/$1.log" &
	eval "NODE_PID_$1=$!"
	track "$!"
	wait_started "$1" "$starts"
}

# --- start ---------------------------------------------------------------
say "eipfloatd demo: two nodes, one Elastic IP, a local EC2 + IMDSv2 emulator"
if [ "$mode" = netns ]; then
	topo_up
	emu_start none
	write_conf "$T/demo.conf"
	start() { run_node "$1" "$T/demo.conf"; }
	say "  network namespaces $NS_A / $NS_B, emulator in $NS_X ($EC2_URL)"
	say "  heartbeat links 10.200.0.0/24 (udp $PORT0) and 10.200.1.0/24 (udp $PORT1)"
else
	emu() { lo_emu "$@"; }
	lo_setup
	start() { lo_run_node "$1"; }
	say "  loopback: node-a on 127.0.0.1/127.0.1.1, node-b on 127.0.0.2/127.0.1.2"
	say "  emulator $EC2_URL, one IMDS listener per node"
fi
say "  heartbeat every $INTERVAL ms, peer dead after $TIMEOUT ms of silence"
say "  credentials: instance roles through IMDSv2; every EC2 call SigV4-signed"
say ""
say "starting node-a (priority 100) and node-b (priority 50)..."
start a
start b
i=0
while [ "$i" -lt 60 ]; do
	sa=$(node_state a)
	sb=$(node_state b)
	[ "$sa" = ACTIVE ] && [ "$sb" = STANDBY ] && break
	[ "$sb" = ACTIVE ] && [ "$sa" = STANDBY ] && break
	sleep 0.25
	i=$((i + 1))
done
owner=$(emu eval "owner('$ALLOC')")
name_of() {
	case $1 in
	"$IA") echo "node-a ($IA)" ;;
	"$IB") echo "node-b ($IB)" ;;
	*) echo "$1" ;;
	esac
}
say "  node-a: ${sa:-?}   node-b: ${sb:-?}"
say "  EIP $EIP is on $(name_of "$owner")"
if [ "$sa" = ACTIVE ]; then victim=a survivor=b; else victim=b survivor=a; fi
[ "$(node_state $victim)" = ACTIVE ] || die "no node became ACTIVE; logs in $T"

# --- kill the ACTIVE ---------------------------------------------------------
say ""
seq=$(emu eval "seq()")
t0=$(now_s)
say "kill -9 node-$victim (pid $(pid_of $victim)) at $(date -d "@$t0" '+%H:%M:%S.%3N')"
stop_node "$victim" KILL
i=0
while [ "$i" -lt 80 ]; do
	[ "$(emu eval "owner('$ALLOC')")" != "$owner" ] && break
	sleep 0.25
	i=$((i + 1))
done
sleep 0.5
emu get "/_emu/calls?service=ec2&since=$seq" >"$T/calls.json"
say ""
say "timeline (ms after the kill):"
"$PYTHON3" - "$t0" "$T/calls.json" "$T/$survivor.log" "node-$survivor" \
	"$TIMEOUT" <<'PY'
import json, re, sys, time
t0 = float(sys.argv[1])
calls = json.load(open(sys.argv[2]))
node = sys.argv[4]
events = [(0.0, "kill -9 of the ACTIVE")]
stamp = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3}) \w+: (.*)$")
for line in open(sys.argv[3], errors="replace"):
    m = stamp.match(line.strip())
    if not m:
        continue
    t = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + \
        int(m.group(2)) / 1000.0
    text = m.group(3)
    if t < t0 - 0.001:
        continue
    if re.search(r"link \d .*down|-> (ACTIVE|STANDBY|FAULT)", text):
        events.append((t - t0, "%s: %s" % (node, text)))
first = None
for c in calls:
    if c["action"] != "AssociateAddress":
        continue
    if first is None:
        first = c["wall"] - t0
    events.append((c["wall"] - t0, "AssociateAddress reaches EC2 (%s)" %
                   c["params"].get("InstanceId")))
    if c["status"] == 200:
        events.append((c["wall"] - t0 + c["latency_ms"] / 1000.0,
                       "EC2 answers 200: the EIP is on %s" % node))
    else:
        events.append((c["wall"] - t0 + c["latency_ms"] / 1000.0,
                       "EC2 answers %s %s" % (c["status"], c["error_code"])))
for dt, what in sorted(events, key=lambda e: e[0]):
    print("  %+7.0f  %s" % (dt * 1000, what))
print()
if first is None:
    print("no AssociateAddress reached the emulator")
    sys.exit(1)
print("failover: %.0f ms from kill -9 to AssociateAddress at EC2 "
      "(timeout %s ms, counted from the last heartbeat heard, which left "
      "up to one interval before the kill)" % (first * 1000, sys.argv[5]))
bad = [c for c in calls if not c["signature_valid"]]
print("EC2 calls since the kill: %d, all with valid SigV4 signatures: %s" %
      (len(calls), "yes" if not bad else "NO (%d bad)" % len(bad)))
PY
rc=$?
say "  EIP $EIP is now on $(name_of "$(emu eval "owner('$ALLOC')")")"

# --- the old ACTIVE returns: no failback ------------------------------------
say ""
say "restarting node-$victim: it comes back as STANDBY, the EIP stays put"
seq=$(emu eval "seq()")
start "$victim"
i=0
while [ "$i" -lt 40 ] && [ "$(node_state $victim)" != STANDBY ]; do
	sleep 0.25
	i=$((i + 1))
done
sleep 1
say "  node-$victim: $(node_state $victim)   node-$survivor: $(node_state $survivor)"
say "  EC2 writes since the restart: $(emu eval "len(writes($seq))")"
say ""
say "cleaning up (daemons, emulator$([ "$mode" = netns ] && echo ', namespaces'))"
[ "$rc" -eq 0 ] || FAILED=1
exit "$rc"
