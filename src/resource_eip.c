/*
 * resource_eip.c - the Elastic IP driver: DescribeAddresses says who holds
 * it (EC2 is the arbiter), AssociateAddress with AllowReassociation moves
 * it here in one write. That write's answer is the commit: a read that
 * predates it is read again (assoc.h), never reported as an owner.
 */
#include "assoc.h"
#include "backoff.h"
#include "ec2.h"
#include "log.h"
#include "loop.h"
#include "resource_driver.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct batch;

struct eip {
	char alloc_id[EC2_ID_MAX]; /* configured or resolved from public_ip */
	struct batch *prep, *verify; /* shared DescribeAddresses in flight */
	struct ec2_call *assoc;
	struct ec2_call *dry; /* the permission self-test */
	struct assoc_state seen;   /* our association, reads judged by it */
	struct loop_defer reread;  /* a stale or unconfirmed read, again */
	struct assoc_reread rr;	   /* assoc.h's reading-again accounting */
};

static void on_reread(void *arg);

static void
set_name(struct resource_item *it, const struct eip *e)
{
	util_strlcpy(it->name, e->alloc_id[0] ? e->alloc_id : it->cfg.public_ip,
		     sizeof(it->name));
}

static int
eip_init(struct resource_item *it)
{
	struct eip *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return -1;
	util_strlcpy(e->alloc_id, it->cfg.allocation_id, sizeof(e->alloc_id));
	assoc_init(&e->seen);
	loop_defer_init(&e->reread, it->loop, on_reread, it);
	it->priv = e;
	set_name(it, e);
	return 0;
}

/*
 * One DescribeAddresses answers for every EIP of the group (prepare: by
 * public IP, verify: by allocation id). The batch is shared by its items;
 * cancelling one takes it out, the last one out cancels the call.
 */
struct batch {
	struct ec2_call *call;
	enum resource_op op;
	struct resource_item *items[CONFIG_MAX_RESOURCES];
	unsigned n, live;
};

static struct batch **
slot(struct resource_item *it, enum resource_op op)
{
	struct eip *e = it->priv;

	return op == RESOURCE_OP_PREPARE ? &e->prep : &e->verify;
}

static void
leave(struct resource_item *it, enum resource_op op)
{
	struct batch **sp = slot(it, op), *b = *sp;

	if (b == NULL)
		return;
	*sp = NULL;
	for (unsigned i = 0; i < b->n; i++)
		if (b->items[i] == it)
			b->items[i] = NULL;
	if (--b->live == 0) {
		ec2_cancel(b->call);
		free(b);
	}
}

static void
eip_cancel(struct resource_item *it)
{
	struct eip *e = it->priv;

	leave(it, RESOURCE_OP_PREPARE);
	leave(it, RESOURCE_OP_VERIFY);
	loop_defer_cancel(&e->reread);
	assoc_reread_reset(&e->rr);
	ec2_cancel(e->assoc);
	e->assoc = NULL;
}

static void
eip_fini(struct resource_item *it)
{
	struct eip *e = it->priv;

	ec2_cancel(e->dry);
	e->dry = NULL;
	eip_cancel(it);
	free(it->priv);
	it->priv = NULL;
}

/* Answer every item still in the batch, then free it. */
static void
batch_answer(struct batch *b, const struct ec2_result *res,
	     void (*one)(struct resource_item *, const struct ec2_result *,
			 const char *))
{
	char why[600];

	if (res->rc != 0)
		snprintf(why, sizeof(why), "DescribeAddresses: %s: %s",
			 res->code, res->message);
	/* Detach first: an answer may start the next batch at once. */
	for (unsigned i = 0; i < b->n; i++)
		if (b->items[i] != NULL)
			*slot(b->items[i], b->op) = NULL;
	for (unsigned i = 0; i < b->n; i++)
		if (b->items[i] != NULL)
			one(b->items[i], res, res->rc != 0 ? why : NULL);
	free(b);
}

static struct batch *
batch_new(struct resource_item *const *items, unsigned n,
	  enum resource_op op)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->op = op;
	for (unsigned i = 0; i < n; i++) {
		leave(items[i], op);
		b->items[b->n++] = items[i];
		*slot(items[i], op) = b;
	}
	b->live = b->n;
	return b;
}

/* ---- prepare: public_ip -> allocation id ---- */

static void
prepared_one(struct resource_item *it, const struct ec2_result *res,
	     const char *err)
{
	struct eip *e = it->priv;
	char why[600];
	size_t j;

	if (err != NULL) {
		resource_item_done(it, RESOURCE_OP_PREPARE, -1, err);
		return;
	}
	for (j = 0; j < res->naddresses; j++)
		if (strcmp(res->addresses[j].public_ip, it->cfg.public_ip) == 0)
			break;
	if (j == res->naddresses || res->addresses[j].allocation_id[0] == '\0') {
		snprintf(why, sizeof(why),
			 "%s: no VPC Elastic IP with this address",
			 it->cfg.public_ip);
		resource_item_done(it, RESOURCE_OP_PREPARE, -1, why);
		return;
	}
	util_strlcpy(e->alloc_id, res->addresses[j].allocation_id,
		     sizeof(e->alloc_id));
	set_name(it, e);
	log_info("resource %s is %s", it->cfg.public_ip, e->alloc_id);
	resource_item_done(it, RESOURCE_OP_PREPARE, 0, NULL);
}

static void
on_prepared(void *arg, const struct ec2_result *res)
{
	batch_answer(arg, res, prepared_one);
}

static void
eip_prepare(struct resource_item *const *items, unsigned n)
{
	struct resource_item *todo[CONFIG_MAX_RESOURCES];
	const char *ips[CONFIG_MAX_RESOURCES];
	struct batch *b;
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct eip *e = items[i]->priv;

		if (e->alloc_id[0] != '\0') {
			resource_item_done(items[i], RESOURCE_OP_PREPARE, 0,
					   NULL);
			continue;
		}
		ips[k] = items[i]->cfg.public_ip;
		todo[k++] = items[i];
	}
	if (k == 0)
		return;
	b = batch_new(todo, k, RESOURCE_OP_PREPARE);
	if (b != NULL)
		b->call = ec2_describe_addresses(todo[0]->ec2, NULL, 0, ips, k,
						 NULL, on_prepared, b);
	if (b == NULL || b->call == NULL)
		for (unsigned i = 0; i < k; i++) {
			leave(todo[i], RESOURCE_OP_PREPARE);
			resource_item_done(todo[i], RESOURCE_OP_PREPARE, -1,
					   "cannot start DescribeAddresses");
		}
}

/* ---- verify ---- */

static enum resource_owner
classify(const struct resource_ids *ids, const struct ec2_address *a)
{
	if (ids->self_instance[0] &&
	    strcmp(a->instance_id, ids->self_instance) == 0)
		return RES_OWNER_SELF;
	if (ids->peer_instance[0] &&
	    strcmp(a->instance_id, ids->peer_instance) == 0)
		return RES_OWNER_PEER;
	/* An interface we associate by may not be attached to an instance. */
	if (ids->self_eni[0] &&
	    strcmp(a->network_interface_id, ids->self_eni) == 0)
		return RES_OWNER_SELF;
	if (ids->peer_eni[0] &&
	    strcmp(a->network_interface_id, ids->peer_eni) == 0)
		return RES_OWNER_PEER;
	if (a->instance_id[0] == '\0' && a->association_id[0] == '\0' &&
	    a->network_interface_id[0] == '\0')
		return RES_OWNER_NONE;
	return RES_OWNER_OTHER;
}

/* What the read shows, for the log: "eipassoc-1 on i-0abc" or "none". */
static const char *
shown(const struct ec2_address *a, char *buf, size_t len)
{
	if (a->association_id[0] == '\0' && a->instance_id[0] == '\0' &&
	    a->network_interface_id[0] == '\0')
		return "no association";
	snprintf(buf, len, "%s on %s",
		 a->association_id[0] ? a->association_id : "an association",
		 a->instance_id[0] ? a->instance_id : a->network_interface_id);
	return buf;
}

/*
 * A stale or first-sighting read: ask again after reread_policy's wait,
 * keeping the question open. Returns -1 when the policy says stop.
 */
static int
reread_later(struct resource_item *it, const struct ec2_address *a,
	     enum assoc_verdict v, uint64_t now)
{
	struct eip *e = it->priv;
	char sb[2 * EC2_ID_MAX + 8];
	uint64_t wait, from = e->rr.n ? e->rr.from : now;

	if (assoc_reread_next(&e->rr, now, &wait) == -1) {
		e->rr.from = from; /* for the caller's message */
		return -1;
	}
	/* The first of a run is worth a line; the rest are debug. */
	log_msg(e->rr.n == 1 ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
		"resource %s: DescribeAddresses shows %s: %s; reading again in "
		"%llu ms",
		e->alloc_id, shown(a, sb, sizeof(sb)),
		v == ASSOC_STALE ? "stale (it predates our AssociateAddress)"
				 : "not ours, believed only if the next "
				   "read shows it too",
		(unsigned long long)wait);
	loop_defer_after(&e->reread, wait);
	return 0;
}

static void
verified_one(struct resource_item *it, const struct ec2_result *res,
	     const char *err)
{
	struct eip *e = it->priv;
	const struct ec2_address *a = NULL;
	enum resource_owner owner;
	enum assoc_verdict v;
	uint64_t now = util_now_ms();
	char why[300];

	if (err != NULL) {
		resource_item_seen(it, RES_OWNER_UNKNOWN, NULL,
				   "describe failed");
		resource_item_done(it, RESOURCE_OP_VERIFY, -1, err);
		return;
	}
	for (size_t j = 0; j < res->naddresses && a == NULL; j++)
		if (strcmp(res->addresses[j].allocation_id, e->alloc_id) == 0)
			a = &res->addresses[j];
	if (a == NULL) {
		resource_item_seen(it, RES_OWNER_UNKNOWN, NULL, "describe");
		resource_item_done(it, RESOURCE_OP_VERIFY, 0, NULL);
		return;
	}
	owner = classify(it->ids, a);
	v = assoc_judge(&e->seen, a->association_id, owner == RES_OWNER_SELF,
			now);
	switch (v) {
	case ASSOC_CURRENT:
		break;
	case ASSOC_STALE:
	case ASSOC_CONFIRM:
		if (reread_later(it, a, v, now) == 0)
			return;
		/* Still not settled: say so, and claim nothing either way. */
		snprintf(why, sizeof(why),
			 "%s: reads for %llu s still predate our "
			 "AssociateAddress (%s)",
			 e->alloc_id,
			 (unsigned long long)((now - e->rr.from) / 1000),
			 e->seen.mine[0] ? e->seen.mine : "?");
		resource_item_seen(it, RES_OWNER_UNKNOWN, NULL, "describe");
		resource_item_done(it, RESOURCE_OP_VERIFY, -1, why);
		return;
	}
	assoc_reread_reset(&e->rr);
	resource_item_seen(it, owner,
			   a->instance_id[0] ? a->instance_id
					     : a->network_interface_id,
			   "describe");
	resource_item_done(it, RESOURCE_OP_VERIFY, 0, NULL);
}

static void
on_verified(void *arg, const struct ec2_result *res)
{
	batch_answer(arg, res, verified_one);
}

static void
eip_verify(struct resource_item *const *items, unsigned n)
{
	struct resource_item *todo[CONFIG_MAX_RESOURCES];
	const char *ids[CONFIG_MAX_RESOURCES];
	struct batch *b;
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		struct eip *e = items[i]->priv;

		/*
		 * A newer question replaces an older one still unanswered
		 * (a pending re-read included: this read is it).
		 */
		leave(items[i], RESOURCE_OP_VERIFY);
		loop_defer_cancel(&e->reread);
		if (e->alloc_id[0] == '\0' || items[i]->ec2 == NULL) {
			resource_item_seen(items[i], RES_OWNER_UNKNOWN, NULL,
					   "not prepared");
			resource_item_done(items[i], RESOURCE_OP_VERIFY, 0,
					   NULL);
			continue;
		}
		ids[k] = e->alloc_id;
		todo[k++] = items[i];
	}
	if (k == 0)
		return;
	b = batch_new(todo, k, RESOURCE_OP_VERIFY);
	if (b != NULL)
		b->call = ec2_describe_addresses(todo[0]->ec2, ids, k, NULL, 0,
						 NULL, on_verified, b);
	if (b == NULL || b->call == NULL)
		for (unsigned i = 0; i < k; i++) {
			leave(todo[i], RESOURCE_OP_VERIFY);
			resource_item_seen(todo[i], RES_OWNER_UNKNOWN, NULL,
					   "describe failed");
			resource_item_done(todo[i], RESOURCE_OP_VERIFY, 0,
					   NULL);
		}
}

/* ---- acquire ---- */

/* The re-read of one item, still owing its answer to the group. */
static void
on_reread(void *arg)
{
	struct resource_item *it = arg;

	eip_verify(&it, 1);
}

static void
on_associated(void *arg, const struct ec2_result *res)
{
	struct resource_item *it = arg;
	struct eip *e = it->priv;
	char why[700];

	e->assoc = NULL;
	it->attempts = res->attempts;
	it->elapsed_ms = res->elapsed_ms;
	if (res->rc != 0) {
		snprintf(why, sizeof(why), "associate %s: %s: %s (after %u "
			 "attempt%s)", e->alloc_id, res->code, res->message,
			 res->attempts, res->attempts == 1 ? "" : "s");
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
		return;
	}
	/* The commit: reads from before it are stale from now on. */
	assoc_written(&e->seen, res->association_id, util_now_ms());
	/* daemon.c logs the takeover; the id is for debugging and the dump. */
	log_debug("resource %s: associated as %s", e->alloc_id,
		  res->association_id);
	resource_item_seen(it, RES_OWNER_SELF,
			   it->ids->self_eni[0] ? it->ids->self_eni
						: it->ids->self_instance,
			   "associate");
	resource_item_done(it, RESOURCE_OP_ACQUIRE, 0, NULL);
}

static void
eip_acquire(struct resource_item *it)
{
	struct eip *e = it->priv;
	struct ec2_associate_args a = {
		.allocation_id = e->alloc_id,
		.instance_id = it->ids->self_instance,
		.network_interface_id = it->ids->self_eni,
	};
	char why[CONFIG_PATH_MAX + 32];

	ec2_cancel(e->assoc);
	e->assoc = NULL;
	it->attempts = 0;
	if (e->alloc_id[0] == '\0' || it->ec2 == NULL) {
		snprintf(why, sizeof(why), "%s: not prepared", it->name);
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
		return;
	}
	if (it->ids->self_instance[0] == '\0' && it->ids->self_eni[0] == '\0') {
		snprintf(why, sizeof(why), "%s: own instance id unknown",
			 e->alloc_id);
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
		return;
	}
	/* Retried (ec2.c's policy) until it works or the election cancels. */
	e->assoc = ec2_associate_address(it->ec2, &a, NULL, on_associated, it);
	if (e->assoc == NULL) {
		snprintf(why, sizeof(why), "associate %s: cannot start",
			 e->alloc_id);
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
		return;
	}
}

static void
on_dry_run(void *arg, const struct ec2_result *res)
{
	struct resource_item *it = arg;
	struct eip *e = it->priv;
	char text[sizeof(it->perm_text) + 400], fix[300];

	e->dry = NULL;
	if (res->rc == 0) {
		snprintf(text, sizeof(text),
			 "AssociateAddress to %s allowed (DryRun)",
			 it->ids->self_instance);
		resource_item_selftest_done(it, 1, text);
		return;
	}
	ec2_result_fix(it->ec2, res, fix, sizeof(fix));
	snprintf(text, sizeof(text),
		 "AssociateAddress to %s (DryRun): %s: %.120s; fix: %s",
		 it->ids->self_instance, res->code, res->message, fix);
	resource_item_selftest_done(it, 0, text);
}

static void
eip_selftest(struct resource_item *it)
{
	struct eip *e = it->priv;
	struct ec2_associate_args a = {
		.allocation_id = e->alloc_id,
		.instance_id = it->ids->self_instance,
		.network_interface_id = it->ids->self_eni,
		.dry_run = 1,
	};

	if (e->dry != NULL || e->alloc_id[0] == '\0' || it->ec2 == NULL ||
	    (it->ids->self_instance[0] == '\0' && it->ids->self_eni[0] == '\0'))
		return;
	e->dry = ec2_associate_address(it->ec2, &a, NULL, on_dry_run, it);
}

static void
eip_describe(const struct resource_item *it, char *buf, size_t len)
{
	const struct eip *e = it->priv;
	char seen[2 * EC2_ID_MAX + 96];

	assoc_describe(&e->seen, util_now_ms(), seen, sizeof(seen));
	snprintf(buf, len, "%s%s%s", seen,
		 e->assoc ? ", associate in flight" : "",
		 loop_defer_pending(&e->reread) ? ", reading again" : "");
}

const struct resource_driver resource_eip_driver = {
	.type = "eip",
	.needs_aws = 1,
	.init = eip_init,
	.fini = eip_fini,
	.prepare = eip_prepare,
	.verify = eip_verify,
	.acquire = eip_acquire,
	.cancel = eip_cancel,
	.selftest = eip_selftest,
	.describe = eip_describe,
};
