/*
 * hooks.h - the notify hooks (hooks.active / standby / fault): one
 * executable run per state change, asynchronously, one at a time. A hook is
 * an absolute path run directly (execve, no shell, no arguments; write a
 * wrapper script for arguments), stdin /dev/null, output to the log at
 * info ("hook active: <line>"), in its own process group, killed
 * (SIGTERM, SIGKILL 2 s later) after hooks.timeout_ms.
 */
#ifndef EIPFLOATD_HOOKS_H
#define EIPFLOATD_HOOKS_H

#include <ev.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

enum hooks_role {
	HOOKS_ACTIVE,  /* hooks.active */
	HOOKS_STANDBY, /* hooks.standby */
	HOOKS_FAULT,   /* hooks.fault */
};

/*
 * What the hook is told, through its environment (EIPFLOATD_STATE,
 * EIPFLOATD_OLD_STATE, EIPFLOATD_REASON, EIPFLOATD_NODE, EIPFLOATD_PEER,
 * EIPFLOATD_TERM, EIPFLOATD_CLUSTER, EIPFLOATD_RESOURCES). Strings are
 * copied; NULL node/peer mean the names from the configuration, NULL
 * resources leaves EIPFLOATD_RESOURCES unset.
 */
struct hooks_event {
	const char *old_state; /* "STANDBY" */
	const char *new_state; /* "ACTIVE" */
	const char *reason;    /* "peer silent on all links for 1000 ms" */
	const char *node;
	const char *peer;
	uint64_t term;
	const char *resources; /* "eipalloc-0abc 52.1.2.3" or NULL */
};

struct hooks;

/*
 * Copies what it needs from cfg (no pointer into it is kept). A hook that
 * cannot run is already a configuration error (config_load refuses it, at
 * start and on reload); this checks every hook again and logs an error for
 * one that went bad since (deleted, chmod -x), and each later attempt to run
 * it is a warning. `loop` must be the default loop (the daemon uses
 * ev_default_loop: ev_child works only there). NULL only when out of memory.
 */
struct hooks *hooks_new(struct ev_loop *loop, const struct config *cfg);

/* New paths, timeout and names after a reload; a running hook goes on. */
void hooks_reload(struct hooks *h, const struct config *cfg);

/*
 * Check one hook path as hooks_new does: 0 if it can be run, else -1 with
 * the reason (for `eipfloatd -t`). An empty path (no hook) is fine.
 */
int hooks_validate(const char *path, char *err, size_t errlen);

/*
 * Run the hook for `role` (nothing if none is configured). Hooks never
 * run in parallel: while one runs, the newest request waits and replaces
 * any older waiting one (its transition is stale; that is logged). This
 * keeps the hooks' order the order of the transitions and the last hook
 * run the one for the current state, without making a fast flap wait
 * for every intermediate hook. A failing hook (non-zero exit, signal,
 * timeout) is logged with its output tail and not retried. Never blocks.
 */
void hooks_run(struct hooks *h, enum hooks_role role,
	       const struct hooks_event *ev);

/* A hook running or waiting: graceful stop runs the loop until it is 0. */
int hooks_busy(const struct hooks *h);

/* State dump lines: running / waiting hook, last run, its result, when. */
void hooks_dump(const struct hooks *h, FILE *out);

/* Kills a running hook (process group, SIGKILL) and frees. NULL is ok. */
void hooks_free(struct hooks *h);

const char *hooks_role_name(enum hooks_role role);

#endif
