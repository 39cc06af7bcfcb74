/*
 * dump.c - the state dump: composed from each module's describe, and
 * published to the journal for the operator at the console and to a file
 * for scripts and monitoring.
 */
#include "dump.h"
#include "textfile.h"
#include "config.h"
#include "daemon.h"
#include "elect.h"
#include "health.h"
#include "hooks.h"
#include "link.h"
#include "log.h"
#include "resource_setup.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
log_lines(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		log_notice("dump: %.*s", (int)n, p);
		p += n + 1;
	}
}

int
dump_publish(const char *dir, const char *text, size_t len, char *err,
	     size_t errlen)
{
	char path[PATH_MAX];

	log_lines(text, len);
	snprintf(path, sizeof(path), "%s/state", dir);
	return textfile_replace(path, text, len, err, errlen);
}

void
dump_write(const struct dump_sources *src, FILE *out)
{
	const struct config *cfg = src->cfg;
	char summary[1024], el[2048];
	uint64_t now = util_now_ms();
	const char *peer = src->res ? resource_setup_peer(src->res) : "";

	config_summary(cfg, summary, sizeof(summary));
	fprintf(out, "eipfloatd %s pid %ld incarnation %016" PRIx64 "\n",
		PACKAGE_VERSION, (long)getpid(), src->incarnation);
	fprintf(out, "config: %s: %s\n", src->config_path, summary);
	fprintf(out, "uptime: %" PRIu64 " s\n", (now - src->started_ms) / 1000);
	elect_describe(src->el, now, el, sizeof(el));
	fputs(el, out);
	fprintf(out, "peer instance: %s\n", peer[0] ? peer : "(unknown)");
	if (src->links != NULL)
		link_dump(src->links, out);
	if (src->health != NULL)
		health_dump(src->health, out);
	if (src->hooks != NULL)
		hooks_dump(src->hooks, out);
	if (src->res != NULL)
		resource_setup_dump(src->res, out);
	fprintf(out,
		"counters: %lu transitions, %lu acquisitions, last took %" PRIu64
		" ms, %lu reloads ok, %lu rejected, %lu dumps\n",
		src->transitions, src->failovers, src->last_acquire_ms,
		src->reloads_ok, src->reloads_failed, src->dumps);
}

int
dump_text(const struct dump_sources *src, char **text, size_t *len)
{
	FILE *out = open_memstream(text, len);

	if (out == NULL)
		return -1;
	dump_write(src, out);
	if (fclose(out) != 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	return 0;
}

void
dump_now(const struct dump_sources *src, const char *dir)
{
	char *text = NULL, err[512];
	size_t len = 0;

	if (dump_text(src, &text, &len) == -1) {
		log_err("state dump: %s", strerror(errno));
		return;
	}
	if (dump_publish(dir, text, len, err, sizeof(err)) == -1)
		log_err("state dump: %s (the log has it)", err);
	free(text);
}
