#!/bin/sh
# bench/run.sh - eipfloatd beside keepalived on the end-to-end namespace
# topology (tests/e2e/netns.sh) against the local EC2 + IMDS emulator, as
# a client of the Elastic IP sees it; writes bench/RESULTS.md, the raw
# numbers (bench/results.tsv) and two pictures (bench/failover.svg,
# bench/downtime.svg). Not part of make check. Needs root; installs
# keepalived, awscli and gnuplot-nox (Debian) when they are missing.
#
#   bench/run.sh                           10 runs per cell, 60 s CPU windows
#   BENCH_RUNS=3 BENCH_IDLE=12 bench/run.sh   a quick reduced run
#   EIPFLOATD=/path/to/eipfloatd bench/run.sh another build
#
# The EC2 API is HTTPS with a private CA made here (openssl), behind
# bench/rttproxy.py, which adds a round-trip time (BENCH_RTT_LO, 2 ms, and
# BENCH_RTT_HI, 20 ms) to every TCP, TLS and HTTP exchange; IMDS stays
# plain HTTP on the link, as on EC2. Each node serves its name over HTTP;
# a client namespace polls http://EIP/ every 20 ms through the 1:1 NAT that
# follows the emulator's association (tests/e2e/dataplane.sh, propagation
# delay 0: on AWS add about 5 s to every downtime below).
#
# keepalived is configured the way AWS users run it for an Elastic IP:
# VRRP unicast between the two nodes, nopreempt, and a notify_master script
# that calls Debian's awscli "aws ec2 associate-address
# --allow-reassociation" with the instance role from IMDS. eipfloatd gets
# its role credentials from the same IMDS.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
PYTHON3=${PYTHON3:-/usr/bin/python3}
export top_srcdir top_builddir PYTHON3
RUNS=${BENCH_RUNS:-10}
IDLE=${BENCH_IDLE:-60}
WINDOWS=10
RTT_LO=${BENCH_RTT_LO:-2}
RTT_HI=${BENCH_RTT_HI:-20}
PROBE_MS=20
OUT=${BENCH_OUT:-$top_srcdir/bench/RESULTS.md}
RAW=${BENCH_RAW:-$top_srcdir/bench/results.tsv}
PICS=${BENCH_PICS:-$top_srcdir/bench}
CMDLINE="BENCH_RUNS=$RUNS BENCH_IDLE=$IDLE bench/run.sh"

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)"; exit 1; }
if ! command -v keepalived >/dev/null 2>&1 || [ ! -x /usr/bin/aws ] ||
	! command -v gnuplot >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	echo "bench: installing keepalived, awscli, gnuplot-nox and curl (Debian packages)"
	apt-get install -y keepalived awscli gnuplot-nox curl >/dev/null || exit 1
fi
command -v nft >/dev/null 2>&1 || { echo "bench: needs nft (the data plane's NAT)"; exit 1; }
EIPFLOATD=${EIPFLOATD:-$top_builddir/eipfloatd}
if [ ! -x "$EIPFLOATD" ]; then
	make -C "$top_builddir" eipfloatd >/dev/null || exit 1
fi
EIPFLOATD=$(cd "$(dirname "$EIPFLOATD")" && pwd)/$(basename "$EIPFLOATD")
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
. "$top_srcdir/tests/e2e/dataplane.sh"
netns_require
topo_up

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
# Also into $RAW.partial as it goes: a long run's numbers survive a
# temporary directory that vanished under it.
record() {
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$T/raw.tsv"
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RAW.partial"
}
: >"$T/raw.tsv"
: >"$RAW.partial"

# --- HTTPS with a private CA, a round-trip time in front ---------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
	-days 2 -subj "/CN=eipfloatd bench CA" 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout "$T/srv.key" -out "$T/srv.csr" \
		-subj "/CN=$EMU_IP" 2>/dev/null &&
	printf 'subjectAltName=IP:%s\n' "$EMU_IP" >"$T/srv.ext" &&
	openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-CAcreateserial -days 2 -extfile "$T/srv.ext" -out "$T/srv.pem" \
		2>/dev/null || { echo "bench: openssl failed"; exit 1; }
EMU_ARGS="--tls-cert $T/srv.pem --tls-key $T/srv.key --tls-port 8443"
emu_start none
dp_start 0 || { echo "bench: the data plane did not start"; exit 1; }
# Port 9000+RTT closes connections idle for 1 s: a standby that has been
# quiet for a while (days, on a real cluster: beyond libcurl's 118 s
# connection lifetime) takes over on a cold connection. Port 9100+RTT
# keeps them: the connection the standby's start-up DescribeAddresses
# opened is still warm at takeover ("RTTw" cells).
for rtt in $RTT_LO $RTT_HI; do
	ip netns exec "$NS_X" "$PYTHON3" "$top_srcdir/bench/rttproxy.py" \
		"$EMU_IP:$((9000 + rtt))" "$EMU_IP:8443" "$rtt" --idle-close 1 \
		>"$T/proxy-$rtt.log" 2>&1 &
	track "$!"
	ip netns exec "$NS_X" "$PYTHON3" "$top_srcdir/bench/rttproxy.py" \
		"$EMU_IP:$((9100 + rtt))" "$EMU_IP:8443" "$rtt" \
		>"$T/proxy-${rtt}w.log" 2>&1 &
	track "$!"
	wait_for 5 grep -q ready "$T/proxy-$rtt.log" &&
		wait_for 5 grep -q ready "$T/proxy-${rtt}w.log" ||
		{ echo "bench: rttproxy failed"; exit 1; }
done
# api_url RTT|RTTw
api_url() {
	case $1 in
	*w) echo "https://$EMU_IP:$((9100 + ${1%w}))" ;;
	*) echo "https://$EMU_IP:$((9000 + $1))" ;;
	esac
}
AWS_TIMEOUT=5000
MONITOR=10000
HZ=$(getconf CLK_TCK)

# --- the two stacks --------------------------------------------------------

# case_setup CASE RTT: eipfloatd and keepalived, each at its defaults and
# at equal heartbeat settings (an advertisement every 200 ms, dead after
# 3 missed); the "hz" cases only for CPU (INTERVAL / ADVERT set by caller).
case_setup() {
	CASE=$1
	API=$(api_url "$2")
	case $CASE in
	eipfloatd-default) STACK=e INTERVAL=200 TIMEOUT=1000 STARTUP=3000 ;;
	eipfloatd-equal) STACK=e INTERVAL=200 TIMEOUT=600 STARTUP=1000 ;;
	eipfloatd-hz) STACK=e STARTUP=1000 ;;
	keepalived-default) STACK=k ADVERT=1 VRRPV=2 ;;
	keepalived-equal) STACK=k ADVERT=0.2 VRRPV=3 ;;
	keepalived-hz) STACK=k VRRPV=3 ;;
	esac
	if [ "$STACK" = e ]; then
		write_conf "$T/e.conf"
		sed -i "s|endpoint = \"$EC2_URL\";|endpoint = \"$API\"; ca_file = \"$T/ca.pem\";|" "$T/e.conf"
		grep -q "$API" "$T/e.conf" || { echo "bench: config rewrite failed"; exit 1; }
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
export AWS_CA_BUNDLE=$T/ca.pem HOME=$T/home-$1
unset AWS_EC2_METADATA_DISABLED AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
exec /usr/bin/aws ec2 associate-address --endpoint-url $API \\
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

# node_pids a|b: every process in the node's namespace (in the CPU and
# memory runs only the stack's: no web service, no sniffer then).
node_pids() { ip netns pids "$(ns_of "$1")" 2>/dev/null; }

# The kills and the reaping in one group with stderr to /dev/null, so
# that bash's "Killed" job notices stay out of the output.
kill_everything() { _kill_everything 2>/dev/null; }
_kill_everything() {
	probe_stop
	for n in a b; do
		for p in $(node_pids $n); do kill -9 "$p" 2>/dev/null; done
	done
	for n in a b; do
		for p in $(pid_of $n) $(eval "echo \${WEB_PID_$n:-}") ${SNIFF_PID:-}; do
			wait "$p" 2>/dev/null
		done
		eval "NODE_PID_$n= WEB_PID_$n="
	done
	SNIFF_PID=
	wait_for 10 sh -c "[ -z \"\$(ip netns pids $NS_A)\$(ip netns pids $NS_B)\" ]"
}

# settle [client]: both up, the EIP on node a, node b settled as the
# standby; with "client" also the web services, a heartbeat sniffer on
# node b and the client seeing node a.
settle() {
	emu post /_emu/set "{\"disassociate\": {\"allocation_id\": \"$ALLOC\"}}" >/dev/null
	: >"$T/ka-a.log"
	: >"$T/ka-b.log"
	if [ "${1:-}" = client ]; then
		web_start a && web_start b || return 1
		ip netns exec "$NS_B" "$PYTHON3" "$top_srcdir/bench/sniff.py" hb0 \
			"$PORT0" --max-seconds 120 >"$T/sniff.log" 2>/dev/null &
		SNIFF_PID=$!
		track "$SNIFF_PID"
	fi
	start_node a
	start_node b
	if [ "$STACK" = e ]; then
		wait_state a ACTIVE 30 && wait_state b STANDBY 10 &&
			wait_for 10 owner_is a || return 1
	else
		wait_for 30 owner_is a || return 1
		wait_for 10 grep -q 'Entering BACKUP' "$T/ka-b.log" || return 1
	fi
	[ "${1:-}" = client ] || { sleep 1; return 0; }
	wait_for 5 sh -c "[ \"\$(ip netns exec $NS_X nft get element ip dataplane eip '{ $EIP }' 2>/dev/null | grep -c '$EIP : 10.200.0.1')\" = 1 ]" || return 1
	probe_start "$PROBE_MS"
	wait_for 5 sh -c "tail -n 1 '$T/probe.log' | grep -q ' node-a\$'" || return 1
	sleep 1
}

# The survivor's first AssociateAddress after SEQ, in s after T0.
takeover_delay() {
	emu eval "(lambda c: '%.4f' % (c[0]['wall'] - $2) if c else 'none')([c for c in calls(action='AssociateAddress', since=$1) if c['params'].get('InstanceId') == '$IB'])"
}

# failover_run KILL|TERM RTT: records the client's gap, the signal ->
# AssociateAddress delay and (eipfloatd) the ACTIVE -> AssociateAddress leg.
failover_run() {
	if ! settle client; then
		log "$CASE: did not settle (EIP on $(emu_owner))"
		kill_everything
		return 1
	fi
	seq=$(emu_seq)
	tp=$(head -n 1 "$T/probe.log" | awk '{ print $1 }')
	t0=$(now_s)
	if [ "$1" = KILL ]; then
		# A crash of the node: freeze every process first, so that
		# none sees another die (keepalived's VRRP child would take
		# its parent's death as a stop and resign gracefully).
		pids=$(node_pids a)
		{
			for p in $pids; do kill -STOP "$p"; done
			for p in $pids; do kill -9 "$p"; done
			for p in $(pid_of a) $WEB_PID_a; do wait "$p"; done
		} 2>/dev/null
	else
		# A clean shutdown of the node: the failover daemon and the
		# web service stop together, as on poweroff.
		kill -TERM "$WEB_PID_a" "$(pid_of a)"
	fi
	wait_for 30 sh -c "tail -n 1 '$T/probe.log' | grep -q ' node-b\$'"
	sleep 0.3
	probe_stop
	probe_gap node-a node-b "$tp"
	api=$(takeover_delay "$seq" "$t0")
	leg=none
	if [ "$STACK" = e ]; then
		ta=$(sed -n 's/^\([0-9T:.-]*\) .*STANDBY -> ACTIVE.*/\1/p' "$T/b.log" | tail -n 1)
		[ -n "$ta" ] && leg=$(emu eval "(lambda c: '%.4f' % (c[0]['wall'] - $(date -d "$ta" +%s.%N)) if c else 'none')(calls(action='AssociateAddress', since=$seq))")
	fi
	record "$CASE" "down_$1_$2" "$GAP"
	record "$CASE" "api_$1_$2" "$api"
	record "$CASE" "leg_$1_$2" "$leg"
	log "$CASE $1 rtt $2 ms: client gap $GAP s, signal -> AssociateAddress $api s, ACTIVE -> AssociateAddress $leg s"
	if [ "$1" = KILL ] && [ "$2" = "$RTT_LO" ] && [ ! -e "$T/tl-$CASE.t0" ]; then
		cp "$T/probe.log" "$T/tl-$CASE.probe"
		cp "$T/sniff.log" "$T/tl-$CASE.sniff"
		emu get "/_emu/calls?service=ec2&since=$((seq - 20))" >"$T/tl-$CASE.calls"
		echo "$t0" >"$T/tl-$CASE.t0"
	fi
	kill_everything
	[ "$GAP" != none ]
}

# --- CPU and memory ----------------------------------------------------------
ticks() {
	for p in $(node_pids "$1"); do
		awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}
# mem a|b: "RSS PSS USS" in KiB over the node's processes.
mem() {
	for p in $(node_pids "$1"); do
		awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 }
			/^Private_(Clean|Dirty):/ { u += $2 }
			END { print r + 0, p + 0, u + 0 }' "/proc/$p/smaps_rollup" 2>/dev/null
	done | awk '{ r += $1; p += $2; u += $3 } END { print r + 0, p + 0, u + 0 }'
}

# cpu_run e|k HZ: heartbeats per second HZ, IDLE s in WINDOWS windows.
cpu_run() {
	if [ "$1" = e ]; then
		INTERVAL=$((1000 / $2))
		TIMEOUT=$((INTERVAL * 5))
		[ "$TIMEOUT" -ge 300 ] || TIMEOUT=300
		case_setup eipfloatd-hz "$RTT_LO"
	else
		ADVERT=$(awk -v h="$2" 'BEGIN { printf "%g", 1 / h }')
		case_setup keepalived-hz "$RTT_LO"
	fi
	c=$CASE-$2
	settle || { log "$c: did not settle"; kill_everything; return 1; }
	sleep 2
	w=$((IDLE / WINDOWS))
	[ "$w" -ge 1 ] || w=1
	i=0
	ta0=$(ticks a)
	tb0=$(ticks b)
	s00=$(now_s)
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
			record "$c" "cpu_ms_per_s_$n" "$(awk -v d=$((x1 - x0)) -v hz="$HZ" -v s0="$s0" -v s1="$s1" 'BEGIN { printf "%.3f", 1000 * d / hz / (s1 - s0) }')"
		done
		i=$((i + 1))
	done
	s11=$(now_s)
	for n in a b; do
		eval "x0=\$t${n}0"
		record "$c" "cpu_s_total_$n" "$(awk -v d=$(($(ticks $n) - x0)) -v hz="$HZ" 'BEGIN { printf "%.2f", d / hz }')"
		record "$c" "window_s" "$(awk -v a="$s00" -v b="$s11" 'BEGIN { printf "%.1f", b - a }')"
		set -- "$1" "$2" $(mem $n)
		record "$c" "rss_kib_$n" "$3"
		record "$c" "pss_kib_$n" "$4"
		record "$c" "uss_kib_$n" "$5"
		set -- "$1" "$2"
	done
	log "$c: CPU a $(awk -v d=$(($(ticks a) - ta0)) -v hz="$HZ" 'BEGIN { printf "%.2f", d / hz }') s, b $(awk -v d=$(($(ticks b) - tb0)) -v hz="$HZ" 'BEGIN { printf "%.2f", d / hz }') s; memory a $(mem a)"
	kill_everything
}

# --- a cold and a warm HTTPS request through the round trip --------------------
conn_runs() {
	for rtt in $RTT_LO $RTT_HI; do
		u=$(api_url "$rtt")/
		i=0
		while [ "$i" -lt "${BENCH_CONN_RUNS:-$RUNS}" ]; do
			ip netns exec "$NS_A" curl -s -o /dev/null --cacert "$T/ca.pem" \
				-o /dev/null -w '%{time_starttransfer}\n' "$u" "$u" >"$T/curl.out" 2>/dev/null
			record conn "cold_rtt$rtt" "$(sed -n 1p "$T/curl.out")"
			record conn "warm_rtt$rtt" "$(sed -n 2p "$T/curl.out")"
			i=$((i + 1))
		done
	done
}

# --- run -------------------------------------------------------------------

T_START=$(date +%s)
conn_runs
PLAN=${BENCH_PLAN:-"eipfloatd-default:KILL:$RTT_LO eipfloatd-default:TERM:$RTT_LO
eipfloatd-equal:KILL:$RTT_LO eipfloatd-equal:TERM:$RTT_LO
keepalived-default:KILL:$RTT_LO keepalived-default:TERM:$RTT_LO
keepalived-equal:KILL:$RTT_LO keepalived-equal:TERM:$RTT_LO
eipfloatd-equal:KILL:$RTT_HI keepalived-equal:KILL:$RTT_HI
eipfloatd-equal:KILL:${RTT_LO}w eipfloatd-equal:KILL:${RTT_HI}w"}
for cell in $PLAN; do
	c=${cell%%:*}
	rest=${cell#*:}
	sig=${rest%%:*}
	rtt=${rest#*:}
	case_setup "$c" "$rtt"
	r=1
	retries=0
	while [ "$r" -le "$RUNS" ]; do
		# A start where node b won (keepalived: both BACKUP, whoever
		# times out first) is no failover sample: redo.
		if ! failover_run "$sig" "$rtt"; then
			retries=$((retries + 1))
			record "$c" "unsettled_${sig}_$rtt" 1
			[ "$retries" -le "$RUNS" ] && continue
		fi
		r=$((r + 1))
	done
done
for hz in ${BENCH_HZ:-5 20 100}; do
	log "CPU at $hz heartbeats/s: eipfloatd, then keepalived, $IDLE s each"
	cpu_run e "$hz"
	cpu_run k "$hz"
done
record meta elapsed_s $(($(date +%s) - T_START))
cp "$T/raw.tsv" "$RAW"
mkdir -p "$T/tl"
cp "$T"/tl-* "$T/tl/" 2>/dev/null

# --- report and pictures -----------------------------------------------------
"$PYTHON3" "$top_srcdir/bench/report.py" "$RAW" "$OUT" "$PICS" "$T/tl" \
	"$CMDLINE" "$RUNS" "$IDLE" "$EIPFLOATD" "$RTT_LO" "$RTT_HI" "$PROBE_MS" ||
	FAILED=1
