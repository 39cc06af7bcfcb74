#!/bin/sh
# test_e2e_skew.sh - EC2's clock 7 minutes ahead of both nodes, then 7
# minutes behind (issue 10): the daemons read the skew from EC2's Date
# header, sign with EC2's time, and the EIP still moves on cold start and
# on failover; each node warns once, naming the skew.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start none

# EC2's skew as its Date header shows it, in whole seconds.
date_skew() {
	ip netns exec "$NS_X" "$PYTHON3" - "$EC2_URL" <<'PY'
import email.utils, sys, time, urllib.error, urllib.request
try:
    h = urllib.request.urlopen(sys.argv[1], timeout=5).headers
except urllib.error.HTTPError as e:
    h = e.headers
except OSError:
    h = {}
d = h.get("Date")
print(round(email.utils.parsedate_to_datetime(d).timestamp() - time.time())
      if d else "none")
PY
}

emu post /_emu/set '{"clock_offset": 420}' >/dev/null
skew=$(date_skew)
case $skew in
4[01][0-9] | 42[0-9]) ;;
*) skip_all "the emulator's Date header does not follow clock_offset" \
	"(skew seen: $skew); see tests/ec2emu.md" ;;
esac

INTERVAL=100 TIMEOUT=1000 STARTUP=1500 write_conf "$T/e2e.conf"

# --- EC2 7 minutes ahead ---------------------------------------------------
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "ahead_cold_start_node_a_active" wait_state a ACTIVE 20
check "ahead_cold_start_eip_on_node_a" wait_for 15 owner_is a
check "ahead_warning_names_the_skew" grep_log "$T/a.log" \
	"EC2's clock is 4[12][0-9] s ahead of this host: fix NTP"
check "ahead_warned_once" [ "$(grep -c "EC2's clock is" "$T/a.log")" -eq 1 ]
check "ahead_dump_shows_the_offset" has_line "$(dump_state a)" \
	'ec2 clock offset \+4[12][0-9] s'
check "ahead_status_json_shows_the_offset" sh -c \
	"'$EIPFLOATD' status --json --runtime-dir '$T/run-a' | '$PYTHON3' -c \
	'import json,sys; sys.exit(not 410 <= json.load(sys.stdin)[\"ec2_clock_offset_seconds\"] <= 429)'"
check "ahead_metric_shows_the_offset" sh -c \
	"'$EIPFLOATD' metrics --runtime-dir '$T/run-a' |
	grep -E -q '^eipfloatd_ec2_clock_offset_seconds 4[12][0-9]\$'"
check "ahead_node_b_standby" wait_state b STANDBY 10
stop_node a KILL
check "ahead_failover_node_b_active" wait_state b ACTIVE 15
check "ahead_failover_eip_on_node_b" wait_for 15 owner_is b
check "ahead_node_b_warned" grep_log "$T/b.log" \
	"EC2's clock is 4[12][0-9] s ahead of this host: fix NTP"
check "ahead_node_b_warned_once" [ "$(grep -c "EC2's clock is" "$T/b.log")" -eq 1 ]
stop_node b TERM

# --- EC2 7 minutes behind --------------------------------------------------
emu post /_emu/set '{"clock_offset": -420}' >/dev/null
: >"$T/a.log"
: >"$T/b.log"
run_node a "$T/e2e.conf"
check "behind_cold_start_node_a_active" wait_state a ACTIVE 20
check "behind_cold_start_eip_on_node_a" wait_for 15 owner_is a
check "behind_warning_names_the_skew" grep_log "$T/a.log" \
	"EC2's clock is 4[12][0-9] s behind this host: fix NTP"
check "behind_warned_once" [ "$(grep -c "EC2's clock is" "$T/a.log")" -eq 1 ]
run_node b "$T/e2e.conf"
check "behind_status_json_shows_the_offset" sh -c \
	"'$EIPFLOATD' status --json --runtime-dir '$T/run-a' | '$PYTHON3' -c \
	'import json,sys; sys.exit(not -429 <= json.load(sys.stdin)[\"ec2_clock_offset_seconds\"] <= -410)'"
check "behind_node_b_standby" wait_state b STANDBY 15
stop_node a KILL
check "behind_failover_node_b_active" wait_state b ACTIVE 15
check "behind_failover_eip_on_node_b" wait_for 15 owner_is b
check "behind_node_b_warned" grep_log "$T/b.log" \
	"EC2's clock is 4[12][0-9] s behind this host: fix NTP"
check "behind_node_b_warned_once" [ "$(grep -c "EC2's clock is" "$T/b.log")" -eq 1 ]
# EC2 refuses each daemon's first call once (RequestExpired, or AuthFailure
# "Signature expired" from older emulators), no more.
check "one_refused_call_per_daemon_start" emu_is \
	"len([c for c in calls() if c['error_code'] in ('RequestExpired', 'AuthFailure', 'SignatureDoesNotMatch')])" 4
check "no_credentials_refetched_for_the_skew" sh -c \
	"! grep -q 'fetching fresh role credentials' '$T/a.log' '$T/b.log'"
finish
