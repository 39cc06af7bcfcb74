/*
 * ec2_xml.h - the EC2 Query API's XML answers, parsed with expat: the
 * Elastic IP calls and the error document (ec2_xml.c), the network
 * interface and route table calls (ec2_xml_net.c). Pure: no I/O, no
 * globals; unit-tested and fuzzed (tests/fuzz/fuzz_ec2xml.c).
 */
#ifndef EIPFLOATD_EC2_XML_H
#define EIPFLOATD_EC2_XML_H

#include <stddef.h>

#define EC2_ID_MAX 64
#define EC2_CODE_MAX 64
#define EC2_MESSAGE_MAX 512
#define EC2_ADDRESSES_MAX 64

/* One item of DescribeAddresses' addressesSet; "" when absent. */
struct ec2_address {
	char allocation_id[EC2_ID_MAX];
	char public_ip[EC2_ID_MAX];
	char association_id[EC2_ID_MAX];
	char instance_id[EC2_ID_MAX];
	char network_interface_id[EC2_ID_MAX];
	char private_ip[EC2_ID_MAX];
	char domain[16];
};

/*
 * The first item of DescribeInstanceStatus' instanceStatusSet: the
 * instance's state ("running", "stopped", ...) and its two reachability
 * checks ("ok", "impaired", "not-applicable", ...); "" when absent.
 */
#define EC2_STATE_MAX 32
struct ec2_instance_status {
	char instance_id[EC2_ID_MAX];
	char state[EC2_STATE_MAX];
	char instance_status[EC2_STATE_MAX];
	char system_status[EC2_STATE_MAX];
};

/*
 * 1 when the instance cannot be serving: stopping, stopped, shutting-down,
 * terminated, or running with a reachability check "impaired"; why says
 * which ("stopped", "instance check impaired"). 0 otherwise (pending and
 * running instances, checks ok, initializing or insufficient-data).
 */
int ec2_instance_down(const struct ec2_instance_status *s, char *why,
		      size_t len);

/* <Response><Errors><Error><Code>/<Message> and <RequestID>. */
struct ec2_error {
	char code[EC2_CODE_MAX];
	char message[EC2_MESSAGE_MAX]; /* truncated if longer */
	char request_id[EC2_ID_MAX];
};

/*
 * Each returns 0, or -1 with a reason in err. Identifiers longer than their
 * field are an error, never truncated. An EC2 error document given to the
 * describe/associate parsers fails with "Code: Message" in err.
 */
int ec2_parse_describe_addresses(const char *xml, size_t len,
				 struct ec2_address *out, size_t max, size_t *n,
				 char *err, size_t errlen);
int ec2_parse_associate(const char *xml, size_t len, char *association_id,
			size_t idlen, char *err, size_t errlen);
/* *found is 0 when the set is empty (not running, no IncludeAllInstances). */
int ec2_parse_instance_status(const char *xml, size_t len,
			      struct ec2_instance_status *out, int *found,
			      char *err, size_t errlen);
int ec2_parse_error(const char *xml, size_t len, struct ec2_error *out,
		    char *err, size_t errlen);

/* ---- network interfaces and route tables (ec2_xml_net.c) ---- */

#define EC2_ENIS_MAX 16
#define EC2_ENI_IPS_MAX 64
#define EC2_ROUTE_TABLES_MAX 16

/* One item of DescribeNetworkInterfaces' networkInterfaceSet. */
struct ec2_eni {
	char id[EC2_ID_MAX];
	char subnet_id[EC2_ID_MAX];
	char az[EC2_ID_MAX];
	char mac[EC2_ID_MAX];
	char primary_ip[EC2_ID_MAX];
	char instance_id[EC2_ID_MAX]; /* "" when not attached */
	int device_index;	      /* -1 when not attached */
	char ips[EC2_ENI_IPS_MAX][EC2_ID_MAX]; /* every private IPv4 */
	unsigned nips;
};

/* One route table and its route to the destination asked about. */
struct ec2_route_table {
	char id[EC2_ID_MAX];
	int has_route; /* the table has a route for the destination */
	char eni[EC2_ID_MAX];	      /* its target, "" when another kind */
	char instance_id[EC2_ID_MAX]; /* shown for an instance's interface */
	char gateway[EC2_ID_MAX];     /* igw-, local, ... */
	char state[EC2_STATE_MAX];    /* active, blackhole */
};

int ec2_parse_network_interfaces(const char *xml, size_t len,
				 struct ec2_eni *out, size_t max, size_t *n,
				 char *err, size_t errlen);
/* Only the route whose destinationCidrBlock is `destination` is kept. */
int ec2_parse_route_tables(const char *xml, size_t len,
			   const char *destination,
			   struct ec2_route_table *out, size_t max, size_t *n,
			   char *err, size_t errlen);
/* DescribeNetworkInterfaceAttribute's sourceDestCheck: *value 1 or 0. */
int ec2_parse_source_dest_check(const char *xml, size_t len, int *value,
				char *err, size_t errlen);
/* The writes' answers: root, and <return> true when present. */
int ec2_parse_return(const char *xml, size_t len, const char *root,
		     char *err, size_t errlen);

#endif
