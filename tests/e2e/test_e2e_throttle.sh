#!/bin/sh
# test_e2e_throttle.sh - the account's write tokens exhausted for 20 s
# during a takeover (issue 10: an AZ outage in which many pairs fail over
# at once empties the shared AssociateAddress bucket). node-b's
# AssociateAddress is answered RequestLimitExceeded until the tokens
# return; then the takeover completes, with one successful write, and the
# throttled attempts stay within the client-side retry quota (500 tokens,
# 5 a retry: at most 100 retries) and the warnings are summarised.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start a

INTERVAL=100 TIMEOUT=500 MONITOR=2000 write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "start_node_a_active" wait_state a ACTIVE 15
check "start_node_b_standby" wait_state b STANDBY 10
sleep 1

emu post /_emu/set '{"buckets": {"mutate": {"tokens": 0, "rate": 0}}}' >/dev/null
seq=$(emu_seq)
stop_node a KILL
check "throttled_node_b_takes_over" wait_state b ACTIVE 5
sleep 20
throttled=$(emu eval "len([c for c in calls(action='AssociateAddress', since=$seq) if c['error_code'] == 'RequestLimitExceeded'])")
echo "# $throttled AssociateAddress answered RequestLimitExceeded in 20 s"
check "throttled_writes_were_refused" [ "$throttled" -ge 2 ]
check "throttled_eip_not_moved_yet" owner_is a
emu post /_emu/set '{"buckets": {"mutate": null}}' >/dev/null
check "tokens_back_takeover_completes" wait_for 40 owner_is b
check "tokens_back_node_b_active" wait_state b ACTIVE 5
ok=$(emu eval "len([c for c in calls(action='AssociateAddress', since=$seq) if c['status'] == 200])")
all=$(emu eval "len(calls(action='AssociateAddress', since=$seq))")
echo "# AssociateAddress: $all requests, $ok successful"
check "one_successful_write" [ "$ok" -eq 1 ]
check "requests_within_the_retry_quota" [ "$all" -le 101 ]
check "retry_warnings_summarised" sh -c \
	"[ \$(grep -c -E 'associate .*RequestLimitExceeded' '$T/b.log') -le 10 ]"
check "every_ec2_request_validly_signed" emu_all_signed
finish
