/*
 * test_backoff.c - the one retry policy (src/backoff.c): delays with and
 * without jitter, the cap, attempt and deadline limits, the retry quota.
 */
#include "check.h"
#include "backoff.h"

#include <stdint.h>

static void
test_full_jitter(void)
{
	struct backoff_policy p = {
	    .base_ms = 100, .cap_ms = 5000, .jitter = BACKOFF_JITTER_FULL};
	uint32_t seed = 12345;
	unsigned retry, i, ceiling;
	int within = 1, spread = 0;

	TEST("backoff_is_full_jitter_under_a_doubling_capped_ceiling");
	CHECK(backoff_delay_ms(&p, 1, 0) == 0);
	CHECK(backoff_delay_ms(&p, 1, UINT32_MAX) == 100);
	CHECK(backoff_delay_ms(&p, 2, UINT32_MAX) == 200);
	CHECK(backoff_delay_ms(&p, 3, UINT32_MAX) == 400);
	CHECK(backoff_delay_ms(&p, 6, UINT32_MAX) == 3200);
	CHECK(backoff_delay_ms(&p, 7, UINT32_MAX) == 5000);
	CHECK(backoff_delay_ms(&p, 40, UINT32_MAX) == 5000);
	CHECK(backoff_delay_ms(&p, 1000000, UINT32_MAX) == 5000);
	CHECK(backoff_delay_ms(&p, 3, UINT32_MAX / 2) == 199);
	for (retry = 1; retry < 12; retry++) {
		ceiling = retry < 7 ? 100u << (retry - 1) : 5000u;
		for (i = 0; i < 1000; i++) {
			uint64_t w;

			seed = seed * 1103515245u + 12345u;
			w = backoff_delay_ms(&p, retry, seed);
			if (w > ceiling)
				within = 0;
			if (retry == 5 && w < ceiling / 4)
				spread |= 1;
			if (retry == 5 && w > ceiling * 3 / 4)
				spread |= 2;
		}
	}
	CHECK(within);
	CHECK(spread == 3);
}

static void
test_no_jitter(void)
{
	/* imds.c's policy: 200, 400, 800, then 1600 ms. */
	struct backoff_policy imds = {
	    .base_ms = 200, .cap_ms = 1600, .jitter = BACKOFF_JITTER_NONE};
	/* creds.c's background retries: 1 s doubling to 60 s. */
	struct backoff_policy creds = {
	    .base_ms = 1000, .cap_ms = 60000, .jitter = BACKOFF_JITTER_NONE};

	TEST("backoff_without_jitter_doubles_exactly_up_to_the_cap");
	CHECK(backoff_delay_ms(&imds, 0, 7) == 200);
	CHECK(backoff_delay_ms(&imds, 1, 7) == 200);
	CHECK(backoff_delay_ms(&imds, 2, 0) == 400);
	CHECK(backoff_delay_ms(&imds, 3, UINT32_MAX) == 800);
	CHECK(backoff_delay_ms(&imds, 4, 1) == 1600);
	CHECK(backoff_delay_ms(&imds, 5, 1) == 1600);
	CHECK(backoff_delay_ms(&imds, 33, 1) == 1600);
	CHECK(backoff_delay_ms(&creds, 6, 0) == 32000);
	CHECK(backoff_delay_ms(&creds, 7, 0) == 60000);
	CHECK(backoff_delay_ms(&creds, 100, 0) == 60000);
}

static void
test_may_retry(void)
{
	struct backoff_policy three = {.base_ms = 1, .cap_ms = 1,
				       .max_attempts = 3};
	struct backoff_policy forever = {.base_ms = 1, .cap_ms = 1};
	struct backoff_policy deadline = {.base_ms = 1, .cap_ms = 1,
					  .deadline_ms = 10000};

	TEST("attempt_limit_counts_the_first_attempt");
	CHECK(backoff_may_retry(&three, 1, 0, 0));
	CHECK(backoff_may_retry(&three, 2, 0, 0));
	CHECK(!backoff_may_retry(&three, 3, 0, 0));
	CHECK(!backoff_may_retry(&three, 4, 0, 0));

	TEST("no_limits_retry_for_ever");
	CHECK(backoff_may_retry(&forever, 1000000, 3600000, 5000));

	TEST("deadline_stops_retries_that_would_start_after_it");
	CHECK(backoff_may_retry(&deadline, 4, 9000, 900));
	CHECK(backoff_may_retry(&deadline, 4, 9000, 1000));
	CHECK(!backoff_may_retry(&deadline, 4, 9000, 1001));
	CHECK(!backoff_may_retry(&deadline, 1, 10001, 0));
}

static void
test_quota(void)
{
	struct backoff_quota q;
	unsigned i, retries = 0;

	TEST("quota_pays_100_retries_then_refuses");
	backoff_quota_init(&q, BACKOFF_QUOTA_TOKENS);
	CHECK(q.tokens == 500 && q.max == 500);
	while (backoff_quota_take(&q, 0) == 5)
		retries++;
	CHECK(retries == 100);
	CHECK(q.tokens == 0);
	CHECK(backoff_quota_take(&q, 0) == 0);
	CHECK(backoff_quota_take(&q, 1) == 0);

	TEST("a_timeout_retry_costs_ten_and_needs_ten");
	backoff_quota_refund(&q, 5);
	CHECK(q.tokens == 5);
	CHECK(backoff_quota_take(&q, 1) == 0);
	CHECK(q.tokens == 5);
	backoff_quota_refund(&q, 5);
	CHECK(backoff_quota_take(&q, 1) == 10 && q.tokens == 0);

	TEST("success_refunds_its_retry_cost_or_one");
	backoff_quota_refund(&q, 10);
	CHECK(q.tokens == 10);
	backoff_quota_refund(&q, 0);
	CHECK(q.tokens == 11);
	for (i = 0; i < 1000; i++)
		backoff_quota_refund(&q, 0);
	CHECK(q.tokens == 500);
	backoff_quota_refund(&q, 10);
	CHECK(q.tokens == 500);
}

int
main(void)
{
	test_full_jitter();
	test_no_jitter();
	test_may_retry();
	test_quota();
	return check_done();
}
