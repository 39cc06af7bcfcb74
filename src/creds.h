/*
 * creds.h - where the daemon's AWS credentials come from: environment,
 * shared credentials file, then the instance role through IMDSv2. Role
 * credentials are refreshed well before they expire. Secrets never reach
 * the log or the state dump.
 */
#ifndef EIPFLOATD_CREDS_H
#define EIPFLOATD_CREDS_H

#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct http_ctx;
struct imds_ctx;
struct creds_ctx;

enum creds_source {
	CREDS_NONE,
	CREDS_ENV,
	CREDS_FILE,
	CREDS_IMDS,
};

struct creds {
	char access_key_id[128];
	char secret_access_key[128]; /* secret */
	char session_token[4096];    /* secret; "" when none */
	uint64_t expiration_ms;	     /* wall clock, 0 = does not expire */
	enum creds_source source;
};

/* Called once per creds_get: creds is NULL on failure (err says why). */
typedef void (*creds_cb)(void *arg, const struct creds *creds,
			 const char *err);

/*
 * profile: aws.profile ("" = AWS_PROFILE or "default"). imds may be NULL
 * (no role fallback). Resolves the chain lazily on the first creds_get.
 */
struct creds_ctx *creds_new(struct ev_loop *loop, struct imds_ctx *imds,
			    const char *profile);
void creds_free(struct creds_ctx *ctx);

/*
 * Valid credentials (cached while they have > 5 min left, refreshed before
 * that in the background for role credentials). The callback may run
 * before creds_get returns when the cache is good.
 */
void creds_get(struct creds_ctx *ctx, creds_cb cb, void *arg);
/* An API call said AuthFailure/ExpiredToken: drop the cache, re-fetch. */
void creds_invalidate(struct creds_ctx *ctx);

/* For the state dump: source and expiry only. */
enum creds_source creds_current_source(const struct creds_ctx *ctx);
uint64_t creds_current_expiration(const struct creds_ctx *ctx);
const char *creds_source_name(enum creds_source src);

/*
 * For credentials fetched at wall time `fetched_ms` that expire at
 * `expiration_ms`: when to refresh them in the background, and from when
 * on they are no longer handed out (callers wait for new ones).
 */
void creds_schedule(uint64_t fetched_ms, uint64_t expiration_ms,
		    uint64_t *refresh_at, uint64_t *stale_at);

#endif
