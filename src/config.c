/*
 * config.c - loads the libconfig file into a validated struct config (the
 * keys themselves are the schema in config_keys.c), reports every problem
 * as one line "FILE:LINE: SETTING: what is wrong", and answers what a
 * reload may change, the one-line summary and `-T`.
 */
#include "config.h"
#include "config_schema.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_TEXT_MAX (1024 * 1024)

static int vfail(struct config_ctx *c, const config_setting_t *s,
		 const char *fmt, va_list ap) CONFIG_PRINTF_LIKE(3, 0);
static int refuse(const struct config *next, char *err, size_t errlen,
		  const char *fmt, ...) CONFIG_PRINTF_LIKE(4, 5);

void
config_append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
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
		config_append(buf, len, pos, "%s", name ? name : "?");
		return;
	}
	setting_path(p, buf, len, pos);
	if (name == NULL)
		config_append(buf, len, pos, "[%d]", config_setting_index(s));
	else
		config_append(buf, len, pos, ".%s", name);
}

void
config_one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

const char *
config_shown(const char *in, char *buf, size_t len)
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
vfail(struct config_ctx *c, const config_setting_t *s, const char *fmt, va_list ap)
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
	config_one_line(c->err);
	return -1;
}

int
config_fail(struct config_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, s, fmt, ap);
	va_end(ap);
	return -1;
}

int
config_fail_line(struct config_ctx *c, unsigned line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (c->errlen == 0)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(c->err, c->errlen, "%s:%u: %s", c->file, line, msg);
	config_one_line(c->err);
	return -1;
}

/* The directory relative paths start from, made absolute (we may chdir). */
static int
set_dir(struct config_ctx *c, const char *file)
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
		return config_fail(c, NULL, "path too long");
	return 0;
}

int
config_load_string(const char *text, const char *name, const char *node,
		   struct config *out, char *err, size_t errlen)
{
	struct config_ctx c = {.file = name, .err = err, .errlen = errlen};
	config_t lc;
	int rc;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	util_strlcpy(out->file, name, sizeof(out->file));
	if (set_dir(&c, name) == -1 || config_scan(&c, text) == -1)
		return -1;
	config_init(&lc);
	if (!config_read_string(&lc, text)) {
		config_fail_line(&c, (unsigned)config_error_line(&lc), "%s",
			  config_error_text(&lc));
		config_destroy(&lc);
		return -1;
	}
	rc = config_schema_read(&c, config_root_setting(&lc), out);
	if (rc == 0)
		rc = config_node_select(&c, node, out);
	config_destroy(&lc);
	if (rc == -1) {
		config_forget_keys(out);
	}
	return rc;
}

int
config_load(const char *path, const char *node, struct config *out, char *err,
	    size_t errlen)
{
	struct config_ctx c = {.file = path, .err = err, .errlen = errlen};
	struct stat st;
	char *text;
	size_t got = 0;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return config_fail(&c, NULL, "not a regular file");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return config_fail(&c, NULL, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return config_fail(&c, NULL, "not a regular file");
	}
	if (st.st_size > CONFIG_TEXT_MAX) {
		close(fd);
		return config_fail(&c, NULL, "too large (%lld bytes, at most %d)",
			    (long long)st.st_size, CONFIG_TEXT_MAX);
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		close(fd);
		return config_fail(&c, NULL, "out of memory");
	}
	got = util_read_full(fd, text, (size_t)st.st_size);
	close(fd);
	text[got] = '\0';
	if (strlen(text) != got)
		rc = config_fail(&c, NULL, "contains a NUL byte; not a text file");
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
config_forget_keys(struct config *cfg)
{
	util_explicit_bzero(cfg->authkey, sizeof(cfg->authkey));
	memset(cfg->authkey_len, 0, sizeof(cfg->authkey_len));
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
	config_append(buf, len, &pos,
	       "cluster \"%s\": %s (priority %u) <-> %s (priority %u), %u "
	       "link%s (",
	       cfg->cluster_name, self->name, self->priority, peer->name,
	       peer->priority, cfg->nlinks, cfg->nlinks == 1 ? "" : "s");
	for (i = 0; i < cfg->nlinks; i++) {
		addr_with_port(self, i, cfg->ports[i], addr, sizeof(addr));
		config_append(buf, len, &pos, "%s%s", i ? ", " : "", addr);
	}
	config_append(buf, len, &pos, "), %u resource%s (", cfg->nresources,
	       cfg->nresources == 1 ? "" : "s");
	for (i = 0; i < cfg->nresources; i++) {
		const struct config_resource *r = &cfg->resources[i];

		config_append(buf, len, &pos, "%s", i ? ", " : "");
		switch (r->type) {
		case CONFIG_RES_EIP:
			config_append(buf, len, &pos, "%s",
			       r->allocation_id[0] ? r->allocation_id
						   : r->public_ip);
			break;
		case CONFIG_RES_FILE:
			config_append(buf, len, &pos, "file %s", r->path);
			break;
		case CONFIG_RES_SECONDARY_IP:
			config_append(buf, len, &pos, "secondary IP %s",
				      r->address);
			break;
		case CONFIG_RES_ROUTE:
			config_append(buf, len, &pos, "route %s in %u table%s",
				      r->destination, r->nroute_tables,
				      r->nroute_tables == 1 ? "" : "s");
			break;
		}
	}
	config_append(buf, len, &pos, "), interval %u ms, timeout %u ms, ",
	       cfg->interval_ms, cfg->timeout_ms);
	if (cfg->failback)
		config_append(buf, len, &pos, "failback after %u ms",
		       cfg->failback_delay_ms);
	else
		config_append(buf, len, &pos, "failback off");
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
	config_one_line(err);
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
			if (!config_node_addr_equal(&cur->nodes[role_cur[r]].addr[i],
					&next->nodes[role_next[r]].addr[i]))
				return refuse(next, err, errlen,
					      "nodes[%u].addresses[%u]",
					      role_next[r], i);
	if (errlen > 0)
		err[0] = '\0';
	return 0;
}

static int
differs(char *what, size_t len, const char *key)
{
	if (len > 0)
		util_strlcpy(what, key, len);
	return 1;
}

int
config_resources_changed(const struct config *cur, const struct config *next,
			 char *what, size_t len)
{
	const unsigned role_cur[2] = {cur->self, cur->peer};
	const unsigned role_next[2] = {next->self, next->peer};

	if (strcmp(cur->region, next->region) != 0)
		return differs(what, len, "aws.region");
	if (strcmp(cur->endpoint, next->endpoint) != 0)
		return differs(what, len, "aws.endpoint");
	if (strcmp(cur->imds_endpoint, next->imds_endpoint) != 0)
		return differs(what, len, "aws.imds_endpoint");
	if (strcmp(cur->profile, next->profile) != 0)
		return differs(what, len, "aws.profile");
	if (cur->aws_timeout_ms != next->aws_timeout_ms)
		return differs(what, len, "aws.timeout_ms");
	if (strcmp(cur->ca_file, next->ca_file) != 0)
		return differs(what, len, "aws.ca_file");
	for (unsigned r = 0; r < 2; r++) {
		const struct config_node *a = &cur->nodes[role_cur[r]];
		const struct config_node *b = &next->nodes[role_next[r]];

		if (strcmp(a->instance_id, b->instance_id) != 0)
			return differs(what, len, "nodes[].instance_id");
		if (strcmp(a->network_interface_id,
			   b->network_interface_id) != 0)
			return differs(what, len,
				       "nodes[].network_interface_id");
	}
	if (cur->nresources != next->nresources)
		return differs(what, len, "resources");
	for (unsigned i = 0; i < cur->nresources; i++) {
		const struct config_resource *a = &cur->resources[i];
		const struct config_resource *b = &next->resources[i];

		if (a->type != b->type ||
		    strcmp(a->allocation_id, b->allocation_id) != 0 ||
		    strcmp(a->public_ip, b->public_ip) != 0 ||
		    strcmp(a->path, b->path) != 0 ||
		    strcmp(a->address, b->address) != 0 ||
		    strcmp(a->destination, b->destination) != 0 ||
		    a->local_address != b->local_address ||
		    a->nroute_tables != b->nroute_tables ||
		    memcmp(a->route_tables, b->route_tables,
			   sizeof(a->route_tables)) != 0)
			return differs(what, len, "resources");
	}
	return 0;
}

/*
 * `eipfloatd -T`: the configuration as the daemon uses it, every default
 * filled in, in the syntax it was read from (so the output loads again and
 * prints the same). The authkey's path is shown, never its bytes.
 */
void
config_print(const struct config *cfg, FILE *out)
{
	fprintf(out,
		"# eipfloatd -T: the effective configuration for node %s, "
		"every default filled in\n",
		cfg->nodes[cfg->self].name);
	config_schema_print(out, cfg);
}
