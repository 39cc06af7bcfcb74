/*
 * child.h - what the tests of child-process modules (hooks, health, proc)
 * share: a temporary directory with scripts in it, the log captured from
 * stderr, running the default loop until a condition holds, and waiting
 * for pids to be gone. Include after check.h; call child_setup() first.
 */
#ifndef EIPFLOATD_TEST_CHILD_H
#define EIPFLOATD_TEST_CHILD_H

#include "config.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOGCAP 262144

static struct ev_loop *loop;
static char dir[64];
static char logbuf[LOGCAP];
static int saved_stderr = -1;
static char logpath[128];

static inline void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static inline void
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
static inline void
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
static inline void
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

static inline int
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

static inline long
read_pid(const char *name)
{
	char buf[64];

	if (read_file(name, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static inline int
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

static inline void
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
static inline void
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

static inline void
on_guard(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
}

/* Run the loop until pred(arg) or max_ms passed; returns pred(arg). */
static inline int
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

static inline int
never(void *arg)
{
	(void)arg;
	return 0;
}

static inline void
run_for(unsigned ms)
{
	run_until(never, NULL, ms);
}

static inline int
file_has_content(void *arg)
{
	char buf[64];

	return read_file(arg, buf, sizeof(buf)) > 0;
}

static inline int
pid_gone(long pid)
{
	return pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

static inline int
pids_gone(void *arg)
{
	const long *pids = arg;

	for (; *pids != 0; pids++)
		if (!pid_gone(*pids))
			return 0;
	return 1;
}

/* Zombies count as alive: libev reaps them (we are a subreaper). */
static inline int
wait_gone(long a, long b)
{
	long pids[3] = {a, b, 0};

	return run_until(pids_gone, pids, 5000);
}

static inline void
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

/*
 * A temporary directory named for the test, the default loop, the log at
 * debug on stderr, and us as subreaper so orphaned grandchildren come to us
 * and can be seen reaped. 0, or -1 when the directory cannot be made.
 */
static inline int
child_setup(const char *name)
{
	signal(SIGPIPE, SIG_IGN);
	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LEVEL_DEBUG);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		fprintf(stderr, "# no subreaper: %s\n", strerror(errno));
	snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX", name);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	loop = ev_default_loop(0);
	return 0;
}

/* Remove the directory; returns check_done()'s verdict. */
static inline int
child_teardown(void)
{
	char cmd[128];

	ev_loop_destroy(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
	return check_done();
}

#endif
