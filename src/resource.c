/*
 * resource.c - the configured floating resources as the election sees them:
 * one owner for the whole set (EC2 is the arbiter for Elastic IPs) and one
 * "make them all mine" that runs every AssociateAddress in parallel.
 */
#include "resource.h"
#include "config.h"
#include "ec2.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct res_item {
	struct resource_set *set;
	struct config_resource cfg;
	char alloc_id[EC2_ID_MAX]; /* configured or resolved from public_ip */
	/* Last verified (or acquired) owner. */
	enum resource_owner owner;
	char owner_id[EC2_ID_MAX]; /* instance id (EIP), node name (FILE) */
	uint64_t seen_wall_ms;	   /* 0 = never */
	uint64_t seen_mono_ms;
	const char *seen_by; /* "describe", "associate", "read", ... */
	struct ec2_call *assoc;
};

struct resource_set {
	struct ev_loop *loop;
	struct ec2_ctx *ec2;
	char self_name[CONFIG_NAME_MAX];
	char peer_name[CONFIG_NAME_MAX];
	char self_instance[EC2_ID_MAX];
	char peer_instance[EC2_ID_MAX];
	char self_eni[EC2_ID_MAX];
	char peer_eni[EC2_ID_MAX];
	struct res_item items[CONFIG_MAX_RESOURCES];
	unsigned n;
	unsigned neip;

	/* prepare */
	struct ec2_call *prep_call;
	resource_done_cb prep_cb;
	void *prep_arg;
	ev_timer prep_defer;
	const char *prep_err; /* for a deferred failure */

	/* verify */
	struct ec2_call *verify_call;
	resource_verify_cb verify_cb;
	void *verify_arg;
	ev_timer verify_defer;

	/* acquire */
	resource_done_cb acq_cb;
	void *acq_arg;
	unsigned acq_pending;
	unsigned acq_failed;
	uint64_t acq_start_ms;
	char acq_err[512];
	ev_timer acq_defer;
};

const char *
resource_owner_name(enum resource_owner owner)
{
	switch (owner) {
	case RES_OWNER_UNKNOWN:
		return "unknown";
	case RES_OWNER_NONE:
		return "none";
	case RES_OWNER_SELF:
		return "self";
	case RES_OWNER_PEER:
		return "peer";
	case RES_OWNER_OTHER:
		return "other";
	}
	return "?";
}

static const char *
item_name(const struct res_item *it)
{
	if (it->cfg.type == CONFIG_RES_FILE)
		return it->cfg.path;
	return it->alloc_id[0] ? it->alloc_id : it->cfg.public_ip;
}

static void
remember(struct res_item *it, enum resource_owner owner, const char *id,
	 const char *by)
{
	it->owner = owner;
	util_strlcpy(it->owner_id, id ? id : "", sizeof(it->owner_id));
	it->seen_wall_ms = util_wall_ms();
	it->seen_mono_ms = util_now_ms();
	it->seen_by = by;
}

static void prep_defer_cb(struct ev_loop *, ev_timer *, int);
static void verify_defer_cb(struct ev_loop *, ev_timer *, int);
static void acq_defer_cb(struct ev_loop *, ev_timer *, int);

struct resource_set *
resource_new(const struct resource_env *env)
{
	const struct config *cfg = env->cfg;
	struct resource_set *set;
	struct ec2_params p;
	unsigned i;

	set = calloc(1, sizeof(*set));
	if (set == NULL)
		return NULL;
	set->loop = env->loop;
	util_strlcpy(set->self_name, cfg->nodes[cfg->self].name,
		     sizeof(set->self_name));
	util_strlcpy(set->self_eni, cfg->nodes[cfg->self].network_interface_id,
		     sizeof(set->self_eni));
	if (cfg->nnodes > 1) {
		const struct config_node *peer = &cfg->nodes[cfg->peer];

		util_strlcpy(set->peer_name, peer->name,
			     sizeof(set->peer_name));
		util_strlcpy(set->peer_instance, peer->instance_id,
			     sizeof(set->peer_instance));
		util_strlcpy(set->peer_eni, peer->network_interface_id,
			     sizeof(set->peer_eni));
	}
	util_strlcpy(set->self_instance,
		     env->self_instance ? env->self_instance : "",
		     sizeof(set->self_instance));
	for (i = 0; i < cfg->nresources && i < CONFIG_MAX_RESOURCES; i++) {
		struct res_item *it = &set->items[set->n++];

		it->set = set;
		it->cfg = cfg->resources[i];
		util_strlcpy(it->alloc_id, it->cfg.allocation_id,
			     sizeof(it->alloc_id));
		it->owner = RES_OWNER_UNKNOWN;
		if (it->cfg.type == CONFIG_RES_EIP)
			set->neip++;
	}
	ev_init(&set->prep_defer, prep_defer_cb);
	ev_init(&set->verify_defer, verify_defer_cb);
	ev_init(&set->acq_defer, acq_defer_cb);
	set->prep_defer.data = set->verify_defer.data = set->acq_defer.data =
	    set;
	if (set->neip == 0)
		return set;
	if (env->http == NULL || env->creds == NULL) {
		log_err("resources: Elastic IPs need the EC2 API");
		free(set);
		return NULL;
	}
	p.region = env->region;
	p.endpoint = env->endpoint;
	p.ca_file = cfg->ca_file;
	p.timeout_ms = cfg->aws_timeout_ms;
	set->ec2 = ec2_new(env->loop, env->http, env->creds, &p);
	if (set->ec2 == NULL) {
		free(set);
		return NULL;
	}
	return set;
}

void
resource_free(struct resource_set *set)
{
	if (set == NULL)
		return;
	resource_cancel(set);
	ec2_free(set->ec2);
	free(set);
}

void
resource_set_peer_instance(struct resource_set *set, const char *id)
{
	util_strlcpy(set->peer_instance, id ? id : "",
		     sizeof(set->peer_instance));
}

static void
defer(struct resource_set *set, ev_timer *w)
{
	ev_timer_stop(set->loop, w);
	ev_timer_set(w, 0., 0.);
	ev_timer_start(set->loop, w);
}

/* ---- prepare: public_ip -> allocation id ---- */

static void
prep_finish(struct resource_set *set, int rc, const char *detail)
{
	resource_done_cb cb = set->prep_cb;

	set->prep_cb = NULL;
	if (cb != NULL)
		cb(set->prep_arg, rc, detail);
}

static void
prep_defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resource_set *set = w->data;

	(void)loop;
	(void)revents;
	prep_finish(set, set->prep_err ? -1 : 0, set->prep_err);
}

static void
on_prep(void *arg, const struct ec2_result *res)
{
	struct resource_set *set = arg;
	char why[600];
	unsigned i;
	size_t j;

	set->prep_call = NULL;
	if (res->rc != 0) {
		snprintf(why, sizeof(why), "DescribeAddresses: %s: %s",
			 res->code, res->message);
		prep_finish(set, -1, why);
		return;
	}
	for (i = 0; i < set->n; i++) {
		struct res_item *it = &set->items[i];

		if (it->cfg.type != CONFIG_RES_EIP || it->alloc_id[0] != '\0')
			continue;
		for (j = 0; j < res->naddresses; j++)
			if (strcmp(res->addresses[j].public_ip,
				   it->cfg.public_ip) == 0)
				break;
		if (j == res->naddresses ||
		    res->addresses[j].allocation_id[0] == '\0') {
			snprintf(why, sizeof(why),
				 "%s: no VPC Elastic IP with this address",
				 it->cfg.public_ip);
			prep_finish(set, -1, why);
			return;
		}
		util_strlcpy(it->alloc_id, res->addresses[j].allocation_id,
			     sizeof(it->alloc_id));
		log_info("resource %s is %s", it->cfg.public_ip, it->alloc_id);
	}
	prep_finish(set, 0, NULL);
}

void
resource_prepare(struct resource_set *set, resource_done_cb cb, void *arg)
{
	const char *ips[CONFIG_MAX_RESOURCES];
	size_t nips = 0;
	unsigned i;

	ec2_cancel(set->prep_call);
	set->prep_call = NULL;
	ev_timer_stop(set->loop, &set->prep_defer);
	set->prep_cb = cb;
	set->prep_arg = arg;
	set->prep_err = NULL;
	for (i = 0; i < set->n; i++) {
		const struct res_item *it = &set->items[i];

		if (it->cfg.type == CONFIG_RES_EIP && it->alloc_id[0] == '\0')
			ips[nips++] = it->cfg.public_ip;
	}
	if (nips == 0) {
		defer(set, &set->prep_defer);
		return;
	}
	set->prep_call = ec2_describe_addresses(set->ec2, NULL, 0, ips, nips,
						NULL, on_prep, set);
	if (set->prep_call == NULL) {
		set->prep_err = "cannot start DescribeAddresses";
		defer(set, &set->prep_defer);
	}
}

/* ---- verify ---- */

/* Which wins when resources disagree: the most alarming owner. */
static int
rank(enum resource_owner o)
{
	switch (o) {
	case RES_OWNER_SELF:
		return 0;
	case RES_OWNER_NONE:
		return 1;
	case RES_OWNER_OTHER:
		return 2;
	case RES_OWNER_PEER:
		return 3;
	case RES_OWNER_UNKNOWN:
		return 4;
	}
	return 4;
}

static void
describe_owner(const struct res_item *it, char *buf, size_t len)
{
	switch (it->owner) {
	case RES_OWNER_UNKNOWN:
		snprintf(buf, len, "%s: owner unknown", item_name(it));
		break;
	case RES_OWNER_NONE:
		snprintf(buf, len, "%s is not associated", item_name(it));
		break;
	case RES_OWNER_SELF:
		snprintf(buf, len, "%s on %s (this node)", item_name(it),
			 it->owner_id);
		break;
	case RES_OWNER_PEER:
		snprintf(buf, len, "%s on %s (the peer)", item_name(it),
			 it->owner_id);
		break;
	case RES_OWNER_OTHER:
		snprintf(buf, len, "%s on %s (neither node)", item_name(it),
			 it->owner_id);
		break;
	}
}

static void
verify_finish(struct resource_set *set, const char *error)
{
	resource_verify_cb cb = set->verify_cb;
	enum resource_owner agg = RES_OWNER_SELF;
	const struct res_item *worst = NULL;
	char detail[CONFIG_PATH_MAX + 160];
	unsigned i;

	for (i = 0; i < set->n; i++) {
		const struct res_item *it = &set->items[i];

		if (worst == NULL || rank(it->owner) > rank(agg)) {
			agg = it->owner;
			worst = it;
		}
	}
	if (error != NULL)
		snprintf(detail, sizeof(detail), "%s", error);
	else if (worst == NULL)
		snprintf(detail, sizeof(detail), "no resources");
	else if (agg == RES_OWNER_SELF && set->n > 1)
		snprintf(detail, sizeof(detail), "all %u resources on %s",
			 set->n, worst->owner_id);
	else
		describe_owner(worst, detail, sizeof(detail));
	set->verify_cb = NULL;
	if (cb != NULL)
		cb(set->verify_arg, agg, detail);
}

static void
verify_defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	verify_finish(w->data, NULL);
}

static enum resource_owner
classify_eip(const struct resource_set *set, const struct ec2_address *a)
{
	if (set->self_instance[0] &&
	    strcmp(a->instance_id, set->self_instance) == 0)
		return RES_OWNER_SELF;
	if (set->peer_instance[0] &&
	    strcmp(a->instance_id, set->peer_instance) == 0)
		return RES_OWNER_PEER;
	/* An interface we associate by may not be attached to an instance. */
	if (set->self_eni[0] &&
	    strcmp(a->network_interface_id, set->self_eni) == 0)
		return RES_OWNER_SELF;
	if (set->peer_eni[0] &&
	    strcmp(a->network_interface_id, set->peer_eni) == 0)
		return RES_OWNER_PEER;
	if (a->instance_id[0] == '\0' && a->association_id[0] == '\0' &&
	    a->network_interface_id[0] == '\0')
		return RES_OWNER_NONE;
	return RES_OWNER_OTHER;
}

static void
on_verify(void *arg, const struct ec2_result *res)
{
	struct resource_set *set = arg;
	char why[600];
	unsigned i;
	size_t j;

	set->verify_call = NULL;
	if (res->rc != 0) {
		for (i = 0; i < set->n; i++)
			if (set->items[i].cfg.type == CONFIG_RES_EIP)
				remember(&set->items[i], RES_OWNER_UNKNOWN,
					 NULL, "describe failed");
		snprintf(why, sizeof(why), "DescribeAddresses: %s: %s",
			 res->code, res->message);
		verify_finish(set, why);
		return;
	}
	for (i = 0; i < set->n; i++) {
		struct res_item *it = &set->items[i];
		const struct ec2_address *a = NULL;

		if (it->cfg.type != CONFIG_RES_EIP)
			continue;
		for (j = 0; j < res->naddresses && a == NULL; j++)
			if (strcmp(res->addresses[j].allocation_id,
				   it->alloc_id) == 0)
				a = &res->addresses[j];
		if (a == NULL) {
			remember(it, RES_OWNER_UNKNOWN, NULL, "describe");
			continue;
		}
		remember(it, classify_eip(set, a),
			 a->instance_id[0] ? a->instance_id
					   : a->network_interface_id,
			 "describe");
	}
	verify_finish(set, NULL);
}

/* FILE resources: the owner is the node name stored in the file. */
static void
verify_file(struct resource_set *set, struct res_item *it)
{
	char buf[CONFIG_NAME_MAX + 2];
	size_t n;
	FILE *f = fopen(it->cfg.path, "r");

	if (f == NULL) {
		if (errno == ENOENT)
			remember(it, RES_OWNER_NONE, NULL, "read");
		else
			remember(it, RES_OWNER_UNKNOWN, NULL, "read failed");
		return;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		remember(it, RES_OWNER_NONE, NULL, "read");
	else if (strcmp(buf, set->self_name) == 0)
		remember(it, RES_OWNER_SELF, buf, "read");
	else if (set->peer_name[0] && strcmp(buf, set->peer_name) == 0)
		remember(it, RES_OWNER_PEER, buf, "read");
	else
		remember(it, RES_OWNER_OTHER, buf, "read");
}

void
resource_verify(struct resource_set *set, resource_verify_cb cb, void *arg)
{
	const char *ids[CONFIG_MAX_RESOURCES];
	size_t nids = 0;
	unsigned i;

	/* A newer question replaces an older one still unanswered. */
	ec2_cancel(set->verify_call);
	set->verify_call = NULL;
	ev_timer_stop(set->loop, &set->verify_defer);
	set->verify_cb = cb;
	set->verify_arg = arg;
	for (i = 0; i < set->n; i++) {
		struct res_item *it = &set->items[i];

		switch (it->cfg.type) {
		case CONFIG_RES_FILE:
			verify_file(set, it);
			break;
		case CONFIG_RES_EIP:
			if (it->alloc_id[0] != '\0')
				ids[nids++] = it->alloc_id;
			else
				remember(it, RES_OWNER_UNKNOWN, NULL,
					 "not prepared");
			break;
		}
	}
	if (nids == 0) {
		defer(set, &set->verify_defer);
		return;
	}
	set->verify_call = ec2_describe_addresses(set->ec2, ids, nids, NULL, 0,
						  NULL, on_verify, set);
	if (set->verify_call == NULL) {
		for (i = 0; i < set->n; i++)
			if (set->items[i].cfg.type == CONFIG_RES_EIP)
				remember(&set->items[i], RES_OWNER_UNKNOWN,
					 NULL, "describe failed");
		defer(set, &set->verify_defer);
	}
}

/* ---- acquire ---- */

static void
acq_finish(struct resource_set *set)
{
	resource_done_cb cb = set->acq_cb;
	uint64_t ms = util_now_ms() - set->acq_start_ms;

	if (set->acq_failed == 0)
		log_notice("acquired %u resource%s in %llu ms", set->n,
			   set->n == 1 ? "" : "s", (unsigned long long)ms);
	set->acq_cb = NULL;
	if (cb != NULL)
		cb(set->acq_arg, set->acq_failed ? -1 : 0,
		   set->acq_failed ? set->acq_err : NULL);
}

static void
acq_defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	acq_finish(w->data);
}

static void
acq_fail(struct resource_set *set, const char *why)
{
	if (set->acq_failed++ == 0)
		util_strlcpy(set->acq_err, why, sizeof(set->acq_err));
}

static void
on_associate(void *arg, const struct ec2_result *res)
{
	struct res_item *it = arg;
	struct resource_set *set = it->set;
	char why[700];

	it->assoc = NULL;
	if (res->rc == 0) {
		log_notice("acquired %s in %llu ms (%u attempt%s)",
			   it->alloc_id, (unsigned long long)res->elapsed_ms,
			   res->attempts, res->attempts == 1 ? "" : "s");
		remember(it, RES_OWNER_SELF,
			 set->self_eni[0] ? set->self_eni : set->self_instance,
			 "associate");
	} else {
		snprintf(why, sizeof(why), "associate %s: %s: %s", it->alloc_id,
			 res->code, res->message);
		log_err("%s (after %u attempt%s)", why, res->attempts,
			res->attempts == 1 ? "" : "s");
		acq_fail(set, why);
	}
	if (--set->acq_pending == 0)
		acq_finish(set);
}

/* Write our name to a temporary file and rename it over: atomic. */
static int
acquire_file(struct resource_set *set, struct res_item *it)
{
	char tmp[CONFIG_PATH_MAX + 32], why[CONFIG_PATH_MAX + 64];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", it->cfg.path, (long)getpid());
	f = fopen(tmp, "w");
	if (f == NULL) {
		snprintf(why, sizeof(why), "%s: %s", tmp, strerror(errno));
		acq_fail(set, why);
		return -1;
	}
	ok = fprintf(f, "%s\n", set->self_name) > 0;
	ok = fflush(f) == 0 && ok;
	ok = fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, it->cfg.path) == -1) {
		snprintf(why, sizeof(why), "%s: %s", it->cfg.path,
			 strerror(errno));
		unlink(tmp);
		acq_fail(set, why);
		return -1;
	}
	remember(it, RES_OWNER_SELF, set->self_name, "write");
	log_notice("acquired %s", it->cfg.path);
	return 0;
}

static void
acquire_eip(struct resource_set *set, struct res_item *it)
{
	struct ec2_associate_args a = {
	    .allocation_id = it->alloc_id,
	    .instance_id = set->self_instance,
	    .network_interface_id = set->self_eni,
	};
	char why[200];

	if (it->alloc_id[0] == '\0') {
		snprintf(why, sizeof(why), "%s: not prepared", item_name(it));
		acq_fail(set, why);
		return;
	}
	if (set->self_instance[0] == '\0' && set->self_eni[0] == '\0') {
		snprintf(why, sizeof(why), "%s: own instance id unknown",
			 it->alloc_id);
		acq_fail(set, why);
		return;
	}
	/* Retried until it works or the election cancels it. */
	it->assoc = ec2_associate_address(set->ec2, &a, NULL, on_associate, it);
	if (it->assoc == NULL) {
		snprintf(why, sizeof(why), "associate %s: cannot start",
			 it->alloc_id);
		acq_fail(set, why);
		return;
	}
	set->acq_pending++;
}

static void
acq_cancel(struct resource_set *set)
{
	unsigned i;

	for (i = 0; i < set->n; i++) {
		ec2_cancel(set->items[i].assoc);
		set->items[i].assoc = NULL;
	}
	ev_timer_stop(set->loop, &set->acq_defer);
	set->acq_pending = 0;
	set->acq_cb = NULL;
}

void
resource_acquire(struct resource_set *set, resource_done_cb cb, void *arg)
{
	unsigned i;

	acq_cancel(set);
	set->acq_cb = cb;
	set->acq_arg = arg;
	set->acq_failed = 0;
	set->acq_err[0] = '\0';
	set->acq_start_ms = util_now_ms();
	for (i = 0; i < set->n; i++) {
		struct res_item *it = &set->items[i];

		switch (it->cfg.type) {
		case CONFIG_RES_FILE:
			acquire_file(set, it);
			break;
		case CONFIG_RES_EIP:
			acquire_eip(set, it);
			break;
		}
	}
	if (set->acq_pending == 0)
		defer(set, &set->acq_defer);
}

void
resource_cancel(struct resource_set *set)
{
	ec2_cancel(set->prep_call);
	set->prep_call = NULL;
	set->prep_cb = NULL;
	ev_timer_stop(set->loop, &set->prep_defer);
	ec2_cancel(set->verify_call);
	set->verify_call = NULL;
	set->verify_cb = NULL;
	ev_timer_stop(set->loop, &set->verify_defer);
	acq_cancel(set);
}

static void
dump_item(const struct res_item *it, FILE *out, unsigned idx)
{
	char when[32] = "never";

	if (it->seen_wall_ms != 0)
		util_format_wall(it->seen_wall_ms, when, sizeof(when));
	fprintf(out, "resource %u %s %s%s%s%s: owner %s%s%s%s, seen %s", idx,
		it->cfg.type == CONFIG_RES_EIP ? "eip" : "file", item_name(it),
		it->cfg.public_ip[0] ? " (" : "", it->cfg.public_ip,
		it->cfg.public_ip[0] ? ")" : "", resource_owner_name(it->owner),
		it->owner_id[0] ? " (" : "", it->owner_id,
		it->owner_id[0] ? ")" : "", when);
	if (it->seen_wall_ms != 0)
		fprintf(
		    out, " (%llu s ago, by %s)",
		    (unsigned long long)((util_now_ms() - it->seen_mono_ms) /
					 1000),
		    it->seen_by);
	fprintf(out, "%s\n", it->assoc ? ", associate in flight" : "");
}

unsigned
resource_count(const struct resource_set *set)
{
	return set->n;
}

const struct ec2_ctx *
resource_ec2(const struct resource_set *set)
{
	return set->ec2;
}

void
resource_info(const struct resource_set *set, unsigned i,
	      struct resource_info *out)
{
	const struct res_item *it = &set->items[i];

	out->type = it->cfg.type == CONFIG_RES_EIP ? "eip" : "file";
	out->id = item_name(it);
	out->owner = it->owner;
	out->owner_id = it->owner_id;
	out->seen_wall_ms = it->seen_wall_ms;
}

void
resource_dump(const struct resource_set *set, FILE *out)
{
	unsigned i;

	for (i = 0; i < set->n; i++)
		dump_item(&set->items[i], out, i);
	if (set->acq_cb != NULL)
		fprintf(
		    out, "resource acquire in progress for %llu ms\n",
		    (unsigned long long)(util_now_ms() - set->acq_start_ms));
	if (set->ec2 != NULL)
		ec2_dump(set->ec2, out);
}
