/*
 * ec2.h - the EC2 Query API calls eipfloatd needs (the Elastic IP calls
 * here in ec2.c, the network interface and route table calls in
 * ec2_net.c): signed POSTs over http.c, retried as src/backoff.h
 * says (capped exponential backoff, full jitter, the SDKs' retry quota),
 * signed with EC2's clock when its Date headers show ours is off. The pure
 * halves: ec2_query.h (rules) and ec2_xml.h (answers); what an answer means:
 * ec2_retry.h (private to ec2.c and ec2_retry.c).
 */
#ifndef EIPFLOATD_EC2_H
#define EIPFLOATD_EC2_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backoff.h"
#include "ec2_query.h"
#include "ec2_xml.h"

struct ev_loop;
struct http_ctx;
struct creds_ctx;
struct ec2_ctx;
struct ec2_call;

enum ec2_action {
	EC2_DESCRIBE_ADDRESSES,
	EC2_ASSOCIATE_ADDRESS,
	EC2_DESCRIBE_INSTANCE_STATUS,
	EC2_DESCRIBE_NETWORK_INTERFACES,
	EC2_ASSIGN_PRIVATE_IP_ADDRESSES,
	EC2_DESCRIBE_ROUTE_TABLES,
	EC2_REPLACE_ROUTE,
	EC2_CREATE_ROUTE,
	EC2_DESCRIBE_NETWORK_INTERFACE_ATTRIBUTE,
	EC2_NACTIONS,
};

const char *ec2_action_name(enum ec2_action action);
/* 1 for the writes that move a resource here (IAM refusing one of them
 * means this node cannot take over; see ec2_api_usable). */
int ec2_action_moves(enum ec2_action action);

/* Random 32-bit values for the backoff jitter (injectable for tests). */
typedef uint32_t (*ec2_rand_fn)(void *arg);

/* Outcome of one API call, after all its attempts. */
struct ec2_result {
	enum ec2_action action;
	int rc;			 /* 0 ok, -1 failed for good */
	char code[EC2_CODE_MAX]; /* AWS code, or "Transport", "Http503" */
	char message[EC2_MESSAGE_MAX];
	long status; /* last HTTP status, 0 = none */
	unsigned attempts;
	uint64_t elapsed_ms; /* from the call to its end */
	/* DescribeAddresses */
	const struct ec2_address *addresses;
	size_t naddresses;
	/* AssociateAddress: the association this call created (its commit) */
	char association_id[EC2_ID_MAX];
	/* DescribeInstanceStatus: the instance, when the answer listed it */
	struct ec2_instance_status instance;
	int instance_found;
	/* DescribeNetworkInterfaces */
	const struct ec2_eni *enis;
	size_t nenis;
	/* DescribeRouteTables: each table and its route to the destination */
	const struct ec2_route_table *tables;
	size_t ntables;
	/* DescribeNetworkInterfaceAttribute: 1 enabled, 0 disabled */
	int source_dest_check;
	/* 1 for a DryRun call: rc 0 = IAM allows it (code "DryRunOperation"),
	 * code "UnauthorizedOperation" = denied, the message names the action
	 */
	int dry_run;
};

/* Runs once per call from the loop (never from inside the starter). */
typedef void (*ec2_done_cb)(void *arg, const struct ec2_result *res);

struct ec2_params {
	const char *region;
	const char
	    *endpoint; /* "" or NULL: https://ec2.<region>.amazonaws.com */
	const char *ca_file; /* "" or NULL: system CAs */
	unsigned timeout_ms; /* per HTTP request; 0 = 5000 */
};

struct ec2_ctx *ec2_new(struct ev_loop *loop, struct http_ctx *http,
			struct creds_ctx *creds,
			const struct ec2_params *params);
/* Cancels every call in flight (callbacks are not run). */
void ec2_free(struct ec2_ctx *ctx);
/* Replace the jitter source (default: seeded from getrandom). */
void ec2_set_rand(struct ec2_ctx *ctx, ec2_rand_fn fn, void *arg);

/* Either list may be empty (NULL, 0); both empty describes them all. */
struct ec2_call *
ec2_describe_addresses(struct ec2_ctx *ctx, const char *const *allocation_ids,
		       size_t nalloc, const char *const *public_ips,
		       size_t nips, const struct backoff_policy *policy,
		       ec2_done_cb cb, void *arg);

struct ec2_associate_args {
	const char *allocation_id;
	const char *instance_id;	  /* or: */
	const char *network_interface_id; /* wins when set */
	const char *private_ip;		  /* optional, with the interface */
	int dry_run; /* 1: DryRun=true, a permission check that moves nothing */
};

/*
 * AllowReassociation=true: takes the address from wherever it is. The
 * result's association_id is the association it created.
 */
struct ec2_call *ec2_associate_address(struct ec2_ctx *ctx,
				       const struct ec2_associate_args *a,
				       const struct backoff_policy *policy,
				       ec2_done_cb cb, void *arg);

/*
 * One instance's state and reachability checks (IncludeAllInstances=true,
 * so a stopped instance is listed too).
 */
struct ec2_call *ec2_describe_instance_status(
    struct ec2_ctx *ctx, const char *instance_id,
    const struct backoff_policy *policy, ec2_done_cb cb, void *arg);

/* ---- network interfaces and route tables (ec2_net.c) ---- */

/*
 * The interfaces attached to these instances (filter
 * attachment.instance-id), or when private_ip is set, the one holding that
 * private address (filter addresses.private-ip-address).
 */
struct ec2_call *ec2_describe_network_interfaces(
    struct ec2_ctx *ctx, const char *const *instance_ids, size_t n,
    const char *private_ip, ec2_done_cb cb, void *arg);

/* AllowReassignment=true: takes the address from the interface holding it. */
struct ec2_call *ec2_assign_private_ip(struct ec2_ctx *ctx, const char *eni,
				       const char *private_ip, int dry_run,
				       ec2_done_cb cb, void *arg);

/* These tables, each with its route to destination (a CIDR) if any. */
struct ec2_call *ec2_describe_route_tables(struct ec2_ctx *ctx,
					   const char *const *table_ids,
					   size_t n, const char *destination,
					   ec2_done_cb cb, void *arg);

struct ec2_route_args {
	const char *table_id;
	const char *destination; /* a CIDR */
	const char *eni;	 /* the target */
	int create;		 /* CreateRoute instead of ReplaceRoute */
	int dry_run;
};
struct ec2_call *ec2_replace_route(struct ec2_ctx *ctx,
				   const struct ec2_route_args *a,
				   ec2_done_cb cb, void *arg);

/* DescribeNetworkInterfaceAttribute Attribute=sourceDestCheck. */
struct ec2_call *ec2_describe_source_dest_check(struct ec2_ctx *ctx,
						const char *eni,
						ec2_done_cb cb, void *arg);

/* ec2_fix_text for a failed result, with this client's Region and URL. */
void ec2_result_fix(const struct ec2_ctx *ctx, const struct ec2_result *res,
		    char *buf, size_t len);

/* The callback of a cancelled call is not run. */
void ec2_cancel(struct ec2_call *call);

struct ec2_counters {
	unsigned long ok;      /* calls that succeeded */
	unsigned long retried; /* retries (attempts after the first) */
	unsigned long failed;  /* calls that failed for good */
};

const struct ec2_counters *ec2_get_counters(const struct ec2_ctx *ctx,
					    enum ec2_action action);
/*
 * EC2's clock minus ours in seconds, as measured from its Date headers (0
 * while they agree within 4 minutes); requests are signed with it added.
 */
int64_t ec2_clock_offset_s(const struct ec2_ctx *ctx);
/* Tokens left in the retry quota (BACKOFF_QUOTA_TOKENS when full). */
unsigned ec2_retry_quota(const struct ec2_ctx *ctx);
/*
 * 1 unless the last word on using the API from this node was a failure of
 * ec2_unusable_code() (a call that gave up with one, a NoCredentials
 * attempt, or three transport failures in one call); then 0 and why. The
 * next successful call makes it 1 again. Also 0 while IAM refuses one of
 * the writes that move (AssociateAddress, AssignPrivateIpAddresses,
 * ReplaceRoute, CreateRoute; a DryRun self-test or a real one said so)
 * until that action is allowed: reads working do not make it usable.
 */
int ec2_api_usable(const struct ec2_ctx *ctx, char *why, size_t len);

/* One line per action: "ec2 AssociateAddress ok=3 retried=1 failed=0". */
void ec2_dump(const struct ec2_ctx *ctx, FILE *out);

#endif
