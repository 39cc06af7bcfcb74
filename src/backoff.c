/*
 * backoff.c - capped exponential backoff, jitter, attempt and deadline
 * limits, the retry quota (pure; see backoff.h).
 */
#include "backoff.h"

uint64_t
backoff_delay_ms(const struct backoff_policy *p, unsigned retry, uint32_t rnd)
{
	uint64_t ceiling = p->cap_ms;
	unsigned shift = retry > 0 ? retry - 1 : 0;

	if (shift < 32 && ((uint64_t)p->base_ms << shift) < ceiling)
		ceiling = (uint64_t)p->base_ms << shift;
	switch (p->jitter) {
	case BACKOFF_JITTER_NONE:
		return ceiling;
	case BACKOFF_JITTER_FULL:
		return ceiling * rnd / UINT32_MAX;
	}
	return ceiling;
}

int
backoff_may_retry(const struct backoff_policy *p, unsigned attempts,
		  uint64_t elapsed_ms, uint64_t wait_ms)
{
	if (p->max_attempts != 0 && attempts >= p->max_attempts)
		return 0;
	if (p->deadline_ms != 0 && elapsed_ms + wait_ms > p->deadline_ms)
		return 0;
	return 1;
}

void
backoff_quota_init(struct backoff_quota *q, unsigned max)
{
	q->tokens = q->max = max;
}

unsigned
backoff_quota_take(struct backoff_quota *q, int timeout)
{
	unsigned cost = timeout ? BACKOFF_QUOTA_TIMEOUT : BACKOFF_QUOTA_RETRY;

	if (q->tokens < cost)
		return 0;
	q->tokens -= cost;
	return cost;
}

void
backoff_quota_refund(struct backoff_quota *q, unsigned cost)
{
	unsigned add = cost != 0 ? cost : BACKOFF_QUOTA_SUCCESS;

	q->tokens = add >= q->max - q->tokens ? q->max : q->tokens + add;
}
