/*
 * proc.h - run one child process without blocking the libev loop: output
 * captured line by line, reaped by ev_child, killed on timeout.
 */
#ifndef EIPFLOATD_PROC_H
#define EIPFLOATD_PROC_H

#include <ev.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_LINE_MAX 256	/* longer output lines are cut, "..." marked */
#define PROC_TAIL_LINES 3	/* output lines kept for failure reports */
#define PROC_TAIL_MAX 800	/* those lines joined by " | " */
#define PROC_LOG_LINES 50	/* lines passed on per run; the rest counted */
#define PROC_KILL_GRACE_MS 2000 /* SIGTERM -> SIGKILL */

enum proc_end {
	PROC_EXITED,	  /* code = exit status */
	PROC_SIGNALED,	  /* code = signal number */
	PROC_SPAWN_FAILED /* fork/pipe failed; nothing ran */
};

struct proc_result {
	enum proc_end end;
	int code;
	int timed_out;	     /* we killed it: the timeout expired */
	unsigned timeout_ms; /* as given to proc_start */
	uint64_t duration_ms;
	unsigned long lines_dropped; /* beyond PROC_LOG_LINES */
	char last_line[PROC_LINE_MAX];
	char tail[PROC_TAIL_MAX];
};

/* Each output line (stdout and stderr), NUL-terminated, sanitised. */
typedef void (*proc_line_cb)(void *arg, const char *line);
/*
 * The child has been reaped and its output drained. The callback may start
 * the next child on the same struct proc, but must not free it.
 */
typedef void (*proc_done_cb)(void *arg, const struct proc_result *res);

/*
 * Embedded in its owner (hooks, check); zero it with proc_init() first.
 * Internals are private to proc.c.
 */
struct proc {
	struct ev_loop *loop;
	pid_t pid; /* 0: idle */
	int fd;	   /* read end of the output pipe, -1 when closed */
	ev_io io;
	ev_child child;
	ev_timer timer; /* the timeout, then the SIGKILL grace */
	int timed_out;
	int killing; /* SIGTERM sent, SIGKILL armed */
	unsigned timeout_ms;
	uint64_t started_ms;
	proc_line_cb on_line;
	proc_done_cb on_done;
	void *arg;
	char buf[PROC_LINE_MAX];
	size_t len;
	int overlong; /* the current line is being cut */
	unsigned long lines, dropped;
	char tail[PROC_TAIL_LINES][PROC_LINE_MAX];
	unsigned ntail;
};

void proc_init(struct proc *p, struct ev_loop *loop, proc_line_cb on_line,
	       proc_done_cb on_done, void *arg);

/*
 * Whether the daemon's environment entry "NAME=value" passes to a child
 * (only PATH, LANG, LANGUAGE, LC_* and TZ); see proc.c.
 */
int proc_env_passes(const char *entry);

/*
 * A NULL-terminated copy of the environment entries that pass (plus a
 * default PATH when we have none), with room for `extra` more before the
 * NULL; the strings are environ's or static. free() it.
 */
char **proc_env_new(size_t extra);

/*
 * Start argv[0] (an absolute path; no PATH search) with envp (NULL: our
 * environment as proc_env_passes filters it) in its own process group, stdin from /dev/null, stdout and
 * stderr into a pipe, every other descriptor closed. timeout_ms 0 = none.
 * `loop` must be the default loop: ev_child works only there, and libev
 * owns SIGCHLD. A failing execve shows up as exit 127 with the reason on
 * the output. Returns 0, or -1 with the reason in err (nothing started).
 */
int proc_start(struct proc *p, char *const argv[], char *const envp[],
	       unsigned timeout_ms, char *err, size_t errlen);

int proc_running(const struct proc *p);
pid_t proc_pid(const struct proc *p);

/*
 * Kill the child's whole process group with SIGKILL and reap it (a short
 * blocking wait: SIGKILL cannot be caught). No callback. For shutdown.
 */
void proc_kill(struct proc *p);

/* "exit 7", "killed by signal 9", "timed out after 2000 ms (signal 15)". */
void proc_describe(const struct proc_result *r, char *buf, size_t len);
/* The same plus how long it ran unless it timed out: "exit 7 after 12 ms". */
void proc_summary(const struct proc_result *r, char *buf, size_t len);

#endif
