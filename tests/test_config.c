/*
 * test_config.c - config_load on files in a temp dir: every key, every
 * default, node selection, reload rules, and one exact error line per bad
 * input (message and FILE:LINE prefix).
 */
#include "check.h"
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test_config.XXXXXX";

#define KEY "0123456789abcdefKEYMATERIAL-0123456789abcdef" /* 44 bytes */
#define SHORT_KEY "SHORTSECRET12345"			   /* 16 bytes */

#define CLUSTER "cluster = { name = \"web\"; authkey = \"authkey\"; };\n"
#define NODE_A                                                                 \
	"  { name = \"node-a\"; addresses = [ \"10.0.0.20\", \"10.0.2.20\" "   \
	"]; "                                                                  \
	"priority = 100; },\n"
#define NODE_B                                                                 \
	"  { name = \"node-b\"; addresses = [ \"10.0.1.20\", \"10.0.3.20\" "   \
	"]; "                                                                  \
	"priority = 50; }\n"
#define NODES "nodes = (\n" NODE_A NODE_B ");\n"
#define RES                                                                    \
	"resources = ( { allocation_id = \"eipalloc-0123456789abcdef0\"; } "   \
	");\n"
#define MIN CLUSTER NODES RES

static void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
write_file(const char *name, const char *text, size_t len, mode_t mode)
{
	char path[512];
	FILE *f;

	path_in(path, sizeof(path), name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fwrite(text, 1, len, f);
	fclose(f);
	chmod(path, mode);
}

static void
write_conf(const char *name, const char *text)
{
	write_file(name, text, strlen(text), 0644);
}

/* 1-based line of the first occurrence of needle (0 if absent). */
static int
line_of(const char *text, const char *needle)
{
	const char *hit = strstr(text, needle), *p;
	int line = 1;

	if (hit == NULL)
		return 0;
	for (p = text; p < hit; p++)
		line += *p == '\n';
	return line;
}

static int
load(const char *name, const char *text, const char *node, struct config *cfg,
     char *err, size_t errlen)
{
	char path[512];

	write_conf(name, text);
	path_in(path, sizeof(path), name);
	return config_load(path, node, cfg, err, errlen);
}

/*
 * The error must be one line starting with FILE:LINE: (the line holding
 * `at`; FILE: alone when at is NULL) and containing `msg`.
 */
static void
expect_error(const char *name, const char *text, const char *node,
	     const char *at, const char *msg)
{
	char path[512], prefix[600], err[1024];
	struct config cfg;
	int rc, ok;

	TEST(name);
	rc = load(name, text, node, &cfg, err, sizeof(err));
	path_in(path, sizeof(path), name);
	if (at)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", path,
			 line_of(text, at));
	else
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	ok = rc == -1 && strncmp(err, prefix, strlen(prefix)) == 0 &&
	     strstr(err, msg) != NULL && strchr(err, '\n') == NULL;
	CHECK(at == NULL || line_of(text, at) > 0);
	CHECK(ok);
	CHECK(cfg.authkey_len == 0);
	if (ok && getenv("TEST_CONFIG_VERBOSE"))
		fprintf(stderr, "  %s\n", err);
	if (!ok)
		fprintf(stderr, "  rc %d\n  got:  %s\n  want: %s...%s\n", rc,
			err, prefix, msg);
}

static void
expect_load(const char *name, const char *text, const char *node,
	    struct config *cfg)
{
	char err[1024];
	int rc;

	rc = load(name, text, node, cfg, err, sizeof(err));
	CHECK(rc == 0);
	if (rc != 0)
		fprintf(stderr, "  %s: unexpected error: %s\n", name, err);
}

static unsigned
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int
is_v4(const struct sockaddr_storage *ss, const char *want)
{
	struct in_addr a;

	inet_pton(AF_INET, want, &a);
	return ss->ss_family == AF_INET &&
	       ((const struct sockaddr_in *)ss)->sin_addr.s_addr == a.s_addr;
}

static void
test_full_config(void)
{
	char text[4096], hook[3][512];
	struct config cfg;
	const char *names[3] = {"on-active", "on-standby", "on-fault"};
	int i;

	TEST("full_config_sets_every_key");
	for (i = 0; i < 3; i++) {
		write_file(names[i], "#!/bin/sh\nexit 0\n", 17, 0700);
		path_in(hook[i], sizeof(hook[i]), names[i]);
	}
	write_file("ca.pem", "not really a CA\n", 16, 0644);
	snprintf(
	    text, sizeof(text),
	    "cluster = { name = \"db-pair\"; authkey = \"authkey\"; };\n"
	    "nodes = (\n"
	    "  { name = \"alpha\"; addresses = [ \"10.0.0.20\", "
	    "\"10.0.2.20\", \"10.0.4.20\" ];\n"
	    "    priority = 200; instance_id = \"i-0123456789abcdef0\";\n"
	    "    network_interface_id = \"eni-0123456789abcdef0\"; },\n"
	    "  { name = \"beta\"; addresses = [ \"10.0.1.20\", "
	    "\"10.0.3.20\", \"10.0.5.20\" ];\n"
	    "    priority = 0; instance_id = \"i-89abcdef\";\n"
	    "    network_interface_id = \"eni-89abcdef\"; }\n"
	    ");\n"
	    "heartbeat = { interval_ms = 100; timeout_ms = 700L;\n"
	    "  replay_window_ms = 5000; ports = [ 6000, 6001, 6002 ]; };\n"
	    "election = { failback = true; failback_delay_ms = 0;\n"
	    "  startup_wait_ms = 9000; migration_threshold = 4; };\n"
	    "aws = { region = \"eu-west-3\";\n"
	    "  endpoint = \"http://127.0.0.1:8080/\";\n"
	    "  imds_endpoint = \"http://127.0.0.1:8081\";\n"
	    "  profile = \"failover\"; timeout_ms = 2500;\n"
	    "  ca_file = \"ca.pem\"; };\n"
	    "resources = (\n"
	    "  { type = \"eip\"; allocation_id = \"eipalloc-89abcdef\"; },\n"
	    "  { public_ip = \"198.51.100.7\"; },\n"
	    "  { type = \"file\"; path = \"owner\"; }\n"
	    ");\n"
	    "monitor = { interval_ms = 60000; };\n"
	    "check = { command = \"/bin/true --quiet\"; interval_ms = 500;\n"
	    "  timeout_ms = 400; fall = 5; rise = 7; };\n"
	    "hooks = { active = \"%s\"; standby = \"%s\"; fault = \"%s\";\n"
	    "  timeout_ms = 1000; };\n",
	    hook[0], hook[1], hook[2]);
	expect_load("full.conf", text, "beta", &cfg);

	CHECK(strcmp(cfg.cluster_name, "db-pair") == 0);
	CHECK(strcmp(cfg.authkey_path + strlen(dir), "/authkey") == 0);
	CHECK(cfg.authkey_len == strlen(KEY));
	CHECK(memcmp(cfg.authkey, KEY, strlen(KEY)) == 0);
	CHECK(cfg.nnodes == 2 && cfg.self == 1 && cfg.peer == 0);
	CHECK(strcmp(cfg.nodes[0].name, "alpha") == 0);
	CHECK(strcmp(cfg.nodes[1].name, "beta") == 0);
	CHECK(cfg.nodes[0].priority == 200 && cfg.nodes[1].priority == 0);
	CHECK(strcmp(cfg.nodes[0].instance_id, "i-0123456789abcdef0") == 0);
	CHECK(strcmp(cfg.nodes[1].instance_id, "i-89abcdef") == 0);
	CHECK(strcmp(cfg.nodes[0].network_interface_id,
		     "eni-0123456789abcdef0") == 0);
	CHECK(strcmp(cfg.nodes[1].network_interface_id, "eni-89abcdef") == 0);
	CHECK(cfg.nlinks == 3 && cfg.nodes[0].naddrs == 3);
	CHECK(strcmp(cfg.nodes[1].addr_str[2], "10.0.5.20") == 0);
	CHECK(is_v4(&cfg.nodes[1].addr[2], "10.0.5.20"));
	CHECK(cfg.nodes[1].addrlen[2] == sizeof(struct sockaddr_in));
	for (i = 0; i < 3; i++) {
		CHECK(cfg.ports[i] == 6000u + (unsigned)i);
		CHECK(port_of(&cfg.nodes[0].addr[i]) == 6000u + (unsigned)i);
		CHECK(port_of(&cfg.nodes[1].addr[i]) == 6000u + (unsigned)i);
	}
	CHECK(cfg.interval_ms == 100 && cfg.timeout_ms == 700);
	CHECK(cfg.replay_window_ms == 5000);
	CHECK(cfg.failback == 1 && cfg.failback_delay_ms == 0);
	CHECK(cfg.startup_wait_ms == 9000 && cfg.migration_threshold == 4);
	CHECK(strcmp(cfg.region, "eu-west-3") == 0);
	CHECK(strcmp(cfg.endpoint, "http://127.0.0.1:8080/") == 0);
	CHECK(strcmp(cfg.imds_endpoint, "http://127.0.0.1:8081") == 0);
	CHECK(strcmp(cfg.profile, "failover") == 0);
	CHECK(cfg.aws_timeout_ms == 2500);
	CHECK(strncmp(cfg.ca_file, dir, strlen(dir)) == 0 &&
	      strcmp(cfg.ca_file + strlen(dir), "/ca.pem") == 0);
	CHECK(cfg.nresources == 3);
	CHECK(cfg.resources[0].type == CONFIG_RES_EIP &&
	      strcmp(cfg.resources[0].allocation_id, "eipalloc-89abcdef") ==
		  0 &&
	      cfg.resources[0].public_ip[0] == '\0');
	CHECK(cfg.resources[1].type == CONFIG_RES_EIP &&
	      cfg.resources[1].allocation_id[0] == '\0' &&
	      strcmp(cfg.resources[1].public_ip, "198.51.100.7") == 0);
	CHECK(cfg.resources[2].type == CONFIG_RES_FILE &&
	      strcmp(cfg.resources[2].path + strlen(dir), "/owner") == 0);
	CHECK(cfg.monitor_interval_ms == 60000);
	CHECK(strcmp(cfg.check_command, "/bin/true --quiet") == 0);
	CHECK(cfg.check_interval_ms == 500 && cfg.check_timeout_ms == 400);
	CHECK(cfg.check_fall == 5 && cfg.check_rise == 7);
	CHECK(strcmp(cfg.hook_active, hook[0]) == 0);
	CHECK(strcmp(cfg.hook_standby, hook[1]) == 0);
	CHECK(strcmp(cfg.hook_fault, hook[2]) == 0);
	CHECK(cfg.hook_timeout_ms == 1000);
}

static void
check_defaults(const struct config *cfg)
{
	CHECK(cfg->interval_ms == 200 && cfg->timeout_ms == 1000);
	CHECK(cfg->replay_window_ms == 30000);
	CHECK(cfg->failback == 0 && cfg->failback_delay_ms == 30000);
	CHECK(cfg->startup_wait_ms == 3000 && cfg->migration_threshold == 1);
	CHECK(cfg->region[0] == '\0' && cfg->endpoint[0] == '\0');
	CHECK(cfg->imds_endpoint[0] == '\0' && cfg->profile[0] == '\0');
	CHECK(cfg->ca_file[0] == '\0' && cfg->aws_timeout_ms == 5000);
	CHECK(cfg->monitor_interval_ms == 10000);
	CHECK(cfg->check_command[0] == '\0');
	CHECK(cfg->check_interval_ms == 2000 && cfg->check_timeout_ms == 2000);
	CHECK(cfg->check_fall == 3 && cfg->check_rise == 2);
	CHECK(cfg->hook_active[0] == '\0' && cfg->hook_standby[0] == '\0');
	CHECK(cfg->hook_fault[0] == '\0' && cfg->hook_timeout_ms == 30000);
}

static void
test_minimal_config(void)
{
	struct config cfg;

	TEST("minimal_config_gets_every_default");
	expect_load("minimal.conf", MIN, "node-a", &cfg);
	check_defaults(&cfg);
	CHECK(cfg.self == 0 && cfg.peer == 1);
	CHECK(cfg.nlinks == 2 && cfg.ports[0] == 5405 && cfg.ports[1] == 5404);
	CHECK(port_of(&cfg.nodes[1].addr[1]) == 5404);
	CHECK(is_v4(&cfg.nodes[1].addr[1], "10.0.3.20"));
	CHECK(cfg.nodes[0].instance_id[0] == '\0');
	CHECK(cfg.nodes[0].network_interface_id[0] == '\0');
	CHECK(cfg.resources[0].type == CONFIG_RES_EIP);
	CHECK(cfg.authkey_len == strlen(KEY));

	TEST("timeout_default_follows_interval");
	expect_load("interval.conf",
		    MIN "heartbeat = { interval_ms = 1000; };\n", "node-a",
		    &cfg);
	CHECK(cfg.timeout_ms == 5000);

	TEST("check_timeout_default_follows_check_interval");
	expect_load("check.conf", MIN "check = { interval_ms = 700; };\n",
		    "node-a", &cfg);
	CHECK(cfg.check_timeout_ms == 700);

	TEST("default_ports_count_down_from_5405");
	expect_load("threelinks.conf",
		    CLUSTER RES "nodes = (\n"
				"  { name = \"a\"; addresses = [ \"10.0.0.1\", "
				"\"10.0.1.1\", \"10.0.2.1\" ]; },\n"
				"  { name = \"b\"; addresses = [ \"10.0.0.2\", "
				"\"10.0.1.2\", \"10.0.2.2\" ]; }\n);\n",
		    "b", &cfg);
	CHECK(cfg.nlinks == 3 && cfg.ports[2] == 5403);
	CHECK(port_of(&cfg.nodes[1].addr[2]) == 5403);
	CHECK(cfg.nodes[0].priority == 100 && cfg.nodes[1].priority == 100);

	TEST("empty_strings_mean_default");
	expect_load("empty.conf",
		    MIN "aws = { region = \"\"; endpoint = \"\"; ca_file = "
			"\"\"; };\nhooks = { active = \"\"; };\n",
		    "node-a", &cfg);
	CHECK(cfg.region[0] == '\0' && cfg.ca_file[0] == '\0');
}

static void
test_ipv6(void)
{
	char sum[512];
	struct config cfg;
	const struct sockaddr_in6 *sin6;
	struct in6_addr want;

	TEST("ipv6_links_load_with_ports");
	expect_load("v6.conf",
		    CLUSTER RES
		    "nodes = (\n"
		    "  { name = \"a\"; addresses = [ \"2001:db8::a\", "
		    "\"10.0.2.20\" ]; },\n"
		    "  { name = \"b\"; addresses = [ \"2001:DB8:0:0::b\", "
		    "\"10.0.3.20\" ]; }\n);\n",
		    "a", &cfg);
	sin6 = (const struct sockaddr_in6 *)&cfg.nodes[1].addr[0];
	inet_pton(AF_INET6, "2001:db8::b", &want);
	CHECK(sin6->sin6_family == AF_INET6);
	CHECK(memcmp(&sin6->sin6_addr, &want, sizeof(want)) == 0);
	CHECK(ntohs(sin6->sin6_port) == 5405);
	CHECK(cfg.nodes[1].addrlen[0] == sizeof(struct sockaddr_in6));
	CHECK(strcmp(cfg.nodes[1].addr_str[0], "2001:db8::b") == 0);
	config_summary(&cfg, sum, sizeof(sum));
	CHECK(strstr(sum, "2 links ([2001:db8::a]:5405, 10.0.2.20:5404)") !=
	      NULL);
}

static void
test_summary(void)
{
	char sum[512];
	struct config cfg;

	TEST("summary_names_self_first_and_hides_the_key");
	expect_load("summary.conf", MIN, "node-a", &cfg);
	config_summary(&cfg, sum, sizeof(sum));
	CHECK(strcmp(sum, "cluster \"web\": node-a (priority 100) <-> node-b "
			  "(priority 50), 2 links (10.0.0.20:5405, "
			  "10.0.2.20:5404), 1 resource "
			  "(eipalloc-0123456789abcdef0), interval 200 ms, "
			  "timeout 1000 ms, failback off") == 0);
	CHECK(strstr(sum, "KEYMATERIAL") == NULL);

	expect_load("summary-b.conf", MIN "election = { failback = true; };\n",
		    "node-b", &cfg);
	config_summary(&cfg, sum, sizeof(sum));
	{
		const char *want = "cluster \"web\": node-b (priority 50) <-> "
				   "node-a (priority 100), 2 links "
				   "(10.0.1.20:5405, 10.0.3.20:5404)";
		CHECK(strncmp(sum, want, strlen(want)) == 0);
	}
	CHECK(strstr(sum, "failback after 30000 ms") != NULL);

	config_summary(&cfg, sum, 20);
	CHECK(strlen(sum) == 19);
}

/* Whether an IPv4 address is on one of this host's interfaces. */
static int
v4_is_local(const char *addr)
{
	struct ifaddrs *ifs, *i;
	struct in_addr a;
	int found = 0;

	inet_pton(AF_INET, addr, &a);
	if (getifaddrs(&ifs) == -1)
		return 0;
	for (i = ifs; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
			a.s_addr)
			found = 1;
	freeifaddrs(ifs);
	return found;
}

static void
test_node_selection(void)
{
	char host[256], name[64], text[1024];
	struct config cfg;
	char msg[512];
	size_t n;

	TEST("node_selected_by_name");
	expect_load("sel.conf", MIN, "node-b", &cfg);
	CHECK(cfg.self == 1 && cfg.peer == 0);

	TEST("node_selected_by_host_name");
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	n = strlen(host);
	if (n == 0 || n > 31 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789.-_") != n) {
		fprintf(stderr,
			"  skipped: host name \"%s\" is not a valid "
			"node name\n",
			host);
	} else {
		snprintf(text, sizeof(text),
			 CLUSTER RES "nodes = (\n"
				     "  { name = \"zz-other\"; addresses = [ "
				     "\"203.0.113.1\" ]; },\n"
				     "  { name = \"%s\"; addresses = [ "
				     "\"203.0.113.2\" ]; }\n);\n",
			 host);
		expect_load("host.conf", text, NULL, &cfg);
		CHECK(cfg.self == 1);
		if (strchr(host, '.')) {
			snprintf(name, sizeof(name), "%.*s",
				 (int)strcspn(host, "."), host);
			snprintf(text, sizeof(text),
				 CLUSTER RES
				 "nodes = (\n"
				 "  { name = \"%s\"; addresses = [ "
				 "\"203.0.113.1\" ]; },\n"
				 "  { name = \"zz-other\"; addresses = [ "
				 "\"203.0.113.2\" ]; }\n);\n",
				 name);
			expect_load("short.conf", text, NULL, &cfg);
			CHECK(cfg.self == 0);
		}
	}

	TEST("node_selected_by_local_address");
	if (!v4_is_local("127.0.0.1") || v4_is_local("203.0.113.1")) {
		fprintf(stderr, "  skipped: needs 127.0.0.1 and not "
				"203.0.113.1 on this host\n");
	} else {
		expect_load("local.conf",
			    CLUSTER RES
			    "nodes = (\n"
			    "  { name = \"zz-remote\"; addresses = "
			    "[ \"203.0.113.1\" ]; },\n"
			    "  { name = \"zz-local\"; addresses = [ "
			    "\"127.0.0.1\" ]; }\n);\n",
			    NULL, &cfg);
		CHECK(cfg.self == 1 && cfg.peer == 0);
	}

	TEST("no_node_matching_this_host_is_an_error");
	if (v4_is_local("203.0.113.1") || v4_is_local("203.0.113.2") ||
	    strncmp(host, "zz-remote-", 10) == 0) {
		fprintf(stderr, "  skipped: 203.0.113.1/2 are local here\n");
		return;
	}
	snprintf(msg, sizeof(msg),
		 "no node matches this host (hostname %s, no local address "
		 "in nodes[].addresses); use -n NAME",
		 host);
	expect_error("no-match.conf",
		     CLUSTER RES "nodes = (\n"
				 "  { name = \"zz-remote-a\"; addresses = [ "
				 "\"203.0.113.1\" ]; },\n"
				 "  { name = \"zz-remote-b\"; addresses = [ "
				 "\"203.0.113.2\" ]; }\n);\n",
		     NULL, NULL, msg);
}

static void
test_reload(void)
{
	struct config cur, next;
	char err[512];

	TEST("reload_accepts_priority_and_timer_changes");
	expect_load("r0.conf", MIN, "node-a", &cur);
	expect_load("r1.conf",
		    CLUSTER RES "nodes = (\n" NODE_A
				"  { name = \"node-b\"; addresses = [ "
				"\"10.0.1.20\", \"10.0.3.20\" ]; priority = "
				"60; }\n);\n"
				"heartbeat = { interval_ms = 100; };\n",
		    "node-a", &next);
	CHECK(config_reload_check(&cur, &next, err, sizeof(err)) == 0);

	TEST("reload_accepts_reordered_nodes");
	expect_load("r2.conf",
		    CLUSTER RES "nodes = (\n" NODE_B
				",  { name = \"node-a\"; addresses = [ "
				"\"10.0.0.20\", \"10.0.2.20\" ]; }\n);\n",
		    "node-a", &next);
	CHECK(next.self == 1);
	CHECK(config_reload_check(&cur, &next, err, sizeof(err)) == 0);

	TEST("reload_refuses_a_port_change");
	expect_load("r3.conf", MIN "heartbeat = { ports = [ 5405, 5406 ]; };\n",
		    "node-a", &next);
	CHECK(config_reload_check(&cur, &next, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cannot change heartbeat.ports on reload; restart "
			  "the daemon") != NULL);

	TEST("reload_refuses_a_cluster_name_change");
	expect_load(
	    "r4.conf",
	    "cluster = { name = \"db\"; authkey = \"authkey\"; };\n" NODES RES,
	    "node-a", &next);
	CHECK(config_reload_check(&cur, &next, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cannot change cluster.name on reload") != NULL);

	TEST("reload_refuses_an_address_change");
	expect_load("r5.conf",
		    CLUSTER RES "nodes = (\n" NODE_A
				"  { name = \"node-b\"; addresses = [ "
				"\"10.0.1.21\", \"10.0.3.20\" ]; }\n);\n",
		    "node-a", &next);
	CHECK(config_reload_check(&cur, &next, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cannot change nodes[1].addresses[0] on reload") !=
	      NULL);

	TEST("reload_refuses_another_self");
	expect_load("r6.conf", MIN, "node-b", &next);
	CHECK(config_reload_check(&cur, &next, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cannot change nodes[1].name") != NULL);

	TEST("reload_refuses_a_link_count_change");
	expect_load("r7.conf",
		    CLUSTER RES "nodes = (\n"
				"  { name = \"node-a\"; addresses = [ "
				"\"10.0.0.20\" ]; },\n"
				"  { name = \"node-b\"; addresses = [ "
				"\"10.0.1.20\" ]; }\n);\n",
		    "node-a", &next);
	CHECK(config_reload_check(&cur, &next, err, sizeof(err)) == -1);
	CHECK(strstr(err, "number of heartbeat links (2 to 1)") != NULL);
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The shipped sample must load as-is, apart from where the key lives. */
static void
test_sample(void)
{
	static const char *const rel[] = {"etc/eipfloatd.conf",
					  "../etc/eipfloatd.conf"};
	const char *srcdir = getenv("srcdir");
	const char *old = "authkey = \"/etc/eipfloatd/authkey\";";
	const char *neu = "authkey = \"authkey\";";
	char path[512], *text = NULL, *hit, *copy;
	struct config cfg, min;
	size_t i;

	TEST("sample_config_loads_and_states_the_defaults");
	for (i = 0; i < 2 && text == NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", srcdir ? srcdir : ".",
			 rel[i]);
		text = read_all(path);
	}
	CHECK(text != NULL);
	if (text == NULL) {
		fprintf(stderr, "  cannot find etc/eipfloatd.conf (set "
				"srcdir)\n");
		return;
	}
	hit = strstr(text, old);
	CHECK(hit != NULL);
	if (hit == NULL) {
		free(text);
		return;
	}
	copy = calloc(1, strlen(text) + 1);
	memcpy(copy, text, (size_t)(hit - text));
	strcat(copy, neu);
	strcat(copy, hit + strlen(old));
	expect_load("sample.conf", copy, "node-a", &cfg);
	expect_load("sample-min.conf", MIN, "node-a", &min);
	check_defaults(&cfg);
	CHECK(cfg.ports[0] == min.ports[0] && cfg.ports[1] == min.ports[1]);
	CHECK(cfg.nodes[0].priority == 100 && cfg.nodes[1].priority == 50);
	CHECK(strcmp(cfg.nodes[1].name, "node-b") == 0);
	CHECK(cfg.nresources == 1 && cfg.resources[0].type == CONFIG_RES_EIP);
	free(copy);
	free(text);
}

static void
test_bad_inputs(void)
{
	char text[2048], msg[1024];

	expect_error("syntax.conf", MIN "heartbeat = { interval_ms = ; };\n",
		     "node-a", "interval_ms = ;", "syntax error");
	expect_error("dup-key.conf",
		     MIN "heartbeat = {\n  interval_ms = 200;\n"
			 "  interval_ms = 300;\n};\n",
		     "node-a", "interval_ms = 300", "duplicate setting name");
	expect_error("unknown-top.conf", MIN "heartbeet = { };\n", "node-a",
		     "heartbeet",
		     "heartbeet: unknown setting (did you mean heartbeat?)");
	expect_error("unknown-nested.conf",
		     MIN "heartbeat = {\n  interval_ms = 200;\n"
			 "  timout_ms = 1000;\n};\n",
		     "node-a", "timout_ms",
		     "heartbeat.timout_ms: unknown setting (did you mean "
		     "timeout_ms?)");
	expect_error("unknown-node-key.conf",
		     CLUSTER RES "nodes = (\n" NODE_A
				 "  { name = \"node-b\"; addresses = [ "
				 "\"10.0.1.20\", \"10.0.3.20\" ];\n"
				 "    priority = 50; weight = 3; }\n);\n",
		     "node-a", "weight", "nodes[1].weight: unknown setting");
	expect_error(
	    "wrong-type.conf", MIN "heartbeat = { interval_ms = \"200\"; };\n",
	    "node-a", "interval_ms",
	    "heartbeat.interval_ms: expected an integer, got a string");
	expect_error("wrong-type-bool.conf",
		     MIN "election = { failback = 1; };\n", "node-a",
		     "failback",
		     "election.failback: expected true or false, got an "
		     "integer");
	expect_error("wrong-type-group.conf", MIN "heartbeat = 200;\n",
		     "node-a", "heartbeat",
		     "heartbeat: expected a group { ... }, got an integer");
	expect_error("interval-5.conf",
		     MIN "heartbeat = { interval_ms = 5; };\n", "node-a",
		     "interval_ms",
		     "heartbeat.interval_ms: 5 is out of range (10..10000)");
	expect_error(
	    "interval-20000.conf",
	    MIN "heartbeat = { interval_ms = 20000; };\n", "node-a",
	    "interval_ms",
	    "heartbeat.interval_ms: 20000 is out of range (10..10000)");
	expect_error("huge-int.conf",
		     MIN "heartbeat = {\n  timeout_ms = 4294968296;\n};\n",
		     "node-a", "4294968296", "integer 4294968296 is too large");
	expect_error("timeout-short.conf",
		     MIN "heartbeat = {\n  interval_ms = 500;\n"
			 "  timeout_ms = 1000;\n};\n",
		     "node-a", "timeout_ms",
		     "heartbeat.timeout_ms: 1000 is less than 3 * "
		     "heartbeat.interval_ms (1500)");
	expect_error("timeout-long.conf",
		     MIN "heartbeat = { timeout_ms = 600001; };\n", "node-a",
		     "timeout_ms",
		     "heartbeat.timeout_ms: 600001 is out of range");
	expect_error("replay.conf",
		     MIN "heartbeat = { replay_window_ms = 999; };\n", "node-a",
		     "replay",
		     "heartbeat.replay_window_ms: 999 is out of range");
	expect_error("priority-256.conf",
		     CLUSTER RES "nodes = (\n" NODE_A
				 "  { name = \"node-b\"; addresses = [ "
				 "\"10.0.1.20\", \"10.0.3.20\" ];\n"
				 "    priority = 256; }\n);\n",
		     "node-a", "priority = 256",
		     "nodes[1].priority: 256 is out of range (0..255)");
	expect_error("port-0.conf",
		     MIN "heartbeat = {\n  ports = [ 5405, 0 ];\n};\n",
		     "node-a", "ports",
		     "heartbeat.ports[1]: 0 is out of range (1..65535)");
	expect_error("port-70000.conf",
		     MIN "heartbeat = {\n  ports = [ 70000, 5404 ];\n};\n",
		     "node-a", "ports",
		     "heartbeat.ports[0]: 70000 is out of range (1..65535)");
	expect_error("port-dup.conf",
		     MIN "heartbeat = {\n  ports = [ 5405, 5405 ];\n};\n",
		     "node-a", "ports",
		     "heartbeat.ports[1]: duplicate port 5405 (also "
		     "heartbeat.ports[0])");
	expect_error("ports-count.conf",
		     MIN "heartbeat = {\n  ports = [ 5405 ];\n};\n", "node-a",
		     "ports",
		     "heartbeat.ports: has 1 entry but each node has 2 "
		     "addresses");
	expect_error("dup-name.conf",
		     CLUSTER RES "nodes = (\n" NODE_A
				 "  { name = \"node-a\"; addresses = [ "
				 "\"10.0.1.20\", \"10.0.3.20\" ]; }\n);\n",
		     "node-a", "name = \"node-a\"; addresses = [ \"10.0.1",
		     "nodes[1].name: duplicate node name \"node-a\" (also "
		     "nodes[0].name)");
	expect_error("dup-addr.conf",
		     CLUSTER RES "nodes = (\n" NODE_A
				 "  { name = \"node-b\";\n    addresses = [ "
				 "\"10.0.1.20\", \"10.0.0.20\" ]; }\n);\n",
		     "node-a", "addresses = [ \"10.0.1.20\"",
		     "nodes[1].addresses[1]: duplicate address 10.0.0.20 "
		     "(also nodes[0].addresses[0])");
	expect_error("dup-addr-within.conf",
		     CLUSTER RES "nodes = (\n"
				 "  { name = \"node-a\"; addresses = [ "
				 "\"10.0.0.20\", \"10.0.0.20\" ]; },\n" NODE_B
				 ");\n",
		     "node-a", "\"10.0.0.20\", \"10.0.0.20\"",
		     "nodes[0].addresses[1]: duplicate address 10.0.0.20 "
		     "(also nodes[0].addresses[0])");
	expect_error("three-nodes.conf",
		     CLUSTER RES "nodes = (\n" NODE_A NODE_B
				 ",  { name = \"node-c\"; addresses = [ "
				 "\"10.0.9.1\", \"10.0.9.2\" ]; }\n);\n",
		     "node-a", "nodes = (",
		     "nodes: has 3 entries; eipfloatd runs exactly two nodes");
	expect_error("one-node.conf",
		     CLUSTER RES "nodes = (\n"
				 "  { name = \"node-a\"; addresses = [ "
				 "\"10.0.0.20\" ]; }\n);\n",
		     "node-a", "nodes = (",
		     "nodes: has 1 entry; eipfloatd runs exactly two nodes");
	expect_error("nodes-type.conf", CLUSTER RES "nodes = \"node-a\";\n",
		     "node-a",
		     "nodes =", "nodes: expected a list ( ... ), got a string");
	expect_error("unequal-addrs.conf",
		     CLUSTER RES "nodes = (\n" NODE_A
				 "  { name = \"node-b\";\n    addresses = [ "
				 "\"10.0.1.20\", \"10.0.3.20\", \"10.0.5.20\" "
				 "]; }\n);\n",
		     "node-a", "addresses = [ \"10.0.1.20\"",
		     "nodes[1].addresses: has 3 addresses but nodes[0] has 2");
	expect_error("five-links.conf",
		     CLUSTER RES "nodes = (\n"
				 "  { name = \"node-a\";\n    addresses = [ "
				 "\"10.0.0.1\", \"10.0.0.2\", \"10.0.0.3\", "
				 "\"10.0.0.4\", \"10.0.0.5\" ]; },\n" NODE_B
				 ");\n",
		     "node-a", "addresses = [ \"10.0.0.1\"",
		     "nodes[0].addresses: has 5 entries; 1..4 links are "
		     "supported");
	expect_error("bad-ipv4.conf",
		     CLUSTER RES "nodes = (\n"
				 "  { name = \"node-a\";\n    addresses = [ "
				 "\"10.0.0.256\", \"10.0.2.20\" ]; },\n" NODE_B
				 ");\n",
		     "node-a", "10.0.0.256",
		     "nodes[0].addresses[0]: \"10.0.0.256\" is not an IPv4 or "
		     "IPv6 address");
	expect_error(
	    "bad-ipv6.conf",
	    CLUSTER RES "nodes = (\n" NODE_A
			"  { name = \"node-b\";\n    addresses = [ "
			"\"10.0.1.20\", \"2001:db8::g1\" ]; }\n);\n",
	    "node-a", "2001:db8::g1",
	    "nodes[1].addresses[1]: \"2001:db8::g1\" is not an IPv4 or "
	    "IPv6 address");
	expect_error("linklocal.conf",
		     CLUSTER RES "nodes = (\n" NODE_A
				 "  { name = \"node-b\";\n    addresses = [ "
				 "\"10.0.1.20\", \"fe80::1\" ]; }\n);\n",
		     "node-a", "fe80::1",
		     "nodes[1].addresses[1]: fe80::1 is link-local");
	expect_error("mixed-family.conf",
		     CLUSTER RES "nodes = (\n"
				 "  { name = \"node-a\"; addresses = [ "
				 "\"10.0.0.20\", \"2001:db8::1\" ]; },\n"
				 "  { name = \"node-b\";\n    addresses = [ "
				 "\"10.0.1.20\", \"10.0.3.20\" ]; }\n);\n",
		     "node-a", "addresses = [ \"10.0.1.20\"",
		     "nodes[1].addresses[1]: 10.0.3.20 is IPv4 but "
		     "nodes[0].addresses[1] is IPv6; both ends of link 1 must "
		     "be the same family");
	expect_error("bad-node-name.conf",
		     CLUSTER RES "nodes = (\n" NODE_A
				 "  { name = \"node b\"; addresses = [ "
				 "\"10.0.1.20\", \"10.0.3.20\" ]; }\n);\n",
		     "node-a", "node b",
		     "nodes[1].name: \"node b\" is not a valid node name");
	expect_error("long-node-name.conf",
		     CLUSTER RES "nodes = (\n" NODE_A
				 "  { name = \"n23456789012345678901234567890"
				 "12\"; addresses = [ \"10.0.1.20\", "
				 "\"10.0.3.20\" ]; }\n);\n",
		     "node-a", "n2345", "is not a valid node name (1..31");
	expect_error("unknown-node.conf", MIN, "node-c", NULL,
		     "node \"node-c\" is not in nodes (names: \"node-a\", "
		     "\"node-b\")");
	expect_error("bad-instance.conf",
		     CLUSTER RES "nodes = (\n" NODE_A
				 "  { name = \"node-b\"; addresses = [ "
				 "\"10.0.1.20\", \"10.0.3.20\" ];\n"
				 "    instance_id = \"i-12345\"; }\n);\n",
		     "node-a", "instance_id",
		     "nodes[1].instance_id: \"i-12345\" is not a valid id "
		     "(expected i- followed by 8 or 17 lowercase hex digits)");
	expect_error("bad-eni.conf",
		     CLUSTER RES
		     "nodes = (\n" NODE_A
		     "  { name = \"node-b\"; addresses = [ "
		     "\"10.0.1.20\", \"10.0.3.20\" ];\n"
		     "    network_interface_id = \"eni-xyz\"; }\n);\n",
		     "node-a", "network_interface_id",
		     "nodes[1].network_interface_id: \"eni-xyz\" is not a "
		     "valid id");

	/* cluster and the authkey rules */
	expect_error("no-cluster.conf", NODES RES, "node-a", NULL,
		     "cluster: required setting is missing");
	expect_error("no-cluster-name.conf",
		     "cluster = {\n  authkey = \"authkey\";\n};\n" NODES RES,
		     "node-a", "cluster = {", "cluster: name is missing");
	expect_error(
	    "empty-cluster-name.conf",
	    "cluster = { name = \"\"; authkey = \"authkey\"; };\n" NODES RES,
	    "node-a", "cluster", "cluster.name: must not be empty");
	snprintf(msg, sizeof(msg),
		 "cluster.authkey: cannot open authkey %s/missing.key: No "
		 "such file or directory (create it with eipfloatd --keygen",
		 dir);
	expect_error("key-missing.conf",
		     "cluster = {\n  name = \"web\";\n  authkey = "
		     "\"missing.key\";\n};\n" NODES RES,
		     "node-a", "missing.key", msg);
	snprintf(msg, sizeof(msg),
		 "cluster.authkey: authkey %s/short.key is 16 bytes; it must "
		 "be 32..1024",
		 dir);
	expect_error("key-short.conf",
		     "cluster = {\n  name = \"web\";\n  authkey = "
		     "\"short.key\";\n};\n" NODES RES,
		     "node-a", "short.key", msg);
	expect_error("key-long.conf",
		     "cluster = {\n  name = \"web\";\n  authkey = "
		     "\"long.key\";\n};\n" NODES RES,
		     "node-a", "long.key",
		     "is 1025 bytes; it must be 32..1024");
	snprintf(msg, sizeof(msg),
		 "cluster.authkey: authkey %s/group.key is readable by "
		 "group/other (mode 0640); chmod 600 it",
		 dir);
	expect_error("key-0640.conf",
		     "cluster = {\n  name = \"web\";\n  authkey = "
		     "\"group.key\";\n};\n" NODES RES,
		     "node-a", "group.key", msg);
	expect_error("key-0604.conf",
		     "cluster = {\n  name = \"web\";\n  authkey = "
		     "\"other.key\";\n};\n" NODES RES,
		     "node-a", "other.key",
		     "is readable by group/other (mode 0604); chmod 600 it");
	expect_error("key-0620.conf",
		     "cluster = {\n  name = \"web\";\n  authkey = "
		     "\"gw.key\";\n};\n" NODES RES,
		     "node-a", "gw.key",
		     "is writable by group/other (mode 0620); chmod 600 it");
	expect_error("key-dir.conf",
		     "cluster = {\n  name = \"web\";\n  authkey = "
		     "\"keydir\";\n};\n" NODES RES,
		     "node-a", "keydir", "keydir is not a regular file");

	/* resources */
	expect_error("no-resources.conf", CLUSTER NODES, "node-a", NULL,
		     "resources: required setting is missing");
	expect_error("empty-resources.conf", CLUSTER NODES "resources = ();\n",
		     "node-a", "resources",
		     "resources: is empty; list at least one resource");
	expect_error("res-neither.conf",
		     CLUSTER NODES "resources = (\n  { type = \"eip\"; }\n);\n",
		     "node-a", "{ type",
		     "resources[0]: needs allocation_id or public_ip");
	expect_error(
	    "res-both.conf",
	    CLUSTER NODES
	    "resources = ( {\n  allocation_id = \"eipalloc-89abcdef\";\n"
	    "  public_ip = \"198.51.100.7\";\n} );\n",
	    "node-a", "public_ip",
	    "resources[0].public_ip: give allocation_id or public_ip, "
	    "not both");
	expect_error(
	    "res-bad-alloc.conf",
	    CLUSTER NODES
	    "resources = (\n  { allocation_id = \"eipalloc-89abcdef\"; },\n"
	    "  { allocation_id = \"eipalloc-0abc\"; }\n);\n",
	    "node-a", "eipalloc-0abc",
	    "resources[1].allocation_id: \"eipalloc-0abc\" is not an "
	    "allocation id");
	expect_error("res-bad-ip.conf",
		     CLUSTER NODES
		     "resources = (\n  { public_ip = \"52.1.2\"; }\n);\n",
		     "node-a", "52.1.2",
		     "resources[0].public_ip: \"52.1.2\" is not an IPv4 "
		     "address");
	expect_error("res-dup.conf",
		     CLUSTER NODES
		     "resources = (\n  { public_ip = \"198.51.100.7\"; },\n"
		     "  { public_ip = \"198.51.100.7\"; }\n);\n",
		     "node-a", "{ public_ip = \"198.51.100.7\"; }\n",
		     "resources[1]: duplicate of resources[0]");
	expect_error(
	    "res-type.conf",
	    CLUSTER NODES "resources = (\n  { type = \"ebs\"; "
			  "allocation_id = \"eipalloc-89abcdef\"; }\n);\n",
	    "node-a", "ebs", "resources[0].type: unknown type \"ebs\"");
	expect_error(
	    "res-file-nopath.conf",
	    CLUSTER NODES "resources = (\n  { type = \"file\"; }\n);\n",
	    "node-a", "{ type", "resources[0]: type \"file\" needs a path");
	expect_error("res-file-alloc.conf",
		     CLUSTER NODES
		     "resources = (\n  { type = \"file\"; path = \"x\";\n"
		     "    allocation_id = \"eipalloc-89abcdef\"; }\n);\n",
		     "node-a", "allocation_id",
		     "resources[0].allocation_id: only for resources of type "
		     "\"eip\"");

	/* election, aws, monitor, check, hooks */
	expect_error(
	    "migration-0.conf",
	    MIN "election = { migration_threshold = 0; };\n", "node-a",
	    "migration",
	    "election.migration_threshold: 0 is out of range (1..1000)");
	expect_error("startup-neg.conf",
		     MIN "election = { startup_wait_ms = -1; };\n", "node-a",
		     "startup", "election.startup_wait_ms: -1 is out of range");
	expect_error("endpoint.conf",
		     MIN "aws = {\n  endpoint = \"ftp://127.0.0.1/\";\n};\n",
		     "node-a", "endpoint",
		     "aws.endpoint: \"ftp://127.0.0.1/\" is not an http:// or "
		     "https:// URL");
	expect_error("imds-endpoint.conf",
		     MIN "aws = {\n  imds_endpoint = \"127.0.0.1:8081\";\n};\n",
		     "node-a", "imds_endpoint",
		     "aws.imds_endpoint: \"127.0.0.1:8081\" is not an http://");
	expect_error("region.conf",
		     MIN "aws = {\n  region = \"useast1\";\n};\n", "node-a",
		     "region", "aws.region: \"useast1\" is not a region name");
	expect_error(
	    "aws-timeout.conf", MIN "aws = { timeout_ms = 50; };\n", "node-a",
	    "aws =", "aws.timeout_ms: 50 is out of range (100..120000)");
	expect_error("ca-missing.conf",
		     MIN "aws = { ca_file = \"nope.pem\"; };\n", "node-a",
		     "aws =", "nope.pem: No such file or directory");
	expect_error(
	    "monitor.conf", MIN "monitor = { interval_ms = 500; };\n", "node-a",
	    "monitor",
	    "monitor.interval_ms: 500 is out of range (1000..3600000)");
	expect_error("check-fall.conf", MIN "check = { fall = 0; };\n",
		     "node-a", "check",
		     "check.fall: 0 is out of range (1..100)");
	expect_error("check-rise.conf", MIN "check = { rise = 0; };\n",
		     "node-a", "check",
		     "check.rise: 0 is out of range (1..100)");
	expect_error("check-type.conf", MIN "check = { command = 5; };\n",
		     "node-a", "check",
		     "check.command: expected a string, got an integer");
	expect_error("hook-relative.conf",
		     MIN "hooks = {\n  active = \"on-active\";\n};\n", "node-a",
		     "active",
		     "hooks.active: on-active: not an absolute path");
	snprintf(text, sizeof(text),
		 MIN "hooks = {\n  fault = \"%s/no-such-hook\";\n};\n", dir);
	expect_error("hook-missing.conf", text, "node-a", "fault",
		     "/no-such-hook: No such file or directory");
	snprintf(text, sizeof(text),
		 MIN "hooks = {\n  standby = \"%s/authkey\";\n};\n", dir);
	expect_error("hook-noexec.conf", text, "node-a", "standby",
		     "/authkey: not executable: Permission denied");
	expect_error("hook-timeout.conf", MIN "hooks = { timeout_ms = 99; };\n",
		     "node-a", "hooks",
		     "hooks.timeout_ms: 99 is out of range (100..3600000)");
	expect_error("include.conf", MIN "@include \"/etc/passwd\"\n", "node-a",
		     "@include", "@include is not supported");

	TEST("missing_config_file_is_a_file_level_error");
	{
		struct config cfg;
		char err[512], path[512];

		path_in(path, sizeof(path), "does-not-exist.conf");
		CHECK(config_load(path, "node-a", &cfg, err, sizeof(err)) ==
		      -1);
		snprintf(msg, sizeof(msg),
			 "%s: cannot open: No such file or directory", path);
		CHECK(strcmp(err, msg) == 0);
	}

	TEST("errors_never_show_the_key");
	{
		struct config cfg;
		char err[512], name[512];

		path_in(name, sizeof(name), "x.conf");
		CHECK(config_load_string("cluster = { name = \"web\"; "
					 "authkey = \"short.key\"; };\n",
					 name, NULL, &cfg, err,
					 sizeof(err)) == -1);
		CHECK(strstr(err, "is 16 bytes") != NULL);
		CHECK(strstr(err, "SHORTSECRET") == NULL);
	}
}

static void
test_load_string(void)
{
	char name[512], err[512];
	struct config cfg;

	TEST("load_string_resolves_paths_from_the_given_name");
	path_in(name, sizeof(name), "virtual.conf");
	CHECK(config_load_string(MIN, name, "node-b", &cfg, err, sizeof(err)) ==
	      0);
	CHECK(cfg.self == 1 && cfg.authkey_len == strlen(KEY));
	CHECK(strcmp(cfg.file, name) == 0);

	TEST("load_string_reports_the_given_name");
	CHECK(config_load_string("a = ;\n", "<fuzz>", "node-a", &cfg, err,
				 sizeof(err)) == -1);
	CHECK(strncmp(err, "<fuzz>:1: ", 10) == 0);

	TEST("int64_values_are_accepted");
	CHECK(config_load_string(MIN "heartbeat = { interval_ms = 250L; };\n",
				 name, "node-a", &cfg, err, sizeof(err)) == 0);
	CHECK(cfg.interval_ms == 250);
}

static void
cleanup(void)
{
	char path[512];
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		path_in(path, sizeof(path), d->d_name);
		if (unlink(path) == -1)
			rmdir(path);
	}
	closedir(dp);
	rmdir(dir);
}

int
main(void)
{
	char big[CONFIG_AUTHKEY_MAX + 1];
	char path[512];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	memset(big, 'k', sizeof(big));
	write_file("authkey", KEY, strlen(KEY), 0600);
	write_file("short.key", SHORT_KEY, strlen(SHORT_KEY), 0600);
	write_file("long.key", big, sizeof(big), 0600);
	write_file("group.key", KEY, strlen(KEY), 0640);
	write_file("other.key", KEY, strlen(KEY), 0604);
	write_file("gw.key", KEY, strlen(KEY), 0620);
	path_in(path, sizeof(path), "keydir");
	mkdir(path, 0700);

	test_full_config();
	test_minimal_config();
	test_ipv6();
	test_summary();
	test_node_selection();
	test_reload();
	test_sample();
	test_bad_inputs();
	test_load_string();

	cleanup();
	return check_done();
}
