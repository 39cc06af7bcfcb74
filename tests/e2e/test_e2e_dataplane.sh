#!/bin/sh
# test_e2e_dataplane.sh - what a client sees. A client namespace polls
# http://EIP/ every 50 ms through the 1:1 NAT that follows the emulator's
# association (propagation delay 0); each node serves its name. kill -9
# of the ACTIVE node (daemon and web service: a crash): the client's gap
# stays under the timeout plus one second, and the STANDBY never answers
# before it has taken the EIP. Then the propagation delay itself.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
. "$top_srcdir/tests/e2e/dataplane.sh"
netns_require
have_nft || skip_all "needs nft for the data plane's NAT"
topo_up
emu_start none
dp_start 0
check "web_service_node_a" web_start a
check "web_service_node_b" web_start b

INTERVAL=100 TIMEOUT=1000 STARTUP=1000 write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "node_a_active" wait_state a ACTIVE 15
check "node_b_standby" wait_state b STANDBY 10
check "nat_follows_the_association_to_node_a" \
	wait_for 5 sh -c "[ \"\$(ip netns exec $NS_X nft get element ip dataplane eip '{ $EIP }' 2>/dev/null | grep -c '$EIP : 10.200.0.1')\" = 1 ]"

probe_start 50
check "client_reaches_node_a_through_the_eip" \
	wait_for 5 sh -c "[ \"\$(tail -n 1 $T/probe.log | awk '{ print \$3 }')\" = node-a ]"
sleep 1
tp=$(head -n 1 "$T/probe.log" | awk '{ print $1 }')

# --- the crash -------------------------------------------------------------
seq=$(emu_seq)
t0=$(now_s)
kill -9 "$WEB_PID_a" 2>/dev/null
stop_node a KILL
wait "$WEB_PID_a" 2>/dev/null
check "node_b_takes_over" wait_state b ACTIVE 10
check "client_reaches_node_b" \
	wait_for 10 sh -c "[ \"\$(tail -n 1 $T/probe.log | awk '{ print \$3 }')\" = node-b ]"
sleep 1
probe_stop
probe_gap node-a node-b "$tp"
assoc=$(emu eval "(lambda c: '%.4f' % (c[0]['wall'] + c[0]['latency_ms'] / 1000.0) if c else 'none')([c for c in calls(action='AssociateAddress', since=$seq) if c['status'] == 200])")
echo "# kill -9 at $t0; last node-a answer $LAST_FROM, EC2 answered the associate at $assoc, first node-b answer $FIRST_TO"
echo "# client gap: $GAP s (timeout 1 s); in between: $BETWEEN; all: $ANSWERS"
check "client_gap_under_timeout_plus_1s" le "$GAP" 2.0
check "client_saw_node_a_until_the_kill" le "$t0" "$(awk -v t="$LAST_FROM" 'BEGIN { printf "%.4f", t + 0.2 }')"
check "standby_never_answers_before_the_associate" le "$assoc" "$FIRST_TO"
check "no_node_b_answer_before_the_kill" \
	[ "$(awk -v t="$t0" '$3 == "node-b" && $2 < t' "$T/probe.log" | wc -l)" -eq 0 ]
check "only_node_b_after_its_first_answer" \
	[ "$(awk -v t="$FIRST_TO" '$2 > t && $3 != "node-b"' "$T/probe.log" | wc -l)" -eq 0 ]

# --- the propagation delay: the NAT switches DELAY after the change ----------
stop_node b TERM
kill "$DP_PID" 2>/dev/null
wait "$DP_PID" 2>/dev/null
ip netns exec "$NS_X" nft delete table ip dataplane
dp_start 1500
check "nat_back_on_node_b_after_restart" wait_for 5 sh -c "[ \"\$(ip netns exec $NS_X nft get element ip dataplane eip '{ $EIP }' 2>/dev/null | grep -c '$EIP : 10.200.0.2')\" = 1 ]"
emu post /_emu/set "{\"associate\": {\"allocation_id\": \"$ALLOC\", \"instance_id\": \"$IA\"}}" >/dev/null
ts=$(now_s)
sleep 0.7
check "delay_nat_not_switched_yet" [ "$(dp_target)" = 10.200.0.2 ]
check "delay_nat_switches_later" wait_for 5 sh -c "[ \"\$(ip netns exec $NS_X nft get element ip dataplane eip '{ $EIP }' 2>/dev/null | grep -c '$EIP : 10.200.0.1')\" = 1 ]"
sw=$(awk '$4 == "10.200.0.1" { t = $1 } END { print t }' "$T/dp.log")
d=$(awk -v a="$sw" -v b="$ts" 'BEGIN { printf "%.3f", a - b }')
echo "# association -> NAT switch: $d s (delay 1.5 s)"
check "delay_is_the_configured_one" le 1.4 "$d"
check "delay_not_much_longer" le "$d" 1.8
emu post /_emu/set "{\"disassociate\": {\"allocation_id\": \"$ALLOC\"}}" >/dev/null
check "disassociated_eip_leaves_the_map" wait_for 5 sh -c "[ \"\$(ip netns exec $NS_X nft list map ip dataplane eip | grep -c 'elements')\" = 0 ]"
finish
