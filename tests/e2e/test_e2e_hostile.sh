#!/bin/sh
# test_e2e_hostile.sh - a third host (the API namespace) sends garbage,
# forged (with a key id we lack, and with ours), other-cluster and replayed packets to both nodes' heartbeat
# addresses, from its own address and spoofing the peer's: no state
# change, no API write, and the rejected counters of the state dump grow
# under the right reasons. Replayed heartbeats of a killed ACTIVE do not
# keep it "alive": the standby still takes over on time.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start a

INTERVAL=100 TIMEOUT=500 write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "start_node_a_active" wait_state a ACTIVE 15
check "start_node_b_standby" wait_state b STANDBY 10

# Record node-a's real heartbeats as node-b receives them on link 0.
check "capture_real_heartbeats" ip netns exec "$NS_B" "$PYTHON3" \
	"$top_srcdir/tests/udpsend.py" capture --iface hb0 --src 10.200.0.1 \
	--port "$PORT0" --count 30 --out "$T/captured.hex"

attack() { # attack ARGS...: udpsend.py send from the third host
	ip netns exec "$NS_X" "$PYTHON3" "$top_srcdir/tests/udpsend.py" send \
		--cluster e2e "$@" >>"$T/attack.log" 2>&1
}
term_a=$(state_term a)
term_b=$(state_term b)
ta=$(transitions a)
tb=$(transitions b)
seq=$(emu_seq)
for r in wrong-source bad-magic truncated oversized bad-mac unknown-key other-cluster replay; do
	eval "b0_$(echo $r | tr - _)=$(rejected b $r)"
done
a0_bad_mac=$(rejected a bad-mac)

# From the third host's own address, to both nodes and both links.
attack --to 10.200.0.2:$PORT0 --kind garbage --count 40
attack --to 10.200.1.2:$PORT1 --kind forged --node node-a --link 1 --count 20
attack --to 10.200.0.1:$PORT0 --kind forged --node node-b --count 20
# Spoofing the peer's address and port: past the source check.
attack --to 10.200.0.2:$PORT0 --spoof 10.200.0.1:$PORT0 --kind garbage --count 60
attack --to 10.200.0.2:$PORT0 --spoof 10.200.0.1:$PORT0 --kind forged --count 30
KEYID="--file $T/captured.hex" # forged with the real key's id: meets the MAC
attack --to 10.200.0.2:$PORT0 --spoof 10.200.0.1:$PORT0 --kind forged $KEYID --count 30
attack --to 10.200.0.2:$PORT0 --spoof 10.200.0.1:$PORT0 --kind forged $KEYID --leave --count 30
attack --to 10.200.1.2:$PORT1 --spoof 10.200.1.1:$PORT1 --kind forged $KEYID --link 1 --leave --count 30
attack --to 10.200.0.2:$PORT0 --spoof 10.200.0.1:$PORT0 --kind other --count 20
attack --to 10.200.0.2:$PORT0 --spoof 10.200.0.1:$PORT0 --kind replay --file "$T/captured.hex" --count 30
attack --to 10.200.0.1:$PORT0 --spoof 10.200.0.2:$PORT0 --kind forged $KEYID --node node-b --leave --count 30
sed 's/^/# /' "$T/attack.log"
sleep 1

check "attacked_node_a_still_active" state_is a ACTIVE
check "attacked_node_b_still_standby" state_is b STANDBY
check "attacked_no_state_change_logged" [ "$(transitions a) $(transitions b)" = "$ta $tb" ]
check "attacked_terms_unchanged" [ "$(state_term a) $(state_term b)" = "$term_a $term_b" ]
check "attacked_zero_api_writes" [ "$(writes_since "$seq")" -eq 0 ]
for r in wrong-source bad-magic bad-mac unknown-key other-cluster replay; do
	v=$(echo $r | tr - _)
	now=$(rejected b "$r")
	eval "before=\$b0_$v"
	echo "# node-b rejected $r: $before -> $now"
	check "rejected_counter_${v}_grows" gt "$now" "$before"
done
check "rejected_short_and_long_garbage_counted" \
	gt "$(( $(rejected b truncated) + $(rejected b oversized) ))" "$(( b0_truncated + b0_oversized ))"
check "rejected_forged_leave_at_node_a" gt "$(rejected a bad-mac)" "$a0_bad_mac"
# 380 bad packets at node-b, a few warning lines (3 per link per 10 s).
nlog=$(grep -v ' dump: ' "$T/b.log" | grep -c -E 'dropped packet')
echo "# node-b logged $nlog 'dropped packet' lines for the attack"
check "rejections_logged_rate_limited" sh -c "[ $nlog -ge 1 ] && [ $nlog -le 30 ]"

# Kill the ACTIVE and replay its recorded heartbeats at the standby on both
# links meanwhile: the replays must not stand in for a live peer.
ip netns exec "$NS_B" "$PYTHON3" "$top_srcdir/tests/udpsend.py" capture \
	--iface hb1 --src 10.200.1.1 --port "$PORT1" --count 20 \
	--out "$T/captured1.hex" >/dev/null
seq=$(emu_seq)
r0=$(rejected b replay)
t0=$(now_s)
stop_node a KILL
attack --to 10.200.0.2:$PORT0 --spoof 10.200.0.1:$PORT0 --kind replay \
	--file "$T/captured.hex" --count 150 --gap 0.02 &
r1=$!
attack --to 10.200.1.2:$PORT1 --spoof 10.200.1.1:$PORT1 --kind replay \
	--file "$T/captured1.hex" --count 150 --gap 0.02 &
r2=$!
track $r1
track $r2
check "replays_do_not_keep_dead_peer_alive" wait_state b ACTIVE 5
wait $r1 $r2
d=$(assoc_delay "$seq" "$t0")
echo "# kill -9 under replay flood -> AssociateAddress: $d s (timeout 0.5 s)"
check "takeover_on_time_despite_replays" le "$d" 2.5
check "replay_flood_counted" gt "$(rejected b replay)" "$r0"

check "every_ec2_request_validly_signed" emu_all_signed
finish
