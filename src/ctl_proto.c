/*
 * ctl_proto.c - the control socket's request parser and answer framing.
 * Pure: the daemon feeds it whatever a local client sent, so it must
 * reject anything that is not exactly one known request (fuzz_ctl).
 */
#include "ctl_proto.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *line;
	enum ctl_command cmd;
	int force;
} commands[] = {
    {"status", CTL_CMD_STATUS, 0},
    {"status json", CTL_CMD_STATUS_JSON, 0},
    {"metrics", CTL_CMD_METRICS, 0},
    {"switchover", CTL_CMD_SWITCHOVER, 0},
    {"switchover force", CTL_CMD_SWITCHOVER, 1},
    {"maintenance on", CTL_CMD_MAINTENANCE_ON, 0},
    {"maintenance on force", CTL_CMD_MAINTENANCE_ON, 1},
    {"maintenance off", CTL_CMD_MAINTENANCE_OFF, 0},
};

static int
printable_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* The whole line must be one of the commands, byte for byte. */
static int
match(const char *line, size_t n, struct ctl_request *req)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strlen(commands[i].line) == n &&
		    memcmp(line, commands[i].line, n) == 0) {
			req->cmd = commands[i].cmd;
			req->force = commands[i].force;
			return 1;
		}
	}
	return 0;
}

enum ctl_parse
ctl_parse_request(const char *buf, size_t len, struct ctl_request *req,
		  size_t *used, char *err, size_t errlen)
{
	const char *nl =
	    memchr(buf, '\n', len < CTL_REQUEST_MAX ? len : CTL_REQUEST_MAX);
	size_t n;

	if (nl == NULL) {
		if (len >= CTL_REQUEST_MAX) {
			snprintf(err, errlen, "request longer than %d bytes",
				 CTL_REQUEST_MAX - 1);
			return CTL_PARSE_ERROR;
		}
		if (!printable_line(buf, len)) {
			snprintf(err, errlen, "request is not text");
			return CTL_PARSE_ERROR;
		}
		return CTL_PARSE_MORE;
	}
	n = (size_t)(nl - buf);
	if (!printable_line(buf, n)) {
		snprintf(err, errlen, "request is not text");
		return CTL_PARSE_ERROR;
	}
	if (!match(buf, n, req)) {
		snprintf(err, errlen, "unknown request \"%.*s\"",
			 (int)(n > 64 ? 64 : n), buf);
		return CTL_PARSE_ERROR;
	}
	*used = n + 1;
	return CTL_PARSE_OK;
}

size_t
ctl_format_request(const struct ctl_request *req, char *buf, size_t len)
{
	const char *line = "";
	int n;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].cmd == req->cmd &&
		    commands[i].force == (req->force != 0))
			line = commands[i].line;
	n = snprintf(buf, len, "%s\n", line);
	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

size_t
ctl_frame_header(int ok, size_t body_len, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s %zu\n", ok ? "OK" : "ERR", body_len);

	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

enum ctl_parse
ctl_parse_header(const char *buf, size_t len, int *ok, size_t *body_len,
		 size_t *used, char *err, size_t errlen)
{
	const char *nl =
	    memchr(buf, '\n', len < CTL_HEADER_MAX ? len : CTL_HEADER_MAX);
	const char *p;
	size_t v = 0, digits = 0;

	if (nl == NULL) {
		if (len >= CTL_HEADER_MAX) {
			snprintf(err, errlen, "answer header too long");
			return CTL_PARSE_ERROR;
		}
		return CTL_PARSE_MORE;
	}
	if (len >= 3 && memcmp(buf, "OK ", 3) == 0) {
		*ok = 1;
		p = buf + 3;
	} else if (len >= 4 && memcmp(buf, "ERR ", 4) == 0) {
		*ok = 0;
		p = buf + 4;
	} else {
		snprintf(err, errlen, "malformed answer header");
		return CTL_PARSE_ERROR;
	}
	for (; p < nl; p++, digits++) {
		if (*p < '0' || *p > '9' || digits >= 8) {
			snprintf(err, errlen, "malformed answer length");
			return CTL_PARSE_ERROR;
		}
		v = v * 10 + (size_t)(*p - '0');
	}
	if (digits == 0 || v > CTL_RESPONSE_MAX) {
		snprintf(err, errlen, "bad answer length");
		return CTL_PARSE_ERROR;
	}
	*body_len = v;
	*used = (size_t)(nl - buf) + 1;
	return CTL_PARSE_OK;
}
