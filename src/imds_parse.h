/*
 * imds_parse.h - what the instance metadata service answers, parsed: the
 * identity document and role credentials (JSON), the role listing, the
 * session token, and ISO 8601 times. Pure: no I/O, no clock.
 */
#ifndef EIPFLOATD_IMDS_PARSE_H
#define EIPFLOATD_IMDS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "creds.h"

struct imds_identity {
	char instance_id[64];
	char region[64];
	char availability_zone[64];
	char account_id[32]; /* "" when the document has none */
	char private_ip[64]; /* "" when the document has none */
};

/* Each parser returns 0, or -1 with a reason in err. */
int imds_parse_identity(const char *json, size_t len, struct imds_identity *out,
			char *err, size_t errlen);
/*
 * The role credentials document: Code must be "Success"; AccessKeyId,
 * SecretAccessKey, Token and Expiration are required. Never puts a secret
 * into err.
 */
int imds_parse_role_credentials(const char *json, size_t len, struct creds *out,
				char *err, size_t errlen);
/*
 * The role listing names the role on its first line; IAM's character set
 * only, since the name goes into a URL path. 0, or -1 with role "".
 */
int imds_parse_role_name(const char *body, size_t len, char *role,
			 size_t size);
/* A session token fit to send back in a header: printable, 0 < len < max. */
int imds_token_ok(const char *s, size_t len, size_t max);
/* "2026-11-26T12:00:00Z" (fraction and +hh:mm offsets allowed) -> ms. */
int imds_parse_time(const char *s, uint64_t *ms);

#endif
