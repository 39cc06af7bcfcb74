/*
 * health.h - the health check: check.command run periodically through
 * /bin/sh -c; `fall` failures in a row make the node unhealthy (ineligible),
 * `rise` successes in a row make it healthy again.
 */
#ifndef EIPFLOATD_HEALTH_H
#define EIPFLOATD_HEALTH_H

#include <ev.h>
#include <stdio.h>

#include "config.h"

enum health_status {
	HEALTH_UNKNOWN,	 /* no result yet */
	HEALTH_HEALTHY,	 /* eligible */
	HEALTH_UNHEALTHY, /* ineligible */
};

/*
 * The fall/rise hysteresis, pure. Start-up: UNKNOWN, and the first result
 * decides at once (no hysteresis: there is no earlier state to protect from
 * flapping). Assuming "healthy until proven otherwise" would let a node
 * whose service is not up yet grab the EIP during the fall * interval
 * seconds it takes to fail; assuming "unhealthy until rise successes"
 * delays a lone node's takeover for no gain. The first check runs at once,
 * well inside election.startup_wait_ms. Callers should treat UNKNOWN as
 * "not eligible to take over" (but not as a reason to yield).
 * After that: HEALTHY turns UNHEALTHY after `fall` consecutive failures,
 * UNHEALTHY turns HEALTHY after `rise` consecutive successes.
 */
struct health_counter {
	unsigned fall, rise; /* 0 is taken as 1 */
	unsigned oks, fails; /* current run of consecutive results */
	enum health_status health;
};

void health_counter_init(struct health_counter *c, unsigned fall, unsigned rise);
/* Count one result (ok != 0: success); 1 if c->health changed, else 0. */
int health_count(struct health_counter *c, int ok);

/*
 * Health changed: `reason` says why ("check failed 3 times: exit 7: curl:
 * (7) Failed to connect"). The change is also logged here, at notice.
 */
typedef void (*health_cb)(void *arg, enum health_status health,
			 const char *reason);

struct health;

/*
 * Copies what it needs from cfg. With a check.command the first run starts
 * on the next loop iteration; each next run starts check.interval_ms after
 * the previous one finished (never two at once); a run longer than
 * check.timeout_ms is killed and counts as a failure. Without a command
 * the node is HEALTHY from the start and nothing is ever spawned (no
 * callback). `loop` must be the default loop. NULL only when out of
 * memory.
 */
struct health *health_new(struct ev_loop *loop, const struct config *cfg,
			health_cb on_change, void *arg);

/*
 * Take a reloaded configuration. A changed command kills a run of the old
 * one, restarts the counts and runs at once; the health stays as it is
 * until the new command's results move it (fall/rise). No command any more
 * means HEALTHY (reported through the callback if that is a change).
 */
void health_reload(struct health *c, const struct config *cfg);

enum health_status health_current(const struct health *c);
const char *health_status_name(enum health_status health);

/* State dump lines: health, runs in a row, last result, output, when. */
void health_dump(const struct health *c, FILE *out);

/* Kills a running check (process group, SIGKILL) and frees. NULL is ok. */
void health_free(struct health *c);

#endif
