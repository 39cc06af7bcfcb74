/*
 * test_hooks.c - hooks, health check and the child-process runner behind
 * them: real shell scripts in a temporary directory, the daemon's log
 * captured from stderr, and no process left behind.
 */
#include "../../src/check.h"
#include "check.h"
#include "hooks.h"
#include "log.h"
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOGCAP 262144

static struct ev_loop *loop;
static char dir[64];
static char logbuf[LOGCAP];
static int saved_stderr = -1;
static char logpath[128];

/* ---- helpers ---------------------------------------------------------- */

static void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	path_in(path, sizeof(path), name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* A #!/bin/sh script; "@" in body stands for the temporary directory. */
static void
script(const char *name, const char *body, char *path, size_t len)
{
	char text[4096];
	size_t o = 0;
	const char *s;

	o += (size_t)snprintf(text, sizeof(text), "#!/bin/sh\n");
	for (s = body; *s && o < sizeof(text) - 80; s++) {
		if (*s == '@')
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%s",
					      dir);
		else
			text[o++] = *s;
	}
	text[o] = '\0';
	write_file(name, text, 0755);
	path_in(path, len, name);
}

/* Same "@" expansion for check.command strings. */
static void
expand(const char *cmd, char *out, size_t len)
{
	size_t o = 0;

	for (; *cmd && o < len - 70; cmd++) {
		if (*cmd == '@')
			o += (size_t)snprintf(out + o, len - o, "%s", dir);
		else
			out[o++] = *cmd;
	}
	out[o] = '\0';
}

static int
read_file(const char *name, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	path_in(path, sizeof(path), name);
	buf[0] = '\0';
	fd = open(path, O_RDONLY);
	if (fd == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return (int)n;
}

static long
read_pid(const char *name)
{
	char buf[64];

	if (read_file(name, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static int
count_lines(const char *text, const char *needle)
{
	int n = 0;
	const char *p = text;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static void
capture_start(void)
{
	int fd;

	log_flush_repeats();
	fflush(stderr);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1) {
		perror(logpath);
		exit(1);
	}
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* Back to the real stderr; the captured log lands in logbuf (and shown). */
static void
capture_end(void)
{
	ssize_t n;
	int fd;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	fd = open(logpath, O_RDONLY);
	n = fd == -1 ? 0 : read(fd, logbuf, sizeof(logbuf) - 1);
	if (fd != -1)
		close(fd);
	logbuf[n > 0 ? n : 0] = '\0';
	fprintf(stderr, "%.4000s", logbuf);
}

static void
on_guard(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
}

/* Run the loop until pred(arg) or max_ms passed; returns pred(arg). */
static int
run_until(int (*pred)(void *), void *arg, unsigned max_ms)
{
	uint64_t deadline = util_now_ms() + max_ms;
	ev_timer guard;

	ev_timer_init(&guard, on_guard, 0.01, 0.01);
	ev_timer_start(loop, &guard);
	while (!pred(arg) && util_now_ms() < deadline)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	return pred(arg);
}

static int
never(void *arg)
{
	(void)arg;
	return 0;
}

static void
run_for(unsigned ms)
{
	run_until(never, NULL, ms);
}

static int
hooks_idle(void *arg)
{
	return !hooks_busy(arg);
}

static int
file_has_content(void *arg)
{
	char buf[64];

	return read_file(arg, buf, sizeof(buf)) > 0;
}

static int
pid_gone(long pid)
{
	return pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

static int
pids_gone(void *arg)
{
	const long *pids = arg;

	for (; *pids != 0; pids++)
		if (!pid_gone(*pids))
			return 0;
	return 1;
}

/* Zombies count as alive: libev reaps them (we are a subreaper). */
static int
wait_gone(long a, long b)
{
	long pids[3] = {a, b, 0};

	return run_until(pids_gone, pids, 5000);
}

static void
base_config(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	util_strlcpy(cfg->cluster_name, "web", sizeof(cfg->cluster_name));
	util_strlcpy(cfg->nodes[0].name, "node-a", sizeof(cfg->nodes[0].name));
	util_strlcpy(cfg->nodes[1].name, "node-b", sizeof(cfg->nodes[1].name));
	cfg->nnodes = 2;
	cfg->self = 0;
	cfg->peer = 1;
	cfg->hook_timeout_ms = 10000;
	cfg->check_interval_ms = 2000;
	cfg->check_fall = 3;
	cfg->check_rise = 2;
}

static struct hooks_event
event(const char *old_state, const char *new_state, const char *reason)
{
	struct hooks_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.old_state = old_state;
	ev.new_state = new_state;
	ev.reason = reason;
	ev.term = 7;
	return ev;
}

/* ---- the pure fall/rise counter --------------------------------------- */

/*
 * Oracle, phrased differently from the counters: the first result decides;
 * later, a healthy node turns unhealthy when the last `fall` results all
 * failed, an unhealthy one healthy when the last `rise` all passed.
 */
static enum check_health
oracle(const int *seq, int upto, unsigned fall, unsigned rise)
{
	enum check_health h = seq[0] ? CHECK_HEALTHY : CHECK_UNHEALTHY;
	int i, j;

	fall = fall ? fall : 1;
	rise = rise ? rise : 1;
	for (i = 1; i <= upto; i++) {
		unsigned need = h == CHECK_HEALTHY ? fall : rise;
		int want = h == CHECK_HEALTHY ? 0 : 1, all = 1;

		if ((unsigned)i + 1 < need)
			continue;
		for (j = i - (int)need + 1; j <= i; j++)
			if (seq[j] != want)
				all = 0;
		if (all)
			h = h == CHECK_HEALTHY ? CHECK_UNHEALTHY
					       : CHECK_HEALTHY;
	}
	return h;
}

static unsigned
trailing(const int *seq, int upto, int value)
{
	unsigned n = 0;

	while (upto >= 0 && seq[upto] == value) {
		n++;
		upto--;
	}
	return n;
}

static void
test_counter_matches_oracle_for_all_sequences(void)
{
	enum { LEN = 10 };
	unsigned fall, rise, bits;
	int seq[LEN], i, bad = 0;

	TEST("counter_matches_oracle_for_all_sequences");
	for (fall = 0; fall <= 5; fall++)
		for (rise = 0; rise <= 5; rise++)
			for (bits = 0; bits < (1u << LEN); bits++) {
				struct check_counter c;
				enum check_health prev = CHECK_UNKNOWN;

				check_counter_init(&c, fall, rise);
				for (i = 0; i < LEN; i++) {
					enum check_health want;
					int changed;

					seq[i] = (bits >> i) & 1;
					changed = check_count(&c, seq[i]);
					want = oracle(seq, i, fall, rise);
					if (c.health != want ||
					    changed != (want != prev) ||
					    c.oks != trailing(seq, i, 1) ||
					    c.fails != trailing(seq, i, 0))
						bad++;
					prev = want;
				}
			}
	CHECK(bad == 0);
}

static void
test_counter_hysteresis_examples(void)
{
	struct check_counter c;

	TEST("counter_first_result_decides_then_fall_and_rise_apply");
	check_counter_init(&c, 3, 2);
	CHECK(c.health == CHECK_UNKNOWN);
	CHECK(check_count(&c, 1) == 1 && c.health == CHECK_HEALTHY);
	CHECK(check_count(&c, 0) == 0 && check_count(&c, 0) == 0);
	CHECK(check_count(&c, 1) == 0 && c.health == CHECK_HEALTHY);
	CHECK(check_count(&c, 0) == 0 && check_count(&c, 0) == 0);
	CHECK(check_count(&c, 0) == 1 && c.health == CHECK_UNHEALTHY);
	CHECK(check_count(&c, 0) == 0 && c.fails == 4);
	CHECK(check_count(&c, 1) == 0 && check_count(&c, 0) == 0);
	CHECK(check_count(&c, 1) == 0);
	CHECK(check_count(&c, 1) == 1);
	CHECK(c.health == CHECK_HEALTHY);

	check_counter_init(&c, 3, 2);
	CHECK(check_count(&c, 0) == 1 && c.health == CHECK_UNHEALTHY);
}

/* ---- hooks ------------------------------------------------------------ */

static void
test_hook_gets_environment_and_no_leaked_fds(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event ev;
	char path[256], out[2048];
	int fd;

	TEST("hook_gets_environment_devnull_stdin_own_pgid_no_leaked_fds");
	script("env.sh",
	       "{\n"
	       "echo \"STATE=$EIPFLOATD_STATE\"\n"
	       "echo \"OLD=$EIPFLOATD_OLD_STATE\"\n"
	       "echo \"REASON=$EIPFLOATD_REASON\"\n"
	       "echo \"NODE=$EIPFLOATD_NODE\"\n"
	       "echo \"PEER=$EIPFLOATD_PEER\"\n"
	       "echo \"TERM=$EIPFLOATD_TERM\"\n"
	       "echo \"CLUSTER=$EIPFLOATD_CLUSTER\"\n"
	       "echo \"RESOURCES=${EIPFLOATD_RESOURCES-unset}\"\n"
	       "echo \"INHERITED=$HOOKTEST_INHERITED\"\n"
	       "if read x; then echo STDIN=data; else echo STDIN=eof; fi\n"
	       "if [ -e /proc/$$/fd/57 ]; then echo FD57=open; "
	       "else echo FD57=closed; fi\n"
	       "pg=$(cut -d' ' -f5 /proc/$$/stat)\n"
	       "if [ \"$pg\" = $$ ]; then echo PGID=own; "
	       "else echo PGID=$pg; fi\n"
	       "} > @/env.out.tmp\n"
	       "mv @/env.out.tmp @/env.out\n",
	       path, sizeof(path));
	base_config(&cfg);
	util_strlcpy(cfg.hook_active, path, sizeof(cfg.hook_active));
	util_strlcpy(cfg.hook_standby, path, sizeof(cfg.hook_standby));
	setenv("HOOKTEST_INHERITED", "yes", 1);
	setenv("EIPFLOATD_RESOURCES", "stale", 1);
	/* A descriptor without O_CLOEXEC, as a careless library might leave. */
	fd = open("/dev/null", O_RDONLY);
	CHECK(dup2(fd, 57) == 57);
	close(fd);

	capture_start();
	h = hooks_new(loop, &cfg);
	ev = event("STANDBY", "ACTIVE", "peer silent on all links for 1000 ms");
	hooks_run(h, HOOKS_ACTIVE, &ev);
	run_until(hooks_idle, h, 10000);
	capture_end();

	CHECK(read_file("env.out", out, sizeof(out)) > 0);
	CHECK(strstr(out, "STATE=ACTIVE\n") != NULL);
	CHECK(strstr(out, "OLD=STANDBY\n") != NULL);
	CHECK(strstr(out, "REASON=peer silent on all links for 1000 ms\n"));
	CHECK(strstr(out, "NODE=node-a\n") != NULL);
	CHECK(strstr(out, "PEER=node-b\n") != NULL);
	CHECK(strstr(out, "TERM=7\n") != NULL);
	CHECK(strstr(out, "CLUSTER=web\n") != NULL);
	CHECK(strstr(out, "RESOURCES=unset\n") != NULL);
	CHECK(strstr(out, "INHERITED=yes\n") != NULL);
	CHECK(strstr(out, "STDIN=eof\n") != NULL);
	CHECK(strstr(out, "FD57=closed\n") != NULL);
	CHECK(strstr(out, "PGID=own\n") != NULL);
	CHECK(strstr(logbuf, "hook active finished: exit 0") != NULL);

	TEST("hook_gets_resources_and_explicit_names_when_given");
	capture_start();
	ev = event("ACTIVE", "STANDBY", "peer has higher term");
	ev.resources = "eipalloc-0abc 52.0.0.1";
	ev.node = "self-x";
	ev.peer = "peer-y";
	ev.term = 18446744073709551615ull;
	hooks_run(h, HOOKS_STANDBY, &ev);
	run_until(hooks_idle, h, 10000);
	capture_end();
	CHECK(read_file("env.out", out, sizeof(out)) > 0);
	CHECK(strstr(out, "STATE=STANDBY\n") != NULL);
	CHECK(strstr(out, "RESOURCES=eipalloc-0abc 52.0.0.1\n") != NULL);
	CHECK(strstr(out, "NODE=self-x\nPEER=peer-y\n") != NULL);
	CHECK(strstr(out, "TERM=18446744073709551615\n") != NULL);

	hooks_free(h);
	close(57);
	unsetenv("EIPFLOATD_RESOURCES");
}

static void
test_hook_output_logged_line_by_line(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event ev = event("ACTIVE", "STANDBY", "test");
	char path[256];
	const char *p, *eol;

	TEST("hook_output_logged_line_by_line_sanitised_and_cut");
	script("out.sh",
	       "echo 'hello out'\n"
	       "echo 'hello err' >&2\n"
	       "printf 'bell\\007x\\ttab\\r\\n'\n"
	       "head -c 5000 /dev/zero | tr '\\0' a; echo\n"
	       "printf 'no newline at end'\n",
	       path, sizeof(path));
	base_config(&cfg);
	util_strlcpy(cfg.hook_standby, path, sizeof(cfg.hook_standby));
	log_set_level(LOG_LEVEL_DEBUG);
	capture_start();
	h = hooks_new(loop, &cfg);
	hooks_run(h, HOOKS_STANDBY, &ev);
	CHECK(run_until(hooks_idle, h, 10000));
	capture_end();
	CHECK(strstr(logbuf, "hook standby: hello out\n") != NULL);
	CHECK(strstr(logbuf, "hook standby: hello err\n") != NULL);
	CHECK(strstr(logbuf, "hook standby: bell?x tab\n") != NULL);
	CHECK(strstr(logbuf, "hook standby: no newline at end\n") != NULL);
	p = strstr(logbuf, "hook standby: aaaa");
	CHECK(p != NULL);
	if (p != NULL) {
		eol = strchr(p, '\n');
		CHECK(eol != NULL && eol - p < PROC_LINE_MAX + 20);
		CHECK(eol != NULL && strncmp(eol - 3, "...", 3) == 0);
	}
	hooks_free(h);
}

static void
test_hook_spewing_output_is_capped(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event ev = event("ACTIVE", "FAULT", "test");
	char path[256];

	TEST("hook_spewing_output_is_capped_and_killed_by_timeout");
	script("spew.sh", "exec yes spew\n", path, sizeof(path));
	base_config(&cfg);
	util_strlcpy(cfg.hook_fault, path, sizeof(cfg.hook_fault));
	cfg.hook_timeout_ms = 300;
	capture_start();
	h = hooks_new(loop, &cfg);
	hooks_run(h, HOOKS_FAULT, &ev);
	CHECK(run_until(hooks_idle, h, 10000));
	capture_end();
	CHECK(count_lines(logbuf, "hook fault: spew\n") == PROC_LOG_LINES);
	CHECK(strstr(logbuf, "more output lines not logged") != NULL);
	CHECK(strstr(logbuf, "hook fault failed (not retried): timed out "
			     "after 300 ms (signal 15)") != NULL);
	hooks_free(h);
}

static void
test_hook_killed_after_timeout(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event ev = event("STANDBY", "ACTIVE", "test");
	char path[256];
	long pid, spid;
	uint64_t t0;

	TEST("hook_running_past_timeout_is_killed_with_its_children");
	script("slow.sh",
	       "echo $$ > @/slow.pid\n"
	       "sleep 30 & echo $! > @/slow.spid\n"
	       "wait\n",
	       path, sizeof(path));
	base_config(&cfg);
	util_strlcpy(cfg.hook_active, path, sizeof(cfg.hook_active));
	cfg.hook_timeout_ms = 300;
	capture_start();
	h = hooks_new(loop, &cfg);
	t0 = util_now_ms();
	hooks_run(h, HOOKS_ACTIVE, &ev);
	CHECK(run_until(hooks_idle, h, 10000));
	capture_end();
	CHECK(util_now_ms() - t0 < 10000);
	CHECK(strstr(logbuf, "hook active failed (not retried): timed out "
			     "after 300 ms (signal 15)") != NULL);
	pid = read_pid("slow.pid");
	spid = read_pid("slow.spid");
	CHECK(pid > 0 && spid > 0);
	CHECK(wait_gone(pid, spid));
	hooks_free(h);
}

static void
test_hook_ignoring_sigterm_gets_sigkill(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event ev = event("STANDBY", "ACTIVE", "test");
	char path[256];
	long pid, spid;

	TEST("hook_ignoring_sigterm_is_killed_after_the_grace_period");
	script("stubborn.sh",
	       "trap '' TERM\n"
	       "echo $$ > @/stubborn.pid\n"
	       "sleep 30 & echo $! > @/stubborn.spid\n"
	       "wait\n",
	       path, sizeof(path));
	base_config(&cfg);
	util_strlcpy(cfg.hook_active, path, sizeof(cfg.hook_active));
	cfg.hook_timeout_ms = 200;
	capture_start();
	h = hooks_new(loop, &cfg);
	hooks_run(h, HOOKS_ACTIVE, &ev);
	CHECK(run_until(hooks_idle, h, PROC_KILL_GRACE_MS + 8000));
	capture_end();
	CHECK(strstr(logbuf, "timed out after 200 ms (signal 9)") != NULL);
	pid = read_pid("stubborn.pid");
	spid = read_pid("stubborn.spid");
	CHECK(pid > 0 && spid > 0);
	CHECK(wait_gone(pid, spid));
	hooks_free(h);
}

static void
test_hook_background_child_does_not_hold_it(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event ev = event("STANDBY", "ACTIVE", "test");
	char path[256];
	long spid;

	TEST("hook_finishes_when_it_exits_even_if_a_background_child_"
	     "keeps_its_output_open");
	script("bg.sh",
	       "sleep 30 & echo $! > @/bg.spid\n"
	       "echo started helper\n",
	       path, sizeof(path));
	base_config(&cfg);
	util_strlcpy(cfg.hook_active, path, sizeof(cfg.hook_active));
	cfg.hook_timeout_ms = 20000;
	capture_start();
	h = hooks_new(loop, &cfg);
	hooks_run(h, HOOKS_ACTIVE, &ev);
	CHECK(run_until(hooks_idle, h, 10000));
	capture_end();
	CHECK(strstr(logbuf, "hook active: started helper\n") != NULL);
	CHECK(strstr(logbuf, "hook active finished: exit 0") != NULL);
	spid = read_pid("bg.spid");
	CHECK(spid > 0 && !pid_gone(spid)); /* not ours to kill */
	if (spid > 0)
		kill((pid_t)spid, SIGKILL);
	CHECK(wait_gone(spid, 0));
	hooks_free(h);
}

/*
 * The loop is held until the hook has exited, so its exit and its last
 * output are seen in the same iteration, in whatever order libev picks.
 */
static void
test_output_written_just_before_exit_is_kept(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event ev = event("STANDBY", "ACTIVE", "test");
	char path[256], pidfile[256];
	siginfo_t info;
	long pid = -1;
	int i, round, lost = 0;

	TEST("output_written_just_before_exit_is_logged");
	script("last.sh",
	       "echo $$ > @/last.pid.tmp; mv @/last.pid.tmp @/last.pid\n"
	       "while [ -e @/last.pid ]; do sleep 0.01; done\n"
	       "echo last words\n",
	       path, sizeof(path));
	path_in(pidfile, sizeof(pidfile), "last.pid");
	base_config(&cfg);
	util_strlcpy(cfg.hook_active, path, sizeof(cfg.hook_active));
	h = hooks_new(loop, &cfg);
	for (round = 0; round < 5; round++) {
		capture_start();
		hooks_run(h, HOOKS_ACTIVE, &ev);
		for (i = 0; i < 1000 && (pid = read_pid("last.pid")) <= 0; i++)
			usleep(10000);
		unlink(pidfile);
		memset(&info, 0, sizeof(info));
		if (pid > 0)
			waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT);
		run_until(hooks_idle, h, 10000);
		capture_end();
		if (strstr(logbuf, "hook active: last words\n") == NULL)
			lost++;
	}
	CHECK(pid > 0);
	CHECK(lost == 0);
	hooks_free(h);
}

static void
test_failing_hook_reported_not_retried(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event ev = event("ACTIVE", "FAULT", "EIP lost twice");
	char path[256], out[256], *dump = NULL;
	size_t dumplen = 0;
	FILE *f;

	TEST("failing_hook_is_warned_with_output_and_not_retried");
	script("fail.sh",
	       "echo run >> @/fail.count\n"
	       "echo 'something broke' >&2\n"
	       "exit 3\n",
	       path, sizeof(path));
	base_config(&cfg);
	util_strlcpy(cfg.hook_fault, path, sizeof(cfg.hook_fault));
	capture_start();
	h = hooks_new(loop, &cfg);
	hooks_run(h, HOOKS_FAULT, &ev);
	CHECK(run_until(hooks_idle, h, 10000));
	run_for(300);
	capture_end();
	CHECK(!hooks_busy(h));
	CHECK(read_file("fail.count", out, sizeof(out)) > 0);
	CHECK(strcmp(out, "run\n") == 0);
	CHECK(strstr(logbuf, "warning: hook fault failed (not retried): exit 3"
			     " after ") != NULL);
	CHECK(strstr(logbuf, "output: something broke") != NULL);

	f = open_memstream(&dump, &dumplen);
	hooks_dump(h, f);
	fclose(f);
	CHECK(strstr(dump, "hooks: last fault for ACTIVE -> FAULT at ") !=
	      NULL);
	CHECK(strstr(dump, ": exit 3 after ") != NULL);
	CHECK(strstr(dump, "1 run, 1 failed") != NULL);
	free(dump);
	hooks_free(h);
}

static void
test_queued_hooks_latest_wins(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event e1 = event("STANDBY", "ACTIVE", "r1");
	struct hooks_event e2 = event("ACTIVE", "STANDBY", "r2");
	struct hooks_event e3 = event("STANDBY", "FAULT", "r3");
	char path[256], out[1024], *dump = NULL;
	size_t dumplen = 0;
	FILE *f;

	TEST("hooks_run_one_at_a_time_and_only_the_latest_waiting_one_runs");
	script("q.sh",
	       "echo \"start $EIPFLOATD_STATE $EIPFLOATD_REASON\" >> @/q.seq\n"
	       "sleep 0.2\n"
	       "echo \"end $EIPFLOATD_STATE $EIPFLOATD_REASON\" >> @/q.seq\n",
	       path, sizeof(path));
	base_config(&cfg);
	util_strlcpy(cfg.hook_active, path, sizeof(cfg.hook_active));
	util_strlcpy(cfg.hook_standby, path, sizeof(cfg.hook_standby));
	util_strlcpy(cfg.hook_fault, path, sizeof(cfg.hook_fault));
	capture_start();
	h = hooks_new(loop, &cfg);
	hooks_run(h, HOOKS_ACTIVE, &e1);
	hooks_run(h, HOOKS_STANDBY, &e2);
	hooks_run(h, HOOKS_FAULT, &e3);
	f = open_memstream(&dump, &dumplen);
	hooks_dump(h, f);
	fclose(f);
	CHECK(run_until(hooks_idle, h, 10000));
	capture_end();
	CHECK(strstr(dump, "hooks: running active for STANDBY -> ACTIVE") !=
	      NULL);
	CHECK(strstr(dump, "hooks: waiting fault for STANDBY -> FAULT") !=
	      NULL);
	free(dump);
	CHECK(read_file("q.seq", out, sizeof(out)) > 0);
	CHECK(strcmp(out, "start ACTIVE r1\nend ACTIVE r1\n"
			  "start FAULT r3\nend FAULT r3\n") == 0);
	CHECK(strstr(logbuf, "hook standby for ACTIVE -> STANDBY dropped: "
			     "superseded by STANDBY -> FAULT") != NULL);

	TEST("a_transition_without_hook_drops_the_stale_waiting_one");
	path_in(path, sizeof(path), "q.seq");
	unlink(path);
	cfg.hook_fault[0] = '\0';
	hooks_reload(h, &cfg);
	hooks_run(h, HOOKS_ACTIVE, &e1);
	hooks_run(h, HOOKS_STANDBY, &e2);
	hooks_run(h, HOOKS_FAULT, &e3);
	CHECK(run_until(hooks_idle, h, 10000));
	CHECK(read_file("q.seq", out, sizeof(out)) > 0);
	CHECK(strcmp(out, "start ACTIVE r1\nend ACTIVE r1\n") == 0);
	hooks_free(h);
}

struct go {
	int ticks;
	int created;
};

static void
on_tick(struct ev_loop *l, ev_timer *w, int revents)
{
	struct go *g = w->data;

	(void)l;
	(void)revents;
	if (++g->ticks == 5) {
		write_file("go", "go\n", 0644);
		g->created = 1;
	}
}

static void
test_loop_runs_while_hook_waits(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event ev = event("STANDBY", "ACTIVE", "test");
	struct go g = {0, 0};
	char path[256];
	ev_timer tick;

	/* The hook can only finish if the loop runs while it is running. */
	TEST("loop_keeps_running_while_a_hook_runs");
	script("waiter.sh",
	       "while [ ! -e @/go ]; do sleep 0.02; done\n"
	       "echo saw go\n",
	       path, sizeof(path));
	base_config(&cfg);
	util_strlcpy(cfg.hook_active, path, sizeof(cfg.hook_active));
	cfg.hook_timeout_ms = 20000;
	ev_timer_init(&tick, on_tick, 0.02, 0.02);
	tick.data = &g;
	ev_timer_start(loop, &tick);
	capture_start();
	h = hooks_new(loop, &cfg);
	hooks_run(h, HOOKS_ACTIVE, &ev);
	CHECK(run_until(hooks_idle, h, 15000));
	capture_end();
	ev_timer_stop(loop, &tick);
	CHECK(g.created);
	CHECK(strstr(logbuf, "hook active: saw go\n") != NULL);
	CHECK(strstr(logbuf, "hook active finished: exit 0") != NULL);
	hooks_free(h);
}

static void
test_bad_hook_paths(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event ev = event("STANDBY", "ACTIVE", "test");
	char path[256], err[256];

	TEST("bad_hook_paths_are_errors_at_start_and_warnings_per_attempt");
	write_file("notexec.sh", "#!/bin/sh\nexit 0\n", 0644);
	path_in(path, sizeof(path), "notexec.sh");
	base_config(&cfg);
	util_strlcpy(cfg.hook_active, "/nonexistent/on-active",
		     sizeof(cfg.hook_active));
	util_strlcpy(cfg.hook_standby, path, sizeof(cfg.hook_standby));
	util_strlcpy(cfg.hook_fault, "relative/on-fault",
		     sizeof(cfg.hook_fault));
	capture_start();
	h = hooks_new(loop, &cfg);
	hooks_run(h, HOOKS_ACTIVE, &ev);
	CHECK(!hooks_busy(h));
	hooks_run(h, HOOKS_STANDBY, &ev);
	CHECK(!hooks_busy(h));
	capture_end();
	CHECK(strstr(logbuf, "error: hooks.active: /nonexistent/on-active: "
			     "No such file or directory") != NULL);
	CHECK(strstr(logbuf, "error: hooks.standby: ") != NULL &&
	      strstr(logbuf, "notexec.sh: not executable") != NULL);
	CHECK(strstr(logbuf, "error: hooks.fault: relative/on-fault: not an "
			     "absolute path") != NULL);
	CHECK(strstr(logbuf, "warning: hook active not run: ") != NULL);
	CHECK(strstr(logbuf, "warning: hook standby not run: ") != NULL);
	CHECK(hooks_validate("", err, sizeof(err)) == 0);
	CHECK(hooks_validate("/bin/sh", err, sizeof(err)) == 0);
	CHECK(hooks_validate("/tmp", err, sizeof(err)) == -1);
	hooks_free(h);
}

static void
test_hooks_free_kills_running_hook(void)
{
	struct config cfg;
	struct hooks *h;
	struct hooks_event ev = event("STANDBY", "ACTIVE", "test");
	char path[256], pidfile[256];
	long pid, spid;

	TEST("hooks_free_kills_a_running_hook_and_its_children");
	script("long.sh",
	       "sleep 30 & echo $! > @/long.spid\n"
	       "echo $$ > @/long.pid\n"
	       "wait\n",
	       path, sizeof(path));
	base_config(&cfg);
	util_strlcpy(cfg.hook_active, path, sizeof(cfg.hook_active));
	path_in(pidfile, sizeof(pidfile), "long.pid");
	capture_start();
	h = hooks_new(loop, &cfg);
	hooks_run(h, HOOKS_ACTIVE, &ev);
	CHECK(run_until(file_has_content, "long.pid", 10000));
	CHECK(hooks_busy(h));
	hooks_free(h);
	capture_end();
	pid = read_pid("long.pid");
	spid = read_pid("long.spid");
	CHECK(pid > 0 && spid > 0);
	CHECK(wait_gone(pid, spid));
	CHECK(strstr(logbuf, "hook active killed: the daemon is stopping"));
}

/* ---- health check ----------------------------------------------------- */

struct changes {
	int n;
	enum check_health health[16];
	char reason[16][512];
};

static void
on_change(void *arg, enum check_health health, const char *reason)
{
	struct changes *c = arg;

	if (c->n < 16) {
		c->health[c->n] = health;
		util_strlcpy(c->reason[c->n], reason, sizeof(c->reason[0]));
	}
	c->n++;
}

struct wait_changes {
	struct changes *c;
	int n;
};

static int
has_changes(void *arg)
{
	struct wait_changes *w = arg;

	return w->c->n >= w->n;
}

static int
wait_changes(struct changes *c, int n)
{
	struct wait_changes w = {c, n};

	return run_until(has_changes, &w, 10000);
}

static void
test_check_falls_and_rises(void)
{
	struct config cfg;
	struct check *k;
	struct changes ch;
	char *dump = NULL;
	size_t dumplen = 0;
	FILE *f;

	TEST("check_turns_unhealthy_after_fall_failures_and_back_after_rise");
	memset(&ch, 0, sizeof(ch));
	write_file("state", "up\n", 0644);
	base_config(&cfg);
	expand("if [ \"$(cat @/state)\" = up ]; then echo fine; "
	       "else echo 'service down' >&2; exit 7; fi",
	       cfg.check_command, sizeof(cfg.check_command));
	cfg.check_interval_ms = 20;
	cfg.check_timeout_ms = 5000;
	cfg.check_fall = 3;
	cfg.check_rise = 2;
	capture_start();
	k = check_new(loop, &cfg, on_change, &ch);
	CHECK(check_state(k) == CHECK_UNKNOWN);
	CHECK(wait_changes(&ch, 1));
	CHECK(ch.health[0] == CHECK_HEALTHY);
	CHECK(strcmp(ch.reason[0], "first check passed") == 0);

	write_file("state", "down\n", 0644);
	CHECK(wait_changes(&ch, 2));
	CHECK(ch.health[1] == CHECK_UNHEALTHY);
	CHECK(strcmp(ch.reason[1],
		     "check failed 3 times: exit 7: service down") == 0);
	CHECK(check_state(k) == CHECK_UNHEALTHY);

	write_file("state", "up\n", 0644);
	CHECK(wait_changes(&ch, 3));
	CHECK(ch.health[2] == CHECK_HEALTHY);
	CHECK(strcmp(ch.reason[2], "check passed 2 times") == 0);
	run_for(200);
	CHECK(ch.n == 3);
	f = open_memstream(&dump, &dumplen);
	check_dump(k, f);
	fclose(f);
	check_free(k);
	capture_end();
	CHECK(strstr(logbuf, "notice: health: healthy -> unhealthy: check "
			     "failed 3 times: exit 7: service down") != NULL);
	CHECK(strstr(logbuf, "check failed (1 of 3): exit 7: service down"));
	CHECK(strstr(dump, "check: healthy, ") != NULL);
	CHECK(strstr(dump, "check: last at ") != NULL);
	CHECK(strstr(dump, ": exit 0 after ") != NULL &&
	      strstr(dump, " ms; output: fine\n") != NULL);
	free(dump);
}

static void
test_check_timeout(void)
{
	struct config cfg;
	struct check *k;
	struct changes ch;
	long pid;

	TEST("hanging_check_is_killed_by_its_timeout_and_counts_as_failure");
	memset(&ch, 0, sizeof(ch));
	base_config(&cfg);
	expand("echo $$ > @/hang.pid; exec sleep 30", cfg.check_command,
	       sizeof(cfg.check_command));
	cfg.check_interval_ms = 60000;
	cfg.check_timeout_ms = 200;
	capture_start();
	k = check_new(loop, &cfg, on_change, &ch);
	CHECK(wait_changes(&ch, 1));
	capture_end();
	CHECK(ch.health[0] == CHECK_UNHEALTHY);
	CHECK(strcmp(ch.reason[0], "first check failed: timed out after "
				   "200 ms (signal 15)") == 0);
	pid = read_pid("hang.pid");
	CHECK(pid > 0);
	CHECK(wait_gone(pid, 0));
	check_free(k);
}

static void
test_check_never_overlaps(void)
{
	struct config cfg;
	struct check *k;
	struct changes ch;
	char runs[1024];
	int n = 0;
	uint64_t deadline;

	TEST("check_runs_never_overlap_even_with_a_tiny_interval");
	memset(&ch, 0, sizeof(ch));
	base_config(&cfg);
	expand("mkdir @/lock || exit 99; sleep 0.05; rmdir @/lock; "
	       "echo x >> @/runs",
	       cfg.check_command, sizeof(cfg.check_command));
	cfg.check_interval_ms = 1;
	cfg.check_timeout_ms = 5000;
	cfg.check_fall = 1;
	cfg.check_rise = 1;
	capture_start();
	k = check_new(loop, &cfg, on_change, &ch);
	deadline = util_now_ms() + 10000;
	while (util_now_ms() < deadline && n < 8) {
		run_for(50);
		n = read_file("runs", runs, sizeof(runs)) / 2;
	}
	check_free(k);
	capture_end();
	CHECK(n >= 8);
	CHECK(ch.n == 1 && ch.health[0] == CHECK_HEALTHY);
}

static void
test_check_without_command(void)
{
	struct config cfg;
	struct check *k;
	struct changes ch;
	char *dump = NULL;
	size_t dumplen = 0;
	FILE *f;

	TEST("no_check_command_means_always_healthy_and_nothing_spawned");
	memset(&ch, 0, sizeof(ch));
	base_config(&cfg);
	k = check_new(loop, &cfg, on_change, &ch);
	CHECK(check_state(k) == CHECK_HEALTHY);
	run_for(100);
	CHECK(ch.n == 0);
	CHECK(check_state(k) == CHECK_HEALTHY);
	f = open_memstream(&dump, &dumplen);
	check_dump(k, f);
	fclose(f);
	CHECK(strcmp(dump, "check: none configured: healthy\n") == 0);
	free(dump);
	check_free(k);
}

static void
test_check_reload(void)
{
	struct config cfg;
	struct check *k;
	struct changes ch;

	TEST("reload_removing_the_check_command_makes_the_node_healthy");
	memset(&ch, 0, sizeof(ch));
	base_config(&cfg);
	util_strlcpy(cfg.check_command, "echo nope; exit 1",
		     sizeof(cfg.check_command));
	cfg.check_interval_ms = 50;
	capture_start();
	k = check_new(loop, &cfg, on_change, &ch);
	CHECK(wait_changes(&ch, 1));
	CHECK(ch.health[0] == CHECK_UNHEALTHY);
	CHECK(strcmp(ch.reason[0], "first check failed: exit 1: nope") == 0);
	cfg.check_command[0] = '\0';
	check_reload(k, &cfg);
	CHECK(ch.n == 2 && ch.health[1] == CHECK_HEALTHY);
	CHECK(strcmp(ch.reason[1], "check.command removed") == 0);
	run_for(200);
	CHECK(ch.n == 2);

	TEST("reload_with_a_new_command_keeps_health_until_fall_failures");
	util_strlcpy(cfg.check_command, "exit 2", sizeof(cfg.check_command));
	cfg.check_fall = 2;
	check_reload(k, &cfg);
	CHECK(check_state(k) == CHECK_HEALTHY);
	CHECK(wait_changes(&ch, 3));
	CHECK(ch.health[2] == CHECK_UNHEALTHY);
	CHECK(strcmp(ch.reason[2], "check failed 2 times: exit 2") == 0);
	check_free(k);
	capture_end();
}

int
main(void)
{
	char cmd[128];

	signal(SIGPIPE, SIG_IGN);
	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LEVEL_DEBUG);
	/* Orphaned grandchildren come to us, so we can see them reaped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		fprintf(stderr, "# no subreaper: %s\n", strerror(errno));
	snprintf(dir, sizeof(dir), "/tmp/test_hooks.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	loop = ev_default_loop(0);

	test_counter_matches_oracle_for_all_sequences();
	test_counter_hysteresis_examples();
	test_hook_gets_environment_and_no_leaked_fds();
	test_hook_output_logged_line_by_line();
	test_hook_spewing_output_is_capped();
	test_hook_killed_after_timeout();
	test_hook_ignoring_sigterm_gets_sigkill();
	test_hook_background_child_does_not_hold_it();
	test_output_written_just_before_exit_is_kept();
	test_failing_hook_reported_not_retried();
	test_queued_hooks_latest_wins();
	test_loop_runs_while_hook_waits();
	test_bad_hook_paths();
	test_hooks_free_kills_running_hook();
	test_check_falls_and_rises();
	test_check_timeout();
	test_check_never_overlaps();
	test_check_without_command();
	test_check_reload();

	ev_loop_destroy(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
	return check_done();
}
