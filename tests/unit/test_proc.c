/*
 * test_proc.c - the child-process runner on its own: exit codes and
 * signals, output split into lines (cut, counted), the tail kept for
 * failure reports, the timeout kill, a failing execve, and the wording of
 * proc_describe / proc_summary.
 */
#include "check.h"
#include "child.h"
#include "proc.h"

struct run {
	int done;
	struct proc_result res;
	int nlines;
	char first[PROC_LINE_MAX];
};

static void
on_line(void *arg, const char *line)
{
	struct run *r = arg;

	if (r->nlines++ == 0)
		util_strlcpy(r->first, line, sizeof(r->first));
}

static void
on_done(void *arg, const struct proc_result *res)
{
	struct run *r = arg;

	r->done = 1;
	r->res = *res;
}

static int
is_done(void *arg)
{
	return ((struct run *)arg)->done;
}

/* Run /bin/sh -c CMD to the end (at most 10 s); 0 when it started. */
static int
sh(struct proc *p, struct run *r, const char *cmd, unsigned timeout_ms)
{
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	char err[256];

	memset(r, 0, sizeof(*r));
	proc_init(p, loop, on_line, on_done, r);
	if (proc_start(p, argv, NULL, timeout_ms, err, sizeof(err)) == -1)
		return -1;
	run_until(is_done, r, 10000);
	return 0;
}

static void
test_exit_code_and_output_lines(void)
{
	struct proc p;
	struct run r;
	char what[128];

	TEST("exit_code_and_every_output_line_reported");
	CHECK(sh(&p, &r, "echo one; echo two >&2; echo three; exit 7", 0) == 0);
	CHECK(r.done);
	CHECK(r.res.end == PROC_EXITED && r.res.code == 7);
	CHECK(!r.res.timed_out);
	CHECK(r.nlines == 3);
	CHECK(strcmp(r.first, "one") == 0);
	CHECK(strcmp(r.res.last_line, "three") == 0);
	CHECK(strstr(r.res.tail, "two") != NULL);
	CHECK(!proc_running(&p));
	proc_describe(&r.res, what, sizeof(what));
	CHECK(strcmp(what, "exit 7") == 0);
	proc_summary(&r.res, what, sizeof(what));
	CHECK(strncmp(what, "exit 7 after ", 13) == 0);
}

/* The health check's path: no envp given, our environment filtered. */
static void
test_default_environment_has_no_secrets(void)
{
	struct proc p;
	struct run r;

	TEST("default_environment_is_path_and_locale_only");
	setenv("PROCTEST_KEPT", "kept", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "proctest-secret", 1);
	setenv("AWS_SESSION_TOKEN", "proctest-token", 1);
	setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
	CHECK(sh(&p, &r,
		 "echo \"[$PROCTEST_KEPT] [${AWS_SECRET_ACCESS_KEY-none}] "
		 "[${AWS_SESSION_TOKEN-none}] [$AWS_DEFAULT_REGION]\"",
		 0) == 0);
	CHECK(r.done && r.res.end == PROC_EXITED && r.res.code == 0);
	CHECK(strcmp(r.first, "[] [none] [none] []") == 0);
	CHECK(proc_env_passes("PATH=/usr/bin"));
	CHECK(proc_env_passes("LC_ALL=C"));
	CHECK(proc_env_passes("TZ=UTC"));
	CHECK(!proc_env_passes("PATHX=1"));
	CHECK(!proc_env_passes("AWS_CONTAINER_AUTHORIZATION_TOKEN=x"));
	CHECK(!proc_env_passes("EIPFLOATD_STATE=ACTIVE"));
	CHECK(!proc_env_passes("NOTIFY_SOCKET=/run/x"));
	CHECK(!proc_env_passes("HOME=/root"));
	unsetenv("PROCTEST_KEPT");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_DEFAULT_REGION");
}

static void
test_signal_reported(void)
{
	struct proc p;
	struct run r;
	char what[128];

	TEST("death_by_signal_reported_as_such");
	CHECK(sh(&p, &r, "kill -9 $$", 0) == 0);
	CHECK(r.done && r.res.end == PROC_SIGNALED && r.res.code == 9);
	proc_describe(&r.res, what, sizeof(what));
	CHECK(strcmp(what, "killed by signal 9 (Killed)") == 0);
}

static void
test_timeout_kills(void)
{
	struct proc p;
	struct run r;
	char what[128], cmd[256];
	long pid;

	TEST("a_child_past_its_timeout_is_killed");
	snprintf(cmd, sizeof(cmd), "echo $$ > %s/t.pid; exec sleep 30", dir);
	CHECK(sh(&p, &r, cmd, 200) == 0);
	CHECK(r.done && r.res.timed_out);
	CHECK(r.res.timeout_ms == 200);
	proc_describe(&r.res, what, sizeof(what));
	CHECK(strcmp(what, "timed out after 200 ms (signal 15)") == 0);
	pid = read_pid("t.pid");
	CHECK(pid > 0);
	CHECK(wait_gone(pid, 0));
}

static void
test_long_and_many_lines(void)
{
	struct proc p;
	struct run r;
	char cmd[256];

	TEST("long_lines_cut_and_lines_beyond_the_cap_counted");
	snprintf(cmd, sizeof(cmd),
		 "head -c %d /dev/zero | tr '\\\\0' x; echo; "
		 "i=0; while [ $i -lt %d ]; do echo l$i; i=$((i+1)); done",
		 PROC_LINE_MAX * 3, PROC_LOG_LINES + 10);
	CHECK(sh(&p, &r, cmd, 0) == 0);
	CHECK(r.done && r.res.end == PROC_EXITED && r.res.code == 0);
	CHECK(strlen(r.first) < PROC_LINE_MAX);
	CHECK(strstr(r.first, "...") != NULL);
	CHECK(r.nlines == PROC_LOG_LINES);
	CHECK(r.res.lines_dropped == 11);
}

static void
test_missing_program(void)
{
	char *argv[] = {"/nonexistent/program", NULL};
	struct proc p;
	struct run r;
	char err[256];

	TEST("a_failing_execve_is_exit_127_with_the_reason");
	memset(&r, 0, sizeof(r));
	proc_init(&p, loop, on_line, on_done, &r);
	CHECK(proc_start(&p, argv, NULL, 0, err, sizeof(err)) == 0);
	run_until(is_done, &r, 10000);
	CHECK(r.done && r.res.end == PROC_EXITED && r.res.code == 127);
	CHECK(strstr(r.res.tail, "/nonexistent/program") != NULL);
}

static void
test_kill_is_silent(void)
{
	struct proc p;
	struct run r;
	char *argv[] = {"/bin/sleep", "30", NULL};
	char err[256];
	pid_t pid;

	TEST("proc_kill_reaps_at_once_without_a_callback");
	memset(&r, 0, sizeof(r));
	proc_init(&p, loop, on_line, on_done, &r);
	CHECK(proc_start(&p, argv, NULL, 0, err, sizeof(err)) == 0);
	pid = proc_pid(&p);
	CHECK(pid > 0 && proc_running(&p));
	proc_kill(&p);
	CHECK(!proc_running(&p));
	CHECK(kill(pid, 0) == -1 && errno == ESRCH);
	run_for(50);
	CHECK(!r.done);
}

int
main(void)
{
	if (child_setup("test_proc") == -1)
		return 1;
	test_exit_code_and_output_lines();
	test_default_environment_has_no_secrets();
	test_signal_reported();
	test_timeout_kills();
	test_long_and_many_lines();
	test_missing_program();
	test_kill_is_silent();
	return child_teardown();
}
