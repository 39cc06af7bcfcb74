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

/* The network interface and route table answers (ec2_xml_net.c). */
static void
fuzz_net(const char *xml, size_t size)
{
	static struct ec2_eni enis[3];
	struct ec2_route_table rt[3];
	char err[256];
	size_t n = 0;
	int v = -1;

	if (ec2_parse_network_interfaces(xml, size, enis, 3, &n, err,
					 sizeof(err)) == 0) {
		if (n > 3)
			__builtin_trap();
		for (size_t i = 0; i < n; i++) {
			if (enis[i].nips > EC2_ENI_IPS_MAX || enis[i].id[0] == 0)
				__builtin_trap();
			check_terminated(enis[i].id, EC2_ID_MAX);
			check_terminated(enis[i].subnet_id, EC2_ID_MAX);
			check_terminated(enis[i].primary_ip, EC2_ID_MAX);
			for (unsigned j = 0; j < enis[i].nips; j++)
				check_terminated(enis[i].ips[j], EC2_ID_MAX);
		}
	}
	check_terminated(err, sizeof(err));
	if (ec2_parse_route_tables(xml, size, "192.168.100.10/32", rt, 3, &n,
				   err, sizeof(err)) == 0) {
		if (n > 3)
			__builtin_trap();
		for (size_t i = 0; i < n; i++) {
			check_terminated(rt[i].id, EC2_ID_MAX);
			check_terminated(rt[i].eni, EC2_ID_MAX);
			check_terminated(rt[i].state, EC2_STATE_MAX);
		}
	}
	check_terminated(err, sizeof(err));
	if (ec2_parse_source_dest_check(xml, size, &v, err, sizeof(err)) ==
		0 &&
	    v != 0 && v != 1)
		__builtin_trap();
	ec2_parse_return(xml, size, "ReplaceRouteResponse", err, sizeof(err));
	check_terminated(err, sizeof(err));
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
	fuzz_net(xml, size);
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
