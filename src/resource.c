/*
 * resource.c - the configured floating resources as the election sees them:
 * one owner for the whole group (the most alarming one wins) and one "make
 * them all mine" that runs every driver's acquire in parallel. Each type is
 * a driver (resource_driver.h), found by its configuration name.
 */
#include "resource.h"
#include "config.h"
#include "ec2.h"
#include "hostaddr.h"
#include "log.h"
#include "loop.h"
#include "resource_driver.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The driver table: a new type is one row here and its resource_<type>.c. */
static const struct resource_driver *const drivers[] = {
	&resource_eip_driver,
	&resource_file_driver,
	&resource_secip_driver,
	&resource_route_driver,
};

/* One group operation (prepare, verify or acquire) across all items. */
struct group_op {
	unsigned pending; /* answers still owed, +1 while starting */
	unsigned failed;
	char err[700];	  /* the first failure */
	uint64_t start_ms;
	resource_done_cb done_cb; /* prepare, acquire */
	resource_verify_cb verify_cb;
	void *arg;
	int active;
	struct loop_defer defer; /* every answer came inside the call */
};

struct resource_set {
	struct ev_loop *loop;
	struct ec2_ctx *ec2;
	struct resource_ids ids;
	struct resource_item items[CONFIG_MAX_RESOURCES];
	unsigned n;
	unsigned naws; /* items whose driver needs the EC2 API */
	struct group_op ops[RESOURCE_NOPS];
	/* resource_check_holder: one DescribeInstanceStatus at a time */
	struct ec2_call *holder_call;
	resource_holder_cb holder_cb;
	void *holder_arg;
	char holder_id[CONFIG_ID_MAX];
	struct log_ratelimit holder_log;
	resource_done_cb selftest_cb;
	void *selftest_arg;
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

static const struct resource_driver *
driver_for(enum config_resource_type type)
{
	const char *name = config_resource_type_name(type);
	size_t i;

	for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(drivers[i]->type, name) == 0)
			return drivers[i];
	return NULL;
}

void
resource_config_ids(const struct config *cfg, char *buf, size_t len)
{
	size_t off = 0;

	if (len > 0)
		buf[0] = '\0';
	for (unsigned i = 0; i < cfg->nresources && off < len; i++) {
		const struct config_resource *r = &cfg->resources[i];
		const char *id = r->allocation_id[0] ? r->allocation_id
			       : r->public_ip[0]     ? r->public_ip
			       : r->address[0]	     ? r->address
			       : r->destination[0]   ? r->destination
						     : r->path;
		int n = snprintf(buf + off, len - off, "%s%s", off ? " " : "",
				 id);

		if (n > 0)
			off += (size_t)n;
	}
}

int
resource_type_needs_aws(enum config_resource_type type)
{
	const struct resource_driver *drv = driver_for(type);

	return drv != NULL && drv->needs_aws;
}

int
resource_needs_interface(const struct config *cfg)
{
	for (unsigned i = 0; i < cfg->nresources; i++) {
		const struct resource_driver *drv =
		    driver_for(cfg->resources[i].type);

		if (drv != NULL && drv->needs_interface)
			return 1;
	}
	return 0;
}

int
resource_host_capable(const struct config *cfg, char *err, size_t len)
{
	for (unsigned i = 0; i < cfg->nresources; i++) {
		const struct config_resource *r = &cfg->resources[i];
		const struct resource_driver *drv = driver_for(r->type);

		if (drv == NULL || drv->needs_net_admin == NULL ||
		    !drv->needs_net_admin(r) || hostaddr_capable())
			continue;
		snprintf(err, len,
			 "resources[%u] (%s) puts an address on this host and "
			 "needs CAP_NET_ADMIN, which this process lacks (run "
			 "as root, or see CAPABILITIES in eipfloatd(8) for the "
			 "systemd drop-in)",
			 i, drv->type);
		return 0;
	}
	return 1;
}

/* The same resource in both configurations (type and what moves). */
static int
same_resource(const struct config_resource *a, const struct config_resource *b)
{
	return a->type == b->type &&
	       strcmp(a->allocation_id, b->allocation_id) == 0 &&
	       strcmp(a->public_ip, b->public_ip) == 0 &&
	       strcmp(a->address, b->address) == 0 &&
	       strcmp(a->destination, b->destination) == 0 &&
	       a->local_address == b->local_address;
}

void
resource_host_drop_removed(struct resource_set *set, const struct config *next)
{
	for (unsigned i = 0; i < set->n; i++) {
		struct resource_item *it = &set->items[i];
		unsigned j;

		if (it->drv->host == NULL)
			continue;
		for (j = 0; j < next->nresources; j++)
			if (same_resource(&it->cfg, &next->resources[j]))
				break;
		if (j == next->nresources)
			it->drv->host(it, 0);
	}
}

void
resource_host(struct resource_set *set, int active)
{
	for (unsigned i = 0; i < set->n; i++)
		if (set->items[i].drv->host != NULL)
			set->items[i].drv->host(&set->items[i], active);
}

void
resource_item_seen(struct resource_item *it, enum resource_owner owner,
		   const char *id, const char *by)
{
	it->owner = owner;
	util_strlcpy(it->owner_id, id ? id : "", sizeof(it->owner_id));
	it->seen_wall_ms = util_wall_ms();
	it->seen_mono_ms = util_now_ms();
	it->seen_by = by;
}

void
resource_item_selftest_done(struct resource_item *it, int ok,
			    const char *text)
{
	it->perm = ok ? 1 : -1;
	util_strlcpy(it->perm_text, text, sizeof(it->perm_text));
	if (ok)
		log_notice("permission self-test %s: %s", it->name, text);
	else
		log_warn("permission self-test %s: %s", it->name, text);
	if (it->set->selftest_cb != NULL)
		it->set->selftest_cb(it->set->selftest_arg, ok ? 0 : -1, text);
}

void
resource_selftest(struct resource_set *set, resource_done_cb cb, void *arg)
{
	set->selftest_cb = cb;
	set->selftest_arg = arg;
	for (unsigned i = 0; i < set->n; i++)
		if (set->items[i].drv->selftest != NULL)
			set->items[i].drv->selftest(&set->items[i]);
}

static void finish(struct resource_set *set, enum resource_op op);

static void on_defer_prepare(void *arg) { finish(arg, RESOURCE_OP_PREPARE); }
static void on_defer_verify(void *arg) { finish(arg, RESOURCE_OP_VERIFY); }
static void on_defer_acquire(void *arg) { finish(arg, RESOURCE_OP_ACQUIRE); }

static void
free_items(struct resource_set *set)
{
	for (unsigned i = 0; i < set->n; i++)
		if (set->items[i].drv->fini != NULL)
			set->items[i].drv->fini(&set->items[i]);
}

static void
take_ids(struct resource_set *set, const struct config *cfg,
	 const char *self_instance, const char *primary_eni)
{
	struct resource_ids *ids = &set->ids;

	util_strlcpy(ids->self_name, cfg->nodes[cfg->self].name,
		     sizeof(ids->self_name));
	util_strlcpy(ids->self_eni, cfg->nodes[cfg->self].network_interface_id,
		     sizeof(ids->self_eni));
	if (cfg->nnodes > 1) {
		const struct config_node *peer = &cfg->nodes[cfg->peer];

		util_strlcpy(ids->peer_name, peer->name,
			     sizeof(ids->peer_name));
		util_strlcpy(ids->peer_instance, peer->instance_id,
			     sizeof(ids->peer_instance));
		util_strlcpy(ids->peer_eni, peer->network_interface_id,
			     sizeof(ids->peer_eni));
	}
	util_strlcpy(ids->self_instance, self_instance ? self_instance : "",
		     sizeof(ids->self_instance));
	util_strlcpy(ids->primary_eni, primary_eni ? primary_eni : "",
		     sizeof(ids->primary_eni));
}

struct resource_set *
resource_new(const struct resource_env *env)
{
	const struct config *cfg = env->cfg;
	struct resource_set *set;
	struct ec2_params p;

	set = calloc(1, sizeof(*set));
	if (set == NULL)
		return NULL;
	set->loop = env->loop;
	/* A denied DescribeInstanceStatus: said once every 10 minutes. */
	set->holder_log.interval_ms = 600000;
	set->holder_log.burst = 1;
	take_ids(set, cfg, env->self_instance, env->primary_eni);
	loop_defer_init(&set->ops[RESOURCE_OP_PREPARE].defer, env->loop,
			on_defer_prepare, set);
	loop_defer_init(&set->ops[RESOURCE_OP_VERIFY].defer, env->loop,
			on_defer_verify, set);
	loop_defer_init(&set->ops[RESOURCE_OP_ACQUIRE].defer, env->loop,
			on_defer_acquire, set);
	for (unsigned i = 0; i < cfg->nresources && i < CONFIG_MAX_RESOURCES;
	     i++) {
		struct resource_item *it = &set->items[set->n];

		it->set = set;
		it->loop = env->loop;
		it->cfg = cfg->resources[i];
		it->ids = &set->ids;
		it->owner = RES_OWNER_UNKNOWN;
		it->drv = driver_for(it->cfg.type);
		if (it->drv == NULL || it->drv->init(it) == -1)
			goto fail;
		set->n++;
		if (it->drv->needs_aws)
			set->naws++;
	}
	if (set->naws == 0)
		return set;
	if (env->http == NULL || env->creds == NULL) {
		log_err("resources: these types need the EC2 API");
		goto fail;
	}
	p.region = env->region;
	p.endpoint = env->endpoint;
	p.ca_file = cfg->ca_file;
	p.timeout_ms = cfg->aws_timeout_ms;
	set->ec2 = ec2_new(env->loop, env->http, env->creds, &p);
	if (set->ec2 == NULL)
		goto fail;
	for (unsigned i = 0; i < set->n; i++)
		if (set->items[i].drv->needs_aws) {
			set->items[i].ec2 = set->ec2;
			set->items[i].imds = env->imds;
		}
	return set;
fail:
	free_items(set);
	free(set);
	return NULL;
}

void
resource_free(struct resource_set *set)
{
	if (set == NULL)
		return;
	resource_cancel(set);
	free_items(set);
	ec2_free(set->ec2);
	free(set);
}

void
resource_set_peer_instance(struct resource_set *set, const char *id)
{
	util_strlcpy(set->ids.peer_instance, id ? id : "",
		     sizeof(set->ids.peer_instance));
}

/* prepare and verify: one call per driver with all of its items. */
static void
start_batch(struct resource_set *set, enum resource_op op,
	    const struct resource_driver *drv)
{
	struct resource_item *batch[CONFIG_MAX_RESOURCES];
	void (*fn)(struct resource_item *const *, unsigned) =
		op == RESOURCE_OP_PREPARE ? drv->prepare : drv->verify;
	unsigned n = 0;

	if (fn == NULL)
		return;
	for (unsigned i = 0; i < set->n; i++)
		if (set->items[i].drv == drv) {
			batch[n++] = &set->items[i];
			set->items[i].owes |= 1u << op;
		}
	if (n == 0)
		return;
	set->ops[op].pending += n;
	fn(batch, n);
}

/*
 * Ask every item's driver; the group answers once all have. Drivers may
 * answer inside the call: then the group's callback waits for the next
 * loop turn, so no caller is ever called back from inside its own call.
 */
static void
start(struct resource_set *set, enum resource_op op)
{
	struct group_op *o = &set->ops[op];
	unsigned bit = 1u << op;

	loop_defer_cancel(&o->defer);
	for (unsigned i = 0; i < set->n; i++)
		set->items[i].owes &= ~bit;
	o->active = 1;
	o->pending = 1;
	o->failed = 0;
	o->err[0] = '\0';
	o->start_ms = util_now_ms();
	switch (op) {
	case RESOURCE_OP_PREPARE:
	case RESOURCE_OP_VERIFY:
		for (size_t k = 0; k < sizeof(drivers) / sizeof(drivers[0]); k++)
			start_batch(set, op, drivers[k]);
		break;
	case RESOURCE_OP_ACQUIRE:
		for (unsigned i = 0; i < set->n; i++) {
			struct resource_item *it = &set->items[i];

			it->owes |= bit;
			o->pending++;
			it->drv->acquire(it);
		}
		break;
	}
	if (--o->pending == 0)
		loop_defer_soon(&o->defer);
}

void
resource_item_done(struct resource_item *it, enum resource_op op, int rc,
		   const char *why)
{
	struct resource_set *set = it->set;
	struct group_op *o = &set->ops[op];
	unsigned bit = 1u << op;

	if (!(it->owes & bit))
		return; /* cancelled or replaced */
	it->owes &= ~bit;
	if (rc != 0 && o->failed++ == 0)
		util_strlcpy(o->err, why ? why : "failed", sizeof(o->err));
	if (--o->pending == 0)
		finish(set, op);
}

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
describe_owner(const struct resource_item *it, char *buf, size_t len)
{
	switch (it->owner) {
	case RES_OWNER_UNKNOWN:
		snprintf(buf, len, "%s: owner unknown", it->name);
		break;
	case RES_OWNER_NONE:
		snprintf(buf, len, "%s is not associated", it->name);
		break;
	case RES_OWNER_SELF:
		snprintf(buf, len, "%s on %s (this node)", it->name,
			 it->owner_id);
		break;
	case RES_OWNER_PEER:
		snprintf(buf, len, "%s on %s (the peer)", it->name,
			 it->owner_id);
		break;
	case RES_OWNER_OTHER:
		snprintf(buf, len, "%s on %s (neither node)", it->name,
			 it->owner_id);
		break;
	}
}

static void
verify_answer(struct resource_set *set, const struct group_op *o)
{
	enum resource_owner agg = RES_OWNER_SELF;
	const struct resource_item *worst = NULL;
	char detail[CONFIG_PATH_MAX + 160];

	for (unsigned i = 0; i < set->n; i++) {
		const struct resource_item *it = &set->items[i];

		if (worst == NULL || rank(it->owner) > rank(agg)) {
			agg = it->owner;
			worst = it;
		}
	}
	if (o->failed)
		snprintf(detail, sizeof(detail), "%s", o->err);
	else if (worst == NULL)
		snprintf(detail, sizeof(detail), "no resources");
	else if (agg == RES_OWNER_SELF && set->n > 1)
		snprintf(detail, sizeof(detail), "all %u resources on %s",
			 set->n, worst->owner_id);
	else
		describe_owner(worst, detail, sizeof(detail));
	if (o->verify_cb != NULL)
		o->verify_cb(o->arg, agg, detail);
}

static void
finish(struct resource_set *set, enum resource_op op)
{
	struct group_op *o = &set->ops[op];
	char err[sizeof(o->err)];

	if (!o->active)
		return;
	o->active = 0;
	util_strlcpy(err, o->err, sizeof(err));
	switch (op) {
	case RESOURCE_OP_VERIFY:
		verify_answer(set, o);
		return;
	case RESOURCE_OP_ACQUIRE:
	case RESOURCE_OP_PREPARE:
		break;
	}
	if (o->done_cb != NULL)
		o->done_cb(o->arg, o->failed ? -1 : 0, o->failed ? err : NULL);
}

void
resource_prepare(struct resource_set *set, resource_done_cb cb, void *arg)
{
	set->ops[RESOURCE_OP_PREPARE].done_cb = cb;
	set->ops[RESOURCE_OP_PREPARE].arg = arg;
	start(set, RESOURCE_OP_PREPARE);
}

void
resource_verify(struct resource_set *set, resource_verify_cb cb, void *arg)
{
	set->ops[RESOURCE_OP_VERIFY].verify_cb = cb;
	set->ops[RESOURCE_OP_VERIFY].arg = arg;
	start(set, RESOURCE_OP_VERIFY);
}

void
resource_acquire(struct resource_set *set, resource_done_cb cb, void *arg)
{
	set->ops[RESOURCE_OP_ACQUIRE].done_cb = cb;
	set->ops[RESOURCE_OP_ACQUIRE].arg = arg;
	start(set, RESOURCE_OP_ACQUIRE);
}

static void
holder_done(void *arg, const struct ec2_result *res)
{
	struct resource_set *set = arg;
	char why[EC2_CODE_MAX + EC2_MESSAGE_MAX + 64];
	enum resource_holder h = RES_HOLDER_MAY_SERVE;

	set->holder_call = NULL;
	if (res->rc != 0 &&
	    strcmp(res->code, "InvalidInstanceID.NotFound") == 0) {
		snprintf(why, sizeof(why), "%s no longer exists",
			 set->holder_id);
		h = RES_HOLDER_DOWN;
	} else if (res->rc != 0) {
		log_limited(&set->holder_log, LOG_LEVEL_WARNING,
			    "cannot ask EC2 about %s, which holds the EIP: "
			    "DescribeInstanceStatus: %s: %s%s",
			    set->holder_id, res->code, res->message,
			    strcmp(res->code, "UnauthorizedOperation") == 0
				? " (allow ec2:DescribeInstanceStatus in the "
				  "instance role)"
				: "");
		set->holder_cb(set->holder_arg, RES_HOLDER_UNKNOWN, NULL);
		return;
	} else if (!res->instance_found) {
		snprintf(why, sizeof(why), "%s: not listed", set->holder_id);
		h = RES_HOLDER_UNKNOWN;
	} else {
		char state[96];

		if (ec2_instance_down(&res->instance, state, sizeof(state)))
			h = RES_HOLDER_DOWN;
		snprintf(why, sizeof(why), "%s is %s", set->holder_id, state);
	}
	set->holder_cb(set->holder_arg, h, why);
}

void
resource_check_holder(struct resource_set *set, resource_holder_cb cb,
		      void *arg)
{
	const char *id = NULL;

	if (set->ec2 == NULL || set->holder_call != NULL)
		return;
	for (unsigned i = 0; i < set->n && id == NULL; i++) {
		const struct resource_item *it = &set->items[i];

		if ((it->owner == RES_OWNER_PEER ||
		     it->owner == RES_OWNER_OTHER) &&
		    strncmp(it->owner_id, "i-", 2) == 0)
			id = it->owner_id;
	}
	if (id == NULL)
		return;
	util_strlcpy(set->holder_id, id, sizeof(set->holder_id));
	set->holder_cb = cb;
	set->holder_arg = arg;
	set->holder_call = ec2_describe_instance_status(set->ec2, id, NULL,
							holder_done, set);
}

void
resource_cancel(struct resource_set *set)
{
	if (set->holder_call != NULL) {
		ec2_cancel(set->holder_call);
		set->holder_call = NULL;
	}
	for (unsigned i = 0; i < set->n; i++) {
		struct resource_item *it = &set->items[i];

		if (it->drv->cancel != NULL)
			it->drv->cancel(it);
		it->owes = 0;
	}
	for (unsigned op = 0; op < RESOURCE_NOPS; op++) {
		loop_defer_cancel(&set->ops[op].defer);
		set->ops[op].active = 0;
		set->ops[op].pending = 0;
	}
}

static void
dump_item(const struct resource_item *it, FILE *out, unsigned idx)
{
	char when[32] = "never", extra[320] = "";

	if (it->seen_wall_ms != 0)
		util_format_wall(it->seen_wall_ms, when, sizeof(when));
	fprintf(out, "resource %u %s %s%s%s%s: owner %s%s%s%s, seen %s", idx,
		it->drv->type, it->name, it->cfg.public_ip[0] ? " (" : "",
		it->cfg.public_ip, it->cfg.public_ip[0] ? ")" : "",
		resource_owner_name(it->owner), it->owner_id[0] ? " (" : "",
		it->owner_id, it->owner_id[0] ? ")" : "", when);
	if (it->seen_wall_ms != 0)
		fprintf(out, " (%llu s ago, by %s)",
			(unsigned long long)((util_now_ms() - it->seen_mono_ms) /
					     1000),
			it->seen_by);
	if (it->drv->describe != NULL)
		it->drv->describe(it, extra, sizeof(extra));
	fprintf(out, "%s\n", extra);
	if (it->perm != 0)
		fprintf(out, "resource %u permission: %s: %s\n", idx,
			it->perm > 0 ? "ok" : "REFUSED", it->perm_text);
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
	const struct resource_item *it = &set->items[i];

	out->type = it->drv->type;
	out->id = it->name;
	out->owner = it->owner;
	out->owner_id = it->owner_id;
	out->seen_wall_ms = it->seen_wall_ms;
}

void
resource_dump(const struct resource_set *set, FILE *out)
{
	const struct group_op *acq = &set->ops[RESOURCE_OP_ACQUIRE];

	for (unsigned i = 0; i < set->n; i++)
		dump_item(&set->items[i], out, i);
	if (acq->active)
		fprintf(out, "resource acquire in progress for %llu ms\n",
			(unsigned long long)(util_now_ms() - acq->start_ms));
	if (set->ec2 != NULL)
		ec2_dump(set->ec2, out);
}
