/*
 * resource.h - the floating resources seen by the election as one group:
 * who owns them now, and "make them mine". Each type is a driver
 * (resource_driver.h: resource_eip.c, resource_secip.c, resource_route.c;
 * resource_file.c for tests only). All
 * calls are asynchronous; the callbacks run from the loop, never from
 * inside the call.
 */
#ifndef EIPFLOATD_RESOURCE_H
#define EIPFLOATD_RESOURCE_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"

struct ev_loop;
struct http_ctx;
struct creds_ctx;
struct imds_ctx;
struct config;
struct resource_set;
struct ec2_ctx;

/* Who holds the resources, as the API (the arbiter) says right now. */
enum resource_owner {
	RES_OWNER_UNKNOWN, /* could not find out (API error) */
	RES_OWNER_NONE,	   /* unassociated (any one of them) */
	RES_OWNER_SELF,	   /* all on this node's instance */
	RES_OWNER_PEER,	   /* (any one) on the peer's instance */
	RES_OWNER_OTHER,   /* (any one) on an instance of neither node */
};

const char *resource_owner_name(enum resource_owner owner);

/* "eipalloc-0abc 52.1.2.3": the configured ids, for the hooks. */
void resource_config_ids(const struct config *cfg, char *buf, size_t len);

/* Whether resources of this type need the EC2 API (and IMDS, credentials). */
int resource_type_needs_aws(enum config_resource_type type);
/*
 * 0 and why when a configured resource puts an address on this host
 * (secondary_ip; route with local_address) and this process lacks
 * CAP_NET_ADMIN; 1 otherwise.
 */
int resource_host_capable(const struct config *cfg, char *err, size_t len);
/* 1 when a configured resource moves to this node's network interface
 * (secondary_ip, route): the set-up then asks IMDS which it is. */
int resource_needs_interface(const struct config *cfg);


struct resource_env {
	struct ev_loop *loop;
	struct http_ctx *http;	 /* NULL when only file resources exist */
	struct creds_ctx *creds; /* likewise */
	struct imds_ctx *imds;	 /* likewise (NULL: drivers do without) */
	const struct config *cfg;
	const char *region;	    /* resolved (config or IMDS) */
	const char *endpoint;	    /* resolved EC2 endpoint URL */
	const char *self_instance;  /* this node's instance id */
	const char *primary_eni;    /* its primary interface (IMDS) or "" */
};

struct resource_set *resource_new(const struct resource_env *env);
void resource_free(struct resource_set *set);

/* The peer's instance id, from its heartbeats or nodes[].instance_id. */
void resource_set_peer_instance(struct resource_set *set, const char *id);

/*
 * Resolve what must be known before the first verify (public_ip ->
 * allocation id). cb(arg, 0, NULL) when ready, cb(arg, -1, why) otherwise;
 * safe to call again after a failure.
 */
typedef void (*resource_done_cb)(void *arg, int rc, const char *detail);
void resource_prepare(struct resource_set *set, resource_done_cb cb,
		      void *arg);

/* Ask every driver who holds its resource; cb gets the worst owner. */
typedef void (*resource_verify_cb)(void *arg, enum resource_owner owner,
				   const char *detail);
void resource_verify(struct resource_set *set, resource_verify_cb cb,
		     void *arg);

/*
 * Every driver's acquire in parallel (eip: AssociateAddress with
 * AllowReassociation=true and ec2.c's retry policy); cb(arg, 0, NULL) when
 * all succeeded, cb(arg, -1, why) when one failed for good. Nothing is
 * logged here: the daemon logs a success, the election a failure.
 */
void resource_acquire(struct resource_set *set, resource_done_cb cb,
		      void *arg);

/*
 * The guard's way out: can the instance holding a resource (one not ours,
 * as last verified) be serving? DescribeInstanceStatus; InvalidInstanceID
 * .NotFound counts as gone. cb is not called when there is nothing to ask
 * (no resource on another instance, no EC2 type, a check in flight); on
 * an API error it gets UNKNOWN (logged here, rate-limited).
 */
enum resource_holder {
	RES_HOLDER_UNKNOWN,
	RES_HOLDER_MAY_SERVE, /* pending or running, checks not impaired */
	RES_HOLDER_DOWN,      /* stopped, stopping, terminated, impaired... */
};
typedef void (*resource_holder_cb)(void *arg, enum resource_holder holder,
				   const char *detail);
void resource_check_holder(struct resource_set *set, resource_holder_cb cb,
			   void *arg);

/*
 * Every driver's permission self-test (at start, after a reload): the
 * verdict is logged and shown in the dump, and cb(arg, 0 or -1, text)
 * hears each one (the API's standing may have changed).
 */
void resource_selftest(struct resource_set *set, resource_done_cb cb,
		       void *arg);

/* Drop any request in flight (state change, shutdown). */
void resource_cancel(struct resource_set *set);

/*
 * The role, for the drivers with a host side: 1 on becoming ACTIVE (the
 * address goes on the host), 0 otherwise (it comes off). Synchronous.
 */
void resource_host(struct resource_set *set, int active);
/* A reload dropped resources: take theirs off the host (not the others'). */
void resource_host_drop_removed(struct resource_set *set,
				const struct config *next);

/* One resource as the status snapshot shows it. */
struct resource_info {
	const char *type;	   /* the driver's: "eip", "secondary_ip", ... */
	const char *id;		   /* allocation id, public IP or path */
	enum resource_owner owner; /* last verified (or acquired) */
	const char *owner_id;	   /* instance or node it was seen on */
	uint64_t seen_wall_ms;	   /* 0 = never */
};
unsigned resource_count(const struct resource_set *set);
/* The EC2 client (its counters), NULL when only file resources exist. */
const struct ec2_ctx *resource_ec2(const struct resource_set *set);
void resource_info(const struct resource_set *set, unsigned i,
		   struct resource_info *out);

/* Dump lines: each resource, last verified owner and when, API counters. */
void resource_dump(const struct resource_set *set, FILE *out);

#endif
