/*
 * ec2_retry.h - the EC2 client's insides, shared by its two halves: ec2.c
 * builds, signs and sends a call; ec2_retry.c decides what each answer
 * means for it (retry, refresh, clock-skew correction, the DryRun verdict,
 * give up) and keeps what the answers taught (the clock offset, the retry
 * quota, whether the API is usable from here). Nobody else includes it.
 */
#ifndef EIPFLOATD_EC2_RETRY_H
#define EIPFLOATD_EC2_RETRY_H

#include "ec2.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "sigv4.h"

struct creds_wait {
	struct ec2_call *call; /* NULL once the call was cancelled */
};

struct ec2_call {
	struct ec2_ctx *ctx;
	enum ec2_action action;
	char label[160];
	struct ec2_form form;
	struct backoff_policy policy;
	ec2_done_cb cb;
	void *arg;
	struct loop_defer attempt; /* first attempt and every backoff */
	struct http_call *http;
	struct creds_wait *wait;
	unsigned attempts;
	int refreshed;
	int skew_retried;    /* retried once with a corrected clock */
	int64_t signed_offset_s; /* the clock offset its last attempt used */
	int timed_out;	     /* the last attempt timed out */
	unsigned quota_cost; /* what its last retry took from the quota */
	int dry_run;
	/*
	 * Not needed to move the EIPs (DescribeInstanceStatus): its
	 * UnauthorizedOperation does not make the API "unusable".
	 */
	int optional;
	uint64_t started_ms;
	int in_cb;
	struct ec2_result res;
	char form_root[64];	      /* "<Action>Response" */
	char destination[EC2_ID_MAX]; /* DescribeRouteTables: the route kept */
	union {
		struct ec2_address addrs[EC2_ADDRESSES_MAX];
		struct ec2_eni enis[EC2_ENIS_MAX];
		struct ec2_route_table tables[EC2_ROUTE_TABLES_MAX];
	} buf; /* what res points into */
	struct ec2_call *prev, *next;
};

struct ec2_ctx {
	struct ev_loop *loop;
	struct http_ctx *http;
	struct creds_ctx *creds;
	char region[64];
	char url[1024];
	char host[256];
	char path[512];
	char ca_file[1024];
	unsigned timeout_ms;
	ec2_rand_fn rand;
	void *rand_arg;
	uint64_t rand_state;
	struct ec2_call *calls;
	struct ec2_counters counters[EC2_NACTIONS];
	struct ec2_counters dry_runs; /* DryRun calls: counted, not reported */
	struct backoff_quota quota;
	int64_t clock_offset_s; /* EC2's clock minus ours, from its Date */
	int api_down;		/* see ec2_api_usable() */
	char api_why[EC2_CODE_MAX + EC2_MESSAGE_MAX + 200];
	/*
	 * IAM refused a write that moves a resource here (ec2_action_moves;
	 * a DryRun or a real one): this node cannot take over whatever else
	 * works, until that action is allowed. Per action: a group may mix
	 * types, and one allowed write says nothing about another.
	 */
	int denied[EC2_NACTIONS];
	char denied_why[EC2_NACTIONS][EC2_CODE_MAX + EC2_MESSAGE_MAX + 200];
	struct log_ratelimit retry_log;
	/* Scratch for signing; wiped after each use (it holds the token). */
	struct sigv4_result sig;
	char hdr_date[64];
	char hdr_auth[1100];
	char hdr_host[300];
	char hdr_token[4200];
};

/* ec2.c: a call of this action (policy NULL: the action's default), and
 * its first attempt queued (NULL when the form overflowed; freed). */
struct ec2_call *ec2_call_new(struct ec2_ctx *ctx, enum ec2_action action,
			      const struct backoff_policy *policy,
			      ec2_done_cb cb, void *arg);
struct ec2_call *ec2_call_go(struct ec2_call *call);
/* ec2.c: DryRun=true on the call (a permission check). */
void ec2_call_dry_run(struct ec2_call *call);

/* ec2.c: end the call: stop its I/O, ec2_retry_outcome(), the callback. */
void ec2_call_deliver(struct ec2_call *call, int rc);

/* The accounting of a call's end (rc 0 ok, -1 failed for good). */
void ec2_retry_outcome(struct ec2_call *call, int rc);
/* Where the call's ok/retried/failed count: its action's, or dry_runs. */
struct ec2_counters *ec2_call_counters(struct ec2_call *call);
/* An attempt failed with res.code/message set: retry, refresh or give up. */
void ec2_retry_failed(struct ec2_call *call, enum ec2_error_class cls);
/*
 * The answer's Date and error code against our clock: 1 when the call was
 * refused for its time and is to be retried now, with the new offset.
 */
int ec2_retry_skew(struct ec2_call *call, const struct http_response *resp,
		   const char *code);
/* A DryRun call's error answer: 1 when it was the verdict (delivered). */
int ec2_retry_dry_run(struct ec2_call *call);

#endif
