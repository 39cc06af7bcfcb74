/*
 * ec2_xml_net.c - the answers of the network interface and route table
 * calls (DescribeNetworkInterfaces, DescribeRouteTables,
 * DescribeNetworkInterfaceAttribute, and the writes' <return>), parsed in
 * ec2_xml.c's SAX pass (ec2_xml_int.h). Pure; see ec2_xml.h.
 */
#include "ec2_xml.h"
#include "ec2_xml_int.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef const char (*xml_path)[EC2_XML_NAME_MAX];

/* path[from..] is exactly the names given (NULL-terminated) and no more. */
static int
is(xml_path path, unsigned depth, unsigned from, const char *const *names)
{
	unsigned i = from;

	for (; *names != NULL; names++, i++)
		if (i >= depth || strcmp(path[i], *names) != 0)
			return 0;
	return i == depth;
}
#define IS(p, d, ...) is(p, d, 1, (const char *const[]){__VA_ARGS__, NULL})

/* Identifiers must fit whole: a truncated id would name another one. */
static const char *
take(char *dst, size_t size, const char *text, int truncated)
{
	if (truncated || strlen(text) >= size)
		return "identifier too long";
	memcpy(dst, text, strlen(text) + 1);
	return NULL;
}
#define TAKE(dst, text, tr) take((dst), sizeof(dst), (text), (tr))

/* ---- DescribeNetworkInterfaces ---- */

struct eni_px {
	struct ec2_eni *out;
	size_t max, n;
	int overflow;
};

static void
eni_open(void *ud, xml_path path, unsigned depth)
{
	struct eni_px *x = ud;

	if (!IS(path, depth, "networkInterfaceSet", "item"))
		return;
	if (x->n >= x->max) {
		x->overflow = 1;
		return;
	}
	memset(&x->out[x->n], 0, sizeof(x->out[x->n]));
	x->out[x->n].device_index = -1;
	x->n++;
}

static const char *
eni_close(void *ud, xml_path path, unsigned depth, const char *text, int tr)
{
	struct eni_px *x = ud;
	struct ec2_eni *e;
	const char *f = path[depth - 1];

	if (x->overflow)
		return "more network interfaces than expected";
	if (x->n == 0 || depth < 4 ||
	    strcmp(path[1], "networkInterfaceSet") != 0)
		return NULL;
	e = &x->out[x->n - 1];
	if (IS(path, depth, "networkInterfaceSet", "item", f)) {
		if (strcmp(f, "networkInterfaceId") == 0)
			return TAKE(e->id, text, tr);
		if (strcmp(f, "subnetId") == 0)
			return TAKE(e->subnet_id, text, tr);
		if (strcmp(f, "availabilityZone") == 0)
			return TAKE(e->az, text, tr);
		if (strcmp(f, "macAddress") == 0)
			return TAKE(e->mac, text, tr);
		if (strcmp(f, "privateIpAddress") == 0)
			return TAKE(e->primary_ip, text, tr);
	} else if (IS(path, depth, "networkInterfaceSet", "item", "attachment",
		      f)) {
		if (strcmp(f, "instanceId") == 0)
			return TAKE(e->instance_id, text, tr);
		if (strcmp(f, "deviceIndex") == 0) {
			char *end;
			long v = strtol(text, &end, 10);

			if (end == text || *end != '\0' || v < 0 || v > 255)
				return "bad deviceIndex";
			e->device_index = (int)v;
		}
	} else if (IS(path, depth, "networkInterfaceSet", "item",
		      "privateIpAddressesSet", "item", "privateIpAddress")) {
		char *slot;

		if (e->nips >= EC2_ENI_IPS_MAX)
			return "more private addresses than expected";
		slot = e->ips[e->nips];
		e->nips++;
		return take(slot, EC2_ID_MAX, text, tr);
	}
	return NULL;
}

int
ec2_parse_network_interfaces(const char *xml, size_t len, struct ec2_eni *out,
			     size_t max, size_t *n, char *err, size_t errlen)
{
	struct eni_px x = {.out = out, .max = out ? max : 0};
	struct ec2_xml_walk w = {
	    .ud = &x, .open = eni_open, .close = eni_close};

	*n = 0;
	if (ec2_xml_walk(xml, len, "DescribeNetworkInterfacesResponse", &w, err,
			 errlen) == -1)
		return -1;
	for (size_t i = 0; out != NULL && i < x.n; i++)
		if (out[i].id[0] == '\0') {
			snprintf(err, errlen, "an interface without an id");
			return -1;
		}
	*n = x.n;
	return 0;
}

/* ---- DescribeRouteTables ---- */

struct rt_px {
	const char *dest;
	struct ec2_route_table *out;
	size_t max, n;
	int overflow;
	struct ec2_route_table cur; /* the route being read */
	char cur_dest[EC2_ID_MAX];
};

static void
rt_open(void *ud, xml_path path, unsigned depth)
{
	struct rt_px *x = ud;

	if (IS(path, depth, "routeTableSet", "item")) {
		if (x->n >= x->max) {
			x->overflow = 1;
			return;
		}
		memset(&x->out[x->n++], 0, sizeof(x->out[0]));
	} else if (IS(path, depth, "routeTableSet", "item", "routeSet",
		      "item")) {
		memset(&x->cur, 0, sizeof(x->cur));
		x->cur_dest[0] = '\0';
	}
}

static const char *
rt_route_field(struct rt_px *x, const char *f, const char *text, int tr)
{
	struct ec2_route_table *r = &x->cur;

	if (strcmp(f, "destinationCidrBlock") == 0)
		return TAKE(x->cur_dest, text, tr);
	if (strcmp(f, "networkInterfaceId") == 0)
		return TAKE(r->eni, text, tr);
	if (strcmp(f, "instanceId") == 0)
		return TAKE(r->instance_id, text, tr);
	if (strcmp(f, "gatewayId") == 0 || strcmp(f, "natGatewayId") == 0 ||
	    strcmp(f, "transitGatewayId") == 0)
		return TAKE(r->gateway, text, tr);
	if (strcmp(f, "state") == 0)
		return TAKE(r->state, text, tr);
	return NULL;
}

static const char *
rt_close(void *ud, xml_path path, unsigned depth, const char *text, int tr)
{
	struct rt_px *x = ud;
	struct ec2_route_table *t;
	const char *f = path[depth - 1];

	if (x->overflow)
		return "more route tables than expected";
	if (x->n == 0)
		return NULL;
	t = &x->out[x->n - 1];
	if (IS(path, depth, "routeTableSet", "item", "routeTableId"))
		return TAKE(t->id, text, tr);
	if (IS(path, depth, "routeTableSet", "item", "routeSet", "item", f))
		return rt_route_field(x, f, text, tr);
	if (IS(path, depth, "routeTableSet", "item", "routeSet", "item") &&
	    strcmp(x->cur_dest, x->dest) == 0) {
		memcpy(t->eni, x->cur.eni, sizeof(t->eni));
		memcpy(t->instance_id, x->cur.instance_id,
		       sizeof(t->instance_id));
		memcpy(t->gateway, x->cur.gateway, sizeof(t->gateway));
		memcpy(t->state, x->cur.state, sizeof(t->state));
		t->has_route = 1;
	}
	return NULL;
}

int
ec2_parse_route_tables(const char *xml, size_t len, const char *destination,
		       struct ec2_route_table *out, size_t max, size_t *n,
		       char *err, size_t errlen)
{
	struct rt_px *x = calloc(1, sizeof(*x));
	struct ec2_xml_walk w = {.ud = x, .open = rt_open, .close = rt_close};
	int rc = -1;

	*n = 0;
	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	x->dest = destination ? destination : "";
	x->out = out;
	x->max = out ? max : 0;
	if (ec2_xml_walk(xml, len, "DescribeRouteTablesResponse", &w, err,
			 errlen) == 0) {
		rc = 0;
		for (size_t i = 0; out != NULL && i < x->n && rc == 0; i++)
			if (out[i].id[0] == '\0') {
				snprintf(err, errlen,
					 "a route table without an id");
				rc = -1;
			}
		if (rc == 0)
			*n = x->n;
	}
	free(x);
	return rc;
}

/* ---- a single value: sourceDestCheck, <return> ---- */

struct value_px {
	const char *a, *b; /* the path under the root */
	char value[16];
	int seen;
};

static const char *
value_close(void *ud, xml_path path, unsigned depth, const char *text, int tr)
{
	struct value_px *x = ud;
	int hit = x->b ? IS(path, depth, x->a, x->b) : IS(path, depth, x->a);

	if (!hit)
		return NULL;
	x->seen = 1;
	return TAKE(x->value, text, tr);
}

/* 1 "true", 0 "false", absent (when that is allowed), -1 (err). */
static int
bool_at(const char *xml, size_t len, const char *root, const char *a,
	const char *b, int absent, char *err, size_t errlen)
{
	struct value_px x = {.a = a, .b = b};
	struct ec2_xml_walk w = {.ud = &x, .close = value_close};

	if (ec2_xml_walk(xml, len, root, &w, err, errlen) == -1)
		return -1;
	if (strcmp(x.value, "true") == 0)
		return 1;
	if (strcmp(x.value, "false") == 0)
		return 0;
	if (!x.seen && absent != -1)
		return absent;
	snprintf(err, errlen,
		 x.seen ? "<%s> is neither true nor false"
			: "no <%s> in answer",
		 b ? b : a);
	return -1;
}

int
ec2_parse_source_dest_check(const char *xml, size_t len, int *value, char *err,
			    size_t errlen)
{
	int v = bool_at(xml, len, "DescribeNetworkInterfaceAttributeResponse",
			"sourceDestCheck", "value", -1, err, errlen);

	if (v == -1)
		return -1;
	*value = v;
	return 0;
}

int
ec2_parse_return(const char *xml, size_t len, const char *root, char *err,
		 size_t errlen)
{
	/*
	 * The 200 under the right root is the success; <return> is in
	 * ReplaceRoute's and CreateRoute's answers, not in every
	 * AssignPrivateIpAddresses one. Present, it must say true.
	 */
	int v = bool_at(xml, len, root, "return", NULL, 1, err, errlen);

	if (v == 0)
		snprintf(err, errlen, "<return>false</return>");
	return v == 1 ? 0 : -1;
}
