/*
 * resource_net.h - what the two private-address drivers (resource_secip.c,
 * resource_route.c) share: this node's network interface as EC2 describes
 * it (and the peer's), whose a read says the resource is, the staleness
 * rule of assoc.h applied to reads that carry no association id, and the
 * address on the host.
 */
#ifndef EIPFLOATD_RESOURCE_NET_H
#define EIPFLOATD_RESOURCE_NET_H

#include "assoc.h"
#include "ec2.h"
#include "hostaddr.h"
#include "loop.h"
#include "resource_driver.h"

#include <netinet/in.h>

/* This node's interface (and the peer's, when its instance is known). */
struct rnet_enis {
	int known;
	char eni[EC2_ID_MAX];
	char subnet[EC2_ID_MAX];
	char az[EC2_ID_MAX];
	char primary_ip[EC2_ID_MAX]; /* finds the interface on the host */
	char mac[EC2_ID_MAX];	     /* its IMDS directory */
	char peer_eni[EC2_ID_MAX];   /* "" while unknown */
	char peer_subnet[EC2_ID_MAX];
	char peer_az[EC2_ID_MAX];
};

/*
 * One DescribeNetworkInterfaces for this instance and the peer's: each
 * one's configured nodes[].network_interface_id, else its device-index-0
 * interface. cb gets NULL and why on failure.
 */
typedef void (*rnet_enis_cb)(struct resource_item *it,
			     const struct rnet_enis *e, const char *why);
struct rnet_resolving { /* the caller's, alive while the call is */
	struct resource_item *it;
	rnet_enis_cb cb;
};
struct ec2_call *rnet_resolve(struct resource_item *it,
			      struct rnet_resolving *r, rnet_enis_cb cb);

/* In a DescribeNetworkInterfaces answer: the interface eni when given,
 * else the instance's lowest device index; NULL when neither is there. */
const struct ec2_eni *rnet_pick(const struct ec2_result *res,
				const char *instance, const char *eni);

/* Whose: self (by instance or interface), peer, none (both ""), other. */
enum resource_owner rnet_classify(const struct resource_item *it,
				  const struct rnet_enis *e,
				  const char *instance_id, const char *eni);

/*
 * The staleness rule for reads without association ids: after our write,
 * any other answer is stale until a read shows ours (or ASSOC_SETTLE_MS
 * pass); then someone else's is believed when two reads in a row show it.
 */
struct rnet_claim {
	struct assoc_state st;
	struct assoc_reread rr;
	struct loop_defer again; /* the next read of a stale answer */
};
void rnet_claim_init(struct rnet_claim *c, struct resource_item *it,
		     void (*reread)(void *arg));
void rnet_claim_written(struct rnet_claim *c, const char *eni);
/*
 * Judge a read: 1 when it stands (report it), 0 when a re-read is
 * scheduled (the question stays open), -1 when reads stayed stale too
 * long (why says so; answer "unknown").
 */
int rnet_claim_judge(struct rnet_claim *c, struct resource_item *it,
		     enum resource_owner owner, const char *shown, char *why,
		     size_t len);
void rnet_claim_cancel(struct rnet_claim *c);
/* ", written 3 s ago, settled, 2 stale reads" */
void rnet_claim_describe(const struct rnet_claim *c, char *buf, size_t len);

/*
 * The address on the host: on the interface holding the ENI's primary
 * private IP, with that address's prefix (prefixlen 0) or the one given;
 * garp: announce it. 0, or -1 with why.
 */
struct rnet_host {
	struct in_addr addr;
	unsigned prefixlen; /* 0: the interface's own */
	int garp;
	int on; /* we put it there and have not removed it */
	char ifname[IF_NAMESIZE];
};
int rnet_host_add(struct rnet_host *h, const struct resource_item *it,
		  const struct rnet_enis *e, char *why, size_t len);
/* rnet_host_add where nobody waits for the answer: a failure is logged. */
void rnet_host_up(struct rnet_host *h, const struct resource_item *it,
		  const struct rnet_enis *e);
/* While ACTIVE and the API says it is ours: put it back if it went. */
void rnet_host_check(struct rnet_host *h, const struct resource_item *it,
		     const struct rnet_enis *e);
void rnet_host_remove(struct rnet_host *h, const struct resource_item *it);
/* ", on the host (eth0)" or "" */
void rnet_host_describe(const struct rnet_host *h, char *buf, size_t len);

#endif
