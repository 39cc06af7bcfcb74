/*
 * config_node.c - the nodes: a node's name and heartbeat addresses, the
 * rules across both nodes and the links' ports, and which node this host is.
 */
#include "config_schema.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * 1..31 characters: the heartbeat's field (WIRE_NODE_MAX) has room for
 * more, but the name appears in every log line and the documented limit
 * stays.
 */
#define NODE_NAME_MAX 31
#define DEFAULT_PORT0 5405 /* link i defaults to 5405 - i */

static int
node_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > NODE_NAME_MAX)
		return 0;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && *n != '.' && *n != '_' &&
		    *n != '-')
			return 0;
	return 1;
}

int
config_node_name_check(struct config_ctx *c, const config_setting_t *at,
		       const struct config_key *k, void *base)
{
	const char *name = (const char *)base + k->offset;
	char tmp[80];

	if (node_name_ok(name))
		return 0;
	return config_fail(c, at,
			   "\"%s\" is not a valid node name (1..%d characters "
			   "of A-Z a-z 0-9 . _ -)",
			   config_shown(name, tmp, sizeof(tmp)), NODE_NAME_MAX);
}

/* Parse an IPv4 or IPv6 literal into ss (port 0 for now). */
static int
addr_parse(const char *str, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, str, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, str, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static const void *
addr_bytes(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return &((const struct sockaddr_in *)ss)->sin_addr;
	return &((const struct sockaddr_in6 *)ss)->sin6_addr;
}

int
config_node_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	return memcmp(addr_bytes(a), addr_bytes(b),
		      a->ss_family == AF_INET ? sizeof(struct in_addr)
					      : sizeof(struct in6_addr)) == 0;
}

static const char *
family_name(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? "IPv4" : "IPv6";
}

/* Why a heartbeat address is unusable, or NULL. */
static const char *
addr_unusable(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		uint32_t a =
		    ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);

		if (a == 0)
			return "is the unspecified address";
		if ((a >> 28) == 0xe)
			return "is a multicast address";
		if (a == 0xffffffffu)
			return "is the broadcast address";
		return NULL;
	}
	const struct in6_addr *a6 =
	    &((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (IN6_IS_ADDR_UNSPECIFIED(a6))
		return "is the unspecified address";
	if (IN6_IS_ADDR_MULTICAST(a6))
		return "is a multicast address";
	if (IN6_IS_ADDR_LINKLOCAL(a6))
		return "is link-local (needs an interface scope, which is "
		       "not supported)";
	return NULL;
}

static void
addr_set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

int
config_node_read_addresses(struct config_ctx *c, const config_setting_t *grp,
			   const config_setting_t *list,
			   const struct config_key *k, void *base)
{
	struct config_node *n = base;
	char tmp[80];
	int i, len;

	if (list == NULL)
		return 0;
	if (!config_setting_is_array(list) && !config_setting_is_list(list))
		return config_fail(c, list, "expected [ \"address\", ... ], got %s",
			    config_type_name(list));
	len = config_setting_length(list);
	if (len < 1 || len > CONFIG_MAX_LINKS)
		return config_fail(c, list,
			    "has %d entries; 1..%d links are supported", len,
			    CONFIG_MAX_LINKS);
	for (i = 0; i < len; i++) {
		const config_setting_t *a = config_setting_get_elem(list, i);
		char *str = n->addr_str[i];
		const char *why;

		if (config_str_value(c, a, str, CONFIG_ADDRSTR_MAX) == -1)
			return -1;
		if (addr_parse(str, &n->addr[i], &n->addrlen[i]) == -1)
			return config_fail(c, a,
				    "\"%s\" is not an IPv4 or IPv6 address",
				    config_shown(str, tmp, sizeof(tmp)));
		why = addr_unusable(&n->addr[i]);
		if (why)
			return config_fail(c, a, "%s %s", str, why);
		/* Keep the canonical spelling for logs and the summary. */
		inet_ntop(n->addr[i].ss_family, addr_bytes(&n->addr[i]), str,
			  CONFIG_ADDRSTR_MAX);
	}
	n->naddrs = (unsigned)len;
	return 0;
}

void
config_node_print_addresses(FILE *out, const struct config_key *k,
			    const void *base)
{
	const struct config_node *n = base;
	unsigned i;

	fputs("[ ", out);
	for (i = 0; i < n->naddrs; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", n->addr_str[i]);
	fputs(" ]", out);
}

static const config_setting_t *
address_setting(const config_setting_t *nodes, unsigned node, unsigned i)
{
	const config_setting_t *grp = config_setting_get_elem(nodes, node);

	return config_setting_get_elem(config_setting_get_member(grp, "addresses"), i);
}

/* An address twice, within a node or across both, is always a typo. */
static int
check_duplicates(struct config_ctx *c, const config_setting_t *nodes,
		 const struct config *cfg)
{
	unsigned nl = cfg->nodes[0].naddrs, k, l;

	for (k = 0; k < 2 * nl; k++) {
		const struct config_node *a = &cfg->nodes[k / nl];

		for (l = 0; l < k; l++) {
			const struct config_node *b = &cfg->nodes[l / nl];

			if (config_node_addr_equal(&a->addr[k % nl], &b->addr[l % nl]))
				return config_fail(
				    c, address_setting(nodes, k / nl, k % nl),
				    "duplicate address %s (also "
				    "nodes[%u].addresses[%u])",
				    a->addr_str[k % nl], l / nl, l % nl);
		}
	}
	return 0;
}

/* What only makes sense across both nodes: names, links, families. */
int
config_node_check_pair(struct config_ctx *c, const config_setting_t *nodes,
		       struct config *cfg)
{
	const struct config_node *a = &cfg->nodes[0], *b = &cfg->nodes[1];
	unsigned i;

	if (strcmp(a->name, b->name) == 0)
		return config_fail(
		    c, config_setting_get_member(config_setting_get_elem(nodes, 1), "name"),
		    "duplicate node name \"%s\" (also nodes[0].name)", b->name);
	if (a->naddrs != b->naddrs)
		return config_fail(
		    c, config_setting_get_member(config_setting_get_elem(nodes, 1), "addresses"),
		    "has %u addresses but nodes[0] has %u; link i "
		    "joins addresses[i] of both nodes",
		    b->naddrs, a->naddrs);
	if (check_duplicates(c, nodes, cfg) == -1)
		return -1;
	for (i = 0; i < a->naddrs; i++)
		if (a->addr[i].ss_family != b->addr[i].ss_family)
			return config_fail(c, address_setting(nodes, 1, i),
				    "%s is %s but nodes[0].addresses[%u] is "
				    "%s; both ends of link %u must be the "
				    "same family",
				    b->addr_str[i], family_name(&b->addr[i]), i,
				    family_name(&a->addr[i]), i);
	cfg->nlinks = a->naddrs;
	return 0;
}

/* Before the entries: eipfloatd is a pair, never one or three. */
int
config_node_check_count(struct config_ctx *c, const config_setting_t *list,
			int n)
{
	if (n == CONFIG_MAX_NODES)
		return 0;
	return config_fail(c, list,
			   "has %d entr%s; eipfloatd runs exactly two nodes", n,
			   n == 1 ? "y" : "ies");
}

/* Link i uses port i on both nodes; the default counts down from 5405. */
int
config_node_read_ports(struct config_ctx *c, const config_setting_t *grp,
		       const config_setting_t *list, const struct config_key *k,
		       void *base)
{
	struct config *cfg = base;
	unsigned i, j, n;

	for (i = 0; i < cfg->nlinks; i++)
		cfg->ports[i] = DEFAULT_PORT0 - i;
	if (list != NULL) {
		if (!config_setting_is_array(list) &&
		    !config_setting_is_list(list))
			return config_fail(c, list, "expected [ port, ... ], got %s",
				    config_type_name(list));
		n = (unsigned)config_setting_length(list);
		if (n != cfg->nlinks)
			return config_fail(c, list,
				    "has %u entr%s but each node has %u "
				    "address%s; link i uses addresses[i] and "
				    "ports[i]",
				    n, n == 1 ? "y" : "ies", cfg->nlinks,
				    cfg->nlinks == 1 ? "" : "es");
		for (i = 0; i < n; i++) {
			const config_setting_t *p =
			    config_setting_get_elem(list, i);

			if (config_int_value(c, p, 1, 65535, &cfg->ports[i]) == -1)
				return -1;
			for (j = 0; j < i; j++)
				if (cfg->ports[j] == cfg->ports[i])
					return config_fail(c, p,
						    "duplicate port %u (also "
						    "heartbeat.ports[%u])",
						    cfg->ports[i], j);
		}
	}
	for (i = 0; i < cfg->nnodes; i++)
		for (j = 0; j < cfg->nlinks; j++)
			addr_set_port(&cfg->nodes[i].addr[j], cfg->ports[j]);
	return 0;
}

void
config_node_print_ports(FILE *out, const struct config_key *k,
			const void *base)
{
	const struct config *cfg = base;
	unsigned i;

	fputs("[ ", out);
	for (i = 0; i < cfg->nlinks; i++)
		fprintf(out, "%s%u", i ? ", " : "", cfg->ports[i]);
	fputs(" ]", out);
}

static int
node_has_local_addr(const struct config_node *n, const struct ifaddrs *ifs)
{
	const struct ifaddrs *i;
	struct sockaddr_storage ss;
	unsigned k;

	for (i = ifs; i; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET &&
					    i->ifa_addr->sa_family != AF_INET6))
			continue;
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, i->ifa_addr,
		       i->ifa_addr->sa_family == AF_INET
			   ? sizeof(struct sockaddr_in)
			   : sizeof(struct sockaddr_in6));
		for (k = 0; k < n->naddrs; k++)
			if (config_node_addr_equal(&ss, &n->addr[k]))
				return 1;
	}
	return 0;
}

/*
 * Which entry is this host: the name given, else the host name (full, then
 * the part before the first dot), else a local interface address.
 */
int
config_node_select(struct config_ctx *c, const char *node, struct config *cfg)
{
	char host[256], tmp[80];
	struct ifaddrs *ifs;
	unsigned i, hits = 0, hit = 0;
	size_t dot;

	if (node != NULL) {
		for (i = 0; i < cfg->nnodes; i++)
			if (strcmp(cfg->nodes[i].name, node) == 0)
				break;
		if (i == cfg->nnodes)
			return config_fail(c, NULL,
				    "node \"%s\" is not in nodes (names: "
				    "\"%s\", \"%s\")",
				    config_shown(node, tmp, sizeof(tmp)),
				    cfg->nodes[0].name, cfg->nodes[1].name);
		goto found;
	}
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	for (i = 0; i < cfg->nnodes; i++)
		if (host[0] && strcmp(cfg->nodes[i].name, host) == 0)
			goto found;
	dot = strcspn(host, ".");
	for (i = 0; i < cfg->nnodes; i++)
		if (dot > 0 && strlen(cfg->nodes[i].name) == dot &&
		    strncmp(cfg->nodes[i].name, host, dot) == 0)
			goto found;
	if (getifaddrs(&ifs) == -1)
		return config_fail(c, NULL,
			    "no node is named after this host (%s) and the "
			    "local addresses are unknown (%s); use -n NAME",
			    config_shown(host, tmp, sizeof(tmp)), strerror(errno));
	for (i = 0; i < cfg->nnodes; i++)
		if (node_has_local_addr(&cfg->nodes[i], ifs))
			hits++, hit = i;
	freeifaddrs(ifs);
	if (hits == 0)
		return config_fail(c, NULL,
			    "no node matches this host (hostname %s, no local "
			    "address in nodes[].addresses); use -n NAME",
			    config_shown(host, tmp, sizeof(tmp)));
	if (hits > 1)
		return config_fail(c, NULL,
			    "both nodes have an address on this host "
			    "(hostname %s); use -n NAME",
			    config_shown(host, tmp, sizeof(tmp)));
	i = hit;
found:
	cfg->self = i;
	cfg->peer = 1 - i;
	return 0;
}

