#!/bin/sh
# test_hostile.sh - the real binary against a hostile configuration and
# environment: bad authkeys and unreadable files refuse to start (exit 78,
# a clear reason); a bad authkey on reload keeps the running configuration;
# a full disk fails the state dump but not the daemon; garbage, huge,
# truncated and HTML answers from the EC2 API and garbage from IMDS give
# clear errors while the nodes keep a safe state (the ACTIVE stays ACTIVE
# and writes nothing, a takeover waits and then completes); a credentials
# file with odd syntax is read, a broken one is named without its secret.
# Loopback only: a local emulator (tests/ec2emu.py) behind a test-owned
# proxy that passes requests through or answers garbage.
. "${top_srcdir:-.}/tests/lib.sh"

# Nothing from the caller's AWS set-up may leak in.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
	AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE \
	AWS_EC2_METADATA_SERVICE_ENDPOINT
HOME=$T
export HOME
KEYID=AKIAEMUTEST000000001
SECRET='emu/Secret+Key/0123456789abcdefghijklmnopq'
ALLOC=eipalloc-0abc1234
IA=i-0aaaaaaaaaaaaaaa1
IB=i-0bbbbbbbbbbbbbbb2
base=$((25000 + $$ % 20000))
make_key "$T/authkey"

# conf FILE KEY RESOURCE AWS [SELF_ID]: a two-node configuration.
conf() {
	self_id="instance_id = \"$IA\";"
	[ $# -ge 5 ] && self_id=$5
	cat >"$1" <<CONF
cluster = { name = "hostile"; authkey = "$2"; };
nodes = (
  { name = "node-a"; addresses = [ "127.0.0.1" ]; priority = 100;
    $self_id },
  { name = "node-b"; addresses = [ "127.0.0.2" ]; priority = 50;
    instance_id = "$IB"; }
);
heartbeat = { interval_ms = 100; timeout_ms = 1000; ports = [ $base ]; };
election = { startup_wait_ms = 1000; };
monitor = { interval_ms = 1000; };
resources = ( $3 );
aws = { $4 timeout_ms = 2000; };
CONF
}
FILE_RES="{ type = \"file\"; path = \"$T/owner\"; }"
EIP_RES="{ type = \"eip\"; allocation_id = \"$ALLOC\"; }"
NO_AWS='endpoint = "http://127.0.0.1:9"; imds_endpoint = "http://127.0.0.1:9";'

# run NAME CONF NODE: start a daemon in the background as $pid_NAME.
run() {
	"$EIPFLOATD" -c "$2" -n "$3" --runtime-dir "$T/run-$1" -l info \
		2>"$T/$1.log" &
	eval "pid_$1=$!"
	track $!
	wait_for 10 grep -q 'STARTING: waiting' "$T/$1.log"
}
dump() { # dump NAME: a fresh state dump
	rm -f "$T/run-$1/state"
	eval "kill -USR1 \$pid_$1" 2>/dev/null || return 1
	wait_for 5 test -s "$T/run-$1/state"
}
state_of() { dump "$1" && sed -n 's/^state: //p' "$T/run-$1/state"; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }
alive() { eval "kill -0 \$pid_$1" 2>/dev/null; }
stop() { eval "kill -TERM \$pid_$1; wait \$pid_$1"; }
# logged NAME ERE [SECONDS]: the pattern shows up in NAME's log after its
# last `mark NAME`.
mark() { eval "mark_$1=$(wc -l <"$T/$1.log")"; }
after_mark() { eval "tail -n +\$((\${mark_$1:-0} + 1)) '$T/$1.log'" | grep -q -E -- "$2"; }
logged() { wait_for "${3:-10}" after_mark "$1" "$2"; }

# --- refusing to start -------------------------------------------------
# refused NAME PATTERN CONF: -t and a real start both exit 78 with the
# reason, and the refused start leaves no pid file behind.
refused() {
	out=$("$EIPFLOATD" -t -c "$3" -n node-a 2>&1)
	rc=$?
	check "${1}_check_exits_78" [ "$rc" -eq 78 ]
	check "${1}_check_says_why" sh -c 'printf "%s" "$1" | grep -q -E -- "$2"' \
		sh "$out" "$2"
	timeout 20 "$EIPFLOATD" -c "$3" -n node-a --runtime-dir "$T/run-refused" \
		>"$T/refused.log" 2>&1
	rc=$?
	check "${1}_start_refused_78" [ "$rc" -eq 78 ]
	check "${1}_start_says_why" grep -q -E -- "$2" "$T/refused.log"
	check "${1}_start_leaves_no_pid_file" [ ! -e "$T/run-refused/eipfloatd.pid" ]
}

head -c 16 /dev/urandom >"$T/short.key"
head -c 2000000 /dev/urandom >"$T/huge.key"
: >"$T/empty.key"
head -c 64 /dev/urandom >"$T/loose.key"
chmod 600 "$T/short.key" "$T/huge.key" "$T/empty.key"
chmod 644 "$T/loose.key"
mkdir "$T/dir.key"
mkfifo "$T/fifo.key"
for k in short:'is 16 bytes; it must be' huge:'is 2000000 bytes' \
	empty:'is 0 bytes' loose:'readable by group/other' \
	dir:'not a regular file' fifo:'not a regular file' \
	missing:'cannot open authkey'; do
	kind=${k%%:*}
	conf "$T/$kind.conf" "$T/$kind.key" "$FILE_RES" "$NO_AWS"
	refused "authkey_$kind" "${k#*:}" "$T/$kind.conf"
done
conf "$T/zero.conf" /dev/zero "$FILE_RES" "$NO_AWS"
refused authkey_dev_zero 'not a regular file' "$T/zero.conf"
refused config_is_a_directory 'not a regular file' "$T"
head -c 100000 /dev/urandom >"$T/garbage.conf"
refused config_garbage "garbage.conf(:[0-9]+)?: .*(syntax|NUL byte)" \
	"$T/garbage.conf"
if [ "$(id -u)" -ne 0 ]; then
	conf "$T/unreadable.conf" "$T/unreadable.key" "$FILE_RES" "$NO_AWS"
	cp "$T/authkey" "$T/unreadable.key"
	chmod 000 "$T/unreadable.key"
	refused authkey_unreadable 'Permission denied' "$T/unreadable.conf"
	cp "$T/unreadable.conf" "$T/noread.conf"
	chmod 000 "$T/noread.conf"
	refused config_unreadable 'Permission denied' "$T/noread.conf"
else
	echo "# as root every file is readable: the unreadable cases are skipped"
fi

# --- reload with a bad authkey; a full disk under the state dump -------
conf "$T/live.conf" "$T/live.key" "$FILE_RES" "$NO_AWS"
cp "$T/authkey" "$T/live.key"
run solo "$T/live.conf" node-a
check "solo_active" wait_for 10 is_state solo ACTIVE
cp "$T/short.key" "$T/live.key"
kill -HUP "$pid_solo"
check "reload_bad_key_rejected" logged solo 'reload rejected.*is 16 bytes'
check "reload_bad_key_keeps_running_active" is_state solo ACTIVE
cp "$T/run-solo/state" "$T/state.before"

# A symlink planted where the dump's temporary goes is removed, never
# followed: the file it points at stays as it was.
echo "victim" >"$T/victim"
ln -s "$T/victim" "$T/run-solo/state.tmp"
kill -USR1 "$pid_solo"
check "dump_tmp_symlink_not_followed" \
	wait_for 5 sh -c "! cmp -s '$T/state.before' '$T/run-solo/state'"
check "dump_tmp_symlink_target_untouched" [ "$(cat "$T/victim")" = victim ]
check "dump_tmp_symlink_removed" [ ! -L "$T/run-solo/state.tmp" ]
check "dump_tmp_symlink_daemon_keeps_running" alive solo
check "dump_works_again_after" is_state solo ACTIVE
stop solo
check "solo_exits_0" [ $? -eq 0 ]

mkdir "$T/probe" "$T/run-tmpfs"
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 &&
	command -v nsenter >/dev/null 2>&1 &&
	unshare -m mount -t tmpfs -o size=64k tmpfs "$T/probe" 2>/dev/null; then
	# A real full file system: a 64 kB tmpfs in a private mount namespace.
	cp "$T/authkey" "$T/live.key"
	unshare -m sh -c "mount -t tmpfs -o size=64k,mode=0755 tmpfs '$T/run-tmpfs' &&
		exec '$EIPFLOATD' -c '$T/live.conf' -n node-a \
		--runtime-dir '$T/run-tmpfs' -l info" 2>"$T/tmpfs.log" &
	pid_tmpfs=$!
	track $pid_tmpfs
	wait_for 10 grep -q 'STARTING: waiting' "$T/tmpfs.log"
	in_ns() { nsenter -t "$pid_tmpfs" -m -- "$@"; }
	kill -USR1 "$pid_tmpfs"
	check "tmpfs_first_dump_written" \
		wait_for 5 in_ns test -s "$T/run-tmpfs/state"
	in_ns dd if=/dev/zero of="$T/run-tmpfs/fill" bs=4k count=100 2>/dev/null
	before=$(in_ns cat "$T/run-tmpfs/state")
	kill -USR1 "$pid_tmpfs"
	check "tmpfs_full_dump_error_logged" \
		logged tmpfs 'state dump: write .*: No space left on device'
	check "tmpfs_full_keeps_the_last_good_dump" \
		[ "$(in_ns cat "$T/run-tmpfs/state")" = "$before" ]
	check "tmpfs_full_daemon_keeps_running" kill -0 "$pid_tmpfs"
	kill -TERM "$pid_tmpfs"
	wait "$pid_tmpfs"
	check "tmpfs_full_daemon_exits_0" [ $? -eq 0 ]
else
	echo "# not root (or no unshare/nsenter): no tmpfs disk-full case"
fi

# --- a hostile EC2 API -------------------------------------------------
cat >"$T/world.json" <<W
{"region": "eu-west-1", "account": "123456789012", "role": "eipfloatd-role",
 "instances": [
  {"id": "$IA", "private_ip": "10.0.0.20", "imds_listen": "127.0.0.1:0"},
  {"id": "$IB", "private_ip": "10.0.1.20", "imds_listen": "127.0.0.1:0"}],
 "addresses": [{"allocation_id": "$ALLOC", "public_ip": "52.1.2.3",
                "instance_id": "$IA"}],
 "access_keys": [{"access_key_id": "$KEYID", "secret": "$SECRET"}]}
W
"$PYTHON3" "$top_srcdir/tests/ec2emu.py" --world "$T/world.json" \
	--ready-file "$T/ready" >"$T/emu.out" 2>"$T/emu.err" </dev/null &
track $!
wait_for 10 test -s "$T/ready" || { fail "emulator_starts"; finish; }
ready() { "$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/ready" "$1"; }
EC2=$(ready ec2)
IMDS_A=$(ready "imds.$IA")

# The proxy: passes through to the emulator (signatures still check) or,
# by the word in its mode file, answers garbage.
cat >"$T/proxy.py" <<'PY'
import http.client, http.server, os, sys
upstream, modefile, portfile = sys.argv[1:4]
uhost, uport = upstream.split("//", 1)[1].split(":")
TRUNC = (b'<?xml version="1.0"?><DescribeAddressesResponse xmlns="http://'
         b'ec2.amazonaws.com/doc/2016-11-15/"><addressesSet><item><alloc')
def mode():
    try:
        return open(modefile).read().strip()
    except OSError:
        return "pass"
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, fmt, *a):
        sys.stderr.write("proxy %s %s %s\n" % (mode(), self.command, self.path))
    def reply(self, status, body, length=None):
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(length or len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = length is not None
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        m = mode()
        if m.startswith("imds-") and self.path == "/latest/api/token":
            m = "pass"
        role = "/latest/meta-data/iam/security-credentials/"
        if m == "imds-creds":
            m = "imds-json" if self.path.startswith(role + "e") else "pass"
        if m == "garbage":
            return self.reply(200, os.urandom(3000))
        if m == "huge":
            return self.reply(200, b"<DescribeAddressesResponse>" + b"<item>" * 400000)
        if m == "truncated":
            return self.reply(200, TRUNC)
        if m == "html":
            return self.reply(503, b"<html><body>bad gateway</body></html>")
        if m == "short":
            return self.reply(200, b"<x>", length=100000)
        if m == "imds-json":
            return self.reply(200, b'{"Code": "Success", "AccessKeyId": ["x"], '
                              b'"instanceId": "i-\\u0000", "region": 7')
        if m == "imds-huge":
            return self.reply(200, b"{" + b" " * (2 << 20) + b"}")
        c = http.client.HTTPConnection(uhost, int(uport), timeout=10)
        c.request(self.command, self.path, body=body, headers=dict(self.headers))
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "connection", "date",
                                 "server", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        c.close()
    do_GET = do_POST = do_PUT = handle_any
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
PY
proxy() { # proxy NAME UPSTREAM: its URL ends up in $T/NAME.port
	"$PYTHON3" "$T/proxy.py" "$2" "$T/$1.mode" "$T/$1.port" \
		>/dev/null 2>"$T/$1.proxy.log" &
	track $!
}
proxy ec2 "$EC2"
proxy imds "$IMDS_A"
wait_for 10 test -s "$T/ec2.port" && wait_for 10 test -s "$T/imds.port" ||
	{ fail "proxies_start"; finish; }
EC2P=http://127.0.0.1:$(cat "$T/ec2.port")
IMDSP=http://127.0.0.1:$(cat "$T/imds.port")
emu() { "$PYTHON3" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' "$EC2$1"; }
# writes: AssociateAddress calls the emulator has seen so far (no DryRun)
writes() { emu '/_emu/calls?action=AssociateAddress&dry=0' | "$PYTHON3" -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
owner_is() { emu /_emu/state | "$PYTHON3" -c 'import json,sys; a=[x for x in json.load(sys.stdin)["addresses"] if x["allocation_id"]==sys.argv[1]]; sys.exit(0 if a and a[0].get("instance_id")==sys.argv[2] else 1)' "$ALLOC" "$1"; }

AWS_ACCESS_KEY_ID=$KEYID AWS_SECRET_ACCESS_KEY=$SECRET
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
conf "$T/api.conf" "$T/authkey" "$EIP_RES" \
	"region = \"eu-west-1\"; endpoint = \"$EC2P\"; imds_endpoint = \"http://127.0.0.1:9\";"
echo pass >"$T/ec2.mode"
run a "$T/api.conf" node-a
run b "$T/api.conf" node-b
check "api_pair_a_active" wait_for 10 is_state a ACTIVE
check "api_pair_b_standby" wait_for 10 is_state b STANDBY
w0=$(writes)
for m in garbage:'MalformedResponse: bad XML' \
	huge:'larger than 1048576 bytes' \
	truncated:'MalformedResponse: bad XML' \
	html:'Http503: no <Error><Code> in <html>' \
	short:'Transport: transfer closed with [0-9]+ bytes remaining'; do
	kind=${m%%:*}
	mark a
	echo "$kind" >"$T/ec2.mode"
	check "api_${kind}_clear_error" \
		logged a "cannot verify the EIP \(DescribeAddresses: .*${m#*:}.*\): staying ACTIVE"
	check "api_${kind}_a_stays_active" is_state a ACTIVE
	check "api_${kind}_b_stays_standby" is_state b STANDBY
done
check "api_garbage_causes_no_write" [ "$(writes)" -eq "$w0" ]
check "api_garbage_owner_unchanged" owner_is "$IA"

# The ACTIVE dies while the API answers garbage: the takeover keeps
# retrying and completes once the API is sane again.
echo garbage >"$T/ec2.mode"
kill -9 "$pid_a"
check "garbage_takeover_decided" logged b 'STANDBY -> ACTIVE: peer node-a silent'
check "garbage_takeover_retries_clearly" logged b 'associate .*MalformedResponse: bad XML.*retry 1/'
check "garbage_takeover_owner_not_moved_yet" owner_is "$IA"
echo pass >"$T/ec2.mode"
check "sane_api_takeover_completes" wait_for 20 owner_is "$IB"
check "sane_api_b_active" is_state b ACTIVE
stop b
check "api_b_exits_0" [ $? -eq 0 ]
check "api_logs_never_show_the_secret" sh -c "! grep -q -F -- '$SECRET' '$T/a.log' '$T/b.log'"

# --- IMDS garbage --------------------------------------------------------
# node-a without instance_id or region: both must come from IMDS.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
unset AWS_EC2_METADATA_DISABLED
emu_set() { "$PYTHON3" -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST")).read()' "$EC2/_emu/set" "$1"; }
emu_set "{\"associate\": {\"allocation_id\": \"$ALLOC\", \"instance_id\": \"$IB\"}}"
conf "$T/imds.conf" "$T/authkey" "$EIP_RES" \
	"endpoint = \"$EC2\"; imds_endpoint = \"$IMDSP\";" ""
for m in imds-json:'identity document is not valid JSON' \
	imds-huge:'larger than 1048576 bytes' \
	garbage:'malformed token'; do
	mode=${m%%:*}
	kind=$(echo "$mode" | tr - _)
	echo "$mode" >"$T/imds.mode"
	w0=$(writes)
	run "$kind" "$T/imds.conf" node-a
	check "${kind}_clear_error" \
		logged "$kind" "AWS set-up: instance identity from IMDS: .*${m#*:}"
	check "${kind}_takeover_waits_for_aws" \
		logged "$kind" 'takeover waits for the AWS set-up'
	check "${kind}_no_api_write" [ "$(writes)" -eq "$w0" ]
	check "${kind}_daemon_alive" alive "$kind"
	[ "$kind" = garbage ] && break
	stop "$kind"
done
# IMDS heals: the set-up completes and the waiting takeover goes through.
echo pass >"$T/imds.mode"
check "imds_heals_setup_completes" logged garbage 'AWS set-up complete after' 20
check "imds_heals_takeover_completes" wait_for 20 owner_is "$IA"
stop garbage

# Role credentials that are garbage (identity known from the config).
conf "$T/role.conf" "$T/authkey" "$EIP_RES" \
	"region = \"eu-west-1\"; endpoint = \"$EC2\"; imds_endpoint = \"$IMDSP\";"
# Garbage for the role name, then for the role's credentials document.
for m in imds-json:'IMDS .*security-credentials.*no usable role name' \
	imds-creds:'credentials of instance role eipfloatd-role: .*JSON'; do
	mode=${m%%:*}
	kind=role_$(echo "$mode" | tr - _)
	echo "$mode" >"$T/imds.mode"
	w0=$(writes)
	run "$kind" "$T/role.conf" node-b
	check "${kind}_clear_error" logged "$kind" "credentials: ${m#*:}"
	check "${kind}_no_api_write" [ "$(writes)" -eq "$w0" ]
	check "${kind}_daemon_alive" alive "$kind"
	stop "$kind"
done
echo pass >"$T/imds.mode"

# --- shared credentials files --------------------------------------------
export AWS_EC2_METADATA_DISABLED=true
conf "$T/prof.conf" "$T/authkey" "$EIP_RES" \
	"region = \"eu-west-1\"; profile = \"prod\"; endpoint = \"$EC2\"; imds_endpoint = \"http://127.0.0.1:9\";"
# Odd but valid: BOM, CRLF, comments, blanks, case, spaces, other profiles.
printf '\357\273\277# comment\r\n[default]\r\naws_access_key_id=AKIANOTTHISONE000000\r\n\r\n  [prod]  \r\n; another comment\r\nAWS_Access_Key_ID   =   %s\r\naws_secret_access_key=%s\r\nregion = eu-west-1' \
	"$KEYID" "$SECRET" >"$T/credentials.odd"
AWS_SHARED_CREDENTIALS_FILE=$T/credentials.odd
export AWS_SHARED_CREDENTIALS_FILE
run odd "$T/prof.conf" node-b
check "odd_credentials_file_read" logged odd "credentials: .*$KEYID"
check "odd_credentials_file_used_for_api" wait_for 10 owner_is "$IB"
stop odd
printf '[prod]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_secret_access_key = %s\n' \
	"$KEYID" "$SECRET" "$SECRET" >"$T/credentials.bad"
AWS_SHARED_CREDENTIALS_FILE=$T/credentials.bad
w0=$(writes)
run bad "$T/prof.conf" node-a
check "broken_credentials_file_named_with_line" logged bad "credentials.bad:[0-9]+"
check "broken_credentials_no_api_write" [ "$(writes)" -eq "$w0" ]
check "broken_credentials_owner_unchanged" owner_is "$IB"
check "broken_credentials_daemon_alive" alive bad
check "broken_credentials_secret_not_logged" \
	sh -c "! grep -q -F -- '$SECRET' '$T/bad.log' '$T/odd.log'"
stop bad
finish
