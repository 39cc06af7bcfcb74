/*
 * http.c - libcurl's multi interface driven by libev: one ev_io per socket
 * curl wants watched, one ev_timer for curl's timeout, completions handed
 * to the callers from the loop.
 */
#include "http.h"
#include "log.h"
#include "util.h"

#include <curl/curl.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_DEFAULT_TIMEOUT_MS 5000
/* Idle connections kept for reuse (EC2 endpoint, IMDS, a proxy). */
#define HTTP_MAX_CONNECTS 8

struct http_sock {
	ev_io io;
	curl_socket_t fd;
	struct http_ctx *ctx;
	struct http_sock *next;
};

struct http_call {
	struct http_ctx *ctx;
	CURL *easy;
	struct curl_slist *headers;
	http_done_cb cb;
	void *arg;
	char *body;
	size_t body_len;
	size_t body_cap;
	int too_big;
	char date[64]; /* the answer's Date header, "" when none */
	int in_cb; /* its callback is running: http_cancel is a no-op */
	uint64_t started_ms;
	char errbuf[CURL_ERROR_SIZE];
	struct http_call *prev, *next;
};

struct http_ctx {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;
	struct http_sock *socks;
	struct http_call *calls;
	unsigned inflight;
	int dispatching; /* inside check_done: defer a free */
	int dying;
};

static int curl_initialised;

static void check_done(struct http_ctx *ctx);
static void destroy(struct http_ctx *ctx);

static void
call_unlink(struct http_call *call)
{
	struct http_ctx *ctx = call->ctx;

	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		ctx->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	ctx->inflight--;
}

static void
call_free(struct http_call *call)
{
	if (call->easy != NULL) {
		curl_multi_remove_handle(call->ctx->multi, call->easy);
		curl_easy_cleanup(call->easy);
	}
	/* Authorization, the IMDS token, role credentials in the body. */
	for (struct curl_slist *l = call->headers; l != NULL; l = l->next)
		util_explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(call->headers);
	util_free_secret(call->body);
	free(call);
}

static void
sock_cb_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_sock *s = w->data;
	struct http_ctx *ctx = s->ctx;
	int action = 0, running;

	(void)loop;
	if (revents & EV_READ)
		action |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(ctx->multi, s->fd, action, &running);
	check_done(ctx);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_ctx *ctx = w->data;
	int running;

	(void)loop;
	(void)revents;
	curl_multi_socket_action(ctx->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(ctx);
}

static void
sock_remove(struct http_ctx *ctx, struct http_sock *s)
{
	struct http_sock **pp;

	ev_io_stop(ctx->loop, &s->io);
	for (pp = &ctx->socks; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	free(s);
}

/* CURLMOPT_SOCKETFUNCTION: curl says which events it wants on a socket. */
static int
socket_fn(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct http_ctx *ctx = userp;
	struct http_sock *s = sockp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL)
			sock_remove(ctx, s);
		curl_multi_assign(ctx->multi, fd, NULL);
		return 0;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1;
		s->fd = fd;
		s->ctx = ctx;
		s->next = ctx->socks;
		ctx->socks = s;
		ev_init(&s->io, sock_cb_io);
		s->io.data = s;
		curl_multi_assign(ctx->multi, fd, s);
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= EV_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= EV_WRITE;
	ev_io_stop(ctx->loop, &s->io);
	ev_io_set(&s->io, fd, events);
	if (events != 0)
		ev_io_start(ctx->loop, &s->io);
	return 0;
}

/*
 * CURLMOPT_TIMERFUNCTION: only (re)arm the timer. Curl must not be re-entered
 * from here, and a 0 ms timeout becoming a loop event is also what keeps
 * callbacks out of http_start.
 */
static int
timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_ctx *ctx = userp;

	(void)multi;
	ev_timer_stop(ctx->loop, &ctx->timer);
	if (timeout_ms < 0)
		return 0;
	ev_timer_set(&ctx->timer, (double)timeout_ms / 1000.0, 0.);
	ev_timer_start(ctx->loop, &ctx->timer);
	return 0;
}

static size_t
write_fn(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_call *call = userp;
	size_t n = size * nmemb, cap;
	char *p;

	if (n > HTTP_BODY_MAX - call->body_len) {
		call->too_big = 1;
		return 0; /* CURLE_WRITE_ERROR ends the transfer */
	}
	if (call->body_len + n + 1 > call->body_cap) {
		cap = call->body_cap ? call->body_cap : 4096;
		while (cap < call->body_len + n + 1)
			cap *= 2;
		/* Not realloc(): the old block may hold a secret. */
		p = malloc(cap);
		if (p == NULL)
			return 0;
		if (call->body_len > 0)
			memcpy(p, call->body, call->body_len);
		util_free_secret(call->body);
		call->body = p;
		call->body_cap = cap;
	}
	memcpy(call->body + call->body_len, data, n);
	call->body_len += n;
	call->body[call->body_len] = '\0';
	return n;
}

/* Keeps the Date header (the clock-skew correction needs it). */
static size_t
header_fn(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_call *call = userp;
	size_t n = size * nmemb, i = 5;

	if (n > 5 && strncasecmp(data, "date:", 5) == 0) {
		while (i < n && (data[i] == ' ' || data[i] == '\t'))
			i++;
		while (n > i && (data[n - 1] == '\r' || data[n - 1] == '\n' ||
				 data[n - 1] == ' '))
			n--;
		if (n - i < sizeof(call->date)) {
			memcpy(call->date, data + i, n - i);
			call->date[n - i] = '\0';
		}
	} else if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		call->date[0] = '\0'; /* a new answer (after 100 Continue) */
	}
	return size * nmemb;
}

static void
finish(struct http_call *call, CURLcode rc)
{
	struct http_response resp;
	char msg[CURL_ERROR_SIZE + 64];

	memset(&resp, 0, sizeof(resp));
	resp.elapsed_ms = util_now_ms() - call->started_ms;
	/* Streamed past the limit (too_big), or announced so (curl's code). */
	if ((call->too_big && (rc == CURLE_WRITE_ERROR || rc == CURLE_OK)) ||
	    rc == CURLE_FILESIZE_EXCEEDED) {
		rc = CURLE_FILESIZE_EXCEEDED;
		snprintf(msg, sizeof(msg), "response body larger than %d bytes",
			 HTTP_BODY_MAX);
	} else if (rc != CURLE_OK) {
		snprintf(msg, sizeof(msg), "%s",
			 call->errbuf[0] ? call->errbuf
					 : curl_easy_strerror(rc));
	}
	if (rc == CURLE_OK) {
		curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE,
				  &resp.status);
		resp.body = call->body ? call->body : "";
		resp.body_len = call->body_len;
		resp.date = call->date;
	} else {
		/* A partial answer is no answer: callers see status 0. */
		resp.transport_error = (int)rc;
		resp.error = msg;
		resp.body = "";
		resp.date = "";
	}
	call_unlink(call);
	call->in_cb = 1;
	call->cb(call->arg, &resp);
	call_free(call);
}

/*
 * Hand finished transfers to their callers, one at a time: a callback may
 * start, cancel (which also drops that transfer's pending message) or
 * free everything, so the message queue is re-read after each one.
 */
static void
check_done(struct http_ctx *ctx)
{
	struct http_call *call;
	CURLMsg *msg;
	int left;

	ctx->dispatching++;
	while (!ctx->dying &&
	       (msg = curl_multi_info_read(ctx->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		call = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &call);
		if (call == NULL)
			continue;
		finish(call, msg->data.result);
	}
	ctx->dispatching--;
	if (ctx->dying && ctx->dispatching == 0)
		destroy(ctx);
}

struct http_ctx *
http_new(struct ev_loop *loop)
{
	struct http_ctx *ctx;

	/* Not thread-safe, but the daemon has exactly one thread. */
	if (!curl_initialised) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			log_err("http: curl_global_init failed");
			return NULL;
		}
		curl_initialised = 1;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	ctx->loop = loop;
	ctx->multi = curl_multi_init();
	if (ctx->multi == NULL) {
		free(ctx);
		log_err("http: curl_multi_init failed");
		return NULL;
	}
	ev_init(&ctx->timer, timer_cb);
	ctx->timer.data = ctx;
	curl_multi_setopt(ctx->multi, CURLMOPT_SOCKETFUNCTION, socket_fn);
	curl_multi_setopt(ctx->multi, CURLMOPT_SOCKETDATA, ctx);
	curl_multi_setopt(ctx->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
	curl_multi_setopt(ctx->multi, CURLMOPT_TIMERDATA, ctx);
	curl_multi_setopt(ctx->multi, CURLMOPT_MAXCONNECTS,
			  (long)HTTP_MAX_CONNECTS);
	return ctx;
}

static void
destroy(struct http_ctx *ctx)
{
	struct http_sock *s;
	struct http_call *call, *next;

	/* A call whose callback runs is already off the list. */
	for (call = ctx->calls; call != NULL; call = next) {
		next = call->next;
		call_free(call);
	}
	ctx->calls = NULL;
	ctx->inflight = 0;
	/* Cleanup closes cached connections (and may report them removed). */
	curl_multi_cleanup(ctx->multi);
	while ((s = ctx->socks) != NULL)
		sock_remove(ctx, s);
	ev_timer_stop(ctx->loop, &ctx->timer);
	free(ctx);
}

void
http_free(struct http_ctx *ctx)
{
	if (ctx == NULL)
		return;
	ctx->dying = 1;
	if (ctx->dispatching == 0)
		destroy(ctx);
}

static int
set_method(CURL *easy, const struct http_request *req)
{
	const char *m = req->method ? req->method : "GET";
	const char *body = req->body ? req->body : "";

	if (strcmp(m, "GET") == 0 && req->body == NULL)
		return curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)req->body_len);
	/* Copied: the caller's buffer need not outlive http_start. */
	curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, body);
	if (strcmp(m, "POST") != 0)
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, m);
	return CURLE_OK;
}

/*
 * TLS is always verified. req->ca_file becomes CURLOPT_CAINFO, which
 * replaces libcurl's default bundle file; libcurl's default CA directory
 * (CURLOPT_CAPATH, /etc/ssl/certs on Debian) is left as built, so with the
 * OpenSSL backend the system CAs there stay trusted as well.
 */
static int
setup(struct http_call *call, const struct http_request *req)
{
	CURL *easy = call->easy;
	unsigned timeout =
	    req->timeout_ms ? req->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
	/* Half the budget for TCP+TLS set-up, so a dead address fails fast. */
	unsigned connect = timeout / 2 >= 1000 ? timeout / 2 : timeout;
	const char *const *h;

	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, call);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, call->errbuf);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)connect);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
			 (curl_off_t)HTTP_BODY_MAX);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_fn);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, header_fn);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, call);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "eipfloatd");
	if (req->ca_file != NULL && req->ca_file[0] != '\0')
		curl_easy_setopt(easy, CURLOPT_CAINFO, req->ca_file);
	/* "" disables every proxy, including the *_proxy variables. */
	if (req->no_proxy)
		curl_easy_setopt(easy, CURLOPT_PROXY, "");
	for (h = req->headers; h != NULL && *h != NULL; h++) {
		struct curl_slist *l = curl_slist_append(call->headers, *h);

		if (l == NULL)
			return -1;
		call->headers = l;
	}
	/* No "Expect: 100-continue" round trip before a POST body. */
	call->headers = curl_slist_append(call->headers, "Expect:");
	if (call->headers == NULL)
		return -1;
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, call->headers);
	return set_method(easy, req) == CURLE_OK ? 0 : -1;
}

struct http_call *
http_start(struct http_ctx *ctx, const struct http_request *req,
	   http_done_cb cb, void *arg)
{
	struct http_call *call;

	if (ctx == NULL || ctx->dying || req == NULL || req->url == NULL ||
	    cb == NULL)
		return NULL;
	call = calloc(1, sizeof(*call));
	if (call == NULL) {
		log_err("http: out of memory");
		return NULL;
	}
	call->ctx = ctx;
	call->cb = cb;
	call->arg = arg;
	call->started_ms = util_now_ms();
	call->easy = curl_easy_init();
	if (call->easy == NULL || setup(call, req) == -1) {
		log_err("http: cannot set up a request to %s", req->url);
		goto fail;
	}
	if (curl_multi_add_handle(ctx->multi, call->easy) != CURLM_OK) {
		log_err("http: cannot queue a request to %s", req->url);
		goto fail;
	}
	call->next = ctx->calls;
	if (ctx->calls != NULL)
		ctx->calls->prev = call;
	ctx->calls = call;
	ctx->inflight++;
	return call;
fail:
	if (call->easy != NULL)
		curl_easy_cleanup(call->easy);
	call->easy = NULL;
	call_free(call);
	return NULL;
}

void
http_cancel(struct http_call *call)
{
	if (call == NULL || call->in_cb)
		return;
	call_unlink(call);
	call_free(call);
}

unsigned
http_inflight(const struct http_ctx *ctx)
{
	return ctx ? ctx->inflight : 0;
}
