/*
 * checkaws.c - `eipfloatd check-aws`: IMDSv2 and the instance identity,
 * the credentials, DescribeAddresses and a DryRun AssociateAddress for each
 * Elastic IP; for private addresses this node's interface, the subnet rule,
 * its source/destination check and each route table; the peer's instance
 * id, and a reminder about the security group. One line per check, and under each failure the exact fix. The
 * steps run one after another on a private loop, through the same ec2,
 * imds and creds modules the daemon uses.
 */
#include "checkaws.h"
#include "config.h"
#include "creds.h"
#include "ctl_client.h"
#include "daemon.h"
#include "ec2.h"
#include "http.h"
#include "imds.h"
#include "resource_net.h"
#include "util.h"

#include <ev.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_DEADLINE_S 90.

struct chk {
	struct ev_loop *loop;
	const struct config *cfg;
	struct http_ctx *http;
	struct imds_ctx *imds;
	struct creds_ctx *creds;
	struct ec2_ctx *ec2;
	ev_timer deadline;
	char instance[CONFIG_ID_MAX];
	char region[CONFIG_NAME_MAX];
	char endpoint[CONFIG_PATH_MAX];
	char alloc[CONFIG_MAX_RESOURCES][EC2_ID_MAX];
	unsigned res; /* the resource being checked */
	unsigned failures;
	char eni[EC2_ID_MAX]; /* this node's interface, for private addresses */
};

static void step_creds(struct chk *k);
static void step_describe(struct chk *k);
static void step_dry_run(struct chk *k);
static void step_net(struct chk *k);
static void finish(struct chk *k);

static void pass(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(struct chk *k, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
pass(const char *fmt, ...)
{
	va_list ap;

	fputs("\u2713 ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
fail(struct chk *k, const char *fix, const char *fmt, ...)
{
	va_list ap;

	k->failures++;
	fputs("\u2717 ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n    fix: %s\n", fix);
}

static const struct config_resource *
eip(const struct chk *k, unsigned i)
{
	const struct config_resource *r = &k->cfg->resources[i];

	return r->type == CONFIG_RES_EIP ? r : NULL;
}

/* ---- IMDSv2 and the instance identity ---- */

static void
on_identity(void *arg, const struct imds_identity *id, const char *err)
{
	struct chk *k = arg;
	const struct config *c = k->cfg;

	if (id == NULL) {
		char fix[512];

		if (imds_disabled(k->imds))
			snprintf(fix, sizeof(fix),
				 "unset AWS_EC2_METADATA_DISABLED (it turns "
				 "the metadata service off), or set this "
				 "node's instance_id and aws.region");
		else
			snprintf(
			    fix, sizeof(fix),
			    "on EC2, enable IMDSv2 on this instance: aws ec2 "
			    "modify-instance-metadata-options --instance-id ID "
			    "--http-endpoint enabled --http-tokens required "
			    "--http-put-response-hop-limit 2 (2 hops in a "
			    "container); or set aws.imds_endpoint to where it "
			    "answers (now %s)",
			    imds_endpoint(k->imds));
		fail(k, fix, "IMDSv2 not reachable at %s: %s",
		     imds_endpoint(k->imds), err);
	} else {
		pass("IMDSv2 at %s: instance %s in Region %s (AZ %s)",
		     imds_endpoint(k->imds), id->instance_id, id->region,
		     id->availability_zone);
		if (k->instance[0] == '\0')
			util_strlcpy(k->instance, id->instance_id,
				     sizeof(k->instance));
		if (k->region[0] == '\0')
			util_strlcpy(k->region, id->region, sizeof(k->region));
	}
	if (k->instance[0] == '\0' || k->region[0] == '\0') {
		fail(k,
		     "make IMDSv2 answer (above), or set this node's "
		     "instance_id in nodes[] and aws.region",
		     "this instance's id and Region are unknown: the EC2 "
		     "checks cannot run");
		finish(k);
		return;
	}
	if (c->endpoint[0])
		util_strlcpy(k->endpoint, c->endpoint, sizeof(k->endpoint));
	else
		snprintf(k->endpoint, sizeof(k->endpoint),
			 "https://ec2.%s.amazonaws.com", k->region);
	step_creds(k);
}

/* ---- credentials ---- */

static void
on_creds(void *arg, const struct creds *cr, const char *err)
{
	struct chk *k = arg;
	struct ec2_params p = {
	    .region = k->region,
	    .endpoint = k->endpoint,
	    .ca_file = k->cfg->ca_file,
	    .timeout_ms = k->cfg->aws_timeout_ms,
	};
	uint64_t exp;

	if (cr == NULL) {
		fail(k,
		     "attach an IAM role (instance profile) to this "
		     "instance, or set AWS_ACCESS_KEY_ID and "
		     "AWS_SECRET_ACCESS_KEY, or aws.profile with a shared "
		     "credentials file",
		     "no AWS credentials: %s", err);
		finish(k);
		return;
	}
	exp = creds_current_expiration(k->creds);
	if (exp) {
		char when[32];

		util_format_wall(exp, when, sizeof(when));
		pass("credentials from %s, expire %s (in %lld min)",
		     creds_source_name(creds_current_source(k->creds)), when,
		     (long long)((int64_t)(exp - util_wall_ms()) / 60000));
	} else {
		pass("credentials from %s, no expiry",
		     creds_source_name(creds_current_source(k->creds)));
	}
	k->ec2 = ec2_new(k->loop, k->http, k->creds, &p);
	if (k->ec2 == NULL) {
		fail(k, "check aws.endpoint and aws.region",
		     "cannot set up the EC2 client for %s", k->endpoint);
		finish(k);
		return;
	}
	k->res = 0;
	while (k->res < k->cfg->nresources && eip(k, k->res) == NULL)
		k->res++;
	if (k->res == k->cfg->nresources)
		pass("no Elastic IP in resources[]: no EC2 call to check");
	step_describe(k);
}

static void
step_creds(struct chk *k)
{
	creds_get(k->creds, on_creds, k);
}

/* ---- each Elastic IP: DescribeAddresses, then DryRun AssociateAddress ---- */

static const char *
api_fix(const struct chk *k, const char *code, const char *action)
{
	static char fix[1400];

	ec2_fix_text(code, action, k->region, k->endpoint, fix, sizeof(fix));
	return fix;
}

static void
describe_line(struct chk *k, const struct ec2_address *a)
{
	const struct config *c = k->cfg;
	const char *who = "another instance";

	util_strlcpy(k->alloc[k->res], a->allocation_id,
		     sizeof(k->alloc[k->res]));
	if (a->instance_id[0] == '\0') {
		pass("DescribeAddresses %s (%s): not associated",
		     a->allocation_id, a->public_ip);
		return;
	}
	if (strcmp(a->instance_id, k->instance) == 0)
		who = "this instance";
	else if (strcmp(a->instance_id, c->nodes[c->peer].instance_id) == 0)
		who = "the peer";
	pass("DescribeAddresses %s (%s): on %s (%s)", a->allocation_id,
	     a->public_ip, a->instance_id, who);
}

static void
on_describe(void *arg, const struct ec2_result *res)
{
	struct chk *k = arg;
	const struct config_resource *r = eip(k, k->res);
	const char *name =
	    r->allocation_id[0] ? r->allocation_id : r->public_ip;

	if (res->rc != 0)
		fail(k, api_fix(k, res->code, "DescribeAddresses"),
		     "DescribeAddresses %s: %s: %s", name, res->code,
		     res->message);
	else if (res->naddresses != 1)
		fail(k, api_fix(k, "InvalidAllocationID", "DescribeAddresses"),
		     "DescribeAddresses %s: %zu addresses in the answer", name,
		     res->naddresses);
	else
		describe_line(k, &res->addresses[0]);
	step_dry_run(k);
}

static void
step_describe(struct chk *k)
{
	const struct config_resource *r;
	const char *id;

	while (k->res < k->cfg->nresources && eip(k, k->res) == NULL)
		k->res++;
	if (k->res == k->cfg->nresources) {
		step_net(k);
		return;
	}
	r = eip(k, k->res);
	if (r->allocation_id[0]) {
		id = r->allocation_id;
		if (ec2_describe_addresses(k->ec2, &id, 1, NULL, 0, NULL,
					   on_describe, k) != NULL)
			return;
	} else {
		id = r->public_ip;
		if (ec2_describe_addresses(k->ec2, NULL, 0, &id, 1, NULL,
					   on_describe, k) != NULL)
			return;
	}
	fail(k, "see the error above", "cannot start DescribeAddresses");
	finish(k);
}

static void
on_dry_run(void *arg, const struct ec2_result *res)
{
	struct chk *k = arg;

	if (res->rc == 0)
		pass("AssociateAddress %s to %s allowed (DryRun)",
		     k->alloc[k->res], k->instance);
	else
		fail(k, api_fix(k, res->code, "AssociateAddress"),
		     "AssociateAddress %s to %s (DryRun): %s: %s",
		     k->alloc[k->res], k->instance, res->code, res->message);
	k->res++;
	step_describe(k);
}

static void
step_dry_run(struct chk *k)
{
	const struct config *c = k->cfg;
	struct ec2_associate_args a = {
	    .allocation_id = k->alloc[k->res],
	    .instance_id = k->instance,
	    .network_interface_id = c->nodes[c->self].network_interface_id,
	    .dry_run = 1,
	};

	if (k->alloc[k->res][0] == '\0') {
		fail(k, "fix DescribeAddresses first",
		     "AssociateAddress (DryRun) not tried: the allocation id "
		     "is unknown");
		k->res++;
		step_describe(k);
		return;
	}
	if (ec2_associate_address(k->ec2, &a, NULL, on_dry_run, k) == NULL) {
		fail(k, "see the error above",
		     "cannot start AssociateAddress (DryRun)");
		k->res++;
		step_describe(k);
	}
}

/* ---- private addresses: the interface, the subnets, the route tables ---- */

static int
has_type(const struct chk *k, enum config_resource_type type)
{
	for (unsigned i = 0; i < k->cfg->nresources; i++)
		if (k->cfg->resources[i].type == type)
			return 1;
	return 0;
}

static void step_tables(struct chk *k);

static void
on_sdc(void *arg, const struct ec2_result *res)
{
	struct chk *k = arg;
	char fix[256];

	snprintf(fix, sizeof(fix),
		 "aws ec2 modify-network-interface-attribute "
		 "--network-interface-id %s --no-source-dest-check (on both "
		 "nodes' interfaces)",
		 k->eni);
	if (res->rc != 0)
		fail(k, api_fix(k, res->code, "DescribeNetworkInterfaceAttribute"),
		     "source/destination check of %s: %s: %s", k->eni,
		     res->code, res->message);
	else if (res->source_dest_check)
		fail(k, fix,
		     "source/destination check is enabled on %s: traffic routed "
		     "to this node is dropped",
		     k->eni);
	else
		pass("source/destination check is disabled on %s", k->eni);
	k->res = 0;
	step_tables(k);
}

/* The subnet rule of secondary IPs: both interfaces in one subnet. */
static void
subnets_line(struct chk *k, const struct ec2_eni *self,
	     const struct ec2_eni *peer)
{
	const struct config *c = k->cfg;

	if (peer == NULL)
		printf("! the peer's interface is not known (no "
		       "nodes[].instance_id for %s): its subnet is not checked\n",
		       c->nodes[c->peer].name);
	else if (strcmp(peer->subnet_id, self->subnet_id) != 0)
		fail(k, "put both nodes in one subnet, or float a route "
			"(type = \"route\") instead",
		     "secondary IPs cannot move: this node's %s is in %s (%s), "
		     "the peer's %s in %s (%s)",
		     self->id, self->subnet_id, self->az, peer->id,
		     peer->subnet_id, peer->az);
	else
		pass("both nodes' interfaces are in %s: secondary IPs can move",
		     self->subnet_id);
}

static void
on_enis(void *arg, const struct ec2_result *res)
{
	struct chk *k = arg;
	const struct config *c = k->cfg;
	const struct config_node *peer = &c->nodes[c->peer];
	const struct ec2_eni *self, *p = NULL;

	if (res->rc != 0) {
		fail(k, api_fix(k, res->code, "DescribeNetworkInterfaces"),
		     "DescribeNetworkInterfaces: %s: %s", res->code,
		     res->message);
		finish(k);
		return;
	}
	self = rnet_pick(res, k->instance,
			 c->nodes[c->self].network_interface_id);
	if (self == NULL) {
		fail(k, "check nodes[].network_interface_id and the instance id",
		     "DescribeNetworkInterfaces shows no interface of %s",
		     k->instance);
		finish(k);
		return;
	}
	util_strlcpy(k->eni, self->id, sizeof(k->eni));
	pass("this node's interface is %s in %s (%s), primary address %s",
	     self->id, self->subnet_id, self->az, self->primary_ip);
	if (peer->instance_id[0] || peer->network_interface_id[0])
		p = rnet_pick(res, peer->instance_id,
			      peer->network_interface_id);
	if (has_type(k, CONFIG_RES_SECONDARY_IP))
		subnets_line(k, self, p);
	if (!has_type(k, CONFIG_RES_ROUTE) ||
	    ec2_describe_source_dest_check(k->ec2, k->eni, on_sdc, k) == NULL)
		finish(k);
}

static void
step_net(struct chk *k)
{
	const struct config *c = k->cfg;
	const char *inst[2] = {k->instance, c->nodes[c->peer].instance_id};

	if (!has_type(k, CONFIG_RES_SECONDARY_IP) &&
	    !has_type(k, CONFIG_RES_ROUTE)) {
		finish(k);
		return;
	}
	if (ec2_describe_network_interfaces(k->ec2, inst, 2, NULL, on_enis,
					    k) == NULL) {
		fail(k, "see the error above",
		     "cannot start DescribeNetworkInterfaces");
		finish(k);
	}
}

static void
on_tables(void *arg, const struct ec2_result *res)
{
	struct chk *k = arg;
	const struct config_resource *r = &k->cfg->resources[k->res];

	if (res->rc != 0)
		fail(k, api_fix(k, res->code, "DescribeRouteTables"),
		     "DescribeRouteTables for %s: %s: %s", r->destination,
		     res->code, res->message);
	for (size_t i = 0; res->rc == 0 && i < res->ntables; i++) {
		const struct ec2_route_table *t = &res->tables[i];

		if (!t->has_route)
			pass("route table %s: no route to %s yet (the first "
			     "takeover creates it)",
			     t->id, r->destination);
		else
			pass("route table %s: %s -> %s%s", t->id,
			     r->destination,
			     t->eni[0] ? t->eni : t->gateway,
			     strcmp(t->eni, k->eni) == 0 ? " (this node)" : "");
	}
	k->res++;
	step_tables(k);
}

static void
step_tables(struct chk *k)
{
	const struct config_resource *r;
	const char *t[CONFIG_ROUTE_TABLES_MAX];

	while (k->res < k->cfg->nresources &&
	       k->cfg->resources[k->res].type != CONFIG_RES_ROUTE)
		k->res++;
	if (k->res == k->cfg->nresources) {
		finish(k);
		return;
	}
	r = &k->cfg->resources[k->res];
	for (unsigned i = 0; i < r->nroute_tables; i++)
		t[i] = r->route_tables[i];
	if (ec2_describe_route_tables(k->ec2, t, r->nroute_tables,
				      r->destination, on_tables, k) == NULL) {
		fail(k, "see the error above",
		     "cannot start DescribeRouteTables");
		finish(k);
	}
}

/* ---- the peer and the security group ---- */

static void
peer_and_security_group(struct chk *k)
{
	const struct config *c = k->cfg;
	const struct config_node *self = &c->nodes[c->self],
				 *peer = &c->nodes[c->peer];
	char fix[256];

	if (peer->instance_id[0]) {
		pass("peer %s is instance %s (nodes[].instance_id)", peer->name,
		     peer->instance_id);
	} else {
		snprintf(fix, sizeof(fix),
			 "set instance_id for %s in nodes[] (the daemon also "
			 "learns it from the peer's heartbeats once both run)",
			 peer->name);
		fail(k, fix,
		     "peer %s's instance id is not known: an EIP found there "
		     "would look like another instance's",
		     peer->name);
	}
	printf("! security group (not visible from here): allow UDP");
	for (unsigned i = 0; i < c->nlinks; i++)
		printf("%s%u", i ? "," : " ", c->ports[i]);
	printf(" between %s and %s only, both ways\n", self->name, peer->name);
}

static void
finish(struct chk *k)
{
	ev_break(k->loop, EVBREAK_ALL);
}

static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct chk *k = w->data;

	fail(k, "check the network path to the metadata service and EC2",
	     "no answer within %.0f s", CHECK_DEADLINE_S);
	ev_break(loop, EVBREAK_ALL);
}

static int
run(const struct config *cfg)
{
	static struct chk k;
	const struct config_node *self = &cfg->nodes[cfg->self];

	k.cfg = cfg;
	k.loop = ev_default_loop(EVFLAG_AUTO);
	util_strlcpy(k.instance, self->instance_id, sizeof(k.instance));
	util_strlcpy(k.region, cfg->region, sizeof(k.region));
	k.http = http_new(k.loop);
	k.imds = k.http ? imds_new(k.loop, k.http, cfg->imds_endpoint,
				   cfg->aws_timeout_ms)
			: NULL;
	k.creds = k.imds ? creds_new(k.loop, k.imds, cfg->profile) : NULL;
	if (k.creds == NULL) {
		fprintf(stderr, "eipfloatd check-aws: out of memory\n");
		return 1;
	}
	ev_timer_init(&k.deadline, on_deadline, CHECK_DEADLINE_S, 0.);
	k.deadline.data = &k;
	ev_timer_start(k.loop, &k.deadline);
	if (imds_identity(k.imds, on_identity, &k) == NULL)
		on_identity(&k, NULL, "cannot start the request");
	else
		ev_run(k.loop, 0);
	ev_timer_stop(k.loop, &k.deadline);
	peer_and_security_group(&k);
	if (k.ec2)
		ec2_free(k.ec2);
	creds_free(k.creds);
	imds_free(k.imds);
	http_free(k.http);
	printf("%s\n", k.failures ? "some checks failed" : "all checks passed");
	return k.failures ? 1 : 0;
}

int
checkaws_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"node", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct config cfg;
	const char *path = DAEMON_DEFAULT_CONFIG, *node = NULL;
	char err[512];
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'h':
			printf(
			    "usage: eipfloatd check-aws [-c FILE] [-n NAME]\n");
			return 0;
		default:
			fprintf(stderr,
				"usage: eipfloatd check-aws [-c FILE] [-n "
				"NAME]\n");
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr,
			"eipfloatd check-aws: unexpected argument "
			"\"%s\"\n",
			argv[optind]);
		return CTL_EXIT_USAGE;
	}
	if (config_load(path, node, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return CONFIG_EX_CONFIG;
	}
	rc = run(&cfg);
	util_explicit_bzero(&cfg, sizeof(cfg));
	return rc;
}
