/*
 * fuzz_imds.c - libFuzzer target: arbitrary bytes as the IMDS documents
 * (role credentials, identity) and as an Expiration time; a parse either
 * fails with a message or yields bounded, printable fields.
 */
#include "creds.h"
#include "imds.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
check_field(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == size)
		abort(); /* not terminated */
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			abort(); /* would reach a header or the log */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct creds c; /* large: keep it off the stack */
	struct imds_identity id;
	char err[512], *text;
	uint64_t ms;

	if (imds_parse_role_credentials((const char *)data, size, &c, err,
					sizeof(err)) == 0) {
		check_field(c.access_key_id, sizeof(c.access_key_id));
		check_field(c.secret_access_key, sizeof(c.secret_access_key));
		check_field(c.session_token, sizeof(c.session_token));
		if (c.expiration_ms == 0 || c.source != CREDS_IMDS)
			abort();
	} else if (strnlen(err, sizeof(err)) == 0) {
		abort();
	}
	if (imds_parse_identity((const char *)data, size, &id, err,
				sizeof(err)) == 0) {
		check_field(id.instance_id, sizeof(id.instance_id));
		check_field(id.region, sizeof(id.region));
		check_field(id.availability_zone, sizeof(id.availability_zone));
	} else if (strnlen(err, sizeof(err)) == 0) {
		abort();
	}
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	imds_parse_time(text, &ms);
	free(text);
	return 0;
}
