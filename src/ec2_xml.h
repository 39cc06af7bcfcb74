/*
 * ec2_xml.h - the EC2 Query API's XML answers (DescribeAddresses,
 * AssociateAddress, DescribeInstanceStatus, the error document), parsed with expat. Pure: no I/O,
 * no globals; unit-tested and fuzzed (tests/fuzz/fuzz_ec2xml.c).
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

#endif
