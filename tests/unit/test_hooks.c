/*
 * test_hooks.c - the notify hooks: real shell scripts in a temporary
 * directory, the daemon's log captured from stderr, and no process left
 * behind (health: test_health.c; the child runner itself: test_proc.c).
 */
#include "check.h"
#include "child.h"
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

static int
hooks_idle(void *arg)
{
	return !hooks_busy(arg);
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
	       "echo \"SECRET=${AWS_SECRET_ACCESS_KEY-unset}\"\n"
	       "echo \"TOKEN=${AWS_SESSION_TOKEN-unset}\"\n"
	       "echo \"KEYID=${AWS_ACCESS_KEY_ID-unset}\"\n"
	       "echo \"REGION=${AWS_REGION-unset}\"\n"
	       "echo \"NOTIFY=${NOTIFY_SOCKET-unset}\"\n"
	       "echo \"LANG=$LANG\"\n"
	       "echo \"PATH=$PATH\"\n"
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
	setenv("AWS_SECRET_ACCESS_KEY", "hooktest-secret", 1);
	setenv("AWS_SESSION_TOKEN", "hooktest-token", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAHOOKTEST", 1);
	setenv("AWS_REGION", "eu-west-1", 1);
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	setenv("LANG", "C.UTF-8", 1);
	setenv("PATH", "/usr/bin:/bin", 1);
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
	/* PATH and the locale only: no secret, no notify socket, nothing else. */
	CHECK(strstr(out, "INHERITED=\n") != NULL);
	CHECK(strstr(out, "SECRET=unset\n") != NULL);
	CHECK(strstr(out, "TOKEN=unset\n") != NULL);
	CHECK(strstr(out, "KEYID=unset\n") != NULL);
	CHECK(strstr(out, "REGION=unset\n") != NULL);
	CHECK(strstr(out, "LANG=C.UTF-8\n") != NULL);
	CHECK(strstr(out, "PATH=/usr/bin:/bin\n") != NULL);
	CHECK(strstr(out, "NOTIFY=unset\n") != NULL);
	CHECK(strstr(out, "hooktest-secret") == NULL);
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
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_REGION");
	unsetenv("NOTIFY_SOCKET");
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

int
main(void)
{
	if (child_setup("test_hooks") == -1)
		return 1;
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
	return child_teardown();
}
