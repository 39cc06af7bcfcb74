/*
 * ec2.c - EC2 Query API client: form bodies, SigV4-signed POSTs through
 * http.c, retries with capped exponential backoff and full jitter, and
 * expat parsers for the XML answers (pure, fuzzed).
 */
#include "ec2.h"
#include "creds.h"
#include "http.h"
#include "log.h"
#include "sigv4.h"
#include "util.h"

#include <ev.h>
#include <expat.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define XML_DEPTH_MAX 16
#define XML_NAME_MAX 40
#define XML_TEXT_MAX 1024
#define NS_SEP '|'

const char *
ec2_action_name(enum ec2_action action)
{
	switch (action) {
	case EC2_DESCRIBE_ADDRESSES:
		return "DescribeAddresses";
	case EC2_ASSOCIATE_ADDRESS:
		return "AssociateAddress";
	case EC2_DISASSOCIATE_ADDRESS:
		return "DisassociateAddress";
	case EC2_NACTIONS:
		break;
	}
	return "?";
}

/* ---- XML parsing (pure) ---- */

/*
 * One SAX pass collects everything any of the documents can carry; the
 * public parsers then check that the root was the one they expected. Names
 * are compared by local part only, so any namespace (or none) is accepted.
 */
struct px {
	XML_Parser p;
	unsigned depth;
	char path[XML_DEPTH_MAX][XML_NAME_MAX];
	char text[XML_TEXT_MAX];
	size_t tlen;
	int ttrunc;
	int failed;
	char why[128];

	struct ec2_address *out;
	size_t max, n;
	int in_item;

	char association_id[EC2_ID_MAX];
	char ret[8];
	struct ec2_error error;
	int have_code;
	int error_done; /* only the first <Error> counts */
};

static void
px_fail(struct px *x, const char *why)
{
	if (!x->failed) {
		x->failed = 1;
		util_strlcpy(x->why, why, sizeof(x->why));
	}
	XML_StopParser(x->p, XML_FALSE);
}

static const char *
local_name(const XML_Char *name)
{
	const char *s = strrchr(name, NS_SEP);

	return s ? s + 1 : name;
}

static int
at(const struct px *x, unsigned depth, const char *root, const char *a,
   const char *b, const char *c)
{
	const char *want[4] = {root, a, b, c};
	unsigned i;

	if (x->depth != depth)
		return 0;
	for (i = 0; i < depth && i < 4; i++)
		if (want[i] != NULL && strcmp(x->path[i], want[i]) != 0)
			return 0;
	return 1;
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct px *x = ud;
	const char *local = local_name(name);

	(void)attrs;
	if (x->failed)
		return;
	if (x->depth >= XML_DEPTH_MAX) {
		px_fail(x, "XML nested too deeply");
		return;
	}
	/* A name too long for the buffer can match nothing we look for. */
	if (strlen(local) >= XML_NAME_MAX)
		local = "?";
	util_strlcpy(x->path[x->depth], local, XML_NAME_MAX);
	x->depth++;
	x->tlen = 0;
	x->ttrunc = 0;
	x->text[0] = '\0';
	if (x->out != NULL && at(x, 3, "DescribeAddressesResponse",
				 "addressesSet", "item", NULL)) {
		if (x->n >= x->max) {
			px_fail(x, "more addresses than expected");
			return;
		}
		memset(&x->out[x->n], 0, sizeof(x->out[x->n]));
		x->n++;
		x->in_item = 1;
	}
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct px *x = ud;
	size_t n = (size_t)len;

	if (x->failed || len <= 0)
		return;
	if (n > sizeof(x->text) - 1 - x->tlen) {
		n = sizeof(x->text) - 1 - x->tlen;
		x->ttrunc = 1;
	}
	memcpy(x->text + x->tlen, s, n);
	x->tlen += n;
	x->text[x->tlen] = '\0';
}

/* Identifiers must fit whole: a truncated id would name another resource. */
static void
take_id(struct px *x, char *dst, size_t size)
{
	if (x->ttrunc || x->tlen >= size) {
		px_fail(x, "identifier too long");
		return;
	}
	memcpy(dst, x->text, x->tlen + 1);
}

static void
take_address_field(struct px *x, const char *field)
{
	struct ec2_address *a = &x->out[x->n - 1];

	if (strcmp(field, "allocationId") == 0)
		take_id(x, a->allocation_id, sizeof(a->allocation_id));
	else if (strcmp(field, "publicIp") == 0)
		take_id(x, a->public_ip, sizeof(a->public_ip));
	else if (strcmp(field, "associationId") == 0)
		take_id(x, a->association_id, sizeof(a->association_id));
	else if (strcmp(field, "instanceId") == 0)
		take_id(x, a->instance_id, sizeof(a->instance_id));
	else if (strcmp(field, "networkInterfaceId") == 0)
		take_id(x, a->network_interface_id,
			sizeof(a->network_interface_id));
	else if (strcmp(field, "privateIpAddress") == 0)
		take_id(x, a->private_ip, sizeof(a->private_ip));
	else if (strcmp(field, "domain") == 0)
		take_id(x, a->domain, sizeof(a->domain));
}

static int
parent_is_error(const struct px *x)
{
	return x->depth >= 2 && strcmp(x->path[x->depth - 2], "Error") == 0;
}

static void
take_error_field(struct px *x, const char *field)
{
	if (x->error_done &&
	    (strcmp(field, "Code") == 0 || strcmp(field, "Message") == 0))
		return;
	if (strcmp(field, "Code") == 0 && parent_is_error(x)) {
		take_id(x, x->error.code, sizeof(x->error.code));
		x->have_code = 1;
	} else if (strcmp(field, "Message") == 0 && parent_is_error(x)) {
		/* Human text: truncating it is harmless. */
		util_strlcpy(x->error.message, x->text,
			     sizeof(x->error.message));
	} else if ((strcmp(field, "RequestID") == 0 ||
		    strcmp(field, "RequestId") == 0) &&
		   x->depth == 2) {
		take_id(x, x->error.request_id, sizeof(x->error.request_id));
	} else if (strcmp(field, "Error") == 0 && x->have_code) {
		x->error_done = 1;
	}
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct px *x = ud;
	const char *field;

	(void)name;
	if (x->failed || x->depth == 0)
		return;
	field = x->path[x->depth - 1];
	if (x->in_item &&
	    at(x, 4, "DescribeAddressesResponse", "addressesSet", "item", NULL))
		take_address_field(x, field);
	else if (x->in_item && at(x, 3, "DescribeAddressesResponse",
				  "addressesSet", "item", NULL))
		x->in_item = 0;
	else if (at(x, 2, "AssociateAddressResponse", "associationId", NULL,
		    NULL))
		take_id(x, x->association_id, sizeof(x->association_id));
	else if (at(x, 2, NULL, "return", NULL, NULL))
		util_strlcpy(x->ret, x->text, sizeof(x->ret));
	else
		take_error_field(x, field);
	x->depth--;
	x->tlen = 0;
	x->text[0] = '\0';
}

/* EC2 never sends a DTD; refusing one also refuses entity expansion. */
static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
	   const XML_Char *pubid, int has_internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	px_fail(ud, "DOCTYPE not allowed");
}

static int
px_run(struct px *x, const char *xml, size_t len, char *err, size_t errlen)
{
	int ok;

	if (xml == NULL || len > INT_MAX) {
		snprintf(err, errlen, "no XML");
		return -1;
	}
	x->p = XML_ParserCreateNS(NULL, NS_SEP);
	if (x->p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	ok = XML_Parse(x->p, xml, (int)len, XML_TRUE) == XML_STATUS_OK;
	if (!ok && !x->failed)
		snprintf(err, errlen, "bad XML at line %lu: %s",
			 (unsigned long)XML_GetCurrentLineNumber(x->p),
			 XML_ErrorString(XML_GetErrorCode(x->p)));
	else if (x->failed)
		snprintf(err, errlen, "%s", x->why);
	XML_ParserFree(x->p);
	x->p = NULL;
	return ok && !x->failed ? 0 : -1;
}

/* After a successful pass: was it the document we wanted? */
static int
px_expect_root(const struct px *x, const char *root, char *err, size_t errlen)
{
	if (strcmp(x->path[0], root) == 0)
		return 0;
	if (x->have_code)
		snprintf(err, errlen, "%s: %s", x->error.code,
			 x->error.message);
	else
		snprintf(err, errlen, "unexpected <%s> instead of <%s>",
			 x->path[0], root);
	return -1;
}

static struct px *
px_new(void)
{
	return calloc(1, sizeof(struct px));
}

int
ec2_parse_describe_addresses(const char *xml, size_t len,
			     struct ec2_address *out, size_t max, size_t *n,
			     char *err, size_t errlen)
{
	struct px *x = px_new();
	int rc = -1;

	*n = 0;
	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	x->out = out;
	x->max = out ? max : 0;
	if (px_run(x, xml, len, err, errlen) == 0 &&
	    px_expect_root(x, "DescribeAddressesResponse", err, errlen) == 0) {
		*n = x->n;
		rc = 0;
	}
	free(x);
	return rc;
}

int
ec2_parse_associate(const char *xml, size_t len, char *association_id,
		    size_t idlen, char *err, size_t errlen)
{
	struct px *x = px_new();
	int rc = -1;

	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (px_run(x, xml, len, err, errlen) == 0 &&
	    px_expect_root(x, "AssociateAddressResponse", err, errlen) == 0) {
		if (x->association_id[0] == '\0')
			snprintf(err, errlen, "no associationId in answer");
		else if (strlen(x->association_id) >= idlen)
			snprintf(err, errlen, "associationId too long");
		else {
			util_strlcpy(association_id, x->association_id, idlen);
			rc = 0;
		}
	}
	free(x);
	return rc;
}

int
ec2_parse_disassociate(const char *xml, size_t len, char *err, size_t errlen)
{
	struct px *x = px_new();
	int rc = -1;

	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (px_run(x, xml, len, err, errlen) == 0 &&
	    px_expect_root(x, "DisassociateAddressResponse", err, errlen) ==
		0) {
		if (strcmp(x->ret, "true") == 0)
			rc = 0;
		else
			snprintf(err, errlen, "return is not true");
	}
	free(x);
	return rc;
}

int
ec2_parse_error(const char *xml, size_t len, struct ec2_error *out, char *err,
		size_t errlen)
{
	struct px *x = px_new();
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (px_run(x, xml, len, err, errlen) == 0) {
		if (x->have_code) {
			*out = x->error;
			rc = 0;
		} else {
			snprintf(err, errlen, "no <Error><Code> in <%s>",
				 x->path[0]);
		}
	}
	free(x);
	return rc;
}

/* ---- retry policy (pure) ---- */

static int
in_list(const char *code, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(code, *list) == 0)
			return 1;
	return 0;
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

void
ec2_policy_read(struct ec2_retry_policy *p)
{
	p->base_ms = 100;
	p->cap_ms = 5000;
	p->max_attempts = 3;
	p->deadline_ms = 0;
}

void
ec2_policy_write(struct ec2_retry_policy *p)
{
	p->base_ms = 100;
	p->cap_ms = 5000;
	p->max_attempts = 0;
	p->deadline_ms = 0;
}

uint64_t
ec2_backoff_ms(const struct ec2_retry_policy *p, unsigned retry, uint32_t rnd)
{
	uint64_t ceiling = p->cap_ms;
	unsigned shift = retry > 0 ? retry - 1 : 0;

	if (shift < 32 && ((uint64_t)p->base_ms << shift) < ceiling)
		ceiling = (uint64_t)p->base_ms << shift;
	return ceiling * rnd / UINT32_MAX;
}

enum ec2_next
ec2_next_step(const struct ec2_retry_policy *p, enum ec2_error_class cls,
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
		if (p->max_attempts != 0 && attempts >= p->max_attempts)
			return EC2_NEXT_GIVE_UP;
		if (p->deadline_ms != 0 &&
		    elapsed_ms + wait_ms > p->deadline_ms)
			return EC2_NEXT_GIVE_UP;
		return EC2_NEXT_RETRY;
	}
	return EC2_NEXT_GIVE_UP;
}

/* ---- form bodies (pure) ---- */

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

/* ---- the client (I/O) ---- */

struct creds_wait {
	struct ec2_call *call; /* NULL once the call was cancelled */
};

struct ec2_call {
	struct ec2_ctx *ctx;
	enum ec2_action action;
	char label[160];
	struct ec2_form form;
	struct ec2_retry_policy policy;
	ec2_done_cb cb;
	void *arg;
	ev_timer timer; /* first attempt and every backoff */
	struct http_call *http;
	struct creds_wait *wait;
	unsigned attempts;
	int refreshed;
	uint64_t started_ms;
	int in_cb;
	struct ec2_result res;
	struct ec2_address addrs[EC2_ADDRESSES_MAX];
	struct ec2_call *prev, *next;
};

struct ec2_ctx {
	struct ev_loop *loop;
	struct http_ctx *http;
	struct creds_ctx *creds;
	char region[64];
	char url[1024];
	char host[256];
	char path[512];
	char ca_file[1024];
	unsigned timeout_ms;
	ec2_rand_fn rand;
	void *rand_arg;
	uint64_t rand_state;
	struct ec2_call *calls;
	struct ec2_counters counters[EC2_NACTIONS];
	/* Scratch for signing; wiped after each use (it holds the token). */
	struct sigv4_result sig;
	char hdr_date[64];
	char hdr_auth[1100];
	char hdr_host[300];
	char hdr_token[4200];
};

/* xorshift64*: jitter needs spread, not secrecy. */
static uint32_t
default_rand(void *arg)
{
	uint64_t *s = arg;

	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 2685821657736338717ULL) >> 32);
}

/* Split "scheme://host[:port][/path]" into what signing needs. */
static int
split_endpoint(struct ec2_ctx *ctx, const char *url)
{
	const char *h = strstr(url, "://"), *p;
	size_t hl;

	if (h == NULL || strchr(url, '?') != NULL || strchr(url, '#'))
		return -1;
	h += 3;
	p = strchr(h, '/');
	hl = p ? (size_t)(p - h) : strlen(h);
	if (hl == 0 || hl >= sizeof(ctx->host) || strchr(h, '@') != NULL)
		return -1;
	memcpy(ctx->host, h, hl);
	ctx->host[hl] = '\0';
	if (util_strlcpy(ctx->path, p ? p : "/", sizeof(ctx->path)) >=
	    sizeof(ctx->path))
		return -1;
	if (util_strlcpy(ctx->url, url, sizeof(ctx->url)) >= sizeof(ctx->url))
		return -1;
	return 0;
}

struct ec2_ctx *
ec2_new(struct ev_loop *loop, struct http_ctx *http, struct creds_ctx *creds,
	const struct ec2_params *params)
{
	struct ec2_ctx *ctx;
	char def[1024];
	const char *url = params->endpoint;

	if (params->region == NULL || params->region[0] == '\0') {
		log_err("ec2: no region");
		return NULL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	ctx->loop = loop;
	ctx->http = http;
	ctx->creds = creds;
	util_strlcpy(ctx->region, params->region, sizeof(ctx->region));
	if (url == NULL || url[0] == '\0') {
		snprintf(def, sizeof(def), "https://ec2.%s.amazonaws.com/",
			 params->region);
		url = def;
	}
	if (split_endpoint(ctx, url) == -1) {
		log_err("ec2: bad endpoint URL \"%s\"", url);
		free(ctx);
		return NULL;
	}
	util_strlcpy(ctx->ca_file, params->ca_file ? params->ca_file : "",
		     sizeof(ctx->ca_file));
	ctx->timeout_ms = params->timeout_ms ? params->timeout_ms : 5000;
	if (getrandom(&ctx->rand_state, sizeof(ctx->rand_state),
		      GRND_NONBLOCK) != (ssize_t)sizeof(ctx->rand_state))
		ctx->rand_state = util_now_ms() ^ ((uint64_t)getpid() << 32);
	ctx->rand_state |= 1;
	ctx->rand = default_rand;
	ctx->rand_arg = &ctx->rand_state;
	return ctx;
}

void
ec2_set_rand(struct ec2_ctx *ctx, ec2_rand_fn fn, void *arg)
{
	ctx->rand = fn ? fn : default_rand;
	ctx->rand_arg = fn ? arg : &ctx->rand_state;
}

static void
call_unlink(struct ec2_call *call)
{
	struct ec2_ctx *ctx = call->ctx;

	if (call->prev != NULL)
		call->prev->next = call->next;
	else if (ctx->calls == call)
		ctx->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
}

/* Stop everything the call is waiting on; the call itself stays. */
static void
call_quiesce(struct ec2_call *call)
{
	ev_timer_stop(call->ctx->loop, &call->timer);
	if (call->http != NULL) {
		http_cancel(call->http);
		call->http = NULL;
	}
	/* creds_get cannot be cancelled: its callback finds the call gone. */
	if (call->wait != NULL) {
		call->wait->call = NULL;
		call->wait = NULL;
	}
}

void
ec2_cancel(struct ec2_call *call)
{
	if (call == NULL || call->in_cb)
		return;
	call_quiesce(call);
	call_unlink(call);
	free(call);
}

/*
 * Walk the list rather than cancel its head until it is empty: a call whose
 * callback is running is already off the list (ec2_cancel ignores it), so
 * ec2_free from inside a callback cannot spin.
 */
void
ec2_free(struct ec2_ctx *ctx)
{
	struct ec2_call *call, *next;

	if (ctx == NULL)
		return;
	for (call = ctx->calls; call != NULL; call = next) {
		next = call->next;
		call_quiesce(call);
		free(call);
	}
	ctx->calls = NULL;
	util_explicit_bzero(ctx->hdr_token, sizeof(ctx->hdr_token));
	free(ctx);
}

/* The call's end: counters, then the callback, which may free anything. */
static void
deliver(struct ec2_call *call, int rc)
{
	struct ec2_ctx *ctx = call->ctx;
	struct ec2_counters *c = &ctx->counters[call->action];

	call_quiesce(call);
	call->res.rc = rc;
	call->res.attempts = call->attempts;
	call->res.elapsed_ms = util_now_ms() - call->started_ms;
	if (rc == 0) {
		c->ok++;
		log_debug("%s: ok in %llu ms (%u attempt%s)", call->label,
			  (unsigned long long)call->res.elapsed_ms,
			  call->attempts, call->attempts == 1 ? "" : "s");
	} else {
		c->failed++;
	}
	call_unlink(call);
	call->in_cb = 1;
	call->cb(call->arg, &call->res);
	free(call);
}

static void start_attempt(struct ec2_call *call);

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	start_attempt(w->data);
}

static void
schedule(struct ec2_call *call, uint64_t delay_ms)
{
	ev_timer_stop(call->ctx->loop, &call->timer);
	ev_timer_set(&call->timer, (double)delay_ms / 1000.0, 0.);
	ev_timer_start(call->ctx->loop, &call->timer);
}

/* Our own codes say little without their text; AWS codes say enough. */
static const char *
why_text(const struct ec2_call *call, char *buf, size_t len)
{
	static const char *const local[] = {"Transport", "NoCredentials",
					    "MalformedResponse",
					    "RequestFailed", NULL};
	const char *code = call->res.code;

	if (in_list(code, local) || strncmp(code, "Http", 4) == 0)
		snprintf(buf, len, "%s: %s", code, call->res.message);
	else
		snprintf(buf, len, "%s", code);
	return buf;
}

/* An attempt failed with res.code/message set: retry, refresh or give up. */
static void
attempt_failed(struct ec2_call *call, enum ec2_error_class cls)
{
	struct ec2_ctx *ctx = call->ctx;
	uint64_t elapsed = util_now_ms() - call->started_ms;
	uint64_t wait = ec2_backoff_ms(&call->policy, call->attempts,
				       ctx->rand(ctx->rand_arg));
	int role = creds_current_source(ctx->creds) == CREDS_IMDS;
	char of[24] = "", why[EC2_CODE_MAX + EC2_MESSAGE_MAX + 4];

	switch (ec2_next_step(&call->policy, cls, call->attempts, elapsed, wait,
			      role, call->refreshed)) {
	case EC2_NEXT_GIVE_UP:
		deliver(call, -1);
		return;
	case EC2_NEXT_REFRESH_RETRY:
		log_notice("%s: %s (fetching fresh role credentials, retry "
			   "now)",
			   call->label, call->res.code);
		call->refreshed = 1;
		ctx->counters[call->action].retried++;
		creds_invalidate(ctx->creds);
		schedule(call, 0);
		return;
	case EC2_NEXT_RETRY:
		break;
	}
	if (call->policy.max_attempts != 0)
		snprintf(of, sizeof(of), "/%u", call->policy.max_attempts - 1);
	log_warn("%s: %s (retry %u%s in %llu ms)", call->label,
		 why_text(call, why, sizeof(why)), call->attempts, of,
		 (unsigned long long)wait);
	ctx->counters[call->action].retried++;
	schedule(call, wait);
}

static void
set_error(struct ec2_call *call, const char *code, const char *message)
{
	util_strlcpy(call->res.code, code, sizeof(call->res.code));
	util_strlcpy(call->res.message, message ? message : "",
		     sizeof(call->res.message));
}

/* A 200: parse the action's answer. */
static int
parse_ok(struct ec2_call *call, const struct http_response *resp)
{
	char err[256];
	int rc = -1;

	switch (call->action) {
	case EC2_DESCRIBE_ADDRESSES:
		rc = ec2_parse_describe_addresses(
		    resp->body, resp->body_len, call->addrs, EC2_ADDRESSES_MAX,
		    &call->res.naddresses, err, sizeof(err));
		call->res.addresses = call->addrs;
		break;
	case EC2_ASSOCIATE_ADDRESS:
		rc = ec2_parse_associate(
		    resp->body, resp->body_len, call->res.association_id,
		    sizeof(call->res.association_id), err, sizeof(err));
		break;
	case EC2_DISASSOCIATE_ADDRESS:
		rc = ec2_parse_disassociate(resp->body, resp->body_len, err,
					    sizeof(err));
		break;
	case EC2_NACTIONS:
		snprintf(err, sizeof(err), "no such action");
		break;
	}
	if (rc == -1)
		set_error(call, "MalformedResponse", err);
	return rc;
}

static void
on_http(void *arg, const struct http_response *resp)
{
	struct ec2_call *call = arg;
	struct ec2_error e;
	char err[256], code[EC2_CODE_MAX];

	call->http = NULL;
	call->res.status = resp->status;
	if (resp->transport_error != 0) {
		set_error(call, "Transport", resp->error);
		attempt_failed(call, EC2_ERR_RETRYABLE);
		return;
	}
	if (resp->status == 200) {
		if (parse_ok(call, resp) == 0) {
			set_error(call, "", "");
			deliver(call, 0);
			return;
		}
		/* A cut or garbled answer: the next one may be whole. */
		attempt_failed(call, EC2_ERR_RETRYABLE);
		return;
	}
	if (ec2_parse_error(resp->body, resp->body_len, &e, err, sizeof(err)) ==
	    0) {
		set_error(call, e.code, e.message);
		if (e.request_id[0] != '\0')
			log_debug("%s: %s (HTTP %ld, request %s)", call->label,
				  e.code, resp->status, e.request_id);
	} else {
		snprintf(code, sizeof(code), "Http%ld", resp->status);
		set_error(call, code, err);
	}
	attempt_failed(call, ec2_classify(resp->status, call->res.code));
}

static int
send_signed(struct ec2_call *call, const struct creds *c, char *err,
	    size_t errlen)
{
	struct ec2_ctx *ctx = call->ctx;
	struct sigv4_header sh[2] = {{"Host", ctx->host},
				     {"Content-Type", CONTENT_TYPE}};
	struct sigv4_request sr = {
	    .method = "POST",
	    .path = ctx->path,
	    .query = "",
	    .headers = sh,
	    .nheaders = 2,
	    .payload = call->form.buf,
	    .payload_len = call->form.len,
	    .region = ctx->region,
	    .service = "ec2",
	    .when = time(NULL),
	    .normalize_path = 1,
	};
	struct sigv4_credentials sc = {c->access_key_id, c->secret_access_key,
				       c->session_token};
	const char *hdrs[6];
	size_t nh = 0;
	struct http_request req = {
	    .method = "POST",
	    .url = ctx->url,
	    .headers = hdrs,
	    .body = call->form.buf,
	    .body_len = call->form.len,
	    .timeout_ms = ctx->timeout_ms,
	    .ca_file = ctx->ca_file,
	};
	int rc = 0;

	if (sigv4_sign(&sr, &sc, &ctx->sig) == -1) {
		snprintf(err, errlen, "cannot sign the request");
		return -1;
	}
	snprintf(ctx->hdr_host, sizeof(ctx->hdr_host), "Host: %s", ctx->host);
	snprintf(ctx->hdr_date, sizeof(ctx->hdr_date), "X-Amz-Date: %s",
		 ctx->sig.amz_date);
	snprintf(ctx->hdr_auth, sizeof(ctx->hdr_auth), "Authorization: %s",
		 ctx->sig.authorization);
	hdrs[nh++] = ctx->hdr_host;
	hdrs[nh++] = "Content-Type: " CONTENT_TYPE;
	hdrs[nh++] = ctx->hdr_date;
	hdrs[nh++] = ctx->hdr_auth;
	if (c->session_token[0] != '\0') {
		snprintf(ctx->hdr_token, sizeof(ctx->hdr_token),
			 "X-Amz-Security-Token: %s", c->session_token);
		hdrs[nh++] = ctx->hdr_token;
	}
	hdrs[nh] = NULL;
	call->http = http_start(ctx->http, &req, on_http, call);
	if (call->http == NULL) {
		snprintf(err, errlen, "cannot start the HTTP request");
		rc = -1;
	}
	util_explicit_bzero(ctx->hdr_token, sizeof(ctx->hdr_token));
	util_explicit_bzero(&ctx->sig, sizeof(ctx->sig));
	return rc;
}

static void
on_creds(void *arg, const struct creds *c, const char *cerr)
{
	struct creds_wait *w = arg;
	struct ec2_call *call = w->call;
	char err[256];

	free(w);
	if (call == NULL)
		return; /* cancelled while waiting */
	call->wait = NULL;
	if (c == NULL) {
		set_error(call, "NoCredentials", cerr ? cerr : "unavailable");
		attempt_failed(call, EC2_ERR_RETRYABLE);
		return;
	}
	if (send_signed(call, c, err, sizeof(err)) == -1) {
		set_error(call, "RequestFailed", err);
		attempt_failed(call, EC2_ERR_RETRYABLE);
	}
}

static void
start_attempt(struct ec2_call *call)
{
	struct creds_wait *w = malloc(sizeof(*w));

	call->attempts++;
	memset(&call->res.code, 0, sizeof(call->res.code));
	call->res.status = 0;
	if (w == NULL) {
		set_error(call, "RequestFailed", "out of memory");
		attempt_failed(call, EC2_ERR_RETRYABLE);
		return;
	}
	w->call = call;
	call->wait = w;
	creds_get(call->ctx->creds, on_creds, w);
}

static struct ec2_call *
call_new(struct ec2_ctx *ctx, enum ec2_action action,
	 const struct ec2_retry_policy *policy, ec2_done_cb cb, void *arg)
{
	struct ec2_call *call = calloc(1, sizeof(*call));

	if (call == NULL) {
		log_err("ec2: out of memory");
		return NULL;
	}
	call->ctx = ctx;
	call->action = action;
	call->res.action = action;
	call->cb = cb;
	call->arg = arg;
	if (policy != NULL)
		call->policy = *policy;
	else if (action == EC2_DESCRIBE_ADDRESSES)
		ec2_policy_read(&call->policy);
	else
		ec2_policy_write(&call->policy);
	ev_init(&call->timer, timer_cb);
	call->timer.data = call;
	ec2_form_init(&call->form, ec2_action_name(action));
	return call;
}

/* Queue the first attempt on the loop; callbacks never run from here. */
static struct ec2_call *
call_go(struct ec2_call *call)
{
	struct ec2_ctx *ctx = call->ctx;

	if (call->form.overflow) {
		log_err("%s: request too large", call->label);
		free(call);
		return NULL;
	}
	call->started_ms = util_now_ms();
	call->next = ctx->calls;
	if (ctx->calls != NULL)
		ctx->calls->prev = call;
	ctx->calls = call;
	schedule(call, 0);
	return call;
}

struct ec2_call *
ec2_describe_addresses(struct ec2_ctx *ctx, const char *const *allocation_ids,
		       size_t nalloc, const char *const *public_ips,
		       size_t nips, const struct ec2_retry_policy *policy,
		       ec2_done_cb cb, void *arg)
{
	struct ec2_call *call;
	char key[48];
	size_t i, ll;

	call = call_new(ctx, EC2_DESCRIBE_ADDRESSES, policy, cb, arg);
	if (call == NULL)
		return NULL;
	ll = (size_t)snprintf(call->label, sizeof(call->label), "describe");
	for (i = 0; i < nalloc; i++) {
		snprintf(key, sizeof(key), "AllocationId.%zu", i + 1);
		ec2_form_add(&call->form, key, allocation_ids[i]);
		if (ll < sizeof(call->label))
			ll += (size_t)snprintf(call->label + ll,
					       sizeof(call->label) - ll, " %s",
					       allocation_ids[i]);
	}
	for (i = 0; i < nips; i++) {
		snprintf(key, sizeof(key), "PublicIp.%zu", i + 1);
		ec2_form_add(&call->form, key, public_ips[i]);
		if (ll < sizeof(call->label))
			ll += (size_t)snprintf(call->label + ll,
					       sizeof(call->label) - ll, " %s",
					       public_ips[i]);
	}
	return call_go(call);
}

struct ec2_call *
ec2_associate_address(struct ec2_ctx *ctx, const struct ec2_associate_args *a,
		      const struct ec2_retry_policy *policy, ec2_done_cb cb,
		      void *arg)
{
	struct ec2_call *call;
	int by_eni = a->network_interface_id && a->network_interface_id[0];

	if (a->allocation_id == NULL || a->allocation_id[0] == '\0' ||
	    (!by_eni && (a->instance_id == NULL || a->instance_id[0] == 0))) {
		log_err("associate: allocation id and instance or interface "
			"needed");
		return NULL;
	}
	call = call_new(ctx, EC2_ASSOCIATE_ADDRESS, policy, cb, arg);
	if (call == NULL)
		return NULL;
	snprintf(call->label, sizeof(call->label), "associate %s",
		 a->allocation_id);
	ec2_form_add(&call->form, "AllocationId", a->allocation_id);
	if (by_eni) {
		ec2_form_add(&call->form, "NetworkInterfaceId",
			     a->network_interface_id);
		if (a->private_ip != NULL && a->private_ip[0] != '\0')
			ec2_form_add(&call->form, "PrivateIpAddress",
				     a->private_ip);
	} else {
		ec2_form_add(&call->form, "InstanceId", a->instance_id);
	}
	ec2_form_add(&call->form, "AllowReassociation", "true");
	return call_go(call);
}

struct ec2_call *
ec2_disassociate_address(struct ec2_ctx *ctx, const char *association_id,
			 const struct ec2_retry_policy *policy, ec2_done_cb cb,
			 void *arg)
{
	struct ec2_call *call;

	if (association_id == NULL || association_id[0] == '\0') {
		log_err("disassociate: no association id");
		return NULL;
	}
	call = call_new(ctx, EC2_DISASSOCIATE_ADDRESS, policy, cb, arg);
	if (call == NULL)
		return NULL;
	snprintf(call->label, sizeof(call->label), "disassociate %s",
		 association_id);
	ec2_form_add(&call->form, "AssociationId", association_id);
	return call_go(call);
}

const struct ec2_counters *
ec2_get_counters(const struct ec2_ctx *ctx, enum ec2_action action)
{
	return &ctx->counters[action < EC2_NACTIONS ? action : 0];
}

void
ec2_dump(const struct ec2_ctx *ctx, FILE *out)
{
	int a;

	fprintf(out, "ec2 endpoint %s region %s\n", ctx->url, ctx->region);
	for (a = 0; a < EC2_NACTIONS; a++)
		fprintf(out, "ec2 %s ok=%lu retried=%lu failed=%lu\n",
			ec2_action_name((enum ec2_action)a),
			ctx->counters[a].ok, ctx->counters[a].retried,
			ctx->counters[a].failed);
}
