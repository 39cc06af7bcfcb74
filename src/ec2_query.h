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

/*
 * "scheme://host[:port][/path]" -> host and path ("/" when none), as
 * signing needs them. -1 for a query, fragment, user info or no room.
 */
int ec2_split_endpoint(const char *url, char *host, size_t hostlen,
		       char *path, size_t pathlen);

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

/*
 * A failure that says this node cannot use the EC2 API at all (no answer,
 * no credentials, credentials or permissions EC2 refuses), as opposed to
 * one EC2 may answer differently next time (throttling, 5xx, not found).
 */
int ec2_unusable_code(const char *code);

/*
 * What the operator should do about a failed `action` (one line): the IAM
 * action to allow, the allocation to check in `region`, the credentials
 * and clock, or the route to `endpoint`. check-aws and the daemon's
 * permission self-test say the same.
 */
void ec2_fix_text(const char *code, const char *action, const char *region,
		  const char *endpoint, char *buf, size_t len);

/*
 * Reads: 3 attempts. Writes from the election: EC2_WRITE_ATTEMPTS, about
 * 40 s of capped backoff; the election's acquire_timeout_ms usually ends
 * them first (it cancels), the limit bounds a write nobody cancels.
 */
#define EC2_WRITE_ATTEMPTS 20

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

/*
 * Clock skew, as the AWS SDKs correct it. EC2 refuses a signature whose
 * time is more than 5 minutes off its own clock, and says what its clock
 * reads in every answer's Date header. The client keeps an offset (EC2's
 * clock minus ours) and signs with now + offset.
 */
#define EC2_SKEW_MIN_S 300   /* a Date this far off moves the offset */
#define EC2_SKEW_ERROR_S 240 /* ... this far, with a clock-skew error */

/* An RFC 7231 Date ("Tue, 01 Dec 2026 23:00:47 GMT") -> epoch s; -1. */
int ec2_parse_http_date(const char *s, int64_t *epoch_s);

/*
 * The codes EC2 and the SDKs use for a request signed at the wrong time
 * (EC2 answers RequestExpired, some endpoints AuthFailure "Signature
 * expired"); they count as skew only with a skewed Date.
 */
int ec2_is_skew_code(const char *code);

enum ec2_skew {
	EC2_SKEW_KEEP,	 /* the offset is right */
	EC2_SKEW_ADJUST, /* take *new_offset_s */
	EC2_SKEW_RETRY,	 /* take it, and the refused call is retried */
};

/*
 * What an answer says about the offset: its Date (NULL or "" when none)
 * read at local time local_s, its error code ("" when it succeeded), and
 * the offset the request was signed with. A Date EC2_SKEW_MIN_S or more
 * away from local + offset adjusts; a clock-skew code with a Date at least
 * EC2_SKEW_ERROR_S away adjusts and retries. The new offset is 0 when
 * EC2's clock agrees with ours to within EC2_SKEW_ERROR_S.
 */
enum ec2_skew ec2_skew_check(const char *date, const char *code,
			     int64_t local_s, int64_t offset_s,
			     int64_t *new_offset_s);

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
