/*
 * config.c - reads the libconfig file into a validated struct config; every
 * problem becomes one line "FILE:LINE: SETTING: what is wrong".
 */
#include "config.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <libconfig.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_TEXT_MAX (1024 * 1024)
#define NODE_NAME_MAX 31 /* the wire format has a 32-byte field */
#define DEFAULT_AUTHKEY "/etc/eipfloatd/authkey"
#define DEFAULT_PORT0 5405 /* link i defaults to 5405 - i */

#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))

struct ctx {
	const char *file;	   /* as the operator named it, for messages */
	char dir[CONFIG_PATH_MAX]; /* relative paths start here */
	char *err;
	size_t errlen;
};

static int vfail(struct ctx *c, const config_setting_t *s, const char *fmt,
		 va_list ap) PRINTF_LIKE(3, 0);
static int fail(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
    PRINTF_LIKE(3, 4);
static int fail_line(struct ctx *c, unsigned line, const char *fmt, ...)
    PRINTF_LIKE(3, 4);
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
static int refuse(const struct config *next, char *err, size_t errlen,
		  const char *fmt, ...) PRINTF_LIKE(4, 5);

static const char *const top_keys[] = {
    "cluster",	 "nodes",   "heartbeat", "election", "aws",
    "resources", "monitor", "check",	 "hooks",    "metrics", NULL,
};
static const char *const cluster_keys[] = {"name", "authkey", NULL};
static const char *const node_keys[] = {
    "name", "addresses", "priority", "instance_id", "network_interface_id",
    NULL,
};
static const char *const heartbeat_keys[] = {
    "interval_ms", "timeout_ms", "replay_window_ms", "ports", NULL,
};
static const char *const election_keys[] = {
    "failback", "failback_delay_ms", "startup_wait_ms", "migration_threshold",
    NULL,
};
static const char *const aws_keys[] = {
    "region",  "endpoint", "imds_endpoint", "profile", "timeout_ms",
    "ca_file", NULL,
};
static const char *const resource_keys[] = {
    "type", "allocation_id", "public_ip", "path", NULL,
};
static const char *const monitor_keys[] = {"interval_ms", NULL};
static const char *const metrics_keys[] = {"textfile", NULL};
static const char *const check_keys_[] = {
    "command", "interval_ms", "timeout_ms", "fall", "rise", NULL,
};
static const char *const hooks_keys[] = {
    "active", "standby", "fault", "timeout_ms", NULL,
};

/* Append to a fixed buffer; truncation is acceptable for a log line. */
static void
append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

/* Full path of a setting as the operator would write it: nodes[1].name. */
static void
setting_path(const config_setting_t *s, char *buf, size_t len, size_t *pos)
{
	const config_setting_t *p = config_setting_parent(s);
	const char *name = config_setting_name(s);

	if (p == NULL)
		return;
	if (config_setting_parent(p) == NULL) {
		append(buf, len, pos, "%s", name ? name : "?");
		return;
	}
	setting_path(p, buf, len, pos);
	if (name == NULL)
		append(buf, len, pos, "[%d]", config_setting_index(s));
	else
		append(buf, len, pos, ".%s", name);
}

/* Messages are one line, whatever bytes the file or libconfig gave us. */
static void
one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* A string from the file, safe to quote in a message. */
static const char *
shown(const char *in, char *buf, size_t len)
{
	size_t i, n = 0;

	for (i = 0; in[i] && n + 4 < len; i++) {
		unsigned char ch = (unsigned char)in[i];
		buf[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (in[i])
		buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
	buf[n] = '\0';
	return buf;
}

static int
vfail(struct ctx *c, const config_setting_t *s, const char *fmt, va_list ap)
{
	char msg[768], path[256];
	unsigned line;

	if (c->errlen == 0)
		return -1;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (s == NULL) {
		(void)snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
	} else {
		size_t pos = 0;

		path[0] = '\0';
		setting_path(s, path, sizeof(path), &pos);
		line = config_setting_source_line(s);
		if (line > 0)
			(void)snprintf(c->err, c->errlen, "%s:%u: %s: %s",
				       c->file, line, path, msg);
		else
			(void)snprintf(c->err, c->errlen, "%s: %s: %s", c->file,
				       path, msg);
	}
	one_line(c->err);
	return -1;
}

/* Report about setting `s` (NULL: about the file as a whole). */
static int
fail(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, s, fmt, ap);
	va_end(ap);
	return -1;
}

/* For errors with a line but no setting (syntax). */
static int
fail_line(struct ctx *c, unsigned line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (c->errlen == 0)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(c->err, c->errlen, "%s:%u: %s", c->file, line, msg);
	one_line(c->err);
	return -1;
}

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "nothing";
	}
}

/*
 * Levenshtein distance, capped: only used to suggest the key an operator
 * probably meant, so long names simply get no suggestion.
 */
static unsigned
distance(const char *a, const char *b)
{
	unsigned row[33], i, j, la = strlen(a), lb = strlen(b);

	if (la > 32 || lb > 32)
		return UINT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned diag = row[0], up;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			up = row[j];
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* Unknown keys are errors: a typo must not silently keep a default. */
static int
check_keys(struct ctx *c, const config_setting_t *grp, const char *const *keys)
{
	int i, n = config_setting_length(grp);

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(grp, i);
		const char *name = config_setting_name(m);
		const char *best = NULL;
		unsigned d, bestd = 3;
		size_t k;

		for (k = 0; keys[k] && strcmp(keys[k], name) != 0; k++)
			;
		if (keys[k])
			continue;
		for (k = 0; keys[k]; k++) {
			d = distance(name, keys[k]);
			if (d < bestd)
				bestd = d, best = keys[k];
		}
		if (best)
			return fail(c, m, "unknown setting (did you mean %s?)",
				    best);
		return fail(c, m, "unknown setting");
	}
	return 0;
}

static const config_setting_t *
member(const config_setting_t *grp, const char *key)
{
	return grp ? config_setting_get_member(grp, key) : NULL;
}

static int
int_value(struct ctx *c, const config_setting_t *s, long long min,
	  long long max, unsigned *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(c, s, "expected an integer, got %s", type_name(s));
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return fail(c, s, "%lld is out of range (%lld..%lld)", v, min,
			    max);
	*out = (unsigned)v;
	return 0;
}

/* *out holds the default on entry and keeps it when the key is absent. */
static int
opt_uint(struct ctx *c, const config_setting_t *grp, const char *key,
	 long long min, long long max, unsigned *out)
{
	const config_setting_t *s = member(grp, key);

	return s ? int_value(c, s, min, max, out) : 0;
}

static int
opt_bool(struct ctx *c, const config_setting_t *grp, const char *key, int *out)
{
	const config_setting_t *s = member(grp, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(c, s, "expected true or false, got %s",
			    type_name(s));
	*out = config_setting_get_bool(s);
	return 0;
}

static int
str_value(struct ctx *c, const config_setting_t *s, char *buf, size_t size)
{
	const char *v;
	size_t len;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(c, s, "expected a string, got %s", type_name(s));
	v = config_setting_get_string(s);
	len = strlen(v);
	if (len >= size)
		return fail(c, s, "too long (%zu characters, at most %zu)", len,
			    size - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return fail(c, s, "contains a control character");
	util_strlcpy(buf, v, size);
	return 0;
}

/* Absent and "" both mean the default; *sp gets the setting (or NULL). */
static int
opt_str(struct ctx *c, const config_setting_t *grp, const char *key, char *buf,
	size_t size, const config_setting_t **sp)
{
	const config_setting_t *s = member(grp, key);

	if (sp)
		*sp = s;
	return s ? str_value(c, s, buf, size) : 0;
}

/* An optional group; *out is NULL when absent. */
static int
opt_group(struct ctx *c, const config_setting_t *root, const char *key,
	  const char *const *keys, const config_setting_t **out)
{
	const config_setting_t *s = member(root, key);

	*out = s;
	if (s == NULL)
		return 0;
	if (!config_setting_is_group(s))
		return fail(c, s, "expected a group { ... }, got %s",
			    type_name(s));
	return check_keys(c, s, keys);
}

/* A list (or array) that must be present and hold 1..max entries. */
static int
req_list(struct ctx *c, const config_setting_t *root, const char *key,
	 const config_setting_t **out)
{
	const config_setting_t *s = member(root, key);

	*out = s;
	if (s == NULL)
		return fail(c, NULL, "%s: required setting is missing", key);
	if (!config_setting_is_list(s) && !config_setting_is_array(s))
		return fail(c, s, "expected a list ( ... ), got %s",
			    type_name(s));
	return 0;
}

/* A relative path is relative to the directory of the config file. */
static int
resolve(struct ctx *c, const config_setting_t *s, const char *in, char *out,
	size_t size)
{
	int n;

	if (in[0] == '/')
		n = snprintf(out, size, "%s", in);
	else
		n = snprintf(out, size, "%s/%s", c->dir, in);
	if (n < 0 || (size_t)n >= size)
		return fail(c, s, "path too long");
	return 0;
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
static int
aws_id_ok(const char *s, const char *prefix)
{
	size_t p = strlen(prefix), n;

	if (strncmp(s, prefix, p) != 0)
		return 0;
	n = strlen(s + p);
	return (n == 8 || n == 17) && is_hex(s + p, n);
}

static int
opt_aws_id(struct ctx *c, const config_setting_t *grp, const char *key,
	   const char *prefix, char *buf, size_t size)
{
	const config_setting_t *s;
	char tmp[80];

	if (opt_str(c, grp, key, buf, size, &s) == -1)
		return -1;
	if (s == NULL || buf[0] == '\0' || aws_id_ok(buf, prefix))
		return 0;
	return fail(c, s,
		    "\"%s\" is not a valid id (expected %s followed by 8 or 17 "
		    "lowercase hex digits)",
		    shown(buf, tmp, sizeof(tmp)), prefix);
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

/* The node name travels in a 32-byte wire field and appears in logs. */
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

static int
addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
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

/*
 * libconfig 1.5 silently truncates integers that do not fit in 32 bits
 * (5000000000 reads as 705032704, which can land inside a valid range) and
 * would pull in @include'd files that this pre-scan never sees. Refuse both
 * before parsing; strings and comments are skipped.
 */
static int
prescan(struct ctx *c, const char *t)
{
	unsigned line = 1;
	int bol = 1;

	while (*t) {
		const char *st = t;

		if (*t == '\n') {
			line++, bol = 1, t++;
		} else if (*t == '"') {
			for (t++; *t && *t != '"'; t++) {
				if (*t == '\\' && t[1])
					t++;
				if (*t == '\n')
					line++;
			}
			if (*t)
				t++;
			bol = 0;
		} else if (*t == '#' || (t[0] == '/' && t[1] == '/')) {
			while (*t && *t != '\n')
				t++;
		} else if (t[0] == '/' && t[1] == '*') {
			for (t += 2; *t && !(t[0] == '*' && t[1] == '/'); t++)
				if (*t == '\n')
					line++;
			if (*t)
				t += 2;
		} else if (*t == '@') {
			if (bol && strncmp(t, "@include", 8) == 0)
				return fail_line(c, line,
						 "@include is not supported; "
						 "keep the configuration in "
						 "one file");
			bol = 0, t++;
		} else if (isalpha((unsigned char)*t) || *t == '*') {
			while (isalnum((unsigned char)*t) || *t == '-' ||
			       *t == '_' || *t == '*')
				t++;
			bol = 0;
		} else if (isdigit((unsigned char)*t)) {
			int hex = t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
			int flt = 0;
			unsigned long long v;
			char tok[40];

			while (isalnum((unsigned char)*t) || *t == '.' ||
			       ((*t == '+' || *t == '-') && !hex &&
				(t[-1] == 'e' || t[-1] == 'E'))) {
				if (*t == '.' ||
				    (!hex && (*t == 'e' || *t == 'E')))
					flt = 1;
				t++;
			}
			bol = 0;
			if (flt || t[-1] == 'L')
				continue;
			(void)snprintf(tok, sizeof(tok), "%.*s", (int)(t - st),
				       st);
			errno = 0;
			v = strtoull(tok, NULL, hex ? 16 : 10);
			if (errno == ERANGE || (hex && v > 0xffffffffull) ||
			    (!hex && v > INT_MAX))
				return fail_line(
				    c, line, "integer %s is too large", tok);
		} else {
			if (!isspace((unsigned char)*t))
				bol = 0;
			t++;
		}
	}
	return 0;
}

static int
read_authkey(struct ctx *c, const config_setting_t *s, struct config *cfg)
{
	const char *path = cfg->authkey_path;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	/*
	 * Look before opening: opening a device named by mistake can have
	 * effects (a watchdog arms itself). O_NONBLOCK covers the race.
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return fail(c, s, "authkey %s is not a regular file", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return fail(c, s, "cannot open authkey %s: %s%s", path,
			    strerror(errno),
			    errno == ENOENT ? " (create it with eipfloatd "
					      "--keygen FILE)"
					    : "");
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(c, s, "authkey %s is not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return fail(c, s,
			    "authkey %s is %s by group/other (mode %04o); "
			    "chmod 600 it",
			    path,
			    (st.st_mode & 044)	 ? "readable"
			    : (st.st_mode & 022) ? "writable"
						 : "accessible",
			    (unsigned)(st.st_mode & 07777));
	}
	if (st.st_size < CONFIG_AUTHKEY_MIN ||
	    st.st_size > CONFIG_AUTHKEY_MAX) {
		close(fd);
		return fail(c, s,
			    "authkey %s is %lld bytes; it must be %d..%d "
			    "(make one with eipfloatd --keygen FILE)",
			    path, (long long)st.st_size, CONFIG_AUTHKEY_MIN,
			    CONFIG_AUTHKEY_MAX);
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, cfg->authkey + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size)
		return fail(c, s, "authkey %s: short read", path);
	cfg->authkey_len = got;
	return 0;
}

static int
parse_cluster(struct ctx *c, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *grp, *s;
	char key[CONFIG_PATH_MAX];

	if (opt_group(c, root, "cluster", cluster_keys, &grp) == -1)
		return -1;
	if (grp == NULL)
		return fail(c, NULL, "cluster: required setting is missing");
	if (opt_str(c, grp, "name", cfg->cluster_name,
		    sizeof(cfg->cluster_name), &s) == -1)
		return -1;
	if (s == NULL)
		return fail(c, grp, "name is missing");
	if (cfg->cluster_name[0] == '\0')
		return fail(c, s, "must not be empty");

	util_strlcpy(key, DEFAULT_AUTHKEY, sizeof(key));
	if (opt_str(c, grp, "authkey", key, sizeof(key), &s) == -1)
		return -1;
	if (s != NULL && key[0] == '\0')
		return fail(c, s, "must not be empty");
	if (resolve(c, s ? s : grp, key, cfg->authkey_path,
		    sizeof(cfg->authkey_path)) == -1)
		return -1;
	return read_authkey(c, s ? s : grp, cfg);
}

static int
parse_addresses(struct ctx *c, const config_setting_t *grp,
		struct config_node *n)
{
	const config_setting_t *list = member(grp, "addresses");
	char tmp[80];
	int i, len;

	if (list == NULL)
		return fail(c, grp, "addresses is missing");
	if (!config_setting_is_array(list) && !config_setting_is_list(list))
		return fail(c, list, "expected [ \"address\", ... ], got %s",
			    type_name(list));
	len = config_setting_length(list);
	if (len < 1 || len > CONFIG_MAX_LINKS)
		return fail(c, list,
			    "has %d entries; 1..%d links are supported", len,
			    CONFIG_MAX_LINKS);
	for (i = 0; i < len; i++) {
		const config_setting_t *a = config_setting_get_elem(list, i);
		char *str = n->addr_str[i];
		const char *why;

		if (str_value(c, a, str, CONFIG_ADDRSTR_MAX) == -1)
			return -1;
		if (addr_parse(str, &n->addr[i], &n->addrlen[i]) == -1)
			return fail(c, a,
				    "\"%s\" is not an IPv4 or IPv6 address",
				    shown(str, tmp, sizeof(tmp)));
		why = addr_unusable(&n->addr[i]);
		if (why)
			return fail(c, a, "%s %s", str, why);
		/* Keep the canonical spelling for logs and the summary. */
		inet_ntop(n->addr[i].ss_family, addr_bytes(&n->addr[i]), str,
			  CONFIG_ADDRSTR_MAX);
	}
	n->naddrs = (unsigned)len;
	return 0;
}

static int
parse_node(struct ctx *c, const config_setting_t *grp, struct config_node *n)
{
	const config_setting_t *s;
	char tmp[80];

	if (!config_setting_is_group(grp))
		return fail(c, grp,
			    "expected a group { name = ...; addresses = [...]; "
			    "}, got %s",
			    type_name(grp));
	if (check_keys(c, grp, node_keys) == -1)
		return -1;
	if (opt_str(c, grp, "name", n->name, sizeof(n->name), &s) == -1)
		return -1;
	if (s == NULL)
		return fail(c, grp, "name is missing");
	if (!node_name_ok(n->name))
		return fail(c, s,
			    "\"%s\" is not a valid node name (1..%d characters "
			    "of A-Z a-z 0-9 . _ -)",
			    shown(n->name, tmp, sizeof(tmp)), NODE_NAME_MAX);
	if (parse_addresses(c, grp, n) == -1)
		return -1;
	n->priority = 100;
	if (opt_uint(c, grp, "priority", 0, 255, &n->priority) == -1)
		return -1;
	if (opt_aws_id(c, grp, "instance_id", "i-", n->instance_id,
		       sizeof(n->instance_id)) == -1)
		return -1;
	return opt_aws_id(c, grp, "network_interface_id", "eni-",
			  n->network_interface_id,
			  sizeof(n->network_interface_id));
}

static const config_setting_t *
address_setting(const config_setting_t *nodes, unsigned node, unsigned i)
{
	const config_setting_t *grp = config_setting_get_elem(nodes, node);

	return config_setting_get_elem(member(grp, "addresses"), i);
}

/* An address twice, within a node or across both, is always a typo. */
static int
check_duplicates(struct ctx *c, const config_setting_t *nodes,
		 const struct config *cfg)
{
	unsigned nl = cfg->nodes[0].naddrs, k, l;

	for (k = 0; k < 2 * nl; k++) {
		const struct config_node *a = &cfg->nodes[k / nl];

		for (l = 0; l < k; l++) {
			const struct config_node *b = &cfg->nodes[l / nl];

			if (addr_equal(&a->addr[k % nl], &b->addr[l % nl]))
				return fail(
				    c, address_setting(nodes, k / nl, k % nl),
				    "duplicate address %s (also "
				    "nodes[%u].addresses[%u])",
				    a->addr_str[k % nl], l / nl, l % nl);
		}
	}
	return 0;
}

/* What only makes sense across both nodes: names, links, families. */
static int
check_node_pair(struct ctx *c, const config_setting_t *nodes,
		struct config *cfg)
{
	const struct config_node *a = &cfg->nodes[0], *b = &cfg->nodes[1];
	unsigned i;

	if (strcmp(a->name, b->name) == 0)
		return fail(
		    c, member(config_setting_get_elem(nodes, 1), "name"),
		    "duplicate node name \"%s\" (also nodes[0].name)", b->name);
	if (a->naddrs != b->naddrs)
		return fail(
		    c, member(config_setting_get_elem(nodes, 1), "addresses"),
		    "has %u addresses but nodes[0] has %u; link i "
		    "joins addresses[i] of both nodes",
		    b->naddrs, a->naddrs);
	if (check_duplicates(c, nodes, cfg) == -1)
		return -1;
	for (i = 0; i < a->naddrs; i++)
		if (a->addr[i].ss_family != b->addr[i].ss_family)
			return fail(c, address_setting(nodes, 1, i),
				    "%s is %s but nodes[0].addresses[%u] is "
				    "%s; both ends of link %u must be the "
				    "same family",
				    b->addr_str[i], family_name(&b->addr[i]), i,
				    family_name(&a->addr[i]), i);
	cfg->nlinks = a->naddrs;
	return 0;
}

static int
parse_nodes(struct ctx *c, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *nodes;
	int i, len;

	if (req_list(c, root, "nodes", &nodes) == -1)
		return -1;
	len = config_setting_length(nodes);
	if (len != CONFIG_MAX_NODES)
		return fail(c, nodes,
			    "has %d entr%s; eipfloatd runs exactly two nodes",
			    len, len == 1 ? "y" : "ies");
	for (i = 0; i < len; i++)
		if (parse_node(c, config_setting_get_elem(nodes, i),
			       &cfg->nodes[i]) == -1)
			return -1;
	cfg->nnodes = (unsigned)len;
	return check_node_pair(c, nodes, cfg);
}

static int
parse_ports(struct ctx *c, const config_setting_t *grp, struct config *cfg)
{
	const config_setting_t *list = member(grp, "ports");
	unsigned i, j, n;

	for (i = 0; i < cfg->nlinks; i++)
		cfg->ports[i] = DEFAULT_PORT0 - i;
	if (list != NULL) {
		if (!config_setting_is_array(list) &&
		    !config_setting_is_list(list))
			return fail(c, list, "expected [ port, ... ], got %s",
				    type_name(list));
		n = (unsigned)config_setting_length(list);
		if (n != cfg->nlinks)
			return fail(c, list,
				    "has %u entr%s but each node has %u "
				    "address%s; link i uses addresses[i] and "
				    "ports[i]",
				    n, n == 1 ? "y" : "ies", cfg->nlinks,
				    cfg->nlinks == 1 ? "" : "es");
		for (i = 0; i < n; i++) {
			const config_setting_t *p =
			    config_setting_get_elem(list, i);

			if (int_value(c, p, 1, 65535, &cfg->ports[i]) == -1)
				return -1;
			for (j = 0; j < i; j++)
				if (cfg->ports[j] == cfg->ports[i])
					return fail(c, p,
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

static int
parse_heartbeat(struct ctx *c, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *grp, *ts;

	if (opt_group(c, root, "heartbeat", heartbeat_keys, &grp) == -1)
		return -1;
	cfg->interval_ms = 200;
	if (opt_uint(c, grp, "interval_ms", 10, 10000, &cfg->interval_ms) == -1)
		return -1;
	/* The default scales with the interval so the two stay consistent. */
	cfg->timeout_ms = 5 * cfg->interval_ms;
	if (opt_uint(c, grp, "timeout_ms", 30, 600000, &cfg->timeout_ms) == -1)
		return -1;
	ts = member(grp, "timeout_ms");
	if (cfg->timeout_ms < 3 * cfg->interval_ms)
		return fail(c, ts,
			    "%u is less than 3 * heartbeat.interval_ms "
			    "(%u); one lost packet would end the peer",
			    cfg->timeout_ms, 3 * cfg->interval_ms);
	cfg->replay_window_ms = 30000;
	if (opt_uint(c, grp, "replay_window_ms", 1000, 600000,
		     &cfg->replay_window_ms) == -1)
		return -1;
	return parse_ports(c, grp, cfg);
}

static int
parse_election(struct ctx *c, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *grp;

	if (opt_group(c, root, "election", election_keys, &grp) == -1)
		return -1;
	cfg->failback = 0;
	cfg->failback_delay_ms = 30000;
	cfg->startup_wait_ms = 3000;
	cfg->migration_threshold = 1;
	if (opt_bool(c, grp, "failback", &cfg->failback) == -1 ||
	    opt_uint(c, grp, "failback_delay_ms", 0, 86400000,
		     &cfg->failback_delay_ms) == -1 ||
	    opt_uint(c, grp, "startup_wait_ms", 0, 600000,
		     &cfg->startup_wait_ms) == -1 ||
	    opt_uint(c, grp, "migration_threshold", 1, 1000,
		     &cfg->migration_threshold) == -1)
		return -1;
	return 0;
}

static int
opt_url(struct ctx *c, const config_setting_t *grp, const char *key, char *buf,
	size_t size)
{
	const config_setting_t *s;
	char tmp[80];

	if (opt_str(c, grp, key, buf, size, &s) == -1)
		return -1;
	if (buf[0] == '\0' || url_ok(buf))
		return 0;
	return fail(c, s, "\"%s\" is not an http:// or https:// URL",
		    shown(buf, tmp, sizeof(tmp)));
}

static int
parse_aws(struct ctx *c, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *grp, *s;
	char tmp[80], path[CONFIG_PATH_MAX];
	struct stat st;

	if (opt_group(c, root, "aws", aws_keys, &grp) == -1)
		return -1;
	if (opt_str(c, grp, "region", cfg->region, sizeof(cfg->region), &s) ==
	    -1)
		return -1;
	if (cfg->region[0] && !region_ok(cfg->region))
		return fail(c, s,
			    "\"%s\" is not a region name (like us-east-1)",
			    shown(cfg->region, tmp, sizeof(tmp)));
	if (opt_url(c, grp, "endpoint", cfg->endpoint, sizeof(cfg->endpoint)) ==
		-1 ||
	    opt_url(c, grp, "imds_endpoint", cfg->imds_endpoint,
		    sizeof(cfg->imds_endpoint)) == -1 ||
	    opt_str(c, grp, "profile", cfg->profile, sizeof(cfg->profile),
		    NULL) == -1)
		return -1;
	cfg->aws_timeout_ms = 5000;
	if (opt_uint(c, grp, "timeout_ms", 100, 120000, &cfg->aws_timeout_ms) ==
	    -1)
		return -1;
	if (opt_str(c, grp, "ca_file", path, sizeof(path), &s) == -1)
		return -1;
	if (s == NULL || path[0] == '\0')
		return 0;
	if (resolve(c, s, path, cfg->ca_file, sizeof(cfg->ca_file)) == -1)
		return -1;
	if (stat(cfg->ca_file, &st) == -1)
		return fail(c, s, "%s: %s", cfg->ca_file, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(cfg->ca_file, R_OK) == -1)
		return fail(c, s, "%s is not a readable file", cfg->ca_file);
	return 0;
}

static int
parse_resource(struct ctx *c, const config_setting_t *grp,
	       struct config_resource *r)
{
	const config_setting_t *ts, *as, *ps, *fs;
	char type[16] = "eip", tmp[80], path[CONFIG_PATH_MAX];
	struct in_addr ip;

	if (!config_setting_is_group(grp))
		return fail(c, grp,
			    "expected a group { allocation_id = ...; }, got %s",
			    type_name(grp));
	if (check_keys(c, grp, resource_keys) == -1 ||
	    opt_str(c, grp, "type", type, sizeof(type), &ts) == -1 ||
	    opt_str(c, grp, "allocation_id", r->allocation_id,
		    sizeof(r->allocation_id), &as) == -1 ||
	    opt_str(c, grp, "public_ip", r->public_ip, sizeof(r->public_ip),
		    &ps) == -1 ||
	    opt_str(c, grp, "path", path, sizeof(path), &fs) == -1)
		return -1;

	if (strcmp(type, "file") == 0) {
		r->type = CONFIG_RES_FILE;
		if (as || ps)
			return fail(c, as ? as : ps,
				    "only for resources of type \"eip\"");
		if (fs == NULL || path[0] == '\0')
			return fail(c, fs ? fs : grp,
				    "type \"file\" needs a path");
		return resolve(c, fs, path, r->path, sizeof(r->path));
	}
	if (strcmp(type, "eip") != 0)
		return fail(c, ts, "unknown type \"%s\" (expected \"eip\")",
			    shown(type, tmp, sizeof(tmp)));
	r->type = CONFIG_RES_EIP;
	if (fs)
		return fail(c, fs, "only for resources of type \"file\"");
	if (as && ps)
		return fail(c, ps, "give allocation_id or public_ip, not both");
	if (!as && !ps)
		return fail(c, grp, "needs allocation_id or public_ip");
	if (as && !aws_id_ok(r->allocation_id, "eipalloc-"))
		return fail(c, as,
			    "\"%s\" is not an allocation id (expected "
			    "eipalloc- followed by 8 or 17 lowercase hex "
			    "digits)",
			    shown(r->allocation_id, tmp, sizeof(tmp)));
	if (ps && inet_pton(AF_INET, r->public_ip, &ip) != 1)
		return fail(c, ps, "\"%s\" is not an IPv4 address",
			    shown(r->public_ip, tmp, sizeof(tmp)));
	return 0;
}

static int
parse_resources(struct ctx *c, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *list;
	int i, j, len;

	if (req_list(c, root, "resources", &list) == -1)
		return -1;
	len = config_setting_length(list);
	if (len == 0)
		return fail(c, list, "is empty; list at least one resource");
	if (len > CONFIG_MAX_RESOURCES)
		return fail(c, list, "has %d entries; at most %d are supported",
			    len, CONFIG_MAX_RESOURCES);
	for (i = 0; i < len; i++) {
		const config_setting_t *s = config_setting_get_elem(list, i);
		struct config_resource *r = &cfg->resources[i];

		if (parse_resource(c, s, r) == -1)
			return -1;
		for (j = 0; j < i; j++) {
			const struct config_resource *o = &cfg->resources[j];

			if (o->type == r->type &&
			    strcmp(o->allocation_id, r->allocation_id) == 0 &&
			    strcmp(o->public_ip, r->public_ip) == 0 &&
			    strcmp(o->path, r->path) == 0)
				return fail(c, s, "duplicate of resources[%d]",
					    j);
		}
	}
	cfg->nresources = (unsigned)len;
	return 0;
}

static int
parse_monitor(struct ctx *c, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *grp;

	if (opt_group(c, root, "monitor", monitor_keys, &grp) == -1)
		return -1;
	cfg->monitor_interval_ms = 10000;
	return opt_uint(c, grp, "interval_ms", 1000, 3600000,
			&cfg->monitor_interval_ms);
}

static int
parse_metrics(struct ctx *c, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *grp, *s = NULL;
	char path[CONFIG_PATH_MAX];

	if (opt_group(c, root, "metrics", metrics_keys, &grp) == -1 ||
	    opt_str(c, grp, "textfile", path, sizeof(path), &s) == -1)
		return -1;
	if (s == NULL || path[0] == '\0')
		return 0;
	return resolve(c, s, path, cfg->metrics_textfile,
		       sizeof(cfg->metrics_textfile));
}

static int
parse_check(struct ctx *c, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *grp;

	if (opt_group(c, root, "check", check_keys_, &grp) == -1)
		return -1;
	cfg->check_interval_ms = 2000;
	cfg->check_fall = 3;
	cfg->check_rise = 2;
	if (opt_str(c, grp, "command", cfg->check_command,
		    sizeof(cfg->check_command), NULL) == -1 ||
	    opt_uint(c, grp, "interval_ms", 100, 3600000,
		     &cfg->check_interval_ms) == -1)
		return -1;
	cfg->check_timeout_ms = cfg->check_interval_ms;
	if (opt_uint(c, grp, "timeout_ms", 100, 3600000,
		     &cfg->check_timeout_ms) == -1 ||
	    opt_uint(c, grp, "fall", 1, 100, &cfg->check_fall) == -1 ||
	    opt_uint(c, grp, "rise", 1, 100, &cfg->check_rise) == -1)
		return -1;
	return 0;
}

/* Hooks run at failover time: find a missing one now, not then. */
static int
opt_hook(struct ctx *c, const config_setting_t *grp, const char *key, char *buf,
	 size_t size)
{
	const config_setting_t *s;
	struct stat st;

	if (opt_str(c, grp, key, buf, size, &s) == -1)
		return -1;
	if (buf[0] == '\0')
		return 0;
	if (buf[0] != '/')
		return fail(c, s, "%s is not an absolute path", buf);
	if (stat(buf, &st) == -1)
		return fail(c, s, "%s: %s", buf, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(buf, X_OK) == -1)
		return fail(c, s, "%s is not an executable file", buf);
	return 0;
}

static int
parse_hooks(struct ctx *c, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *grp;

	if (opt_group(c, root, "hooks", hooks_keys, &grp) == -1)
		return -1;
	cfg->hook_timeout_ms = 30000;
	if (opt_hook(c, grp, "active", cfg->hook_active,
		     sizeof(cfg->hook_active)) == -1 ||
	    opt_hook(c, grp, "standby", cfg->hook_standby,
		     sizeof(cfg->hook_standby)) == -1 ||
	    opt_hook(c, grp, "fault", cfg->hook_fault,
		     sizeof(cfg->hook_fault)) == -1)
		return -1;
	return opt_uint(c, grp, "timeout_ms", 100, 3600000,
			&cfg->hook_timeout_ms);
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
			if (addr_equal(&ss, &n->addr[k]))
				return 1;
	}
	return 0;
}

/*
 * Which entry is this host: the name given, else the host name (full, then
 * the part before the first dot), else a local interface address.
 */
static int
select_self(struct ctx *c, const char *node, struct config *cfg)
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
			return fail(c, NULL,
				    "node \"%s\" is not in nodes (names: "
				    "\"%s\", \"%s\")",
				    shown(node, tmp, sizeof(tmp)),
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
		return fail(c, NULL,
			    "no node is named after this host (%s) and the "
			    "local addresses are unknown (%s); use -n NAME",
			    shown(host, tmp, sizeof(tmp)), strerror(errno));
	for (i = 0; i < cfg->nnodes; i++)
		if (node_has_local_addr(&cfg->nodes[i], ifs))
			hits++, hit = i;
	freeifaddrs(ifs);
	if (hits == 0)
		return fail(c, NULL,
			    "no node matches this host (hostname %s, no local "
			    "address in nodes[].addresses); use -n NAME",
			    shown(host, tmp, sizeof(tmp)));
	if (hits > 1)
		return fail(c, NULL,
			    "both nodes have an address on this host "
			    "(hostname %s); use -n NAME",
			    shown(host, tmp, sizeof(tmp)));
	i = hit;
found:
	cfg->self = i;
	cfg->peer = 1 - i;
	return 0;
}

static int
parse(struct ctx *c, const config_t *lc, const char *node, struct config *cfg)
{
	const config_setting_t *root = config_root_setting(lc);

	if (check_keys(c, root, top_keys) == -1 ||
	    parse_cluster(c, root, cfg) == -1 ||
	    parse_nodes(c, root, cfg) == -1 ||
	    parse_heartbeat(c, root, cfg) == -1 ||
	    parse_election(c, root, cfg) == -1 ||
	    parse_aws(c, root, cfg) == -1 ||
	    parse_resources(c, root, cfg) == -1 ||
	    parse_monitor(c, root, cfg) == -1 ||
	    parse_metrics(c, root, cfg) == -1 ||
	    parse_check(c, root, cfg) == -1 || parse_hooks(c, root, cfg) == -1)
		return -1;
	return select_self(c, node, cfg);
}

/* The directory relative paths start from, made absolute (we may chdir). */
static int
set_dir(struct ctx *c, const char *file)
{
	const char *slash = strrchr(file, '/');
	char cwd[CONFIG_PATH_MAX];
	int len = slash ? (int)(slash - file) : 0, n;

	if (file[0] == '/') {
		n = snprintf(c->dir, sizeof(c->dir), "%.*s", len, file);
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			util_strlcpy(cwd, ".", sizeof(cwd));
		if (slash)
			n = snprintf(c->dir, sizeof(c->dir), "%s/%.*s", cwd,
				     len, file);
		else
			n = snprintf(c->dir, sizeof(c->dir), "%s", cwd);
	}
	if (n < 0 || (size_t)n >= sizeof(c->dir))
		return fail(c, NULL, "path too long");
	return 0;
}

int
config_load_string(const char *text, const char *name, const char *node,
		   struct config *out, char *err, size_t errlen)
{
	struct ctx c = {.file = name, .err = err, .errlen = errlen};
	config_t lc;
	int rc;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	util_strlcpy(out->file, name, sizeof(out->file));
	if (set_dir(&c, name) == -1 || prescan(&c, text) == -1)
		return -1;
	config_init(&lc);
	if (!config_read_string(&lc, text)) {
		fail_line(&c, (unsigned)config_error_line(&lc), "%s",
			  config_error_text(&lc));
		config_destroy(&lc);
		return -1;
	}
	rc = parse(&c, &lc, node, out);
	config_destroy(&lc);
	if (rc == -1) {
		util_explicit_bzero(out->authkey, sizeof(out->authkey));
		out->authkey_len = 0;
	}
	return rc;
}

int
config_load(const char *path, const char *node, struct config *out, char *err,
	    size_t errlen)
{
	struct ctx c = {.file = path, .err = err, .errlen = errlen};
	struct stat st;
	char *text;
	size_t got = 0;
	ssize_t n;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return fail(&c, NULL, "not a regular file");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return fail(&c, NULL, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(&c, NULL, "not a regular file");
	}
	if (st.st_size > CONFIG_TEXT_MAX) {
		close(fd);
		return fail(&c, NULL, "too large (%lld bytes, at most %d)",
			    (long long)st.st_size, CONFIG_TEXT_MAX);
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		close(fd);
		return fail(&c, NULL, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, text + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	text[got] = '\0';
	if (strlen(text) != got)
		rc = fail(&c, NULL, "contains a NUL byte; not a text file");
	else
		rc = config_load_string(text, path, node, out, err, errlen);
	free(text);
	return rc;
}

static void
addr_with_port(const struct config_node *n, unsigned i, unsigned port,
	       char *buf, size_t len)
{
	if (n->addr[i].ss_family == AF_INET6)
		(void)snprintf(buf, len, "[%s]:%u", n->addr_str[i], port);
	else
		(void)snprintf(buf, len, "%s:%u", n->addr_str[i], port);
}

void
config_summary(const struct config *cfg, char *buf, size_t len)
{
	const struct config_node *self = &cfg->nodes[cfg->self];
	const struct config_node *peer = &cfg->nodes[cfg->peer];
	char addr[CONFIG_ADDRSTR_MAX + 16];
	size_t pos = 0;
	unsigned i;

	if (len == 0)
		return;
	buf[0] = '\0';
	append(buf, len, &pos,
	       "cluster \"%s\": %s (priority %u) <-> %s (priority %u), %u "
	       "link%s (",
	       cfg->cluster_name, self->name, self->priority, peer->name,
	       peer->priority, cfg->nlinks, cfg->nlinks == 1 ? "" : "s");
	for (i = 0; i < cfg->nlinks; i++) {
		addr_with_port(self, i, cfg->ports[i], addr, sizeof(addr));
		append(buf, len, &pos, "%s%s", i ? ", " : "", addr);
	}
	append(buf, len, &pos, "), %u resource%s (", cfg->nresources,
	       cfg->nresources == 1 ? "" : "s");
	for (i = 0; i < cfg->nresources; i++) {
		const struct config_resource *r = &cfg->resources[i];

		append(buf, len, &pos, "%s", i ? ", " : "");
		switch (r->type) {
		case CONFIG_RES_EIP:
			append(buf, len, &pos, "%s",
			       r->allocation_id[0] ? r->allocation_id
						   : r->public_ip);
			break;
		case CONFIG_RES_FILE:
			append(buf, len, &pos, "file %s", r->path);
			break;
		}
	}
	append(buf, len, &pos, "), interval %u ms, timeout %u ms, ",
	       cfg->interval_ms, cfg->timeout_ms);
	if (cfg->failback)
		append(buf, len, &pos, "failback after %u ms",
		       cfg->failback_delay_ms);
	else
		append(buf, len, &pos, "failback off");
}

static int
refuse(const struct config *next, char *err, size_t errlen, const char *fmt,
       ...)
{
	char msg[512];
	va_list ap;

	if (errlen == 0)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(err, errlen,
		       "%s: cannot change %s on reload; restart the "
		       "daemon",
		       next->file, msg);
	one_line(err);
	return -1;
}

/*
 * The sockets, the peer's identity and the MAC input are fixed for the
 * life of the process; everything else (timers, priorities, hooks, keys,
 * resources) is read afresh.
 */
int
config_reload_check(const struct config *cur, const struct config *next,
		    char *err, size_t errlen)
{
	const unsigned role_cur[2] = {cur->self, cur->peer};
	const unsigned role_next[2] = {next->self, next->peer};
	unsigned r, i;

	if (strcmp(cur->cluster_name, next->cluster_name) != 0)
		return refuse(next, err, errlen, "cluster.name");
	for (r = 0; r < 2; r++) {
		const struct config_node *a = &cur->nodes[role_cur[r]];
		const struct config_node *b = &next->nodes[role_next[r]];

		if (strcmp(a->name, b->name) != 0)
			return refuse(next, err, errlen,
				      "nodes[%u].name (the %s node, \"%s\")",
				      role_next[r], r == 0 ? "local" : "peer",
				      a->name);
	}
	if (cur->nlinks != next->nlinks)
		return refuse(next, err, errlen,
			      "the number of heartbeat links (%u to %u)",
			      cur->nlinks, next->nlinks);
	for (i = 0; i < cur->nlinks; i++)
		if (cur->ports[i] != next->ports[i])
			return refuse(next, err, errlen, "heartbeat.ports");
	for (r = 0; r < 2; r++)
		for (i = 0; i < cur->nlinks; i++)
			if (!addr_equal(&cur->nodes[role_cur[r]].addr[i],
					&next->nodes[role_next[r]].addr[i]))
				return refuse(next, err, errlen,
					      "nodes[%u].addresses[%u]",
					      role_next[r], i);
	if (errlen > 0)
		err[0] = '\0';
	return 0;
}
