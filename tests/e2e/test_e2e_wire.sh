#!/bin/sh
# test_e2e_wire.sh - the heartbeat protocol under real operators and clocks,
# two nodes in namespaces (issue 11):
#  - node-b's wall clock 10 minutes ahead (Debian's faketime): one ACTIVE,
#    no API write, no rejected packet; freshness needs no clock;
#  - key rotation by the documented three reloads per node, seconds apart:
#    no write, no transition, nothing rejected, the peer's key id in
#    `status --json` following each step;
#  - node-a's recorded heartbeats replayed at a restarted node-b after node-a
#    died: never believed, node-b takes over;
#  - a one-sided wrong key: the clear "unknown-key" line naming both ids.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 ||
	skip_all "no libfaketime (apt-get install faketime)"
topo_up
emu_start a

make_key "$T/authkey"
make_key "$T/authkey.new"
make_key "$T/authkey.other"
OLD="\"$T/authkey\""
NEW="\"$T/authkey.new\""
conf() { # conf a|b AUTHKEY-VALUE: node's own file, so reloads are one-sided
	INTERVAL=100 TIMEOUT=500 AUTHKEY=$2 write_conf "$T/$1.conf"
}
st() { _n=$1; shift; "$EIPFLOATD" "$@" --runtime-dir "$T/run-$_n"; }
key_id() { # key_id FILE: HMAC-SHA256(key, "eipfloatd key id")[0..4] in hex
	"$PYTHON3" -c 'import hashlib, hmac, sys
print(hmac.new(open(sys.argv[1], "rb").read(), b"eipfloatd key id",
               hashlib.sha256).hexdigest()[:8])' "$1"
}
peer_key() { # peer_key NODE: peer.key_id from status --json
	"$EIPFLOATD" status --json --runtime-dir "$T/run-$1" |
		"$PYTHON3" -c 'import json, sys; print(json.load(sys.stdin)["peer"]["key_id"])'
}
rejected_total() { # every rejected packet of a node, all links and reasons
	dump_state "$1" | grep -o -E 'rejected [0-9]+' |
		awk '{ s += $2 } END { print s + 0 }'
}
reload() { # reload NODE: SIGHUP, and wait until it says it reloaded
	_r=$(grep -c 'reloaded ' "$T/$1.log")
	kill -HUP "$(pid_of "$1")"
	wait_for 5 sh -c "[ \$(grep -c 'reloaded ' '$T/$1.log') -gt $_r ]"
}

# --- 1. clocks ten minutes apart ----------------------------------------
conf a "$OLD"
conf b "$OLD"
run_node a "$T/a.conf"
check "start_node_a_active" wait_state a ACTIVE 15
FAKE_CLOCK_b=+10m run_node b "$T/b.conf"
check "skewed_node_b_standby" wait_state b STANDBY 15
seq=$(emu_seq)
ta=$(transitions a)
tb=$(transitions b)
check "skewed_pair_stays_a_active" stays_state a ACTIVE 4
check "skewed_pair_stays_b_standby" state_is b STANDBY
check "skewed_pair_no_write" [ "$(writes_since "$seq")" -eq 0 ]
check "skewed_pair_no_transition" [ "$(transitions a) $(transitions b)" = "$ta $tb" ]
check "skewed_pair_nothing_rejected_at_a" [ "$(rejected_total a)" -eq 0 ]
check "skewed_pair_nothing_rejected_at_b" [ "$(rejected_total b)" -eq 0 ]
check "skewed_node_b_log_is_ten_minutes_ahead" \
	grep -q "^$(TZ=UTC date -d '+10 min' '+%Y-%m-%dT%H:')" "$T/b.log"

# --- 2. key rotation: three reloads per node, seconds apart ----------------
old_id=$(key_id "$T/authkey")
new_id=$(key_id "$T/authkey.new")
echo "# key ids: old $old_id, new $new_id"
check "before_rotation_a_sees_old_key" [ "$(peer_key a)" = "$old_id" ]
seq=$(emu_seq)
step=0
for keys in "[ $OLD, $NEW ]" "[ $NEW, $OLD ]" "$NEW"; do
	step=$((step + 1))
	for n in a b; do
		conf "$n" "$keys"
		check "rotation_${step}_node_${n}_reloaded" reload "$n"
		sleep 1.5
	done
	case $step in
	1) want=$old_id ;;
	*) want=$new_id ;;
	esac
	check "rotation_${step}_a_sees_peer_key" [ "$(peer_key a)" = "$want" ]
	check "rotation_${step}_b_sees_peer_key" [ "$(peer_key b)" = "$want" ]
done
check "rotation_a_still_active" state_is a ACTIVE
check "rotation_b_still_standby" state_is b STANDBY
check "rotation_zero_writes" [ "$(writes_since "$seq")" -eq 0 ]
check "rotation_no_transition" [ "$(transitions a) $(transitions b)" = "$ta $tb" ]
check "rotation_nothing_rejected_at_a" [ "$(rejected_total a)" -eq 0 ]
check "rotation_nothing_rejected_at_b" [ "$(rejected_total b)" -eq 0 ]
st a status --json >"$T/a.json"
check "status_json_shows_own_key_id" "$PYTHON3" -c "
import json; j = json.load(open('$T/a.json'))
assert j['key_id'] == '$new_id' and j['peer']['unknown_key_id'] is None, j"
check "dump_shows_the_keys" has_line "$(dump_state a)" \
	"^keys: signs with $new_id, verifies with $new_id; node-b signs with $new_id"

# --- 3. replayed heartbeats after node-b restarts ---------------------------
check "capture_node_a_heartbeats" ip netns exec "$NS_B" "$PYTHON3" \
	"$top_srcdir/tests/udpsend.py" capture --iface hb0 --src 10.200.0.1 \
	--port "$PORT0" --count 30 --out "$T/captured.hex"
stop_node b TERM
stop_node a KILL
attack() {
	ip netns exec "$NS_X" "$PYTHON3" "$top_srcdir/tests/udpsend.py" send \
		--cluster e2e "$@" >>"$T/attack.log" 2>&1
}
attack --to 10.200.0.2:$PORT0 --spoof 10.200.0.1:$PORT0 --kind replay \
	--file "$T/captured.hex" --count 400 --gap 0.02 &
track $!
seq=$(emu_seq)
run_node b "$T/b.conf"
check "replays_are_not_a_live_peer_b_takes_over" wait_state b ACTIVE 10
d=$(dump_state b)
check "replays_never_believed" has_line "$d" '^peer: node-a never heard'
check "replays_counted_unproven" sh -c "printf '%s\n' \"\$1\" |
	grep -q -E 'unproven [1-9]'" sh "$d"
check "takeover_one_write" [ "$(writes_since "$seq")" -eq 1 ]

# --- 4. a one-sided wrong key ------------------------------------------------
conf a "\"$T/authkey.other\""
l0=$(wc -l <"$T/b.log")
run_node a "$T/a.conf"
other_id=$(key_id "$T/authkey.other")
check "wrong_key_logged_with_both_ids" wait_for 5 sh -c "tail -n +$l0 '$T/b.log' |
	grep -q 'unknown-key: signed with key $other_id, this node verifies with $new_id'"
check "wrong_key_shown_in_status" sh -c "'$EIPFLOATD' status --json --runtime-dir '$T/run-b' |
	'$PYTHON3' -c 'import json, sys; assert json.load(sys.stdin)[\"peer\"][\"unknown_key_id\"] == \"$other_id\"'"
check "every_ec2_request_validly_signed" emu_all_signed
finish
