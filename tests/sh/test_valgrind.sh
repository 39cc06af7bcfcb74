#!/bin/sh
# test_valgrind.sh - the two-daemon test (test_twonode.sh) with both daemons
# under valgrind memcheck: every daemon that exits normally (SIGTERM; a
# kill -9 leaves no summary) reports no memory errors and no definite leaks.
. "${top_srcdir:-.}/tests/lib.sh"

command -v valgrind >/dev/null 2>&1 || skip_all "valgrind is not installed"
[ -x "$EIPFLOATD" ] || skip_all "no $EIPFLOATD"
# An ASan build cannot run under valgrind (and needs no memcheck).
grep -a -q __asan_init "$EIPFLOATD" && skip_all "sanitizer build"

mkdir "$T/vg"
EIPFLOATD_WRAPPER="valgrind --tool=memcheck --error-exitcode=99 \
--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
--child-silent-after-fork=yes --log-file=$T/vg/vg.%p.log"
export EIPFLOATD_WRAPPER

sh "$top_srcdir/tests/sh/test_twonode.sh" >"$T/twonode.out" 2>&1
rc=$?
sed 's/^/# twonode: /' "$T/twonode.out"
check "twonode_passes_under_valgrind" [ "$rc" -eq 0 ]

exited=0
for f in "$T"/vg/vg.*.log; do
	[ -e "$f" ] || continue
	# No summary: killed with SIGKILL (or a forked child): nothing to judge.
	grep -q 'ERROR SUMMARY:' "$f" || continue
	exited=$((exited + 1))
	n=${f##*/}
	if ! grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
		fail "no_memcheck_errors_$n"
		sed 's/^/# /' "$f" | head -100
	elif ! grep -q -E 'definitely lost: 0 bytes|All heap blocks were freed' "$f"; then
		fail "no_definite_leaks_$n"
		sed 's/^/# /' "$f" | head -100
	else
		pass "clean_$n"
	fi
done
# node-b on SIGTERM and node-a at the end exit normally.
check "two_daemons_exited_under_valgrind" [ "$exited" -ge 2 ]
finish
