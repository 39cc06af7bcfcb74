/*
 * imds.c - IMDSv2 client: one session token shared by every request and
 * renewed before it expires (or when IMDS answers 401), short timeouts and a
 * couple of quick retries, because the metadata service is on the host and
 * either answers at once or not at all.
 */
#include "imds.h"
#include "backoff.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <curl/curl.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMDS_TIMEOUT_DEFAULT_MS 1000
#define IMDS_TIMEOUT_CAP_MS 2000
/* A token is renewed this long before IMDS would stop accepting it. */
#define IMDS_TOKEN_MARGIN_MS (10 * 60 * 1000)
#define IMDS_TOKEN_MAX 1024
#define IMDS_PATH_MAX 512
#define IMDS_ERR_MAX 2048
#define IMDS_ROLE_MAX 128

#define TOKEN_PATH "/latest/api/token"
#define IDENTITY_PATH "/latest/dynamic/instance-identity/document"
#define ROLE_PATH "/latest/meta-data/iam/security-credentials/"

#define DISABLED_MSG                                                           \
	"IMDS disabled by AWS_EC2_METADATA_DISABLED=true; set aws.region, "    \
	"aws.endpoint, instance_id and credentials explicitly, or unset it"

enum req_kind {
	REQ_GET,
	REQ_IDENTITY,
	REQ_ROLE_NAME,
	REQ_ROLE_CREDS,
};

enum req_state {
	RS_NEED_TOKEN, /* parked until the shared token arrives */
	RS_SENT,       /* http call in flight */
	RS_BACKOFF,    /* timer: try again */
	RS_FAILING,    /* timer: report req->err from the loop */
};

struct imds_req {
	struct imds_ctx *ctx;
	struct imds_req *prev, *next;
	enum req_kind kind;
	enum req_state state;
	char path[IMDS_PATH_MAX];
	char role[IMDS_ROLE_MAX + 1];
	union {
		imds_cb get;
		imds_identity_cb identity;
		imds_creds_cb creds;
	} cb;
	void *arg;
	struct http_call *call;
	struct loop_defer later; /* RS_BACKOFF and RS_FAILING */
	unsigned attempt;
	int reauthed;	    /* already fetched a new token after a 401 */
	uint64_t token_gen; /* which token the request was sent with */
	char err[IMDS_ERR_MAX];
};

struct imds_ctx {
	struct ev_loop *loop;
	struct http_ctx *http;
	char endpoint[1024];
	unsigned timeout_ms;
	int disabled;
	char token[IMDS_TOKEN_MAX]; /* secret-ish: whoever has it reads IMDS */
	uint64_t token_renew_at;    /* monotonic ms; token unusable after */
	uint64_t token_gen;
	struct http_call *token_call;
	struct loop_defer token_retry; /* backoff between token attempts */
	unsigned token_attempt;
	struct imds_req *reqs;
};

static void dispatch(struct imds_req *req);
static void token_fetch(struct imds_ctx *ctx);
static void token_retry_cb(void *arg);

/* Per request (and per token): the first try and 2 quick retries. */
static const struct backoff_policy imds_policy = {
    .base_ms = 200,
    .cap_ms = 1600,
    .max_attempts = 3,
    .jitter = BACKOFF_JITTER_NONE,
};

/* A transport error, throttling or a server error may well pass. */
static int
retryable(const struct http_response *resp)
{
	return resp->status == 0 || resp->status == 429 || resp->status >= 500;
}

static void
describe(const struct http_response *resp, char *buf, size_t len)
{
	if (resp->status == 0)
		(void)snprintf(buf, len, "%s",
			       resp->error ? resp->error : "no answer");
	else
		(void)snprintf(buf, len, "HTTP %ld", resp->status);
}

struct imds_ctx *
imds_new(struct ev_loop *loop, struct http_ctx *http, const char *endpoint_cfg,
	 unsigned timeout_ms)
{
	struct imds_ctx *ctx = calloc(1, sizeof(*ctx));
	const char *ep = endpoint_cfg, *dis;
	size_t n;

	if (ctx == NULL)
		return NULL;
	ctx->loop = loop;
	ctx->http = http;
	if (ep == NULL || ep[0] == '\0')
		ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	if (ep == NULL || ep[0] == '\0')
		ep = IMDS_DEFAULT_ENDPOINT;
	util_strlcpy(ctx->endpoint, ep, sizeof(ctx->endpoint));
	n = strlen(ctx->endpoint);
	while (n > 0 && ctx->endpoint[n - 1] == '/')
		ctx->endpoint[--n] = '\0';
	ctx->timeout_ms = timeout_ms ? timeout_ms : IMDS_TIMEOUT_DEFAULT_MS;
	if (ctx->timeout_ms > IMDS_TIMEOUT_CAP_MS)
		ctx->timeout_ms = IMDS_TIMEOUT_CAP_MS;
	dis = getenv("AWS_EC2_METADATA_DISABLED");
	ctx->disabled = dis != NULL && strcasecmp(dis, "true") == 0;
	loop_defer_init(&ctx->token_retry, loop, token_retry_cb, ctx);
	return ctx;
}

static void
unlink_req(struct imds_req *req)
{
	struct imds_ctx *ctx = req->ctx;

	if (req->call != NULL)
		http_cancel(req->call);
	req->call = NULL;
	loop_defer_cancel(&req->later);
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		ctx->reqs = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
}

void
imds_cancel(struct imds_req *req)
{
	if (req == NULL)
		return;
	unlink_req(req);
	free(req);
}

void
imds_free(struct imds_ctx *ctx)
{
	struct imds_req *req, *next;

	if (ctx == NULL)
		return;
	for (req = ctx->reqs; req != NULL; req = next) {
		next = req->next;
		if (req->call != NULL)
			http_cancel(req->call);
		loop_defer_cancel(&req->later);
		free(req);
	}
	ctx->reqs = NULL;
	if (ctx->token_call != NULL)
		http_cancel(ctx->token_call);
	loop_defer_cancel(&ctx->token_retry);
	util_explicit_bzero(ctx->token, sizeof(ctx->token));
	free(ctx);
}

const char *
imds_endpoint(const struct imds_ctx *ctx)
{
	return ctx->endpoint;
}

int
imds_disabled(const struct imds_ctx *ctx)
{
	return ctx->disabled;
}

/*
 * Unlink and free the request before its callback runs, so the callback may
 * start new requests or cancel others without tripping over this one.
 */
static void
finish(struct imds_req *req, const char *body, size_t len,
       const struct imds_identity *id, const struct creds *creds,
       const char *err)
{
	enum req_kind kind = req->kind;
	void *arg = req->arg;
	char role[IMDS_ROLE_MAX + 1];
	char errbuf[IMDS_ERR_MAX];
	imds_cb get = NULL;
	imds_identity_cb identity = NULL;
	imds_creds_cb ccb = NULL;

	switch (kind) {
	case REQ_GET:
		get = req->cb.get;
		break;
	case REQ_IDENTITY:
		identity = req->cb.identity;
		break;
	case REQ_ROLE_NAME:
	case REQ_ROLE_CREDS:
		ccb = req->cb.creds;
		break;
	}
	memcpy(role, req->role, sizeof(role));
	if (err != NULL) {
		util_strlcpy(errbuf, err, sizeof(errbuf));
		err = errbuf;
	}
	imds_cancel(req);
	switch (kind) {
	case REQ_GET:
		get(arg, err ? NULL : body, err ? 0 : len, err);
		break;
	case REQ_IDENTITY:
		identity(arg, err ? NULL : id, err);
		break;
	case REQ_ROLE_NAME:
	case REQ_ROLE_CREDS:
		ccb(arg, err ? NULL : creds, role[0] ? role : NULL, err);
		break;
	}
}

/* Report failure from the loop, never from inside the caller's call. */
static void
fail_later(struct imds_req *req, const char *err)
{
	if (err != req->err)
		util_strlcpy(req->err, err, sizeof(req->err));
	req->state = RS_FAILING;
	loop_defer_soon(&req->later);
}

static void
retry_or_fail(struct imds_req *req, const char *why)
{
	char err[IMDS_ERR_MAX];
	uint64_t wait = backoff_delay_ms(&imds_policy, req->attempt, 0);

	if (!backoff_may_retry(&imds_policy, req->attempt, 0, wait)) {
		(void)snprintf(
		    err, sizeof(err), "IMDS GET %s%s: %s (after %u tries)",
		    req->ctx->endpoint, req->path, why, req->attempt);
		fail_later(req, err);
		return;
	}
	log_debug("imds: GET %s: %s; retry %u/%u in %llu ms", req->path, why,
		  req->attempt, imds_policy.max_attempts - 1,
		  (unsigned long long)wait);
	req->state = RS_BACKOFF;
	loop_defer_after(&req->later, wait);
}

static void
got_body(struct imds_req *req, const char *body, size_t len)
{
	char err[IMDS_ERR_MAX], why[1024];
	struct imds_identity id;
	struct creds creds;

	switch (req->kind) {
	case REQ_GET:
		finish(req, body, len, NULL, NULL, NULL);
		return;
	case REQ_IDENTITY:
		if (imds_parse_identity(body, len, &id, why, sizeof(why)) ==
		    -1) {
			(void)snprintf(err, sizeof(err), "IMDS %s: %s",
				       IDENTITY_PATH, why);
			finish(req, NULL, 0, NULL, NULL, err);
			return;
		}
		finish(req, NULL, 0, &id, NULL, NULL);
		return;
	case REQ_ROLE_NAME:
		if (imds_parse_role_name(body, len, req->role,
					 sizeof(req->role)) == -1) {
			req->role[0] = '\0';
			finish(req, NULL, 0, NULL, NULL,
			       "IMDS " ROLE_PATH
			       ": no usable role name in the answer");
			return;
		}
		(void)snprintf(req->path, sizeof(req->path), "%s%s", ROLE_PATH,
			       req->role);
		req->kind = REQ_ROLE_CREDS;
		req->attempt = 0;
		req->reauthed = 0;
		dispatch(req);
		return;
	case REQ_ROLE_CREDS:
		if (imds_parse_role_credentials(body, len, &creds, why,
						sizeof(why)) == -1) {
			(void)snprintf(err, sizeof(err),
				       "credentials of instance role %s: %s",
				       req->role, why);
			finish(req, NULL, 0, NULL, NULL, err);
		} else {
			finish(req, NULL, 0, NULL, &creds, NULL);
		}
		util_explicit_bzero(&creds, sizeof(creds));
		return;
	}
}

static void
req_done(void *arg, const struct http_response *resp)
{
	struct imds_req *req = arg;
	struct imds_ctx *ctx = req->ctx;
	char why[256], err[IMDS_ERR_MAX];

	req->call = NULL;
	if (resp->status == 200) {
		got_body(req, resp->body, resp->body_len);
		return;
	}
	if (resp->status == 401 && !req->reauthed) {
		/* The token expired or IMDS restarted: one new token, once. */
		log_debug("imds: GET %s: HTTP 401, fetching a new token",
			  req->path);
		req->reauthed = 1;
		if (req->token_gen == ctx->token_gen) {
			util_explicit_bzero(ctx->token, sizeof(ctx->token));
			ctx->token_renew_at = 0;
		}
		dispatch(req);
		return;
	}
	describe(resp, why, sizeof(why));
	if (retryable(resp)) {
		retry_or_fail(req, why);
		return;
	}
	if (resp->status == 404 && req->kind == REQ_ROLE_NAME)
		(void)snprintf(
		    err, sizeof(err),
		    "no IAM role is attached to this instance (IMDS "
		    "GET %s%s: HTTP 404); attach an instance profile "
		    "or configure credentials",
		    ctx->endpoint, req->path);
	else if (resp->status == 401)
		(void)snprintf(
		    err, sizeof(err),
		    "IMDS GET %s%s: HTTP 401 even with a fresh token",
		    ctx->endpoint, req->path);
	else
		(void)snprintf(err, sizeof(err), "IMDS GET %s%s: %s",
			       ctx->endpoint, req->path, why);
	finish(req, NULL, 0, NULL, NULL, err);
}

static void
send_req(struct imds_req *req)
{
	struct imds_ctx *ctx = req->ctx;
	char url[sizeof(ctx->endpoint) + IMDS_PATH_MAX];
	char hdr[IMDS_TOKEN_MAX + 64];
	const char *headers[] = {hdr, NULL};
	struct http_request hr = {
	    .method = "GET",
	    .url = url,
	    .headers = headers,
	    .timeout_ms = ctx->timeout_ms,
	    .no_proxy = 1,
	};

	(void)snprintf(url, sizeof(url), "%s%s", ctx->endpoint, req->path);
	(void)snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s",
		       ctx->token);
	req->attempt++;
	req->token_gen = ctx->token_gen;
	req->state = RS_SENT;
	req->call = http_start(ctx->http, &hr, req_done, req);
	util_explicit_bzero(hdr, sizeof(hdr));
	if (req->call == NULL)
		retry_or_fail(req, "could not start the request");
}

static int
token_usable(const struct imds_ctx *ctx)
{
	return ctx->token[0] != '\0' && util_now_ms() < ctx->token_renew_at;
}

static void
dispatch(struct imds_req *req)
{
	if (token_usable(req->ctx)) {
		send_req(req);
		return;
	}
	req->state = RS_NEED_TOKEN;
	token_fetch(req->ctx);
}

static void
req_later(void *arg)
{
	struct imds_req *req = arg;

	switch (req->state) {
	case RS_BACKOFF:
		dispatch(req);
		break;
	case RS_FAILING:
		finish(req, NULL, 0, NULL, NULL, req->err);
		break;
	case RS_NEED_TOKEN:
	case RS_SENT:
		break;
	}
}

static void
fail_token_waiters(struct imds_ctx *ctx, const char *err)
{
	struct imds_req *req;

	for (req = ctx->reqs; req != NULL; req = req->next)
		if (req->state == RS_NEED_TOKEN)
			fail_later(req, err);
}

static void
token_retry_or_fail(struct imds_ctx *ctx, const char *err)
{
	uint64_t wait = backoff_delay_ms(&imds_policy, ctx->token_attempt, 0);

	if (!backoff_may_retry(&imds_policy, ctx->token_attempt, 0, wait)) {
		fail_token_waiters(ctx, err);
		return;
	}
	log_debug("imds: %s; retry %u/%u in %llu ms", err, ctx->token_attempt,
		  imds_policy.max_attempts - 1, (unsigned long long)wait);
	loop_defer_after(&ctx->token_retry, wait);
}

static void
token_done(void *arg, const struct http_response *resp)
{
	struct imds_ctx *ctx = arg;
	struct imds_req *req;
	char why[256], err[IMDS_ERR_MAX];

	ctx->token_call = NULL;
	if (resp->status == 200 && imds_token_ok(resp->body, resp->body_len, IMDS_TOKEN_MAX)) {
		memcpy(ctx->token, resp->body, resp->body_len);
		ctx->token[resp->body_len] = '\0';
		ctx->token_renew_at = util_now_ms() +
				      IMDS_TOKEN_TTL_S * 1000ull -
				      IMDS_TOKEN_MARGIN_MS;
		ctx->token_gen++;
		log_debug("imds: new session token from %s", ctx->endpoint);
		for (req = ctx->reqs; req != NULL; req = req->next)
			if (req->state == RS_NEED_TOKEN)
				send_req(req);
		return;
	}
	describe(resp, why, sizeof(why));
	if (resp->status == 200)
		(void)snprintf(err, sizeof(err),
			       "IMDS PUT %s" TOKEN_PATH ": malformed token",
			       ctx->endpoint);
	else if (resp->status == 403)
		(void)snprintf(
		    err, sizeof(err),
		    "IMDS PUT %s" TOKEN_PATH ": HTTP 403: the metadata "
		    "service refuses tokens (is it turned off for this "
		    "instance?)",
		    ctx->endpoint);
	else if (resp->status == 0 &&
		 resp->transport_error == CURLE_OPERATION_TIMEDOUT)
		(void)snprintf(
		    err, sizeof(err),
		    "IMDS PUT %s" TOKEN_PATH ": %s (inside a container "
		    "the instance's metadata hop limit must be >= 2)",
		    ctx->endpoint, why);
	else
		(void)snprintf(err, sizeof(err),
			       "IMDS PUT %s" TOKEN_PATH ": %s", ctx->endpoint,
			       why);
	if (retryable(resp))
		token_retry_or_fail(ctx, err);
	else
		fail_token_waiters(ctx, err);
}

static void
token_send(struct imds_ctx *ctx)
{
	char url[sizeof(ctx->endpoint) + sizeof(TOKEN_PATH)];
	char ttl[64];
	const char *headers[] = {ttl, NULL};
	struct http_request hr = {
	    .method = "PUT",
	    .url = url,
	    .headers = headers,
	    .timeout_ms = ctx->timeout_ms,
	    .no_proxy = 1,
	};

	(void)snprintf(url, sizeof(url), "%s" TOKEN_PATH, ctx->endpoint);
	(void)snprintf(ttl, sizeof(ttl),
		       "X-aws-ec2-metadata-token-ttl-seconds: %d",
		       IMDS_TOKEN_TTL_S);
	ctx->token_attempt++;
	ctx->token_call = http_start(ctx->http, &hr, token_done, ctx);
	if (ctx->token_call == NULL)
		token_retry_or_fail(ctx, "IMDS PUT " TOKEN_PATH
					 ": could not start the request");
}

static void
token_retry_cb(void *arg)
{
	token_send(arg);
}

/* One token fetch at a time; every request that needs it waits for it. */
static void
token_fetch(struct imds_ctx *ctx)
{
	if (ctx->token_call != NULL || loop_defer_pending(&ctx->token_retry))
		return;
	ctx->token_attempt = 0;
	token_send(ctx);
}

static struct imds_req *
new_req(struct imds_ctx *ctx, enum req_kind kind, const char *path, void *arg)
{
	struct imds_req *req = calloc(1, sizeof(*req));

	if (req == NULL) {
		log_err("imds: out of memory");
		return NULL;
	}
	req->ctx = ctx;
	req->kind = kind;
	req->arg = arg;
	util_strlcpy(req->path, path, sizeof(req->path));
	loop_defer_init(&req->later, ctx->loop, req_later, req);
	req->next = ctx->reqs;
	if (ctx->reqs != NULL)
		ctx->reqs->prev = req;
	ctx->reqs = req;
	return req;
}

static struct imds_req *
start(struct imds_req *req)
{
	if (req == NULL)
		return NULL;
	if (req->ctx->disabled)
		fail_later(req, DISABLED_MSG);
	else if (req->path[0] != '/' ||
		 strlen(req->path) + 1 >= sizeof(req->path))
		fail_later(req, "IMDS: bad path");
	else
		dispatch(req);
	return req;
}

struct imds_req *
imds_get(struct imds_ctx *ctx, const char *path, imds_cb cb, void *arg)
{
	struct imds_req *req = new_req(ctx, REQ_GET, path, arg);

	if (req != NULL)
		req->cb.get = cb;
	return start(req);
}

struct imds_req *
imds_identity(struct imds_ctx *ctx, imds_identity_cb cb, void *arg)
{
	struct imds_req *req = new_req(ctx, REQ_IDENTITY, IDENTITY_PATH, arg);

	if (req != NULL)
		req->cb.identity = cb;
	return start(req);
}

struct imds_req *
imds_role_credentials(struct imds_ctx *ctx, imds_creds_cb cb, void *arg)
{
	struct imds_req *req = new_req(ctx, REQ_ROLE_NAME, ROLE_PATH, arg);

	if (req != NULL)
		req->cb.creds = cb;
	return start(req);
}
