/*
 * resource_secip.c - the secondary private IP driver: DescribeNetworkInterfaces
 * says which interface holds the address, AssignPrivateIpAddresses with
 * AllowReassignment moves it to this node's interface in one write, and
 * the address goes on the host's matching interface (netlink, with a
 * gratuitous ARP). A secondary IP belongs to one subnet: only nodes in the
 * same subnet can float it (start-up warns when they are not).
 */
#include "imds.h"
#include "log.h"
#include "resource_net.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct secip {
	struct rnet_enis enis;
	struct rnet_host host;
	struct rnet_claim claim;
	struct ec2_call *prep, *desc, *assign, *dry;
	struct rnet_resolving resolving;
	struct ec2_call *recheck; /* the peer's subnet, once it is known */
	struct rnet_resolving rechecking;
	int peer_checked;
	/* ACTIVE: on the host as soon as the interface is known */
	int want_host;
	/* After an assignment: IMDS local-ipv4s shows when the remap is done */
	struct imds_req *remap;
	struct loop_defer remap_again;
	uint64_t remap_from; /* monotonic ms of the assignment's answer */
	uint64_t remap_ms;   /* how long it took, once seen (0: not yet) */
	int remap_seen;
};

/* How long IMDS local-ipv4s is watched after an assignment, and how often. */
#define REMAP_WATCH_MS 30000u
#define REMAP_POLL_MS 1000u

static void on_reread(void *arg);
static void remap_poll(void *arg);

static int
secip_init(struct resource_item *it)
{
	struct secip *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	util_strlcpy(it->name, it->cfg.address, sizeof(it->name));
	inet_pton(AF_INET, it->cfg.address, &s->host.addr);
	s->host.garp = 1;
	rnet_claim_init(&s->claim, it, on_reread);
	loop_defer_init(&s->remap_again, it->loop, remap_poll, it);
	it->priv = s;
	return 0;
}

static void
secip_cancel(struct resource_item *it)
{
	struct secip *s = it->priv;

	ec2_cancel(s->prep);
	ec2_cancel(s->desc);
	ec2_cancel(s->assign);
	ec2_cancel(s->recheck);
	s->prep = s->desc = s->assign = s->recheck = NULL;
	rnet_claim_cancel(&s->claim);
}

static void
secip_fini(struct resource_item *it)
{
	struct secip *s = it->priv;

	secip_cancel(it);
	ec2_cancel(s->dry);
	imds_cancel(s->remap);
	loop_defer_cancel(&s->remap_again);
	free(s);
	it->priv = NULL;
}

/* ---- prepare: this node's interface, and the subnet rule ---- */

/* Said once the peer's interface is known (at start, or when the peer's
 * instance id arrives with its heartbeats: see verify_one). */
static void
subnet_rule(struct resource_item *it)
{
	struct secip *s = it->priv;
	const struct rnet_enis *e = &s->enis;

	if (e->peer_subnet[0] == '\0') {
		log_info("resource %s: the peer's interface is not known yet; "
			 "its subnet is checked once it is",
			 it->name);
		return;
	}
	s->peer_checked = 1;
	if (strcmp(e->peer_subnet, e->subnet) != 0)
		log_warn("resource %s: this node's %s is in %s (%s), the "
			 "peer's %s in %s (%s): a secondary private IP cannot "
			 "move between subnets; put both nodes in one subnet, "
			 "or float a route (type = \"route\") instead",
			 it->name, e->eni, e->subnet, e->az, e->peer_eni,
			 e->peer_subnet, e->peer_az);
}

static void
rechecked(struct resource_item *it, const struct rnet_enis *e,
	  const char *why)
{
	struct secip *s = it->priv;

	s->recheck = NULL;
	if (e == NULL || e->peer_subnet[0] == '\0')
		return; /* asked again at the next verify */
	util_strlcpy(s->enis.peer_eni, e->peer_eni, sizeof(s->enis.peer_eni));
	util_strlcpy(s->enis.peer_subnet, e->peer_subnet,
		     sizeof(s->enis.peer_subnet));
	util_strlcpy(s->enis.peer_az, e->peer_az, sizeof(s->enis.peer_az));
	subnet_rule(it);
}

static void
resolved(struct resource_item *it, const struct rnet_enis *e, const char *why)
{
	struct secip *s = it->priv;

	s->prep = NULL;
	if (e == NULL) {
		resource_item_done(it, RESOURCE_OP_PREPARE, -1, why);
		return;
	}
	s->enis = *e;
	subnet_rule(it);
	log_info("resource %s floats to %s (%s)", it->name, e->eni, e->subnet);
	if (s->want_host)
		rnet_host_up(&s->host, it, &s->enis);
	resource_item_done(it, RESOURCE_OP_PREPARE, 0, NULL);
}

static void
secip_prepare(struct resource_item *const *items, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct resource_item *it = items[i];
		struct secip *s = it->priv;

		ec2_cancel(s->prep);
		s->prep = rnet_resolve(it, &s->resolving, resolved);
		if (s->prep == NULL)
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

static void
on_described(void *arg, const struct ec2_result *res)
{
	struct resource_item *it = arg;
	struct secip *s = it->priv;
	const struct ec2_eni *holder = NULL;
	enum resource_owner owner;
	char why[700];

	s->desc = NULL;
	if (res->rc != 0) {
		snprintf(why, sizeof(why), "DescribeNetworkInterfaces: %s: %s",
			 res->code, res->message);
		resource_item_seen(it, RES_OWNER_UNKNOWN, NULL,
				   "describe failed");
		resource_item_done(it, RESOURCE_OP_VERIFY, -1, why);
		return;
	}
	for (size_t i = 0; i < res->nenis && holder == NULL; i++)
		for (unsigned j = 0; j < res->enis[i].nips; j++)
			if (strcmp(res->enis[i].ips[j], it->cfg.address) == 0)
				holder = &res->enis[i];
	owner = holder ? rnet_classify(it, &s->enis, holder->instance_id,
				       holder->id)
		       : RES_OWNER_NONE;
	switch (rnet_claim_judge(&s->claim, it, owner,
				 holder ? holder->id : "no interface", why,
				 sizeof(why))) {
	case 0:
		return; /* read again; the question stays open */
	case -1:
		resource_item_seen(it, RES_OWNER_UNKNOWN, NULL, "describe");
		resource_item_done(it, RESOURCE_OP_VERIFY, -1, why);
		return;
	}
	if (owner == RES_OWNER_SELF && s->want_host)
		rnet_host_check(&s->host, it, &s->enis);
	resource_item_seen(
	    it, owner,
	    holder ? (holder->instance_id[0] ? holder->instance_id : holder->id)
		   : NULL,
	    "describe");
	resource_item_done(it, RESOURCE_OP_VERIFY, 0, NULL);
}

static void
verify_one(struct resource_item *it)
{
	struct secip *s = it->priv;

	ec2_cancel(s->desc);
	loop_defer_cancel(&s->claim.again);
	if (!s->peer_checked && s->enis.known && s->recheck == NULL &&
	    it->ids->peer_instance[0] != '\0')
		s->recheck = rnet_resolve(it, &s->rechecking, rechecked);
	s->desc = ec2_describe_network_interfaces(
	    it->ec2, NULL, 0, it->cfg.address, on_described, it);
	if (s->desc == NULL) {
		resource_item_seen(it, RES_OWNER_UNKNOWN, NULL,
				   "describe failed");
		resource_item_done(it, RESOURCE_OP_VERIFY, -1,
				   "cannot start DescribeNetworkInterfaces");
	}
}

static void
secip_verify(struct resource_item *const *items, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		verify_one(items[i]);
}

/* ---- acquire ---- */

/*
 * AssignPrivateIpAddresses answers before the remap is done; the
 * instance's IMDS local-ipv4s lists the address once it is. Watched for
 * the log and the dump only: the answer is the commit, as for an EIP.
 */
static void
on_local_ipv4s(void *arg, const char *body, size_t len, const char *err)
{
	struct resource_item *it = arg;
	struct secip *s = it->priv;
	size_t n = strlen(it->cfg.address);
	uint64_t now = util_now_ms();

	s->remap = NULL;
	for (size_t i = 0; body != NULL && i + n <= len; i++)
		if ((i == 0 || body[i - 1] == '\n') &&
		    memcmp(body + i, it->cfg.address, n) == 0 &&
		    (i + n == len || body[i + n] == '\n' ||
		     body[i + n] == '\r')) {
			s->remap_seen = 1;
			s->remap_ms = now - s->remap_from;
			log_info("resource %s: IMDS local-ipv4s lists it %llu ms "
				 "after the assignment (the remap is complete)",
				 it->name, (unsigned long long)s->remap_ms);
			return;
		}
	if (now - s->remap_from + REMAP_POLL_MS > REMAP_WATCH_MS) {
		log_warn("resource %s: IMDS local-ipv4s still does not list it "
			 "%u s after the assignment%s%s",
			 it->name, REMAP_WATCH_MS / 1000,
			 err ? ": " : "", err ? err : "");
		return;
	}
	loop_defer_after(&s->remap_again, REMAP_POLL_MS);
}

static void
remap_poll(void *arg)
{
	struct resource_item *it = arg;
	struct secip *s = it->priv;
	char path[160];

	snprintf(path, sizeof(path),
		 "/latest/meta-data/network/interfaces/macs/%s/local-ipv4s",
		 s->enis.mac);
	s->remap = imds_get(it->imds, path, on_local_ipv4s, it);
}

static void
remap_watch(struct resource_item *it)
{
	struct secip *s = it->priv;

	imds_cancel(s->remap);
	s->remap = NULL;
	loop_defer_cancel(&s->remap_again);
	s->remap_seen = 0;
	s->remap_ms = 0;
	s->remap_from = util_now_ms();
	if (it->imds != NULL && !imds_disabled(it->imds) && s->enis.mac[0])
		remap_poll(it);
}

static void
on_assigned(void *arg, const struct ec2_result *res)
{
	struct resource_item *it = arg;
	struct secip *s = it->priv;
	char why[700];

	s->assign = NULL;
	it->attempts = res->attempts;
	it->elapsed_ms = res->elapsed_ms;
	if (res->rc != 0) {
		snprintf(why, sizeof(why),
			 "assign %.64s to %s: %s: %.400s (after %u attempt%s)",
			 it->name, s->enis.eni, res->code, res->message,
			 res->attempts, res->attempts == 1 ? "" : "s");
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
		return;
	}
	/* The commit: from now on, reads showing another interface are
	 * stale until one shows ours. */
	rnet_claim_written(&s->claim, s->enis.eni);
	remap_watch(it);
	resource_item_seen(it, RES_OWNER_SELF,
			   it->ids->self_instance[0] ? it->ids->self_instance
						     : s->enis.eni,
			   "assign");
	if (rnet_host_add(&s->host, it, &s->enis, why, sizeof(why)) == -1) {
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
		return;
	}
	resource_item_done(it, RESOURCE_OP_ACQUIRE, 0, NULL);
}

static void
secip_acquire(struct resource_item *it)
{
	struct secip *s = it->priv;
	char why[CONFIG_PATH_MAX + 64];

	ec2_cancel(s->assign);
	s->assign = NULL;
	it->attempts = 0;
	if (!s->enis.known || it->ec2 == NULL) {
		snprintf(why, sizeof(why), "%s: not prepared", it->name);
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
		return;
	}
	s->assign = ec2_assign_private_ip(it->ec2, s->enis.eni, it->cfg.address,
					  0, on_assigned, it);
	if (s->assign == NULL) {
		snprintf(why, sizeof(why), "assign %s: cannot start", it->name);
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
	}
}

/* ---- the rest ---- */

static void
on_dry_run(void *arg, const struct ec2_result *res)
{
	struct resource_item *it = arg;
	struct secip *s = it->priv;
	char text[sizeof(it->perm_text) + 400], fix[300];

	s->dry = NULL;
	if (res->rc == 0) {
		snprintf(text, sizeof(text),
			 "AssignPrivateIpAddresses to %s allowed (DryRun)",
			 s->enis.eni);
		resource_item_selftest_done(it, 1, text);
		return;
	}
	ec2_result_fix(it->ec2, res, fix, sizeof(fix));
	snprintf(text, sizeof(text),
		 "AssignPrivateIpAddresses to %s (DryRun): %s: %.120s; fix: %s",
		 s->enis.eni, res->code, res->message, fix);
	resource_item_selftest_done(it, 0, text);
}

static void
secip_selftest(struct resource_item *it)
{
	struct secip *s = it->priv;

	if (s->dry != NULL || !s->enis.known || it->ec2 == NULL)
		return;
	s->dry = ec2_assign_private_ip(it->ec2, s->enis.eni, it->cfg.address, 1,
				       on_dry_run, it);
}

static void
secip_host(struct resource_item *it, int active)
{
	struct secip *s = it->priv;

	s->want_host = active;
	if (!active) {
		/* Not ours any more: its remap is none of our business. */
		imds_cancel(s->remap);
		s->remap = NULL;
		loop_defer_cancel(&s->remap_again);
		rnet_host_remove(&s->host, it);
	}
	else if (s->enis.known)
		rnet_host_up(&s->host, it, &s->enis);
}

static void
secip_describe(const struct resource_item *it, char *buf, size_t len)
{
	const struct secip *s = it->priv;
	char claim[160], host[64];

	char remap[64] = "";

	rnet_claim_describe(&s->claim, claim, sizeof(claim));
	rnet_host_describe(&s->host, host, sizeof(host));
	if (s->remap_seen)
		snprintf(remap, sizeof(remap), ", remap seen in IMDS after "
			 "%llu ms", (unsigned long long)s->remap_ms);
	else if (s->remap != NULL || loop_defer_pending(&s->remap_again))
		snprintf(remap, sizeof(remap), ", remap not in IMDS yet");
	snprintf(buf, len, "%s%s%s%s", claim, host, remap,
		 s->assign ? ", assign in flight" : "");
}

static int
secip_needs_net_admin(const struct config_resource *r)
{
	return 1;
}

const struct resource_driver resource_secip_driver = {
    .type = "secondary_ip",
    .needs_aws = 1,
    .needs_interface = 1,
    .init = secip_init,
    .fini = secip_fini,
    .prepare = secip_prepare,
    .verify = secip_verify,
    .acquire = secip_acquire,
    .cancel = secip_cancel,
    .selftest = secip_selftest,
    .describe = secip_describe,
    .host = secip_host,
    .needs_net_admin = secip_needs_net_admin,
};
