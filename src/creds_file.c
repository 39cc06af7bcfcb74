/*
 * creds_file.c - the AWS shared credentials file (INI, as the AWS CLI
 * writes it), parsed. Pure; unit-tested and fuzzed
 * (tests/fuzz/fuzz_credfile.c).
 */
#include "creds_file.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct ini {
	const char *name;
	const char *profile;
	struct creds *out;
	char *err;
	size_t errlen;
	unsigned line;
	int in_target;
	unsigned target_line; /* line of the profile's header, 0 = not seen */
	unsigned id_line, secret_line, token_line;
	const char *unsupported; /* e.g. "role_arn" seen in the profile */
};

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
trim(const char **s, const char **e)
{
	while (*s < *e && blank(**s))
		(*s)++;
	while (*e > *s && blank((*e)[-1]))
		(*e)--;
}

static int
equals(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && strncasecmp(s, word, n) == 0;
}

static int
ini_error(struct ini *st, const char *what)
{
	(void)snprintf(st->err, st->errlen, "%s:%u: %s", st->name, st->line,
		       what);
	return -1;
}

static int
ini_section(struct ini *st, const char *s, const char *e)
{
	const char *close = memchr(s, ']', (size_t)(e - s));
	const char *after;
	char msg[256];

	if (close == NULL)
		return ini_error(st, "section header without ']'");
	after = close + 1;
	trim(&after, &e);
	if (after < e && *after != '#' && *after != ';')
		return ini_error(st, "unexpected text after ']'");
	s++;
	e = close;
	trim(&s, &e);
	/* ~/.aws/config style "[profile NAME]" means the same here. */
	if (e - s > 8 && strncmp(s, "profile", 7) == 0 && blank(s[7])) {
		s += 8;
		trim(&s, &e);
	}
	if (s == e)
		return ini_error(st, "empty section name");
	st->in_target = (size_t)(e - s) == strlen(st->profile) &&
			memcmp(s, st->profile, (size_t)(e - s)) == 0;
	if (!st->in_target)
		return 0;
	if (st->target_line != 0) {
		(void)snprintf(msg, sizeof(msg),
			       "duplicate section [%.64s] (first at line %u)",
			       st->profile, st->target_line);
		return ini_error(st, msg);
	}
	st->target_line = st->line;
	return 0;
}

static int
ini_value(struct ini *st, const char *key, const char *s, const char *e,
	  char *dst, size_t size, unsigned *seen)
{
	char msg[128];
	size_t n = (size_t)(e - s), i;

	if (*seen != 0) {
		(void)snprintf(msg, sizeof(msg),
			       "%s given twice (first at line %u)", key, *seen);
		return ini_error(st, msg);
	}
	*seen = st->line;
	if (n >= size) {
		(void)snprintf(msg, sizeof(msg), "%s is too long", key);
		return ini_error(st, msg);
	}
	for (i = 0; i < n; i++) {
		if (s[i] <= ' ' || s[i] > '~') {
			(void)snprintf(
			    msg, sizeof(msg),
			    "%s holds a space or a non-ASCII character", key);
			return ini_error(st, msg);
		}
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int
ini_setting(struct ini *st, const char *s, const char *e)
{
	static const char *const unsupported[] = {
	    "role_arn",	     "source_profile", "credential_process",
	    "sso_start_url", "sso_session",    "web_identity_token_file",
	};
	const char *eq = memchr(s, '=', (size_t)(e - s));
	const char *k = s, *ke, *v, *ve = e;
	size_t i;

	if (eq == NULL)
		return ini_error(st,
				 "expected \"key = value\" or \"[section]\"");
	ke = eq;
	v = eq + 1;
	trim(&k, &ke);
	trim(&v, &ve);
	if (k == ke)
		return ini_error(st, "missing key before '='");
	if (!st->in_target)
		return 0;
	if (equals(k, ke, "aws_access_key_id"))
		return ini_value(st, "aws_access_key_id", v, ve,
				 st->out->access_key_id,
				 sizeof(st->out->access_key_id), &st->id_line);
	if (equals(k, ke, "aws_secret_access_key"))
		return ini_value(st, "aws_secret_access_key", v, ve,
				 st->out->secret_access_key,
				 sizeof(st->out->secret_access_key),
				 &st->secret_line);
	if (equals(k, ke, "aws_session_token"))
		return ini_value(
		    st, "aws_session_token", v, ve, st->out->session_token,
		    sizeof(st->out->session_token), &st->token_line);
	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (equals(k, ke, unsupported[i]))
			st->unsupported = unsupported[i];
	return 0;
}

static int
ini_line(struct ini *st, const char *s, const char *e, int *in_section)
{
	if (memchr(s, '\0', (size_t)(e - s)) != NULL)
		return ini_error(st, "NUL byte (is this a text file?)");
	trim(&s, &e);
	if (s == e || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		*in_section = 1;
		return ini_section(st, s, e);
	}
	if (!*in_section)
		return ini_error(st, "setting outside any [section]");
	return ini_setting(st, s, e);
}

static int
ini_finish(struct ini *st)
{
	char msg[256];

	if (st->target_line == 0) {
		(void)snprintf(st->err, st->errlen, "%s: no profile [%.64s]",
			       st->name, st->profile);
		return 1;
	}
	st->line = st->target_line;
	if (st->out->access_key_id[0] == '\0' ||
	    st->out->secret_access_key[0] == '\0') {
		if (st->unsupported != NULL &&
		    st->out->access_key_id[0] == '\0' &&
		    st->out->secret_access_key[0] == '\0')
			(void)snprintf(
			    msg, sizeof(msg),
			    "profile [%.64s] uses %s, which eipfloatd "
			    "does not support: give it static keys or use "
			    "the instance role",
			    st->profile, st->unsupported);
		else
			(void)snprintf(msg, sizeof(msg),
				       "profile [%.64s] has no %s", st->profile,
				       st->out->access_key_id[0] == '\0'
					   ? "aws_access_key_id"
					   : "aws_secret_access_key");
		return ini_error(st, msg);
	}
	st->out->source = CREDS_FILE;
	st->out->expiration_ms = 0;
	return 0;
}

/*
 * The file as the AWS CLI writes it: [section] headers, "key = value"
 * lines, whole-line comments (# or ;), CRLF or LF. Keys are
 * case-insensitive; values are kept verbatim after trimming, without
 * inline comments, since a secret may contain '#'. A syntax error anywhere
 * is an error (the AWS CLI refuses such a file too); other profiles'
 * settings are not looked at. Messages never quote a value.
 */
int
creds_parse_file(const char *text, size_t len, const char *name,
		 const char *profile, struct creds *out, char *err,
		 size_t errlen)
{
	struct ini st = {
	    .name = name,
	    .profile = profile,
	    .out = out,
	    .err = err,
	    .errlen = errlen,
	};
	const char *p = text, *end = text + len, *nl, *e;
	int in_section = 0, rc;

	memset(out, 0, sizeof(*out));
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		st.line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		e = nl ? nl : end;
		if (e > p && e[-1] == '\r')
			e--;
		if (ini_line(&st, p, e, &in_section) == -1)
			goto fail;
		p = nl ? nl + 1 : end;
	}
	rc = ini_finish(&st);
	if (rc == 0)
		return 0;
	util_explicit_bzero(out, sizeof(*out));
	return rc;
fail:
	util_explicit_bzero(out, sizeof(*out));
	return -1;
}
