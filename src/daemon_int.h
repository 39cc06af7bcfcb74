/*
 * daemon_int.h - the running daemon's one context, shared by the files of
 * the shell: daemon.c (start, stop, signals, the election's actions),
 * daemon_reload.c (SIGHUP) and daemon_ctl.c (the control socket and the
 * metrics textfile). Not for other modules: they are told what they need
 * through their own interfaces.
 */
#ifndef EIPFLOATD_DAEMON_INT_H
#define EIPFLOATD_DAEMON_INT_H

#include "config.h"
#include "ctl.h"
#include "daemon.h"
#include "dump.h"
#include "elect.h"
#include "link.h"
#include "loop.h"
#include "resource_setup.h"
#include "statefile.h"
#include "status.h"

#include <ev.h>
#include <stdint.h>

struct daemon {
	const struct daemon_options *opt;
	struct ev_loop *loop;
	struct config cfg; /* read-only between reloads */
	int pidfd;
	uint64_t started_ms;
	int exit_code;
	int stopping;
	struct statefile state; /* as last read from or written to the disk */
	int state_ok;		/* the state directory is usable */

	ev_signal sig_term, sig_int, sig_hup, sig_usr1;
	ev_timer watchdog;
	ev_timer elect_timer; /* next elect_next_deadline() */
	ev_timer stop_timer;  /* graceful stop: wait for the hook */
	uint64_t stop_deadline;

	struct link_set links;
	int links_open;
	uint64_t incarnation;
	struct elect_state el;
	struct hooks *hooks;
	struct health *health;
	struct ctl *ctl;
	struct loop_defer metrics_timer; /* metrics.textfile */

	/* the resources, and the AWS set-up they wait for */
	struct resource_setup *res;
	uint64_t acquire_started_ms; /* the takeover decision */
	int ready_sent;		     /* READY=1 told systemd start-up is done */

	unsigned long reloads_ok, reloads_failed, dumps, transitions;
	unsigned long transitions_to[STATUS_ROLES];
	unsigned long failovers;
	uint64_t last_acquire_ms; /* decision -> all associated, last time */
};

/* The election's answer to one event, applied; then its timer re-armed. */
void daemon_feed(struct daemon *d, const struct elect_event *ev);
void daemon_apply(struct daemon *d, const struct elect_actions *a,
		  uint64_t now);
void daemon_schedule(struct daemon *d, uint64_t now);
/* Everything the dump (SIGUSR1, the state file, `status`) is built from. */
void daemon_dump_sources(const struct daemon *d, struct dump_sources *src);
/* The resource layer's callbacks into the daemon (arg left to the caller). */
extern const struct resource_setup_ops daemon_res_ops;

/* daemon_reload.c: SIGHUP. */
void daemon_on_reload(struct ev_loop *loop, ev_signal *w, int revents);
/* daemon_ctl.c: one control-socket request; the metrics textfile timer. */
int daemon_on_ctl(void *arg, const struct ctl_request *req, char **body,
		  size_t *len);
void daemon_on_metrics_timer(void *arg);

#endif
