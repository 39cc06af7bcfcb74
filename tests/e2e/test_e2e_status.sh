#!/bin/sh
# test_e2e_status.sh - `eipfloatd status`, `status --json` and `metrics` on
# both nodes of a real pair in network namespaces (role credentials from the
# emulator): the ACTIVE and the STANDBY each describe themselves and the
# peer consistently, and after a kill -9 of the ACTIVE the survivor's status
# shows the takeover and the failover metric.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/e2e/netns.sh"
netns_require
topo_up
emu_start none

INTERVAL=100 TIMEOUT=1000 STARTUP=1500 write_conf "$T/e2e.conf"
run_node a "$T/e2e.conf"
run_node b "$T/e2e.conf"
check "pair_settles_a_active" wait_state a ACTIVE 15
check "pair_settles_b_standby" wait_state b STANDBY 10

st() { # st NODE [ARGS...]: a filesystem socket, reachable from here
	_n=$1; shift
	"$EIPFLOATD" "$@" --runtime-dir "$T/run-$_n"
}
json_is() { # json_is NODE PYTHON-EXPR-ON-j
	st "$1" status --json >"$T/$1.json" || return 1
	"$PYTHON3" -c "
import json, sys
j = json.load(open('$T/$1.json'))
sys.exit(0 if ($2) else 1)"
}
sleep 1
check "status_a_text_active" sh -c "'$EIPFLOATD' status --runtime-dir '$T/run-a' | grep -q '^state: ACTIVE'"
check "status_b_text_standby_names_peer" sh -c "'$EIPFLOATD' status --runtime-dir '$T/run-b' | grep -q '^peer: node-a'"
check "json_a_active_peer_standby_alive" json_is a "j['node'] == 'node-a' and j['state'] == 'ACTIVE' and j['peer'] == dict(j['peer'], name='node-b', state='STANDBY', alive=True)"
check "json_b_standby_peer_active_alive" json_is b "j['state'] == 'STANDBY' and j['peer']['state'] == 'ACTIVE' and j['peer']['alive'] and j['peer']['term'] == 1 and j['resources'][0]['owner'] == 'peer'"
check "json_a_resource_owned_by_self" json_is a "[(r['id'], r['owner'], r['owner_id']) for r in j['resources']] == [('$ALLOC', 'self', '$IA')] and j['resources'][0]['verified_at']"
check "json_a_links_up_with_rtt" json_is a "all(l['up'] and l['rtt_seconds'] is not None for l in j['links']) and len(j['links']) == 2"
check "json_a_role_credentials" json_is a "j['credentials']['source'] and j['credentials']['expires_at']"
check "json_a_ec2_counters" json_is a "j['counters']['ec2']['AssociateAddress']['ok'] == 1"

st a metrics >"$T/a.prom"
check "metrics_a_parse_and_agree" "$PYTHON3" - "$T/a.prom" "$ALLOC" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {}
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in f.samples:
        v[(s.name, tuple(sorted(s.labels.items())))] = s.value
assert v[("eipfloatd_state", (("state", "ACTIVE"),))] == 1
assert v[("eipfloatd_link_up", (("link", "0"),))] == 1
assert v[("eipfloatd_resource_owned", (("resource", sys.argv[2]),))] == 1
assert v[("eipfloatd_ec2_requests_total", (("action", "AssociateAddress"), ("outcome", "ok")))] == 1
assert ("eipfloatd_credentials_expiry_timestamp_seconds", ()) in v
assert v[("eipfloatd_last_failover_seconds", ())] > 0
PY

kill -9 "$(pid_of a)"
check "kill9_b_takes_over" wait_state b ACTIVE 10
sleep 1
check "json_b_after_takeover" json_is b "j['state'] == 'ACTIVE' and j['peer']['alive'] is False and j['resources'][0]['owner'] == 'self' and j['counters']['transitions_to']['ACTIVE'] == 1"
st a status >/dev/null 2>&1; rc=$?
check "status_killed_node_exits_3" [ "$rc" -eq 3 ]

# STARTING: node-a back with a long start-up wait, waiting for its peer's
# word (node-b is stopped, so nobody answers).
stop_node b TERM
INTERVAL=100 TIMEOUT=1000 STARTUP=15000 write_conf "$T/slow.conf"
run_node a "$T/slow.conf"
check "starting_text" sh -c "'$EIPFLOATD' status --runtime-dir '$T/run-a' | grep -q '^state: STARTING'"
check "starting_json" json_is a "j['state'] == 'STARTING' and j['peer']['alive'] is False and j['peer']['state'] is None"
check "starting_status_exits_0" sh -c "'$EIPFLOATD' status --json --runtime-dir '$T/run-a' >/dev/null"
check "starting_ends_active" wait_state a ACTIVE 30
finish
