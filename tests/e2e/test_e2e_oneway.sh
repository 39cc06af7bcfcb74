#!/bin/sh
# test_e2e_oneway.sh - node-a's heartbeats to node-b lost on both links
# while node-b's still reach node-a (issue 11's reordering case): node-b
# takes over once, node-a steps down on node-b's newer term and stays
# STANDBY (no late packet of node-b's undoes it), exactly one API write,
# during the loss and after it heals.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
have_nft || skip_all "one-way loss needs nft"
topo_up
emu_start a

INTERVAL=100 TIMEOUT=500 MONITOR=1000 write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "start_node_a_active" wait_state a ACTIVE 15
check "start_node_b_standby" wait_state b STANDBY 10
sleep 1
seq=$(emu_seq)

drop_a_to_b 1
check "oneway_node_b_takes_over" wait_state b ACTIVE 5
check "oneway_node_a_steps_down" wait_state a STANDBY 5
check "oneway_node_a_stays_standby" stays_state a STANDBY 4
check "oneway_node_b_stays_active" state_is b ACTIVE
check "oneway_exactly_one_write" [ "$(writes_since "$seq")" -eq 1 ]
check "oneway_eip_on_node_b" owner_is b
check "oneway_node_a_logged_no_yield" sh -c "! grep -v ' dump: ' '$T/a.log' | grep -q 'yielded'"

drop_a_to_b 0
check "healed_node_b_stays_active" stays_state b ACTIVE 3
check "healed_node_a_standby" state_is a STANDBY
check "healed_still_one_write" [ "$(writes_since "$seq")" -eq 1 ]
check "every_ec2_request_validly_signed" emu_all_signed
finish
