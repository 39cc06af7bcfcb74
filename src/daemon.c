/*
 * daemon.c - the running daemon: one context that owns the loop, the
 * configuration and every module. It turns I/O (heartbeats, EC2 answers,
 * health results, timers, signals) into election events and the election's
 * actions back into I/O. All decisions live in elect.c.
 */
#include "daemon.h"
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
#include "textfile.h"
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
#define METRICS_TEXTFILE_MS 5000

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

static void feed(struct daemon *d, const struct elect_event *ev);
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
	util_explicit_bzero(cfg.authkey, sizeof(cfg.authkey));
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
	feed(d, &ev);
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
	feed(d, &ev);
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

static void
elect_schedule(struct daemon *d, uint64_t now)
{
	uint64_t when = elect_next_deadline(&d->el, now);

	ev_timer_stop(d->loop, &d->elect_timer);
	if (when == UINT64_MAX)
		return;
	ev_timer_set(&d->elect_timer,
		     when > now ? (double)(when - now) / 1000. : 0., 0.);
	ev_timer_start(d->loop, &d->elect_timer);
}

static void
apply(struct daemon *d, const struct elect_actions *a, uint64_t now)
{
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
	if (a->flags & ELECT_ACT_ACQUIRE) {
		d->acquire_started_ms = now;
		d->failovers++;
		resource_setup_acquire(d->res);
	}
	if (a->flags & ELECT_ACT_VERIFY)
		resource_setup_verify(d->res);
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

static void
feed(struct daemon *d, const struct elect_event *ev)
{
	struct elect_actions a;
	uint64_t now = util_now_ms();

	elect_step(&d->el, ev, now, &a);
	apply(d, &a, now);
	if (!d->stopping)
		elect_schedule(d, now);
}

static void
on_elect_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;
	struct elect_event ev = {.type = ELECT_EV_TICK};

	api_sync(d);
	feed(d, &ev);
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
	feed(d, &ev);
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

	feed(d, &ev);
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
	feed(d, &ev);
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
	feed(d, &ev);
	resource_setup_cancel(d->res);
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

static const struct resource_setup_ops res_ops_template = {
	.on_owner = got_owner, .on_acquired = got_acquired};

/*
 * The resource layer after a reload. When what it was built from changed
 * (resources, aws.*, instance or interface ids) a new one is built from
 * `next` and replaces the old, and the election hears ELECT_EV_RESOURCES
 * (it re-issues an acquisition in flight, or verifies the new group at
 * once, so an ACTIVE node associates an added EIP now and no longer
 * manages a removed one). Otherwise the credentials are only re-read. Returns the new set-up, d->res itself, or NULL (out of memory).
 */
static struct resource_setup *
resources_for_reload(struct daemon *d, const struct config *next, char *what,
		     size_t len)
{
	struct resource_setup_ops ops = res_ops_template;

	if (!config_resources_changed(&d->cfg, next, what, len)) {
		resource_setup_refresh_credentials(d->res);
		return d->res;
	}
	ops.arg = d;
	return resource_setup_new(d->loop, next, &ops);
}

static void
resources_swap(struct daemon *d, struct resource_setup *rs)
{
	struct resource_setup *old = d->res;
	const char *peer = resource_setup_peer(old);
	struct elect_event ev = {.type = ELECT_EV_RESOURCES};

	if (rs == old)
		return;
	if (peer[0] != '\0')
		resource_setup_peer_instance(rs, peer);
	resource_setup_free(old);
	d->res = rs;
	resource_setup_start(rs);
	feed(d, &ev);
}

/*
 * SIGHUP: build a whole new configuration and swap it in only if it is
 * valid and compatible; a bad file leaves the running one untouched. Every
 * key either applies here or config_reload_check() refuses the reload
 * naming it. systemd hears RELOADING=1/READY=1 only once start-up is done
 * (a reload while STARTING must not make it think start-up finished).
 */
static void
on_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	struct elect_params ep;
	struct config *next;
	struct resource_setup *rs = NULL;
	char err[512], summary[1024], what[64] = "";

	if (d->stopping)
		return;
	if (d->ready_sent)
		notify_send("RELOADING=1");
	next = malloc(sizeof(*next));
	if (next == NULL) {
		log_err("reload: out of memory; keeping the running "
			"configuration");
		goto out;
	}
	if (config_load(d->opt->config_path, d->cfg.nodes[d->cfg.self].name,
			next, err, sizeof(err)) == -1 ||
	    config_reload_check(&d->cfg, next, err, sizeof(err)) == -1) {
		d->reloads_failed++;
		log_err("reload rejected, keeping the running configuration: "
			"%s",
			err);
		goto out;
	}
	rs = resources_for_reload(d, next, what, sizeof(what));
	if (rs == NULL) {
		d->reloads_failed++;
		log_err("reload: out of memory; keeping the running "
			"configuration");
		goto out;
	}
	memcpy(&d->cfg, next, sizeof(d->cfg));
	d->reloads_ok++;
	link_set_config(&d->links, &d->cfg);
	elect_map_params(&ep, &d->cfg);
	elect_reconfigure(&d->el, &ep);
	hooks_reload(d->hooks, &d->cfg);
	health_reload(d->health, &d->cfg);
	config_summary(&d->cfg, summary, sizeof(summary));
	if (rs != d->res)
		log_notice("reloaded %s: %s (%s changed: resource layer "
			   "rebuilt)",
			   d->opt->config_path, summary, what);
	else
		log_notice("reloaded %s: %s", d->opt->config_path, summary);
	resources_swap(d, rs);
	elect_schedule(d, util_now_ms());
out:
	if (next != NULL) {
		util_explicit_bzero(next, sizeof(*next));
		free(next);
	}
	if (d->ready_sent)
		notify_sendf("READY=1\nSTATUS=%s (term %" PRIu64 ")",
			     elect_role_name(elect_role(&d->el)),
			     elect_term(&d->el));
}

static void
dump_sources_of(const struct daemon *d, struct dump_sources *src)
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
	dump_sources_of(d, &src);
	dump_now(&src, d->opt->runtime_dir);
}

/* The snapshot behind status --json and the metrics. */
static void
status_fill(const struct daemon *d, struct status_snapshot *s)
{
	const struct config *c = &d->cfg;
	uint64_t now = util_now_ms();

	memset(s, 0, sizeof(*s));
	s->version = PACKAGE_VERSION;
	s->pid = (long)getpid();
	s->wall_ms = util_wall_ms();
	s->node = c->nodes[c->self].name;
	s->state = elect_role(&d->el);
	s->since_wall_ms = s->wall_ms - (now - elect_since(&d->el));
	s->term = elect_term(&d->el);
	s->priority = c->nodes[c->self].priority;
	s->healthy = elect_eligible(&d->el);
	s->guarded = elect_guarded(&d->el);
	s->maintenance = elect_maintenance(&d->el);
	s->reason = elect_last_reason(&d->el);
	s->peer_name = c->nodes[c->peer].name;
	s->peer_known = elect_peer_state(&d->el, now) != ELECT_PEER_UNKNOWN;
	s->peer_alive = elect_peer_alive(&d->el, now);
	s->peer_state = elect_peer(&d->el)->role;
	s->peer_priority = elect_peer(&d->el)->priority;
	s->peer_healthy = elect_peer(&d->el)->eligible;
	s->peer_maintenance = elect_peer(&d->el)->maintenance;
	s->peer_term = elect_peer(&d->el)->term;
	s->nlinks = d->links_open ? d->links.nlinks : 0;
	for (unsigned i = 0; i < s->nlinks; i++) {
		const struct link *l = &d->links.links[i];

		util_strlcpy(s->links[i].local, l->local_str,
			     sizeof(s->links[i].local));
		util_strlcpy(s->links[i].peer, l->peer_str,
			     sizeof(s->links[i].peer));
		s->links[i].up = link_alive(&d->links, i, now);
		s->links[i].have_rtt = l->have_rtt;
		s->links[i].rtt_ms = l->rtt_ms;
		s->links[i].sent = l->sent;
		s->links[i].received = l->received;
		s->links[i].rejected = l->rejected;
		for (int e = 0; e < WIRE_ERR_COUNT; e++)
			s->rejected_by[e] += l->rejected_by[e];
	}
	resource_setup_status(d->res, s);
	memcpy(s->transitions_to, d->transitions_to,
	       sizeof(s->transitions_to));
	s->failovers = d->failovers;
	s->last_failover_ms = d->last_acquire_ms;
}

/* A ctl answer: the text and a newline, malloc'd. */
static int
answer_text(const char *text, char **body, size_t *len)
{
	size_t n = strlen(text);

	*body = malloc(n + 2);
	if (*body == NULL)
		return -1;
	memcpy(*body, text, n);
	(*body)[n] = '\n';
	(*body)[n + 1] = '\0';
	*len = n + 1;
	return 0;
}

/*
 * switchover, maintenance: the election decides (and may refuse); its line
 * is the answer. The maintenance flag is written to the state directory
 * once the election took it, so a restart keeps what the operator saw.
 */
static int
operator_request(struct daemon *d, const struct ctl_request *req, char **body,
		 size_t *len)
{
	struct elect_event ev = {.force = req->force};
	struct elect_actions a;
	char err[PATH_MAX + 160], text[ELECT_REASON_MAX + sizeof(err) + 64];
	uint64_t now = util_now_ms();
	struct statefile next = d->state;

	if (d->stopping)
		return answer_text("refused: the daemon is stopping", body,
				   len) == 0 ? 0 : -1;
	ev.type = req->cmd == CTL_CMD_SWITCHOVER ? ELECT_EV_SWITCHOVER
						 : ELECT_EV_MAINTENANCE;
	ev.ok = req->cmd == CTL_CMD_MAINTENANCE_ON;
	if (ev.type == ELECT_EV_MAINTENANCE && !d->state_ok) {
		snprintf(text, sizeof(text),
			 "maintenance refused: the state directory %s is not "
			 "usable (see the start-up log), so the flag would not "
			 "survive a restart",
			 d->opt->state_dir);
		return answer_text(text, body, len) == 0 ? 0 : -1;
	}
	elect_step(&d->el, &ev, now, &a);
	snprintf(text, sizeof(text), "%s", a.reason);
	next.maintenance = elect_maintenance(&d->el);
	if (ev.type == ELECT_EV_MAINTENANCE &&
	    next.maintenance != d->state.maintenance) {
		if (statefile_save(d->opt->state_dir, &next, err,
				   sizeof(err)) == -1) {
			log_err("maintenance %s: not saved: %s",
				next.maintenance ? "on" : "off", err);
			snprintf(text, sizeof(text),
				 "%s; NOT SAVED, a restart forgets it: %s",
				 a.reason, err);
		} else {
			d->state = next;
		}
	}
	apply(d, &a, now);
	elect_schedule(d, now);
	if (answer_text(text, body, len) == -1)
		return -1;
	return a.refused ? 0 : 1;
}

/*
 * A control socket request: answered from memory at once, so the loop
 * never waits for a client. status is the dump's text, so `eipfloatd
 * status`, SIGUSR1 and the state file always agree.
 */
static int
on_ctl(void *arg, const struct ctl_request *req, char **body, size_t *len)
{
	struct daemon *d = arg;
	struct status_snapshot snap;
	struct dump_sources src;

	*body = NULL;
	*len = 0;
	switch (req->cmd) {
	case CTL_CMD_STATUS:
		break;
	case CTL_CMD_STATUS_JSON:
		status_fill(d, &snap);
		*body = status_json(&snap);
		if (*body == NULL)
			return -1;
		*len = strlen(*body);
		return 1;
	case CTL_CMD_METRICS:
		status_fill(d, &snap);
		return status_metrics(&snap, body, len) == 0 ? 1 : -1;
	case CTL_CMD_SWITCHOVER:
	case CTL_CMD_MAINTENANCE_ON:
	case CTL_CMD_MAINTENANCE_OFF:
		return operator_request(d, req, body, len);
	}
	dump_sources_of(d, &src);
	return dump_text(&src, body, len) == 0 ? 1 : -1;
}

/*
 * metrics.textfile: the same text as `eipfloatd metrics`, replaced
 * atomically every few seconds for node_exporter's textfile collector.
 */
static void
on_metrics_timer(void *arg)
{
	struct daemon *d = arg;
	struct status_snapshot snap;
	char *text = NULL, err[512];
	size_t len = 0;

	loop_defer_after(&d->metrics_timer, METRICS_TEXTFILE_MS);
	if (d->cfg.metrics_textfile[0] == '\0')
		return;
	status_fill(d, &snap);
	if (status_metrics(&snap, &text, &len) == -1) {
		log_warn("metrics textfile: out of memory");
		return;
	}
	if (textfile_replace(d->cfg.metrics_textfile, text, len, err,
			     sizeof(err)) == -1)
		log_warn("metrics textfile: %s", err);
	free(text);
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
	ev_signal_init(&d->sig_hup, on_reload, SIGHUP);
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

static int
modules_open(struct daemon *d)
{
	struct link_ops ops = {
		.arg = d, .fill = link_fill, .on_msg = link_msg};
	struct elect_params ep;
	struct elect_event start = {.type = ELECT_EV_START};
	struct resource_setup_ops res_ops = res_ops_template;
	char err[512];

	if (link_new_incarnation(&d->incarnation) == -1) {
		log_err("cannot start: no randomness for the incarnation");
		return -1;
	}
	elect_map_params(&ep, &d->cfg);
	ep.start_maintenance = d->state.maintenance;
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
	feed(d, &start);
	d->health = health_new(d->loop, &d->cfg, got_health, d);
	if (d->health == NULL) {
		log_err("cannot start: out of memory");
		return -1;
	}
	d->ctl = ctl_open(d->loop, d->opt->runtime_dir, on_ctl, d, err,
			  sizeof(err));
	if (d->ctl == NULL)
		log_warn("%s; `eipfloatd status` will not work", err);
	loop_defer_init(&d->metrics_timer, d->loop, on_metrics_timer, d);
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
