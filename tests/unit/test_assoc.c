/*
 * test_assoc.c - "the write is the commit" (src/assoc.c) with injected
 * reads and an injected clock: reads that predate our AssociateAddress are
 * stale, someone else's association is believed on two consecutive reads.
 */
#include "check.h"
#include "assoc.h"

#include <string.h>

#define SELF 1
#define OTHER 0

/* A node that saw the peer's association at start, then took over. */
static void
taken_over(struct assoc_state *s)
{
	assoc_init(s);
	CHECK(assoc_judge(s, "eipassoc-peer", OTHER, 100) == ASSOC_CURRENT);
	assoc_written(s, "eipassoc-ours", 1000);
}

static void
test_read_of_an_association_known_before_the_write_is_stale(void)
{
	struct assoc_state s;

	TEST("read_of_an_association_known_before_the_write_is_stale");
	taken_over(&s);
	CHECK(assoc_predates(&s, "eipassoc-peer"));
	CHECK(!assoc_predates(&s, "eipassoc-ours"));
	/* 3 s of lag: every read shows the peer's, none is acted on. */
	for (uint64_t t = 1100; t < 4000; t += 500)
		CHECK(assoc_judge(&s, "eipassoc-peer", OTHER, t) ==
		      ASSOC_STALE);
	CHECK(assoc_judge(&s, "eipassoc-ours", SELF, 4100) == ASSOC_CURRENT);
	CHECK(s.settled);
	/* An old id is stale for ever: no association comes back. */
	CHECK(assoc_judge(&s, "eipassoc-peer", OTHER, 900000) == ASSOC_STALE);
	CHECK(s.stale == 7);
}

static void
test_no_association_while_the_write_settles_is_stale(void)
{
	struct assoc_state s;

	TEST("no_association_while_the_write_settles_is_stale");
	taken_over(&s);
	CHECK(assoc_judge(&s, "", OTHER, 1200) == ASSOC_STALE);
	CHECK(assoc_judge(&s, "", OTHER, 3000) == ASSOC_STALE);
	CHECK(assoc_judge(&s, "eipassoc-ours", SELF, 3500) == ASSOC_CURRENT);
}

static void
test_unknown_association_while_settling_is_stale(void)
{
	struct assoc_state s;

	/* The peer took it while we were STANDBY: we never read its id. */
	TEST("unknown_association_while_settling_is_stale");
	assoc_init(&s);
	CHECK(assoc_judge(&s, "", OTHER, 0) == ASSOC_CURRENT);
	assoc_written(&s, "eipassoc-ours", 5000);
	CHECK(assoc_judge(&s, "eipassoc-never-seen", OTHER, 6000) ==
	      ASSOC_STALE);
	CHECK(assoc_judge(&s, "eipassoc-never-seen", OTHER, 7000) ==
	      ASSOC_STALE);
	CHECK(assoc_judge(&s, "eipassoc-ours", SELF, 8000) == ASSOC_CURRENT);
}

static void
test_someone_else_is_believed_on_two_consecutive_reads(void)
{
	struct assoc_state s;

	TEST("someone_else_is_believed_on_two_consecutive_reads");
	taken_over(&s);
	CHECK(assoc_judge(&s, "eipassoc-ours", SELF, 2000) == ASSOC_CURRENT);
	/* The peer (or an operator) made a new association after ours. */
	CHECK(assoc_judge(&s, "eipassoc-new", OTHER, 10000) == ASSOC_CONFIRM);
	CHECK(assoc_judge(&s, "eipassoc-new", OTHER, 11000) == ASSOC_CURRENT);
	/* Let go: later reads are taken as they are. */
	CHECK(s.mine[0] == '\0');
	CHECK(assoc_judge(&s, "eipassoc-new", OTHER, 12000) == ASSOC_CURRENT);
}

static void
test_two_reads_must_be_consecutive_and_agree(void)
{
	struct assoc_state s;

	TEST("two_reads_must_be_consecutive_and_agree");
	taken_over(&s);
	CHECK(assoc_judge(&s, "eipassoc-ours", SELF, 2000) == ASSOC_CURRENT);
	CHECK(assoc_judge(&s, "eipassoc-x", OTHER, 10000) == ASSOC_CONFIRM);
	CHECK(assoc_judge(&s, "eipassoc-ours", SELF, 11000) == ASSOC_CURRENT);
	CHECK(assoc_judge(&s, "eipassoc-x", OTHER, 12000) == ASSOC_CONFIRM);
	CHECK(assoc_judge(&s, "eipassoc-y", OTHER, 13000) == ASSOC_CONFIRM);
	CHECK(assoc_judge(&s, "eipassoc-peer", OTHER, 14000) == ASSOC_STALE);
	CHECK(assoc_judge(&s, "eipassoc-y", OTHER, 15000) == ASSOC_CONFIRM);
	CHECK(assoc_judge(&s, "eipassoc-y", OTHER, 16000) == ASSOC_CURRENT);
	CHECK(s.confirms == 4);
}

static void
test_none_after_settling_needs_two_reads(void)
{
	struct assoc_state s;

	TEST("none_after_settling_needs_two_reads");
	taken_over(&s);
	CHECK(assoc_judge(&s, "eipassoc-ours", SELF, 2000) == ASSOC_CURRENT);
	CHECK(assoc_judge(&s, "", OTHER, 10000) == ASSOC_CONFIRM);
	CHECK(assoc_judge(&s, "", OTHER, 11000) == ASSOC_CURRENT);
}

static void
test_settle_window_ends_the_benefit_of_the_doubt(void)
{
	struct assoc_state s;

	TEST("settle_window_ends_the_benefit_of_the_doubt");
	taken_over(&s);
	CHECK(assoc_judge(&s, "eipassoc-z", OTHER, 1000 + ASSOC_SETTLE_MS - 1) ==
	      ASSOC_STALE);
	CHECK(assoc_judge(&s, "eipassoc-z", OTHER, 1000 + ASSOC_SETTLE_MS) ==
	      ASSOC_CONFIRM);
	CHECK(assoc_judge(&s, "eipassoc-z", OTHER,
			  2000 + ASSOC_SETTLE_MS) == ASSOC_CURRENT);
	/* Still: the peer's old one is stale whatever the time. */
	taken_over(&s);
	CHECK(assoc_judge(&s, "eipassoc-peer", OTHER, 10 * ASSOC_SETTLE_MS) ==
	      ASSOC_STALE);
}

static void
test_holding_nothing_takes_reads_as_they_are(void)
{
	struct assoc_state s;

	TEST("holding_nothing_takes_reads_as_they_are");
	assoc_init(&s);
	CHECK(assoc_judge(&s, "eipassoc-peer", OTHER, 0) == ASSOC_CURRENT);
	CHECK(assoc_judge(&s, "", OTHER, 10) == ASSOC_CURRENT);
	CHECK(assoc_judge(&s, "eipassoc-peer2", OTHER, 20) == ASSOC_CURRENT);
	CHECK(s.stale == 0 && s.confirms == 0);
}

static void
test_found_on_this_node_at_start_is_ours(void)
{
	struct assoc_state s;

	/* Start-up: the EIP already here (no write); then the peer takes it. */
	TEST("found_on_this_node_at_start_is_ours");
	assoc_init(&s);
	CHECK(assoc_judge(&s, "eipassoc-here", SELF, 0) == ASSOC_CURRENT);
	CHECK(strcmp(s.mine, "eipassoc-here") == 0 && !s.written);
	CHECK(assoc_judge(&s, "eipassoc-peer", OTHER, 1000) == ASSOC_CONFIRM);
	CHECK(assoc_judge(&s, "eipassoc-peer", OTHER, 2000) == ASSOC_CURRENT);
}

static void
test_our_previous_association_is_stale_after_a_new_write(void)
{
	struct assoc_state s;

	TEST("our_previous_association_is_stale_after_a_new_write");
	taken_over(&s);
	CHECK(assoc_judge(&s, "eipassoc-ours", SELF, 2000) == ASSOC_CURRENT);
	assoc_written(&s, "eipassoc-ours2", 3000);
	CHECK(assoc_predates(&s, "eipassoc-ours"));
	/* The old association is on this node anyway: it is ours either way. */
	CHECK(assoc_judge(&s, "eipassoc-ours", SELF, 3100) == ASSOC_CURRENT);
	CHECK(strcmp(s.mine, "eipassoc-ours") == 0);
}

static void
test_describe_says_what_is_ours(void)
{
	struct assoc_state s;
	char buf[256];

	TEST("describe_says_what_is_ours");
	taken_over(&s);
	CHECK(assoc_judge(&s, "eipassoc-peer", OTHER, 1500) == ASSOC_STALE);
	assoc_describe(&s, 3000, buf, sizeof(buf));
	CHECK(strcmp(buf, ", association eipassoc-ours (ours, written 2000 ms "
			  "ago, not read back yet), 1 stale read") == 0);
	assoc_init(&s);
	assoc_describe(&s, 0, buf, sizeof(buf));
	CHECK(buf[0] == '\0');
}

static void
test_reread_backs_off_then_gives_up_after_60_s(void)
{
	struct assoc_reread r = {0};
	uint64_t wait, now = 1000, waits[4];
	int rc = 0, n = 0;

	TEST("reread_waits_1_2_4_then_8_s_and_stops_after_60_s");
	for (int i = 0; i < 4; i++) {
		CHECK(assoc_reread_next(&r, now, &waits[i]) == 0);
		now += waits[i];
	}
	CHECK(waits[0] == 1000 && waits[1] == 2000 && waits[2] == 4000 &&
	      waits[3] == 8000);
	while ((rc = assoc_reread_next(&r, now, &wait)) == 0 && n++ < 20)
		now += wait;
	CHECK(rc == -1);
	CHECK(now - 1000 <= 60000);
	/* reset by the refusal: a new question starts at 1 s */
	CHECK(assoc_reread_next(&r, now, &wait) == 0 && wait == 1000);
	assoc_reread_reset(&r);
	CHECK(r.n == 0);
}

int
main(void)
{
	test_reread_backs_off_then_gives_up_after_60_s();
	test_read_of_an_association_known_before_the_write_is_stale();
	test_no_association_while_the_write_settles_is_stale();
	test_unknown_association_while_settling_is_stale();
	test_someone_else_is_believed_on_two_consecutive_reads();
	test_two_reads_must_be_consecutive_and_agree();
	test_none_after_settling_needs_two_reads();
	test_settle_window_ends_the_benefit_of_the_doubt();
	test_holding_nothing_takes_reads_as_they_are();
	test_found_on_this_node_at_start_is_ours();
	test_our_previous_association_is_stale_after_a_new_write();
	test_describe_says_what_is_ours();
	return check_done();
}
