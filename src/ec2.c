/*
 * ec2.c - EC2 Query API client: builds, signs (SigV4) and sends each call
 * through http.c; ec2_retry.c decides what an answer means for it (retry,
 * skew, DryRun). The rules are in ec2_query.c and the answers are parsed
 * in ec2_xml.c (both pure).
 */
#include "ec2.h"
#include "creds.h"
#include "ec2_retry.h"
#include "util.h"

#include <curl/curl.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

const char *
ec2_action_name(enum ec2_action action)
{
	switch (action) {
	case EC2_DESCRIBE_ADDRESSES:
		return "DescribeAddresses";
	case EC2_ASSOCIATE_ADDRESS:
		return "AssociateAddress";
	case EC2_DESCRIBE_INSTANCE_STATUS:
		return "DescribeInstanceStatus";
	case EC2_DESCRIBE_NETWORK_INTERFACES:
		return "DescribeNetworkInterfaces";
	case EC2_ASSIGN_PRIVATE_IP_ADDRESSES:
		return "AssignPrivateIpAddresses";
	case EC2_DESCRIBE_ROUTE_TABLES:
		return "DescribeRouteTables";
	case EC2_REPLACE_ROUTE:
		return "ReplaceRoute";
	case EC2_CREATE_ROUTE:
		return "CreateRoute";
	case EC2_DESCRIBE_NETWORK_INTERFACE_ATTRIBUTE:
		return "DescribeNetworkInterfaceAttribute";
	case EC2_NACTIONS:
		break;
	}
	return "?";
}

int
ec2_action_moves(enum ec2_action action)
{
	return action == EC2_ASSOCIATE_ADDRESS ||
	       action == EC2_ASSIGN_PRIVATE_IP_ADDRESSES ||
	       action == EC2_REPLACE_ROUTE || action == EC2_CREATE_ROUTE;
}

/* ---- the client (I/O) ---- */

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

struct ec2_ctx *
ec2_new(struct ev_loop *loop, struct http_ctx *http, struct creds_ctx *creds,
	const struct ec2_params *params)
{
	struct ec2_ctx *ctx;
	char def[256];
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
	if ((url == NULL || url[0] == '\0') &&
	    ec2_default_endpoint(params->region, def, sizeof(def)) == 0)
		url = def;
	if (ec2_split_endpoint(url, ctx->host, sizeof(ctx->host), ctx->path,
			       sizeof(ctx->path)) == -1 ||
	    util_strlcpy(ctx->url, url, sizeof(ctx->url)) >= sizeof(ctx->url)) {
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
	backoff_quota_init(&ctx->quota, BACKOFF_QUOTA_TOKENS);
	ctx->retry_log.interval_ms = 60000;
	ctx->retry_log.burst = 1;
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
	loop_defer_cancel(&call->attempt);
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

/* The call's end: accounting, then the callback, which may free anything. */
void
ec2_call_deliver(struct ec2_call *call, int rc)
{
	call_quiesce(call);
	ec2_retry_outcome(call, rc);
	call_unlink(call);
	call->in_cb = 1;
	call->cb(call->arg, &call->res);
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

static void start_attempt(struct ec2_call *call);

static void
attempt_cb(void *arg)
{
	start_attempt(arg);
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
		    resp->body, resp->body_len, call->buf.addrs,
		    EC2_ADDRESSES_MAX, &call->res.naddresses, err, sizeof(err));
		call->res.addresses = call->buf.addrs;
		break;
	case EC2_ASSOCIATE_ADDRESS:
		rc = ec2_parse_associate(
		    resp->body, resp->body_len, call->res.association_id,
		    sizeof(call->res.association_id), err, sizeof(err));
		break;
	case EC2_DESCRIBE_INSTANCE_STATUS:
		rc = ec2_parse_instance_status(
		    resp->body, resp->body_len, &call->res.instance,
		    &call->res.instance_found, err, sizeof(err));
		break;
	case EC2_DESCRIBE_NETWORK_INTERFACES:
		rc = ec2_parse_network_interfaces(
		    resp->body, resp->body_len, call->buf.enis, EC2_ENIS_MAX,
		    &call->res.nenis, err, sizeof(err));
		call->res.enis = call->buf.enis;
		break;
	case EC2_DESCRIBE_ROUTE_TABLES:
		rc = ec2_parse_route_tables(
		    resp->body, resp->body_len, call->destination,
		    call->buf.tables, EC2_ROUTE_TABLES_MAX, &call->res.ntables,
		    err, sizeof(err));
		call->res.tables = call->buf.tables;
		break;
	case EC2_DESCRIBE_NETWORK_INTERFACE_ATTRIBUTE:
		rc = ec2_parse_source_dest_check(resp->body, resp->body_len,
						 &call->res.source_dest_check,
						 err, sizeof(err));
		break;
	case EC2_ASSIGN_PRIVATE_IP_ADDRESSES:
	case EC2_REPLACE_ROUTE:
	case EC2_CREATE_ROUTE:
		rc = ec2_parse_return(resp->body, resp->body_len,
				      call->form_root, err, sizeof(err));
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
	call->timed_out = resp->transport_error == CURLE_OPERATION_TIMEDOUT;
	if (resp->transport_error != 0) {
		set_error(call, "Transport", resp->error);
		ec2_retry_failed(call, EC2_ERR_RETRYABLE);
		return;
	}
	if (resp->status == 200) {
		ec2_retry_skew(call, resp, "");
		if (parse_ok(call, resp) == 0) {
			set_error(call, "", "");
			ec2_call_deliver(call, 0);
			return;
		}
		/* A cut or garbled answer: the next one may be whole. */
		ec2_retry_failed(call, EC2_ERR_RETRYABLE);
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
	if (ec2_retry_skew(call, resp, call->res.code)) {
		log_notice("%s: %s: retrying once with EC2's time", call->label,
			   call->res.code);
		call->skew_retried = 1;
		ec2_call_counters(call)->retried++;
		loop_defer_soon(&call->attempt);
		return;
	}
	if (call->dry_run && ec2_retry_dry_run(call))
		return;
	ec2_retry_failed(call, ec2_classify(resp->status, call->res.code));
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
	    .when = time(NULL) + (time_t)ctx->clock_offset_s,
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

	call->signed_offset_s = ctx->clock_offset_s; /* its answer's judge */
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
		ec2_retry_failed(call, EC2_ERR_RETRYABLE);
		return;
	}
	if (send_signed(call, c, err, sizeof(err)) == -1) {
		set_error(call, "RequestFailed", err);
		ec2_retry_failed(call, EC2_ERR_RETRYABLE);
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
		ec2_retry_failed(call, EC2_ERR_RETRYABLE);
		return;
	}
	w->call = call;
	call->wait = w;
	creds_get(call->ctx->creds, on_creds, w);
}

struct ec2_call *
ec2_call_new(struct ec2_ctx *ctx, enum ec2_action action,
	     const struct backoff_policy *policy, ec2_done_cb cb, void *arg)
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
	else if (strncmp(ec2_action_name(action), "Describe", 8) == 0)
		ec2_policy_read(&call->policy);
	else
		ec2_policy_write(&call->policy);
	loop_defer_init(&call->attempt, ctx->loop, attempt_cb, call);
	ec2_form_init(&call->form, ec2_action_name(action));
	snprintf(call->form_root, sizeof(call->form_root), "%sResponse",
		 ec2_action_name(action));
	return call;
}

void
ec2_call_dry_run(struct ec2_call *call)
{
	call->dry_run = 1;
	call->res.dry_run = 1;
	ec2_form_add(&call->form, "DryRun", "true");
}

/* Queue the first attempt on the loop; callbacks never run from here. */
struct ec2_call *
ec2_call_go(struct ec2_call *call)
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
	loop_defer_soon(&call->attempt);
	return call;
}

struct ec2_call *
ec2_describe_addresses(struct ec2_ctx *ctx, const char *const *allocation_ids,
		       size_t nalloc, const char *const *public_ips,
		       size_t nips, const struct backoff_policy *policy,
		       ec2_done_cb cb, void *arg)
{
	struct ec2_call *call;
	char key[48];
	size_t i, ll;

	call = ec2_call_new(ctx, EC2_DESCRIBE_ADDRESSES, policy, cb, arg);
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
	return ec2_call_go(call);
}

struct ec2_call *
ec2_associate_address(struct ec2_ctx *ctx, const struct ec2_associate_args *a,
		      const struct backoff_policy *policy, ec2_done_cb cb,
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
	call = ec2_call_new(ctx, EC2_ASSOCIATE_ADDRESS, policy, cb, arg);
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
	if (a->dry_run) {
		ec2_call_dry_run(call);
		snprintf(call->label, sizeof(call->label),
			 "associate %s (dry run)", a->allocation_id);
	}
	return ec2_call_go(call);
}

struct ec2_call *
ec2_describe_instance_status(struct ec2_ctx *ctx, const char *instance_id,
			     const struct backoff_policy *policy,
			     ec2_done_cb cb, void *arg)
{
	struct ec2_call *call;

	if (instance_id == NULL || instance_id[0] == '\0') {
		log_err("describe instance status: instance id needed");
		return NULL;
	}
	call = ec2_call_new(ctx, EC2_DESCRIBE_INSTANCE_STATUS, policy, cb, arg);
	if (call == NULL)
		return NULL;
	call->optional = 1;
	snprintf(call->label, sizeof(call->label), "instance status %s",
		 instance_id);
	ec2_form_add(&call->form, "InstanceId.1", instance_id);
	ec2_form_add(&call->form, "IncludeAllInstances", "true");
	return ec2_call_go(call);
}

void
ec2_result_fix(const struct ec2_ctx *ctx, const struct ec2_result *res,
	       char *buf, size_t len)
{
	ec2_fix_text(res->code, ec2_action_name(res->action), ctx->region,
		     ctx->url, buf, len);
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
	fprintf(out, "ec2 clock offset %+lld s, retry quota %u/%u\n",
		(long long)ctx->clock_offset_s, ctx->quota.tokens,
		ctx->quota.max);
	if (ctx->api_down)
		fprintf(out, "ec2 api: cannot use it from this node: %s\n",
			ctx->api_why);
	else
		fprintf(out, "ec2 api: usable\n");
	for (a = 0; a < EC2_NACTIONS; a++)
		fprintf(out, "ec2 %s ok=%lu retried=%lu failed=%lu\n",
			ec2_action_name((enum ec2_action)a),
			ctx->counters[a].ok, ctx->counters[a].retried,
			ctx->counters[a].failed);
}
