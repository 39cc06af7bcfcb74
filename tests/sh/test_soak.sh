#!/bin/sh
# test_soak.sh - a pair of daemons at a 20 ms heartbeat on four links until
# they have exchanged >= 100 000 heartbeats (sent + received, both nodes,
# all links), with link flaps, while their RSS and open file descriptors
# must not grow after warm-up, and the flaps must never cost a failover.
#
# Link flaps need a firewall: as root (or where user namespaces work) the
# test re-runs itself in a private network namespace and drops one link's
# port with nft for longer than the timeout, a link at a time. Without that
# the flaps are SIGSTOP pauses of the standby shorter than the timeout.
# Run by `make soak` (and .ci/run), not by `make check`: it takes ~2-3 min.
#
# SOAK_PACKETS (100000), SOAK_MAX_SECONDS (200), SOAK_WARMUP_SECONDS (15),
# SOAK_RSS_SLACK_KB (256) tune it; SOAK_FLAPS=stop forces the pauses.

if [ -z "${SOAK_NETNS:-}" ] && [ "${SOAK_FLAPS:-}" != stop ] &&
	command -v nft >/dev/null 2>&1 &&
	command -v unshare >/dev/null 2>&1; then
	for u in "-n" "-rn"; do
		if unshare $u sh -c 'ip link set lo up && nft add table inet probe' \
			>/dev/null 2>&1; then
			SOAK_NETNS=1 exec unshare $u sh "$0" "$@"
		fi
	done
fi

. "${top_srcdir:-.}/tests/lib.sh"

want=${SOAK_PACKETS:-100000}
max_s=${SOAK_MAX_SECONDS:-200}
warm_s=${SOAK_WARMUP_SECONDS:-15}
slack_kb=${SOAK_RSS_SLACK_KB:-256}

if [ -n "${SOAK_NETNS:-}" ]; then
	ip link set lo up || skip_all "cannot bring up lo in the namespace"
	nft add table inet soak &&
		nft add chain inet soak input \
			'{ type filter hook input priority 0; }' ||
		skip_all "nft does not work in the namespace"
	flaps=nft
else
	flaps=stop
fi
echo "# flaps: $flaps"

make_key "$T/authkey"
base=$((23000 + $$ % 20000))
cat >"$T/c.conf" <<CONF
cluster = { name = "soak"; authkey = "$T/authkey"; };
nodes = (
  { name = "node-a"; priority = 100; instance_id = "i-0000000000000000a";
    addresses = [ "127.0.0.1", "127.0.1.1", "127.0.2.1", "127.0.3.1" ]; },
  { name = "node-b"; priority = 50; instance_id = "i-0000000000000000b";
    addresses = [ "127.0.0.2", "127.0.1.2", "127.0.2.2", "127.0.3.2" ]; }
);
heartbeat = { interval_ms = 20; timeout_ms = 400;
              ports = [ $base, $((base + 1)), $((base + 2)), $((base + 3)) ]; };
election = { startup_wait_ms = 500; };
monitor = { interval_ms = 1000; };
resources = ( { type = "file"; path = "$T/owner"; } );
aws = { endpoint = "http://127.0.0.1:9"; imds_endpoint = "http://127.0.0.1:9"; };
CONF

start() { # start NODE
	"$EIPFLOATD" -c "$T/c.conf" -n "node-$1" --runtime-dir "$T/run-$1" \
		-l notice 2>"$T/$1.log" &
	eval "pid_$1=$!"
	track $!
	wait_for 10 grep -q 'STARTING: waiting' "$T/$1.log"
}
dump() { # dump NODE: a fresh state dump in $T/run-NODE/state
	rm -f "$T/run-$1/state"
	eval "kill -USR1 \$pid_$1" 2>/dev/null || return 1
	wait_for 5 test -s "$T/run-$1/state"
}
state_of() { dump "$1" && sed -n 's/^state: //p' "$T/run-$1/state"; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }
# packets NODE: sent + received over all its links, from a fresh dump.
packets() {
	dump "$1" || { echo 0; return; }
	sed -n 's/.*, sent \([0-9]*\), .*, received \([0-9]*\), .*/\1 \2/p' \
		"$T/run-$1/state" | awk '{ s += $1 + $2 } END { print s + 0 }'
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# sample NODE: "RSS FDS", each the lowest of three reads 0.1 s apart, so a
# hook or an HTTP call caught in flight does not count as growth.
sample() {
	eval "_p=\$pid_$1"
	_r="" _f=""
	for _i in 1 2 3; do
		_x=$(rss_kb "$_p") _y=$(nfds "$_p")
		[ -z "$_r" ] || [ "$_x" -lt "$_r" ] && _r=$_x
		[ -z "$_f" ] || [ "$_y" -lt "$_f" ] && _f=$_y
		sleep 0.1
	done
	echo "$_r $_f"
}

start a
start b
check "pair_settles_a_active" wait_for 10 is_state a ACTIVE
check "pair_settles_b_standby" wait_for 10 is_state b STANDBY

flap_no=0
flap() { # one flap, a link at a time (link 0 stays up: no failover)
	flap_no=$((flap_no + 1))
	if [ "$flaps" = nft ]; then
		port=$((base + 1 + flap_no % 3))
		nft add rule inet soak input udp dport "$port" drop
		sleep 0.6 # longer than timeout_ms: the link goes down
		nft flush chain inet soak input
	else
		kill -STOP "$pid_b"
		sleep 0.2 # shorter than timeout_ms: no takeover
		kill -CONT "$pid_b"
	fi
}

t0=$(date +%s)
while [ $(($(date +%s) - t0)) -lt "$warm_s" ]; do flap; sleep 1; done
read -r rss_a0 fds_a0 <<EOF
$(sample a)
EOF
read -r rss_b0 fds_b0 <<EOF
$(sample b)
EOF
echo "# after warm-up: a rss ${rss_a0} kB fds $fds_a0, b rss ${rss_b0} kB fds $fds_b0"

total=0
while [ $(($(date +%s) - t0)) -lt "$max_s" ]; do
	flap
	sleep 1
	flap
	sleep 1
	total=$(($(packets a) + $(packets b)))
	[ "$total" -ge "$want" ] && break
done
elapsed=$(($(date +%s) - t0))
echo "# $total heartbeats sent+received in $elapsed s, $flap_no flaps"
check "soak_reached_${want}_heartbeats" [ "$total" -ge "$want" ]

sleep 1 # let the last flap heal
read -r rss_a1 fds_a1 <<EOF
$(sample a)
EOF
read -r rss_b1 fds_b1 <<EOF
$(sample b)
EOF
echo "# at the end: a rss ${rss_a1} kB fds $fds_a1, b rss ${rss_b1} kB fds $fds_b1"
check "rss_a_does_not_grow" [ "$rss_a1" -le $((rss_a0 + slack_kb)) ]
check "rss_b_does_not_grow" [ "$rss_b1" -le $((rss_b0 + slack_kb)) ]
check "fds_a_do_not_grow" [ "$fds_a1" -le "$fds_a0" ]
check "fds_b_do_not_grow" [ "$fds_b1" -le "$fds_b0" ]

if [ "$flaps" = nft ]; then
	check "flaps_took_links_down" grep -q 'down: silent for' "$T/b.log"
	check "flaps_brought_links_back" grep -q -E 'link [123] .* up' "$T/b.log"
fi
check "no_failover_a_still_active" is_state a ACTIVE
check "no_failover_b_still_standby" is_state b STANDBY
check "no_failover_owner_still_a" [ "$(cat "$T/owner")" = node-a ]
check "b_never_took_over" sh -c "! grep -q -- '-> ACTIVE' '$T/b.log'"

kill -TERM "$pid_b"
wait "$pid_b"
check "b_exits_0" [ $? -eq 0 ]
kill -TERM "$pid_a"
wait "$pid_a"
check "a_exits_0" [ $? -eq 0 ]
finish
