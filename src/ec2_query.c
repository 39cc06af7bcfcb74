/*
 * ec2_query.c - the EC2 client's pure rules: default endpoint, error
 * classes, retry decisions and form bodies (see ec2_query.h).
 */
#include "ec2_query.h"
#include "sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
ec2_default_endpoint(const char *region, char *buf, size_t len)
{
	int n;

	if (region == NULL || region[0] == '\0')
		return -1;
	n = snprintf(buf, len, "https://ec2.%s.amazonaws.com", region);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
ec2_split_endpoint(const char *url, char *host, size_t hostlen, char *path,
		   size_t pathlen)
{
	const char *h = strstr(url, "://"), *p;
	size_t hl;

	if (h == NULL || strchr(url, '?') != NULL || strchr(url, '#'))
		return -1;
	h += 3;
	p = strchr(h, '/');
	hl = p ? (size_t)(p - h) : strlen(h);
	if (hl == 0 || hl >= hostlen || strchr(h, '@') != NULL)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (strlen(p ? p : "/") >= pathlen)
		return -1;
	memcpy(path, p ? p : "/", strlen(p ? p : "/") + 1);
	return 0;
}

static int
in_list(const char *code, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(code, *list) == 0)
			return 1;
	return 0;
}

void
ec2_failure_text(const char *code, const char *message, char *buf, size_t len)
{
	/* Our own codes say little without their text; AWS codes say enough. */
	static const char *const local[] = {"Transport", "NoCredentials",
					    "MalformedResponse",
					    "RequestFailed", NULL};

	if (in_list(code, local) || strncmp(code, "Http", 4) == 0)
		snprintf(buf, len, "%s: %s", code, message);
	else
		snprintf(buf, len, "%s", code);
}

enum ec2_error_class
ec2_classify(long status, const char *code)
{
	/* The throttling and transient codes the AWS SDKs retry. */
	static const char *const retryable[] = {
	    "Throttling",
	    "ThrottlingException",
	    "ThrottledException",
	    "RequestThrottledException",
	    "TooManyRequestsException",
	    "ProvisionedThroughputExceededException",
	    "TransactionInProgressException",
	    "RequestLimitExceeded",
	    "BandwidthLimitExceeded",
	    "LimitExceededException",
	    "RequestThrottled",
	    "SlowDown",
	    "PriorRequestNotComplete",
	    "EC2ThrottledException",
	    "RequestTimeout",
	    "RequestTimeoutException",
	    "InternalError",
	    "InternalFailure",
	    "ServiceUnavailable",
	    "Unavailable",
	    NULL};
	/* What fresh credentials can fix. */
	static const char *const creds[] = {
	    "AuthFailure",    "ExpiredToken", "ExpiredTokenException",
	    "RequestExpired", "InvalidToken", NULL};

	if (code == NULL)
		code = "";
	if (status == 0)
		return EC2_ERR_RETRYABLE;
	if (in_list(code, creds))
		return EC2_ERR_CREDS;
	if (in_list(code, retryable))
		return EC2_ERR_RETRYABLE;
	if (status >= 500 || status == 429)
		return EC2_ERR_RETRYABLE;
	return EC2_ERR_FATAL;
}

int
ec2_parse_http_date(const char *s, int64_t *epoch_s)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};
	char day[4], mon[4], zone[4];
	int d, y, h, mi, sec, used = 0, i, m = -1, wd = -1;
	struct tm tm;
	time_t t;

	/* By hand, not %a/%b: those follow the locale. */
	if (s == NULL ||
	    sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3s%n", day,
		   &d, mon, &y, &h, &mi, &sec, zone, &used) != 8 ||
	    s[used] != '\0' || strcmp(zone, "GMT") != 0)
		return -1;
	for (i = 0; i < 12; i++)
		if (strcmp(mon, months[i]) == 0)
			m = i;
	for (i = 0; i < 7; i++)
		if (strcmp(day, days[i]) == 0)
			wd = i;
	if (wd < 0 || m < 0 || d < 1 || d > 31 || y < 1970 || h > 23 || mi > 59 ||
	    sec > 60 || h < 0 || mi < 0 || sec < 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*epoch_s = (int64_t)t;
	return 0;
}

int
ec2_is_skew_code(const char *code)
{
	/* EC2 says RequestExpired, or AuthFailure "Signature expired" */
	static const char *const skew[] = {
	    "RequestExpired",		 "RequestTimeTooSkewed",
	    "InvalidSignatureException", "SignatureDoesNotMatch",
	    "AuthFailure",		 "RequestInTheFuture",
	    NULL};

	return code != NULL && in_list(code, skew);
}

enum ec2_skew
ec2_skew_check(const char *date, const char *code, int64_t local_s,
	       int64_t offset_s, int64_t *new_offset_s)
{
	int64_t server, measured, off;

	*new_offset_s = offset_s;
	if (date == NULL || date[0] == '\0' ||
	    ec2_parse_http_date(date, &server) == -1)
		return EC2_SKEW_KEEP;
	measured = server - local_s;
	off = llabs(measured - offset_s);
	if (ec2_is_skew_code(code) && off >= EC2_SKEW_ERROR_S) {
		*new_offset_s = llabs(measured) >= EC2_SKEW_ERROR_S ? measured : 0;
		return EC2_SKEW_RETRY;
	}
	if (off >= EC2_SKEW_MIN_S) {
		*new_offset_s = llabs(measured) >= EC2_SKEW_ERROR_S ? measured : 0;
		return EC2_SKEW_ADJUST;
	}
	return EC2_SKEW_KEEP;
}

void
ec2_fix_text(const char *code, const char *action, const char *region,
	     const char *endpoint, char *buf, size_t len)
{
	if (strcmp(code, "UnauthorizedOperation") == 0)
		snprintf(buf, len,
			 "allow ec2:%s in the instance role's IAM policy "
			 "(eipfloatd(8), AWS SET-UP, has the minimal policy)",
			 action);
	else if (strncmp(code, "InvalidAllocationID", 19) == 0 ||
		 strncmp(code, "InvalidAddress", 14) == 0)
		snprintf(buf, len,
			 "check allocation_id/public_ip in resources[] and "
			 "that the address is in Region %s",
			 region);
	else if (strcmp(code, "AuthFailure") == 0 ||
		 strcmp(code, "RequestExpired") == 0)
		snprintf(buf, len,
			 "the credentials are not accepted: check the role "
			 "or keys belong to this account, and the clock "
			 "(chrony)");
	else
		snprintf(buf, len,
			 "make %s reachable from this instance (security "
			 "group egress to 443, a NAT gateway or an EC2 VPC "
			 "endpoint, HTTPS_PROXY), or fix aws.endpoint",
			 endpoint);
}

int
ec2_unusable_code(const char *code)
{
	static const char *const unusable[] = {
	    "Transport",	  "NoCredentials",	   "UnauthorizedOperation",
	    "AuthFailure",	  "InvalidClientTokenId", "ExpiredToken",
	    "ExpiredTokenException", "InvalidToken",	   "OptInRequired",
	    "Blocked",		  NULL};

	return code != NULL && in_list(code, unusable);
}

void
ec2_policy_read(struct backoff_policy *p)
{
	p->base_ms = 100;
	p->cap_ms = 5000;
	p->max_attempts = 3;
	p->deadline_ms = 0;
	p->jitter = BACKOFF_JITTER_FULL;
}

void
ec2_policy_write(struct backoff_policy *p)
{
	p->base_ms = 100;
	p->cap_ms = 5000;
	p->max_attempts = EC2_WRITE_ATTEMPTS;
	p->deadline_ms = 0;
	p->jitter = BACKOFF_JITTER_FULL;
}

enum ec2_next
ec2_next_step(const struct backoff_policy *p, enum ec2_error_class cls,
	      unsigned attempts, uint64_t elapsed_ms, uint64_t wait_ms,
	      int role_creds, int refreshed)
{
	switch (cls) {
	case EC2_ERR_FATAL:
		return EC2_NEXT_GIVE_UP;
	case EC2_ERR_CREDS:
		/* Once: expired role credentials heal by re-fetching. */
		return role_creds && !refreshed ? EC2_NEXT_REFRESH_RETRY
						: EC2_NEXT_GIVE_UP;
	case EC2_ERR_RETRYABLE:
		return backoff_may_retry(p, attempts, elapsed_ms, wait_ms)
			   ? EC2_NEXT_RETRY
			   : EC2_NEXT_GIVE_UP;
	}
	return EC2_NEXT_GIVE_UP;
}

static void
form_put(struct ec2_form *f, const char *s)
{
	size_t n = strlen(s);

	if (f->overflow || n >= sizeof(f->buf) - f->len) {
		f->overflow = 1;
		return;
	}
	memcpy(f->buf + f->len, s, n + 1);
	f->len += n;
}

static void
form_put_enc(struct ec2_form *f, const char *s)
{
	char enc[EC2_FORM_MAX];

	if (sigv4_uri_encode(s, 1, enc, sizeof(enc)) == -1) {
		f->overflow = 1;
		return;
	}
	form_put(f, enc);
}

void
ec2_form_init(struct ec2_form *f, const char *action)
{
	memset(f, 0, sizeof(*f));
	form_put(f, "Action=");
	form_put_enc(f, action);
	form_put(f, "&Version=" EC2_API_VERSION);
}

void
ec2_form_add(struct ec2_form *f, const char *key, const char *value)
{
	form_put(f, "&");
	form_put_enc(f, key);
	form_put(f, "=");
	form_put_enc(f, value ? value : "");
}
