/*
 * test_imds.c - the IMDS parsers (JSON, role listing, times), then the
 * IMDSv2 client and the role-credential refresh against
 * the local emulator (tests/ec2emu.py) on 127.0.0.1: tokens, 401 renewal,
 * retries, identity, role credentials that expire in seconds, and
 * AWS_EC2_METADATA_DISABLED. Skips (77) without /usr/bin/python3.
 */
#include "check.h"
#include "creds.h"
#include "http.h"
#include "imds.h"
#include "imds_parse.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"
#define INST_A "i-0aaaaaaaaaaaaaaa1"
#define INST_B "i-0bbbbbbbbbbbbbbb2"
#define ROLE "eipfloatd-test-role"
#define CREDS_PATH "/latest/meta-data/iam/security-credentials/"

static struct ev_loop *loop;
static struct http_ctx *http;
static char dir[] = "/tmp/test_imds.XXXXXX";
static pid_t emu_pid = -1;
static char ec2_url[256], imds_a[256], imds_b[256];
static ev_timer tick;

static int
has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static char perr[2048];

/* ---- the pure parsers (imds_parse.c) ---- */

static void
test_role_json(void)
{
	struct creds c;
	uint64_t t;

	TEST("role_json_good");
	{
		const char *j = "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\","
				"\"AccessKeyId\":\"ASIAXYZ\","
				"\"SecretAccessKey\":\"s/k+\","
				"\"Token\":\"to/ken==\",\"Expiration\":"
				"\"2026-11-26T12:00:00Z\"}";
		CHECK(imds_parse_role_credentials(j, strlen(j), &c, perr,
						  sizeof(perr)) == 0);
		CHECK(strcmp(c.access_key_id, "ASIAXYZ") == 0);
		CHECK(strcmp(c.secret_access_key, "s/k+") == 0);
		CHECK(strcmp(c.session_token, "to/ken==") == 0);
		CHECK(c.expiration_ms == 1795694400000ull);
		CHECK(c.source == CREDS_IMDS);
	}

	TEST("role_json_code_not_success");
	{
		const char *j = "{\"Code\":\"AssumeRoleUnauthorizedAccess\","
				"\"Message\":\"not allowed\"}";
		CHECK(imds_parse_role_credentials(j, strlen(j), &c, perr,
						  sizeof(perr)) == -1);
		CHECK(has(perr, "AssumeRoleUnauthorizedAccess") &&
		      has(perr, "not allowed"));
	}

	TEST("role_json_missing_fields");
	{
		const char *j = "{\"Code\":\"Success\",\"AccessKeyId\":\"A\","
				"\"SecretAccessKey\":\"S3CR3T\","
				"\"Expiration\":\"2026-11-26T12:00:00Z\"}";
		CHECK(imds_parse_role_credentials(j, strlen(j), &c, perr,
						  sizeof(perr)) == -1);
		CHECK(has(perr, "Token is missing"));
		CHECK(c.secret_access_key[0] == '\0');
	}
	{
		const char *j = "{\"AccessKeyId\":\"A\"}";
		CHECK(imds_parse_role_credentials(j, strlen(j), &c, perr,
						  sizeof(perr)) == -1);
		CHECK(has(perr, "Code"));
	}

	TEST("role_json_bad_expiration");
	{
		const char *j = "{\"Code\":\"Success\",\"AccessKeyId\":\"A\","
				"\"SecretAccessKey\":\"S\",\"Token\":\"T\","
				"\"Expiration\":\"tomorrow\"}";
		CHECK(imds_parse_role_credentials(j, strlen(j), &c, perr,
						  sizeof(perr)) == -1);
		CHECK(has(perr, "Expiration"));
	}

	TEST("role_json_wrong_types_and_not_json");
	{
		const char *j = "{\"Code\":\"Success\",\"AccessKeyId\":7}";
		CHECK(imds_parse_role_credentials(j, strlen(j), &c, perr,
						  sizeof(perr)) == -1);
		CHECK(has(perr, "AccessKeyId is not a string"));
		CHECK(imds_parse_role_credentials("[1]", 3, &c, perr,
						  sizeof(perr)) == -1);
		CHECK(imds_parse_role_credentials("{\"SecretAccessKey\":"
						  "\"TOPSECRET",
						  30, &c, perr,
						  sizeof(perr)) == -1);
		CHECK(!has(perr, "TOPSECRET"));
	}

	TEST("role_json_header_injection_rejected");
	{
		const char *j = "{\"Code\":\"Success\",\"AccessKeyId\":\"A\","
				"\"SecretAccessKey\":\"S\",\"Token\":"
				"\"T\\r\\nX-Evil: 1\",\"Expiration\":"
				"\"2026-11-26T12:00:00Z\"}";
		CHECK(imds_parse_role_credentials(j, strlen(j), &c, perr,
						  sizeof(perr)) == -1);
	}

	TEST("iso8601_times");
	CHECK(imds_parse_time("1970-01-01T00:00:00Z", &t) == 0 && t == 0);
	CHECK(imds_parse_time("2026-11-26T12:00:00Z", &t) == 0 &&
	      t == 1795694400000ull);
	CHECK(imds_parse_time("2026-11-26T12:00:00.250Z", &t) == 0 &&
	      t == 1795694400250ull);
	CHECK(imds_parse_time("2026-11-26T14:00:00+02:00", &t) == 0 &&
	      t == 1795694400000ull);
	CHECK(imds_parse_time("2024-02-29T00:00:00Z", &t) == 0 &&
	      t == 1709164800000ull);
	CHECK(imds_parse_time("2023-02-29T00:00:00Z", &t) == -1);
	CHECK(imds_parse_time("2026-13-01T00:00:00Z", &t) == -1);
	CHECK(imds_parse_time("2026-11-26T24:00:00Z", &t) == -1);
	CHECK(imds_parse_time("2026-11-26T12:00:00", &t) == -1);
	CHECK(imds_parse_time("2026-11-26T12:00:00Zjunk", &t) == -1);
	CHECK(imds_parse_time("", &t) == -1);
	CHECK(imds_parse_time("1969-12-31T23:59:59Z", &t) == -1);
	CHECK(imds_parse_time("2026-11-26t12:00:00z", &t) == 0 &&
	      t == 1795694400000ull);
	CHECK(imds_parse_time("2026-11-26 12:00:00.25099Z", &t) == 0 &&
	      t == 1795694400250ull);
	CHECK(imds_parse_time("2026-11-26T06:30:00-0530", &t) == 0 &&
	      t == 1795694400000ull);
	CHECK(imds_parse_time("2026-12-31T23:59:60Z", &t) == 0 &&
	      t == 1798761600000ull);
	CHECK(imds_parse_time("2026-04-31T00:00:00Z", &t) == -1);
	CHECK(imds_parse_time("2026-1-05T00:00:00Z", &t) == -1);
	CHECK(imds_parse_time(" 2026-11-26T12:00:00Z", &t) == -1);
	CHECK(imds_parse_time("2026-11-26T12:00:00.Z", &t) == -1);
	CHECK(imds_parse_time("2026-11-26T12:00:00+24:00", &t) == -1);
	CHECK(imds_parse_time("2026-11-26T12:60:00Z", &t) == -1);
	CHECK(imds_parse_time("2026-11-26T12:00:61Z", &t) == -1);
	CHECK(imds_parse_time("1970-01-01T00:30:00+01:00", &t) == -1);
}

static void
test_identity_json(void)
{
	struct imds_identity id;
	const char *j = "{\"accountId\":\"123456789012\",\"availabilityZone\":"
			"\"eu-west-1a\",\"instanceId\":\"i-0abc\","
			"\"privateIp\":\"10.0.0.20\",\"region\":\"eu-west-1\","
			"\"version\":\"2017-09-30\"}";

	TEST("identity_document_good");
	CHECK(imds_parse_identity(j, strlen(j), &id, perr, sizeof(perr)) == 0);
	CHECK(strcmp(id.instance_id, "i-0abc") == 0);
	CHECK(strcmp(id.region, "eu-west-1") == 0);
	CHECK(strcmp(id.availability_zone, "eu-west-1a") == 0);
	CHECK(strcmp(id.account_id, "123456789012") == 0);
	CHECK(strcmp(id.private_ip, "10.0.0.20") == 0);

	TEST("identity_document_missing_region");
	j = "{\"instanceId\":\"i-0abc\",\"availabilityZone\":\"x\"}";
	CHECK(imds_parse_identity(j, strlen(j), &id, perr, sizeof(perr)) == -1);
	CHECK(has(perr, "region is missing"));
	CHECK(id.instance_id[0] == '\0');

	TEST("identity_document_region_with_space_rejected");
	j = "{\"instanceId\":\"i-0abc\",\"availabilityZone\":\"x\","
	    "\"region\":\"eu west\"}";
	CHECK(imds_parse_identity(j, strlen(j), &id, perr, sizeof(perr)) == -1);
}

static void
test_listing_and_token(void)
{
	char role[16];

	TEST("role_listing_names_the_role_on_its_first_line");
	CHECK(imds_parse_role_name("web-role\n", 9, role, sizeof(role)) == 0 &&
	      strcmp(role, "web-role") == 0);
	CHECK(imds_parse_role_name("  a+=,.@_-1\r\nx", 15, role,
				   sizeof(role)) == 0 &&
	      strcmp(role, "a+=,.@_-1") == 0);
	CHECK(imds_parse_role_name("", 0, role, sizeof(role)) == -1);
	CHECK(imds_parse_role_name("a/../b", 6, role, sizeof(role)) == -1 &&
	      role[0] == '\0');
	CHECK(imds_parse_role_name("waytoolongforthebuffer", 22, role,
				   sizeof(role)) == -1);

	TEST("session_token_must_be_printable_and_fit");
	CHECK(imds_token_ok("AQAEA-xyz==", 11, 64));
	CHECK(!imds_token_ok("", 0, 64));
	CHECK(!imds_token_ok("a b", 3, 64));
	CHECK(!imds_token_ok("abcd", 4, 4));
}

/* ---- the client against the emulator ---- */

static void
tick_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
}

/* Run the loop until *flag is set or ms have passed; 1 if it was set. */
static int
run_until(const int *flag, unsigned ms)
{
	uint64_t end = util_now_ms() + ms;

	ev_timer_start(loop, &tick);
	while (!*flag && util_now_ms() < end)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &tick);
	return *flag;
}

static void
run_for(unsigned ms)
{
	int never = 0;

	run_until(&never, ms);
}

/* ---- the emulator and its control API ---- */

struct ctl {
	int done;
	long status;
	char *body;
};

static void
ctl_done(void *arg, const struct http_response *resp)
{
	struct ctl *c = arg;

	c->status = resp->status;
	c->body = strdup(resp->body ? resp->body : "");
	c->done = 1;
}

/* One unsigned /_emu/ call; returns the parsed JSON answer or NULL. */
static json_t *
emu(const char *method, const char *path, const char *body)
{
	char url[512];
	struct ctl c = {0};
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	struct http_request req = {
	    .method = method,
	    .url = url,
	    .headers = hdrs,
	    .body = body,
	    .body_len = body ? strlen(body) : 0,
	    .timeout_ms = 5000,
	    .no_proxy = 1,
	};
	json_t *j;

	snprintf(url, sizeof(url), "%s%s", ec2_url, path);
	if (http_start(http, &req, ctl_done, &c) == NULL)
		return NULL;
	run_until(&c.done, 6000);
	if (!c.done || c.status != 200) {
		fprintf(stderr, "emu %s %s: HTTP %ld %s\n", method, path,
			c.status, c.body ? c.body : "");
		free(c.body);
		return NULL;
	}
	j = json_loads(c.body, 0, NULL);
	free(c.body);
	return j;
}

static int
emu_ok(const char *method, const char *path, const char *body)
{
	json_t *j = emu(method, path, body);

	json_decref(j);
	return j != NULL;
}

static long
last_seq(void)
{
	json_t *calls = emu("GET", "/_emu/calls?service=all", NULL);
	long seq = 0;
	size_t i;
	json_t *c;

	for (i = 0; i < json_array_size(calls); i++) {
		c = json_array_get(calls, i);
		long s = (long)json_integer_value(json_object_get(c, "seq"));
		if (s > seq)
			seq = s;
	}
	json_decref(calls);
	return seq;
}

/*
 * IMDS calls after `since` with this method, a path starting with
 * `prefix` and this status (-1: any). *first_wall gets the emulator's wall
 * time of the first one, in ms.
 */
static int
count_calls(long since, const char *method, const char *prefix, long status,
	    uint64_t *first_wall)
{
	char path[64];
	json_t *calls, *c;
	size_t i;
	int n = 0;

	snprintf(path, sizeof(path), "/_emu/calls?service=imds&since=%ld",
		 since);
	calls = emu("GET", path, NULL);
	for (i = 0; i < json_array_size(calls); i++) {
		c = json_array_get(calls, i);
		const char *m = json_string_value(json_object_get(c, "method"));
		const char *p = json_string_value(json_object_get(c, "path"));
		long st =
		    (long)json_integer_value(json_object_get(c, "status"));

		if (m == NULL || p == NULL || strcmp(m, method) != 0 ||
		    strncmp(p, prefix, strlen(prefix)) != 0 ||
		    (status != -1 && st != status))
			continue;
		if (n++ == 0 && first_wall != NULL)
			*first_wall =
			    (uint64_t)(json_real_value(
					   json_object_get(c, "wall")) *
				       1000);
	}
	json_decref(calls);
	return n;
}

static const char *
find_emulator(const char *argv0)
{
	static char buf[1024];
	char copy[1024];
	const char *srcdir = getenv("srcdir");
	const char *const cands[] = {"tests/ec2emu.py", "../ec2emu.py"};
	size_t i;

	if (getenv("EC2EMU") != NULL)
		return getenv("EC2EMU");
	for (i = 0; i < 2 && srcdir != NULL; i++) {
		snprintf(buf, sizeof(buf), "%s/%s", srcdir, cands[i]);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	util_strlcpy(copy, argv0, sizeof(copy));
	for (i = 0; i < 2; i++) {
		snprintf(buf, sizeof(buf), "%s/%s", dirname(copy), cands[i]);
		if (access(buf, R_OK) == 0)
			return buf;
		util_strlcpy(copy, argv0, sizeof(copy));
	}
	if (access("tests/ec2emu.py", R_OK) == 0)
		return "tests/ec2emu.py";
	return NULL;
}

static void
stop_emulator(void)
{
	int i, st;

	if (emu_pid <= 0)
		return;
	kill(emu_pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(emu_pid, &st, WNOHANG) == emu_pid) {
			emu_pid = -1;
			return;
		}
		usleep(50000);
	}
	kill(emu_pid, SIGKILL);
	waitpid(emu_pid, &st, 0);
	emu_pid = -1;
}

static int
read_ready(const char *path)
{
	json_t *j = json_load_file(path, 0, NULL);
	const char *e, *a, *b;

	if (j == NULL)
		return -1;
	e = json_string_value(json_object_get(j, "ec2"));
	a = json_string_value(json_object_get(j, "imds." INST_A));
	b = json_string_value(json_object_get(j, "imds." INST_B));
	if (e == NULL || a == NULL || b == NULL) {
		json_decref(j);
		return -1;
	}
	util_strlcpy(ec2_url, e, sizeof(ec2_url));
	util_strlcpy(imds_a, a, sizeof(imds_a));
	util_strlcpy(imds_b, b, sizeof(imds_b));
	json_decref(j);
	return 0;
}

static int
start_emulator(const char *script)
{
	char world[1024], ready[1024], logf[1024];
	uint64_t end;
	FILE *f;
	int fd;

	snprintf(world, sizeof(world), "%s/world.json", dir);
	snprintf(ready, sizeof(ready), "%s/ready.json", dir);
	snprintf(logf, sizeof(logf), "%s/ec2emu.log", dir);
	f = fopen(world, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
		"{\"region\": \"eu-west-1\", \"role\": \"" ROLE "\",\n"
		" \"instances\": [\n"
		"  {\"id\": \"" INST_A "\", \"private_ip\": \"10.0.0.20\","
		" \"az\": \"eu-west-1a\", \"imds_listen\": \"127.0.0.1:0\"},\n"
		"  {\"id\": \"" INST_B "\", \"private_ip\": \"10.0.1.20\","
		" \"az\": \"eu-west-1b\", \"imds_listen\": \"127.0.0.1:0\","
		" \"role\": \"\"}]}\n");
	fclose(f);
	emu_pid = fork();
	if (emu_pid == -1)
		return -1;
	if (emu_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
		execl(PYTHON, PYTHON, script, "--world", world, "--ready-file",
		      ready, (char *)NULL);
		_exit(127);
	}
	end = util_now_ms() + 15000;
	while (util_now_ms() < end) {
		int st;

		if (read_ready(ready) == 0)
			return 0;
		if (waitpid(emu_pid, &st, WNOHANG) == emu_pid) {
			emu_pid = -1;
			break;
		}
		usleep(50000);
	}
	fprintf(stderr, "ec2emu did not come up; see %s\n", logf);
	return -1;
}

/* ---- callbacks ---- */

struct res {
	int done;
	int ok;
	char body[4096];
	struct imds_identity id;
	struct creds c;
	char role[256];
	char err[2048];
};

static void
get_cb(void *arg, const char *body, size_t len, const char *err)
{
	struct res *r = arg;

	r->done++;
	r->ok = err == NULL;
	if (body != NULL && len < sizeof(r->body)) {
		memcpy(r->body, body, len);
		r->body[len] = '\0';
	}
	util_strlcpy(r->err, err ? err : "", sizeof(r->err));
}

static void
identity_cb(void *arg, const struct imds_identity *id, const char *err)
{
	struct res *r = arg;

	r->done++;
	r->ok = id != NULL;
	if (id != NULL)
		r->id = *id;
	util_strlcpy(r->err, err ? err : "", sizeof(r->err));
}

static void
role_cb(void *arg, const struct creds *c, const char *role, const char *err)
{
	struct res *r = arg;

	r->done++;
	r->ok = c != NULL;
	if (c != NULL)
		r->c = *c;
	util_strlcpy(r->role, role ? role : "", sizeof(r->role));
	util_strlcpy(r->err, err ? err : "", sizeof(r->err));
}

static void
creds_get_cb(void *arg, const struct creds *c, const char *err)
{
	struct res *r = arg;

	r->done++;
	r->ok = c != NULL;
	if (c != NULL)
		r->c = *c;
	util_strlcpy(r->err, err ? err : "", sizeof(r->err));
}

static void
imds_get_wait(struct imds_ctx *imds, const char *path, struct res *r)
{
	memset(r, 0, sizeof(*r));
	imds_get(imds, path, get_cb, r);
	CHECK(r->done == 0); /* never from inside imds_get */
	run_until(&r->done, 15000);
	CHECK(r->done == 1);
}

/* ---- the tests ---- */

static void
test_tokens(void)
{
	struct imds_ctx *imds = imds_new(loop, http, imds_a, 1000);
	struct res r;
	long seq;

	TEST("imds_token_then_identity");
	seq = last_seq();
	memset(&r, 0, sizeof(r));
	imds_identity(imds, identity_cb, &r);
	run_until(&r.done, 10000);
	CHECK(r.done == 1 && r.ok);
	CHECK(strcmp(r.id.instance_id, INST_A) == 0);
	CHECK(strcmp(r.id.region, "eu-west-1") == 0);
	CHECK(strcmp(r.id.availability_zone, "eu-west-1a") == 0);
	CHECK(count_calls(seq, "PUT", "/latest/api/token", 200, NULL) == 1);

	TEST("imds_token_reused_for_the_next_request");
	seq = last_seq();
	imds_get_wait(imds, "/latest/meta-data/instance-id", &r);
	CHECK(r.ok && strcmp(r.body, INST_A) == 0);
	CHECK(count_calls(seq, "PUT", "/latest/api/token", -1, NULL) == 0);

	TEST("imds_new_token_after_401");
	CHECK(emu_ok("POST", "/_emu/set", "{\"expire_imds_tokens\": true}"));
	seq = last_seq();
	imds_get_wait(imds, "/latest/meta-data/placement/region", &r);
	CHECK(r.ok && strcmp(r.body, "eu-west-1") == 0);
	CHECK(count_calls(seq, "GET", "/latest/meta-data/placement/region", 401,
			  NULL) == 1);
	CHECK(count_calls(seq, "PUT", "/latest/api/token", 200, NULL) == 1);
	CHECK(count_calls(seq, "GET", "/latest/meta-data/placement/region", 200,
			  NULL) == 1);

	TEST("imds_retries_a_500_and_a_dropped_connection");
	CHECK(emu_ok("POST", "/_emu/faults",
		     "[{\"target\": \"imds\", \"path\": "
		     "\"/latest/meta-data/local-ipv4\", \"status\": 500, "
		     "\"count\": 1}, {\"target\": \"imds\", \"path\": "
		     "\"/latest/meta-data/local-ipv4\", \"mode\": \"drop\", "
		     "\"count\": 1}]"));
	seq = last_seq();
	imds_get_wait(imds, "/latest/meta-data/local-ipv4", &r);
	CHECK(r.ok && strcmp(r.body, "10.0.0.20") == 0);
	CHECK(count_calls(seq, "GET", "/latest/meta-data/local-ipv4", -1,
			  NULL) == 3);

	TEST("imds_gives_up_after_three_tries");
	CHECK(emu_ok("POST", "/_emu/faults",
		     "{\"target\": \"imds\", \"path\": "
		     "\"/latest/meta-data/local-ipv4\", \"status\": 503, "
		     "\"count\": 3}"));
	imds_get_wait(imds, "/latest/meta-data/local-ipv4", &r);
	CHECK(!r.ok && has(r.err, "HTTP 503") && has(r.err, "3 tries"));

	TEST("imds_404_is_not_retried");
	seq = last_seq();
	imds_get_wait(imds, "/latest/meta-data/no-such-thing", &r);
	CHECK(!r.ok && has(r.err, "HTTP 404"));
	CHECK(count_calls(seq, "GET", "/latest/meta-data/no-such-thing", -1,
			  NULL) == 1);

	TEST("imds_cancel_runs_no_callback");
	memset(&r, 0, sizeof(r));
	imds_cancel(
	    imds_get(imds, "/latest/meta-data/instance-id", get_cb, &r));
	run_for(300);
	CHECK(r.done == 0);
	CHECK(http_inflight(http) == 0);

	TEST("imds_free_with_requests_in_flight");
	memset(&r, 0, sizeof(r));
	imds_get(imds, "/latest/meta-data/instance-id", get_cb, &r);
	imds_identity(imds, identity_cb, &r);
	imds_free(imds);
	run_for(300);
	CHECK(r.done == 0);
	CHECK(http_inflight(http) == 0);
}

static void
test_token_failures(void)
{
	struct imds_ctx *imds;
	struct res r;
	int fd;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char url[64];

	TEST("imds_token_refused_403_is_clear");
	imds = imds_new(loop, http, imds_a, 1000);
	CHECK(emu_ok("POST", "/_emu/faults",
		     "{\"target\": \"imds\", \"path\": \"/latest/api/token\", "
		     "\"status\": 403, \"count\": 1}"));
	imds_get_wait(imds, "/latest/meta-data/instance-id", &r);
	CHECK(!r.ok && has(r.err, "HTTP 403") && has(r.err, "refuses"));

	TEST("imds_token_timeout_mentions_hop_limit");
	CHECK(emu_ok("POST", "/_emu/faults",
		     "{\"target\": \"imds\", \"path\": \"/latest/api/token\", "
		     "\"mode\": \"delay\", \"ms\": 2500, \"count\": 3}"));
	imds_get_wait(imds, "/latest/meta-data/instance-id", &r);
	CHECK(!r.ok && has(r.err, "hop limit"));
	imds_free(imds);
	emu_ok("DELETE", "/_emu/faults", NULL);

	TEST("imds_connection_refused_fails_after_retries");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
	close(fd); /* nothing listens there now */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(sa.sin_port));
	imds = imds_new(loop, http, url, 1000);
	imds_get_wait(imds, "/latest/meta-data/instance-id", &r);
	CHECK(!r.ok && has(r.err, "IMDS PUT") && has(r.err, url));
	imds_free(imds);
}

static void
test_disabled(void)
{
	struct imds_ctx *imds;
	struct creds_ctx *creds;
	struct res r;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char url[64];
	int lfd, cfd;

	/* A listener of our own shows whether anybody tried to connect. */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(lfd, 8) == 0);
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(sa.sin_port));

	TEST("imds_disabled_fails_clearly_without_connecting");
	setenv("AWS_EC2_METADATA_DISABLED", "True", 1);
	imds = imds_new(loop, http, url, 1000);
	imds_get_wait(imds, "/latest/meta-data/instance-id", &r);
	CHECK(!r.ok && has(r.err, "AWS_EC2_METADATA_DISABLED=true") &&
	      has(r.err, "set aws.region"));
	CHECK(http_inflight(http) == 0);

	TEST("creds_chain_with_imds_disabled_says_so");
	creds = creds_new(loop, imds, "");
	memset(&r, 0, sizeof(r));
	creds_get(creds, creds_get_cb, &r);
	run_until(&r.done, 5000);
	CHECK(r.done == 1 && !r.ok && has(r.err, "AWS_EC2_METADATA_DISABLED"));
	creds_free(creds);
	imds_free(imds);
	run_for(200);
	cfd = accept(lfd, NULL, NULL);
	CHECK(cfd == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
	if (cfd >= 0)
		close(cfd);
	close(lfd);
	unsetenv("AWS_EC2_METADATA_DISABLED");
}

static void
test_role(void)
{
	struct imds_ctx *imds = imds_new(loop, http, imds_a, 1000);
	struct res r;

	TEST("imds_role_credentials");
	memset(&r, 0, sizeof(r));
	imds_role_credentials(imds, role_cb, &r);
	run_until(&r.done, 10000);
	CHECK(r.done == 1 && r.ok);
	CHECK(strcmp(r.role, ROLE) == 0);
	CHECK(strncmp(r.c.access_key_id, "ASIA", 4) == 0);
	CHECK(strlen(r.c.secret_access_key) > 20);
	CHECK(strlen(r.c.session_token) > 100);
	CHECK(r.c.source == CREDS_IMDS);
	CHECK(r.c.expiration_ms > util_wall_ms() + 3600 * 1000ull);
	imds_free(imds);

	TEST("imds_no_role_attached_is_clear");
	imds = imds_new(loop, http, imds_b, 1000);
	memset(&r, 0, sizeof(r));
	imds_identity(imds, identity_cb, &r);
	run_until(&r.done, 10000);
	CHECK(r.ok && strcmp(r.id.availability_zone, "eu-west-1b") == 0);
	memset(&r, 0, sizeof(r));
	imds_role_credentials(imds, role_cb, &r);
	run_until(&r.done, 10000);
	CHECK(r.done == 1 && !r.ok && has(r.err, "no IAM role"));
	imds_free(imds);
}

/*
 * Poll creds_get every 100 ms like a busy daemon would, until the access
 * key differs from `key` or an error comes, or `ms` pass.
 */
struct poll_state {
	struct creds_ctx *creds;
	const char *key;
	int stop, busy;
	unsigned async, errors, same;
	uint64_t last_same_wall;
	uint64_t stop_wall;
	struct res r;
};

static void
poll_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct poll_state *ps = w->data;

	(void)l;
	(void)revents;
	if (ps->busy || ps->stop)
		return;
	memset(&ps->r, 0, sizeof(ps->r));
	creds_get(ps->creds, creds_get_cb, &ps->r);
	if (ps->r.done == 0) {
		ps->async++;
		ps->busy = 1;
		run_until(&ps->r.done, 15000);
		ps->busy = 0;
	}
	if (!ps->r.ok) {
		ps->errors++;
		ps->stop = 1;
	} else if (strcmp(ps->r.c.access_key_id, ps->key) == 0) {
		ps->same++;
		ps->last_same_wall = util_wall_ms();
		return;
	}
	ps->stop = 1;
	ps->stop_wall = util_wall_ms();
	ev_timer_stop(loop, w);
}

static void
poll_creds(struct poll_state *ps, unsigned ms)
{
	ev_timer t;

	ev_timer_init(&t, poll_cb, 0.1, 0.1);
	t.data = ps;
	ev_timer_start(loop, &t);
	run_until(&ps->stop, ms);
	ev_timer_stop(loop, &t);
}

static void
test_refresh(void)
{
	struct imds_ctx *imds = imds_new(loop, http, imds_a, 1000);
	struct creds_ctx *creds;
	struct poll_state ps;
	struct res r;
	char key1[128], key2[128];
	uint64_t exp1, exp2, fail_wall = 0;
	long seq;

	CHECK(emu_ok("POST", "/_emu/set",
		     "{\"credential_ttl\": 8, \"expire_credentials\": true}"));
	creds = creds_new(loop, imds, "");

	TEST("creds_from_instance_role");
	memset(&r, 0, sizeof(r));
	creds_get(creds, creds_get_cb, &r);
	CHECK(r.done == 0);
	run_until(&r.done, 10000);
	CHECK(r.done == 1 && r.ok && r.c.source == CREDS_IMDS);
	CHECK(creds_current_source(creds) == CREDS_IMDS);
	util_strlcpy(key1, r.c.access_key_id, sizeof(key1));
	exp1 = r.c.expiration_ms;
	CHECK(creds_current_expiration(creds) == exp1);
	CHECK(exp1 > util_wall_ms() && exp1 < util_wall_ms() + 9000);

	TEST("creds_short_lived_refreshed_before_expiry");
	seq = last_seq();
	memset(&ps, 0, sizeof(ps));
	ps.creds = creds;
	ps.key = key1;
	poll_creds(&ps, 15000);
	CHECK(ps.stop && ps.errors == 0);
	CHECK(ps.async == 0); /* every caller got cached ones at once */
	CHECK(ps.same > 0);
	CHECK(ps.stop_wall != 0 && ps.stop_wall < exp1);
	CHECK(strcmp(ps.r.c.access_key_id, key1) != 0);
	CHECK(ps.r.c.expiration_ms > exp1);
	/* One refresh, not a storm. */
	CHECK(count_calls(seq, "GET", CREDS_PATH ROLE, 200, NULL) >= 1);
	CHECK(count_calls(seq, "GET", CREDS_PATH ROLE, 200, NULL) <= 2);
	util_strlcpy(key2, ps.r.c.access_key_id, sizeof(key2));
	exp2 = ps.r.c.expiration_ms;

	TEST("creds_failed_refresh_keeps_old_until_expiry");
	CHECK(emu_ok("POST", "/_emu/faults",
		     "{\"target\": \"imds\", \"path\": \"" CREDS_PATH "\", "
		     "\"status\": 500}"));
	seq = last_seq();
	memset(&ps, 0, sizeof(ps));
	ps.creds = creds;
	ps.key = key2;
	poll_creds(&ps, 20000);
	CHECK(ps.stop && ps.errors == 1);
	CHECK(has(ps.r.err, "HTTP 500"));
	CHECK(count_calls(seq, "GET", CREDS_PATH, 500, &fail_wall) >= 3);
	/* The first refresh failed, yet callers kept getting key2... */
	CHECK(fail_wall != 0 && ps.last_same_wall > fail_wall);
	/* ...but never once it had expired. */
	CHECK(ps.last_same_wall < exp2);
	/* Callers only had to wait once a tenth of the lifetime was left. */
	CHECK(ps.stop_wall + 1500 >= exp2);
	CHECK(creds_current_expiration(creds) == exp2);

	TEST("creds_recover_after_the_fault_clears");
	CHECK(emu_ok("DELETE", "/_emu/faults", NULL));
	memset(&r, 0, sizeof(r));
	creds_get(creds, creds_get_cb, &r);
	run_until(&r.done, 10000);
	CHECK(r.done == 1 && r.ok);
	CHECK(strcmp(r.c.access_key_id, key2) != 0);
	CHECK(r.c.expiration_ms > util_wall_ms());

	TEST("creds_invalidate_fetches_again_at_once");
	seq = last_seq();
	creds_invalidate(creds);
	CHECK(creds_current_source(creds) == CREDS_NONE);
	memset(&r, 0, sizeof(r));
	creds_get(creds, creds_get_cb, &r);
	creds_get(creds, creds_get_cb, &r); /* both wait for one fetch */
	run_until(&r.done, 10000);
	run_for(100);
	CHECK(r.done == 2 && r.ok);
	CHECK(count_calls(seq, "GET", CREDS_PATH ROLE, 200, NULL) == 1);

	TEST("creds_free_during_a_fetch_answers_the_waiters");
	creds_invalidate(creds);
	memset(&r, 0, sizeof(r));
	creds_get(creds, creds_get_cb, &r);
	CHECK(r.done == 0);
	creds_free(creds);
	CHECK(r.done == 1 && !r.ok && has(r.err, "shutting down"));
	imds_free(imds);
	run_for(200);
	CHECK(http_inflight(http) == 0);
	emu_ok("POST", "/_emu/set", "{\"credential_ttl\": 21600}");
}

int
main(int argc, char **argv)
{
	const char *script = find_emulator(argc > 0 ? argv[0] : "");
	(void)argc;

	test_role_json();
	test_identity_json();
	test_listing_and_token();
	if (access(PYTHON, X_OK) != 0 || script == NULL) {
		printf("SKIP: needs %s and tests/ec2emu.py (set EC2EMU)\n",
		       PYTHON);
		return 77;
	}
	log_init(LOG_LEVEL_WARNING);
	if (getenv("TEST_DEBUG"))
		log_set_level(LOG_LEVEL_DEBUG);
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	/* The test picks its endpoints; the default is never used. */
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	unsetenv("AWS_EC2_METADATA_DISABLED");
	/* Only the instance role may answer in the chain tests. */
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/eipfloatd", 1);
	loop = ev_default_loop(0);
	ev_timer_init(&tick, tick_cb, 0.05, 0.05);
	http = http_new(loop);
	if (http == NULL || start_emulator(script) == -1) {
		stop_emulator();
		return 1;
	}
	test_tokens();
	test_token_failures();
	test_disabled();
	test_role();
	test_refresh();
	http_free(http);
	stop_emulator();
	if (check_failures == 0) {
		char p[1100];
		snprintf(p, sizeof(p), "%s/world.json", dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/ready.json", dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/ec2emu.log", dir);
		unlink(p);
		rmdir(dir);
	} else {
		fprintf(stderr, "emulator log kept in %s\n", dir);
	}
	ev_loop_destroy(loop);
	return check_done();
}
