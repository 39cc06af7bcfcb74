#!/bin/sh
# bench/run.sh - eipfloatd beside keepalived on the end-to-end namespace
# topology (tests/e2e/netns.sh) against the local EC2 + IMDS emulator, and
# bench/RESULTS.md from the numbers. Not part of make check. Needs root.
#
#   bench/run.sh                      10 runs per case, 60 s idle window
#   BENCH_RUNS=3 BENCH_IDLE=20 bench/run.sh      a quick reduced run
#   EIPFLOATD=/path/to/eipfloatd bench/run.sh    another build
#   BENCH_CASES="keepalived-default" bench/run.sh   some of the four cases
#
# keepalived is configured the way AWS users run it for an Elastic IP:
# VRRP unicast between the two nodes, nopreempt, and a notify_master script
# that calls Debian's awscli "aws ec2 associate-address
# --allow-reassociation" with the instance role from IMDS. eipfloatd gets
# its role credentials from the same IMDS. Measured per case:
#   kill -9 of the ACTIVE / MASTER (every process of the node) and SIGTERM
#   of it -> the survivor's AssociateAddress reaching the emulator (its call
#   log stamps, same host clock as the kill);
#   idle CPU per node (utime + stime of the node's processes) and RSS.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
PYTHON3=${PYTHON3:-/usr/bin/python3}
export top_srcdir top_builddir PYTHON3
RUNS=${BENCH_RUNS:-10}
IDLE=${BENCH_IDLE:-60}
WINDOWS=${BENCH_WINDOWS:-10}
OUT=${BENCH_OUT:-$top_srcdir/bench/RESULTS.md}
RAW=${BENCH_RAW:-$top_srcdir/bench/results.tsv}
CMDLINE="BENCH_RUNS=$RUNS BENCH_IDLE=$IDLE bench/run.sh"

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)"; exit 1; }
if ! command -v keepalived >/dev/null 2>&1 || [ ! -x /usr/bin/aws ]; then
	echo "bench: installing keepalived and awscli (Debian packages)"
	apt-get install -y keepalived awscli >/dev/null || exit 1
fi
EIPFLOATD=${EIPFLOATD:-$top_builddir/eipfloatd}
if [ ! -x "$EIPFLOATD" ]; then
	make -C "$top_builddir" eipfloatd >/dev/null || exit 1
fi
EIPFLOATD=$(cd "$(dirname "$EIPFLOATD")" && pwd)/$(basename "$EIPFLOATD")
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start none
: >"$T/raw.tsv"
AWS_TIMEOUT=5000
MONITOR=10000
HZ=$(getconf CLK_TCK)

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$T/raw.tsv"; }

# --- the two stacks --------------------------------------------------------

# Cases: eipfloatd and keepalived, each at its defaults and at equal
# heartbeat settings (an advertisement every 200 ms, dead after 3 missed).
case_setup() {
	CASE=$1
	case $CASE in
	eipfloatd-default) STACK=e INTERVAL=200 TIMEOUT=1000 STARTUP=3000 ;;
	eipfloatd-equal) STACK=e INTERVAL=200 TIMEOUT=600 STARTUP=1000 ;;
	keepalived-default) STACK=k ADVERT=1 VRRPV=2 ;;
	keepalived-equal) STACK=k ADVERT=0.2 VRRPV=3 ;;
	esac
	if [ "$STACK" = e ]; then
		write_conf "$T/e.conf"
	else
		ka_conf a
		ka_conf b
	fi
}

ka_conf() {
	if [ "$1" = a ]; then
		me=10.200.0.1 peer=10.200.0.2 prio=100 iid=$IA
	else
		me=10.200.0.2 peer=10.200.0.1 prio=50 iid=$IB
	fi
	# What AWS users put in notify_master (the instance id hard-coded
	# rather than one more IMDS round trip).
	cat >"$T/ka-master-$1.sh" <<EOF
#!/bin/sh
export AWS_EC2_METADATA_SERVICE_ENDPOINT=$IMDS_URL/ AWS_DEFAULT_REGION=$REGION
export HOME=$T/home-$1
unset AWS_EC2_METADATA_DISABLED AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
exec /usr/bin/aws ec2 associate-address --endpoint-url $EC2_URL \\
	--allocation-id $ALLOC --instance-id $iid --allow-reassociation \\
	>>$T/ka-notify-$1.log 2>&1
EOF
	chmod 755 "$T/ka-master-$1.sh"
	mkdir -p "$T/home-$1"
	cat >"$T/ka-$1.conf" <<EOF
global_defs {
  router_id node-$1
  script_user root
  enable_script_security
  vrrp_version $VRRPV
}
vrrp_instance VI_1 {
  state BACKUP
  interface hb0
  virtual_router_id 51
  priority $prio
  advert_int $ADVERT
  nopreempt
  unicast_src_ip $me
  unicast_peer {
    $peer
  }
  # VRRPv3 insists on a VIP; a private address on the link, as a
  # secondary private IP would be.
  virtual_ipaddress {
    10.200.0.100/32 dev hb0
  }
  notify_master $T/ka-master-$1.sh
}
EOF
}

start_node() {
	if [ "$STACK" = e ]; then
		run_node "$1" "$T/e.conf"
		return
	fi
	# A SIGKILLed keepalived leaves pid files that make the next one
	# believe it is "already running".
	rm -f "$T/ka-$1.pid" "$T/ka-$1-vrrp.pid" "$T/ka-$1-chk.pid"
	ip netns exec "$(ns_of "$1")" keepalived -n -l -D -f "$T/ka-$1.conf" \
		-p "$T/ka-$1.pid" -r "$T/ka-$1-vrrp.pid" -c "$T/ka-$1-chk.pid" \
		>>"$T/ka-$1.log" 2>&1 &
	eval "NODE_PID_$1=$!"
	track "$!"
}

# node_pids a|b: every process of the stack on that node.
node_pids() { ip netns pids "$(ns_of "$1")" 2>/dev/null; }

kill_everything() {
	for n in a b; do
		for p in $(node_pids $n); do kill -9 "$p" 2>/dev/null; done
	done
	for n in a b; do
		p=$(pid_of $n)
		[ -n "$p" ] && wait "$p" 2>/dev/null
		eval "NODE_PID_$n="
	done
	wait_for 10 sh -c "[ -z \"\$(ip netns pids $NS_A)\$(ip netns pids $NS_B)\" ]"
}

# Both up, the EIP on node a, node b settled as the standby.
settle() {
	emu post /_emu/set "{\"disassociate\": {\"allocation_id\": \"$ALLOC\"}}" >/dev/null
	start_node a
	start_node b
	if [ "$STACK" = e ]; then
		wait_state a ACTIVE 30 && wait_state b STANDBY 10 &&
			wait_for 10 owner_is a || return 1
	else
		wait_for 30 owner_is a || return 1
		wait_for 10 grep -q 'Entering BACKUP' "$T/ka-b.log" || return 1
	fi
	sleep 1
}

# The survivor's first AssociateAddress after SEQ, in s after T0.
takeover_delay() {
	emu eval "(lambda c: '%.3f' % (c[0]['wall'] - $2) if c else 'none')([c for c in calls(action='AssociateAddress', since=$1) if c['params'].get('InstanceId') == '$IB'])"
}

failover_run() { # failover_run KILL|TERM: the delay in $FO_DELAY
	FO_DELAY=none
	: >"$T/ka-a.log"
	: >"$T/ka-b.log"
	if ! settle; then
		log "$CASE: did not settle (EIP on $(emu_owner))"
		kill_everything
		return 1
	fi
	seq=$(emu_seq)
	t0=$(now_s)
	if [ "$1" = KILL ]; then
		# A crash of the node: freeze every process first, so that
		# none sees another die (keepalived's VRRP child would take
		# its parent's death as a stop and resign gracefully).
		pids=$(node_pids a)
		for p in $pids; do kill -STOP "$p"; done
		for p in $pids; do kill -9 "$p"; done
	else
		kill -TERM "$(pid_of a)"
	fi
	wait_for 30 owner_is b
	FO_DELAY=$(takeover_delay "$seq" "$t0")
	kill_everything
	return 0
}

# CPU % of one core and RSS (KiB) of a node's processes over SECONDS.
ticks() {
	for p in $(node_pids "$1"); do
		awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}
rss() {
	for p in $(node_pids "$1"); do
		awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}

idle_run() {
	settle || { log "$CASE: did not settle"; kill_everything; return 1; }
	sleep 2
	w=$((IDLE / WINDOWS))
	[ "$w" -ge 1 ] || w=1
	i=0
	ta0=$(ticks a)
	tb0=$(ticks b)
	while [ "$i" -lt "$WINDOWS" ]; do
		a0=$(ticks a)
		b0=$(ticks b)
		s0=$(now_s)
		sleep "$w"
		s1=$(now_s)
		a1=$(ticks a)
		b1=$(ticks b)
		for n in a b; do
			eval "x0=\$${n}0 x1=\$${n}1"
			record "$CASE" "cpu_pct_$n" "$(awk -v d=$((x1 - x0)) -v hz="$HZ" -v s0="$s0" -v s1="$s1" 'BEGIN { printf "%.3f", 100 * d / hz / (s1 - s0) }')"
			record "$CASE" "rss_kib_$n" "$(rss $n)"
		done
		i=$((i + 1))
	done
	record "$CASE" "cpu_s_total_a" "$(awk -v d=$(($(ticks a) - ta0)) -v hz="$HZ" 'BEGIN { printf "%.2f", d / hz }')"
	record "$CASE" "cpu_s_total_b" "$(awk -v d=$(($(ticks b) - tb0)) -v hz="$HZ" 'BEGIN { printf "%.2f", d / hz }')"
	kill_everything
}

# --- run -------------------------------------------------------------------

CASES=${BENCH_CASES:-eipfloatd-default eipfloatd-equal keepalived-default keepalived-equal}
for c in $CASES; do
	case_setup "$c"
	for sig in KILL TERM; do
		r=1
		retries=0
		while [ "$r" -le "$RUNS" ]; do
			# A start where node b won (keepalived: both BACKUP,
			# whoever times out first) is no failover sample: redo.
			if ! failover_run "$sig"; then
				retries=$((retries + 1))
				record "$c" "unsettled_$sig" 1
				[ "$retries" -le "$RUNS" ] && continue
			fi
			log "$c $sig run $r: $FO_DELAY s"
			record "$c" "failover_$sig" "$FO_DELAY"
			r=$((r + 1))
		done
	done
	log "$c: idle for $IDLE s"
	idle_run
done
cp "$T/raw.tsv" "$RAW"

# --- report ------------------------------------------------------------------

"$PYTHON3" - "$RAW" "$OUT" "$CMDLINE" "$RUNS" "$IDLE" "$EIPFLOATD" <<'PY'
import datetime, os, platform, statistics, subprocess, sys
raw, out, cmd, runs, idle, binary = sys.argv[1:7]
data = {}
for line in open(raw):
    case, metric, value = line.rstrip("\n").split("\t")
    data.setdefault((case, metric), []).append(value)

def nums(case, metric):
    return [float(v) for v in data.get((case, metric), [])
            if v not in ("", "none")]

def mmm(vals, fmt):
    if not vals:
        return "n/a"
    return "%s / %s / %s" % (fmt % min(vals), fmt % statistics.median(vals),
                             fmt % max(vals))

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "?"

cases = ["eipfloatd-default", "eipfloatd-equal", "keepalived-default",
         "keepalived-equal"]
settings = {
    "eipfloatd-default": "interval 200 ms, timeout 1000 ms",
    "eipfloatd-equal": "interval 200 ms, timeout 600 ms",
    "keepalived-default": "VRRPv2 advert_int 1 s (down after 3 x 1 s + skew)",
    "keepalived-equal": "VRRPv3 advert_int 0.2 s (down after 3 x 0.2 s + skew)",
}
cpu_model = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2")
L = []
L.append("# eipfloatd beside keepalived")
L.append("")
L.append("Generated by `bench/run.sh` on %s. Reproduce as root after "
         "building, from the directory that holds the eipfloatd binary "
         "(or `make bench`, or with EIPFLOATD=path):" %
         datetime.date.today())
L.append("")
L.append("    %s" % cmd)
L.append("")
L.append("Machine: %s, %s CPUs (%s), %s MiB RAM, Linux %s; %s; %s; "
         "awscli %s; eipfloatd `%s`." % (
             platform.node() or "?", os.cpu_count(), cpu_model.strip(),
             sh("free -m | awk '/^Mem:/ {print $2}'"), platform.release(),
             sh("keepalived --version 2>&1 | head -1"),
             sh("/usr/bin/python3 --version"),
             sh("dpkg-query -W -f '${Version}' awscli 2>/dev/null") or "?",
             sh("'%s' -V 2>&1 | head -1" % binary)))
L.append("")
L.append("Topology: tests/e2e/netns.sh (each node in its own network namespace, "
         "veth heartbeat links, the EC2 + IMDSv2 emulator tests/ec2emu.py in "
         "a third namespace). keepalived: VRRP unicast on one link, "
         "`nopreempt`, `notify_master` running Debian's awscli `aws ec2 "
         "associate-address --allow-reassociation` with the instance role "
         "from IMDS. eipfloatd: two heartbeat links, role credentials from "
         "the same IMDS, monitor every 10 s.")
L.append("")
L.append("Failover: time from the signal to the active node (SIGSTOP "
         "then SIGKILL to every process of the node, a crash; or SIGTERM to "
         "the daemon, a clean stop) to the "
         "survivor's AssociateAddress reaching the emulator, from its call "
         "log. min / median / max over %s runs per cell." % runs)
L.append("")
L.append("| stack | heartbeat | kill -9 -> AssociateAddress (s) | SIGTERM -> AssociateAddress (s) |")
L.append("|---|---|---|---|")
for c in cases:
    L.append("| %s | %s | %s | %s |" % (
        c.split("-")[0] + (" (defaults)" if c.endswith("default") else
                           " (equal)"), settings[c],
        mmm(nums(c, "failover_KILL"), "%.3f"),
        mmm(nums(c, "failover_TERM"), "%.3f")))
fails = sum(1 for (c, m), v in data.items() if m.startswith("failover")
            for x in v if x in ("", "none"))
if fails:
    L.append("")
    L.append("%d run(s) saw no takeover within 30 s and are left out." %
             fails)
for c in cases:
    n = sum(len(data.get((c, "unsettled_" + s), [])) for s in ("KILL", "TERM"))
    if n:
        L.append("")
        L.append("%s: %d start(s) did not settle with node a active and "
                 "node b standby within 30 s (for keepalived: node b "
                 "became MASTER first, so with nopreempt node a stayed "
                 "BACKUP); they were redone and are not samples." % (c, n))
L.append("")
L.append("What the numbers include: for keepalived, the detection (3 "
         "advertisements + skew), then the start of the notify script and "
         "of awscli (Python), its IMDSv2 round trips for the role "
         "credentials, then the call; for eipfloatd, the detection "
         "(timeout_ms after the last heartbeat heard, which left up to one "
         "interval before the kill), then the call with credentials it "
         "already holds. On SIGTERM keepalived sends a priority-0 "
         "advertisement, eipfloatd a LEAVE on both links.")
L.append("")
L.append("Idle, both nodes settled (ACTIVE/MASTER on node a): CPU in %% of "
         "one core per %s s window and RSS (KiB, all processes of the "
         "node), min / median / max over the windows of %s s in total." % (
             int(idle) // 10 or 1, idle))
L.append("")
L.append("| stack | node | CPU %% | CPU s in %s s | RSS KiB |" % idle)
L.append("|---|---|---|---|---|")
for c in cases:
    for n, role in (("a", "active"), ("b", "standby")):
        tot = nums(c, "cpu_s_total_" + n)
        L.append("| %s | %s | %s | %s | %s |" % (
            c, role, mmm(nums(c, "cpu_pct_" + n), "%.3f"),
            "%.2f" % tot[0] if tot else "n/a",
            mmm(nums(c, "rss_kib_" + n), "%.0f")))
L.append("")
L.append("Raw numbers: bench/results.tsv (case, metric, value).")
open(out, "w").write("\n".join(L) + "\n")
print("\n".join(L))
PY
