/*
 * imds.c - IMDSv2 client: one session token shared by every request and
 * renewed before it expires (or when IMDS answers 401), short timeouts and a
 * couple of quick retries, because the metadata service is on the host and
 * either answers at once or not at all.
 */
#include "imds.h"
#include "http.h"
#include "log.h"
#include "util.h"

#include <curl/curl.h>
#include <ev.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMDS_ATTEMPTS 3	    /* per request: the first try + 2 retries */
#define IMDS_BACKOFF_MS 200 /* doubled after every failed attempt */
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
	ev_timer timer;
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
	ev_timer token_timer; /* backoff between token attempts */
	unsigned token_attempt;
	struct imds_req *reqs;
};

static void dispatch(struct imds_req *req);
static void token_fetch(struct imds_ctx *ctx);
static void token_retry_cb(struct ev_loop *loop, ev_timer *w, int revents);

static unsigned
backoff_ms(unsigned attempt)
{
	if (attempt == 0)
		attempt = 1;
	return IMDS_BACKOFF_MS << (attempt > 4 ? 3 : attempt - 1);
}

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
	ev_init(&ctx->token_timer, token_retry_cb);
	ctx->token_timer.data = ctx;
	return ctx;
}

static void
unlink_req(struct imds_req *req)
{
	struct imds_ctx *ctx = req->ctx;

	if (req->call != NULL)
		http_cancel(req->call);
	req->call = NULL;
	ev_timer_stop(ctx->loop, &req->timer);
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
		ev_timer_stop(ctx->loop, &req->timer);
		free(req);
	}
	ctx->reqs = NULL;
	if (ctx->token_call != NULL)
		http_cancel(ctx->token_call);
	ev_timer_stop(ctx->loop, &ctx->token_timer);
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
	ev_timer_stop(req->ctx->loop, &req->timer);
	ev_timer_set(&req->timer, 0., 0.);
	ev_timer_start(req->ctx->loop, &req->timer);
}

static void
retry_or_fail(struct imds_req *req, const char *why)
{
	char err[IMDS_ERR_MAX];

	if (req->attempt >= IMDS_ATTEMPTS) {
		(void)snprintf(
		    err, sizeof(err), "IMDS GET %s%s: %s (after %u tries)",
		    req->ctx->endpoint, req->path, why, req->attempt);
		fail_later(req, err);
		return;
	}
	log_debug("imds: GET %s: %s; retry %u/%u in %u ms", req->path, why,
		  req->attempt, IMDS_ATTEMPTS - 1, backoff_ms(req->attempt));
	req->state = RS_BACKOFF;
	ev_timer_set(&req->timer, backoff_ms(req->attempt) / 1000., 0.);
	ev_timer_start(req->ctx->loop, &req->timer);
}

static int
space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * The listing names the role on its first line. The name goes into a URL
 * path, and IAM only allows [A-Za-z0-9+=,.@_-] in it.
 */
static int
role_from_listing(const char *body, size_t len, char *role, size_t size)
{
	size_t i = 0, n = 0;

	while (i < len && space(body[i]))
		i++;
	for (; i < len && !space(body[i]); i++) {
		char c = body[i];
		if (n + 1 >= size || c == '\0' ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("+=,.@_-", c)))
			return -1;
		role[n++] = c;
	}
	role[n] = '\0';
	return n > 0 ? 0 : -1;
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
		if (role_from_listing(body, len, req->role,
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
req_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct imds_req *req = w->data;

	(void)loop;
	(void)revents;
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
	if (ctx->token_attempt >= IMDS_ATTEMPTS) {
		fail_token_waiters(ctx, err);
		return;
	}
	log_debug("imds: %s; retry %u/%u in %u ms", err, ctx->token_attempt,
		  IMDS_ATTEMPTS - 1, backoff_ms(ctx->token_attempt));
	ev_timer_set(&ctx->token_timer, backoff_ms(ctx->token_attempt) / 1000.,
		     0.);
	ev_timer_start(ctx->loop, &ctx->token_timer);
}

/* Only printable ASCII goes into the header we send back. */
static int
token_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= IMDS_TOKEN_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

static void
token_done(void *arg, const struct http_response *resp)
{
	struct imds_ctx *ctx = arg;
	struct imds_req *req;
	char why[256], err[IMDS_ERR_MAX];

	ctx->token_call = NULL;
	if (resp->status == 200 && token_ok(resp->body, resp->body_len)) {
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
token_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	token_send(w->data);
}

/* One token fetch at a time; every request that needs it waits for it. */
static void
token_fetch(struct imds_ctx *ctx)
{
	if (ctx->token_call != NULL || ev_is_active(&ctx->token_timer))
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
	ev_init(&req->timer, req_timer);
	req->timer.data = req;
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

/* ---- pure parsers ---- */

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

/* jansson's own message may quote the input, which may hold a secret. */
static json_t *
load(const char *json, size_t len, const char *what, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);

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

/* Read exactly n digits. */
static int
digits(const char **p, int n, int *val)
{
	int v = 0;

	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*val = v;
	return 0;
}

static int
expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no timegm, no TZ). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
imds_parse_time(const char *s, uint64_t *ms)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	const char *p = s;
	int y, mo, d, h, mi, sec, frac = 0, scale = 100, oh = 0, om = 0;
	int sign = 0;
	int64_t t;

	if (digits(&p, 4, &y) || expect(&p, '-') || digits(&p, 2, &mo) ||
	    expect(&p, '-') || digits(&p, 2, &d) ||
	    (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &h) || expect(&p, ':') || digits(&p, 2, &mi) ||
	    expect(&p, ':') || digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
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
		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	if (t < 0)
		return -1;
	*ms = (uint64_t)t * 1000 + (uint64_t)frac;
	return 0;
}
