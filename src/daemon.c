/*
 * daemon.c - the running daemon: one context that owns the loop, the
 * configuration and every module. It turns I/O (heartbeats, EC2 answers,
 * health results, timers, signals) into election events and the election's
 * actions back into I/O. All decisions live in elect.c.
 */
#include "daemon_int.h"
#include "health.h"
#include "config.h"
#include "ctl.h"
#include "dump.h"
#include "elect.h"
#include "elect_map.h"
#include "hooks.h"
#include "link.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "pidfile.h"
#include "resource.h"
#include "resource_setup.h"
#include "statefile.h"
#include "status.h"
#include "util.h"

#include <ev.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LEAVE_COPIES 3
#define STOP_GRACE_MS 2000

static void api_sync(struct daemon *d);

int
daemon_check_config(const struct daemon_options *opt)
{
	static struct config cfg;
	char err[512], summary[1024];

	if (config_load(opt->config_path, opt->node, &cfg, err,
			sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return CONFIG_EX_CONFIG;
	}
	config_summary(&cfg, summary, sizeof(summary));
	config_forget_keys(&cfg);
	printf("%s: OK: %s\n", opt->config_path, summary);
	return 0;
}

/* ---- resources: answers to verify and acquire ---- */

static void
got_owner(void *arg, enum resource_owner owner, const char *detail)
{
	struct daemon *d = arg;
	struct elect_event ev = {
		.type = ELECT_EV_OWNER,
		.owner = elect_map_owner(owner),
		.detail = detail,
	};

	api_sync(d);
	daemon_feed(d, &ev);
}

static void
got_acquired(void *arg, int rc, const char *detail)
{
	struct daemon *d = arg;
	struct elect_event ev = {
		.type = ELECT_EV_ACQUIRED, .ok = rc == 0, .detail = detail};

	/* The one line for a successful acquisition (resource.c is silent). */
	if (rc == 0) {
		struct log_fields f = {
			.message_id = LOG_ID_FAILOVER,
			.state = "ACTIVE",
			.peer = d->cfg.nodes[d->cfg.peer].name,
			.has_term = 1,
			.term = elect_term(&d->el),
		};

		d->last_acquire_ms = util_now_ms() - d->acquire_started_ms;
		log_fields_msg(LOG_LEVEL_NOTICE, &f, "failover: resources on this node %" PRIu64
			   " ms after the takeover decision",
			   d->last_acquire_ms);
	}
	api_sync(d);
	daemon_feed(d, &ev);
}

/* The guard's way out; an unknown answer tells the election nothing. */
static void
got_holder(void *arg, enum resource_holder holder, const char *detail)
{
	struct daemon *d = arg;
	struct elect_event ev = {.type = ELECT_EV_HOLDER,
				 .ok = holder != RES_HOLDER_DOWN,
				 .detail = detail};

	if (holder == RES_HOLDER_UNKNOWN)
		return;
	daemon_feed(d, &ev);
}

/* A self-test verdict may change whether this node can move the EIPs. */
static void
got_selftest(void *arg, int rc, const char *detail)
{
	api_sync(arg);
}

/* ---- the election shell ---- */

static enum hooks_role
hook_role(enum elect_role role)
{
	switch (role) {
	case ELECT_ACTIVE:
		return HOOKS_ACTIVE;
	case ELECT_FAULT:
		return HOOKS_FAULT;
	case ELECT_STARTING:
	case ELECT_STANDBY:
		break;
	}
	return HOOKS_STANDBY;
}

static void
run_hook(struct daemon *d, const struct elect_actions *a)
{
	char resources[512];
	/* The hook is told old and new state apart; the reason is the why. */
	struct hooks_event he = {
		.old_state = elect_role_name(a->from),
		.new_state = elect_role_name(a->to),
		.reason = a->reason + a->why,
		.term = elect_term(&d->el),
		.resources = resources,
	};

	if (a->to == ELECT_STARTING)
		return;
	resource_config_ids(&d->cfg, resources, sizeof(resources));
	hooks_run(d->hooks, hook_role(a->to), &he);
}

void
daemon_schedule(struct daemon *d, uint64_t now)
{
	uint64_t when = elect_next_deadline(&d->el, now);

	ev_timer_stop(d->loop, &d->elect_timer);
	if (when == UINT64_MAX)
		return;
	ev_timer_set(&d->elect_timer,
		     when > now ? (double)(when - now) / 1000. : 0., 0.);
	ev_timer_start(d->loop, &d->elect_timer);
}

/*
 * The partition guard survives a restart: saved whenever the election
 * sets or lifts it. A failed save is logged; the guard still holds in
 * memory.
 */
static void
persist_guard(struct daemon *d)
{
	struct statefile next = d->state;
	char err[PATH_MAX + 160];

	next.guarded = elect_guarded(&d->el);
	if (next.guarded == d->state.guarded || !d->state_ok)
		return;
	if (statefile_save(d->opt->state_dir, &next, err, sizeof(err)) == -1) {
		log_err("guarded STANDBY %s: not saved, a restart forgets it: "
			"%s",
			next.guarded ? "set" : "lifted", err);
		return;
	}
	d->state = next;
}

void
daemon_apply(struct daemon *d, const struct elect_actions *a, uint64_t now)
{
	persist_guard(d);
	if (a->reason[0] && a->from != a->to) {
		struct log_fields f = {
			.message_id = LOG_ID_STATE_CHANGE,
			.state = elect_role_name(a->to),
			.from = elect_role_name(a->from),
			.reason = a->reason + a->why,
			.peer = d->cfg.nodes[d->cfg.peer].name,
			.has_term = 1,
			.term = elect_term(&d->el),
		};

		log_fields_msg(elect_map_level(a->level), &f, "%s", a->reason);
	} else if (a->reason[0]) {
		log_msg(elect_map_level(a->level), "%s", a->reason);
	}
	if (a->from != a->to) {
		d->transitions++;
		d->transitions_to[a->to]++;
		notify_sendf("STATUS=%s (term %" PRIu64 ")%s",
			     elect_role_name(a->to), elect_term(&d->el),
			     elect_guarded(&d->el) ? ", guarded" : "");
	}
	if (a->flags & ELECT_ACT_CANCEL) {
		resource_setup_cancel(d->res);
	}
	if (a->from != a->to)
		resource_setup_role(d->res, a->to == ELECT_ACTIVE);
	if (a->flags & ELECT_ACT_ACQUIRE) {
		d->acquire_started_ms = now;
		d->failovers++;
		resource_setup_acquire(d->res);
	}
	if (a->flags & ELECT_ACT_VERIFY)
		resource_setup_verify(d->res);
	if (a->flags & ELECT_ACT_CHECK_HOLDER)
		resource_setup_check_holder(d->res);
	if ((a->flags & ELECT_ACT_SEND) && d->links_open)
		link_send_now(&d->links);
	if (a->flags & ELECT_ACT_LEAVE && d->links_open)
		for (int i = 0; i < LEAVE_COPIES; i++)
			link_send_leave(&d->links);
	if (a->flags & ELECT_ACT_HOOK)
		run_hook(d, a);
	if (a->flags & ELECT_ACT_READY) {
		d->ready_sent = 1;
		notify_sendf("READY=1\nSTATUS=%s (term %" PRIu64 ")",
			     elect_role_name(elect_role(&d->el)),
			     elect_term(&d->el));
	}
}

void
daemon_feed(struct daemon *d, const struct elect_event *ev)
{
	struct elect_actions a;
	uint64_t now = util_now_ms();

	elect_step(&d->el, ev, now, &a);
	daemon_apply(d, &a, now);
	if (!d->stopping)
		daemon_schedule(d, now);
}

static void
on_elect_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;
	struct elect_event ev = {.type = ELECT_EV_TICK};

	api_sync(d);
	daemon_feed(d, &ev);
}

/*
 * Before an EC2 answer or a timer reaches the election, tell it when this
 * node's use of the EC2 API changed (its heartbeats say so), so that the
 * step sees it: a start-up decision must not prefer a node without
 * credentials.
 */
static void
api_sync(struct daemon *d)
{
	char why[600] = "";
	int ok = resource_setup_api_usable(d->res, why, sizeof(why));
	struct elect_event ev = {.type = ELECT_EV_API, .ok = ok, .detail = why};

	if (ok != elect_api_down(&d->el))
		return;
	daemon_feed(d, &ev);
}

static void
got_health(void *arg, enum health_status health, const char *reason)
{
	struct daemon *d = arg;
	struct elect_event ev = {
		.type = ELECT_EV_HEALTH,
		.ok = health == HEALTH_HEALTHY,
		.detail = reason,
	};

	daemon_feed(d, &ev);
}

/* ---- heartbeats ---- */

static void
link_fill(void *arg, struct wire_msg *m)
{
	struct daemon *d = arg;
	enum elect_role role = elect_role(&d->el);

	m->state = elect_map_role_to_wire(role);
	m->priority = (uint8_t)d->cfg.nodes[d->cfg.self].priority;
	m->eligible = (uint8_t)elect_eligible(&d->el);
	m->term = elect_term(&d->el);
	m->flags = 0;
	if (elect_holds(&d->el))
		m->flags |= WIRE_FLAG_HOLDS;
	if (elect_maintenance(&d->el))
		m->flags |= WIRE_FLAG_MAINTENANCE;
	if (elect_handing_over(&d->el))
		m->flags |= WIRE_FLAG_HANDOVER;
	if (elect_api_down(&d->el))
		m->flags |= WIRE_FLAG_NO_API;
	util_strlcpy(m->instance_id, resource_setup_self_instance(d->res),
		     sizeof(m->instance_id));
}

static void
link_msg(void *arg, unsigned link, const struct wire_msg *m, uint64_t now)
{
	struct daemon *d = arg;
	struct elect_event ev;

	if (d->stopping)
		return;
	elect_map_msg(m, &ev);
	resource_setup_peer_instance(d->res, m->instance_id);
	daemon_feed(d, &ev);
}

/* ---- signals ---- */

static void
on_stop_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;

	if (hooks_busy(d->hooks) && util_now_ms() < d->stop_deadline)
		return;
	if (hooks_busy(d->hooks))
		log_warn("stopping without waiting longer for the hook");
	ev_break(loop, EVBREAK_ALL);
}

/*
 * Graceful stop (rule 7): LEAVE on every link so the peer takes over at
 * once, the standby hook, then exit without touching the EIP. The loop runs
 * on until the hook has finished (bounded by hooks.timeout_ms).
 */
static void
on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	struct elect_event ev = {.type = ELECT_EV_SHUTDOWN};

	if (d->stopping) {
		log_notice("received %s again, stopping now",
			   strsignal(w->signum));
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	log_notice("received %s, stopping", strsignal(w->signum));
	notify_send("STOPPING=1");
	d->stopping = 1;
	d->exit_code = 0;
	ev_timer_stop(loop, &d->elect_timer);
	daemon_feed(d, &ev);
	resource_setup_cancel(d->res);
	/* The peer takes over on our LEAVE: the host side goes now. */
	resource_setup_role(d->res, 0);
	if (d->links_open) {
		link_close(&d->links);
		d->links_open = 0;
	}
	health_free(d->health);
	d->health = NULL;
	d->stop_deadline =
		util_now_ms() + d->cfg.hook_timeout_ms + STOP_GRACE_MS;
	ev_timer_init(&d->stop_timer, on_stop_timer, 0., 0.05);
	d->stop_timer.data = d;
	ev_timer_start(loop, &d->stop_timer);
}

void
daemon_dump_sources(const struct daemon *d, struct dump_sources *src)
{
	*src = (struct dump_sources){
		.config_path = d->opt->config_path,
		.cfg = &d->cfg,
		.incarnation = d->incarnation,
		.started_ms = d->started_ms,
		.el = &d->el,
		.links = d->links_open ? &d->links : NULL,
		.health = d->health,
		.hooks = d->hooks,
		.res = d->res,
		.transitions = d->transitions,
		.failovers = d->failovers,
		.reloads_ok = d->reloads_ok,
		.reloads_failed = d->reloads_failed,
		.dumps = d->dumps,
		.last_acquire_ms = d->last_acquire_ms,
	};
}

static void
on_dump(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	struct dump_sources src;

	d->dumps++;
	daemon_dump_sources(d, &src);
	dump_now(&src, d->opt->runtime_dir);
}

static void
on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	notify_send("WATCHDOG=1");
}

static void
signals_start(struct daemon *d)
{
	ev_signal_init(&d->sig_term, on_stop, SIGTERM);
	ev_signal_init(&d->sig_int, on_stop, SIGINT);
	ev_signal_init(&d->sig_hup, daemon_on_reload, SIGHUP);
	ev_signal_init(&d->sig_usr1, on_dump, SIGUSR1);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data =
		d->sig_usr1.data = d;
	ev_signal_start(d->loop, &d->sig_term);
	ev_signal_start(d->loop, &d->sig_int);
	ev_signal_start(d->loop, &d->sig_hup);
	ev_signal_start(d->loop, &d->sig_usr1);
	signal(SIGPIPE, SIG_IGN);
}

static void
watchdog_start(struct daemon *d)
{
	uint64_t usec = notify_watchdog_usec();

	if (usec == 0)
		return;
	/* Ping at half the interval, as sd_watchdog_enabled(3) advises. */
	ev_timer_init(&d->watchdog, on_watchdog, 0., usec / 2e6);
	d->watchdog.data = d;
	ev_timer_start(d->loop, &d->watchdog);
}

const struct resource_setup_ops daemon_res_ops = {
	.on_owner = got_owner, .on_acquired = got_acquired,
	.on_holder = got_holder, .on_selftest = got_selftest};

static int
modules_open(struct daemon *d)
{
	struct link_ops ops = {
		.arg = d, .fill = link_fill, .on_msg = link_msg};
	struct elect_params ep;
	struct elect_event start = {.type = ELECT_EV_START};
	struct resource_setup_ops res_ops = daemon_res_ops;
	char err[512];

	if (!resource_host_capable(&d->cfg, err, sizeof(err))) {
		log_err("cannot start: %s", err);
		return -1;
	}
	if (link_new_incarnation(&d->incarnation) == -1) {
		log_err("cannot start: no randomness for the incarnation");
		return -1;
	}
	elect_map_params(&ep, &d->cfg);
	ep.start_maintenance = d->state.maintenance;
	ep.start_guarded = d->state.guarded;
	ep.monitor_jitter_seed = d->incarnation; /* random, non-zero */
	if (d->state.guarded)
		log_notice("guarded STANDBY before the restart (from %s): no "
			   "takeover while the peer is silent and holds the EIP",
			   d->opt->state_dir);
	if (d->state.maintenance)
		log_notice("maintenance is on (from %s): this node will not "
			   "take over; `eipfloatd maintenance off` ends it",
			   d->opt->state_dir);
	elect_init(&d->el, &ep, util_now_ms());
	ev_timer_init(&d->elect_timer, on_elect_timer, 0., 0.);
	d->elect_timer.data = d;
	d->hooks = hooks_new(d->loop, &d->cfg);
	res_ops.arg = d;
	d->res = resource_setup_new(d->loop, &d->cfg, &res_ops);
	if (d->hooks == NULL || d->res == NULL) {
		log_err("cannot start: out of memory");
		return -1;
	}
	if (link_open(&d->links, d->loop, &d->cfg, d->incarnation, &ops, err,
		      sizeof(err)) == -1) {
		log_err("cannot start: %s", err);
		return -1;
	}
	d->links_open = 1;
	daemon_feed(d, &start);
	d->health = health_new(d->loop, &d->cfg, got_health, d);
	if (d->health == NULL) {
		log_err("cannot start: out of memory");
		return -1;
	}
	d->ctl = ctl_open(d->loop, d->opt->runtime_dir, daemon_on_ctl, d, err,
			  sizeof(err));
	if (d->ctl == NULL)
		log_warn("%s; `eipfloatd status` will not work", err);
	loop_defer_init(&d->metrics_timer, d->loop, daemon_on_metrics_timer,
			d);
	loop_defer_soon(&d->metrics_timer);
	resource_setup_start(d->res);
	return 0;
}

static void
modules_close(struct daemon *d)
{
	ev_timer_stop(d->loop, &d->elect_timer);
	ev_timer_stop(d->loop, &d->stop_timer);
	ctl_close(d->ctl);
	d->ctl = NULL;
	/* A stopped daemon's last metrics must not look current. */
	loop_defer_cancel(&d->metrics_timer);
	if (d->cfg.metrics_textfile[0])
		unlink(d->cfg.metrics_textfile);
	if (d->links_open)
		link_close(&d->links);
	d->links_open = 0;
	health_free(d->health);
	d->health = NULL;
	resource_setup_free(d->res);
	d->res = NULL;
	hooks_free(d->hooks);
	d->hooks = NULL;
}

/*
 * The state directory: unsafe (someone else could write the flag) refuses
 * the start; missing and not creatable runs on with nothing persisted, and
 * `eipfloatd maintenance` says why it cannot.
 */
static int
state_open(struct daemon *d)
{
	char err[PATH_MAX + 160];
	int rc = statefile_check_dir(d->opt->state_dir, err, sizeof(err));

	if (rc == -1) {
		log_err("cannot start: %s", err);
		return -1;
	}
	if (rc == 1) {
		log_warn("%s: the maintenance flag cannot be kept", err);
		return 0;
	}
	if (statefile_load(d->opt->state_dir, &d->state, err, sizeof(err)) ==
	    -1) {
		log_err("cannot start: %s (fix or remove it)", err);
		return -1;
	}
	d->state_ok = 1;
	return 0;
}

int
daemon_run(const struct daemon_options *opt)
{
	static struct daemon d;
	char err[512], summary[1024];
	int rc = 0;

	d.opt = opt;
	d.pidfd = -1;
	/*
	 * Until the loop's handlers are in place (after the pid file names
	 * us), a SIGUSR1 or SIGHUP from a script must not kill the daemon.
	 */
	signal(SIGUSR1, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (config_load(opt->config_path, opt->node, &d.cfg, err,
			sizeof(err)) == -1) {
		log_err("%s", err);
		return CONFIG_EX_CONFIG;
	}
	d.pidfd = pidfile_acquire(opt->runtime_dir, err, sizeof(err));
	if (d.pidfd == -1) {
		log_err("cannot start: %s", err);
		return 1;
	}
	if (state_open(&d) == -1) {
		pidfile_release(d.pidfd, opt->runtime_dir);
		return 1;
	}
	d.loop = ev_default_loop(EVFLAG_AUTO);
	d.started_ms = util_now_ms();
	signals_start(&d);
	watchdog_start(&d);
	config_summary(&d.cfg, summary, sizeof(summary));
	log_notice("eipfloatd %s starting: %s", PACKAGE_VERSION, summary);
	notify_send("STATUS=STARTING");
	if (modules_open(&d) == -1) {
		rc = 1;
	} else {
		ev_run(d.loop, 0);
		rc = d.exit_code;
	}
	modules_close(&d);
	log_notice("eipfloatd stopped");
	pidfile_release(d.pidfd, opt->runtime_dir);
	util_explicit_bzero(&d.cfg, sizeof(d.cfg));
	return rc;
}
