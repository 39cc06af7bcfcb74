/*
 * test_http.c - the libcurl/libev glue against a local Python server:
 * answers, timeouts, oversized and dropped answers, cancel, and above all
 * that a hung request never stalls the loop.
 */
#include "check.h"
#include "pyserver.h"
#include "http.h"
#include "log.h"
#include "util.h"

#include <ev.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PYTHON PYSERVER_PYTHON

/* Paths: /normal, /slow, /hang, /huge, /close, /peer, /echo (POST/PUT). */
static const char server_py[] =
    "import http.server, socketserver, sys, time\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def log_message(self, *a): pass\n"
    "    def reply(self, code, body):\n"
    "        self.send_response(code)\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def any(self):\n"
    "        n = int(self.headers.get('Content-Length') or 0)\n"
    "        data = self.rfile.read(n) if n else b''\n"
    "        p = self.path\n"
    "        if p == '/normal': self.reply(200, b'hello')\n"
    "        elif p == '/slow':\n"
    "            time.sleep(0.3); self.reply(200, b'slow')\n"
    "        elif p == '/hang':\n"
    "            time.sleep(8); self.close_connection = True\n"
    "        elif p == '/huge':\n"
    "            self.reply(200, b'x' * (2 * 1024 * 1024))\n"
    "        elif p == '/hugechunked':\n"
    "            self.send_response(200)\n"
    "            self.send_header('Connection', 'close')\n"
    "            self.end_headers()\n"
    "            for i in range(40): self.wfile.write(b'y' * 65536)\n"
    "            self.close_connection = True\n"
    "        elif p == '/close': self.close_connection = True\n"
    "        elif p == '/peer':\n"
    "            self.reply(200, str(self.client_address[1]).encode())\n"
    "        elif p == '/echo':\n"
    "            ct = self.headers.get('X-Test') or ''\n"
    "            self.reply(201, (self.command + ' ' + ct + ' ').encode()"
    " + data)\n"
    "        elif p == '/503': self.reply(503, b'busy')\n"
    "        else: self.reply(404, b'no')\n"
    "    do_GET = do_POST = do_PUT = any\n"
    "class S(socketserver.ThreadingMixIn, http.server.HTTPServer):\n"
    "    daemon_threads = True\n"
    "    def handle_error(self, *a): pass\n"
    "s = S(('127.0.0.1', 0), H)\n"
    "print(s.server_address[1], flush=True)\n"
    "threading = __import__('threading')\n"
    "threading.Timer(60, lambda: __import__('os')._exit(0)).start()\n"
    "s.serve_forever()\n";

static pid_t server_pid = -1;
static int server_port;

/* Start the server; its first stdout line is the port it listens on. */
static int
server_start(void)
{
	server_port = pyserver_start(server_py, &server_pid);
	return server_port > 0 ? 0 : -1;
}

static void
server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = -1;
	}
}

struct result {
	int done;
	long status;
	int transport_error;
	char body[256];
	char error[256];
	size_t body_len;
	uint64_t elapsed_ms;
	struct ev_loop *loop;
	int stop_loop;
};

static void
on_done(void *arg, const struct http_response *resp)
{
	struct result *r = arg;

	r->done++;
	r->status = resp->status;
	r->transport_error = resp->transport_error;
	r->body_len = resp->body_len;
	r->elapsed_ms = resp->elapsed_ms;
	util_strlcpy(r->body, resp->body, sizeof(r->body));
	util_strlcpy(r->error, resp->error ? resp->error : "",
		     sizeof(r->error));
	if (r->stop_loop)
		ev_break(r->loop, EVBREAK_ALL);
}

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop until r->done or the guard (bounded) fires. */
static void
run_until_done(struct ev_loop *loop, struct result *r, double guard_s)
{
	ev_timer guard;

	r->loop = loop;
	r->stop_loop = 1;
	ev_timer_init(&guard, guard_cb, guard_s, 0.);
	ev_timer_start(loop, &guard);
	if (!r->done)
		ev_run(loop, 0);
	ev_timer_stop(loop, &guard);
}

static void
url(char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "http://127.0.0.1:%d%s", server_port, path);
}

static void
get(struct http_ctx *http, struct ev_loop *loop, const char *path,
    unsigned timeout_ms, struct result *r)
{
	char u[128];
	struct http_request req = {.method = "GET", .timeout_ms = timeout_ms};

	memset(r, 0, sizeof(*r));
	url(u, sizeof(u), path);
	req.url = u;
	CHECK(http_start(http, &req, on_done, r) != NULL);
	/* Never from inside http_start. */
	CHECK(r->done == 0);
	run_until_done(loop, r, 15.);
}

static void
test_normal(struct http_ctx *http, struct ev_loop *loop)
{
	struct result r;

	TEST("normal_answer_gives_status_and_body");
	get(http, loop, "/normal", 2000, &r);
	CHECK(r.done == 1);
	CHECK(r.status == 200);
	CHECK(r.transport_error == 0);
	CHECK(strcmp(r.body, "hello") == 0);
	CHECK(r.body_len == 5);
	CHECK(http_inflight(http) == 0);

	TEST("error_status_is_an_answer_not_a_transport_error");
	get(http, loop, "/503", 2000, &r);
	CHECK(r.done == 1 && r.status == 503 && r.transport_error == 0);
	CHECK(strcmp(r.body, "busy") == 0);
}

static void
test_post_put(struct http_ctx *http, struct ev_loop *loop)
{
	struct result r;
	char u[128];
	const char *hdrs[] = {"X-Test: abc", NULL};
	struct http_request req = {.method = "POST",
				   .headers = hdrs,
				   .body = "a=1&b=2",
				   .body_len = 7,
				   .timeout_ms = 2000};

	TEST("post_sends_headers_and_body");
	memset(&r, 0, sizeof(r));
	url(u, sizeof(u), "/echo");
	req.url = u;
	CHECK(http_start(http, &req, on_done, &r) != NULL);
	run_until_done(loop, &r, 10.);
	CHECK(r.status == 201);
	CHECK(strcmp(r.body, "POST abc a=1&b=2") == 0);

	TEST("put_with_empty_body_works");
	memset(&r, 0, sizeof(r));
	req.method = "PUT";
	req.body = NULL;
	req.body_len = 0;
	CHECK(http_start(http, &req, on_done, &r) != NULL);
	run_until_done(loop, &r, 10.);
	CHECK(r.status == 201);
	CHECK(strcmp(r.body, "PUT abc ") == 0);
}

static void
test_reuse(struct http_ctx *http, struct ev_loop *loop)
{
	struct result a, b;

	TEST("sequential_requests_reuse_the_connection");
	get(http, loop, "/peer", 2000, &a);
	get(http, loop, "/peer", 2000, &b);
	CHECK(a.status == 200 && b.status == 200);
	CHECK(a.body[0] != '\0' && strcmp(a.body, b.body) == 0);
}

struct ticker {
	ev_timer w;
	unsigned ticks;
};

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	((struct ticker *)w->data)->ticks++;
}

static void
test_hang_does_not_block(struct http_ctx *http, struct ev_loop *loop)
{
	struct ticker t;
	struct result r;
	uint64_t t0, dt;
	unsigned expected;

	TEST("hung_request_times_out_and_the_loop_keeps_ticking");
	t.ticks = 0;
	ev_timer_init(&t.w, tick_cb, 0.02, 0.02);
	t.w.data = &t;
	ev_now_update(loop);
	ev_timer_start(loop, &t.w);
	t0 = util_now_ms();
	get(http, loop, "/hang", 2000, &r);
	dt = util_now_ms() - t0;
	ev_timer_stop(loop, &t.w);
	CHECK(r.done == 1);
	CHECK(r.status == 0);
	CHECK(r.transport_error != 0);
	CHECK(dt >= 1800 && dt < 4000);
	CHECK(r.elapsed_ms >= 1800 && r.elapsed_ms < 4000);
	expected = (unsigned)(dt / 20);
	fprintf(stderr, "# %u ticks in %llu ms (expected ~%u)\n", t.ticks,
		(unsigned long long)dt, expected);
	CHECK(t.ticks * 100 >= expected * 80);
}

static void
test_failures(struct http_ctx *http, struct ev_loop *loop)
{
	struct result r;
	uint64_t t0;

	TEST("slow_answer_within_timeout_succeeds");
	get(http, loop, "/slow", 2000, &r);
	CHECK(r.status == 200 && strcmp(r.body, "slow") == 0);
	CHECK(r.elapsed_ms >= 250);

	TEST("slow_answer_beyond_timeout_fails_at_the_timeout");
	t0 = util_now_ms();
	get(http, loop, "/slow", 100, &r);
	CHECK(r.status == 0 && r.transport_error != 0);
	CHECK(util_now_ms() - t0 < 290);

	TEST("body_over_the_limit_fails_the_request");
	get(http, loop, "/huge", 5000, &r);
	CHECK(r.done == 1 && r.status == 0 && r.transport_error != 0);
	CHECK(r.body_len == 0);
	/* Announced by Content-Length or streamed: the same clear reason. */
	CHECK(strstr(r.error, "larger than") != NULL);
	get(http, loop, "/hugechunked", 5000, &r);
	CHECK(r.done == 1 && r.status == 0 && r.transport_error != 0);
	CHECK(strstr(r.error, "larger than") != NULL);

	TEST("connection_closed_without_answer_is_a_transport_error");
	get(http, loop, "/close", 2000, &r);
	CHECK(r.done == 1 && r.status == 0 && r.transport_error != 0);

	TEST("connection_refused_is_a_transport_error");
	{
		char u[64];
		struct http_request req = {.method = "GET", .url = u};

		/* Port 1 on loopback: nothing listens there in a test box. */
		snprintf(u, sizeof(u), "http://127.0.0.1:1/");
		memset(&r, 0, sizeof(r));
		CHECK(http_start(http, &req, on_done, &r) != NULL);
		run_until_done(loop, &r, 10.);
		CHECK(r.done == 1 && r.transport_error != 0);
	}
}

static void
test_proxy_env(struct http_ctx *http, struct ev_loop *loop)
{
	struct result r;
	char u[128];
	struct http_request req = {.method = "GET", .timeout_ms = 2000};

	TEST("no_proxy_ignores_the_proxy_environment");
	/* A proxy that refuses connections: only bypassing it can work. */
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	url(u, sizeof(u), "/normal");
	req.url = u;
	memset(&r, 0, sizeof(r));
	CHECK(http_start(http, &req, on_done, &r) != NULL);
	run_until_done(loop, &r, 10.);
	CHECK(r.done == 1 && r.transport_error != 0);

	req.no_proxy = 1;
	memset(&r, 0, sizeof(r));
	CHECK(http_start(http, &req, on_done, &r) != NULL);
	run_until_done(loop, &r, 10.);
	CHECK(r.done == 1 && r.status == 200);
	unsetenv("http_proxy");
}

static void
test_cancel(struct http_ctx *http, struct ev_loop *loop)
{
	struct result r, other;
	struct http_call *call;
	char u[128];
	struct http_request req = {.method = "GET", .timeout_ms = 3000};

	TEST("cancelled_request_never_calls_back");
	memset(&r, 0, sizeof(r));
	url(u, sizeof(u), "/hang");
	req.url = u;
	call = http_start(http, &req, on_done, &r);
	CHECK(call != NULL);
	/* Let it connect and send, then cancel while it waits. */
	get(http, loop, "/slow", 2000, &other);
	CHECK(other.status == 200);
	CHECK(http_inflight(http) == 1);
	http_cancel(call);
	CHECK(http_inflight(http) == 0);
	get(http, loop, "/normal", 2000, &other);
	CHECK(other.status == 200);
	CHECK(r.done == 0);
}

static void
on_done_free(void *arg, const struct http_response *resp)
{
	struct http_ctx **http = arg;

	(void)resp;
	http_free(*http);
	*http = NULL;
}

static void
test_free_in_flight(struct ev_loop *loop)
{
	struct http_ctx *http = http_new(loop);
	struct result r1, r2;
	char u1[128], u2[128];
	struct http_request req = {.method = "GET", .timeout_ms = 3000};

	TEST("free_with_requests_in_flight_cancels_them");
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	url(u1, sizeof(u1), "/hang");
	url(u2, sizeof(u2), "/slow");
	req.url = u1;
	CHECK(http_start(http, &req, on_done, &r1) != NULL);
	req.url = u2;
	CHECK(http_start(http, &req, on_done, &r2) != NULL);
	CHECK(http_inflight(http) == 2);
	{
		ev_timer guard;

		ev_timer_init(&guard, guard_cb, 0.1, 0.);
		ev_timer_start(loop, &guard);
		ev_run(loop, 0);
		ev_timer_stop(loop, &guard);
	}
	http_free(http);
	CHECK(r1.done == 0 && r2.done == 0);

	TEST("free_from_inside_a_callback_is_safe");
	http = http_new(loop);
	req.url = u2;
	CHECK(http_start(http, &req, on_done_free, &http) != NULL);
	req.url = u1;
	CHECK(http_start(http, &req, on_done, &r1) != NULL);
	{
		ev_timer guard;

		ev_timer_init(&guard, guard_cb, 3., 0.);
		ev_timer_start(loop, &guard);
		while (http != NULL && ev_is_active(&guard))
			ev_run(loop, EVRUN_ONCE);
		ev_timer_stop(loop, &guard);
	}
	CHECK(http == NULL);
	CHECK(r1.done == 0);
	if (http != NULL)
		http_free(http);
}

int
main(void)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct http_ctx *http;

	log_init(LOG_LEVEL_DEBUG);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	if (server_start() == -1) {
		fprintf(stderr, "skip: cannot start %s test server\n", PYTHON);
		server_stop();
		return 77;
	}
	http = http_new(loop);
	CHECK(http != NULL);
	if (http != NULL) {
		test_normal(http, loop);
		test_post_put(http, loop);
		test_reuse(http, loop);
		test_failures(http, loop);
		test_hang_does_not_block(http, loop);
		test_proxy_env(http, loop);
		test_cancel(http, loop);
		http_free(http);
	}
	test_free_in_flight(loop);
	server_stop();
	ev_loop_destroy(loop);
	return check_done();
}
