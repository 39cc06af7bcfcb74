/*
 * dump.h - the SIGUSR1 state dump: composed here from each module's
 * describe, sent to the log line by line and written atomically to
 * <runtime-dir>/state.
 */
#ifndef EIPFLOATD_DUMP_H
#define EIPFLOATD_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;
struct elect_state;
struct health;
struct hooks;
struct link_set;
struct resource_setup;

/* What the dump reads; each module describes itself. NULL: not running. */
struct dump_sources {
	const char *config_path;
	const struct config *cfg;
	uint64_t incarnation;
	uint64_t started_ms;
	const struct elect_state *el;
	const struct link_set *links;
	const struct health *health;
	const struct hooks *hooks;
	const struct resource_setup *res;
	/* the daemon's own counters */
	unsigned long transitions, failovers, reloads_ok, reloads_failed, dumps;
	uint64_t last_acquire_ms;
};

/* The whole dump text (also what `eipfloatd status` shows). */
void dump_write(const struct dump_sources *src, FILE *out);
/* The same as one malloc'd string; 0, or -1 (errno) when out of memory. */
int dump_text(const struct dump_sources *src, char **text, size_t *len);
/* SIGUSR1: compose, log and publish (dump_publish); failures logged here. */
void dump_now(const struct dump_sources *src, const char *dir);

/*
 * Log `text` (one notice per line) and replace DIR/state with it through a
 * temporary file and rename(2), so readers never see half a dump. Returns
 * 0, or -1 with the reason in err (the log part still happened).
 */
int dump_publish(const char *dir, const char *text, size_t len, char *err,
		 size_t errlen);

#endif
