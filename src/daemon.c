/*
 * daemon.c - the running daemon: one context that owns the loop, the
 * configuration and every module. It turns I/O (heartbeats, EC2 answers,
 * health results, timers, signals) into election events and the election's
 * actions back into I/O. All decisions live in elect.c.
 */
#include "daemon.h"
#include "check.h"
#include "config.h"
#include "creds.h"
#include "ctl.h"
#include "dump.h"
#include "elect.h"
#include "hooks.h"
#include "http.h"
#include "imds.h"
#include "link.h"
#include "log.h"
#include "notify.h"
#include "pidfile.h"
#include "resource.h"
#include "status.h"
#include "util.h"

#include <errno.h>
#include <ev.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define LEAVE_COPIES 3
#define AWS_RETRY_MIN_MS 1000
#define AWS_RETRY_MAX_MS 30000
#define STOP_GRACE_MS 2000

struct daemon {
	const struct daemon_options *opt;
	struct ev_loop *loop;
	struct config cfg; /* read-only between reloads */
	int pidfd;
	uint64_t started_ms;
	int exit_code;
	int stopping;

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
	struct check *check;
	struct ctl *ctl;

	/* AWS: set up asynchronously (IMDS identity, then resource prepare) */
	struct http_ctx *http;
	struct imds_ctx *imds;
	struct creds_ctx *creds;
	struct imds_req *imds_req;
	struct resource_set *res;
	int res_ready;
	int preparing;
	ev_timer aws_retry;
	unsigned aws_failures;
	char self_instance[CONFIG_ID_MAX];
	char region[CONFIG_NAME_MAX];
	char endpoint[CONFIG_PATH_MAX];
	char az[CONFIG_NAME_MAX];
	int pending_verify, pending_acquire;
	uint64_t acquire_started_ms; /* the takeover decision */

	/* the peer as its heartbeats describe it */
	char peer_instance[CONFIG_ID_MAX];
	uint64_t peer_incarnation;
	enum elect_role peer_role;
	unsigned peer_priority;
	int peer_eligible;
	uint64_t peer_term;

	unsigned long reloads_ok, reloads_failed, dumps, transitions;
	unsigned long transitions_to[STATUS_ROLES];
	unsigned long failovers;
	uint64_t last_acquire_ms; /* decision -> all associated, last time */
};

static void feed(struct daemon *d, const struct elect_event *ev);
static void aws_setup(struct daemon *d);

static int
has_eip(const struct config *cfg)
{
	for (unsigned i = 0; i < cfg->nresources; i++)
		if (cfg->resources[i].type == CONFIG_RES_EIP)
			return 1;
	return 0;
}

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

/* ---- resources: verify and acquire, deferred until AWS is set up ---- */

static void
on_owner(void *arg, enum resource_owner owner, const char *detail)
{
	struct daemon *d = arg;
	struct elect_event ev = {
		.type = ELECT_EV_OWNER, .owner = owner, .detail = detail};

	feed(d, &ev);
}

static void
on_acquired(void *arg, int rc, const char *detail)
{
	struct daemon *d = arg;
	struct elect_event ev = {
		.type = ELECT_EV_ACQUIRED, .ok = rc == 0, .detail = detail};

	if (rc == 0) {
		d->last_acquire_ms = util_now_ms() - d->acquire_started_ms;
		log_notice("failover: resources on this node %" PRIu64
			   " ms after the takeover decision",
			   d->last_acquire_ms);
	}
	feed(d, &ev);
}

static void
do_verify(struct daemon *d)
{
	if (!d->res_ready) {
		d->pending_verify = 1;
		return;
	}
	d->pending_verify = 0;
	resource_verify(d->res, on_owner, d);
}

static void
do_acquire(struct daemon *d)
{
	if (!d->res_ready) {
		d->pending_acquire = 1;
		log_notice("takeover waits for the AWS set-up (%s)",
			   d->self_instance[0] ? "resolving resources"
					       : "instance identity");
		return;
	}
	d->pending_acquire = 0;
	resource_acquire(d->res, on_acquired, d);
}

static void
run_pending(struct daemon *d)
{
	if (d->pending_acquire)
		do_acquire(d);
	if (d->pending_verify)
		do_verify(d);
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
	char resources[512] = "";
	size_t off = 0;
	struct hooks_event he = {
		.old_state = elect_role_name(a->from),
		.new_state = elect_role_name(a->to),
		.reason = a->reason,
		.term = elect_term(&d->el),
		.resources = resources,
	};

	char prefix[64];

	if (a->to == ELECT_STARTING)
		return;
	/* The hook is told old and new state apart; the reason is the why. */
	snprintf(prefix, sizeof(prefix), "%s -> %s: ", he.old_state,
		 he.new_state);
	if (strncmp(he.reason, prefix, strlen(prefix)) == 0)
		he.reason += strlen(prefix);
	for (unsigned i = 0; i < d->cfg.nresources && off < sizeof(resources);
	     i++) {
		const struct config_resource *r = &d->cfg.resources[i];
		const char *id = r->allocation_id[0] ? r->allocation_id
			       : r->public_ip[0]     ? r->public_ip
						     : r->path;
		int n = snprintf(resources + off, sizeof(resources) - off,
				 "%s%s", off ? " " : "", id);

		if (n > 0)
			off += (size_t)n;
	}
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
	if (a->reason[0])
		log_msg(a->level, "%s", a->reason);
	if (a->from != a->to) {
		d->transitions++;
		d->transitions_to[a->to]++;
		notify_sendf("STATUS=%s (term %" PRIu64 ")%s",
			     elect_role_name(a->to), elect_term(&d->el),
			     elect_guarded(&d->el) ? ", guarded" : "");
	}
	if (a->flags & ELECT_ACT_CANCEL) {
		d->pending_acquire = 0;
		if (d->res)
			resource_cancel(d->res);
	}
	if (a->flags & ELECT_ACT_ACQUIRE) {
		d->acquire_started_ms = now;
		d->failovers++;
		do_acquire(d);
	}
	if (a->flags & ELECT_ACT_VERIFY)
		do_verify(d);
	if ((a->flags & ELECT_ACT_SEND) && d->links_open)
		link_send_now(&d->links);
	if (a->flags & ELECT_ACT_LEAVE && d->links_open)
		for (int i = 0; i < LEAVE_COPIES; i++)
			link_send_leave(&d->links);
	if (a->flags & ELECT_ACT_HOOK)
		run_hook(d, a);
	if (a->flags & ELECT_ACT_READY)
		notify_sendf("READY=1\nSTATUS=%s (term %" PRIu64 ")",
			     elect_role_name(elect_role(&d->el)),
			     elect_term(&d->el));
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

	feed(d, &ev);
}

static void
on_health(void *arg, enum check_health health, const char *reason)
{
	struct daemon *d = arg;
	struct elect_event ev = {
		.type = ELECT_EV_HEALTH,
		.ok = health == CHECK_HEALTHY,
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

	m->state = (enum wire_state)role;
	m->priority = (uint8_t)d->cfg.nodes[d->cfg.self].priority;
	m->eligible = (uint8_t)elect_eligible(&d->el);
	m->term = elect_term(&d->el);
	m->flags = role == ELECT_ACTIVE ? WIRE_FLAG_HOLDS : 0;
	util_strlcpy(m->instance_id, d->self_instance,
		     sizeof(m->instance_id));
}

static void
learn_peer_instance(struct daemon *d, const char *id)
{
	if (id[0] == '\0' || strcmp(id, d->peer_instance) == 0)
		return;
	log_info("peer %s is instance %s", d->cfg.nodes[d->cfg.peer].name,
		 id);
	util_strlcpy(d->peer_instance, id, sizeof(d->peer_instance));
	if (d->res)
		resource_set_peer_instance(d->res, d->peer_instance);
}

static void
link_msg(void *arg, unsigned link, const struct wire_msg *m, uint64_t now)
{
	struct daemon *d = arg;
	struct elect_event ev = {
		.type = m->type == WIRE_LEAVE ? ELECT_EV_PEER_LEAVE
					      : ELECT_EV_PEER_HEARTBEAT,
		.peer =
			{
				.role = (enum elect_role)m->state,
				.priority = m->priority,
				.eligible = m->eligible,
				.term = m->term,
				.incarnation = m->incarnation,
			},
	};

	if (d->stopping)
		return;
	d->peer_incarnation = m->incarnation;
	d->peer_role = (enum elect_role)m->state;
	d->peer_priority = m->priority;
	d->peer_eligible = m->eligible;
	d->peer_term = m->term;
	learn_peer_instance(d, m->instance_id);
	feed(d, &ev);
}

/* ---- AWS set-up: identity (config or IMDS), then the resources ---- */

static void
aws_retry_later(struct daemon *d, const char *what, const char *err)
{
	unsigned ms = AWS_RETRY_MIN_MS;

	for (unsigned i = 0; i < d->aws_failures && ms < AWS_RETRY_MAX_MS; i++)
		ms *= 2;
	if (ms > AWS_RETRY_MAX_MS)
		ms = AWS_RETRY_MAX_MS;
	d->aws_failures++;
	log_warn("AWS set-up: %s: %s (retrying in %u ms)", what, err, ms);
	ev_timer_set(&d->aws_retry, ms / 1000., 0.);
	ev_timer_start(d->loop, &d->aws_retry);
}

static void
on_prepared(void *arg, int rc, const char *detail)
{
	struct daemon *d = arg;

	d->preparing = 0;
	if (rc != 0) {
		aws_retry_later(d, "resolving resources", detail);
		return;
	}
	if (d->aws_failures)
		log_notice("AWS set-up complete after %u failed attempts",
			   d->aws_failures);
	d->aws_failures = 0;
	d->res_ready = 1;
	run_pending(d);
}

static void
resources_start(struct daemon *d)
{
	struct resource_env env = {
		.loop = d->loop,
		.http = d->http,
		.creds = d->creds,
		.cfg = &d->cfg,
		.region = d->region,
		.endpoint = d->endpoint,
		.self_instance = d->self_instance,
	};

	if (d->res == NULL) {
		d->res = resource_new(&env);
		if (d->res == NULL) {
			aws_retry_later(d, "resources", "out of memory");
			return;
		}
		if (d->peer_instance[0])
			resource_set_peer_instance(d->res, d->peer_instance);
	}
	d->preparing = 1;
	resource_prepare(d->res, on_prepared, d);
}

static void
on_identity(void *arg, const struct imds_identity *id, const char *err)
{
	struct daemon *d = arg;

	d->imds_req = NULL;
	if (id == NULL) {
		aws_retry_later(d, "instance identity from IMDS", err);
		return;
	}
	if (d->self_instance[0] == '\0')
		util_strlcpy(d->self_instance, id->instance_id,
			     sizeof(d->self_instance));
	if (d->region[0] == '\0')
		util_strlcpy(d->region, id->region, sizeof(d->region));
	util_strlcpy(d->az, id->availability_zone, sizeof(d->az));
	log_info("IMDS: instance %s in %s (%s)", id->instance_id, id->region,
		 id->availability_zone);
	aws_setup(d);
}

/*
 * What the EC2 client needs: this instance's id and the region (from the
 * configuration, else IMDS), then the endpoint. Retried with backoff until
 * it works: a node whose IMDS answers late must still be able to take over
 * once it does.
 */
static void
aws_setup(struct daemon *d)
{
	if (!has_eip(&d->cfg)) {
		resources_start(d);
		return;
	}
	if (d->self_instance[0] == '\0' || d->region[0] == '\0') {
		if (d->imds_req == NULL)
			d->imds_req = imds_identity(d->imds, on_identity, d);
		if (d->imds_req == NULL)
			aws_retry_later(d, "instance identity from IMDS",
					"could not start the request");
		return;
	}
	if (d->endpoint[0] == '\0')
		snprintf(d->endpoint, sizeof(d->endpoint),
			 "https://ec2.%s.amazonaws.com", d->region);
	resources_start(d);
}

static void
on_aws_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	aws_setup(w->data);
}

static int
aws_open(struct daemon *d)
{
	const struct config *c = &d->cfg;

	util_strlcpy(d->self_instance, c->nodes[c->self].instance_id,
		     sizeof(d->self_instance));
	util_strlcpy(d->peer_instance, c->nodes[c->peer].instance_id,
		     sizeof(d->peer_instance));
	util_strlcpy(d->region, c->region, sizeof(d->region));
	util_strlcpy(d->endpoint, c->endpoint, sizeof(d->endpoint));
	ev_timer_init(&d->aws_retry, on_aws_retry, 0., 0.);
	d->aws_retry.data = d;
	if (!has_eip(c))
		return 0;
	d->http = http_new(d->loop);
	if (d->http == NULL)
		return -1;
	d->imds = imds_new(d->loop, d->http, c->imds_endpoint,
			   c->aws_timeout_ms);
	d->creds = creds_new(d->loop, d->imds, c->profile);
	if (d->imds == NULL || d->creds == NULL)
		return -1;
	return 0;
}

static void
aws_close(struct daemon *d)
{
	ev_timer_stop(d->loop, &d->aws_retry);
	resource_free(d->res);
	d->res = NULL;
	imds_cancel(d->imds_req);
	d->imds_req = NULL;
	if (d->creds)
		creds_free(d->creds);
	if (d->imds)
		imds_free(d->imds);
	if (d->http)
		http_free(d->http);
	d->creds = NULL;
	d->imds = NULL;
	d->http = NULL;
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
	if (d->res)
		resource_cancel(d->res);
	if (d->links_open) {
		link_close(&d->links);
		d->links_open = 0;
	}
	check_free(d->check);
	d->check = NULL;
	d->stop_deadline =
		util_now_ms() + d->cfg.hook_timeout_ms + STOP_GRACE_MS;
	ev_timer_init(&d->stop_timer, on_stop_timer, 0., 0.05);
	d->stop_timer.data = d;
	ev_timer_start(loop, &d->stop_timer);
}

/*
 * SIGHUP: build a whole new configuration and swap it in only if it is
 * valid and compatible; a bad file leaves the running one untouched.
 */
static void
on_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	struct elect_config ec;
	struct config *next;
	char err[512], summary[1024];

	if (d->stopping)
		return;
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
	memcpy(&d->cfg, next, sizeof(d->cfg));
	d->reloads_ok++;
	link_set_config(&d->links, &d->cfg);
	elect_config_from(&ec, &d->cfg);
	elect_reconfigure(&d->el, &ec);
	hooks_reload(d->hooks, &d->cfg);
	check_reload(d->check, &d->cfg);
	elect_schedule(d, util_now_ms());
	config_summary(&d->cfg, summary, sizeof(summary));
	log_notice("reloaded %s: %s", d->opt->config_path, summary);
out:
	if (next != NULL) {
		util_explicit_bzero(next, sizeof(*next));
		free(next);
	}
	notify_sendf("READY=1\nSTATUS=%s (term %" PRIu64 ")",
		     elect_role_name(elect_role(&d->el)), elect_term(&d->el));
}

static void
dump_aws(const struct daemon *d, FILE *out)
{
	char when[32];
	uint64_t exp;

	if (!has_eip(&d->cfg))
		return;
	fprintf(out, "aws: region %s, instance %s%s%s, endpoint %s, imds %s%s\n",
		d->region[0] ? d->region : "(unknown)",
		d->self_instance[0] ? d->self_instance : "(unknown)",
		d->az[0] ? " in " : "", d->az,
		d->endpoint[0] ? d->endpoint : "(unknown)",
		imds_endpoint(d->imds),
		imds_disabled(d->imds) ? " (disabled)" : "");
	fprintf(out, "aws setup: %s%s\n",
		d->res_ready ? "ready" : "in progress",
		d->aws_failures ? ", failing" : "");
	exp = creds_current_expiration(d->creds);
	if (exp) {
		uint64_t wall = util_wall_ms();

		util_format_wall(exp, when, sizeof(when));
		fprintf(out, "credentials: %s, expire %s (in %lld s)\n",
			creds_source_name(creds_current_source(d->creds)),
			when, (long long)((int64_t)(exp - wall) / 1000));
	} else {
		fprintf(out, "credentials: %s, no expiry\n",
			creds_source_name(creds_current_source(d->creds)));
	}
	fprintf(out, "http: %u requests in flight\n", http_inflight(d->http));
}

static void
dump_write(struct daemon *d, FILE *out)
{
	char summary[1024], line[512];
	uint64_t now = util_now_ms(), since = elect_since(&d->el);
	const char *pname = d->cfg.nodes[d->cfg.peer].name;

	config_summary(&d->cfg, summary, sizeof(summary));
	fprintf(out, "eipfloatd %s pid %ld incarnation %016" PRIx64 "\n",
		PACKAGE_VERSION, (long)getpid(), d->incarnation);
	fprintf(out, "config: %s: %s\n", d->opt->config_path, summary);
	fprintf(out, "uptime: %" PRIu64 " s\n", (now - d->started_ms) / 1000);
	fprintf(out, "state: %s\n", elect_role_name(elect_role(&d->el)));
	fprintf(out, "since: %" PRIu64 ".%03" PRIu64 " s ago\n",
		(now - since) / 1000, (now - since) % 1000);
	fprintf(out, "term: %" PRIu64 "\n", elect_term(&d->el));
	fprintf(out, "guarded: %s\n", elect_guarded(&d->el) ? "yes" : "no");
	fprintf(out, "reason: %s\n", elect_last_reason(&d->el));
	elect_describe(&d->el, now, line, sizeof(line));
	fprintf(out, "%s\n", line);
	if (d->peer_incarnation)
		fprintf(out,
			"peer: %s %s, state %s, priority %u, %s, term %" PRIu64
			", incarnation %016" PRIx64 ", instance %s\n",
			pname,
			link_peer_alive(&d->links, now) ? "alive" : "silent",
			elect_role_name(d->peer_role), d->peer_priority,
			d->peer_eligible ? "healthy" : "unhealthy",
			d->peer_term, d->peer_incarnation,
			d->peer_instance[0] ? d->peer_instance : "(unknown)");
	else
		fprintf(out, "peer: %s never heard, instance %s\n", pname,
			d->peer_instance[0] ? d->peer_instance : "(unknown)");
	if (d->links_open)
		link_dump(&d->links, out);
	if (d->check)
		check_dump(d->check, out);
	hooks_dump(d->hooks, out);
	dump_aws(d, out);
	if (d->res)
		resource_dump(d->res, out);
	fprintf(out,
		"counters: %lu transitions, %lu acquisitions, last took %" PRIu64
		" ms, %lu reloads ok, %lu rejected, %lu dumps\n",
		d->transitions, d->failovers, d->last_acquire_ms,
		d->reloads_ok, d->reloads_failed, d->dumps);
}

static void
on_dump(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *out;

	d->dumps++;
	out = open_memstream(&text, &len);
	if (out == NULL) {
		log_err("state dump: %s", strerror(errno));
		return;
	}
	dump_write(d, out);
	fclose(out);
	if (dump_publish(d->opt->runtime_dir, text, len, err, sizeof(err)) ==
	    -1)
		log_err("state dump: %s (the log has it)", err);
	free(text);
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
	s->reason = elect_last_reason(&d->el);
	s->peer_name = c->nodes[c->peer].name;
	s->peer_known = d->peer_incarnation != 0;
	s->peer_alive = d->links_open && link_peer_alive(&d->links, now);
	s->peer_state = d->peer_role;
	s->peer_priority = d->peer_priority;
	s->peer_healthy = d->peer_eligible;
	s->peer_term = d->peer_term;
	s->peer_instance = d->peer_instance;
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
	s->nresources = d->res ? resource_count(d->res) : 0;
	for (unsigned i = 0; i < s->nresources; i++) {
		struct status_resource *r = &s->resources[i];
		struct resource_info ri;

		resource_info(d->res, i, &ri);
		util_strlcpy(r->id, ri.id, sizeof(r->id));
		r->type = ri.type;
		r->owner = resource_owner_name(ri.owner);
		util_strlcpy(r->owner_id, ri.owner_id, sizeof(r->owner_id));
		r->verified_at_ms = ri.seen_wall_ms;
	}
	s->have_aws = d->creds != NULL;
	if (d->creds) {
		s->creds_source =
			creds_source_name(creds_current_source(d->creds));
		s->creds_expiry_ms = creds_current_expiration(d->creds);
	}
	memcpy(s->transitions_to, d->transitions_to,
	       sizeof(s->transitions_to));
	s->failovers = d->failovers;
	s->last_failover_ms = d->last_acquire_ms;
	if (d->res && resource_ec2(d->res)) {
		s->have_ec2 = 1;
		for (int a = 0; a < EC2_NACTIONS; a++)
			s->ec2[a] = *ec2_get_counters(resource_ec2(d->res),
						      (enum ec2_action)a);
	}
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
	FILE *out;

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
	}
	out = open_memstream(body, len);
	if (out == NULL)
		return -1;
	dump_write(d, out);
	if (fclose(out) != 0) {
		free(*body);
		*body = NULL;
		return -1;
	}
	return 1;
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
	struct elect_config ec;
	struct elect_event start = {.type = ELECT_EV_START};
	char err[512];

	if (link_new_incarnation(&d->incarnation) == -1) {
		log_err("cannot start: no randomness for the incarnation");
		return -1;
	}
	elect_config_from(&ec, &d->cfg);
	elect_init(&d->el, &ec, util_now_ms());
	ev_timer_init(&d->elect_timer, on_elect_timer, 0., 0.);
	d->elect_timer.data = d;
	d->hooks = hooks_new(d->loop, &d->cfg);
	if (d->hooks == NULL || aws_open(d) == -1) {
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
	d->check = check_new(d->loop, &d->cfg, on_health, d);
	if (d->check == NULL) {
		log_err("cannot start: out of memory");
		return -1;
	}
	d->ctl = ctl_open(d->loop, d->opt->runtime_dir, on_ctl, d, err,
			  sizeof(err));
	if (d->ctl == NULL)
		log_warn("%s; `eipfloatd status` will not work", err);
	aws_setup(d);
	return 0;
}

static void
modules_close(struct daemon *d)
{
	ev_timer_stop(d->loop, &d->elect_timer);
	ev_timer_stop(d->loop, &d->stop_timer);
	ctl_close(d->ctl);
	d->ctl = NULL;
	if (d->links_open)
		link_close(&d->links);
	d->links_open = 0;
	check_free(d->check);
	d->check = NULL;
	aws_close(d);
	hooks_free(d->hooks);
	d->hooks = NULL;
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
