/*
 * config.h - the validated configuration. config_load() turns
 * /etc/eipfloatd.conf (libconfig syntax) into one fixed-size struct that is
 * read-only afterwards; a reload builds a new one and swaps it when valid.
 * Each key's range and default is one row of the schema (config_keys.c).
 */
#ifndef EIPFLOATD_CONFIG_H
#define EIPFLOATD_CONFIG_H

#include "authkey.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define CONFIG_EX_CONFIG 78 /* sysexits.h EX_CONFIG */

#define CONFIG_MAX_NODES 2
#define CONFIG_MAX_LINKS 4
#define CONFIG_MAX_RESOURCES 8
#define CONFIG_NAME_MAX 64
#define CONFIG_PATH_MAX 1024
#define CONFIG_ID_MAX 64
#define CONFIG_ADDRSTR_MAX 64
#define CONFIG_AUTHKEY_MAX AUTHKEY_MAX
#define CONFIG_AUTHKEYS_MAX 4 /* cluster.authkey: one file or a list */

struct config_node {
	char name[CONFIG_NAME_MAX];
	unsigned naddrs;
	/* addresses[i] is this node's end of heartbeat link i. */
	char addr_str[CONFIG_MAX_LINKS][CONFIG_ADDRSTR_MAX];
	struct sockaddr_storage addr[CONFIG_MAX_LINKS]; /* port = link port */
	socklen_t addrlen[CONFIG_MAX_LINKS];
	unsigned priority;
	char instance_id[CONFIG_ID_MAX];       /* "" = learn (IMDS/heartbeat) */
	char network_interface_id[CONFIG_ID_MAX]; /* "" = associate by instance */
};

enum config_resource_type {
	CONFIG_RES_EIP,
	/* Testing only: the owner is a node name kept in a local file. */
	CONFIG_RES_FILE,
	CONFIG_RES_SECONDARY_IP,
	CONFIG_RES_ROUTE,
};

#define CONFIG_ROUTE_TABLES_MAX 8

/* The type's name in the file ("eip", ...); resource.c finds its driver by it. */
const char *config_resource_type_name(enum config_resource_type type);

struct config_resource {
	enum config_resource_type type;
	char allocation_id[CONFIG_ID_MAX]; /* "eipalloc-..." or "" */
	char public_ip[CONFIG_ADDRSTR_MAX]; /* or this, resolved at start */
	char path[CONFIG_PATH_MAX];	    /* CONFIG_RES_FILE only */
	char address[CONFIG_ADDRSTR_MAX];   /* secondary_ip: 10.0.0.50 */
	char destination[CONFIG_ADDRSTR_MAX]; /* route: a.b.c.d/n */
	char route_tables[CONFIG_ROUTE_TABLES_MAX][CONFIG_ID_MAX];
	unsigned nroute_tables;
	int local_address; /* route: also put the address on the host */
};

struct config {
	char file[CONFIG_PATH_MAX]; /* where this was read from */

	/* cluster */
	char cluster_name[CONFIG_NAME_MAX];
	/* authkey[0] signs, every one verifies (a rotation in progress) */
	char authkey_path[CONFIG_AUTHKEYS_MAX][CONFIG_PATH_MAX];
	uint8_t authkey[CONFIG_AUTHKEYS_MAX][CONFIG_AUTHKEY_MAX]; /* secret */
	size_t authkey_len[CONFIG_AUTHKEYS_MAX];
	unsigned nauthkeys;

	/* nodes; self is the index of this host's entry, peer the other */
	struct config_node nodes[CONFIG_MAX_NODES];
	unsigned nnodes;
	unsigned self;
	unsigned peer;

	/* heartbeat */
	unsigned interval_ms;
	unsigned timeout_ms;
	unsigned replay_window_ms; /* obsolete since protocol 2: unused */
	unsigned nlinks;	   /* = addresses per node = ports */
	unsigned ports[CONFIG_MAX_LINKS];

	/* election */
	int failback;
	unsigned failback_delay_ms;
	unsigned startup_wait_ms;
	unsigned migration_threshold;
	unsigned acquire_timeout_ms;

	/* aws; "" means the documented default */
	char region[CONFIG_NAME_MAX];
	char endpoint[CONFIG_PATH_MAX];
	char imds_endpoint[CONFIG_PATH_MAX];
	char profile[CONFIG_NAME_MAX];
	unsigned aws_timeout_ms;
	char ca_file[CONFIG_PATH_MAX];

	/* resources */
	struct config_resource resources[CONFIG_MAX_RESOURCES];
	unsigned nresources;

	/* metrics; "" = no textfile */
	char metrics_textfile[CONFIG_PATH_MAX];

	/* monitor */
	unsigned monitor_interval_ms;

	/* check; command "" = no health check (always healthy) */
	char check_command[CONFIG_PATH_MAX];
	unsigned check_interval_ms;
	unsigned check_timeout_ms;
	unsigned check_fall;
	unsigned check_rise;

	/* hooks; "" = none */
	char hook_active[CONFIG_PATH_MAX];
	char hook_standby[CONFIG_PATH_MAX];
	char hook_fault[CONFIG_PATH_MAX];
	unsigned hook_timeout_ms;
};

/*
 * Read and validate `path`. `node` names this host's entry (NULL: match by
 * host name, then by local addresses). On error returns -1 and writes one
 * line "FILE:LINE: SETTING: what is wrong" (or "FILE: ..." when no line
 * applies) into err. Reads the authkey file too.
 */
int config_load(const char *path, const char *node, struct config *out,
		char *err, size_t errlen);

/* Same, from a string (tests, fuzzing); `name` stands in for the file. */
int config_load_string(const char *text, const char *name, const char *node,
		       struct config *out, char *err, size_t errlen);

/*
 * `eipfloatd -T`: the effective configuration in libconfig syntax, every
 * default filled in; it loads again and prints the same. No secrets.
 */
void config_print(const struct config *cfg, FILE *out);

/* Zero every key's bytes (before a copy is freed or kept without them). */
void config_forget_keys(struct config *cfg);

/* One line: cluster, self, peer, links, resources (no secrets). */
void config_summary(const struct config *cfg, char *buf, size_t len);

/*
 * Why `next` cannot replace `cur` in a running daemon (node identity,
 * addresses, ports, cluster name): 0 if it can, else -1 with the reason.
 */
/*
 * 1 when a reload from cur to next changes what the resource layer was
 * built from (resources, aws.*, either node's instance or interface id),
 * with the first such key named in `what`; 0 when it can keep running.
 */
int config_resources_changed(const struct config *cur,
			     const struct config *next, char *what, size_t len);

int config_reload_check(const struct config *cur, const struct config *next,
			char *err, size_t errlen);

#endif
