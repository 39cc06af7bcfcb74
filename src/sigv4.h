/*
 * sigv4.h - AWS Signature Version 4, pure: strings and a time in, the
 * headers to send out. No clock, no I/O, no globals.
 */
#ifndef EIPFLOATD_SIGV4_H
#define EIPFLOATD_SIGV4_H

#include <stddef.h>
#include <time.h>

#define SIGV4_HEADERS_MAX 32

struct sigv4_header {
	const char *name;  /* any case; signed lower-cased */
	const char *value; /* trimmed and space-folded when signed */
};

/* A request to sign, as it will go on the wire. */
struct sigv4_request {
	const char *method;		/* "POST" */
	const char *path;		/* raw path, e.g. "/" (not yet encoded) */
	const char *query;		/* raw query string after '?', or "" */
	const struct sigv4_header *headers; /* must include Host */
	size_t nheaders;
	const void *payload;
	size_t payload_len;
	const char *region;	/* "eu-west-1" */
	const char *service;	/* "ec2" */
	time_t when;		/* signing time, UTC */
	/* S3 does not normalise paths; every other service (EC2) does. */
	int normalize_path;
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key; /* secret: never logged */
	const char *session_token;     /* NULL/"" when not temporary */
};

struct sigv4_result {
	char amz_date[17];		/* "20150830T123600Z" -> X-Amz-Date */
	char authorization[1024];	/* the Authorization header value */
	/* Intermediates, for tests against published vectors. */
	char canonical_request[8192];
	char string_to_sign[512];
};

/*
 * Sign `req`. The caller must send the X-Amz-Date header with
 * res->amz_date (and X-Amz-Security-Token when a session token is used);
 * sigv4_sign signs them as if present (it adds them to the signed headers
 * itself when the request does not already list them). Returns 0, or -1
 * when a buffer would overflow or an argument is missing.
 */
int sigv4_sign(const struct sigv4_request *req,
	       const struct sigv4_credentials *cred, struct sigv4_result *res);

/* Percent-encode as AWS wants (RFC 3986 unreserved kept); -1 if no room. */
int sigv4_uri_encode(const char *in, int encode_slash, char *out,
		     size_t outlen);

#endif
