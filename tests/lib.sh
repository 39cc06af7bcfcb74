# tests/lib.sh - shared helpers for the shell tests that drive the real
# eipfloatd binary. Source it; it sets $T (a temp dir removed on exit) and
# $EIPFLOATD. Every wait is bounded.

set -u
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
: "${PYTHON3:=/usr/bin/python3}"
EIPFLOATD=${EIPFLOATD:-$top_builddir/eipfloatd}
export AWS_EC2_METADATA_DISABLED=true

T=$(mktemp -d /tmp/eipfloatd-test.XXXXXX)
chmod 755 "$T"
FAILED=0
PIDS=""
CLEANUPS=""

# In an --enable-sanitizers build the daemons' ASan/UBSan/LSan reports
# would only reach their stderr logs; put them into files under $T
# instead, which finish and cleanup turn into failures.
mkdir "$T/san"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/san/asan"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/san/ubsan:print_stacktrace=1"
export ASAN_OPTIONS UBSAN_OPTIONS

# Report (once) every sanitizer report written so far; 1 if there was one.
san_reports() {
	_found=0
	for _f in "$T"/san/asan.* "$T"/san/ubsan.*; do
		case $_f in *.seen) continue ;; esac
		[ -e "$_f" ] || continue
		echo "not ok - sanitizer report ${_f##*/}"
		sed 's/^/# /' "$_f" | head -80
		mv "$_f" "$_f.seen"
		FAILED=$((FAILED + 1))
		_found=1
	done
	return $_found
}

cleanup() {
	_rc=$?
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	for c in $CLEANUPS; do "$c" 2>/dev/null; done
	san_reports || _rc=1
	if [ "$FAILED" -ne 0 ] || [ -n "${KEEP_TMP:-}" ]; then
		echo "# logs kept in $T"
	else
		rm -rf "$T"
	fi
	exit $_rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Register a function to run at exit (namespaces, emulator, ...).
at_exit() { CLEANUPS="$1 $CLEANUPS"; }

pass() { echo "ok - $1"; }
fail() { echo "not ok - $1"; FAILED=$((FAILED + 1)); }
check() { # check NAME COMMAND...
	name=$1; shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
skip_all() { echo "SKIP: $1"; exit 77; }
finish() {
	san_reports
	[ "$FAILED" -eq 0 ] && exit 0
	echo "$FAILED check(s) failed"
	exit 1
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_for() {
	_limit=$(( $1 * 10 )); shift
	_i=0
	while [ "$_i" -lt "$_limit" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# An authkey with the right mode.
make_key() { head -c 64 /dev/urandom >"$1"; chmod 600 "$1"; }

# grep_log FILE PATTERN: extended-regex search in a daemon log.
grep_log() { grep -E -q -- "$2" "$1"; }

# Track a background pid for cleanup.
track() { PIDS="$PIDS $1"; }
