/*
 * resource_setup.h - the resource layer as the daemon sees it: it owns
 * "ready or not". Before the group can verify or acquire, what the EC2
 * client needs must be known: this instance's id and region (from the
 * configuration, else IMDS), the endpoint, and the drivers' preparation
 * (public_ip -> allocation id). That runs asynchronously, retried with
 * backoff.h until it works; verify and acquire asked for meanwhile wait
 * here and run once it is ready.
 */
#ifndef EIPFLOATD_RESOURCE_SETUP_H
#define EIPFLOATD_RESOURCE_SETUP_H

#include "resource.h"

#include <stdio.h>

struct ev_loop;
struct config;
struct creds_ctx;
struct resource_setup;

struct resource_setup_ops {
	void *arg;
	resource_verify_cb on_owner;  /* answer to resource_setup_verify */
	resource_done_cb on_acquired; /* answer to resource_setup_acquire */
	resource_holder_cb on_holder; /* answer to resource_setup_check_holder */
	resource_done_cb on_selftest; /* each permission self-test's verdict */
};

/*
 * The HTTP, IMDS and credential clients when a driver needs AWS. `cfg` is
 * copied: a reload builds a new set-up beside the running one.
 */
struct resource_setup *resource_setup_new(struct ev_loop *loop,
					  const struct config *cfg,
					  const struct resource_setup_ops *ops);
/* Start the set-up (identity, endpoint, preparation). */
void resource_setup_start(struct resource_setup *rs);
void resource_setup_free(struct resource_setup *rs);

/* Forget the credentials: the next request reads the chain again. */
void resource_setup_refresh_credentials(struct resource_setup *rs);

/* Ask the group; held until the set-up is done, then run. */
void resource_setup_verify(struct resource_setup *rs);
void resource_setup_acquire(struct resource_setup *rs);
/* resource_check_holder once the set-up is done (else nothing to ask). */
void resource_setup_check_holder(struct resource_setup *rs);
/*
 * The role for the host side of the resources (resource_host): 1 when
 * ACTIVE, 0 otherwise; kept and applied to a group built later.
 */
void resource_setup_role(struct resource_setup *rs, int active);
/*
 * A reload replaces rs by next: addresses rs put on the host for resources
 * next no longer has come off now (next puts its own on by itself).
 */
void resource_setup_hand_over(struct resource_setup *rs,
			      const struct resource_setup *next);
/* Drop a waiting or running acquisition and any request in flight. */
void resource_setup_cancel(struct resource_setup *rs);

/*
 * 1 when this node can use the EC2 API as far as it knows; 0 and why when
 * the AWS set-up keeps failing or the EC2 client says it cannot
 * (ec2_api_usable). Resource types without AWS: always 1.
 */
int resource_setup_api_usable(const struct resource_setup *rs, char *why,
			      size_t len);

/* The peer's instance id, from its heartbeats; logged when it changes. */
void resource_setup_peer_instance(struct resource_setup *rs, const char *id);
const char *resource_setup_self_instance(const struct resource_setup *rs);
const char *resource_setup_peer(const struct resource_setup *rs);

/* Its part of the status snapshot: resources, credentials, EC2 counters. */
struct status_snapshot;
void resource_setup_status(const struct resource_setup *rs,
			   struct status_snapshot *s);

/* Dump lines: aws, aws setup, credentials, http, then the group's. */
void resource_setup_dump(const struct resource_setup *rs, FILE *out);

#endif
