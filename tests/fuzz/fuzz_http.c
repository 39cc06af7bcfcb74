/*
 * fuzz_http.c - libFuzzer target: arbitrary bytes as the raw HTTP answers
 * (status line, headers, body) of a loopback IMDS, through libcurl, http.c
 * and imds.c's token, role-name and credentials handling.
 *
 * The input is split at "\n===\n" into the answers to the 1st, 2nd, ...
 * request (the last one repeats). Retry back-offs are never waited for:
 * when nothing is in flight and no event comes within 5 ms, the run ends
 * (what follows a back-off is the same code with the next answer).
 */
#include "http.h"
#include "imds.h"

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEP "\n===\n"
#define PARTS_MAX 8

struct conn {
	ev_io io;
	char req[8192];
	size_t len;
};

static struct ev_loop *loop;
static int lfd = -1;
static ev_io accept_io;
static char endpoint[64];
static const uint8_t *part[PARTS_MAX];
static size_t part_len[PARTS_MAX];
static size_t nparts, served;
static int done, idle;
static ev_timer guard;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Text that reaches the log or a header: printable, one line. */
static void
check_text(const char *s, int allow_space)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f ||
		    (!allow_space && *s == ' '))
			abort();
}

static void
answer(struct conn *c)
{
	size_t i = served < nparts ? served : nparts - 1, off = 0;
	ssize_t n;

	served++;
	while (off < part_len[i]) {
		n = write(c->io.fd, part[i] + off, part_len[i] - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

static void
conn_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct conn *c = (struct conn *)w;
	ssize_t n;

	(void)revents;
	n = read(w->fd, c->req + c->len, sizeof(c->req) - 1 - c->len);
	if (n > 0) {
		c->len += (size_t)n;
		c->req[c->len] = '\0';
		/* Our requests have no body: the header block is all. */
		if (strstr(c->req, "\r\n\r\n") == NULL &&
		    c->len < sizeof(c->req) - 1)
			return;
		answer(c);
	}
	ev_io_stop(l, w);
	close(w->fd);
	free(c);
}

static void
accept_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct conn *c;
	int fd;

	(void)revents;
	fd = accept(w->fd, NULL, NULL);
	if (fd == -1)
		return;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	ev_io_init(&c->io, conn_cb, fd, EV_READ);
	ev_io_start(l, &c->io);
}

static void
got_creds(void *arg, const struct creds *creds, const char *role,
	  const char *err)
{
	(void)arg;
	done = 1;
	if (creds != NULL) {
		if (err != NULL || role == NULL || role[0] == '\0')
			abort();
		check_text(role, 0);
		check_text(creds->access_key_id, 0);
		check_text(creds->secret_access_key, 0);
		check_text(creds->session_token, 0);
		return;
	}
	if (err == NULL || err[0] == '\0')
		abort();
	check_text(err, 1);
	if (role != NULL)
		check_text(role, 0);
}

static void
guard_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	idle = 1;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	(void)argc;
	(void)argv;
	/* The endpoint below is loopback; the switch would fail every call. */
	unsetenv("AWS_EC2_METADATA_DISABLED");
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	loop = ev_loop_new(EVFLAG_AUTO);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (loop == NULL || lfd == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 64) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) == -1) {
		perror("fuzz_http: loopback listener");
		exit(1);
	}
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%u",
		 (unsigned)ntohs(sin.sin_port));
	ev_io_init(&accept_io, accept_cb, lfd, EV_READ);
	ev_io_start(loop, &accept_io);
	ev_init(&guard, guard_cb);
	return 0;
}

static void
split(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *s;

	nparts = 0;
	while (nparts < PARTS_MAX - 1 &&
	       (s = memmem(p, (size_t)(end - p), SEP, strlen(SEP))) != NULL) {
		part[nparts] = p;
		part_len[nparts++] = (size_t)(s - p);
		p = s + strlen(SEP);
	}
	part[nparts] = p;
	part_len[nparts++] = (size_t)(end - p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_ctx *http;
	struct imds_ctx *imds;
	int rounds = 0;

	split(data, size);
	served = 0;
	done = 0;
	http = http_new(loop);
	imds = imds_new(loop, http, endpoint, 1000);
	if (http == NULL || imds == NULL ||
	    imds_role_credentials(imds, got_creds, NULL) == NULL)
		abort();
	/* Bounded: every request is answered at once, or fails in 1 s. */
	idle = 0;
	while (!done && !idle && rounds++ < 10000) {
		if (http_inflight(http) == 0) {
			ev_timer_set(&guard, 0.005, 0.);
			ev_timer_start(loop, &guard);
		}
		ev_run(loop, EVRUN_ONCE);
		ev_timer_stop(loop, &guard);
	}
	imds_free(imds);
	http_free(http);
	/* Let the server side see the clients' closes. */
	ev_run(loop, EVRUN_NOWAIT);
	return 0;
}
