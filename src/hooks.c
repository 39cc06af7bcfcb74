/*
 * hooks.c - notify hooks: the configured executable for the new state, run
 * directly (no shell, no arguments) with the transition in its environment.
 */
#include "hooks.h"
#include "log.h"
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAX 32
#define REASON_MAX 256
#define RESOURCES_MAX 512
#define NVARS 8
#define VAR_MAX (RESOURCES_MAX + 32)

struct request {
	enum hooks_role role;
	char old_state[STATE_MAX];
	char new_state[STATE_MAX];
	char reason[REASON_MAX];
	char node[CONFIG_NAME_MAX];
	char peer[CONFIG_NAME_MAX];
	uint64_t term;
	int has_resources;
	char resources[RESOURCES_MAX];
};

struct hooks {
	struct ev_loop *loop;
	char path[3][CONFIG_PATH_MAX];
	unsigned timeout_ms;
	char cluster[CONFIG_NAME_MAX];
	char node[CONFIG_NAME_MAX];
	char peer[CONFIG_NAME_MAX];

	struct proc proc;
	struct request cur; /* what proc runs */
	struct request pending;
	int has_pending;

	int has_last; /* the last finished (or failed to start) run */
	struct request last;
	struct proc_result last_res;
	char last_error[REASON_MAX]; /* why it did not start, or "" */
	uint64_t last_wall_ms;
	unsigned long runs, failures, superseded;
};

/* The daemon's environment plus ours; the strings live in `vars`. */
struct env {
	char **vec;
	char vars[NVARS][VAR_MAX];
};

static void on_line(void *arg, const char *line);
static void on_done(void *arg, const struct proc_result *res);

const char *
hooks_role_name(enum hooks_role role)
{
	switch (role) {
	case HOOKS_ACTIVE:
		return "active";
	case HOOKS_STANDBY:
		return "standby";
	case HOOKS_FAULT:
		return "fault";
	}
	return "?";
}

int
hooks_validate(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (path[0] == '\0')
		return 0;
	if (path[0] != '/') {
		snprintf(err, errlen, "%s: not an absolute path", path);
		return -1;
	}
	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (access(path, X_OK) == -1) {
		snprintf(err, errlen, "%s: not executable: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static void
take_config(struct hooks *h, const struct config *cfg)
{
	util_strlcpy(h->path[HOOKS_ACTIVE], cfg->hook_active,
		     sizeof(h->path[0]));
	util_strlcpy(h->path[HOOKS_STANDBY], cfg->hook_standby,
		     sizeof(h->path[0]));
	util_strlcpy(h->path[HOOKS_FAULT], cfg->hook_fault, sizeof(h->path[0]));
	h->timeout_ms = cfg->hook_timeout_ms;
	util_strlcpy(h->cluster, cfg->cluster_name, sizeof(h->cluster));
	h->node[0] = h->peer[0] = '\0';
	if (cfg->self < cfg->nnodes)
		util_strlcpy(h->node, cfg->nodes[cfg->self].name,
			     sizeof(h->node));
	if (cfg->peer < cfg->nnodes && cfg->peer != cfg->self)
		util_strlcpy(h->peer, cfg->nodes[cfg->peer].name,
			     sizeof(h->peer));
}

/* Start-up check: an operator should learn of a typo before a failover. */
static void
validate_all(const struct hooks *h)
{
	char err[CONFIG_PATH_MAX + 64];
	int role;

	for (role = HOOKS_ACTIVE; role <= HOOKS_FAULT; role++)
		if (hooks_validate(h->path[role], err, sizeof(err)) == -1)
			log_err("hooks.%s: %s",
				hooks_role_name((enum hooks_role)role), err);
}

struct hooks *
hooks_new(struct ev_loop *loop, const struct config *cfg)
{
	struct hooks *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->loop = loop;
	proc_init(&h->proc, loop, on_line, on_done, h);
	take_config(h, cfg);
	validate_all(h);
	return h;
}

void
hooks_reload(struct hooks *h, const struct config *cfg)
{
	take_config(h, cfg);
	validate_all(h);
}

static void
set_var(struct env *e, int i, const char *name, const char *value)
{
	snprintf(e->vars[i], sizeof(e->vars[i]), "%s=%s", name, value);
}

/*
 * Our environment as proc_env_passes() filters it (PATH and the locale:
 * no credentials, no stale EIPFLOATD_* such as EIPFLOATD_RESOURCES left
 * from a test), then the transition's variables.
 */
static struct env *
build_env(const struct hooks *h, const struct request *r)
{
	struct env *e;
	size_t i, k = 0;
	char term[32];
	int nv = 0;

	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->vec = proc_env_new(NVARS);
	if (e->vec == NULL) {
		free(e);
		return NULL;
	}
	while (e->vec[k] != NULL)
		k++;

	snprintf(term, sizeof(term), "%llu", (unsigned long long)r->term);
	set_var(e, nv++, "EIPFLOATD_STATE", r->new_state);
	set_var(e, nv++, "EIPFLOATD_OLD_STATE", r->old_state);
	set_var(e, nv++, "EIPFLOATD_REASON", r->reason);
	set_var(e, nv++, "EIPFLOATD_NODE", r->node);
	set_var(e, nv++, "EIPFLOATD_PEER", r->peer);
	set_var(e, nv++, "EIPFLOATD_TERM", term);
	set_var(e, nv++, "EIPFLOATD_CLUSTER", h->cluster);
	if (r->has_resources)
		set_var(e, nv++, "EIPFLOATD_RESOURCES", r->resources);
	for (i = 0; i < (size_t)nv; i++)
		e->vec[k++] = e->vars[i];
	e->vec[k] = NULL;
	return e;
}

static void
free_env(struct env *e)
{
	if (e == NULL)
		return;
	free(e->vec);
	free(e);
}

static void
record_failure_to_start(struct hooks *h, const char *why)
{
	h->has_last = 1;
	h->last = h->cur;
	memset(&h->last_res, 0, sizeof(h->last_res));
	h->last_res.end = PROC_SPAWN_FAILED;
	util_strlcpy(h->last_error, why, sizeof(h->last_error));
	h->last_wall_ms = util_wall_ms();
	h->failures++;
}

/* Start h->cur; on failure nothing runs and the failure is recorded. */
static void
start(struct hooks *h)
{
	const char *name = hooks_role_name(h->cur.role);
	const char *path = h->path[h->cur.role];
	char err[CONFIG_PATH_MAX + 64];
	char *argv[2];
	struct env *env;

	if (hooks_validate(path, err, sizeof(err)) == -1) {
		log_warn("hook %s not run: %s", name, err);
		record_failure_to_start(h, err);
		return;
	}
	env = build_env(h, &h->cur);
	if (env == NULL) {
		log_warn("hook %s not run: out of memory", name);
		record_failure_to_start(h, "out of memory");
		return;
	}
	argv[0] = (char *)path;
	argv[1] = NULL;
	if (proc_start(&h->proc, argv, env->vec, h->timeout_ms, err,
		       sizeof(err)) == -1) {
		free_env(env);
		log_warn("hook %s not run: %s", name, err);
		record_failure_to_start(h, err);
		return;
	}
	free_env(env);
	h->runs++;
	log_info("hook %s started: %s (pid %ld; %s -> %s: %s)", name, path,
		 (long)proc_pid(&h->proc), h->cur.old_state, h->cur.new_state,
		 h->cur.reason);
}

static void
fill_request(const struct hooks *h, struct request *r, enum hooks_role role,
	     const struct hooks_event *ev)
{
	memset(r, 0, sizeof(*r));
	r->role = role;
	util_strlcpy(r->old_state, ev->old_state ? ev->old_state : "",
		     sizeof(r->old_state));
	util_strlcpy(r->new_state, ev->new_state ? ev->new_state : "",
		     sizeof(r->new_state));
	util_strlcpy(r->reason, ev->reason ? ev->reason : "",
		     sizeof(r->reason));
	util_strlcpy(r->node, ev->node ? ev->node : h->node, sizeof(r->node));
	util_strlcpy(r->peer, ev->peer ? ev->peer : h->peer, sizeof(r->peer));
	r->term = ev->term;
	if (ev->resources != NULL) {
		r->has_resources = 1;
		util_strlcpy(r->resources, ev->resources, sizeof(r->resources));
	}
}

void
hooks_run(struct hooks *h, enum hooks_role role, const struct hooks_event *ev)
{
	struct request r;
	int configured = h->path[role][0] != '\0';

	fill_request(h, &r, role, ev);
	if (proc_running(&h->proc)) {
		/* A newer transition makes a waiting hook stale. */
		if (h->has_pending) {
			log_notice("hook %s for %s -> %s dropped: superseded "
				   "by %s -> %s",
				   hooks_role_name(h->pending.role),
				   h->pending.old_state, h->pending.new_state,
				   r.old_state, r.new_state);
			h->has_pending = 0;
			h->superseded++;
		}
		if (!configured)
			return;
		h->pending = r;
		h->has_pending = 1;
		log_info("hook %s waits for hook %s (pid %ld) to finish",
			 hooks_role_name(role), hooks_role_name(h->cur.role),
			 (long)proc_pid(&h->proc));
		return;
	}
	if (!configured) {
		log_debug("no hook %s configured", hooks_role_name(role));
		return;
	}
	h->cur = r;
	start(h);
}

static void
on_line(void *arg, const char *line)
{
	struct hooks *h = arg;

	log_info("hook %s: %s", hooks_role_name(h->cur.role), line);
}

static void
on_done(void *arg, const struct proc_result *res)
{
	struct hooks *h = arg;
	const char *name = hooks_role_name(h->cur.role);
	char what[160];

	h->has_last = 1;
	h->last = h->cur;
	h->last_res = *res;
	h->last_error[0] = '\0';
	h->last_wall_ms = util_wall_ms();
	if (res->lines_dropped > 0)
		log_info("hook %s: %lu more output lines not logged", name,
			 res->lines_dropped);
	proc_summary(res, what, sizeof(what));
	if (res->end == PROC_EXITED && res->code == 0 && !res->timed_out) {
		log_notice("hook %s finished: %s", name, what);
	} else {
		h->failures++;
		log_warn("hook %s failed (not retried): %s%s%s", name, what,
			 res->tail[0] ? "; output: " : "", res->tail);
	}
	if (h->has_pending) {
		h->has_pending = 0;
		h->cur = h->pending;
		start(h);
	}
}

int
hooks_busy(const struct hooks *h)
{
	return proc_running(&h->proc) || h->has_pending;
}

void
hooks_dump(const struct hooks *h, FILE *out)
{
	char when[64], what[REASON_MAX + 16];
	int role;

	for (role = HOOKS_ACTIVE; role <= HOOKS_FAULT; role++)
		fprintf(out, "hooks.%s: %s\n",
			hooks_role_name((enum hooks_role)role),
			h->path[role][0] ? h->path[role] : "(none)");
	fprintf(out,
		"hooks: timeout %u ms, %lu run, %lu failed, %lu "
		"superseded\n",
		h->timeout_ms, h->runs, h->failures, h->superseded);
	if (proc_running(&h->proc))
		fprintf(
		    out, "hooks: running %s for %s -> %s (pid %ld, %llu ms)\n",
		    hooks_role_name(h->cur.role), h->cur.old_state,
		    h->cur.new_state, (long)proc_pid(&h->proc),
		    (unsigned long long)(util_now_ms() - h->proc.started_ms));
	if (h->has_pending)
		fprintf(out, "hooks: waiting %s for %s -> %s\n",
			hooks_role_name(h->pending.role), h->pending.old_state,
			h->pending.new_state);
	if (!h->has_last) {
		fprintf(out, "hooks: none run yet\n");
		return;
	}
	util_format_wall(h->last_wall_ms, when, sizeof(when));
	if (h->last_res.end == PROC_SPAWN_FAILED)
		snprintf(what, sizeof(what), "not run: %s", h->last_error);
	else
		proc_summary(&h->last_res, what, sizeof(what));
	fprintf(out, "hooks: last %s for %s -> %s at %s: %s%s%s\n",
		hooks_role_name(h->last.role), h->last.old_state,
		h->last.new_state, when, what,
		h->last_res.tail[0] ? "; output: " : "", h->last_res.tail);
}

void
hooks_free(struct hooks *h)
{
	if (h == NULL)
		return;
	if (proc_running(&h->proc))
		log_warn("hook %s killed: the daemon is stopping",
			 hooks_role_name(h->cur.role));
	proc_kill(&h->proc);
	free(h);
}
