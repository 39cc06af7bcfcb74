/*
 * check.h - the health check: check.command run periodically through
 * /bin/sh -c; `fall` failures in a row make the node unhealthy (ineligible),
 * `rise` successes in a row make it healthy again.
 *
 * Note: tests/check.h (the CHECK() helper) has the same file name. Source
 * files in src/ get this one with #include "check.h"; a test that needs
 * both includes "../src/check.h". The include guards differ.
 */
#ifndef EIPFLOATD_HEALTHCHECK_H
#define EIPFLOATD_HEALTHCHECK_H

#include <ev.h>
#include <stdio.h>

#include "config.h"

enum check_health {
	CHECK_UNKNOWN,	 /* no result yet */
	CHECK_HEALTHY,	 /* eligible */
	CHECK_UNHEALTHY, /* ineligible */
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
struct check_counter {
	unsigned fall, rise; /* 0 is taken as 1 */
	unsigned oks, fails; /* current run of consecutive results */
	enum check_health health;
};

void check_counter_init(struct check_counter *c, unsigned fall, unsigned rise);
/* Count one result (ok != 0: success); 1 if c->health changed, else 0. */
int check_count(struct check_counter *c, int ok);

/*
 * Health changed: `reason` says why ("check failed 3 times: exit 7: curl:
 * (7) Failed to connect"). The change is also logged here, at notice.
 */
typedef void (*check_cb)(void *arg, enum check_health health,
			 const char *reason);

struct check;

/*
 * Copies what it needs from cfg. With a check.command the first run starts
 * on the next loop iteration; each next run starts check.interval_ms after
 * the previous one finished (never two at once); a run longer than
 * check.timeout_ms is killed and counts as a failure. Without a command
 * the node is HEALTHY from the start and nothing is ever spawned (no
 * callback). `loop` must be the default loop. NULL only when out of
 * memory.
 */
struct check *check_new(struct ev_loop *loop, const struct config *cfg,
			check_cb on_change, void *arg);

/*
 * Take a reloaded configuration. A changed command kills a run of the old
 * one, restarts the counts and runs at once; the health stays as it is
 * until the new command's results move it (fall/rise). No command any more
 * means HEALTHY (reported through the callback if that is a change).
 */
void check_reload(struct check *c, const struct config *cfg);

enum check_health check_state(const struct check *c);
const char *check_health_name(enum check_health health);

/* State dump lines: health, runs in a row, last result, output, when. */
void check_dump(const struct check *c, FILE *out);

/* Kills a running check (process group, SIGKILL) and frees. NULL is ok. */
void check_free(struct check *c);

#endif
