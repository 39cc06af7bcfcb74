/*
 * fuzz_ec2xml.c - every EC2 XML parser on the same arbitrary bytes: none may
 * crash, overrun a field or leave a string unterminated; the same bytes as
 * an answer's Date header, which may not crash the skew correction.
 */
#include "ec2.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_terminated(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *xml = (const char *)data;
	struct ec2_address addrs[4];
	struct ec2_error e;
	char id[EC2_ID_MAX], err[256];
	size_t n = 0, i;

	if (ec2_parse_describe_addresses(xml, size, addrs, 4, &n, err,
					 sizeof(err)) == 0) {
		if (n > 4)
			__builtin_trap();
		for (i = 0; i < n; i++) {
			check_terminated(addrs[i].allocation_id, EC2_ID_MAX);
			check_terminated(addrs[i].instance_id, EC2_ID_MAX);
			check_terminated(addrs[i].domain,
					 sizeof(addrs[i].domain));
		}
	} else {
		check_terminated(err, sizeof(err));
	}
	if (ec2_parse_associate(xml, size, id, sizeof(id), err, sizeof(err)) ==
	    0)
		check_terminated(id, sizeof(id));
	{
		struct ec2_instance_status s;
		int found;

		if (ec2_parse_instance_status(xml, size, &s, &found, err,
					      sizeof(err)) == 0) {
			check_terminated(s.instance_id, sizeof(s.instance_id));
			check_terminated(s.state, sizeof(s.state));
			check_terminated(s.instance_status,
					 sizeof(s.instance_status));
			check_terminated(s.system_status,
					 sizeof(s.system_status));
		}
	}
	if (ec2_parse_error(xml, size, &e, err, sizeof(err)) == 0) {
		check_terminated(e.code, sizeof(e.code));
		check_terminated(e.message, sizeof(e.message));
		check_terminated(e.request_id, sizeof(e.request_id));
	}
	check_terminated(err, sizeof(err));
	{
		char *date = malloc(size + 1);
		int64_t t, off;

		if (date == NULL)
			return 0;
		memcpy(date, data, size);
		date[size] = '\0';
		if (ec2_parse_http_date(date, &t) == 0 && t < 0)
			__builtin_trap();
		(void)ec2_skew_check(date, "RequestExpired", 1796166047, 0,
				     &off);
		free(date);
	}
	return 0;
}
