/*
 * resource_file.c - TEST-ONLY driver: the "owner" is the node name written
 * in a local file, so the shell tests can run the real daemon without EC2.
 * Not an operator feature: eipfloatd.conf(5) says "do not use it".
 */
#include "resource_driver.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
file_init(struct resource_item *it)
{
	util_strlcpy(it->name, it->cfg.path, sizeof(it->name));
	return 0;
}

static void
verify_one(struct resource_item *it)
{
	const struct resource_ids *ids = it->ids;
	char buf[CONFIG_NAME_MAX + 2];
	size_t n;
	FILE *f = fopen(it->cfg.path, "r");

	if (f == NULL) {
		if (errno == ENOENT)
			resource_item_seen(it, RES_OWNER_NONE, NULL, "read");
		else
			resource_item_seen(it, RES_OWNER_UNKNOWN, NULL,
					   "read failed");
		resource_item_done(it, RESOURCE_OP_VERIFY, 0, NULL);
		return;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		resource_item_seen(it, RES_OWNER_NONE, NULL, "read");
	else if (strcmp(buf, ids->self_name) == 0)
		resource_item_seen(it, RES_OWNER_SELF, buf, "read");
	else if (ids->peer_name[0] && strcmp(buf, ids->peer_name) == 0)
		resource_item_seen(it, RES_OWNER_PEER, buf, "read");
	else
		resource_item_seen(it, RES_OWNER_OTHER, buf, "read");
	resource_item_done(it, RESOURCE_OP_VERIFY, 0, NULL);
}

static void
file_verify(struct resource_item *const *items, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		verify_one(items[i]);
}

/* Write our name to a temporary file and rename it over: atomic. */
static void
file_acquire(struct resource_item *it)
{
	char tmp[CONFIG_PATH_MAX + 32], why[CONFIG_PATH_MAX + 64];
	FILE *f;
	int ok;

	it->attempts = 1;
	it->elapsed_ms = 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", it->cfg.path, (long)getpid());
	f = fopen(tmp, "w");
	if (f == NULL) {
		snprintf(why, sizeof(why), "%s: %s", tmp, strerror(errno));
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
		return;
	}
	ok = fprintf(f, "%s\n", it->ids->self_name) > 0;
	ok = fflush(f) == 0 && ok;
	ok = fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, it->cfg.path) == -1) {
		snprintf(why, sizeof(why), "%s: %s", it->cfg.path,
			 strerror(errno));
		unlink(tmp);
		resource_item_done(it, RESOURCE_OP_ACQUIRE, -1, why);
		return;
	}
	resource_item_seen(it, RES_OWNER_SELF, it->ids->self_name, "write");
	resource_item_done(it, RESOURCE_OP_ACQUIRE, 0, NULL);
}

const struct resource_driver resource_file_driver = {
	.type = "file",
	.needs_aws = 0,
	.init = file_init,
	.verify = file_verify,
	.acquire = file_acquire,
	/* no cancel: every call answers before it returns */
};
