/*
 * config_keys.c - the schema: every key of eipfloatd.conf as one row
 * (where it lands, its type, range and default), and the validators the
 * rows name. Adding a key is a row here plus its field in config.h; adding
 * a resource type is a variant and its rows. Keep eipfloatd.conf(5) and
 * etc/eipfloatd.conf in step (test_config checks every row is in both).
 */
#include "config_schema.h"
#include "hooks.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define DEFAULT_AUTHKEY "/etc/eipfloatd/authkey"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SIZE(type, member) sizeof(((type *)0)->member)

static const char *
value(const struct config_key *k, void *base)
{
	return (const char *)base + k->offset;
}

static int
is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

/* EC2 ids: a prefix and 8 (old style) or 17 lowercase hex digits. */
int
config_aws_id_ok(const char *s, const char *prefix)
{
	size_t p = strlen(prefix), n;

	if (strncmp(s, prefix, p) != 0)
		return 0;
	n = strlen(s + p);
	return (n == 8 || n == 17) && is_hex(s + p, n);
}

/* "us-east-1", "ap-southeast-2", "us-gov-west-1", "eu-central-2", ... */
static int
region_ok(const char *r)
{
	const char *p = r;
	unsigned parts = 0;

	while (*p) {
		const char *start = p;

		while (*p >= 'a' && *p <= 'z')
			p++;
		if (p == start)
			break;
		parts++;
		if (*p != '-')
			return 0;
		p++;
	}
	if (parts < 2 || !isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '\0' && strlen(r) <= 32;
}

static int
url_ok(const char *u)
{
	const char *host;

	if (strncmp(u, "http://", 7) == 0)
		host = u + 7;
	else if (strncmp(u, "https://", 8) == 0)
		host = u + 8;
	else
		return 0;
	if (*host == '\0' || *host == '/')
		return 0;
	for (; *u; u++)
		if (isspace((unsigned char)*u))
			return 0;
	return 1;
}


/* instance_id, network_interface_id: "" is "learn it". */
static int
check_aws_id(struct config_ctx *c, const config_setting_t *at,
	     const struct config_key *k, void *base)
{
	const char *v = value(k, base);
	char tmp[80];

	if (v[0] == '\0' || config_aws_id_ok(v, k->arg))
		return 0;
	return config_fail(c, at,
			   "\"%s\" is not a valid id (expected %s followed by "
			   "8 or 17 lowercase hex digits)",
			   config_shown(v, tmp, sizeof(tmp)), k->arg);
}

static int
check_allocation_id(struct config_ctx *c, const config_setting_t *at,
		    const struct config_key *k, void *base)
{
	const char *v = value(k, base);
	char tmp[80];

	if (config_aws_id_ok(v, k->arg))
		return 0;
	return config_fail(c, at,
			   "\"%s\" is not an allocation id (expected %s "
			   "followed by 8 or 17 lowercase hex digits)",
			   config_shown(v, tmp, sizeof(tmp)), k->arg);
}

static int
check_ipv4(struct config_ctx *c, const config_setting_t *at,
	   const struct config_key *k, void *base)
{
	const char *v = value(k, base);
	struct in_addr ip;
	char tmp[80];

	if (inet_pton(AF_INET, v, &ip) == 1)
		return 0;
	return config_fail(c, at, "\"%s\" is not an IPv4 address",
			   config_shown(v, tmp, sizeof(tmp)));
}

static int
check_region(struct config_ctx *c, const config_setting_t *at,
	     const struct config_key *k, void *base)
{
	const char *v = value(k, base);
	char tmp[80];

	if (v[0] == '\0' || region_ok(v))
		return 0;
	return config_fail(c, at,
			   "\"%s\" is not a region name (like us-east-1)",
			   config_shown(v, tmp, sizeof(tmp)));
}

static int
check_url(struct config_ctx *c, const config_setting_t *at,
	  const struct config_key *k, void *base)
{
	const char *v = value(k, base);
	char tmp[80];

	if (v[0] == '\0' || url_ok(v))
		return 0;
	return config_fail(c, at, "\"%s\" is not an http:// or https:// URL",
			   config_shown(v, tmp, sizeof(tmp)));
}

static int
check_readable(struct config_ctx *c, const config_setting_t *at,
	       const struct config_key *k, void *base)
{
	const char *v = value(k, base);
	struct stat st;

	if (v[0] == '\0')
		return 0;
	if (stat(v, &st) == -1)
		return config_fail(c, at, "%s: %s", v, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(v, R_OK) == -1)
		return config_fail(c, at, "%s is not a readable file", v);
	return 0;
}

/* Hooks run at failover time: find a missing one now, not then. */
static int
check_hook(struct config_ctx *c, const config_setting_t *at,
	   const struct config_key *k, void *base)
{
	char why[CONFIG_PATH_MAX + 128];

	if (hooks_validate(value(k, base), why, sizeof(why)) == 0)
		return 0;
	return config_fail(c, at, "%s", why);
}

/*
 * Key i from `in` (s: the setting to blame). The key is read now: a node
 * that cannot authenticate must not start. Two entries naming one file, or
 * two files holding one key, are a mistake in a rotation: say so.
 */
static int
read_one_authkey(struct config_ctx *c, const config_setting_t *s,
		 struct config *cfg, unsigned i, const char *in)
{
	char why[CONFIG_PATH_MAX + 128];
	unsigned j;

	if (in[0] == '\0')
		return config_fail(c, s, "must not be empty");
	if (config_resolve(c, s, in, cfg->authkey_path[i],
			   sizeof(cfg->authkey_path[i])) == -1)
		return -1;
	for (j = 0; j < i; j++)
		if (strcmp(cfg->authkey_path[j], cfg->authkey_path[i]) == 0)
			return config_fail(c, s, "%s is listed twice",
					   cfg->authkey_path[i]);
	if (authkey_read(cfg->authkey_path[i], cfg->authkey[i],
			 &cfg->authkey_len[i], why, sizeof(why)) == -1)
		return config_fail(c, s, "%s", why);
	for (j = 0; j < i; j++)
		if (cfg->authkey_len[j] == cfg->authkey_len[i] &&
		    CRYPTO_memcmp(cfg->authkey[j], cfg->authkey[i],
				  cfg->authkey_len[i]) == 0)
			return config_fail(c, s, "%s holds the same key as %s",
					   cfg->authkey_path[i],
					   cfg->authkey_path[j]);
	cfg->nauthkeys = i + 1;
	return 0;
}

/* A file, or a list of 1..CONFIG_AUTHKEYS_MAX files (the first signs). */
static int
read_authkeys(struct config_ctx *c, const config_setting_t *grp,
	      const config_setting_t *s, const struct config_key *k, void *base)
{
	struct config *cfg = base;
	char tmp[CONFIG_PATH_MAX];
	unsigned i, n;

	cfg->nauthkeys = 0;
	if (s == NULL)
		return read_one_authkey(c, grp, cfg, 0, DEFAULT_AUTHKEY);
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (config_str_value(c, s, tmp, sizeof(tmp)) == -1)
			return -1;
		return read_one_authkey(c, s, cfg, 0, tmp);
	}
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return config_fail(c, s,
				   "expected a key file or [ \"new key\", "
				   "\"old key\" ], got %s",
				   config_type_name(s));
	n = (unsigned)config_setting_length(s);
	if (n < 1 || n > CONFIG_AUTHKEYS_MAX)
		return config_fail(c, s,
				   "has %u entries; 1..%d key files are "
				   "supported (the first signs, all verify)",
				   n, CONFIG_AUTHKEYS_MAX);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return config_fail(c, e, "expected a key file, got %s",
					   config_type_name(e));
		if (config_str_value(c, e, tmp, sizeof(tmp)) == -1 ||
		    read_one_authkey(c, e, cfg, i, tmp) == -1)
			return -1;
	}
	return 0;
}

static void
print_authkeys(FILE *out, const struct config_key *k, const void *base)
{
	const struct config *cfg = base;
	unsigned i;

	if (cfg->nauthkeys == 1) {
		config_print_string(out, cfg->authkey_path[0]);
		return;
	}
	fputs("[ ", out);
	for (i = 0; i < cfg->nauthkeys; i++) {
		fputs(i ? ", " : "", out);
		config_print_string(out, cfg->authkey_path[i]);
	}
	fputs(" ]", out);
}

/* One lost packet must not end the peer. */
static int
check_heartbeat_timeout(struct config_ctx *c, const config_setting_t *at,
			const struct config_key *k, void *base)
{
	const struct config *cfg = base;

	if (cfg->timeout_ms >= 3 * cfg->interval_ms)
		return 0;
	return config_fail(c, at,
			   "%u is less than 3 * heartbeat.interval_ms (%u); "
			   "one lost packet would end the peer",
			   cfg->timeout_ms, 3 * cfg->interval_ms);
}

/* ---- resource types: which keys go together ------------------------- */

static int
check_eip(struct config_ctx *c, const config_setting_t *grp, void *elem)
{
	const config_setting_t *as =
	    config_setting_get_member(grp, "allocation_id");
	const config_setting_t *ps = config_setting_get_member(grp, "public_ip");

	if (as && ps)
		return config_fail(c, ps,
				   "give allocation_id or public_ip, not both");
	if (!as && !ps)
		return config_fail(c, grp, "needs allocation_id or public_ip");
	return 0;
}

static int
check_file(struct config_ctx *c, const config_setting_t *grp, void *elem)
{
	const struct config_resource *r = elem;
	const config_setting_t *fs = config_setting_get_member(grp, "path");

	if (r->path[0] != '\0')
		return 0;
	return config_fail(c, fs ? fs : grp, "type \"file\" needs a path");
}

static const struct config_variant resource_types[] = {
	[CONFIG_RES_EIP] = {.name = "eip", .check = check_eip},
	[CONFIG_RES_FILE] = {.name = "file", .hidden = 1, .check = check_file},
	[CONFIG_RES_SECONDARY_IP] = {.name = "secondary_ip",
				     .check = config_res_check_secondary_ip},
	[CONFIG_RES_ROUTE] = {.name = "route",
			      .check = config_res_check_route},
};

const char *
config_resource_type_name(enum config_resource_type type)
{
	return (unsigned)type < LEN(resource_types) ? resource_types[type].name
						    : "?";
}

static unsigned
resource_type(const void *elem)
{
	return (unsigned)((const struct config_resource *)elem)->type;
}

static void
set_resource_type(void *elem, unsigned v)
{
	((struct config_resource *)elem)->type = (enum config_resource_type)v;
}

static int
check_resource_count(struct config_ctx *c, const config_setting_t *list,
		     int n)
{
	if (n > 0)
		return 0;
	return config_fail(c, list, "is empty; list at least one resource");
}

/* ---- the rows ------------------------------------------------------- */

#define UINT(key, type, member, lo, hi, d)                               \
	{.name = key, .kind = CONFIG_KIND_UINT,                                \
	 .offset = offsetof(type, member), .min = lo, .max = hi, .def = d}
#define STR(key, type, member, chk)                                            \
	{.name = key, .kind = CONFIG_KIND_STRING,                              \
	 .offset = offsetof(type, member), .size = SIZE(type, member),         \
	 .check = chk}

static const struct config_key cluster_keys[] = {
    {.name = "name", .kind = CONFIG_KIND_STRING,
     .offset = offsetof(struct config, cluster_name),
     .size = SIZE(struct config, cluster_name),
     .flags = CONFIG_KEY_REQUIRED | CONFIG_KEY_NONEMPTY},
    {.name = "authkey", .kind = CONFIG_KIND_CUSTOM, .read = read_authkeys,
     .print = print_authkeys},
};

static const struct config_key node_keys[] = {
    {.name = "name", .kind = CONFIG_KIND_STRING,
     .offset = offsetof(struct config_node, name),
     .size = SIZE(struct config_node, name), .flags = CONFIG_KEY_REQUIRED,
     .check = config_node_name_check},
    {.name = "addresses", .kind = CONFIG_KIND_CUSTOM,
     .flags = CONFIG_KEY_REQUIRED, .read = config_node_read_addresses,
     .print = config_node_print_addresses},
    UINT("priority", struct config_node, priority, 0, 255, 100),
    {.name = "instance_id", .kind = CONFIG_KIND_STRING,
     .offset = offsetof(struct config_node, instance_id),
     .size = SIZE(struct config_node, instance_id), .arg = "i-",
     .check = check_aws_id},
    {.name = "network_interface_id", .kind = CONFIG_KIND_STRING,
     .offset = offsetof(struct config_node, network_interface_id),
     .size = SIZE(struct config_node, network_interface_id), .arg = "eni-",
     .check = check_aws_id},
};

static const struct config_key heartbeat_keys[] = {
    UINT("interval_ms", struct config, interval_ms, 10, 10000, 200),
    /* The default scales with the interval so the two stay consistent. */
    {.name = "timeout_ms", .kind = CONFIG_KIND_UINT,
     .offset = offsetof(struct config, timeout_ms), .min = 30, .max = 600000,
     .def = 5, .flags = CONFIG_KEY_SCALED,
     .scale_of = offsetof(struct config, interval_ms),
     .check = check_heartbeat_timeout},
    /* Protocol 1's stamp window; freshness no longer uses the clocks. */
    {.name = "replay_window_ms", .kind = CONFIG_KIND_UINT,
     .offset = offsetof(struct config, replay_window_ms), .min = 1000,
     .max = 600000, .def = 30000, .flags = CONFIG_KEY_OBSOLETE},
    {.name = "ports", .kind = CONFIG_KIND_CUSTOM,
     .read = config_node_read_ports, .print = config_node_print_ports},
};

static const struct config_key election_keys[] = {
    {.name = "failback", .kind = CONFIG_KIND_BOOL,
     .offset = offsetof(struct config, failback), .def = 0},
    UINT("failback_delay_ms", struct config, failback_delay_ms, 0,
	 86400000, 30000),
    UINT("startup_wait_ms", struct config, startup_wait_ms, 0,
	 600000, 3000),
    UINT("migration_threshold", struct config, migration_threshold,
	 1, 1000, 1),
    UINT("acquire_timeout_ms", struct config, acquire_timeout_ms, 1000,
	 600000, 30000),
};

static const struct config_key aws_keys[] = {
    STR("region", struct config, region, check_region),
    STR("endpoint", struct config, endpoint, check_url),
    STR("imds_endpoint", struct config, imds_endpoint, check_url),
    STR("profile", struct config, profile, NULL),
    UINT("timeout_ms", struct config, aws_timeout_ms, 100, 120000, 5000),
    {.name = "ca_file", .kind = CONFIG_KIND_PATH,
     .offset = offsetof(struct config, ca_file),
     .size = SIZE(struct config, ca_file), .check = check_readable},
};

static const struct config_key resource_keys[] = {
    {.name = "type", .kind = CONFIG_KIND_VARIANT, .size = 16,
     .def_str = "eip"},
    {.name = "allocation_id", .kind = CONFIG_KIND_STRING,
     .offset = offsetof(struct config_resource, allocation_id),
     .size = SIZE(struct config_resource, allocation_id),
     .variants = CONFIG_VARIANT(CONFIG_RES_EIP), .arg = "eipalloc-",
     .check = check_allocation_id},
    {.name = "public_ip", .kind = CONFIG_KIND_STRING,
     .offset = offsetof(struct config_resource, public_ip),
     .size = SIZE(struct config_resource, public_ip),
     .variants = CONFIG_VARIANT(CONFIG_RES_EIP), .check = check_ipv4},
    {.name = "path", .kind = CONFIG_KIND_PATH,
     .offset = offsetof(struct config_resource, path),
     .size = SIZE(struct config_resource, path),
     .variants = CONFIG_VARIANT(CONFIG_RES_FILE)},
    {.name = "address", .kind = CONFIG_KIND_STRING,
     .offset = offsetof(struct config_resource, address),
     .size = SIZE(struct config_resource, address),
     .variants = CONFIG_VARIANT(CONFIG_RES_SECONDARY_IP),
     .check = check_ipv4},
    {.name = "destination", .kind = CONFIG_KIND_STRING,
     .offset = offsetof(struct config_resource, destination),
     .size = SIZE(struct config_resource, destination),
     .variants = CONFIG_VARIANT(CONFIG_RES_ROUTE),
     .check = config_res_check_cidr},
    {.name = "route_tables", .kind = CONFIG_KIND_CUSTOM,
     .variants = CONFIG_VARIANT(CONFIG_RES_ROUTE),
     .read = config_res_read_route_tables,
     .print = config_res_print_route_tables},
    {.name = "local_address", .kind = CONFIG_KIND_BOOL,
     .offset = offsetof(struct config_resource, local_address), .def = 0,
     .variants = CONFIG_VARIANT(CONFIG_RES_ROUTE)},
};

static const struct config_key monitor_keys[] = {
    UINT("interval_ms", struct config, monitor_interval_ms, 1000,
	 3600000, 10000),
};

static const struct config_key metrics_keys[] = {
    {.name = "textfile", .kind = CONFIG_KIND_PATH,
     .offset = offsetof(struct config, metrics_textfile),
     .size = SIZE(struct config, metrics_textfile)},
};

static const struct config_key check_keys[] = {
    STR("command", struct config, check_command, NULL),
    UINT("interval_ms", struct config, check_interval_ms, 100,
	 3600000, 2000),
    {.name = "timeout_ms", .kind = CONFIG_KIND_UINT,
     .offset = offsetof(struct config, check_timeout_ms), .min = 100,
     .max = 3600000, .def = 1, .flags = CONFIG_KEY_SCALED,
     .scale_of = offsetof(struct config, check_interval_ms)},
    UINT("fall", struct config, check_fall, 1, 100, 3),
    UINT("rise", struct config, check_rise, 1, 100, 2),
};

static const struct config_key hooks_keys[] = {
    STR("active", struct config, hook_active, check_hook),
    STR("standby", struct config, hook_standby, check_hook),
    STR("fault", struct config, hook_fault, check_hook),
    UINT("timeout_ms", struct config, hook_timeout_ms, 100, 3600000,
	 30000),
};

#define GROUP(n, rows, req)                                                    \
	{.name = n, .required = req, .keys = rows, .nkeys = LEN(rows)}

const struct config_section config_schema[] = {
    GROUP("cluster", cluster_keys, 1),
    {.name = "nodes", .list = 1, .required = 1, .keys = node_keys,
     .nkeys = LEN(node_keys), .offset = offsetof(struct config, nodes),
     .shape = "{ name = ...; addresses = [...]; }",
     .stride = sizeof(struct config_node),
     .count_offset = offsetof(struct config, nnodes),
     .max = CONFIG_MAX_NODES, .check_count = config_node_check_count,
     .check = config_node_check_pair},
    GROUP("heartbeat", heartbeat_keys, 0),
    GROUP("election", election_keys, 0),
    GROUP("aws", aws_keys, 0),
    {.name = "resources", .list = 1, .required = 1, .keys = resource_keys,
     .nkeys = LEN(resource_keys),
     .offset = offsetof(struct config, resources),
     .shape = "{ allocation_id = ...; }",
     .stride = sizeof(struct config_resource),
     .count_offset = offsetof(struct config, nresources),
     .max = CONFIG_MAX_RESOURCES, .unique = 1,
     .check_count = check_resource_count, .variants = resource_types,
     .nvariants = LEN(resource_types), .variant_of = resource_type,
     .set_variant = set_resource_type},
    GROUP("monitor", monitor_keys, 0),
    GROUP("metrics", metrics_keys, 0),
    GROUP("check", check_keys, 0),
    GROUP("hooks", hooks_keys, 0),
};
const size_t config_schema_len = LEN(config_schema);
