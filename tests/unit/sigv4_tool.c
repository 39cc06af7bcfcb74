/*
 * sigv4_tool.c - signs requests read from stdin and prints X-Amz-Date and
 * Authorization, so test_sigv4_botocore.sh can compare us with botocore.
 *
 * Input: lines "key value" (value = rest of the line, verbatim), keys
 * method, path, query, region, service, time (epoch seconds), access_key,
 * secret_key, token, normalize (0/1), header ("Name:value", repeatable),
 * body_hex (the payload in hex). A line "sign" signs what came before
 * and starts a new request. Output per request: "X-Amz-Date: ..." and
 * "Authorization: ..." lines, or "error ..." (then the exit status is 1).
 * With -v the canonical request and string to sign go to stderr.
 */
#include "sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tool_req {
	char *method, *path, *query, *region, *service;
	char *akid, *secret, *token;
	long long when;
	int normalize;
	struct sigv4_header headers[SIGV4_HEADERS_MAX];
	char *hdr_lines[SIGV4_HEADERS_MAX];
	size_t nheaders;
	unsigned char *body;
	size_t body_len;
	int bad;
};

static void
tool_reset(struct tool_req *t)
{
	free(t->method);
	free(t->path);
	free(t->query);
	free(t->region);
	free(t->service);
	free(t->akid);
	free(t->secret);
	free(t->token);
	for (size_t i = 0; i < t->nheaders; i++)
		free(t->hdr_lines[i]);
	free(t->body);
	memset(t, 0, sizeof(*t));
	t->normalize = 1;
}

static int
hexnib(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
set_body(struct tool_req *t, const char *hex)
{
	size_t n = strlen(hex);

	if (n % 2)
		return -1;
	free(t->body);
	t->body = malloc(n / 2 + 1);
	if (t->body == NULL)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexnib(hex[2 * i]), lo = hexnib(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		t->body[i] = (unsigned char)(hi << 4 | lo);
	}
	t->body_len = n / 2;
	return 0;
}

static int
add_header(struct tool_req *t, const char *line)
{
	char *copy, *colon;

	if (t->nheaders == SIGV4_HEADERS_MAX || (copy = strdup(line)) == NULL)
		return -1;
	colon = strchr(copy, ':');
	if (colon == NULL) {
		free(copy);
		return -1;
	}
	*colon = '\0';
	t->hdr_lines[t->nheaders] = copy;
	t->headers[t->nheaders].name = copy;
	t->headers[t->nheaders].value = colon + 1;
	t->nheaders++;
	return 0;
}

static int
set_field(struct tool_req *t, const char *key, const char *val)
{
	struct {
		const char *key;
		char **dst;
	} fields[] = {
	    {"method", &t->method},	{"path", &t->path},
	    {"query", &t->query},	{"region", &t->region},
	    {"service", &t->service},	{"access_key", &t->akid},
	    {"secret_key", &t->secret}, {"token", &t->token},
	};

	if (strcmp(key, "header") == 0)
		return add_header(t, val);
	if (strcmp(key, "body_hex") == 0)
		return set_body(t, val);
	if (strcmp(key, "time") == 0) {
		t->when = strtoll(val, NULL, 10);
		return 0;
	}
	if (strcmp(key, "normalize") == 0) {
		t->normalize = atoi(val);
		return 0;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(key, fields[i].key) == 0) {
			free(*fields[i].dst);
			*fields[i].dst = strdup(val);
			return *fields[i].dst ? 0 : -1;
		}
	}
	return -1;
}

static int
sign_and_print(const struct tool_req *t, int verbose)
{
	static struct sigv4_result res;
	struct sigv4_request req = {0};
	struct sigv4_credentials cred = {0};

	if (t->bad) {
		printf("error bad input line\n");
		return -1;
	}
	req.method = t->method;
	req.path = t->path ? t->path : "/";
	req.query = t->query ? t->query : "";
	req.headers = t->headers;
	req.nheaders = t->nheaders;
	req.payload = t->body;
	req.payload_len = t->body_len;
	req.region = t->region;
	req.service = t->service;
	req.when = (time_t)t->when;
	req.normalize_path = t->normalize;
	cred.access_key_id = t->akid;
	cred.secret_access_key = t->secret;
	cred.session_token = t->token;
	if (sigv4_sign(&req, &cred, &res) != 0) {
		printf("error sigv4_sign failed\n");
		return -1;
	}
	if (verbose)
		fprintf(stderr, "%s\n--\n%s\n--\n", res.canonical_request,
			res.string_to_sign);
	printf("X-Amz-Date: %s\nAuthorization: %s\n", res.amz_date,
	       res.authorization);
	return 0;
}

int
main(int argc, char **argv)
{
	struct tool_req t = {0};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	int rc = 0, pending = 0;

	tool_reset(&t);
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		char *sp;

		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (strcmp(line, "sign") == 0) {
			if (sign_and_print(&t, verbose) < 0)
				rc = 1;
			tool_reset(&t);
			pending = 0;
			continue;
		}
		sp = strchr(line, ' ');
		if (sp)
			*sp++ = '\0';
		if (set_field(&t, line, sp ? sp : "") < 0)
			t.bad = 1;
		pending = 1;
	}
	if (pending && sign_and_print(&t, verbose) < 0)
		rc = 1;
	tool_reset(&t);
	free(line);
	fflush(stdout);
	return rc;
}
