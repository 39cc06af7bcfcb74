/*
 * ctl.c - the control socket's server side on the loop. Every client is a
 * small state machine: read one request line (bounded), answer it at once
 * from the handler (the daemon composes status from memory, never waits),
 * write the answer as the client drains it, close. No progress for
 * CTL_IDLE_MS closes the client, whatever it was doing.
 */
#include "ctl.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <ev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct ctl_client {
	struct ctl *ctl;
	int fd;
	ev_io io;
	struct loop_defer idle;
	char in[CTL_REQUEST_MAX];
	size_t in_len;
	char *out; /* header + body, once answered */
	size_t out_len, out_off;
};

struct ctl {
	struct ev_loop *loop;
	int fd;
	ev_io io;
	char path[PATH_MAX];
	ctl_handler handler;
	void *arg;
	struct ctl_client *clients[CTL_CLIENTS_MAX];
	struct log_ratelimit rl;
};

int
ctl_socket_path(const char *runtime_dir, char *buf, size_t len)
{
	struct sockaddr_un sun;
	int n = snprintf(buf, len, "%s/%s", runtime_dir, CTL_SOCKET_NAME);

	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(sun.sun_path))
		return -1;
	return 0;
}

static void
client_free(struct ctl_client *c)
{
	struct ctl *ctl = c->ctl;

	for (unsigned i = 0; i < CTL_CLIENTS_MAX; i++)
		if (ctl->clients[i] == c)
			ctl->clients[i] = NULL;
	ev_io_stop(ctl->loop, &c->io);
	loop_defer_cancel(&c->idle);
	close(c->fd);
	free(c->out);
	free(c);
}

static void
on_idle(void *arg)
{
	struct ctl_client *c = arg;

	log_limited(&c->ctl->rl, LOG_LEVEL_WARNING,
		    "control socket: client idle for %d ms, closed",
		    CTL_IDLE_MS);
	client_free(c);
}

/* The answer is complete in c->out; from now on we only write. */
static int
client_answer(struct ctl_client *c, int ok, const char *body, size_t len)
{
	char hdr[CTL_HEADER_MAX];
	size_t h = ctl_frame_header(ok, len, hdr, sizeof(hdr));

	c->out = malloc(h + len);
	if (c->out == NULL)
		return -1;
	memcpy(c->out, hdr, h);
	if (len)
		memcpy(c->out + h, body, len);
	c->out_len = h + len;
	c->out_off = 0;
	ev_io_stop(c->ctl->loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(c->ctl->loop, &c->io);
	return 0;
}

static int
client_request(struct ctl_client *c)
{
	struct ctl_request req;
	char err[128], *body = NULL;
	size_t used, len = 0;
	int ok;

	switch (ctl_parse_request(c->in, c->in_len, &req, &used, err,
				  sizeof(err))) {
	case CTL_PARSE_MORE:
		return 0;
	case CTL_PARSE_ERROR:
		log_limited(&c->ctl->rl, LOG_LEVEL_WARNING,
			    "control socket: %s", err);
		return client_answer(c, 0, err, strlen(err));
	case CTL_PARSE_OK:
		break;
	}
	ok = c->ctl->handler(c->ctl->arg, &req, &body, &len);
	if (ok == -1)
		return -1;
	ok = client_answer(c, ok, body, len);
	free(body);
	return ok;
}

static void
client_read(struct ctl_client *c)
{
	ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->in_len += (size_t)n;
	loop_defer_after(&c->idle, CTL_IDLE_MS);
	if (client_request(c) == -1)
		client_free(c);
}

static void
client_write(struct ctl_client *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->out_off += (size_t)n;
	loop_defer_after(&c->idle, CTL_IDLE_MS);
	if (c->out_off == c->out_len)
		client_free(c);
}

static void
on_client(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *c = w->data;

	if (c->out != NULL)
		client_write(c);
	else
		client_read(c);
}

/* Only root or the daemon's own user may steer the daemon. */
static int
peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return 0;
	return cred.uid == 0 || cred.uid == geteuid();
}

static int
slot_of(struct ctl *ctl)
{
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		if (ctl->clients[i] == NULL)
			return i;
	return -1;
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	static const char busy[] = "ERR 22\ntoo many control clients";
	struct ctl *ctl = w->data;
	struct ctl_client *c;
	int fd, slot;

	fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_limited(&ctl->rl, LOG_LEVEL_WARNING,
				    "control socket: accept: %s",
				    strerror(errno));
		return;
	}
	if (!peer_allowed(fd)) {
		log_limited(&ctl->rl, LOG_LEVEL_WARNING,
			    "control socket: refused a client that is not "
			    "root");
		close(fd);
		return;
	}
	slot = slot_of(ctl);
	c = slot < 0 ? NULL : calloc(1, sizeof(*c));
	if (c == NULL) {
		/* Best effort; the client may not read it, and that is fine. */
		send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	ctl->clients[slot] = c;
	ev_io_init(&c->io, on_client, fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
	loop_defer_init(&c->idle, loop, on_idle, c);
	loop_defer_after(&c->idle, CTL_IDLE_MS);
}

/* A socket left by a daemon that died: we hold the pid lock, so remove it. */
static int
remove_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	if (unlink(path) == -1) {
		snprintf(err, errlen, "remove stale %s: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

struct ctl *
ctl_open(struct ev_loop *loop, const char *runtime_dir, ctl_handler handler,
	 void *arg, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct ctl *ctl;
	mode_t old;
	int rc;

	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		snprintf(err, errlen, "control socket: out of memory");
		return NULL;
	}
	ctl->loop = loop;
	ctl->handler = handler;
	ctl->arg = arg;
	ctl->fd = -1;
	ctl->rl.interval_ms = 10000;
	ctl->rl.burst = 5;
	if (ctl_socket_path(runtime_dir, ctl->path, sizeof(ctl->path)) == -1) {
		snprintf(err, errlen, "control socket path %s/%s too long",
			 runtime_dir, CTL_SOCKET_NAME);
		goto fail;
	}
	if (remove_stale(ctl->path, err, errlen) == -1)
		goto fail;
	ctl->fd =
	    socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd == -1)
		goto fail_errno;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, ctl->path, strlen(ctl->path) + 1);
	/* Created 0600 from the start: no window where others may connect. */
	old = umask(0177);
	rc = bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1 || chmod(ctl->path, 0600) == -1 ||
	    listen(ctl->fd, CTL_CLIENTS_MAX) == -1)
		goto fail_errno;
	ev_io_init(&ctl->io, on_accept, ctl->fd, EV_READ);
	ctl->io.data = ctl;
	ev_io_start(loop, &ctl->io);
	return ctl;
fail_errno:
	snprintf(err, errlen, "control socket %s: %s", ctl->path,
		 strerror(errno));
fail:
	if (ctl->fd != -1)
		close(ctl->fd);
	free(ctl);
	return NULL;
}

void
ctl_close(struct ctl *ctl)
{
	if (ctl == NULL)
		return;
	for (unsigned i = 0; i < CTL_CLIENTS_MAX; i++)
		if (ctl->clients[i] != NULL)
			client_free(ctl->clients[i]);
	ev_io_stop(ctl->loop, &ctl->io);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl);
}
