# tests/e2e/netns.sh - the two-node topology of the end-to-end tests, in network
# namespaces. Source it after tests/lib.sh; every name carries $$ so that
# several tests run side by side, and topo_down (registered with at_exit)
# removes everything even when a check fails.
#
#   node a (NS_A)                                  node b (NS_B)
#   hb0 10.200.0.1/24 <------ link 0, 5405 ------> hb0 10.200.0.2/24
#   hb1 10.200.1.1/24 <------ link 1, 5404 ------> hb1 10.200.1.2/24
#   api 10.201.0.1/30 --+                      +-- api 10.201.1.1/30
#                       |     API (NS_X)       |
#                  va 10.201.0.2/30    vb 10.201.1.2/30
#                  lo 10.202.0.1/32: ec2emu, EC2 on :8000, IMDS on :80
#
# The API namespace does not forward, so cutting the heartbeat links really
# partitions the nodes while both still reach the API. It also has routes to
# the nodes' heartbeat addresses: it is the "third host" of the hostile
# packet tests.
#
#   client (NS_C) eth0 10.203.0.2/30 --- vc 10.203.0.1/30 (NS_X)
#   The client reaches the Elastic IP only through the API namespace's 1:1
#   NAT, which forwards once dp_start (tests/e2e/dataplane.sh) set it up.

NS_A=e2e-a-$$
NS_B=e2e-b-$$
NS_X=e2e-x-$$
NS_C=e2e-c-$$
EMU_IP=10.202.0.1
EC2_URL=http://$EMU_IP:8000
IMDS_URL=http://$EMU_IP:80
REGION=eu-west-1
IA=i-0aaaaaaaaaaaaaaa1
IB=i-0bbbbbbbbbbbbbbb2
ALLOC=eipalloc-0e2e00000000000a1
EIP=198.51.100.10
KEY=AKIAE2ETESTKEY000001
SECRET=e2e/secret/key/for/the/ec2emu/world/only0
PORT0=5405
PORT1=5404
CUT0=0
CUT1=0
CUTAPI=0
LOSS=0
TOPO_UP=0

netns_require() {
	[ "$(id -u)" -eq 0 ] ||
		skip_all "needs root to create network namespaces (run make check as root)"
	command -v ip >/dev/null 2>&1 || skip_all "ip(8) from iproute2 is not installed"
	ip netns list >/dev/null 2>&1 || skip_all "ip netns is not available"
	ip netns add "e2e-probe-$$" 2>/dev/null ||
		skip_all "cannot create network namespaces here (container without CAP_SYS_ADMIN?)"
	ip netns del "e2e-probe-$$"
	[ -x "$EIPFLOATD" ] || { echo "FAIL: no daemon binary $EIPFLOATD"; exit 1; }
}

# nft drops packets while the interfaces stay up, which is what a broken
# network or a security group looks like. Without nft, cuts fall back to
# links going down and packet loss is unavailable.
# E2E_NO_NFT=1 forces the fallback (to test it).
have_nft() { [ -z "${E2E_NO_NFT:-}" ] && command -v nft >/dev/null 2>&1; }

ns_of() {
	case $1 in
	a) echo "$NS_A" ;;
	b) echo "$NS_B" ;;
	x) echo "$NS_X" ;;
	*) echo "ns_of: unknown node $1" >&2; return 1 ;;
	esac
}

topo_up() {
	for ns in "$NS_A" "$NS_B" "$NS_X" "$NS_C"; do
		ip netns add "$ns" || { echo "FAIL: ip netns add $ns"; exit 1; }
	done
	TOPO_UP=1
	at_exit topo_down
	at_exit e2e_show_logs
	set -e
	for ns in "$NS_A" "$NS_B" "$NS_X" "$NS_C"; do ip -n "$ns" link set lo up; done
	ip link add hb0 netns "$NS_A" type veth peer name hb0 netns "$NS_B"
	ip link add hb1 netns "$NS_A" type veth peer name hb1 netns "$NS_B"
	ip link add api netns "$NS_A" type veth peer name va netns "$NS_X"
	ip link add api netns "$NS_B" type veth peer name vb netns "$NS_X"
	ip link add eth0 netns "$NS_C" type veth peer name vc netns "$NS_X"
	ip -n "$NS_C" addr add 10.203.0.2/30 dev eth0
	ip -n "$NS_X" addr add 10.203.0.1/30 dev vc
	ip -n "$NS_C" link set eth0 up
	ip -n "$NS_X" link set vc up
	ip -n "$NS_C" route add 198.51.100.0/24 via 10.203.0.1
	ip -n "$NS_A" addr add 10.200.0.1/24 dev hb0
	ip -n "$NS_B" addr add 10.200.0.2/24 dev hb0
	ip -n "$NS_A" addr add 10.200.1.1/24 dev hb1
	ip -n "$NS_B" addr add 10.200.1.2/24 dev hb1
	ip -n "$NS_A" addr add 10.201.0.1/30 dev api
	ip -n "$NS_X" addr add 10.201.0.2/30 dev va
	ip -n "$NS_B" addr add 10.201.1.1/30 dev api
	ip -n "$NS_X" addr add 10.201.1.2/30 dev vb
	ip -n "$NS_X" addr add "$EMU_IP/32" dev lo
	for ifc in hb0 hb1 api; do
		ip -n "$NS_A" link set "$ifc" up
		ip -n "$NS_B" link set "$ifc" up
	done
	ip -n "$NS_X" link set va up
	ip -n "$NS_X" link set vb up
	ip -n "$NS_A" route add 10.202.0.0/24 via 10.201.0.2
	ip -n "$NS_B" route add 10.202.0.0/24 via 10.201.1.2
	ip -n "$NS_A" route add 10.203.0.0/24 via 10.201.0.2
	ip -n "$NS_B" route add 10.203.0.0/24 via 10.201.1.2
	ip -n "$NS_X" route add 10.200.0.1/32 via 10.201.0.1
	ip -n "$NS_X" route add 10.200.1.1/32 via 10.201.0.1
	ip -n "$NS_X" route add 10.200.0.2/32 via 10.201.1.1
	ip -n "$NS_X" route add 10.200.1.2/32 via 10.201.1.1
	for ns in "$NS_A" "$NS_B" "$NS_X" "$NS_C"; do
		ip netns exec "$ns" sysctl -q -w net.ipv4.ip_forward=0 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	done
	set +e
}

# On failure, the tail of every log goes to the test's output (the .log
# file automake keeps).
e2e_show_logs() {
	[ "$FAILED" -ne 0 ] || return 0
	for f in a.log b.log emu.log; do
		[ -s "$T/$f" ] || continue
		echo "# --- last lines of $f ---"
		tail -n "${SHOW_LINES:-40}" "$T/$f" | sed 's/^/# /'
	done
}

topo_down() {
	[ "$TOPO_UP" = 1 ] || return 0
	# Only processes this test started live in its namespaces.
	for ns in "$NS_A" "$NS_B" "$NS_X" "$NS_C"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
	done
	for ns in "$NS_A" "$NS_B" "$NS_X" "$NS_C"; do
		ip netns del "$ns" 2>/dev/null
	done
	TOPO_UP=0
}

# --- the emulator --------------------------------------------------------

# emu_start [OWNER]: OWNER a, b or none (default) holds the EIP at start.
# INST_A_EXTRA / INST_B_EXTRA (', "key": value' JSON) add to an instance,
# WORLD_EXTRA (' "key": value,' JSON) to the world (subnets, route tables).
# CRED_TTL (seconds) sets the lifetime of role credentials; NO_ROLE (a, b
# or "a b") gives those instances no instance role; EMU_ARGS are more
# ec2emu.py options (the bench's --tls-cert/--tls-key).
emu_start() {
	case ${1:-none} in
	a) assoc=", \"instance_id\": \"$IA\"" ;;
	b) assoc=", \"instance_id\": \"$IB\"" ;;
	*) assoc= ;;
	esac
	role_a=
	role_b=
	case " ${NO_ROLE:-} " in *" a "*) role_a=', "role": null' ;; esac
	case " ${NO_ROLE:-} " in *" b "*) role_b=', "role": null' ;; esac
	cat >"$T/world.json" <<EOF
{
  "region": "$REGION",
  "credential_ttl": ${CRED_TTL:-21600},
  "instances": [
    {"id": "$IA", "private_ip": "10.200.0.1", "source_ips": ["10.201.0.1"],
     "az": "${REGION}a"$role_a${INST_A_EXTRA:-}},
    {"id": "$IB", "private_ip": "10.200.0.2", "source_ips": ["10.201.1.1"],
     "az": "${REGION}b"$role_b${INST_B_EXTRA:-}}
  ],${WORLD_EXTRA:-}
  "addresses": [
    {"allocation_id": "$ALLOC", "public_ip": "$EIP"$assoc}
  ],
  "access_keys": [{"access_key_id": "$KEY", "secret": "$SECRET"}]
}
EOF
	rm -f "$T/emu.ready"
	ip netns exec "$NS_X" "$PYTHON3" "$top_srcdir/tests/ec2emu.py" \
		--world "$T/world.json" --listen "$EMU_IP" --port 8000 \
		--imds "$EMU_IP:80" --ready-file "$T/emu.ready" ${EMU_ARGS:-} \
		>"$T/emu.out" 2>>"$T/emu.log" &
	EMU_PID=$!
	track "$EMU_PID"
	if ! wait_for 15 test -s "$T/emu.ready"; then
		echo "FAIL: the emulator did not start"
		cat "$T/emu.log"
		FAILED=$((FAILED + 1))
		exit 1
	fi
}

# emu ARGS...: tests/emuctl.py against the emulator, run inside the API
# namespace (nothing in the root namespace can reach it).
emu() {
	ip netns exec "$NS_X" "$PYTHON3" "$top_srcdir/tests/emuctl.py" \
		"$EC2_URL" "$@"
}
emu_eval() { emu eval "$1"; }

# emu_is EXPR VALUE: the expression prints VALUE.
emu_is() { [ "$(emu eval "$1")" = "$2" ]; }

# Number of EC2 calls of ACTION (all actions when "") after sequence SINCE.
emu_count() { emu eval "len(calls(action='$1' or None, since=${2:-0}))"; }
emu_seq() { emu eval "seq()"; }
emu_owner() { emu eval "owner('$ALLOC')"; }
emu_fault() { emu post /_emu/faults "$1" >/dev/null; }
emu_clear_faults() { emu delete /_emu/faults >/dev/null; }

# Every EC2 request so far carried a valid SigV4 signature.
emu_all_signed() {
	[ "$(emu eval "sum(1 for c in calls(dry=None) if not c['signature_valid'])")" = 0 ] &&
		[ "$(emu_count '')" -gt 0 ]
}
owner_is() { # owner_is a|b|none
	case $1 in
	a) [ "$(emu_owner)" = "$IA" ] ;;
	b) [ "$(emu_owner)" = "$IB" ] ;;
	*) [ "$(emu_owner)" = none ] ;;
	esac
}

# --- configuration ---------------------------------------------------------

# write_conf FILE: one configuration for both nodes. Knobs (environment):
# INTERVAL TIMEOUT STARTUP MONITOR FAILBACK FAILBACK_DELAY PRIO_A PRIO_B
# CHECK (a health-check command, "" for none) CRED_MODE (role: instance
# role through the emulator's IMDS, the instance ids and region from IMDS;
# static: keys from the environment, ids and region in the file)
# AWS_TIMEOUT MIGRATION ACQUIRE_TIMEOUT AUTHKEY (the cluster.authkey value
# as written: a quoted path or a [ list ]; default "$T/authkey") RESOURCES
# (the resources list's groups as written; default the one EIP).
write_conf() {
	[ -e "$T/authkey" ] || make_key "$T/authkey"
	_authkey=${AUTHKEY:-\"$T/authkey\"}
	_eip="{ type = \"eip\"; allocation_id = \"$ALLOC\"; }"
	if [ "${CRED_MODE:-role}" = static ]; then
		ida="instance_id = \"$IA\";"
		idb="instance_id = \"$IB\";"
		region=$REGION
	else
		ida=
		idb=
		region=
	fi
	check=
	if [ -n "${CHECK:-}" ]; then
		check="check = { command = \"$CHECK\"; interval_ms = 200; fall = 2; rise = 2; };"
	fi
	cat >"$1" <<EOF
# eipfloatd end-to-end test configuration (tests/e2e/netns.sh)
cluster = { name = "e2e"; authkey = $_authkey; };
nodes = (
  { name = "node-a"; addresses = [ "10.200.0.1", "10.200.1.1" ];
    priority = ${PRIO_A:-100}; $ida },
  { name = "node-b"; addresses = [ "10.200.0.2", "10.200.1.2" ];
    priority = ${PRIO_B:-50}; $idb }
);
heartbeat = { interval_ms = ${INTERVAL:-100}; timeout_ms = ${TIMEOUT:-500};
  ports = [ $PORT0, $PORT1 ]; };
election = { failback = ${FAILBACK:-false};
  failback_delay_ms = ${FAILBACK_DELAY:-2000};
  startup_wait_ms = ${STARTUP:-1000};
  migration_threshold = ${MIGRATION:-1};
  acquire_timeout_ms = ${ACQUIRE_TIMEOUT:-30000}; };
aws = { region = "$region"; endpoint = "$EC2_URL";
  imds_endpoint = "$IMDS_URL"; timeout_ms = ${AWS_TIMEOUT:-2000}; };
resources = ( ${RESOURCES:-$_eip} );
monitor = { interval_ms = ${MONITOR:-1000}; };
$check
EOF
}

# --- the daemons -----------------------------------------------------------

pid_of() { eval "echo \${NODE_PID_$1:-}"; }

# run_node a|b CONF: start the real daemon in the node's namespace, its log
# appended to $T/a.log (b.log). Credentials per CRED_MODE (see write_conf):
# for the role path IMDS is enabled for this process only. FAKE_CLOCK_a
# (FAKE_CLOCK_b), e.g. "+10m", runs that node under Debian's faketime: its
# wall clock is off by that much (the monotonic clock is left alone).
run_node() {
	_n=$1
	_ns=$(ns_of "$_n")
	_fake=$(eval "echo \${FAKE_CLOCK_$_n:-}")
	_pre=
	if [ -n "$_fake" ]; then
		# libfaketime itself, not faketime(1), which forks: $! must be
		# the daemon. ASan must otherwise be the first library loaded.
		_lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
		[ -n "$_lib" ] || echo "# no libfaketime.so.1: node-$_n on the real clock"
		_pre="env LD_PRELOAD=$_lib FAKETIME=$_fake FAKETIME_DONT_FAKE_MONOTONIC=1"
		_pre="$_pre ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	fi
	mkdir -p "$T/run-$_n"
	echo "=== $(date '+%T.%N') start node-$_n" >>"$T/$_n.log"
	_starts=$(grep -c ' starting' "$T/$_n.log")
	if [ "${CRED_MODE:-role}" = static ]; then
		ip netns exec "$_ns" env HOME="$T" E2E_NODE="$_n" \
			AWS_EC2_METADATA_DISABLED=true \
			AWS_ACCESS_KEY_ID="$KEY" AWS_SECRET_ACCESS_KEY="$SECRET" \
			$_pre "$EIPFLOATD" -c "$2" -n "node-$_n" \
			--runtime-dir "$T/run-$_n" --state-dir "$T/state-$_n" \
			-l "${LOGLEVEL:-info}" \
			2>>"$T/$_n.log" &
	else
		ip netns exec "$_ns" env -u AWS_EC2_METADATA_DISABLED \
			-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
			-u AWS_SESSION_TOKEN -u AWS_PROFILE HOME="$T" \
			E2E_NODE="$_n" \
			$_pre "$EIPFLOATD" -c "$2" -n "node-$_n" \
			--runtime-dir "$T/run-$_n" --state-dir "$T/state-$_n" \
			-l "${LOGLEVEL:-info}" \
			2>>"$T/$_n.log" &
	fi
	eval "NODE_PID_$_n=$!"
	track "$!"
	wait_started "$_n" "$_starts"
}

# wait_started a|b COUNT: the node's log has more than COUNT start lines.
# Signals (the dumps) only once it has said hello: before its handlers
# are installed SIGUSR1 would kill it.
wait_started() {
	wait_for 10 sh -c "[ \$(grep -c ' starting' '$T/$1.log') -gt $2 ]" ||
		echo "# node-$1 did not log its start within 10 s"
}

# The process is gone or a zombie waiting for us.
pid_gone() {
	[ ! -e "/proc/$1/stat" ] ||
		[ "$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# stop_node a|b SIGNAL: signal the daemon and reap it; $NODE_RC is its exit
# status (137 after KILL), 255 when it did not exit within 10 s.
stop_node() {
	_p=$(pid_of "$1")
	NODE_RC=255
	[ -n "$_p" ] || return 1
	kill "-$2" "$_p" 2>/dev/null
	if wait_for 10 pid_gone "$_p"; then
		wait "$_p"
		NODE_RC=$?
	else
		kill -9 "$_p" 2>/dev/null
		wait "$_p"
	fi
	eval "NODE_PID_$1="
	echo "=== $(date '+%T.%N') node-$1 stopped by SIG$2, status $NODE_RC" >>"$T/$1.log"
}

# dump_state a|b: SIGUSR1, then print the fresh state file.
dump_state() {
	_p=$(pid_of "$1")
	[ -n "$_p" ] || return 1
	rm -f "$T/run-$1/state"
	kill -USR1 "$_p" 2>/dev/null || return 1
	wait_for 5 test -s "$T/run-$1/state" || return 1
	cat "$T/run-$1/state"
}

# node_state a|b: ACTIVE, STANDBY, STARTING or FAULT from a fresh dump.
node_state() { dump_state "$1" | sed -n 's/^state: *\([A-Z]*\).*/\1/p'; }
state_is() { [ "$(node_state "$1")" = "$2" ]; }

# state_field a|b FIELD: the rest of the dump line "FIELD: ...".
state_field() { dump_state "$1" | sed -n "s/^$2: *//p" | head -n 1; }

# wait_state a|b STATE SECONDS: poll the dump four times a second.
wait_state() {
	_limit=$(($3 * 4))
	_i=0
	while [ "$_i" -lt "$_limit" ]; do
		state_is "$1" "$2" && return 0
		sleep 0.25
		_i=$((_i + 1))
	done
	return 1
}

# stays_state a|b STATE SECONDS: still STATE at every poll (twice a
# second) until SECONDS have passed.
stays_state() {
	_end=$(($(date +%s) + $3 + 1))
	while [ "$(date +%s)" -lt "$_end" ]; do
		state_is "$1" "$2" || return 1
		sleep 0.5
	done
	state_is "$1" "$2"
}

# Transitions a node logged ("X -> Y: why"), counted.
transitions() {
	grep -v ' dump: ' "$T/$1.log" |
		grep -c -E '(STARTING|STANDBY|ACTIVE|FAULT) -> (STANDBY|ACTIVE|FAULT)'
}

# --- the network -----------------------------------------------------------

nft_apply() {
	for _ns in "$NS_A" "$NS_B"; do
		{
			echo "table inet e2e"
			echo "delete table inet e2e"
			echo "table inet e2e {"
			echo " chain in { type filter hook input priority 0; policy accept;"
			[ "$CUT0" = 1 ] && echo "  iifname \"hb0\" drop"
			[ "$CUT1" = 1 ] && echo "  iifname \"hb1\" drop"
			[ "$CUTAPI" = 1 ] && echo "  iifname \"api\" drop"
			[ "$LOSS" -gt 0 ] &&
				echo "  iifname { \"hb0\", \"hb1\" } numgen random mod 100 < $LOSS counter drop"
			[ "${DROP_AB:-0}" = 1 ] && [ "$_ns" = "$NS_B" ] &&
				echo "  iifname { \"hb0\", \"hb1\" } drop"
			echo " }"
			echo " chain out { type filter hook output priority 0; policy accept;"
			[ "$CUT0" = 1 ] && echo "  oifname \"hb0\" drop"
			[ "$CUT1" = 1 ] && echo "  oifname \"hb1\" drop"
			[ "$CUTAPI" = 1 ] && echo "  oifname \"api\" drop"
			echo " }"
			echo "}"
		} | ip netns exec "$_ns" nft -f - || return 1
	done
}

# cut_link 0|1|api / heal_link 0|1|api: silence a link both ways.
cut_link() { _link_set "$1" 1; }
heal_link() { _link_set "$1" 0; }
_link_set() {
	case $1 in
	0) CUT0=$2; _ifc=hb0 ;;
	1) CUT1=$2; _ifc=hb1 ;;
	api) CUTAPI=$2; _ifc=api ;;
	*) echo "cut_link: no link $1" >&2; return 1 ;;
	esac
	if have_nft; then
		nft_apply
	else
		_state=up
		[ "$2" = 1 ] && _state=down
		ip -n "$NS_A" link set "$_ifc" "$_state" &&
			ip -n "$NS_B" link set "$_ifc" "$_state" &&
			{ [ "$_ifc" != api ] || [ "$2" = 1 ] ||
				{ ip -n "$NS_A" route replace 10.202.0.0/24 via 10.201.0.2 &&
					ip -n "$NS_B" route replace 10.202.0.0/24 via 10.201.1.2; }; }
	fi
}

# drop_a_to_b 1|0: node-a's heartbeats to node-b lost on both links (as
# they arrive at node-b), node-b's to node-a still flowing.
drop_a_to_b() {
	have_nft || { echo "drop_a_to_b: needs nft" >&2; return 1; }
	DROP_AB=$1
	nft_apply
}

# set_loss PERCENT: random loss on both heartbeat links, both directions.
set_loss() {
	have_nft || { echo "set_loss: needs nft" >&2; return 1; }
	LOSS=$1
	nft_apply
}

# loss_dropped: packets the loss rules dropped so far, both nodes.
loss_dropped() {
	for _ns in "$NS_A" "$NS_B"; do
		ip netns exec "$_ns" nft list chain inet e2e in 2>/dev/null |
			sed -n 's/.*numgen.*counter packets \([0-9]*\).*/\1/p'
	done | awk '{ s += $1 } END { print s + 0 }'
}

# --- measuring and asserting ---------------------------------------------

# now_s: wall clock in seconds with fractions, comparable with the
# emulator's call-log "wall" stamps (same host clock).
now_s() { date +%s.%N; }

# rejected a|b REASON: the node's count of packets refused for REASON
# (eipfloatd-protocol(7) names), summed over the links of a fresh dump.
rejected() {
	dump_state "$1" | grep -o -E "(^|[^a-z-])$2=[0-9]+" |
		sed 's/.*=//' | awk '{ s += $1 } END { print s + 0 }'
}

# assoc_delay SEQ T0: seconds from T0 (now_s) to the first AssociateAddress
# that reached the emulator after call SEQ; "none" when there is none.
assoc_delay() {
	emu eval "(lambda c: '%.3f' % (c[0]['wall'] - $2) if c else 'none')(calls(action='AssociateAddress', since=$1))"
}

# le A B: A <= B for decimal numbers; false when either is not a number.
le() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a !~ /^-?[0-9.]+$/ || b !~ /^-?[0-9.]+$/) exit 1
		exit !(a + 0 <= b + 0) }'
}

# writes_since SEQ: the moving writes (emuctl.py writes()) after SEQ.
writes_since() { emu eval "len(writes($1))"; }

# has_line TEXT REGEX: some line of TEXT matches the extended REGEX.
has_line() { printf '%s\n' "$1" | grep -q -E -- "$2"; }

# state_term a|b: the term number of a fresh dump.
state_term() { state_field "$1" term | grep -o -E '^[0-9]+'; }

# gt A B: integers, A > B (false when either is empty).
gt() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -gt "$2" ]; }

# emu_ge EXPR N: the emulator expression is a number >= N (for wait_for).
emu_ge() { _v=$(emu eval "$1") && [ -n "$_v" ] && [ "$_v" -ge "$2" ]; }

# never_state a|b STATE SECONDS: not STATE (and alive) at any poll.
never_state() {
	_end=$(($(date +%s) + $3 + 1))
	while [ "$(date +%s)" -lt "$_end" ]; do
		_s=$(node_state "$1")
		[ -n "$_s" ] && [ "$_s" != "$2" ] || return 1
		sleep 0.5
	done
}
