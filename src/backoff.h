/*
 * backoff.h - the one retry policy: capped exponential backoff with optional
 * full jitter, an attempt limit and a deadline, and a retry quota. Pure: the caller passes the
 * random value and the elapsed time. Every retry in eipfloatd (EC2, IMDS,
 * credentials, AWS start-up) asks this module how long to wait and whether
 * to try again.
 */
#ifndef EIPFLOATD_BACKOFF_H
#define EIPFLOATD_BACKOFF_H

#include <stdint.h>

enum backoff_jitter {
	BACKOFF_JITTER_NONE, /* wait exactly min(cap, base * 2^(retry-1)) */
	BACKOFF_JITTER_FULL, /* uniform over [0, that] (AWS "full jitter") */
};

struct backoff_policy {
	unsigned base_ms;      /* the first retry waits (up to) this */
	unsigned cap_ms;       /* no wait is longer than this */
	unsigned max_attempts; /* including the first; 0 = unlimited */
	unsigned deadline_ms;  /* no retry starts after this; 0 = never */
	enum backoff_jitter jitter;
};

/*
 * The wait before retry number `retry` (1 = the first retry, after the
 * first attempt failed); rnd is a uniform 32-bit random value (ignored
 * without jitter). retry 0 is treated as 1.
 */
uint64_t backoff_delay_ms(const struct backoff_policy *p, unsigned retry,
			  uint32_t rnd);

/*
 * Whether another attempt may follow `attempts` made so far, when it would
 * start wait_ms from now and elapsed_ms have passed since the first.
 */
int backoff_may_retry(const struct backoff_policy *p, unsigned attempts,
		      uint64_t elapsed_ms, uint64_t wait_ms);

/*
 * The client-side retry quota of the AWS SDKs' "standard" retry mode, one
 * per client: a retry must take tokens from it, so a long outage stops
 * retrying instead of spending the account's shared request budget, and
 * successes pay the tokens back.
 */
#define BACKOFF_QUOTA_TOKENS 500 /* a full quota */
#define BACKOFF_QUOTA_RETRY 5	 /* a retry after an error answer */
#define BACKOFF_QUOTA_TIMEOUT 10 /* a retry after a timeout */
#define BACKOFF_QUOTA_SUCCESS 1	 /* refunded by a success without retry */

struct backoff_quota {
	unsigned tokens;
	unsigned max;
};

void backoff_quota_init(struct backoff_quota *q, unsigned max);
/*
 * Pay for one retry (timeout: the failed attempt timed out). Returns the
 * cost taken, or 0 when the quota cannot pay it: do not retry then.
 */
unsigned backoff_quota_take(struct backoff_quota *q, int timeout);
/*
 * A call succeeded: give back `cost`, what its last retry took (0 when it
 * needed none: then BACKOFF_QUOTA_SUCCESS); never above max.
 */
void backoff_quota_refund(struct backoff_quota *q, unsigned cost);

#endif
