/*
 * test_journal.c - the journal's native protocol encoder: plain fields,
 * the length-prefixed form for values with newlines, omitted fields, and
 * refusals (bad names, no room) instead of a truncated entry.
 */
#include "check.h"
#include "journal.h"

#include <string.h>

static void
plain_fields_are_name_equals_value(void)
{
	struct journal_field f[] = {
	    {"PRIORITY", "5"}, {"MESSAGE", "hello"}, {"MESSAGE_ID", NULL}};
	char buf[128];
	size_t n = journal_encode(f, 3, buf, sizeof(buf));

	TEST("plain_fields_are_name_equals_value");
	CHECK(n == strlen("PRIORITY=5\nMESSAGE=hello\n"));
	CHECK(memcmp(buf, "PRIORITY=5\nMESSAGE=hello\n", n) == 0);
}

static void
newline_values_are_length_prefixed(void)
{
	struct journal_field f[] = {{"MESSAGE", "a\nb"}, {"X", "y"}};
	static const char want[] = "MESSAGE\n\x03\0\0\0\0\0\0\0a\nb\nX=y\n";
	char buf[128];
	size_t n = journal_encode(f, 2, buf, sizeof(buf));

	TEST("newline_values_are_length_prefixed");
	CHECK(n == sizeof(want) - 1);
	CHECK(memcmp(buf, want, sizeof(want) - 1) == 0);
}

static void
bad_names_and_no_room_refused(void)
{
	struct journal_field lower[] = {{"message", "x"}};
	struct journal_field under[] = {{"_PID", "1"}};
	struct journal_field empty[] = {{"", "1"}};
	struct journal_field ok[] = {{"MESSAGE", "0123456789"}};
	char buf[64];

	TEST("bad_names_and_no_room_refused");
	CHECK(journal_encode(lower, 1, buf, sizeof(buf)) == 0);
	CHECK(journal_encode(under, 1, buf, sizeof(buf)) == 0);
	CHECK(journal_encode(empty, 1, buf, sizeof(buf)) == 0);
	CHECK(journal_encode(ok, 1, buf, 18) == 0);
	CHECK(journal_encode(ok, 1, buf, 19) == 19);
}

int
main(void)
{
	plain_fields_are_name_equals_value();
	newline_values_are_length_prefixed();
	bad_names_and_no_room_refused();
	return check_done();
}
