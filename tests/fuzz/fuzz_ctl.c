/*
 * fuzz_ctl.c - libFuzzer target: arbitrary bytes as what a local client
 * sends to the control socket, and as what a client reads back. Never a
 * crash; an accepted request re-formats to the very bytes consumed; an
 * accepted header never claims more than CTL_RESPONSE_MAX.
 */
#include "ctl_proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct ctl_request req;
	char err[128], line[CTL_REQUEST_MAX];
	size_t used = 0, body = 0, n;
	int ok = -1;

	switch (ctl_parse_request(buf, size, &req, &used, err, sizeof(err))) {
	case CTL_PARSE_OK:
		n = ctl_format_request(&req, line, sizeof(line));
		if (used > size || n != used || memcmp(line, buf, n) != 0)
			abort();
		break;
	case CTL_PARSE_MORE:
		if (size >= CTL_REQUEST_MAX || memchr(buf, '\n', size))
			abort();
		break;
	case CTL_PARSE_ERROR:
		if (err[0] == '\0')
			abort();
		break;
	}
	switch (
	    ctl_parse_header(buf, size, &ok, &body, &used, err, sizeof(err))) {
	case CTL_PARSE_OK:
		if (body > CTL_RESPONSE_MAX || used > size ||
		    (ok != 0 && ok != 1))
			abort();
		break;
	case CTL_PARSE_MORE:
	case CTL_PARSE_ERROR:
		break;
	}
	return 0;
}
