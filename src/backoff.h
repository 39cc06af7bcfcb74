/*
 * backoff.h - the one retry policy: capped exponential backoff with optional
 * full jitter, an attempt limit and a deadline. Pure: the caller passes the
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

#endif
