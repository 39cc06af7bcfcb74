/*
 * proc.c - child processes for hooks and the health check: fork/execve,
 * output through a non-blocking pipe watched by ev_io, reaping by ev_child,
 * SIGTERM then SIGKILL to the process group on timeout.
 */
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Output read per wake-up, so a child that spews cannot starve the loop. */
#define READ_BUDGET 65536

static void on_readable(struct ev_loop *loop, ev_io *w, int revents);
static void on_exit_status(struct ev_loop *loop, ev_child *w, int revents);
static void on_timer(struct ev_loop *loop, ev_timer *w, int revents);

void
proc_init(struct proc *p, struct ev_loop *loop, proc_line_cb on_line,
	  proc_done_cb on_done, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->fd = -1;
	p->on_line = on_line;
	p->on_done = on_done;
	p->arg = arg;
}

int
proc_running(const struct proc *p)
{
	return p->pid != 0;
}

pid_t
proc_pid(const struct proc *p)
{
	return p->pid;
}

static void
close_from(int lowfd)
{
	long max, fd;

#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	if (close_range((unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		close((int)fd);
}

/*
 * In the child, between fork and execve. The daemon's signal handlers and
 * ignored signals (SIGPIPE) must not leak into the hook, nor any socket or
 * the libev pipes: a hook holding the heartbeat socket open would outlive
 * the daemon with it. Only async-signal-safe work here.
 */
static void __attribute__((noreturn))
child(char *const argv[], char *const envp[], int out)
{
	struct sigaction sa;
	sigset_t none;
	int sig, in;

	setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Keep the pipe clear of 0-2 before the dup2s (a closed stdout). */
	if (out < 3 && (out = fcntl(out, F_DUPFD, 3)) == -1)
		_exit(127);
	in = open("/dev/null", O_RDONLY);
	if (in == -1 || dup2(in, 0) == -1 || dup2(out, 1) == -1 ||
	    dup2(out, 2) == -1)
		_exit(127);
	close_from(3);
	execve(argv[0], argv, envp);
	dprintf(2, "cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/*
 * What a child inherits from the daemon: PATH, the locale and the time
 * zone, nothing else. The daemon's environment may hold AWS credentials
 * (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), systemd's NOTIFY_SOCKET and
 * whatever its unit or shell set; none of it is a hook's business. Hooks
 * add their EIPFLOATD_* variables themselves.
 */
static const char *const passed_env[] = {"PATH=", "LANG=", "LANGUAGE=",
					 "TZ=", "LC_"};

int
proc_env_passes(const char *entry)
{
	for (size_t i = 0; i < sizeof(passed_env) / sizeof(passed_env[0]);
	     i++)
		if (strncmp(entry, passed_env[i], strlen(passed_env[i])) == 0)
			return 1;
	return 0;
}

/* When the daemon has no PATH (started by hand with env -i). */
static char default_path[] = "PATH=/usr/local/sbin:/usr/local/bin:"
			     "/usr/sbin:/usr/bin:/sbin:/bin";

char **
proc_env_new(size_t extra)
{
	size_t n = 0, i, k = 0;
	char **vec;

	while (environ[n] != NULL)
		n++;
	vec = calloc(n + extra + 2, sizeof(*vec));
	if (vec == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (proc_env_passes(environ[i]))
			vec[k++] = environ[i];
	if (getenv("PATH") == NULL)
		vec[k++] = default_path;
	return vec;
}

int
proc_start(struct proc *p, char *const argv[], char *const envp[],
	   unsigned timeout_ms, char *err, size_t errlen)
{
	sigset_t all, old;
	char **own = NULL;
	int fds[2], saved;
	pid_t pid;

	if (p->pid != 0) {
		snprintf(err, errlen, "a child is still running (pid %ld)",
			 (long)p->pid);
		return -1;
	}
	if (!ev_is_default_loop(p->loop)) {
		snprintf(err, errlen, "child processes need the default loop");
		return -1;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}

	if (envp == NULL && (envp = own = proc_env_new(0)) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}

	/* No handler of ours may run in the child before execve. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child(argv, envp, fds[1]);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(own);
	close(fds[1]);
	if (pid == -1) {
		snprintf(err, errlen, "fork: %s", strerror(saved));
		close(fds[0]);
		return -1;
	}
	/* Also here, so a timeout can never race the child's own setpgid. */
	setpgid(pid, pid);

	p->pid = pid;
	p->fd = fds[0];
	p->timed_out = 0;
	p->killing = 0;
	p->timeout_ms = timeout_ms;
	p->started_ms = util_now_ms();
	p->len = 0;
	p->overlong = 0;
	p->lines = 0;
	p->dropped = 0;
	p->ntail = 0;

	ev_io_init(&p->io, on_readable, p->fd, EV_READ);
	p->io.data = p;
	ev_io_start(p->loop, &p->io);
	ev_child_init(&p->child, on_exit_status, pid, 0);
	p->child.data = p;
	ev_child_start(p->loop, &p->child);
	ev_timer_init(&p->timer, on_timer, timeout_ms / 1000.0, 0.);
	p->timer.data = p;
	if (timeout_ms > 0)
		ev_timer_start(p->loop, &p->timer);
	return 0;
}

static void
end_line(struct proc *p)
{
	if (p->len == 0 && !p->overlong)
		return;
	if (p->overlong) {
		memcpy(p->buf + p->len, "...", 3);
		p->len += 3;
	}
	p->buf[p->len] = '\0';
	util_strlcpy(p->tail[p->ntail % PROC_TAIL_LINES], p->buf,
		     PROC_LINE_MAX);
	p->ntail++;
	if (++p->lines <= PROC_LOG_LINES)
		p->on_line(p->arg, p->buf);
	else
		p->dropped++;
	p->len = 0;
	p->overlong = 0;
}

/*
 * Lines go to the journal: control characters (escape sequences, NULs)
 * become '?', and a line is cut at PROC_LINE_MAX rather than buffered.
 */
static void
feed(struct proc *p, const char *data, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\n') {
			end_line(p);
			continue;
		}
		if (c == '\r')
			continue;
		if (p->len >= PROC_LINE_MAX - 4) {
			p->overlong = 1;
			continue;
		}
		if (c == '\t')
			c = ' ';
		else if (c < 0x20 || c == 0x7f)
			c = '?';
		p->buf[p->len++] = (char)c;
	}
}

static void
close_pipe(struct proc *p)
{
	if (p->fd == -1)
		return;
	ev_io_stop(p->loop, &p->io);
	close(p->fd);
	p->fd = -1;
	end_line(p);
}

/* Returns 1 when the pipe is exhausted (EOF or error), 0 on EAGAIN. */
static int
drain(struct proc *p, size_t budget)
{
	char chunk[4096];
	ssize_t n;

	while (budget > 0) {
		n = read(p->fd, chunk, sizeof(chunk));
		if (n > 0) {
			feed(p, chunk, (size_t)n);
			budget -= (size_t)n < budget ? (size_t)n : budget;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return 1;
	}
	return 0;
}

static void
on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct proc *p = w->data;

	if (drain(p, READ_BUDGET))
		close_pipe(p);
}

static void
build_tail(const struct proc *p, struct proc_result *r)
{
	unsigned first, i;
	size_t off = 0;

	r->tail[0] = '\0';
	r->last_line[0] = '\0';
	if (p->ntail == 0)
		return;
	first = p->ntail > PROC_TAIL_LINES ? p->ntail - PROC_TAIL_LINES : 0;
	for (i = first; i < p->ntail; i++) {
		const char *line = p->tail[i % PROC_TAIL_LINES];

		off += (size_t)snprintf(r->tail + off, sizeof(r->tail) - off,
					"%s%s", i > first ? " | " : "", line);
		if (off >= sizeof(r->tail))
			break;
	}
	util_strlcpy(r->last_line, p->tail[(p->ntail - 1) % PROC_TAIL_LINES],
		     sizeof(r->last_line));
}

/*
 * The child is gone. Whatever it wrote before exiting is still in the pipe:
 * read it now rather than wait for EOF, because a background grandchild may
 * hold the write end open for ever (it gets EPIPE once we close).
 */
static void
on_exit_status(struct ev_loop *loop, ev_child *w, int revents)
{
	struct proc *p = w->data;
	struct proc_result r;
	int status = w->rstatus;

	ev_child_stop(loop, &p->child);
	ev_timer_stop(loop, &p->timer);
	if (p->fd != -1) {
		drain(p, READ_BUDGET);
		close_pipe(p);
	}
	/* A timed-out hook's helpers go with it. */
	if (p->timed_out)
		kill(-p->pid, SIGKILL);

	memset(&r, 0, sizeof(r));
	if (WIFSIGNALED(status)) {
		r.end = PROC_SIGNALED;
		r.code = WTERMSIG(status);
	} else {
		r.end = PROC_EXITED;
		r.code = WEXITSTATUS(status);
	}
	r.timed_out = p->timed_out;
	r.timeout_ms = p->timeout_ms;
	r.duration_ms = util_now_ms() - p->started_ms;
	r.lines_dropped = p->dropped;
	build_tail(p, &r);
	p->pid = 0;
	p->on_done(p->arg, &r);
}

/* First expiry: the timeout (SIGTERM); second: the grace (SIGKILL). */
static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct proc *p = w->data;

	if (p->pid == 0)
		return;
	if (!p->killing) {
		p->timed_out = 1;
		p->killing = 1;
		if (kill(-p->pid, SIGTERM) == -1)
			kill(p->pid, SIGTERM);
		ev_timer_set(&p->timer, PROC_KILL_GRACE_MS / 1000.0, 0.);
		ev_timer_start(loop, &p->timer);
		return;
	}
	if (kill(-p->pid, SIGKILL) == -1)
		kill(p->pid, SIGKILL);
}

void
proc_kill(struct proc *p)
{
	if (p->pid == 0)
		return;
	ev_child_stop(p->loop, &p->child);
	ev_timer_stop(p->loop, &p->timer);
	if (p->fd != -1) {
		ev_io_stop(p->loop, &p->io);
		close(p->fd);
		p->fd = -1;
	}
	if (kill(-p->pid, SIGKILL) == -1)
		kill(p->pid, SIGKILL);
	/* libev may have reaped it already: then ECHILD, at once. */
	while (waitpid(p->pid, NULL, 0) == -1 && errno == EINTR)
		;
	p->pid = 0;
}

void
proc_describe(const struct proc_result *r, char *buf, size_t len)
{
	switch (r->end) {
	case PROC_SPAWN_FAILED:
		snprintf(buf, len, "could not start");
		return;
	case PROC_EXITED:
		if (r->timed_out)
			snprintf(buf, len, "timed out after %u ms (exit %d)",
				 r->timeout_ms, r->code);
		else
			snprintf(buf, len, "exit %d", r->code);
		return;
	case PROC_SIGNALED:
		if (r->timed_out)
			snprintf(buf, len, "timed out after %u ms (signal %d)",
				 r->timeout_ms, r->code);
		else
			snprintf(buf, len, "killed by signal %d (%s)", r->code,
				 strsignal(r->code));
		return;
	}
	snprintf(buf, len, "unknown");
}

void
proc_summary(const struct proc_result *r, char *buf, size_t len)
{
	char what[96];

	proc_describe(r, what, sizeof(what));
	if (r->timed_out || r->end == PROC_SPAWN_FAILED)
		snprintf(buf, len, "%s", what);
	else
		snprintf(buf, len, "%s after %llu ms", what,
			 (unsigned long long)r->duration_ms);
}
