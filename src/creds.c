/*
 * creds.c - the AWS credential chain (environment, shared credentials file,
 * instance role through IMDS) behind one cache that is refreshed in the
 * background before role credentials expire.
 */
#include "creds.h"
#include "backoff.h"
#include "creds_file.h"
#include "imds.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CREDS_FILE_MAX (1024 * 1024)
#define REFRESH_MARGIN_MAX_MS (15 * 60 * 1000ull)
#define STALE_MARGIN_MAX_MS (5 * 60 * 1000ull)
#define REFRESH_MIN_DELAY_MS 1000
#define CREDS_ERR_MAX 2048

struct waiter {
	creds_cb cb;
	void *arg;
	struct waiter *next;
};

struct creds_ctx {
	struct ev_loop *loop;
	struct imds_ctx *imds;
	char profile[256]; /* aws.profile; "" = AWS_PROFILE or "default" */
	struct creds cur;  /* secret */
	int have;
	int dying;		       /* inside creds_free */
	uint64_t refresh_at, stale_at; /* wall ms; 0 when cur never expires */
	char role[132];
	struct imds_req *fetch; /* role credentials in flight */
	struct loop_defer refresh; /* background refresh, and its retries */
	struct loop_defer deliver; /* hands a synchronous result to waiters */
	struct waiter *waiters, **tail;
	unsigned fail_streak;
	char err[CREDS_ERR_MAX]; /* why the last resolution failed */
};

static void refresh_cb(void *arg);
static void deliver_cb(void *arg);

/* Background retries of a failing refresh: 1 s, doubling, at most 60 s. */
static const struct backoff_policy retry_policy = {
    .base_ms = 1000,
    .cap_ms = 60000,
    .jitter = BACKOFF_JITTER_NONE,
};
static void flush(struct creds_ctx *ctx, const struct creds *creds,
		  const char *err);

const char *
creds_source_name(enum creds_source src)
{
	switch (src) {
	case CREDS_NONE:
		return "none";
	case CREDS_ENV:
		return "environment";
	case CREDS_FILE:
		return "credentials file";
	case CREDS_IMDS:
		return "instance role";
	}
	return "unknown";
}

/*
 * Refresh policy. IMDS hands out role credentials for about 6 hours and has
 * new ones ready at least 5 minutes before the old ones expire. We refresh
 * when a quarter of the lifetime we saw is left, but at most 15 minutes
 * early, so a 6 h credential is refreshed 15 min before it expires and a
 * 60 s one (the test emulator's) after 45 s. Callers keep getting the
 * cached ones until only a tenth of the lifetime (at most 5 minutes) is
 * left, which leaves room to sign and send a request and, if refreshes keep
 * failing, as long as possible to retry before anybody has to wait.
 */
void
creds_schedule(uint64_t fetched_ms, uint64_t expiration_ms,
	       uint64_t *refresh_at, uint64_t *stale_at)
{
	uint64_t life, refresh_margin, stale_margin;

	if (expiration_ms <= fetched_ms) {
		*refresh_at = *stale_at = fetched_ms;
		return;
	}
	life = expiration_ms - fetched_ms;
	refresh_margin = life / 4;
	if (refresh_margin > REFRESH_MARGIN_MAX_MS)
		refresh_margin = REFRESH_MARGIN_MAX_MS;
	stale_margin = life / 10;
	if (stale_margin > STALE_MARGIN_MAX_MS)
		stale_margin = STALE_MARGIN_MAX_MS;
	*refresh_at = expiration_ms - refresh_margin;
	*stale_at = expiration_ms - stale_margin;
}

/* ---- the chain ---- */

struct creds_ctx *
creds_new(struct ev_loop *loop, struct imds_ctx *imds, const char *profile)
{
	struct creds_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return NULL;
	ctx->loop = loop;
	ctx->imds = imds;
	util_strlcpy(ctx->profile, profile ? profile : "",
		     sizeof(ctx->profile));
	ctx->tail = &ctx->waiters;
	loop_defer_init(&ctx->refresh, loop, refresh_cb, ctx);
	loop_defer_init(&ctx->deliver, loop, deliver_cb, ctx);
	return ctx;
}

static int
usable(const struct creds_ctx *ctx)
{
	if (!ctx->have)
		return 0;
	return ctx->cur.expiration_ms == 0 || util_wall_ms() < ctx->stale_at;
}

static void
drop(struct creds_ctx *ctx)
{
	util_explicit_bzero(&ctx->cur, sizeof(ctx->cur));
	ctx->have = 0;
	ctx->refresh_at = ctx->stale_at = 0;
	loop_defer_cancel(&ctx->refresh);
}

/*
 * Every creds_get gets its one callback, even at shutdown: callers (ec2.c)
 * free their wait state there. A callback that asks again meanwhile gets
 * an error at once.
 */
void
creds_free(struct creds_ctx *ctx)
{
	if (ctx == NULL)
		return;
	ctx->dying = 1;
	imds_cancel(ctx->fetch);
	ctx->fetch = NULL;
	loop_defer_cancel(&ctx->deliver);
	drop(ctx);
	while (ctx->waiters != NULL)
		flush(ctx, NULL, "credentials: shutting down");
	util_explicit_bzero(ctx, sizeof(*ctx));
	free(ctx);
}

/*
 * Answer every waiter. The list and the credentials are copied first, so a
 * callback may call creds_get again or even creds_free.
 */
static void
flush(struct creds_ctx *ctx, const struct creds *creds, const char *err)
{
	struct waiter *w = ctx->waiters, *next;
	struct creds copy;
	char errcopy[CREDS_ERR_MAX];

	ctx->waiters = NULL;
	ctx->tail = &ctx->waiters;
	if (creds != NULL)
		copy = *creds;
	util_strlcpy(errcopy, err ? err : "no credentials", sizeof(errcopy));
	for (; w != NULL; w = next) {
		creds_cb cb = w->cb;
		void *arg = w->arg;

		next = w->next;
		free(w);
		if (creds != NULL)
			cb(arg, &copy, NULL);
		else
			cb(arg, NULL, errcopy);
	}
	if (creds != NULL)
		util_explicit_bzero(&copy, sizeof(copy));
}

static void
deliver_cb(void *arg)
{
	struct creds_ctx *ctx = arg;

	if (usable(ctx))
		flush(ctx, &ctx->cur, NULL);
	else
		flush(ctx, NULL, ctx->err);
}


static void
install(struct creds_ctx *ctx, const struct creds *c)
{
	uint64_t now = util_wall_ms();
	int same = ctx->have &&
		   strcmp(ctx->cur.access_key_id, c->access_key_id) == 0 &&
		   ctx->cur.expiration_ms == c->expiration_ms;

	drop(ctx);
	ctx->cur = *c;
	ctx->have = 1;
	if (c->expiration_ms != 0) {
		creds_schedule(now, c->expiration_ms, &ctx->refresh_at,
			       &ctx->stale_at);
		loop_defer_after(&ctx->refresh, ctx->refresh_at > now + REFRESH_MIN_DELAY_MS
				     ? ctx->refresh_at - now
				     : REFRESH_MIN_DELAY_MS);
	}
	if (ctx->fail_streak > 0)
		log_notice("credentials: %s works again after %u failed "
			   "attempts",
			   creds_source_name(c->source), ctx->fail_streak);
	ctx->fail_streak = 0;
	if (c->expiration_ms == 0)
		log_info("credentials: from the %s, access key %s",
			 creds_source_name(c->source), c->access_key_id);
	else
		log_msg(
		    same ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO,
		    "credentials: %s %s%s, access key %s, expire in %llu "
		    "s, refresh in %llu s",
		    creds_source_name(c->source), ctx->role,
		    same ? " (unchanged)" : "", c->access_key_id,
		    (unsigned long long)(c->expiration_ms > now
					     ? (c->expiration_ms - now) / 1000
					     : 0),
		    (unsigned long long)(ctx->refresh_at > now
					     ? (ctx->refresh_at - now) / 1000
					     : 0));
}

/*
 * One line per failure streak: a daemon whose IMDS is down for an hour
 * must not repeat itself every few seconds. The error goes to the waiting
 * callers, who report it with their own context.
 */
static void
failed(struct creds_ctx *ctx, const char *err)
{
	char until[160] = "";

	util_strlcpy(ctx->err, err, sizeof(ctx->err));
	ctx->fail_streak++;
	if (usable(ctx))
		(void)snprintf(
		    until, sizeof(until),
		    "; keeping access key %.40s, which expires in %llu s",
		    ctx->cur.access_key_id,
		    (unsigned long long)(ctx->cur.expiration_ms -
					 util_wall_ms()) /
			1000);
	if (ctx->fail_streak == 1)
		log_warn("credentials: %s%s", err, until);
	else
		log_debug("credentials: failure %u: %s%s", ctx->fail_streak,
			  err, until);
}

static void
role_done(void *arg, const struct creds *c, const char *role, const char *err)
{
	struct creds_ctx *ctx = arg;
	char why[CREDS_ERR_MAX];

	ctx->fetch = NULL;
	if (role != NULL)
		util_strlcpy(ctx->role, role, sizeof(ctx->role));
	if (c != NULL && c->expiration_ms <= util_wall_ms() + 1000) {
		(void)snprintf(
		    why, sizeof(why),
		    "credentials of instance role %s have expired already "
		    "by the local clock (is the clock right?)",
		    ctx->role);
		c = NULL;
		err = why;
	}
	if (c != NULL) {
		install(ctx, c);
		flush(ctx, &ctx->cur, NULL);
		return;
	}
	failed(ctx, err ? err : "instance role: unknown error");
	/* Keep trying in the background while there is something to keep. */
	if (ctx->have && ctx->cur.source == CREDS_IMDS)
		loop_defer_after(&ctx->refresh,
				 backoff_delay_ms(&retry_policy,
						  ctx->fail_streak, 0));
	/* Last: a callback may free ctx. */
	if (usable(ctx))
		flush(ctx, &ctx->cur, NULL);
	else
		flush(ctx, NULL, ctx->err);
}

static void
fetch_role(struct creds_ctx *ctx)
{
	loop_defer_cancel(&ctx->refresh);
	ctx->fetch = imds_role_credentials(ctx->imds, role_done, ctx);
	if (ctx->fetch == NULL) {
		failed(ctx, "instance role: cannot start an IMDS request");
		loop_defer_soon(&ctx->deliver);
	}
}

static void
refresh_cb(void *arg)
{
	struct creds_ctx *ctx = arg;

	if (ctx->fetch == NULL && ctx->imds != NULL)
		fetch_role(ctx);
}

/* Credentials end up in HTTP headers: printable ASCII, no spaces. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~')
			return 0;
	return 1;
}

static int
env_creds(struct creds *out, char *err, size_t errlen)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	int has_id = id != NULL && id[0] != '\0';
	int has_secret = secret != NULL && secret[0] != '\0';

	if (!has_id && !has_secret)
		return 1;
	/* Half a key pair is a mistake; another identity would hide it. */
	if (!has_id || !has_secret) {
		(void)snprintf(
		    err, errlen, "%s is set but %s is not",
		    has_id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    has_id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return -1;
	}
	if (token == NULL)
		token = "";
	if (strlen(id) >= sizeof(out->access_key_id) ||
	    strlen(secret) >= sizeof(out->secret_access_key) ||
	    strlen(token) >= sizeof(out->session_token)) {
		(void)snprintf(err, errlen,
			       "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY "
			       "or AWS_SESSION_TOKEN is too long");
		return -1;
	}
	if (!printable(id) || !printable(secret) ||
	    (token[0] != '\0' && !printable(token))) {
		(void)snprintf(err, errlen,
			       "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or "
			       "AWS_SESSION_TOKEN holds a space or a non-ASCII "
			       "character");
		return -1;
	}
	memset(out, 0, sizeof(*out));
	util_strlcpy(out->access_key_id, id, sizeof(out->access_key_id));
	util_strlcpy(out->secret_access_key, secret,
		     sizeof(out->secret_access_key));
	util_strlcpy(out->session_token, token, sizeof(out->session_token));
	out->source = CREDS_ENV;
	return 0;
}

static int
read_text(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		(void)snprintf(err, errlen, "%.1024s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CREDS_FILE_MAX) {
		(void)snprintf(err, errlen,
			       "%.1024s: not a regular file of at most %d "
			       "bytes",
			       path, CREDS_FILE_MAX);
		close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		(void)snprintf(err, errlen, "%.1024s: out of memory", path);
		close(fd);
		return -1;
	}
	got = util_read_full(fd, buf, (size_t)st.st_size);
	close(fd);
	buf[got] = '\0';
	*text = buf;
	*len = got;
	return 0;
}

/*
 * 0: credentials from the file; 1: nothing there, go on; -1: error. A
 * profile somebody asked for (aws.profile, AWS_PROFILE) must exist; the
 * implicit "default" may be missing, and so may the file itself then.
 */
static int
file_creds(const struct creds_ctx *ctx, struct creds *out, char *err,
	   size_t errlen)
{
	const char *profile = ctx->profile, *path, *home = getenv("HOME");
	char buf[4096];
	char *text;
	size_t len;
	int explicit = 1, rc;

	if (profile[0] == '\0')
		profile = getenv("AWS_PROFILE");
	if (profile == NULL || profile[0] == '\0') {
		profile = "default";
		explicit = 0;
	}
	path = getenv("AWS_SHARED_CREDENTIALS_FILE");
	if (path != NULL && path[0] == '~' && path[1] == '/' && home != NULL) {
		(void)snprintf(buf, sizeof(buf), "%s%s", home, path + 1);
		path = buf;
	} else if ((path == NULL || path[0] == '\0') && home != NULL &&
		   home[0] != '\0') {
		(void)snprintf(buf, sizeof(buf), "%s/.aws/credentials", home);
		path = buf;
	}
	if (path == NULL || path[0] == '\0') {
		if (!explicit)
			return 1;
		(void)snprintf(err, errlen,
			       "profile %s was asked for, but neither "
			       "AWS_SHARED_CREDENTIALS_FILE nor HOME is set",
			       profile);
		return -1;
	}
	if (access(path, F_OK) == -1 && errno == ENOENT && !explicit)
		return 1;
	if (read_text(path, &text, &len, err, errlen) == -1) {
		if (explicit) {
			char why[1024];
			util_strlcpy(why, err, sizeof(why));
			(void)snprintf(err, errlen,
				       "profile %s was asked for: %s", profile,
				       why);
		}
		return -1;
	}
	rc = creds_parse_file(text, len, path, profile, out, err, errlen);
	util_explicit_bzero(text, len);
	free(text);
	if (rc == 1 && explicit)
		return -1;
	return rc;
}

/*
 * Walk the chain: environment, file, then the instance role. The first
 * two answer at once; the role is fetched asynchronously.
 */
static void
resolve(struct creds_ctx *ctx)
{
	struct creds c;
	char err[CREDS_ERR_MAX];
	int rc;

	rc = env_creds(&c, err, sizeof(err));
	if (rc == 1)
		rc = file_creds(ctx, &c, err, sizeof(err));
	if (rc == 1 && ctx->imds != NULL) {
		fetch_role(ctx);
		return;
	}
	if (rc == 1)
		(void)snprintf(
		    err, sizeof(err),
		    "no AWS credentials: none in the environment, none "
		    "in the shared credentials file, and no instance "
		    "metadata service to ask");
	if (rc == 0)
		install(ctx, &c);
	else
		failed(ctx, err);
	util_explicit_bzero(&c, sizeof(c));
	loop_defer_soon(&ctx->deliver);
}

void
creds_get(struct creds_ctx *ctx, creds_cb cb, void *arg)
{
	struct waiter *w;

	if (ctx->dying) {
		cb(arg, NULL, "credentials: shutting down");
		return;
	}
	if (usable(ctx)) {
		cb(arg, &ctx->cur, NULL);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		cb(arg, NULL, "credentials: out of memory");
		return;
	}
	w->cb = cb;
	w->arg = arg;
	*ctx->tail = w;
	ctx->tail = &w->next;
	if (ctx->fetch == NULL && !loop_defer_pending(&ctx->deliver))
		resolve(ctx);
}

void
creds_invalidate(struct creds_ctx *ctx)
{
	if (ctx->dying)
		return;
	if (ctx->have)
		log_info("credentials: dropping access key %s from the %s",
			 ctx->cur.access_key_id,
			 creds_source_name(ctx->cur.source));
	drop(ctx);
	imds_cancel(ctx->fetch);
	ctx->fetch = NULL;
	loop_defer_cancel(&ctx->deliver);
	resolve(ctx);
}

enum creds_source
creds_current_source(const struct creds_ctx *ctx)
{
	return ctx->have ? ctx->cur.source : CREDS_NONE;
}

uint64_t
creds_current_expiration(const struct creds_ctx *ctx)
{
	return ctx->have ? ctx->cur.expiration_ms : 0;
}
