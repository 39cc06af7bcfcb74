/*
 * test_config.c - config_load on files in a temp dir: every key, every
 * default, node selection, reload rules, and one exact error line per bad
 * input (message and FILE:LINE prefix).
 */
#include "check.h"
#include "config.h"
#include "config_schema.h"

#include <arpa/inet.h>
#include <ctype.h>
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
#define NEW_KEY "fedcba9876543210NEWMATERIAL-fedcba9876543210" /* rotation */

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
	CHECK(cfg.authkey_len[0] == 0);
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
	CHECK(strcmp(cfg.authkey_path[0] + strlen(dir), "/authkey") == 0);
	CHECK(cfg.authkey_len[0] == strlen(KEY));
	CHECK(memcmp(cfg.authkey[0], KEY, strlen(KEY)) == 0);
	CHECK(cfg.nauthkeys == 1);
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
	CHECK(cfg.authkey_len[0] == strlen(KEY));

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

	TEST("reload_names_what_rebuilds_the_resource_layer");
	{
		char what[64];

		expect_load("r8.conf", MIN "heartbeat = { interval_ms = 100; };\n",
			    "node-a", &next);
		CHECK(config_resources_changed(&cur, &next, what,
					       sizeof(what)) == 0);
		expect_load("r9.conf",
			    CLUSTER NODES "resources = ( { allocation_id = "
					  "\"eipalloc-0123456789abcdef0\"; }, "
					  "{ allocation_id = "
					  "\"eipalloc-0123456789abcdef1\"; } );\n",
			    "node-a", &next);
		CHECK(config_resources_changed(&cur, &next, what,
					       sizeof(what)) == 1);
		CHECK(strcmp(what, "resources") == 0);
		CHECK(config_reload_check(&cur, &next, err, sizeof(err)) == 0);
		expect_load("r10.conf",
			    MIN "aws = { region = \"eu-west-2\"; };\n",
			    "node-a", &next);
		CHECK(config_resources_changed(&cur, &next, what,
					       sizeof(what)) == 1);
		CHECK(strcmp(what, "aws.region") == 0);
		expect_load("r11.conf",
			    CLUSTER "nodes = (\n" NODE_A
				    "  { name = \"node-b\"; addresses = [ "
				    "\"10.0.1.20\", \"10.0.3.20\" ]; "
				    "instance_id = \"i-0123456789abcdef0\"; }\n);\n" RES,
			    "node-a", &next);
		CHECK(config_resources_changed(&cur, &next, what,
					       sizeof(what)) == 1);
		CHECK(strcmp(what, "nodes[].instance_id") == 0);
	}
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

/* What the golden files cannot say: no file at all, no key in a message. */
static void
test_bad_inputs(void)
{
	char msg[1024];

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

/* text with every `from` replaced by `to`; the caller frees. */
static char *
replace_all(const char *text, const char *from, const char *to)
{
	size_t nf = strlen(from), nt = strlen(to), n = 0;
	const char *p;
	char *out, *o;

	for (p = text; (p = strstr(p, from)) != NULL; p += nf)
		n++;
	out = malloc(strlen(text) + n * nt + 1);
	for (o = out, p = text; *p;) {
		if (strncmp(p, from, nf) == 0) {
			memcpy(o, to, nt), o += nt, p += nf;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}

static char *
print_to_string(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	config_print(cfg, f);
	fclose(f);
	return buf;
}

/* "# node: NAME" in the file picks the node (default node-a). */
static void
golden_node(const char *text, char *node, size_t len)
{
	const char *hit = strstr(text, "# node: ");

	snprintf(node, len, "node-a");
	if (hit)
		snprintf(node, len, "%.*s", (int)strcspn(hit + 8, "\n"),
			 hit + 8);
}

/* After a failed load no key byte is left, whichever entry failed. */
static int
keys_zeroed(const struct config *cfg)
{
	const uint8_t *p = (const uint8_t *)cfg->authkey;
	size_t i;

	for (i = 0; i < sizeof(cfg->authkey); i++)
		if (p[i] != 0)
			return 0;
	for (i = 0; i < CONFIG_AUTHKEYS_MAX; i++)
		if (cfg->authkey_len[i] != 0)
			return 0;
	return 1;
}

/*
 * NN-name.conf, @DIR@ standing for the temp dir (which holds the key
 * files), must give NN-name.err exactly (one line, the key zeroed) or load
 * and print NN-name.out under -T; what -T prints loads and prints the same.
 */
static void
golden_case(const char *gdir, const char *base)
{
	char path[1024], want_path[1024], node[64], err[1024], conf[256];
	char *raw, *text, *want, *got, *again, *shown;
	struct config cfg, cfg2;
	int rc, is_err;

	TEST(base);
	snprintf(path, sizeof(path), "%s/%s.conf", gdir, base);
	raw = read_all(path);
	CHECK(raw != NULL);
	if (raw == NULL)
		return;
	text = replace_all(raw, "@DIR@", dir);
	golden_node(text, node, sizeof(node));
	snprintf(want_path, sizeof(want_path), "%s/%s.err", gdir, base);
	want = read_all(want_path);
	is_err = want != NULL;
	if (!is_err) {
		snprintf(want_path, sizeof(want_path), "%s/%s.out", gdir,
			 base);
		want = read_all(want_path);
	}
	CHECK(want != NULL);
	snprintf(conf, sizeof(conf), "%.200s.conf", base);
	rc = load(conf, text, node, &cfg, err, sizeof(err));
	if (want == NULL) {
		fprintf(stderr, "  no %s.err or %s.out\n", base, base);
	} else if (is_err) {
		strcat(err, "\n");
		shown = replace_all(err, dir, "@DIR@");
		CHECK(rc == -1 && strcmp(shown, want) == 0);
		CHECK(strchr(err, '\n') == err + strlen(err) - 1);
		CHECK(keys_zeroed(&cfg));
		if (rc != -1 || strcmp(shown, want) != 0)
			fprintf(stderr, "  rc %d\n  got:  %s  want: %s", rc,
				shown, want);
		free(shown);
	} else {
		CHECK(rc == 0);
		if (rc != 0)
			fprintf(stderr, "  unexpected error: %s\n", err);
		got = print_to_string(&cfg);
		shown = replace_all(got, dir, "@DIR@");
		CHECK(strcmp(shown, want) == 0);
		if (strcmp(shown, want) != 0)
			fprintf(stderr, "  -T differs from %s:\n%s", want_path,
				shown);
		CHECK(strstr(got, KEY) == NULL);
		snprintf(path, sizeof(path), "%s/%s.T.conf", dir, base);
		CHECK(config_load_string(got, path, node, &cfg2, err,
					 sizeof(err)) == 0);
		again = print_to_string(&cfg2);
		CHECK(strcmp(again, got) == 0);
		free(again);
		free(shown);
		free(got);
	}
	free(want);
	free(text);
	free(raw);
}

static int
is_golden(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

static void
test_authkey_list(void)
{
	struct config cfg;
	char err[1024];

	TEST("authkey_list_reads_every_key_the_first_signs");
	CHECK(load("rot.conf",
		   "cluster = { name = \"web\"; authkey = [ \"new.key\", "
		   "\"authkey\" ]; };\n" NODES RES,
		   "node-a", &cfg, err, sizeof(err)) == 0);
	CHECK(cfg.nauthkeys == 2);
	CHECK(cfg.authkey_len[0] == strlen(NEW_KEY) &&
	      memcmp(cfg.authkey[0], NEW_KEY, strlen(NEW_KEY)) == 0);
	CHECK(cfg.authkey_len[1] == strlen(KEY) &&
	      memcmp(cfg.authkey[1], KEY, strlen(KEY)) == 0);
	CHECK(strcmp(cfg.authkey_path[1] + strlen(dir), "/authkey") == 0);

	TEST("forget_keys_zeroes_every_key");
	config_forget_keys(&cfg);
	CHECK(keys_zeroed(&cfg));
}

static void
test_golden(void)
{
	static const char *const rel[] = {"tests/config", "../tests/config"};
	const char *srcdir = getenv("srcdir");
	struct dirent **list = NULL;
	char gdir[512];
	int i, n = -1;
	size_t r;

	for (r = 0; r < 2 && n < 0; r++) {
		snprintf(gdir, sizeof(gdir), "%s/%s", srcdir ? srcdir : ".",
			 rel[r]);
		n = scandir(gdir, &list, is_golden, alphasort);
	}
	TEST("golden_files_found");
	CHECK(n >= 70);
	for (i = 0; i < n; i++) {
		list[i]->d_name[strlen(list[i]->d_name) - 5] = '\0';
		golden_case(gdir, list[i]->d_name);
		free(list[i]);
	}
	free(list);
}

static char *
read_source(const char *rel)
{
	const char *srcdir = getenv("srcdir");
	char path[512], *text;

	snprintf(path, sizeof(path), "%s/%s", srcdir ? srcdir : ".", rel);
	text = read_all(path);
	if (text == NULL) {
		snprintf(path, sizeof(path), "%s/../%s", srcdir ? srcdir : ".",
			 rel);
		text = read_all(path);
	}
	if (text == NULL)
		fprintf(stderr, "  cannot find %s (set srcdir)\n", rel);
	return text;
}

/* A line "key = ..." (or "#key = ...", commented out) in [from, to). */
static int
has_assignment(const char *from, const char *to, const char *key)
{
	size_t n = strlen(key);
	const char *p;

	for (p = from; p && p < to; p = strchr(p, '\n')) {
		while (p < to && (*p == '\n' || *p == '\t' || *p == ' ' ||
				  *p == '#' || *p == '{'))
			p++;
		if (strncmp(p, key, n) == 0 && strncmp(p + n, " =", 2) == 0)
			return 1;
	}
	return 0;
}

/* The text of "NAME = ..." up to the line closing it. */
static const char *
block_of(const char *text, const char *name, const char **end)
{
	char head[64];
	const char *b;

	snprintf(head, sizeof(head), "\n%s = ", name);
	b = strstr(text, head);
	if (b == NULL)
		return NULL;
	*end = strstr(b, "\n}");
	if (*end == NULL || (strstr(b, "\n)") && strstr(b, "\n)") < *end))
		*end = strstr(b, "\n)");
	return b;
}

/* Man: ".B heartbeat.interval_ms", or ".B name" under ".SH NODES". */
static int
in_man(const char *man, const struct config_section *sec,
       const struct config_key *k)
{
	char want[128], head[64];
	const char *from, *to;
	size_t i;

	if (!sec->list) {
		snprintf(want, sizeof(want), "\n.B %s.%s\n", sec->name, k->name);
		return strstr(man, want) != NULL;
	}
	snprintf(head, sizeof(head), "\n.SH %s", sec->name);
	for (i = 5; head[i]; i++)
		head[i] = (char)toupper((unsigned char)head[i]);
	from = strstr(man, head);
	if (from == NULL)
		return 0;
	to = strstr(from + 1, "\n.SH ");
	snprintf(want, sizeof(want), "\n.B %s\n", k->name);
	from = strstr(from, want);
	return from != NULL && (to == NULL || from < to);
}

/* Keys of test-only resource types are not operator features. */
static int
hidden_key(const struct config_section *sec, const struct config_key *k)
{
	size_t v;

	if (k->variants == 0)
		return 0;
	for (v = 0; v < sec->nvariants; v++)
		if ((k->variants & CONFIG_VARIANT(v)) && !sec->variants[v].hidden)
			return 0;
	return 1;
}

static void
test_every_key_documented(void)
{
	char *man = read_source("man/eipfloatd.conf.5");
	char *sample = read_source("etc/eipfloatd.conf");
	size_t i, j;

	TEST("every_schema_key_is_in_the_man_page_and_the_sample");
	CHECK(man != NULL && sample != NULL);
	for (i = 0; man && sample && i < config_schema_len; i++) {
		const struct config_section *sec = &config_schema[i];
		const char *end = NULL, *blk = block_of(sample, sec->name, &end);

		CHECK(blk != NULL);
		if (blk == NULL)
			fprintf(stderr, "  etc/eipfloatd.conf has no %s\n",
				sec->name);
		for (j = 0; j < sec->nkeys; j++) {
			const struct config_key *k = &sec->keys[j];

			if (hidden_key(sec, k))
				continue;
			CHECK(in_man(man, sec, k));
			if (!in_man(man, sec, k))
				fprintf(stderr,
					"  eipfloatd.conf(5) lacks %s%s.%s\n",
					sec->name, sec->list ? "[]" : "",
					k->name);
			if (k->flags & CONFIG_KEY_OBSOLETE) {
				/* documented as such, never suggested */
				CHECK(!blk || !has_assignment(blk, end,
							      k->name));
				continue;
			}
			CHECK(blk && has_assignment(blk, end, k->name));
			if (blk && !has_assignment(blk, end, k->name))
				fprintf(stderr,
					"  etc/eipfloatd.conf lacks %s%s.%s\n",
					sec->name, sec->list ? "[]" : "",
					k->name);
		}
	}
	free(man);
	free(sample);
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
	CHECK(cfg.self == 1 && cfg.authkey_len[0] == strlen(KEY));
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
	write_file("new.key", NEW_KEY, strlen(NEW_KEY), 0600);
	write_file("same.key", KEY, strlen(KEY), 0600);
	write_file("long.key", big, sizeof(big), 0600);
	write_file("group.key", KEY, strlen(KEY), 0640);
	write_file("other.key", KEY, strlen(KEY), 0604);
	write_file("gw.key", KEY, strlen(KEY), 0620);
	path_in(path, sizeof(path), "keydir");
	mkdir(path, 0700);
	write_file("on-active", "#!/bin/sh\nexit 0\n", 17, 0700);
	write_file("on-standby", "#!/bin/sh\nexit 0\n", 17, 0700);
	write_file("on-fault", "#!/bin/sh\nexit 0\n", 17, 0700);
	write_file("ca.pem", "not really a CA\n", 16, 0644);

	test_full_config();
	test_minimal_config();
	test_ipv6();
	test_summary();
	test_node_selection();
	test_reload();
	test_sample();
	test_bad_inputs();
	test_authkey_list();
	test_golden();
	test_every_key_documented();
	test_load_string();

	cleanup();
	return check_done();
}
