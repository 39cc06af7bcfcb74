#!/bin/sh
# test_e2e_creds.sh - instance-role credentials that expire mid-run: with an
# 8 s lifetime the ACTIVE keeps monitoring with fresh keys from IMDS and
# never signs with an expired one; credentials revoked early (expired by the
# emulator) are replaced after the first RequestExpired; the standby takes
# over with its own fresh role credentials.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
CRED_TTL=8 emu_start none

write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "short_ttl_node_a_active" wait_state a ACTIVE 15
check "short_ttl_node_b_standby" wait_state b STANDBY 10
check "short_ttl_eip_on_node_a" wait_for 10 owner_is a

# Monitoring across three lifetimes.
seq=$(emu_seq)
sleep 20
keys=$(emu eval "len(set(c['access_key_id'] for c in calls(since=$seq) if c['instance'] == '$IA'))")
echo "# node-a signed with $keys different role keys in 20 s (ttl 8 s)"
check "short_ttl_credentials_rotate" [ "${keys:-0}" -ge 3 ]
check "short_ttl_monitor_kept_running" \
	emu_ge "len(calls(action='DescribeAddresses', since=$seq))" 10
check "short_ttl_never_an_expired_or_refused_call" \
	emu_is "[c['error_code'] for c in calls(since=$seq) if c['status'] != 200]" "[]"
check "short_ttl_credentials_fetched_with_imdsv2_tokens" \
	emu_is "all(c['token_valid'] for c in calls('imds') if c['method'] == 'GET')" true

# Revoked early: the next call fails with RequestExpired, then new keys.
seq=$(emu_seq)
emu post /_emu/set '{"expire_credentials": true}' >/dev/null
check "revoked_credentials_refused_at_next_monitor" wait_for 10 emu_ge \
	"len([c for c in calls(since=$seq) if c['instance'] == '$IA' and c['error_code'] == 'RequestExpired'])" 1
check "revoked_refetched_and_monitor_succeeds_again" wait_for 15 emu_ge \
	"(lambda c: len([x for x in c if x['instance'] == '$IA' and x['status'] == 200 and x['seq'] > min([y['seq'] for y in c if y['error_code'] == 'RequestExpired'] or [10**9])]))(calls(since=$seq))" 1
check "revoked_node_a_still_active" state_is a ACTIVE

# The standby's credentials went stale while it idled: it takes over anyway.
seq=$(emu_seq)
stop_node a KILL
check "takeover_with_fresh_role_credentials" wait_state b ACTIVE 10
check "takeover_eip_on_node_b" wait_for 15 owner_is b
check "takeover_signed_by_node_b_role" \
	emu_is "[c['instance'] for c in writes($seq) if c['status'] == 200]" "[\"$IB\"]"

check "every_ec2_request_validly_signed" emu_all_signed
finish
