/*
 * resource_route.c - the route driver: a destination (an overlay IP's /32,
 * usually outside the VPC's range) in one or more route tables, pointed at
 * this node's interface with ReplaceRoute (CreateRoute when the table has
 * no such route yet). Route tables are VPC-wide, so this is the private
 * address that crosses Availability Zones. DescribeRouteTables says where
 * each table points; with local_address the address also goes on the host.
 * Routing to an instance needs its source/destination check disabled:
 * start-up checks (DescribeNetworkInterfaceAttribute) and says how to fix.
 */
#include "log.h"
#include "resource_net.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NT CONFIG_ROUTE_TABLES_MAX

/* A write's argument: which table it is for. */
struct write_ctx {
	struct resource_item *it;
	unsigned table;
};

struct route {
	struct rnet_enis enis;
	struct rnet_host host;
	struct rnet_claim claim;
	struct ec2_call *prep, *desc, *dry, *sdc;
	/* acquire: one write per table, in parallel */
	struct ec2_call *write[NT];
	int created[NT]; /* CreateRoute was tried for that table */
	struct write_ctx wctx[NT];
	struct rnet_resolving resolving;
	unsigned writes_left, failed;
	char err[600];
	int want_host;
};

static void on_reread(void *arg);

static int
route_init(struct resource_item *it)
{
	struct route *r = calloc(1, sizeof(*r));
	char ip[CONFIG_ADDRSTR_MAX];
	char *slash;

	if (r == NULL)
		return -1;
	util_strlcpy(it->name, it->cfg.destination, sizeof(it->name));
	util_strlcpy(ip, it->cfg.destination, sizeof(ip));
	slash = strchr(ip, '/');
	if (slash != NULL)
		*slash = '\0';
	inet_pton(AF_INET, ip, &r->host.addr);
	r->host.prefixlen = 32;
	rnet_claim_init(&r->claim, it, on_reread);
	for (unsigned i = 0; i < NT; i++)
		r->wctx[i] = (struct write_ctx){.it = it, .table = i};
	it->priv = r;
	return 0;
}

static void
cancel_writes(struct route *r)
{
	for (unsigned i = 0; i < NT; i++) {
		ec2_cancel(r->write[i]);
		r->write[i] = NULL;
	}
	r->writes_left = 0;
}

static void
route_cancel(struct resource_item *it)
{
	struct route *r = it->priv;

	ec2_cancel(r->prep);
	ec2_cancel(r->desc);
	r->prep = r->desc = NULL;
	cancel_writes(r);
	rnet_claim_cancel(&r->claim);
}

static void
route_fini(struct resource_item *it)
{
	struct route *r = it->priv;

	route_cancel(it);
	ec2_cancel(r->dry);
	ec2_cancel(r->sdc);
	free(r);
	it->priv = NULL;
}

static const char *const *
tables(const struct resource_item *it, const char **t)
{
	for (unsigned i = 0; i < it->cfg.nroute_tables && i < NT; i++)
		t[i] = it->cfg.route_tables[i];
	return t;
}

/* ---- prepare: the interface, then the tables must exist ---- */

static void
on_sdc(void *arg, const struct ec2_result *res)
{
	struct resource_item *it = arg;
	struct route *r = it->priv;

	r->sdc = NULL;
	if (res->rc != 0)
		log_warn("resource %s: cannot read the source/destination "
			 "check of %s: DescribeNetworkInterfaceAttribute: %s: "
			 "%s%s",
			 it->name, r->enis.eni, res->code, res->message,
			 strcmp(res->code, "UnauthorizedOperation") == 0
			     ? " (allow ec2:DescribeNetworkInterfaceAttribute "
			       "in the instance role)"
			     : "");
	else if (res->source_dest_check)
		log_warn("resource %s: %s has its source/destination check "
			 "enabled, so it drops traffic routed to %s; fix: aws "
			 "ec2 modify-network-interface-attribute "
			 "--network-interface-id %s --no-source-dest-check",
			 it->name, r->enis.eni, it->cfg.destination,
			 r->enis.eni);
	else
		log_info("resource %s: %s has its source/destination check "
			 "disabled",
			 it->name, r->enis.eni);
}

static void
on_tables_checked(void *arg, const struct ec2_result *res)
{
	struct resource_item *it = arg;
	struct route *r = it->priv;
	char why[700];

	r->prep = NULL;
	if (res->rc != 0) {
		snprintf(why, sizeof(why),
			 "%.64s: DescribeRouteTables: %s: %.400s", it->name,
			 res->code, res->message);
		resource_item_done(it, RESOURCE_OP_PREPARE, -1, why);
		return;
	}
	log_info("resource %s routes to %s in %u table%s", it->name,
		 r->enis.eni, it->cfg.nroute_tables,
		 it->cfg.nroute_tables == 1 ? "" : "s");
	ec2_cancel(r->sdc);
	r->sdc =
	    ec2_describe_source_dest_check(it->ec2, r->enis.eni, on_sdc, it);
	if (r->want_host && it->cfg.local_address)
		rnet_host_up(&r->host, it, &r->enis);
	resource_item_done(it, RESOURCE_OP_PREPARE, 0, NULL);
}

static void
resolved(struct resource_item *it, const struct rnet_enis *e, const char *why)
{
	struct route *r = it->priv;
	const char *t[NT];

	r->prep = NULL;
	if (e == NULL) {
		resource_item_done(it, RESOURCE_OP_PREPARE, -1, why);
		return;
	}
	r->enis = *e;
	r->prep = ec2_describe_route_tables(
	    it->ec2, tables(it, t), it->cfg.nroute_tables, it->cfg.destination,
	    on_tables_checked, it);
	if (r->prep == NULL)
		resource_item_done(it, RESOURCE_OP_PREPARE, -1,
				   "cannot start DescribeRouteTables");
}

static void
route_prepare(struct resource_item *const *items, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct resource_item *it = items[i];
		struct route *r = it->priv;

		ec2_cancel(r->prep);
		r->prep = rnet_resolve(it, &r->resolving, resolved);
		if (r->prep == NULL)
			resource_item_done(it, RESOURCE_OP_PREPARE, -1,
					   "cannot start "
					   "DescribeNetworkInterfaces");
	}
}

/* ---- verify ---- */

static void verify_one(struct resource_item *it);

static void
on_reread(void *arg)
{
	verify_one(arg);
}

/* One table's route: whose, and what to show for it. */
static enum resource_owner
table_owner(const struct resource_item *it, const struct route *r,
	    const struct ec2_route_table *t, const char **shown)
{
	if (!t->has_route) {
		*shown = "no route";
		return RES_OWNER_NONE;
	}
	*shown = t->eni[0]	     ? t->eni
		 : t->instance_id[0] ? t->instance_id
		 : t->gateway[0]     ? t->gateway
				     : "another target";
	if (t->eni[0] == '\0' && t->instance_id[0] == '\0')
		return RES_OWNER_OTHER;
	return rnet_classify(it, &r->enis, t->instance_id, t->eni);
}

static void
on_described(void *arg, const struct ec2_result *res)
{
	struct resource_item *it = arg;
	struct route *r = it->priv;
	enum resource_owner owner = RES_OWNER_SELF;
	const char *shown = r->enis.eni, *owner_id = NULL;
	char why[700];

	r->desc = NULL;
	if (res->rc != 0) {
		snprintf(why, sizeof(why), "DescribeRouteTables: %s: %s",
			 res->code, res->message);
		resource_item_seen(it, RES_OWNER_UNKNOWN, NULL,
				   "describe failed");
		resource_item_done(it, RESOURCE_OP_VERIFY, -1, why);
		return;
	}
	/* Every table must point here; the first that does not speaks. */
	for (unsigned i = 0; i < it->cfg.nroute_tables; i++) {
		const struct ec2_route_table *t = NULL;
		enum resource_owner o;
		const char *sh;

		for (size_t j = 0; j < res->ntables && t == NULL; j++)
			if (strcmp(res->tables[j].id,
				   it->cfg.route_tables[i]) == 0)
				t = &res->tables[j];
		if (t == NULL) {
			snprintf(why, sizeof(why),
				 "DescribeRouteTables did not list %s",
				 it->cfg.route_tables[i]);
			resource_item_seen(it, RES_OWNER_UNKNOWN, NULL,
					   "describe");
			resource_item_done(it, RESOURCE_OP_VERIFY, -1, why);
			return;
		}
		o = table_owner(it, r, t, &sh);
		if (o != RES_OWNER_SELF && owner == RES_OWNER_SELF) {
			owner = o;
			shown = sh;
			owner_id = t->instance_id[0] ? t->instance_id
				   : t->eni[0]	     ? t->eni
						     : t->gateway;
		}
	}
	switch (
	    rnet_claim_judge(&r->claim, it, owner, shown, why, sizeof(why))) {
	case 0:
		return;
	case -1:
		resource_item_seen(it, RES_OWNER_UNKNOWN, NULL, "describe");
		resource_item_done(it, RESOURCE_OP_VERIFY, -1, why);
		return;
	}
	if (owner == RES_OWNER_SELF)
		owner_id = it->ids->self_instance[0] ? it->ids->self_instance
						     : r->enis.eni;
	if (owner == RES_OWNER_SELF && r->want_host && it->cfg.local_address)
		rnet_host_check(&r->host, it, &r->enis);
	resource_item_seen(it, owner, owner_id, "describe");
	resource_item_done(it, RESOURCE_OP_VERIFY, 0, NULL);
}

static void
verify_one(struct resource_item *it)
{
	struct route *r = it->priv;
	const char *t[NT];

	ec2_cancel(r->desc);
	loop_defer_cancel(&r->claim.again);
	r->desc = ec2_describe_route_tables(
	    it->ec2, tables(it, t), it->cfg.nroute_tables, it->cfg.destination,
	    on_described, it);
	if (r->desc == NULL) {
		resource_item_seen(it, RES_OWNER_UNKNOWN, NULL,
				   "describe failed");
		resource_item_done(it, RESOURCE_OP_VERIFY, -1,
				   "cannot start DescribeRouteTables");
	}
}

static void
route_verify(struct resource_item *const *items, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		verify_one(items[i]);
}

/* ---- acquire: every table at once ---- */

static void on_written(void *arg, const struct ec2_result *res);

static struct ec2_call *
write_table(struct resource_item *it, unsigned i, int create)
{
	struct route *r = it->priv;
	struct ec2_route_args a = {
	    .table_id = it->cfg.route_tables[i],
	    .destination = it->cfg.destination,
	    .eni = r->enis.eni,
	    .create = create,
	};

	return ec2_replace_route(it->ec2, &a, on_written, &r->wctx[i]);
}

static void
all_written(struct resource_item *it)
{
	struct route *r = it->priv;
	char why[700];

	if (r->failed) {
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, r->err);
		return;
	}
	rnet_claim_written(&r->claim, r->enis.eni);
	resource_item_seen(it, RES_OWNER_SELF,
			   it->ids->self_instance[0] ? it->ids->self_instance
						     : r->enis.eni,
			   "replace route");
	if (it->cfg.local_address &&
	    rnet_host_add(&r->host, it, &r->enis, why, sizeof(why)) == -1) {
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
		return;
	}
	resource_item_done(it, RESOURCE_OP_ACQUIRE, 0, NULL);
}

/*
 * ReplaceRoute on a table without the route: AWS answers
 * InvalidParameterValue ("There is no route defined for ... Use
 * CreateRoute instead."), the error reference names InvalidRoute.NotFound.
 * Either is worth one CreateRoute: if the value was bad for another
 * reason, CreateRoute says so itself.
 */
static int
no_such_route(const struct ec2_result *res)
{
	return strcmp(res->code, "InvalidRoute.NotFound") == 0 ||
	       strcmp(res->code, "InvalidParameterValue") == 0;
}

static void
on_written(void *arg, const struct ec2_result *res)
{
	struct write_ctx *w = arg;
	struct resource_item *it = w->it;
	struct route *r = it->priv;
	unsigned i = w->table;

	r->write[i] = NULL;
	if (res->attempts > it->attempts)
		it->attempts = res->attempts;
	if (res->elapsed_ms > it->elapsed_ms)
		it->elapsed_ms = res->elapsed_ms;
	/* Missing: create it. Created meanwhile by someone: replace it. */
	if (res->rc != 0 && !r->created[i] &&
	    (no_such_route(res) ||
	     strcmp(res->code, "RouteAlreadyExists") == 0)) {
		r->created[i] = 1;
		log_info("resource %s: %s in %s: %s; %s", it->name,
			 ec2_action_name(res->action), it->cfg.route_tables[i],
			 res->code,
			 no_such_route(res) ? "creating the route"
					    : "replacing it");
		r->write[i] = write_table(it, i, no_such_route(res));
		if (r->write[i] != NULL)
			return;
	}
	if (res->rc != 0 && r->failed++ == 0)
		snprintf(r->err, sizeof(r->err),
			 "%s %.64s in %s: %s: %.300s (after %u attempt%s)",
			 ec2_action_name(res->action), it->name,
			 it->cfg.route_tables[i], res->code, res->message,
			 res->attempts, res->attempts == 1 ? "" : "s");
	if (--r->writes_left == 0)
		all_written(it);
}

static void
route_acquire(struct resource_item *it)
{
	struct route *r = it->priv;
	char why[CONFIG_PATH_MAX + 64];

	cancel_writes(r);
	it->attempts = 0;
	it->elapsed_ms = 0;
	r->failed = 0;
	r->err[0] = '\0';
	if (!r->enis.known || it->ec2 == NULL) {
		snprintf(why, sizeof(why), "%s: not prepared", it->name);
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
		return;
	}
	for (unsigned i = 0; i < it->cfg.nroute_tables; i++) {
		r->created[i] = 0;
		r->write[i] = write_table(it, i, 0);
		if (r->write[i] == NULL) {
			cancel_writes(r);
			snprintf(why, sizeof(why),
				 "%s: cannot start "
				 "ReplaceRoute",
				 it->name);
			resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
			return;
		}
		r->writes_left++;
	}
}

/* ---- the rest ---- */

static int dry_run(struct resource_item *it, int create);

static void
on_dry_run(void *arg, const struct ec2_result *res)
{
	struct resource_item *it = arg;
	struct route *r = it->priv;
	char text[sizeof(it->perm_text) + 400], fix[300];

	r->dry = NULL;
	/* No route in that table yet: the first acquire creates it. */
	if (res->rc != 0 && res->action == EC2_REPLACE_ROUTE &&
	    no_such_route(res) && dry_run(it, 1) == 0)
		return;
	if (res->rc == 0) {
		snprintf(text, sizeof(text), "%s in %s to %s allowed (DryRun)",
			 ec2_action_name(res->action), it->cfg.route_tables[0],
			 r->enis.eni);
		resource_item_selftest_done(it, 1, text);
		return;
	}
	ec2_result_fix(it->ec2, res, fix, sizeof(fix));
	snprintf(text, sizeof(text),
		 "%s in %s to %s (DryRun): %s: %.120s; fix: %s",
		 ec2_action_name(res->action), it->cfg.route_tables[0],
		 r->enis.eni, res->code, res->message, fix);
	resource_item_selftest_done(it, 0, text);
}

/* ReplaceRoute (create 0) or CreateRoute with DryRun in the first table. */
static int
dry_run(struct resource_item *it, int create)
{
	struct route *r = it->priv;
	struct ec2_route_args a = {
	    .table_id = it->cfg.route_tables[0],
	    .destination = it->cfg.destination,
	    .eni = r->enis.eni,
	    .create = create,
	    .dry_run = 1,
	};

	r->dry = ec2_replace_route(it->ec2, &a, on_dry_run, it);
	return r->dry != NULL ? 0 : -1;
}

static void
route_selftest(struct resource_item *it)
{
	struct route *r = it->priv;

	if (r->dry != NULL || !r->enis.known || it->ec2 == NULL)
		return;
	dry_run(it, 0);
}

static void
route_host(struct resource_item *it, int active)
{
	struct route *r = it->priv;

	r->want_host = active;
	if (!it->cfg.local_address)
		return;
	if (!active)
		rnet_host_remove(&r->host, it);
	else if (r->enis.known)
		rnet_host_up(&r->host, it, &r->enis);
}

static void
route_describe(const struct resource_item *it, char *buf, size_t len)
{
	const struct route *r = it->priv;
	char claim[160], host[64] = "";

	rnet_claim_describe(&r->claim, claim, sizeof(claim));
	if (it->cfg.local_address)
		rnet_host_describe(&r->host, host, sizeof(host));
	snprintf(buf, len, "%s%s%s", claim, host,
		 r->writes_left ? ", route writes in flight" : "");
}

static int
route_needs_net_admin(const struct config_resource *c)
{
	return c->local_address;
}

const struct resource_driver resource_route_driver = {
    .type = "route",
    .needs_aws = 1,
    .needs_interface = 1,
    .init = route_init,
    .fini = route_fini,
    .prepare = route_prepare,
    .verify = route_verify,
    .acquire = route_acquire,
    .cancel = route_cancel,
    .selftest = route_selftest,
    .describe = route_describe,
    .host = route_host,
    .needs_net_admin = route_needs_net_admin,
};
