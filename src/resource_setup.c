/*
 * resource_setup.c - what must be known before the resources can be
 * verified or acquired (see resource_setup.h), retried with backoff, and
 * the verify / acquire that wait for it.
 */
#include "resource_setup.h"
#include "backoff.h"
#include "config.h"
#include "creds.h"
#include "ec2_query.h"
#include "http.h"
#include "imds.h"
#include "log.h"
#include "loop.h"
#include "status.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A node whose IMDS answers late must still take over once it does. */
static const struct backoff_policy setup_retry = {
	.base_ms = 1000,
	.cap_ms = 30000,
	.jitter = BACKOFF_JITTER_NONE,
};

struct resource_setup {
	struct ev_loop *loop;
	/*
	 * Our own copy (less the authkey): a reload builds a new set-up from
	 * the new configuration while this one still runs on the old.
	 */
	struct config cfg_copy;
	const struct config *cfg;
	struct resource_setup_ops ops;
	int aws; /* some driver needs the EC2 API */

	struct http_ctx *http;
	struct imds_ctx *imds;
	struct creds_ctx *creds;
	struct imds_req *imds_req;
	struct resource_set *res;
	int ready;
	struct loop_defer retry;
	unsigned failures;
	struct log_ratelimit retry_log; /* one line, then one a minute */
	char last_err[512];		/* the set-up's last failure */

	char self_instance[CONFIG_ID_MAX];
	char peer_instance[CONFIG_ID_MAX];
	char region[CONFIG_NAME_MAX];
	char endpoint[CONFIG_PATH_MAX];
	char az[CONFIG_NAME_MAX];
	/* This instance's primary interface from IMDS (private addresses) */
	char primary_eni[CONFIG_ID_MAX];
	int eni_asked;
	struct imds_req *eni_req;

	int pending_verify, pending_acquire;
	int active; /* the role, for the drivers' host side */
};

static void step(void *arg);

static void
retry_later(struct resource_setup *rs, const char *what, const char *err)
{
	uint64_t ms = backoff_delay_ms(&setup_retry, ++rs->failures, 0);

	snprintf(rs->last_err, sizeof(rs->last_err), "AWS set-up: %s: %s",
		 what, err);

	log_summarized(&rs->retry_log, LOG_LEVEL_WARNING,
		       "AWS set-up: %s: %s (retrying in %llu ms)", what, err,
		       (unsigned long long)ms);
	loop_defer_after(&rs->retry, ms);
}

static void
run_pending(struct resource_setup *rs)
{
	if (rs->pending_acquire)
		resource_setup_acquire(rs);
	if (rs->pending_verify)
		resource_setup_verify(rs);
}

static void
on_prepared(void *arg, int rc, const char *detail)
{
	struct resource_setup *rs = arg;

	if (rc != 0) {
		retry_later(rs, "resolving resources", detail);
		return;
	}
	if (rs->failures) {
		log_summary_end(&rs->retry_log, LOG_LEVEL_WARNING,
				"AWS set-up retry warnings held back");
		log_notice("AWS set-up complete after %u failed attempts",
			   rs->failures);
	}
	rs->failures = 0;
	rs->ready = 1;
	resource_selftest(rs->res, rs->ops.on_selftest, rs->ops.arg);
	run_pending(rs);
}

static void
prepare(struct resource_setup *rs)
{
	struct resource_env env = {
		.loop = rs->loop,
		.http = rs->http,
		.creds = rs->creds,
		.imds = rs->imds,
		.cfg = rs->cfg,
		.region = rs->region,
		.endpoint = rs->endpoint,
		.self_instance = rs->self_instance,
		.primary_eni = rs->primary_eni,
	};

	if (rs->res == NULL) {
		rs->res = resource_new(&env);
		if (rs->res == NULL) {
			retry_later(rs, "resources", "out of memory");
			return;
		}
		if (rs->peer_instance[0])
			resource_set_peer_instance(rs->res, rs->peer_instance);
		resource_host(rs->res, rs->active);
	}
	resource_prepare(rs->res, on_prepared, rs);
}

static void
on_identity(void *arg, const struct imds_identity *id, const char *err)
{
	struct resource_setup *rs = arg;

	rs->imds_req = NULL;
	if (id == NULL) {
		retry_later(rs, "instance identity from IMDS", err);
		return;
	}
	if (rs->self_instance[0] == '\0')
		util_strlcpy(rs->self_instance, id->instance_id,
			     sizeof(rs->self_instance));
	if (rs->region[0] == '\0')
		util_strlcpy(rs->region, id->region, sizeof(rs->region));
	util_strlcpy(rs->az, id->availability_zone, sizeof(rs->az));
	log_info("IMDS: instance %s in %s (%s)", id->instance_id, id->region,
		 id->availability_zone);
	step(rs);
}

/*
 * The instance's primary interface, for the private-address types: IMDS
 * mac, then network/interfaces/macs/<mac>/interface-id. Not having it is
 * no failure: DescribeNetworkInterfaces then names the interface with the
 * lowest device index.
 */
static void
eni_done(struct resource_setup *rs, const char *eni, const char *err)
{
	rs->eni_req = NULL;
	rs->eni_asked = 1;
	if (eni != NULL) {
		util_strlcpy(rs->primary_eni, eni, sizeof(rs->primary_eni));
		log_info("IMDS: primary network interface %s", eni);
	} else {
		log_info("IMDS: no primary network interface id (%s); "
			 "DescribeNetworkInterfaces names it",
			 err);
	}
	step(rs);
}

/* A MAC or an interface id as IMDS gives it, trimmed; 0 when well formed. */
static int
imds_token(const char *body, size_t len, char *out, size_t size,
	   const char *prefix)
{
	size_t p = strlen(prefix), i;

	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' ||
			   body[len - 1] == ' '))
		len--;
	if (len < p + 1 || len >= size || strncmp(body, prefix, p) != 0)
		return -1;
	for (i = p; i < len; i++)
		if (!((body[i] >= '0' && body[i] <= '9') ||
		      (body[i] >= 'a' && body[i] <= 'f') ||
		      (p == 0 && body[i] == ':')))
			return -1;
	memcpy(out, body, len);
	out[len] = '\0';
	return 0;
}

static void
on_eni(void *arg, const char *body, size_t len, const char *err)
{
	struct resource_setup *rs = arg;
	char eni[CONFIG_ID_MAX];

	if (body != NULL &&
	    imds_token(body, len, eni, sizeof(eni), "eni-") == -1)
		err = "a malformed interface-id";
	eni_done(rs, body != NULL && err == NULL ? eni : NULL, err);
}

static void
on_mac(void *arg, const char *body, size_t len, const char *err)
{
	struct resource_setup *rs = arg;
	char mac[32], path[128];

	rs->eni_req = NULL;
	if (body == NULL) {
		eni_done(rs, NULL, err);
		return;
	}
	if (imds_token(body, len, mac, sizeof(mac), "") == -1) {
		eni_done(rs, NULL, "a malformed mac");
		return;
	}
	snprintf(path, sizeof(path),
		 "/latest/meta-data/network/interfaces/macs/%s/interface-id",
		 mac);
	rs->eni_req = imds_get(rs->imds, path, on_eni, rs);
	if (rs->eni_req == NULL)
		eni_done(rs, NULL, "could not start the request");
}

/* Whether to ask IMDS for the interface first (and start doing so). */
static int
asking_eni(struct resource_setup *rs)
{
	const struct config *c = rs->cfg;

	if (rs->eni_asked || rs->eni_req != NULL)
		return rs->eni_req != NULL;
	if (!resource_needs_interface(c) ||
	    c->nodes[c->self].network_interface_id[0] != '\0' ||
	    imds_disabled(rs->imds)) {
		rs->eni_asked = 1;
		return 0;
	}
	rs->eni_req = imds_get(rs->imds, "/latest/meta-data/mac", on_mac, rs);
	if (rs->eni_req == NULL)
		rs->eni_asked = 1;
	return rs->eni_req != NULL;
}

/* The next thing missing: identity and region, the endpoint, preparation. */
static void
step(void *arg)
{
	struct resource_setup *rs = arg;

	if (!rs->aws) {
		prepare(rs);
		return;
	}
	if (rs->self_instance[0] == '\0' || rs->region[0] == '\0') {
		if (rs->imds_req == NULL)
			rs->imds_req = imds_identity(rs->imds, on_identity, rs);
		if (rs->imds_req == NULL)
			retry_later(rs, "instance identity from IMDS",
				    "could not start the request");
		return;
	}
	if (rs->endpoint[0] == '\0')
		ec2_default_endpoint(rs->region, rs->endpoint,
				     sizeof(rs->endpoint));
	if (asking_eni(rs))
		return;
	prepare(rs);
}

static int
needs_aws(const struct config *cfg)
{
	for (unsigned i = 0; i < cfg->nresources; i++)
		if (resource_type_needs_aws(cfg->resources[i].type))
			return 1;
	return 0;
}

struct resource_setup *
resource_setup_new(struct ev_loop *loop, const struct config *cfg,
		   const struct resource_setup_ops *ops)
{
	struct resource_setup *rs = calloc(1, sizeof(*rs));

	if (rs == NULL)
		return NULL;
	rs->loop = loop;
	rs->retry_log.interval_ms = 60000;
	rs->retry_log.burst = 1;
	rs->cfg_copy = *cfg;
	config_forget_keys(&rs->cfg_copy);
	rs->cfg = cfg = &rs->cfg_copy;
	rs->ops = *ops;
	rs->aws = needs_aws(cfg);
	util_strlcpy(rs->self_instance, cfg->nodes[cfg->self].instance_id,
		     sizeof(rs->self_instance));
	util_strlcpy(rs->peer_instance, cfg->nodes[cfg->peer].instance_id,
		     sizeof(rs->peer_instance));
	util_strlcpy(rs->region, cfg->region, sizeof(rs->region));
	util_strlcpy(rs->endpoint, cfg->endpoint, sizeof(rs->endpoint));
	loop_defer_init(&rs->retry, loop, step, rs);
	if (!rs->aws)
		return rs;
	rs->http = http_new(loop);
	if (rs->http != NULL)
		rs->imds = imds_new(loop, rs->http, cfg->imds_endpoint,
				    cfg->aws_timeout_ms);
	if (rs->imds != NULL)
		rs->creds = creds_new(loop, rs->imds, cfg->profile);
	if (rs->creds == NULL) {
		resource_setup_free(rs);
		return NULL;
	}
	return rs;
}

void
resource_setup_start(struct resource_setup *rs)
{
	step(rs);
}

void
resource_setup_free(struct resource_setup *rs)
{
	if (rs == NULL)
		return;
	loop_defer_cancel(&rs->retry);
	resource_free(rs->res);
	imds_cancel(rs->imds_req);
	imds_cancel(rs->eni_req);
	if (rs->creds)
		creds_free(rs->creds);
	if (rs->imds)
		imds_free(rs->imds);
	if (rs->http)
		http_free(rs->http);
	free(rs);
}

void
resource_setup_refresh_credentials(struct resource_setup *rs)
{
	if (rs->creds != NULL)
		creds_invalidate(rs->creds);
	/* A reload: the IAM policy may have changed too. */
	if (rs->ready && rs->res != NULL)
		resource_selftest(rs->res, rs->ops.on_selftest, rs->ops.arg);
}

void
resource_setup_verify(struct resource_setup *rs)
{
	if (!rs->ready) {
		rs->pending_verify = 1;
		return;
	}
	rs->pending_verify = 0;
	resource_verify(rs->res, rs->ops.on_owner, rs->ops.arg);
}

void
resource_setup_acquire(struct resource_setup *rs)
{
	if (!rs->ready) {
		rs->pending_acquire = 1;
		log_notice("takeover waits for the AWS set-up (%s)",
			   rs->self_instance[0] ? "resolving resources"
						: "instance identity");
		return;
	}
	rs->pending_acquire = 0;
	resource_acquire(rs->res, rs->ops.on_acquired, rs->ops.arg);
}

void
resource_setup_check_holder(struct resource_setup *rs)
{
	if (rs->ready && rs->res != NULL && rs->ops.on_holder != NULL)
		resource_check_holder(rs->res, rs->ops.on_holder, rs->ops.arg);
}

void
resource_setup_role(struct resource_setup *rs, int active)
{
	rs->active = active;
	if (rs->res != NULL)
		resource_host(rs->res, active);
}

void
resource_setup_hand_over(struct resource_setup *rs,
			 const struct resource_setup *next)
{
	if (rs->res != NULL)
		resource_host_drop_removed(rs->res, next->cfg);
}

void
resource_setup_cancel(struct resource_setup *rs)
{
	rs->pending_acquire = 0;
	if (rs->res)
		resource_cancel(rs->res);
}

void
resource_setup_peer_instance(struct resource_setup *rs, const char *id)
{
	if (id[0] == '\0' || strcmp(id, rs->peer_instance) == 0)
		return;
	log_info("peer %s is instance %s", rs->cfg->nodes[rs->cfg->peer].name,
		 id);
	util_strlcpy(rs->peer_instance, id, sizeof(rs->peer_instance));
	if (rs->res)
		resource_set_peer_instance(rs->res, rs->peer_instance);
}

int
resource_setup_api_usable(const struct resource_setup *rs, char *why,
			  size_t len)
{
	const struct ec2_ctx *ec2;

	if (!rs->aws)
		return 1;
	if (!rs->ready && rs->failures > 0) {
		util_strlcpy(why, rs->last_err, len);
		return 0;
	}
	ec2 = rs->res ? resource_ec2(rs->res) : NULL;
	return ec2 == NULL || ec2_api_usable(ec2, why, len);
}

const char *
resource_setup_self_instance(const struct resource_setup *rs)
{
	return rs->self_instance;
}

const char *
resource_setup_peer(const struct resource_setup *rs)
{
	return rs->peer_instance;
}

static void
dump_aws(const struct resource_setup *rs, FILE *out)
{
	char when[32];
	uint64_t exp;

	fprintf(out, "aws: region %s, instance %s%s%s, endpoint %s, imds %s%s\n",
		rs->region[0] ? rs->region : "(unknown)",
		rs->self_instance[0] ? rs->self_instance : "(unknown)",
		rs->az[0] ? " in " : "", rs->az,
		rs->endpoint[0] ? rs->endpoint : "(unknown)",
		imds_endpoint(rs->imds),
		imds_disabled(rs->imds) ? " (disabled)" : "");
	fprintf(out, "aws setup: %s%s\n", rs->ready ? "ready" : "in progress",
		rs->failures ? ", failing" : "");
	exp = creds_current_expiration(rs->creds);
	if (exp) {
		uint64_t wall = util_wall_ms();

		util_format_wall(exp, when, sizeof(when));
		fprintf(out, "credentials: %s, expire %s (in %lld s)\n",
			creds_source_name(creds_current_source(rs->creds)),
			when, (long long)((int64_t)(exp - wall) / 1000));
	} else {
		fprintf(out, "credentials: %s, no expiry\n",
			creds_source_name(creds_current_source(rs->creds)));
	}
	fprintf(out, "http: %u requests in flight\n", http_inflight(rs->http));
}

void
resource_setup_dump(const struct resource_setup *rs, FILE *out)
{
	if (rs->aws)
		dump_aws(rs, out);
	if (rs->res)
		resource_dump(rs->res, out);
}

void
resource_setup_status(const struct resource_setup *rs,
		      struct status_snapshot *s)
{
	const struct resource_set *group = rs->res;
	const struct ec2_ctx *ec2 = group ? resource_ec2(group) : NULL;

	s->peer_instance = rs->peer_instance;
	s->nresources = group ? resource_count(group) : 0;
	for (unsigned i = 0; i < s->nresources; i++) {
		struct status_resource *r = &s->resources[i];
		struct resource_info ri;

		resource_info(group, i, &ri);
		util_strlcpy(r->id, ri.id, sizeof(r->id));
		r->type = ri.type;
		r->owner = resource_owner_name(ri.owner);
		util_strlcpy(r->owner_id, ri.owner_id, sizeof(r->owner_id));
		r->verified_at_ms = ri.seen_wall_ms;
	}
	s->have_aws = rs->creds != NULL;
	if (rs->creds) {
		s->creds_source =
			creds_source_name(creds_current_source(rs->creds));
		s->creds_expiry_ms = creds_current_expiration(rs->creds);
	}
	if (ec2 != NULL) {
		s->have_ec2 = 1;
		s->ec2_clock_offset_s = ec2_clock_offset_s(ec2);
		for (int a = 0; a < EC2_NACTIONS; a++)
			s->ec2[a] = *ec2_get_counters(ec2, (enum ec2_action)a);
	}
}
