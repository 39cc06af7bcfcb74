/*
 * fuzz_sigv4.c - feeds arbitrary paths, queries, headers and tokens to
 * sigv4_sign: it must never overrun, and must either fail cleanly or
 * produce a well-formed Authorization value.
 *
 * Input: '\n'-separated fields: path, query, token, then header
 * name/value pairs; the whole input is also the payload.
 */
#include "sigv4.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS_MAX (3 + 2 * (SIGV4_HEADERS_MAX - 1))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sigv4_result res;
	struct sigv4_header h[SIGV4_HEADERS_MAX];
	struct sigv4_request req = {0};
	struct sigv4_credentials cred = {"AKIDEXAMPLE", "secret", NULL};
	char *buf, *fields[FIELDS_MAX], *s;
	size_t nf = 0, nh = 1;
	char enc[64];

	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (s = buf; nf < FIELDS_MAX;) {
		char *nl = strchr(s, '\n');

		fields[nf++] = s;
		if (nl == NULL)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	h[0].name = "Host";
	h[0].value = "ec2.us-east-1.amazonaws.com";
	for (size_t i = 3; i + 1 < nf && nh < SIGV4_HEADERS_MAX; i += 2) {
		h[nh].name = fields[i];
		h[nh++].value = fields[i + 1];
	}
	req.method = "POST";
	req.path = fields[0];
	req.query = nf > 1 ? fields[1] : "";
	cred.session_token = nf > 2 ? fields[2] : NULL;
	req.headers = h;
	req.nheaders = nh;
	req.payload = data;
	req.payload_len = size;
	req.region = "us-east-1";
	req.service = "ec2";
	req.when = (time_t)(size * 86399);
	req.normalize_path = size & 1;
	if (sigv4_sign(&req, &cred, &res) == 0) {
		if (strncmp(res.authorization,
			    "AWS4-HMAC-SHA256 Credential=", 28) != 0 ||
		    strlen(res.amz_date) != 16)
			abort();
	} else if (res.authorization[0] != '\0') {
		abort();
	}
	(void)sigv4_uri_encode(fields[0], (int)(size & 2), enc, sizeof(enc));
	free(buf);
	return 0;
}
