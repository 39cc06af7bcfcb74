/*
 * test_ec2_net.c - the answers of the network interface and route table
 * calls (ec2_xml_net.c): what each parser takes, what it refuses.
 */
#include "check.h"
#include "ec2.h"

#include <stdio.h>
#include <string.h>

#define NS "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\""

static const char enis_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<DescribeNetworkInterfacesResponse " NS "><requestId>1</requestId>"
    "<networkInterfaceSet>"
    "<item><networkInterfaceId>eni-0aaaaaaaaaaaaaaa1</networkInterfaceId>"
    "<subnetId>subnet-0e2e0000000000001</subnetId>"
    "<availabilityZone>eu-west-1a</availabilityZone>"
    "<macAddress>0a:01:02:03:04:05</macAddress>"
    "<privateIpAddress>10.0.0.20</privateIpAddress>"
    "<attachment><instanceId>i-0aaaaaaaaaaaaaaa1</instanceId>"
    "<deviceIndex>1</deviceIndex></attachment>"
    "<privateIpAddressesSet>"
    "<item><privateIpAddress>10.0.0.20</privateIpAddress>"
    "<primary>true</primary></item>"
    "<item><privateIpAddress>10.0.0.50</privateIpAddress>"
    "<association><publicIp>198.51.100.7</publicIp>"
    "<privateIpAddress>10.9.9.9</privateIpAddress></association></item>"
    "</privateIpAddressesSet></item>"
    "<item><networkInterfaceId>eni-89abcdef</networkInterfaceId>"
    "<subnetId>subnet-89abcdef</subnetId>"
    "<privateIpAddress>10.0.1.20</privateIpAddress></item>"
    "</networkInterfaceSet></DescribeNetworkInterfacesResponse>\n";

static const char tables_xml[] =
    "<DescribeRouteTablesResponse " NS "><routeTableSet>"
    "<item><routeTableId>rtb-0e2e0000000000001</routeTableId><routeSet>"
    "<item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock>"
    "<gatewayId>local</gatewayId><state>active</state></item>"
    "<item><destinationCidrBlock>192.168.100.10/32</destinationCidrBlock>"
    "<instanceId>i-0bbbbbbbbbbbbbbb2</instanceId>"
    "<networkInterfaceId>eni-0bbbbbbbbbbbbbbb2</networkInterfaceId>"
    "<state>blackhole</state></item></routeSet></item>"
    "<item><routeTableId>rtb-0e2e0000000000002</routeTableId><routeSet>"
    "<item><destinationCidrBlock>192.168.100.10/32</destinationCidrBlock>"
    "<gatewayId>igw-0123</gatewayId><state>active</state></item>"
    "</routeSet></item>"
    "<item><routeTableId>rtb-0e2e0000000000003</routeTableId><routeSet/>"
    "</item></routeTableSet></DescribeRouteTablesResponse>";

static void
test_enis(void)
{
	static struct ec2_eni e[2];
	char err[256], doc[4096];
	size_t n = 9;

	TEST("interfaces_parser_takes_ids_subnet_attachment_and_every_ip");
	CHECK(ec2_parse_network_interfaces(enis_xml, strlen(enis_xml), e, 2, &n,
					   err, sizeof(err)) == 0);
	CHECK(n == 2);
	CHECK(strcmp(e[0].id, "eni-0aaaaaaaaaaaaaaa1") == 0);
	CHECK(strcmp(e[0].subnet_id, "subnet-0e2e0000000000001") == 0);
	CHECK(strcmp(e[0].az, "eu-west-1a") == 0);
	CHECK(strcmp(e[0].primary_ip, "10.0.0.20") == 0);
	CHECK(strcmp(e[0].instance_id, "i-0aaaaaaaaaaaaaaa1") == 0);
	CHECK(e[0].device_index == 1);
	/* the association's privateIpAddress is not one of the list */
	CHECK(e[0].nips == 2);
	CHECK(strcmp(e[0].ips[1], "10.0.0.50") == 0);
	CHECK(e[1].device_index == -1 && e[1].instance_id[0] == '\0');
	CHECK(e[1].nips == 0);

	TEST("interfaces_parser_refuses_more_than_room_and_an_error_document");
	CHECK(ec2_parse_network_interfaces(enis_xml, strlen(enis_xml), e, 1, &n,
					   err, sizeof(err)) == -1);
	CHECK(n == 0);
	snprintf(doc, sizeof(doc),
		 "<Response><Errors><Error><Code>UnauthorizedOperation</Code>"
		 "<Message>no</Message></Error></Errors></Response>");
	CHECK(ec2_parse_network_interfaces(doc, strlen(doc), e, 2, &n, err,
					   sizeof(err)) == -1);
	CHECK(strstr(err, "UnauthorizedOperation") != NULL);

	TEST("interfaces_parser_refuses_a_bad_device_index_and_long_ids");
	snprintf(
	    doc, sizeof(doc),
	    "<DescribeNetworkInterfacesResponse><networkInterfaceSet><item>"
	    "<networkInterfaceId>eni-1</networkInterfaceId><attachment>"
	    "<deviceIndex>x</deviceIndex></attachment></item>"
	    "</networkInterfaceSet></DescribeNetworkInterfacesResponse>");
	CHECK(ec2_parse_network_interfaces(doc, strlen(doc), e, 2, &n, err,
					   sizeof(err)) == -1);
	snprintf(
	    doc, sizeof(doc),
	    "<DescribeNetworkInterfacesResponse><networkInterfaceSet><item>"
	    "<networkInterfaceId>eni-%0100d</networkInterfaceId></item>"
	    "</networkInterfaceSet></DescribeNetworkInterfacesResponse>",
	    1);
	CHECK(ec2_parse_network_interfaces(doc, strlen(doc), e, 2, &n, err,
					   sizeof(err)) == -1);
	CHECK(strstr(err, "too long") != NULL);
	snprintf(
	    doc, sizeof(doc),
	    "<DescribeNetworkInterfacesResponse><networkInterfaceSet><item>"
	    "<subnetId>subnet-1</subnetId></item></networkInterfaceSet>"
	    "</DescribeNetworkInterfacesResponse>");
	CHECK(ec2_parse_network_interfaces(doc, strlen(doc), e, 2, &n, err,
					   sizeof(err)) == -1);
}

static void
test_tables(void)
{
	struct ec2_route_table t[4];
	char err[256];
	size_t n = 9;

	TEST("route_tables_parser_keeps_only_the_destination_asked_about");
	CHECK(ec2_parse_route_tables(tables_xml, strlen(tables_xml),
				     "192.168.100.10/32", t, 4, &n, err,
				     sizeof(err)) == 0);
	CHECK(n == 3);
	CHECK(strcmp(t[0].id, "rtb-0e2e0000000000001") == 0);
	CHECK(t[0].has_route);
	CHECK(strcmp(t[0].eni, "eni-0bbbbbbbbbbbbbbb2") == 0);
	CHECK(strcmp(t[0].instance_id, "i-0bbbbbbbbbbbbbbb2") == 0);
	CHECK(strcmp(t[0].state, "blackhole") == 0);
	CHECK(t[0].gateway[0] == '\0'); /* the local route's is not taken */
	CHECK(t[1].has_route && strcmp(t[1].gateway, "igw-0123") == 0);
	CHECK(t[1].eni[0] == '\0');
	CHECK(!t[2].has_route);

	TEST("route_tables_parser_another_destination_is_no_route");
	CHECK(ec2_parse_route_tables(tables_xml, strlen(tables_xml),
				     "192.168.100.11/32", t, 4, &n, err,
				     sizeof(err)) == 0);
	CHECK(n == 3 && !t[0].has_route && !t[1].has_route);

	TEST("route_tables_parser_refuses_more_tables_than_room");
	CHECK(ec2_parse_route_tables(tables_xml, strlen(tables_xml),
				     "192.168.100.10/32", t, 2, &n, err,
				     sizeof(err)) == -1);
	CHECK(ec2_parse_route_tables(enis_xml, strlen(enis_xml), "x", t, 4, &n,
				     err, sizeof(err)) == -1);
	CHECK(strstr(err, "DescribeRouteTablesResponse") != NULL);
}

static void
test_values(void)
{
	static const char sdc[] =
	    "<DescribeNetworkInterfaceAttributeResponse " NS ">"
	    "<networkInterfaceId>eni-1</networkInterfaceId>"
	    "<sourceDestCheck><value>false</value></sourceDestCheck>"
	    "</DescribeNetworkInterfaceAttributeResponse>";
	static const char odd[] =
	    "<DescribeNetworkInterfaceAttributeResponse>"
	    "<sourceDestCheck><value>maybe</value></sourceDestCheck>"
	    "</DescribeNetworkInterfaceAttributeResponse>";
	static const char ok[] = "<ReplaceRouteResponse " NS "><requestId>1"
				 "</requestId><return>true</return>"
				 "</ReplaceRouteResponse>";
	static const char no[] = "<CreateRouteResponse><return>false</return>"
				 "</CreateRouteResponse>";
	static const char bare[] =
	    "<AssignPrivateIpAddressesResponse " NS "><requestId>1</requestId>"
	    "<networkInterfaceId>eni-1</networkInterfaceId>"
	    "<assignedPrivateIpAddressesSet><item><privateIpAddress>10.0.0.5"
	    "</privateIpAddress></item></assignedPrivateIpAddressesSet>"
	    "</AssignPrivateIpAddressesResponse>";
	char err[256];
	int v = -1;

	TEST("source_dest_check_parser_reads_the_value");
	CHECK(ec2_parse_source_dest_check(sdc, strlen(sdc), &v, err,
					  sizeof(err)) == 0 &&
	      v == 0);
	CHECK(ec2_parse_source_dest_check(odd, strlen(odd), &v, err,
					  sizeof(err)) == -1);
	CHECK(strstr(err, "neither true nor false") != NULL);

	TEST("return_parser_needs_the_root_and_true_when_present");
	CHECK(ec2_parse_return(bare, strlen(bare), "AssignPrivateIpAddressesResponse",
			       err, sizeof(err)) == 0);
	CHECK(ec2_parse_return(ok, strlen(ok), "ReplaceRouteResponse", err,
			       sizeof(err)) == 0);
	CHECK(ec2_parse_return(ok, strlen(ok), "CreateRouteResponse", err,
			       sizeof(err)) == -1);
	CHECK(ec2_parse_return(no, strlen(no), "CreateRouteResponse", err,
			       sizeof(err)) == -1);
	CHECK(strstr(err, "false") != NULL);

	TEST("moving_writes_are_the_four_that_take_a_resource");
	CHECK(ec2_action_moves(EC2_ASSOCIATE_ADDRESS));
	CHECK(ec2_action_moves(EC2_ASSIGN_PRIVATE_IP_ADDRESSES));
	CHECK(ec2_action_moves(EC2_REPLACE_ROUTE));
	CHECK(ec2_action_moves(EC2_CREATE_ROUTE));
	CHECK(!ec2_action_moves(EC2_DESCRIBE_ROUTE_TABLES));
	CHECK(!ec2_action_moves(EC2_DESCRIBE_NETWORK_INTERFACE_ATTRIBUTE));
	CHECK(strcmp(ec2_action_name(EC2_DESCRIBE_NETWORK_INTERFACE_ATTRIBUTE),
		     "DescribeNetworkInterfaceAttribute") == 0);
}

int
main(void)
{
	test_enis();
	test_tables();
	test_values();
	return check_done();
}
