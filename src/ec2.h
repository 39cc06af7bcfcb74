/*
 * ec2.h - the EC2 Query API calls eipfloatd needs (DescribeAddresses,
 * AssociateAddress, DisassociateAddress): signed POSTs over http.c, with
 * retries, and pure XML parsers for the answers.
 */
#ifndef EIPFLOATD_EC2_H
#define EIPFLOATD_EC2_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ev_loop;
struct http_ctx;
struct creds_ctx;
struct ec2_ctx;
struct ec2_call;

#define EC2_API_VERSION "2016-11-15"
#define EC2_ID_MAX 64
#define EC2_CODE_MAX 64
#define EC2_MESSAGE_MAX 512
#define EC2_FORM_MAX 2048
#define EC2_ADDRESSES_MAX 64

enum ec2_action {
	EC2_DESCRIBE_ADDRESSES,
	EC2_ASSOCIATE_ADDRESS,
	EC2_DISASSOCIATE_ADDRESS,
	EC2_NACTIONS,
};

const char *ec2_action_name(enum ec2_action action);

/* One item of DescribeAddresses' addressesSet; "" when absent. */
struct ec2_address {
	char allocation_id[EC2_ID_MAX];
	char public_ip[EC2_ID_MAX];
	char association_id[EC2_ID_MAX];
	char instance_id[EC2_ID_MAX];
	char network_interface_id[EC2_ID_MAX];
	char private_ip[EC2_ID_MAX];
	char domain[16];
};

/* <Response><Errors><Error><Code>/<Message> and <RequestID>. */
struct ec2_error {
	char code[EC2_CODE_MAX];
	char message[EC2_MESSAGE_MAX]; /* truncated if longer */
	char request_id[EC2_ID_MAX];
};

/*
 * Pure parsers (no I/O, no globals). Each returns 0, or -1 with a reason in
 * err. Identifiers longer than their field are an error, never truncated.
 * An EC2 error document given to the describe/associate parsers fails with
 * "Code: Message" in err.
 */
int ec2_parse_describe_addresses(const char *xml, size_t len,
				 struct ec2_address *out, size_t max, size_t *n,
				 char *err, size_t errlen);
int ec2_parse_associate(const char *xml, size_t len, char *association_id,
			size_t idlen, char *err, size_t errlen);
int ec2_parse_disassociate(const char *xml, size_t len, char *err,
			   size_t errlen);
int ec2_parse_error(const char *xml, size_t len, struct ec2_error *out,
		    char *err, size_t errlen);

/* What to do about a failed attempt. */
enum ec2_error_class {
	EC2_ERR_RETRYABLE, /* throttling, 5xx, transport: back off, retry */
	EC2_ERR_CREDS,	   /* auth/expiry: refresh credentials, retry once */
	EC2_ERR_FATAL,	   /* validation, permissions, not found: report */
};

/*
 * Classify an answer: status is the HTTP status (0 = no answer, a transport
 * error), code the AWS error code ("" or NULL when none was parsed).
 */
enum ec2_error_class ec2_classify(long status, const char *code);

/* Random 32-bit values for the backoff jitter (injectable for tests). */
typedef uint32_t (*ec2_rand_fn)(void *arg);

struct ec2_retry_policy {
	unsigned base_ms;      /* first retry waits up to this; 100 */
	unsigned cap_ms;       /* no wait longer than this; 5000 */
	unsigned max_attempts; /* including the first; 0 = unlimited */
	unsigned deadline_ms;  /* give up after this long; 0 = never */
};

/* Reads: 3 attempts. Writes from the election: until success or cancel. */
void ec2_policy_read(struct ec2_retry_policy *p);
void ec2_policy_write(struct ec2_retry_policy *p);

/*
 * Full jitter: a wait uniformly spread over [0, min(cap, base * 2^(retry-1))]
 * for retry = 1, 2, ...; rnd is a uniform 32-bit random value.
 */
uint64_t ec2_backoff_ms(const struct ec2_retry_policy *p, unsigned retry,
			uint32_t rnd);

enum ec2_next {
	EC2_NEXT_GIVE_UP,
	EC2_NEXT_RETRY,		/* after ec2_backoff_ms() */
	EC2_NEXT_REFRESH_RETRY, /* creds_invalidate(), then retry at once */
};

/*
 * The retry decision after attempt number `attempts` (1 = the first) failed
 * with `cls`, `elapsed_ms` after the call began, `wait_ms` being the backoff
 * that would come next. role_creds: the credentials came from the instance
 * role, which a refresh can replace; refreshed: that was done already.
 */
enum ec2_next ec2_next_step(const struct ec2_retry_policy *p,
			    enum ec2_error_class cls, unsigned attempts,
			    uint64_t elapsed_ms, uint64_t wait_ms,
			    int role_creds, int refreshed);

/* A Query API form body: "Action=..&Version=..&Key=value..", encoded. */
struct ec2_form {
	char buf[EC2_FORM_MAX];
	size_t len;
	int overflow;
};

void ec2_form_init(struct ec2_form *f, const char *action);
/* Appends "&key=value" (both percent-encoded); sets overflow when full. */
void ec2_form_add(struct ec2_form *f, const char *key, const char *value);

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
	/* AssociateAddress */
	char association_id[EC2_ID_MAX];
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
		       size_t nips, const struct ec2_retry_policy *policy,
		       ec2_done_cb cb, void *arg);

struct ec2_associate_args {
	const char *allocation_id;
	const char *instance_id;	  /* or: */
	const char *network_interface_id; /* wins when set */
	const char *private_ip;		  /* optional, with the interface */
};

/* AllowReassociation=true: takes the address from wherever it is. */
struct ec2_call *ec2_associate_address(struct ec2_ctx *ctx,
				       const struct ec2_associate_args *a,
				       const struct ec2_retry_policy *policy,
				       ec2_done_cb cb, void *arg);
struct ec2_call *ec2_disassociate_address(struct ec2_ctx *ctx,
					  const char *association_id,
					  const struct ec2_retry_policy *policy,
					  ec2_done_cb cb, void *arg);

/* The callback of a cancelled call is not run. */
void ec2_cancel(struct ec2_call *call);

struct ec2_counters {
	unsigned long ok;      /* calls that succeeded */
	unsigned long retried; /* retries (attempts after the first) */
	unsigned long failed;  /* calls that failed for good */
};

const struct ec2_counters *ec2_get_counters(const struct ec2_ctx *ctx,
					    enum ec2_action action);
/* One line per action: "ec2 AssociateAddress ok=3 retried=1 failed=0". */
void ec2_dump(const struct ec2_ctx *ctx, FILE *out);

#endif
