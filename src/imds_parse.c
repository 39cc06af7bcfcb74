/*
 * imds_parse.c - IMDS answers: the identity document and role credentials
 * (JSON, through jansson), the role listing, the session token, and ISO
 * 8601 times (libc strptime/timegm plus the fraction and the offset).
 * Pure; unit-tested and fuzzed (tests/fuzz/fuzz_imds.c).
 */
#include "imds_parse.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int
printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

/*
 * Copy the string member `key` into dst. Values end up in URLs, HTTP
 * headers and log lines, so only non-empty printable ASCII without spaces
 * fits. The value itself never appears in err: it may be a secret.
 */
static int
get_str(json_t *obj, const char *key, int required, char *dst, size_t size,
	char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t len;

	dst[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		(void)snprintf(err, errlen, "%s is missing", key);
		return -1;
	}
	if (!json_is_string(v)) {
		(void)snprintf(err, errlen, "%s is not a string", key);
		return -1;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 && !required)
		return 0;
	if (len == 0 || len >= size || !printable(s, len)) {
		(void)snprintf(err, errlen, "%s is %s", key,
			       len == 0	     ? "empty"
			       : len >= size ? "too long"
					     : "not printable ASCII");
		return -1;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/*
 * jansson's own message may quote the input, which may hold a secret; its
 * strings (the secret key, the session token) are zeroed when freed.
 */
static json_t *
load(const char *json, size_t len, const char *what, char *err, size_t errlen)
{
	static int zeroing;
	json_error_t jerr;
	json_t *root;

	if (!zeroing) {
		json_set_alloc_funcs(malloc, util_free_secret);
		zeroing = 1;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL) {
		(void)snprintf(err, errlen,
			       "%s is not valid JSON (line %d, column %d)",
			       what, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		(void)snprintf(err, errlen, "%s is not a JSON object", what);
		json_decref(root);
		return NULL;
	}
	return root;
}

int
imds_parse_identity(const char *json, size_t len, struct imds_identity *out,
		    char *err, size_t errlen)
{
	json_t *root = load(json, len, "identity document", err, errlen);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	if (get_str(root, "instanceId", 1, out->instance_id,
		    sizeof(out->instance_id), err, errlen) == 0 &&
	    get_str(root, "region", 1, out->region, sizeof(out->region), err,
		    errlen) == 0 &&
	    get_str(root, "availabilityZone", 1, out->availability_zone,
		    sizeof(out->availability_zone), err, errlen) == 0 &&
	    get_str(root, "accountId", 0, out->account_id,
		    sizeof(out->account_id), err, errlen) == 0 &&
	    get_str(root, "privateIp", 0, out->private_ip,
		    sizeof(out->private_ip), err, errlen) == 0)
		rc = 0;
	json_decref(root);
	if (rc == -1)
		memset(out, 0, sizeof(*out));
	return rc;
}

int
imds_parse_role_credentials(const char *json, size_t len, struct creds *out,
			    char *err, size_t errlen)
{
	json_t *root = load(json, len, "role credentials", err, errlen);
	char code[64], msg[256], expiration[64];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	if (get_str(root, "Code", 1, code, sizeof(code), err, errlen) == -1)
		goto out;
	if (strcmp(code, "Success") != 0) {
		/* Message is IMDS's explanation, e.g. of a broken role. */
		json_t *m = json_object_get(root, "Message");
		msg[0] = '\0';
		if (json_is_string(m))
			util_strlcpy(msg, json_string_value(m), sizeof(msg));
		for (char *p = msg; *p; p++)
			if (*p < ' ' || *p > '~')
				*p = '?';
		(void)snprintf(err, errlen, "Code is %s, not Success%s%s", code,
			       msg[0] ? ": " : "", msg);
		goto out;
	}
	if (get_str(root, "AccessKeyId", 1, out->access_key_id,
		    sizeof(out->access_key_id), err, errlen) == -1 ||
	    get_str(root, "SecretAccessKey", 1, out->secret_access_key,
		    sizeof(out->secret_access_key), err, errlen) == -1 ||
	    get_str(root, "Token", 1, out->session_token,
		    sizeof(out->session_token), err, errlen) == -1 ||
	    get_str(root, "Expiration", 1, expiration, sizeof(expiration), err,
		    errlen) == -1)
		goto out;
	if (imds_parse_time(expiration, &out->expiration_ms) == -1 ||
	    out->expiration_ms == 0) {
		(void)snprintf(err, errlen,
			       "Expiration \"%s\" is not an ISO 8601 UTC time",
			       expiration);
		goto out;
	}
	out->source = CREDS_IMDS;
	rc = 0;
out:
	json_decref(root);
	if (rc == -1)
		util_explicit_bzero(out, sizeof(*out));
	return rc;
}

static int
space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* IAM allows only [A-Za-z0-9+=,.@_-] in a role name (it goes into a URL). */
int
imds_parse_role_name(const char *body, size_t len, char *role, size_t size)
{
	size_t i = 0, n = 0;

	if (size == 0)
		return -1;
	role[0] = '\0';
	while (i < len && space(body[i]))
		i++;
	for (; i < len && !space(body[i]); i++) {
		char c = body[i];
		if (n + 1 >= size || c == '\0' ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("+=,.@_-", c))) {
			role[0] = '\0';
			return -1;
		}
		role[n++] = c;
	}
	role[n] = '\0';
	return n > 0 ? 0 : -1;
}

int
imds_token_ok(const char *s, size_t len, size_t max)
{
	return len > 0 && len < max && printable(s, len);
}

/* The shape strptime does not check: exactly these digits and separators. */
static int
shaped(const char *s, const char *shape)
{
	for (; *shape != '\0'; s++, shape++) {
		if (*shape == 'D' ? *s < '0' || *s > '9' : *s != *shape)
			return 0;
	}
	return 1;
}

/* Read two digits (the caller checked they are digits). */
static int
two(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/*
 * "YYYY-MM-DDTHH:MM:SS[.fff...](Z|+hh[:]mm|-hh[:]mm)". strptime checks the
 * ranges, timegm does the calendar; a date that timegm moves (Feb 30) is
 * refused. A leap second (:60) counts as the next second, as before.
 */
int
imds_parse_time(const char *s, uint64_t *ms)
{
	char date[11];
	struct tm tm, back;
	const char *p;
	int sec, frac = 0, scale = 100, sign = 0, oh = 0, om = 0;
	int64_t t;
	time_t day;

	if (strlen(s) < 20 || !shaped(s, "DDDD-DD-DD") ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !shaped(s + 11, "DD:DD:DD"))
		return -1;
	memcpy(date, s, 10);
	date[10] = '\0';
	memset(&tm, 0, sizeof(tm));
	p = strptime(date, "%Y-%m-%d", &tm);
	if (p == NULL || *p != '\0' || tm.tm_year < 70)
		return -1;
	back = tm;
	day = timegm(&back);
	if (day == (time_t)-1 || back.tm_mday != tm.tm_mday ||
	    back.tm_mon != tm.tm_mon)
		return -1;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s + 11, "%H:%M", &tm);
	sec = two(s + 17);
	if (p != s + 16 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!shaped(p, "DD"))
			return -1;
		oh = two(p);
		p += 2;
		if (*p == ':')
			p++;
		if (!shaped(p, "DD"))
			return -1;
		om = two(p);
		p += 2;
		if (oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	t = (int64_t)day + tm.tm_hour * 3600 + tm.tm_min * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	if (t < 0)
		return -1;
	*ms = (uint64_t)t * 1000 + (uint64_t)frac;
	return 0;
}
