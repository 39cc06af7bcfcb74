/*
 * ctl_client.c - the client side of the control socket: one request, one
 * answer, printed as it came. Blocking with a timeout is fine here: this is
 * the operator's command, not the daemon.
 */
#include "ctl_client.h"
#include "checkaws.h"
#include "ctl.h"
#include "daemon.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define CLIENT_TIMEOUT_S 10
/*
 * switchover: the longest wait for the swap. The ACTIVE's own request
 * lapses sooner (3 x heartbeat.timeout_ms, status --json
 * "handover_pending" turns false): the client stops then; this bounds the
 * wait for the new ACTIVE's AssociateAddress.
 */
#define CLIENT_WAIT_S 30

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: eipfloatd status [--json] [--runtime-dir DIR]\n"
		"       eipfloatd metrics [--runtime-dir DIR]\n"
		"       eipfloatd switchover [--force] [--no-wait] "
		"[--runtime-dir DIR]\n"
		"       eipfloatd maintenance on|off [--force] [--no-wait] "
		"[--runtime-dir DIR]\n"
		"       eipfloatd check-aws [-c FILE] [-n NAME]\n");
}

static int
connect_daemon(const char *dir, int *fd_out)
{
	struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_S};
	char path[PATH_MAX];
	struct sockaddr_un sun;
	int fd;

	if (ctl_socket_path(dir, path, sizeof(path)) == -1) {
		fprintf(stderr,
			"eipfloatd: runtime directory %s: path too "
			"long for a socket\n",
			dir);
		return CTL_EXIT_USAGE;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		fprintf(stderr, "eipfloatd: socket: %s\n", strerror(errno));
		return CTL_EXIT_UNKNOWN;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int e = errno;

		close(fd);
		if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR) {
			fprintf(stderr,
				"eipfloatd is not running (no control socket "
				"at %s)\n",
				path);
			return CTL_EXIT_NOT_RUNNING;
		}
		fprintf(stderr, "eipfloatd: %s: %s%s\n", path, strerror(e),
			e == EACCES ? " (the control socket is root only)"
				    : "");
		return CTL_EXIT_UNKNOWN;
	}
	*fd_out = fd;
	return CTL_EXIT_OK;
}

static int
send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read until the header's length is in, or EOF; print the body, or with
 * `out` hand it over (malloc'd, NUL-terminated) instead.
 */
static int
read_answer(int fd, const char *what, char **out)
{
	size_t cap = 65536, len = 0, body = 0, hdr = 0;
	char *buf = malloc(cap), err[128];
	int ok = 0, have_hdr = 0, rc;

	if (buf == NULL)
		return CTL_EXIT_UNKNOWN;
	for (;;) {
		ssize_t n;

		if (!have_hdr) {
			switch (ctl_parse_header(buf, len, &ok, &body, &hdr,
						 err, sizeof(err))) {
			case CTL_PARSE_OK:
				have_hdr = 1;
				break;
			case CTL_PARSE_ERROR:
				fprintf(stderr, "eipfloatd %s: %s\n", what,
					err);
				free(buf);
				return CTL_EXIT_UNKNOWN;
			case CTL_PARSE_MORE:
				break;
			}
		}
		if (have_hdr && len >= hdr + body)
			break;
		if (len == cap) {
			char *bigger = cap > CTL_RESPONSE_MAX
					   ? NULL
					   : realloc(buf, cap * 2);

			if (bigger == NULL) {
				free(buf);
				return CTL_EXIT_UNKNOWN;
			}
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "eipfloatd %s: %s\n", what,
				n == 0 ? "the daemon closed the connection "
					 "before answering"
				       : strerror(errno));
			free(buf);
			return CTL_EXIT_UNKNOWN;
		}
		len += (size_t)n;
	}
	if (ok && out != NULL) {
		char *text = malloc(body + 1);

		if (text != NULL) {
			memcpy(text, buf + hdr, body);
			text[body] = '\0';
		}
		free(buf);
		*out = text;
		return text != NULL ? CTL_EXIT_OK : CTL_EXIT_UNKNOWN;
	}
	if (ok) {
		fwrite(buf + hdr, 1, body, stdout);
		rc = CTL_EXIT_OK;
	} else {
		fprintf(stderr, "eipfloatd %s: %.*s\n", what, (int)body,
			buf + hdr);
		rc = CTL_EXIT_REFUSED;
	}
	free(buf);
	return rc;
}

static int
ask_into(const char *dir, const struct ctl_request *req, const char *what,
	 char **out)
{
	char line[CTL_REQUEST_MAX];
	size_t n = ctl_format_request(req, line, sizeof(line));
	int fd = -1, rc;

	rc = connect_daemon(dir, &fd);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (send_all(fd, line, n) == -1) {
		fprintf(stderr, "eipfloatd %s: send: %s\n", what,
			strerror(errno));
		close(fd);
		return CTL_EXIT_UNKNOWN;
	}
	rc = read_answer(fd, what, out);
	close(fd);
	return rc;
}

static int
ask(const char *dir, const struct ctl_request *req, const char *what)
{
	return ask_into(dir, req, what, NULL);
}

/* The roles of this node and of the peer, from `status --json`. */
struct roles {
	char node[64], self[16], peer_name[64], peer[16];
	long long term, peer_term;
	int handover_pending;
};

static void
copy_str(char *dst, size_t len, json_t *v, const char *dflt)
{
	const char *s = json_string_value(v);

	snprintf(dst, len, "%s", s != NULL ? s : dflt);
}

static int
peek_roles(const char *dir, struct roles *r)
{
	struct ctl_request req = {.cmd = CTL_CMD_STATUS_JSON};
	json_t *j, *p;
	char *text = NULL;
	int rc = ask_into(dir, &req, "status", &text);

	if (rc != CTL_EXIT_OK)
		return rc;
	j = json_loads(text, 0, NULL);
	free(text);
	if (j == NULL) {
		fprintf(stderr, "eipfloatd: the status answer is not JSON\n");
		return CTL_EXIT_UNKNOWN;
	}
	p = json_object_get(j, "peer");
	copy_str(r->node, sizeof(r->node), json_object_get(j, "node"), "?");
	copy_str(r->self, sizeof(r->self), json_object_get(j, "state"), "?");
	copy_str(r->peer_name, sizeof(r->peer_name), json_object_get(p, "name"),
		 "?");
	copy_str(r->peer, sizeof(r->peer), json_object_get(p, "state"),
		 "unknown");
	if (!json_is_true(json_object_get(p, "alive")))
		snprintf(r->peer, sizeof(r->peer), "not alive");
	r->term = (long long)json_integer_value(json_object_get(j, "term"));
	r->handover_pending =
	    json_is_true(json_object_get(j, "handover_pending"));
	r->peer_term =
	    (long long)json_integer_value(json_object_get(p, "term"));
	json_decref(j);
	return CTL_EXIT_OK;
}

/*
 * After an accepted switchover (or maintenance on the ACTIVE): poll the
 * status until the two nodes have swapped roles, so the command returns
 * when the move is done and says so.
 */
static int
wait_swapped(const char *dir, const char *what, const struct roles *before)
{
	int was_active = strcmp(before->self, "ACTIVE") == 0;
	const char *want_self = was_active ? "STANDBY" : "ACTIVE";
	/* a forced takeover from a peer not heard: only this node can tell */
	const char *want_peer = was_active ? "ACTIVE"
				: strcmp(before->peer, "not alive") == 0
				    ? NULL
				    : "STANDBY";
	struct roles now = *before;

	for (int i = 0; i < CLIENT_WAIT_S * 10; i++) {
		int rc = peek_roles(dir, &now);

		if (rc != CTL_EXIT_OK)
			return rc;
		if (strcmp(now.self, want_self) == 0 &&
		    (want_peer == NULL || strcmp(now.peer, want_peer) == 0)) {
			printf("%s done: %s is ACTIVE (term %lld), %s %s\n",
			       what, was_active ? now.peer_name : now.node,
			       was_active ? now.peer_term : now.term,
			       was_active ? now.node : now.peer_name,
			       want_peer ? "is STANDBY" : "is not heard");
			return CTL_EXIT_OK;
		}
		/* our ACTIVE gave up asking: the peer never took over */
		if (was_active && strcmp(now.self, "ACTIVE") == 0 &&
		    !now.handover_pending && i > 0) {
			fprintf(stderr,
				"eipfloatd %s: peer %s did not take over "
				"before the switchover lapsed (3 x "
				"heartbeat.timeout_ms); %s stays ACTIVE, see "
				"eipfloatd status\n",
				what, now.peer_name, now.node);
			return CTL_EXIT_REFUSED;
		}
		usleep(100000);
	}
	fprintf(stderr,
		"eipfloatd %s: not done after %d s (%s is %s, peer %s is %s); "
		"see eipfloatd status\n",
		what, CLIENT_WAIT_S, now.node, now.self, now.peer_name,
		now.peer);
	return CTL_EXIT_REFUSED;
}

/* The options every control subcommand shares, and which one takes which. */
#define ARG_JSON 0x1u  /* status */
#define ARG_FORCE 0x2u /* switchover, maintenance */
#define ARG_WAIT 0x4u  /* switchover, maintenance: --no-wait */

struct ctl_args {
	const char *dir;
	int json, force, wait;
};

/*
 * Parse argv[1..] (argv[0] is the subcommand) into *a; *next is the first
 * operand. CTL_EXIT_OK to go on; -1 after --help (exit 0); CTL_EXIT_USAGE
 * after a usage message.
 */
static int
ctl_args_parse(int argc, char **argv, unsigned allow, struct ctl_args *a,
	       int *next)
{
	static const struct option longopts[] = {
	    {"runtime-dir", required_argument, NULL, 'R'},
	    {"json", no_argument, NULL, 'j'},
	    {"force", no_argument, NULL, 'f'},
	    {"no-wait", no_argument, NULL, 'W'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *bad = NULL;
	int c;

	a->dir = DAEMON_DEFAULT_RUNTIME_DIR;
	a->json = a->force = 0;
	a->wait = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'R':
			a->dir = optarg;
			break;
		case 'j':
			a->json = 1;
			if (!(allow & ARG_JSON))
				bad = "--json";
			break;
		case 'f':
			a->force = 1;
			if (!(allow & ARG_FORCE))
				bad = "--force";
			break;
		case 'W':
			a->wait = 0;
			if (!(allow & ARG_WAIT))
				bad = "--no-wait";
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (bad != NULL) {
		fprintf(stderr, "eipfloatd %s: unexpected argument \"%s\"\n",
			argv[0], bad);
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	*next = optind;
	return CTL_EXIT_OK;
}

static int
unexpected(const char *cmd, const char *arg)
{
	fprintf(stderr, "eipfloatd %s: unexpected argument \"%s\"\n", cmd, arg);
	usage(stderr);
	return CTL_EXIT_USAGE;
}

/* status [--json], metrics. */
static int
ctl_query(int argc, char **argv)
{
	struct ctl_request req = {.cmd = CTL_CMD_STATUS};
	int is_status = strcmp(argv[0], "status") == 0, next;
	struct ctl_args a;
	int rc = ctl_args_parse(argc, argv, is_status ? ARG_JSON : 0, &a, &next);

	if (rc != CTL_EXIT_OK)
		return rc == -1 ? CTL_EXIT_OK : rc;
	if (next != argc)
		return unexpected(argv[0], argv[next]);
	if (!is_status)
		req.cmd = CTL_CMD_METRICS;
	else if (a.json)
		req.cmd = CTL_CMD_STATUS_JSON;
	return ask(a.dir, &req, argv[0]);
}

/* switchover [--force], maintenance on|off [--force]: the daemon decides. */
static int
ctl_operate(int argc, char **argv)
{
	struct ctl_request req = {.cmd = CTL_CMD_SWITCHOVER};
	int is_maint = strcmp(argv[0], "maintenance") == 0, next;
	const char *onoff = NULL;
	struct roles before;
	struct ctl_args a;
	int rc = ctl_args_parse(argc, argv, ARG_FORCE | ARG_WAIT, &a, &next);

	if (rc != CTL_EXIT_OK)
		return rc == -1 ? CTL_EXIT_OK : rc;
	req.force = a.force;
	if (is_maint && next < argc)
		onoff = argv[next++];
	if (next != argc)
		return unexpected(argv[0], argv[next]);
	if (is_maint) {
		if (onoff != NULL && strcmp(onoff, "on") == 0) {
			req.cmd = CTL_CMD_MAINTENANCE_ON;
		} else if (onoff != NULL && strcmp(onoff, "off") == 0 &&
			   !req.force) {
			req.cmd = CTL_CMD_MAINTENANCE_OFF;
		} else {
			fprintf(stderr, "eipfloatd maintenance: say on or off "
					"(--force only with on)\n");
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (req.cmd == CTL_CMD_MAINTENANCE_OFF || !a.wait)
		return ask(a.dir, &req, argv[0]);
	rc = peek_roles(a.dir, &before);
	if (rc != CTL_EXIT_OK)
		return rc;
	rc = ask(a.dir, &req, argv[0]);
	fflush(stdout);
	if (rc != CTL_EXIT_OK)
		return rc;
	/* maintenance on: only an ACTIVE node with a STANDBY peer hands over */
	if (req.cmd == CTL_CMD_MAINTENANCE_ON &&
	    (strcmp(before.self, "ACTIVE") != 0 ||
	     strcmp(before.peer, "STANDBY") != 0))
		return CTL_EXIT_OK;
	return wait_swapped(a.dir, argv[0], &before);
}

int
ctl_client_main(int argc, char **argv)
{
	if (strcmp(argv[0], "status") == 0 || strcmp(argv[0], "metrics") == 0)
		return ctl_query(argc, argv);
	if (strcmp(argv[0], "switchover") == 0 ||
	    strcmp(argv[0], "maintenance") == 0)
		return ctl_operate(argc, argv);
	if (strcmp(argv[0], "check-aws") == 0)
		return checkaws_main(argc, argv);
	fprintf(stderr,
		"eipfloatd: unknown subcommand \"%s\" (status, metrics, "
		"switchover, maintenance, check-aws; see eipfloatd(8))\n",
		argv[0]);
	return CTL_EXIT_USAGE;
}
