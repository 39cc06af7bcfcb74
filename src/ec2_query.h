/*
 * ec2_query.h - the pure rules of the EC2 Query API client: the default
 * endpoint, form bodies, what an error answer means, and whether to retry
 * (with src/backoff.h's policy). No I/O; ec2.c applies them.
 */
#ifndef EIPFLOATD_EC2_QUERY_H
#define EIPFLOATD_EC2_QUERY_H

#include "backoff.h"

#include <stddef.h>
#include <stdint.h>

#define EC2_API_VERSION "2016-11-15"
#define EC2_FORM_MAX 2048

/*
 * The one place that knows EC2's public endpoint for a region:
 * "https://ec2.REGION.amazonaws.com". Returns 0, or -1 when it does not fit
 * or region is empty.
 */
int ec2_default_endpoint(const char *region, char *buf, size_t len);

/* What to do about a failed attempt. */
enum ec2_error_class {
	EC2_ERR_RETRYABLE, /* throttling, 5xx, transport: back off, retry */
	EC2_ERR_CREDS,	   /* auth/expiry: refresh credentials, retry once */
	EC2_ERR_FATAL,	   /* validation, permissions, not found: report */
};

/*
 * Classify an answer: status is the HTTP status (0 = no answer, a transport
 * error), code the AWS error code ("" or NULL when none was parsed).
 */
enum ec2_error_class ec2_classify(long status, const char *code);

/*
 * A failure for the log: AWS codes alone ("RequestLimitExceeded"); our own
 * ("Transport", "Http502", ...) with their message.
 */
void ec2_failure_text(const char *code, const char *message, char *buf,
		      size_t len);

/* Reads: 3 attempts. Writes from the election: until success or cancel. */
void ec2_policy_read(struct backoff_policy *p);
void ec2_policy_write(struct backoff_policy *p);

enum ec2_next {
	EC2_NEXT_GIVE_UP,
	EC2_NEXT_RETRY,		/* after backoff_delay_ms() */
	EC2_NEXT_REFRESH_RETRY, /* creds_invalidate(), then retry at once */
};

/*
 * The retry decision after attempt number `attempts` (1 = the first) failed
 * with `cls`, `elapsed_ms` after the call began, `wait_ms` being the backoff
 * that would come next. role_creds: the credentials came from the instance
 * role, which a refresh can replace; refreshed: that was done already.
 */
enum ec2_next ec2_next_step(const struct backoff_policy *p,
			    enum ec2_error_class cls, unsigned attempts,
			    uint64_t elapsed_ms, uint64_t wait_ms,
			    int role_creds, int refreshed);

/* A Query API form body: "Action=..&Version=..&Key=value..", encoded. */
struct ec2_form {
	char buf[EC2_FORM_MAX];
	size_t len;
	int overflow;
};

void ec2_form_init(struct ec2_form *f, const char *action);
/* Appends "&key=value" (both percent-encoded); sets overflow when full. */
void ec2_form_add(struct ec2_form *f, const char *key, const char *value);

#endif
