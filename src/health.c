/*
 * health.c - the periodic health check: check.command through /bin/sh -c,
 * one run at a time, and the fall/rise counter that turns results into
 * healthy / unhealthy.
 */
#include "health.h"
#include "log.h"
#include "proc.h"
#include "util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REASON_MAX (PROC_LINE_MAX + 160)

struct health {
	struct ev_loop *loop;
	char command[CONFIG_PATH_MAX];
	/* The check's own variables: one command for both nodes can ask. */
	char node_var[CONFIG_NAME_MAX + 16];
	char cluster_var[CONFIG_NAME_MAX + 20];
	unsigned interval_ms;
	unsigned timeout_ms;
	struct health_counter counter;
	health_cb on_change;
	void *arg;

	struct proc proc;
	ev_timer next;

	int has_last;
	struct proc_result last; /* end PROC_SPAWN_FAILED: see last_error */
	char last_error[REASON_MAX];
	uint64_t last_wall_ms;
	unsigned long runs;
};

static void on_line(void *arg, const char *line);
static void on_done(void *arg, const struct proc_result *res);

void
health_counter_init(struct health_counter *c, unsigned fall, unsigned rise)
{
	memset(c, 0, sizeof(*c));
	c->fall = fall;
	c->rise = rise;
	c->health = HEALTH_UNKNOWN;
}

int
health_count(struct health_counter *c, int ok)
{
	unsigned fall = c->fall > 0 ? c->fall : 1;
	unsigned rise = c->rise > 0 ? c->rise : 1;
	enum health_status before = c->health;

	if (ok) {
		c->fails = 0;
		if (c->oks < UINT_MAX)
			c->oks++;
	} else {
		c->oks = 0;
		if (c->fails < UINT_MAX)
			c->fails++;
	}
	switch (c->health) {
	case HEALTH_UNKNOWN:
		c->health = ok ? HEALTH_HEALTHY : HEALTH_UNHEALTHY;
		break;
	case HEALTH_HEALTHY:
		if (c->fails >= fall)
			c->health = HEALTH_UNHEALTHY;
		break;
	case HEALTH_UNHEALTHY:
		if (c->oks >= rise)
			c->health = HEALTH_HEALTHY;
		break;
	}
	return c->health != before;
}

const char *
health_status_name(enum health_status health)
{
	switch (health) {
	case HEALTH_UNKNOWN:
		return "unknown";
	case HEALTH_HEALTHY:
		return "healthy";
	case HEALTH_UNHEALTHY:
		return "unhealthy";
	}
	return "?";
}

/* c->counter.health has moved away from `before`: say so, once. */
static void
changed(struct health *c, enum health_status before, const char *reason)
{
	enum health_status now = c->counter.health;

	log_notice("health: %s -> %s: %s", health_status_name(before),
		   health_status_name(now), reason);
	if (c->on_change != NULL)
		c->on_change(c->arg, now, reason);
}

static void
run(struct health *c)
{
	struct proc_result r;
	char err[256];
	char *argv[4];
	char **env = proc_env_new(2);
	size_t k = 0;
	int rc = -1;

	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = c->command;
	argv[3] = NULL;
	c->runs++;
	if (env != NULL) {
		while (env[k] != NULL)
			k++;
		env[k++] = c->node_var;
		env[k] = c->cluster_var;
		rc = proc_start(&c->proc, argv, env, c->timeout_ms, err,
				sizeof(err));
		free(env);
	} else {
		snprintf(err, sizeof(err), "out of memory");
	}
	if (rc == 0)
		return;
	/* Counted as a failed check: an unhealthy host may be out of fds. */
	memset(&r, 0, sizeof(r));
	r.end = PROC_SPAWN_FAILED;
	util_strlcpy(r.last_line, err, sizeof(r.last_line));
	util_strlcpy(r.tail, err, sizeof(r.tail));
	on_done(c, &r);
}

static void
on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct health *c = w->data;

	if (!proc_running(&c->proc))
		run(c);
}

static void
schedule(struct health *c, unsigned delay_ms)
{
	ev_timer_stop(c->loop, &c->next);
	ev_timer_set(&c->next, delay_ms / 1000.0, 0.);
	ev_timer_start(c->loop, &c->next);
}

static void
take_config(struct health *c, const struct config *cfg)
{
	util_strlcpy(c->command, cfg->check_command, sizeof(c->command));
	snprintf(c->node_var, sizeof(c->node_var), "EIPFLOATD_NODE=%s",
		 cfg->nodes[cfg->self].name);
	snprintf(c->cluster_var, sizeof(c->cluster_var),
		 "EIPFLOATD_CLUSTER=%s", cfg->cluster_name);
	c->interval_ms = cfg->check_interval_ms;
	c->timeout_ms = cfg->check_timeout_ms > 0 ? cfg->check_timeout_ms
						  : cfg->check_interval_ms;
	c->counter.fall = cfg->check_fall;
	c->counter.rise = cfg->check_rise;
}

struct health *
health_new(struct ev_loop *loop, const struct config *cfg, health_cb on_change,
	  void *arg)
{
	struct health *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->loop = loop;
	c->on_change = on_change;
	c->arg = arg;
	health_counter_init(&c->counter, cfg->check_fall, cfg->check_rise);
	take_config(c, cfg);
	proc_init(&c->proc, loop, on_line, on_done, c);
	ev_timer_init(&c->next, on_tick, 0., 0.);
	c->next.data = c;
	if (c->command[0] == '\0')
		c->counter.health = HEALTH_HEALTHY;
	else
		schedule(c, 0);
	return c;
}

void
health_reload(struct health *c, const struct config *cfg)
{
	char old[CONFIG_PATH_MAX];

	util_strlcpy(old, c->command, sizeof(old));
	take_config(c, cfg);
	if (strcmp(old, c->command) == 0)
		return;
	proc_kill(&c->proc);
	ev_timer_stop(c->loop, &c->next);
	c->counter.oks = c->counter.fails = 0;
	if (c->command[0] != '\0') {
		schedule(c, 0);
		return;
	}
	if (c->counter.health != HEALTH_HEALTHY) {
		enum health_status before = c->counter.health;

		c->counter.health = HEALTH_HEALTHY;
		changed(c, before, "check.command removed");
	}
}

enum health_status
health_current(const struct health *c)
{
	return c->counter.health;
}

static void
on_line(void *arg, const char *line)
{
	log_debug("check: %s", line);
}

static void
describe(const struct proc_result *r, char *buf, size_t len)
{
	char what[128];

	if (r->end == PROC_SPAWN_FAILED)
		snprintf(what, sizeof(what), "could not start");
	else
		proc_describe(r, what, sizeof(what));
	snprintf(buf, len, "%s%s%s", what, r->last_line[0] ? ": " : "",
		 r->last_line);
}

/* For the debug log and the dump: "exit 0 after 12 ms; output: fine". */
static const char *
summary(const struct proc_result *r, char *buf, size_t len)
{
	char what[128];

	if (r->end == PROC_SPAWN_FAILED) {
		snprintf(buf, len, "could not start: %s", r->last_line);
		return buf;
	}
	proc_summary(r, what, sizeof(what));
	snprintf(buf, len, "%s%s%s", what, r->last_line[0] ? "; output: " : "",
		 r->last_line);
	return buf;
}

/* Why health changed, in the words an operator greps the journal for. */
static void
change_reason(const struct health_counter *k, enum health_status before, int ok,
	      const char *what, char *buf, size_t len)
{
	unsigned n = ok ? k->oks : k->fails;
	const char *times = n == 1 ? "time" : "times";

	if (before == HEALTH_UNKNOWN && ok)
		snprintf(buf, len, "first check passed");
	else if (before == HEALTH_UNKNOWN)
		snprintf(buf, len, "first check failed: %s", what);
	else if (ok)
		snprintf(buf, len, "check passed %u %s", n, times);
	else
		snprintf(buf, len, "check failed %u %s: %s", n, times, what);
}

static void
on_done(void *arg, const struct proc_result *res)
{
	struct health *c = arg;
	char what[REASON_MAX], reason[REASON_MAX + 64], line[REASON_MAX];
	int ok = res->end == PROC_EXITED && res->code == 0 && !res->timed_out;
	enum health_status before = c->counter.health;

	c->has_last = 1;
	c->last = *res;
	c->last_wall_ms = util_wall_ms();
	describe(res, what, sizeof(what));
	log_debug("check: %s", summary(res, line, sizeof(line)));
	/* Before the callback, which may act on the new health at length. */
	schedule(c, c->interval_ms);

	if (!health_count(&c->counter, ok)) {
		if (!ok && before == HEALTH_HEALTHY)
			log_info("check failed (%u of %u): %s",
				 c->counter.fails, c->counter.fall, what);
		return;
	}
	change_reason(&c->counter, before, ok, what, reason, sizeof(reason));
	changed(c, before, reason);
}

void
health_dump(const struct health *c, FILE *out)
{
	const struct health_counter *k = &c->counter;
	char when[64], what[REASON_MAX];

	if (c->command[0] == '\0') {
		fprintf(out, "check: none configured: %s\n",
			health_status_name(k->health));
		return;
	}
	fprintf(out,
		"check: \"%s\" every %u ms, timeout %u ms, fall %u, "
		"rise %u\n",
		c->command, c->interval_ms, c->timeout_ms, k->fall, k->rise);
	fprintf(out, "check: %s, %u passed / %u failed in a row, %lu runs\n",
		health_status_name(k->health), k->oks, k->fails, c->runs);
	if (proc_running(&c->proc))
		fprintf(
		    out, "check: running (pid %ld, %llu ms)\n",
		    (long)proc_pid(&c->proc),
		    (unsigned long long)(util_now_ms() - c->proc.started_ms));
	if (!c->has_last)
		return;
	util_format_wall(c->last_wall_ms, when, sizeof(when));
	fprintf(out, "check: last at %s: %s\n", when,
		summary(&c->last, what, sizeof(what)));
}

void
health_free(struct health *c)
{
	if (c == NULL)
		return;
	ev_timer_stop(c->loop, &c->next);
	proc_kill(&c->proc);
	free(c);
}
