#!/bin/sh
# test_e2e_loss.sh - 20 % random packet loss on both heartbeat links, both
# directions, with timeout = 5 x interval: no false failover in 60 s.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
have_nft || skip_all "packet loss needs nft(8) (Debian package nftables)"
topo_up
emu_start a

INTERVAL=100 TIMEOUT=500 write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "start_node_a_active" wait_state a ACTIVE 15
check "start_node_b_standby" wait_state b STANDBY 10

seq=$(emu_seq)
ta=$(transitions a)
tb=$(transitions b)
set_loss 20
check "loss_20pct_60s_node_b_stays_standby" stays_state b STANDBY "${LOSS_SECONDS:-60}"
check "loss_node_a_still_active" state_is a ACTIVE
check "loss_no_state_change_logged" [ "$(transitions a) $(transitions b)" = "$ta $tb" ]
check "loss_zero_api_writes" [ "$(writes_since "$seq")" -eq 0 ]
dropped=$(loss_dropped)
echo "# heartbeats dropped by the 20 % loss rules: $dropped"
check "loss_really_dropped_heartbeats" [ "$dropped" -gt 100 ]
st=$(dump_state b)
echo "# node-b after the lossy minute:"
printf '%s\n' "$st" | grep -E '^(link|peer)' | sed 's/^/#   /'
set_loss 0

check "every_ec2_request_validly_signed" emu_all_signed
finish
