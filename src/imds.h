/*
 * imds.h - the EC2 instance metadata service (IMDSv2 only): session token,
 * instance identity and instance-role credentials, asynchronous over http.h.
 */
#ifndef EIPFLOATD_IMDS_H
#define EIPFLOATD_IMDS_H

#include <stddef.h>
#include <stdint.h>

#include "creds.h"
#include "imds_parse.h"

struct ev_loop;
struct http_ctx;
struct imds_ctx;
struct imds_req;

#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_TOKEN_TTL_S 21600

/*
 * Every callback runs exactly once from the loop (never from inside the call
 * that started it), unless the request was cancelled. On failure the data
 * argument is NULL and err says why; err is NULL on success. The request
 * handle is invalid once its callback has started.
 */
typedef void (*imds_cb)(void *arg, const char *body, size_t len,
			const char *err);
typedef void (*imds_identity_cb)(void *arg, const struct imds_identity *id,
				 const char *err);
/* role: the instance profile's role name (also given on most failures). */
typedef void (*imds_creds_cb)(void *arg, const struct creds *creds,
			      const char *role, const char *err);

/*
 * endpoint_cfg: aws.imds_endpoint ("" or NULL = env
 * AWS_EC2_METADATA_SERVICE_ENDPOINT, else IMDS_DEFAULT_ENDPOINT).
 * timeout_ms: aws.timeout_ms; each IMDS attempt uses at most 2000 ms of it.
 * Reads AWS_EC2_METADATA_DISABLED once, here.
 */
struct imds_ctx *imds_new(struct ev_loop *loop, struct http_ctx *http,
			  const char *endpoint_cfg, unsigned timeout_ms);
/* Cancels every request in flight; their callbacks are not run. */
void imds_free(struct imds_ctx *ctx);
const char *imds_endpoint(const struct imds_ctx *ctx);
/* 1 when AWS_EC2_METADATA_DISABLED=true made every request fail. */
int imds_disabled(const struct imds_ctx *ctx);

/* GET `path` (e.g. "/latest/meta-data/instance-id"); 200 only is success. */
struct imds_req *imds_get(struct imds_ctx *ctx, const char *path, imds_cb cb,
			  void *arg);
/* instance id, region and AZ from the instance identity document. */
struct imds_req *imds_identity(struct imds_ctx *ctx, imds_identity_cb cb,
			       void *arg);
/* The role name, then that role's temporary credentials. */
struct imds_req *imds_role_credentials(struct imds_ctx *ctx, imds_creds_cb cb,
				       void *arg);
/* Drop a request before its callback ran (NULL is fine). */
void imds_cancel(struct imds_req *req);

#endif
