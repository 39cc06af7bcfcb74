/*
 * fuzz_credfile.c - libFuzzer target: arbitrary bytes as a shared
 * credentials file, looked up for two profiles; never a crash, errors
 * always "NAME:..." and never a quoted value.
 */
#include "creds_file.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one(const uint8_t *data, size_t size, const char *profile)
{
	static struct creds c; /* large: keep it off the stack */
	char err[512];
	int rc;

	err[0] = '\0';
	rc = creds_parse_file((const char *)data, size, "fuzz", profile, &c,
			      err, sizeof(err));
	if (rc == 0) {
		if (c.access_key_id[0] == '\0' ||
		    c.secret_access_key[0] == '\0' || c.source != CREDS_FILE)
			abort();
		return;
	}
	if ((rc != -1 && rc != 1) || strncmp(err, "fuzz", 4) != 0)
		abort();
	if (c.access_key_id[0] != '\0' || c.secret_access_key[0] != '\0')
		abort(); /* no half-filled result on failure */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, "default");
	one(data, size, "prod");
	return 0;
}
