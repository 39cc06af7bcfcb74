/*
 * resource_driver.h - what one resource type implements (resource_eip.c,
 * resource_secip.c, resource_route.c, resource_file.c) and what the group
 * (resource.c) gives it. Adding a type
 * is a new resource_<type>.c with one `struct resource_driver` and its row
 * in resource.c's driver table, keyed by the configuration's type name.
 */
#ifndef EIPFLOATD_RESOURCE_DRIVER_H
#define EIPFLOATD_RESOURCE_DRIVER_H

#include "config.h"
#include "resource.h"

#include <stddef.h>
#include <stdint.h>

struct ec2_ctx;
struct ev_loop;

/* Who is who, as far as the group knows now (the peer's id may arrive late). */
struct resource_ids {
	char self_name[CONFIG_NAME_MAX];
	char peer_name[CONFIG_NAME_MAX];
	char self_instance[CONFIG_ID_MAX];
	char peer_instance[CONFIG_ID_MAX];
	char self_eni[CONFIG_ID_MAX];
	char peer_eni[CONFIG_ID_MAX];
	char primary_eni[CONFIG_ID_MAX]; /* IMDS's, when self_eni is "" */
};

/* One configured resource. The group owns it; the driver keeps priv. */
struct resource_item {
	struct resource_set *set;
	const struct resource_driver *drv;
	struct config_resource cfg;
	const struct resource_ids *ids;
	struct ec2_ctx *ec2; /* NULL unless drv->needs_aws */
	struct imds_ctx *imds; /* likewise; NULL when there is none */
	struct ev_loop *loop; /* the group's, for a driver's own timers */
	char name[CONFIG_PATH_MAX]; /* for logs and the dump */
	void *priv;

	/* the last verified (or acquired) owner */
	enum resource_owner owner;
	char owner_id[CONFIG_NAME_MAX]; /* instance id (eip), node (file) */
	uint64_t seen_wall_ms;		/* 0 = never */
	uint64_t seen_mono_ms;
	const char *seen_by; /* "describe", "associate", "read", ... */

	/* the last acquisition, for the one log line the group writes */
	unsigned attempts;
	uint64_t elapsed_ms;

	unsigned owes; /* 1u << op: the group waits for that answer */

	/* the permission self-test (resource_item_selftest_done) */
	int perm;	/* 0 not run, 1 allowed, -1 refused or failed */
	char perm_text[400];
};

enum resource_op {
	RESOURCE_OP_PREPARE,
	RESOURCE_OP_VERIFY,
	RESOURCE_OP_ACQUIRE,
};
#define RESOURCE_NOPS 3

/*
 * A driver answers each of prepare, verify and acquire exactly once with
 * resource_item_done(), from the loop or from inside the call (the group
 * defers its own callback either way). verify records its finding with
 * resource_item_seen() first. Failures are returned in `why`, not logged:
 * the layer that decides logs them.
 */
struct resource_driver {
	const char *type; /* the configuration's type name */
	int needs_aws;	  /* the EC2 client, this instance's identity */
	int needs_interface; /* this node's network interface (IMDS first) */
	/* NULL members are "nothing to do". */
	/* Fill it->name, allocate it->priv; -1 only when out of memory. */
	int (*init)(struct resource_item *it);
	void (*fini)(struct resource_item *it);
	/*
	 * prepare and verify get every item of the type at once, so that one
	 * API call can answer for all (one DescribeAddresses for every EIP);
	 * each item is still answered on its own.
	 */
	/* Resolve what verify needs (NULL: nothing). Only with needs_aws. */
	void (*prepare)(struct resource_item *const *items, unsigned n);
	void (*verify)(struct resource_item *const *items, unsigned n);
	/* Make it this node's; it->attempts, it->elapsed_ms when done. */
	void (*acquire)(struct resource_item *it);
	/* Drop any request in flight; no resource_item_done() follows. */
	void (*cancel)(struct resource_item *it);
	/*
	 * A permission self-test that moves nothing (eip: AssociateAddress
	 * with DryRun=true to this instance), answered once with
	 * resource_item_selftest_done(); NULL: the type has none.
	 */
	void (*selftest)(struct resource_item *it);
	/* Dump text after the owner ("" or ", associate in flight"). */
	void (*describe)(const struct resource_item *it, char *buf, size_t len);
	/*
	 * The host side follows the role: active 1 when this node became
	 * ACTIVE (put the address on the host, once the interface is known),
	 * 0 at start and whenever it is not ACTIVE (take it off; no API
	 * call: the winner moves the resource). NULL: nothing on the host.
	 */
	void (*host)(struct resource_item *it, int active);
	/* 1 when this configured item needs CAP_NET_ADMIN. NULL: never. */
	int (*needs_net_admin)(const struct config_resource *r);
};

extern const struct resource_driver resource_eip_driver;
extern const struct resource_driver resource_file_driver;
extern const struct resource_driver resource_secip_driver;
extern const struct resource_driver resource_route_driver;

void resource_item_seen(struct resource_item *it, enum resource_owner owner,
			const char *id, const char *by);
void resource_item_done(struct resource_item *it, enum resource_op op, int rc,
			const char *why);
/* ok 1: allowed (text: how it was checked); 0: not allowed (text: why and
 * the fix). Logged here: notice when allowed, warning when not. */
void resource_item_selftest_done(struct resource_item *it, int ok,
				 const char *text);

#endif
