#!/bin/sh
# test_maintenance.sh - the state directory and `eipfloatd maintenance` /
# `switchover` on one node whose peer never answers (loopback, the test-only
# "file" resource, no AWS): the refusals and their exit codes, --force, the
# flag over a restart, and the state directory checks at start-up.
. "${top_srcdir:-.}/tests/lib.sh"

make_key "$T/authkey"
port=$((20000 + ($$ + 9000) % 20000))
cat >"$T/c.conf" <<CONF
cluster = { name = "t"; authkey = "$T/authkey"; };
nodes = (
  { name = "node-a"; addresses = [ "127.0.0.1" ]; priority = 100; },
  { name = "node-b"; addresses = [ "127.0.0.2" ]; priority = 50; }
);
heartbeat = { interval_ms = 50; timeout_ms = 300; ports = [ $port ]; };
election = { startup_wait_ms = 300; };
aws = { endpoint = "http://127.0.0.1:9"; imds_endpoint = "http://127.0.0.1:9"; };
resources = ( { type = "file"; path = "$T/owner"; } );
CONF
run="$T/run"
st="$T/state"
mkdir -p "$run"

ctl() { "$EIPFLOATD" "$@" --runtime-dir "$run"; }
# rc_is N ARGS...: the subcommand exits N.
rc_is() { _want=$1; shift; ctl "$@" >"$T/out" 2>"$T/err"; [ $? -eq "$_want" ]; }
says() { grep -q -E -- "$1" "$T/err" "$T/out"; }

check "switchover_not_running_exits_3" rc_is 3 switchover
check "maintenance_not_running_exits_3" rc_is 3 maintenance on
check "maintenance_without_on_off_exits_2" rc_is 2 maintenance
check "maintenance_off_force_exits_2" rc_is 2 maintenance off --force
check "switchover_extra_argument_exits_2" rc_is 2 switchover now

start() { # start LOG [STATE-DIR]
	"$EIPFLOATD" -c "$T/c.conf" -n node-a --runtime-dir "$run" \
		--state-dir "${2:-$st}" -l info 2>"$T/$1" &
	dpid=$!
	track $dpid
}
stop() { kill -TERM "$dpid"; wait "$dpid"; }
state_is() { ctl status 2>/dev/null | grep -q "^state: $1"; }

# --- the state directory at start-up ---------------------------------------
mkdir -m 0777 "$T/open"
chmod 0777 "$T/open"
start bad.log "$T/open"
wait "$dpid"; rc=$?
check "world_writable_state_dir_refused" [ "$rc" -eq 1 ]
check "world_writable_state_dir_says_fix" grep_log "$T/bad.log" 'state directory .*/open is writable by others \(mode 0777\): chmod go-w'
if [ "$(id -u)" -eq 0 ]; then
	mkdir -m 0700 "$T/theirs"
	chown 65534 "$T/theirs"
	start theirs.log "$T/theirs"
	wait "$dpid"; rc=$?
	check "foreign_owner_state_dir_refused" [ "$rc" -eq 1 ]
	check "foreign_owner_says_uid" grep_log "$T/theirs.log" 'owned by uid 65534'
fi
mkdir -m 0700 "$T/garbled"
echo "maintenance=perhaps" >"$T/garbled/state"
start garbled.log "$T/garbled"
wait "$dpid"; rc=$?
check "garbled_state_file_refused" [ "$rc" -eq 1 ]
check "garbled_state_file_says_line" grep_log "$T/garbled.log" 'state: line 1: maintenance: "perhaps"'

# --- alone and ACTIVE: the refusals -----------------------------------------
start d.log
check "alone_becomes_active" wait_for 10 state_is ACTIVE
check "state_dir_created_0700" [ "$(stat -c %a "$st")" = 700 ]
check "switchover_without_peer_refused" rc_is 1 switchover
check "switchover_refusal_says_not_heard" says 'switchover refused: peer node-b not heard'
check "maintenance_on_active_alone_refused" rc_is 1 maintenance on
check "maintenance_refusal_names_force" says 'nobody could take over \(--force'
check "refused_maintenance_not_saved" test ! -e "$st/state"
check "still_active_after_refusals" state_is ACTIVE

# --- --force: step down, the EIP stays ---------------------------------------
check "maintenance_on_force_accepted" rc_is 0 maintenance on --force
check "maintenance_on_force_says_stays" says 'stepping down without API call'
check "maintenance_forced_standby" wait_for 5 state_is STANDBY
check "maintenance_forced_owner_unchanged" grep -q node-a "$T/owner"
check "maintenance_saved" grep -q '^maintenance=on$' "$st/state"
check "maintenance_state_file_mode" [ "$(stat -c %a "$st/state")" = 644 ]
check "status_maintenance_yes" sh -c "'$EIPFLOATD' status --runtime-dir '$run' | grep -q '^maintenance: yes'"
check "metrics_maintenance_1" sh -c "'$EIPFLOATD' metrics --runtime-dir '$run' | grep -q '^eipfloatd_maintenance 1'"
check "maintenance_on_again_is_fine" rc_is 0 maintenance on
check "switchover_in_maintenance_refused" rc_is 1 switchover
check "switchover_in_maintenance_says_why" says 'this node is in maintenance'

# --- a restart keeps it ------------------------------------------------------
stop
start d2.log
check "restart_logs_maintenance" wait_for 10 grep_log "$T/d2.log" 'maintenance is on \(from '
check "restart_settles_standby" wait_for 10 state_is STANDBY
sleep 1
check "restart_stays_standby_alone" state_is STANDBY
check "restart_json_maintenance" sh -c "'$EIPFLOATD' status --json --runtime-dir '$run' | grep -q '\"maintenance\": true'"

# --- off: the silent peer is taken over at once -----------------------------
check "maintenance_off_accepted" rc_is 0 maintenance off
check "maintenance_off_takes_over" wait_for 5 state_is ACTIVE
check "maintenance_off_saved" grep -q '^maintenance=off$' "$st/state"
stop
check "no_temporary_left" [ "$(ls "$st")" = state ]

# --- a state directory that cannot be made: runs, refuses maintenance -------
: >"$T/afile"
start d3.log "$T/afile/sub"
check "unusable_state_dir_still_runs" wait_for 10 state_is ACTIVE
check "unusable_state_dir_warns" grep_log "$T/d3.log" 'warning: state directory .*afile/sub: .*cannot be kept'
check "unusable_state_dir_maintenance_refused" rc_is 1 maintenance on
check "unusable_state_dir_says_why" says 'is not usable'
stop
finish
