/*
 * http.h - asynchronous HTTP(S) over libcurl's multi interface, driven by
 * the daemon's libev loop. Nothing here blocks: a request that hangs only
 * ever costs its own timeout.
 */
#ifndef EIPFLOATD_HTTP_H
#define EIPFLOATD_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct http_ctx;
struct http_call;

#define HTTP_BODY_MAX (1024 * 1024) /* larger answers fail the request */

struct http_request {
	const char *method;	     /* "GET", "PUT", "POST" */
	const char *url;
	const char *const *headers;  /* NULL-terminated "Name: value" list */
	const char *body;	     /* may be NULL */
	size_t body_len;
	unsigned timeout_ms;	     /* whole request; 0 = 5000 */
	const char *ca_file;	     /* extra CA bundle, NULL/"" = system */
	int no_proxy;		     /* 1: ignore proxy env (IMDS) */
};

struct http_response {
	long status;		 /* HTTP status, 0 if none was received */
	int transport_error;	 /* 0, or a CURLcode when no answer came */
	const char *error;	 /* human text for transport_error */
	const char *body;	 /* NUL-terminated, may contain anything */
	size_t body_len;
	const char *date;	 /* the Date header, "" when none */
	uint64_t elapsed_ms;
};

/* Called exactly once per started request (not after http_cancel). */
typedef void (*http_done_cb)(void *arg, const struct http_response *resp);

struct http_ctx *http_new(struct ev_loop *loop);
/* Cancels every request still in flight (their callbacks are not run). */
void http_free(struct http_ctx *ctx);

/*
 * Start a request; the callback runs later from the loop, never from inside
 * http_start. Returns NULL (and logs why) if it could not even be queued.
 */
struct http_call *http_start(struct http_ctx *ctx,
			     const struct http_request *req, http_done_cb cb,
			     void *arg);
void http_cancel(struct http_call *call);

/* Requests in flight (for the state dump and tests). */
unsigned http_inflight(const struct http_ctx *ctx);

#endif
