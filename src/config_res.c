/*
 * config_res.c - the rows of the private-address resource types
 * (secondary_ip, route): a CIDR destination, the list of route tables, and
 * which keys each type needs.
 */
#include "config.h"
#include "config_schema.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "a.b.c.d/n": 0 and the parts, or -1 */
static int
cidr_parse(const char *v, struct in_addr *ip, unsigned *len)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(v, '/');
	char *end;
	long n;

	if (slash == NULL || (size_t)(slash - v) >= sizeof(addr))
		return -1;
	memcpy(addr, v, (size_t)(slash - v));
	addr[slash - v] = '\0';
	if (inet_pton(AF_INET, addr, ip) != 1)
		return -1;
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	n = strtol(slash + 1, &end, 10);
	if (*end != '\0' || n < 0 || n > 32)
		return -1;
	*len = (unsigned)n;
	return 0;
}

int
config_res_check_cidr(struct config_ctx *c, const config_setting_t *at,
		      const struct config_key *k, void *base)
{
	const char *v = (const char *)base + k->offset;
	struct in_addr ip, net;
	unsigned len;
	uint32_t mask;
	char tmp[80], want[INET_ADDRSTRLEN];

	if (cidr_parse(v, &ip, &len) == -1)
		return config_fail(c, at,
				   "\"%s\" is not an IPv4 CIDR block "
				   "(expected a.b.c.d/n, n from 0 to 32)",
				   config_shown(v, tmp, sizeof(tmp)));
	mask = len == 0 ? 0 : htonl(0xffffffffu << (32 - len));
	net.s_addr = ip.s_addr & mask;
	if (net.s_addr != ip.s_addr) {
		inet_ntop(AF_INET, &net, want, sizeof(want));
		return config_fail(c, at,
				   "\"%s\" has host bits set (EC2 stores "
				   "%s/%u)",
				   config_shown(v, tmp, sizeof(tmp)), want,
				   len);
	}
	return 0;
}

int
config_res_read_route_tables(struct config_ctx *c, const config_setting_t *grp,
			     const config_setting_t *s,
			     const struct config_key *k, void *base)
{
	struct config_resource *r = base;
	char tmp[80];
	unsigned n;

	r->nroute_tables = 0;
	if (s == NULL)
		return 0; /* the type's check says it is missing */
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return config_fail(c, s,
				   "expected [ \"rtb-...\", ... ], got %s",
				   config_type_name(s));
	n = (unsigned)config_setting_length(s);
	if (n > CONFIG_ROUTE_TABLES_MAX)
		return config_fail(c, s,
				   "has %u entries; at most %u are "
				   "supported",
				   n, CONFIG_ROUTE_TABLES_MAX);
	for (unsigned i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char *dst = r->route_tables[i];

		if (config_str_value(c, e, dst, CONFIG_ID_MAX) == -1)
			return -1;
		if (!config_aws_id_ok(dst, "rtb-"))
			return config_fail(c, e,
					   "\"%s\" is not a route table id "
					   "(expected rtb- followed by 8 or 17 "
					   "lowercase hex digits)",
					   config_shown(dst, tmp, sizeof(tmp)));
		for (unsigned j = 0; j < i; j++)
			if (strcmp(r->route_tables[j], dst) == 0)
				return config_fail(c, e,
						   "duplicate route "
						   "table %s",
						   dst);
		r->nroute_tables = i + 1;
	}
	return 0;
}

void
config_res_print_route_tables(FILE *out, const struct config_key *k,
			      const void *base)
{
	const struct config_resource *r = base;

	fputs("[ ", out);
	for (unsigned i = 0; i < r->nroute_tables; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", r->route_tables[i]);
	fputs(" ]", out);
}

int
config_res_check_secondary_ip(struct config_ctx *c, const config_setting_t *grp,
			      void *elem)
{
	const struct config_resource *r = elem;

	if (r->address[0] == '\0')
		return config_fail(c, grp,
				   "type \"secondary_ip\" needs an "
				   "address (the private IPv4 to float)");
	return 0;
}

int
config_res_check_route(struct config_ctx *c, const config_setting_t *grp,
		       void *elem)
{
	const struct config_resource *r = elem;
	const config_setting_t *la =
	    config_setting_get_member(grp, "local_address");

	if (r->destination[0] == '\0')
		return config_fail(
		    c, grp,
		    "type \"route\" needs a destination "
		    "(a CIDR block such as \"192.168.100.10/32\")");
	if (r->nroute_tables == 0)
		return config_fail(c, grp,
				   "type \"route\" needs route_tables "
				   "(a list of \"rtb-...\" ids)");
	if (r->local_address && strstr(r->destination, "/32") == NULL)
		return config_fail(c, la ? la : grp,
				   "local_address needs a /32 destination (one "
				   "address to put on the host), not %s",
				   r->destination);
	return 0;
}
