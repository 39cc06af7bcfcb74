/*
 * ctl_proto.h - the control socket's protocol, pure: parse one request line,
 * frame and parse the answer's header. The I/O is in ctl.c (server) and
 * ctl_client.c (the subcommands).
 *
 * Request: one line of printable ASCII, words separated by single spaces,
 * ended by "\n", at most CTL_REQUEST_MAX bytes with the newline:
 *   status | status json | metrics | switchover [force]
 *   | maintenance on [force] | maintenance off
 * Answer: "OK <length>\n" or "ERR <length>\n", then exactly <length> bytes
 * of body (the text, the JSON, the exposition, or the error message), then
 * the server closes the connection.
 */
#ifndef EIPFLOATD_CTL_PROTO_H
#define EIPFLOATD_CTL_PROTO_H

#include <stddef.h>

#define CTL_REQUEST_MAX 256
#define CTL_HEADER_MAX 32
#define CTL_RESPONSE_MAX (4u << 20) /* 4 MiB: far above any real status */

enum ctl_command {
	CTL_CMD_STATUS,
	CTL_CMD_STATUS_JSON,
	CTL_CMD_METRICS,
	CTL_CMD_SWITCHOVER,
	CTL_CMD_MAINTENANCE_ON,
	CTL_CMD_MAINTENANCE_OFF,
};

struct ctl_request {
	enum ctl_command cmd;
	int force; /* switchover, maintenance on: --force */
};

enum ctl_parse {
	CTL_PARSE_MORE,	 /* no newline yet and still under the limit */
	CTL_PARSE_OK,	 /* *used bytes make one valid request */
	CTL_PARSE_ERROR, /* err says why; the connection should be closed */
};

/* Parse the request at the start of buf[0..len). */
enum ctl_parse ctl_parse_request(const char *buf, size_t len,
				 struct ctl_request *req, size_t *used,
				 char *err, size_t errlen);

/* The request line for req (with its newline) into buf; its length. */
size_t ctl_format_request(const struct ctl_request *req, char *buf, size_t len);

/* "OK <n>\n" / "ERR <n>\n" into buf (>= CTL_HEADER_MAX); its length. */
size_t ctl_frame_header(int ok, size_t body_len, char *buf, size_t len);

/*
 * Parse an answer header at the start of buf[0..len): *ok, *body_len
 * (<= CTL_RESPONSE_MAX) and *used (the header's length with its newline).
 */
enum ctl_parse ctl_parse_header(const char *buf, size_t len, int *ok,
				size_t *body_len, size_t *used, char *err,
				size_t errlen);

#endif
