/*
 * test_ec2.c - the EC2 client and the resource set: XML parsers on EC2-style
 * answers, error classification, backoff and retry decisions, form bodies
 * (pure); then retries, credential refresh and resources against a local
 * Python stub of the Query API and IMDSv2 (loopback only).
 */
#include "check.h"
#include "pyserver.h"
#include "config.h"
#include "creds.h"
#include "ec2.h"
#include "http.h"
#include "imds.h"
#include "log.h"
#include "resource.h"
#include "util.h"

#include <ev.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PYTHON PYSERVER_PYTHON
#define NS "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\""

static const char describe_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<DescribeAddressesResponse " NS ">\n"
    "   <requestId>f7de5e98-491a-4c19-a92d-908d6EXAMPLE</requestId>\n"
    "   <addressesSet>\n"
    "      <item>\n"
    "         <publicIp>203.0.113.41</publicIp>\n"
    "         <allocationId>eipalloc-08229861</allocationId>\n"
    "         <domain>vpc</domain>\n"
    "         <instanceId>i-0598c7d356eba48d7</instanceId>\n"
    "         <associationId>eipassoc-f0229810</associationId>\n"
    "         <networkInterfaceId>eni-ef229886</networkInterfaceId>\n"
    "         <networkInterfaceOwnerId>053230519467"
    "</networkInterfaceOwnerId>\n"
    "         <privateIpAddress>10.0.0.228</privateIpAddress>\n"
    "         <tagSet><item><key>Name</key><value>web</value></item>"
    "</tagSet>\n"
    "      </item>\n"
    "      <item>\n"
    "         <publicIp>198.51.100.2</publicIp>\n"
    "         <allocationId>eipalloc-0abc</allocationId>\n"
    "         <domain>vpc</domain>\n"
    "         <publicIpv4Pool>amazon</publicIpv4Pool>\n"
    "      </item>\n"
    "   </addressesSet>\n"
    "</DescribeAddressesResponse>\n";

static const char associate_xml[] =
    "<AssociateAddressResponse " NS ">\n"
    "  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n"
    "  <return>true</return>\n"
    "  <associationId>eipassoc-fc5ca095</associationId>\n"
    "</AssociateAddressResponse>\n";

static const char error_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
    "<Message>Request limit exceeded.</Message></Error>"
    "<Error><Code>Second</Code><Message>no</Message></Error></Errors>"
    "<RequestID>d3b1c2f4-2d4c-4ebd-8a4b-0c6a8EXAMPLE</RequestID>"
    "</Response>\n";

static void
test_parse_describe(void)
{
	struct ec2_address a[4];
	char err[256];
	size_t n = 99;
	char big[600], doc[1200];

	TEST("describe_parser_reads_every_item_and_skips_nested_tags");
	CHECK(ec2_parse_describe_addresses(describe_xml, strlen(describe_xml),
					   a, 4, &n, err, sizeof(err)) == 0);
	CHECK(n == 2);
	CHECK(strcmp(a[0].allocation_id, "eipalloc-08229861") == 0);
	CHECK(strcmp(a[0].public_ip, "203.0.113.41") == 0);
	CHECK(strcmp(a[0].instance_id, "i-0598c7d356eba48d7") == 0);
	CHECK(strcmp(a[0].association_id, "eipassoc-f0229810") == 0);
	CHECK(strcmp(a[0].network_interface_id, "eni-ef229886") == 0);
	CHECK(strcmp(a[0].private_ip, "10.0.0.228") == 0);
	CHECK(strcmp(a[0].domain, "vpc") == 0);
	CHECK(strcmp(a[1].allocation_id, "eipalloc-0abc") == 0);
	CHECK(a[1].instance_id[0] == '\0');
	CHECK(a[1].association_id[0] == '\0');

	TEST("describe_parser_accepts_no_namespace_and_prefixed_names");
	snprintf(doc, sizeof(doc),
		 "<DescribeAddressesResponse><addressesSet><item>"
		 "<allocationId>eipalloc-1</allocationId></item>"
		 "</addressesSet></DescribeAddressesResponse>");
	CHECK(ec2_parse_describe_addresses(doc, strlen(doc), a, 4, &n, err,
					   sizeof(err)) == 0);
	CHECK(n == 1 && strcmp(a[0].allocation_id, "eipalloc-1") == 0);
	snprintf(doc, sizeof(doc),
		 "<e:DescribeAddressesResponse xmlns:e=\"urn:x\">"
		 "<e:addressesSet><e:item><e:instanceId>i-2</e:instanceId>"
		 "</e:item></e:addressesSet></e:DescribeAddressesResponse>");
	CHECK(ec2_parse_describe_addresses(doc, strlen(doc), a, 4, &n, err,
					   sizeof(err)) == 0);
	CHECK(n == 1 && strcmp(a[0].instance_id, "i-2") == 0);

	TEST("describe_parser_empty_set_is_zero_addresses");
	snprintf(doc, sizeof(doc),
		 "<DescribeAddressesResponse " NS "><requestId>x</requestId>"
		 "<addressesSet/></DescribeAddressesResponse>");
	CHECK(ec2_parse_describe_addresses(doc, strlen(doc), a, 4, &n, err,
					   sizeof(err)) == 0);
	CHECK(n == 0);

	TEST("describe_parser_rejects_more_items_than_room");
	CHECK(ec2_parse_describe_addresses(describe_xml, strlen(describe_xml),
					   a, 1, &n, err, sizeof(err)) == -1);
	CHECK(n == 0);

	TEST("describe_parser_rejects_overlong_identifiers");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(doc, sizeof(doc),
		 "<DescribeAddressesResponse><addressesSet><item>"
		 "<allocationId>%s</allocationId></item>"
		 "</addressesSet></DescribeAddressesResponse>",
		 big);
	CHECK(ec2_parse_describe_addresses(doc, strlen(doc), a, 4, &n, err,
					   sizeof(err)) == -1);
	CHECK(strstr(err, "too long") != NULL);

	TEST("describe_parser_reports_an_error_document_with_its_code");
	CHECK(ec2_parse_describe_addresses(error_xml, strlen(error_xml), a, 4,
					   &n, err, sizeof(err)) == -1);
	CHECK(strcmp(err, "RequestLimitExceeded: Request limit exceeded.") ==
	      0);

	TEST("describe_parser_rejects_garbage_truncation_and_doctype");
	CHECK(ec2_parse_describe_addresses("", 0, a, 4, &n, err, sizeof(err)) ==
	      -1);
	CHECK(ec2_parse_describe_addresses("nope", 4, a, 4, &n, err,
					   sizeof(err)) == -1);
	CHECK(ec2_parse_describe_addresses(describe_xml, 200, a, 4, &n, err,
					   sizeof(err)) == -1);
	snprintf(doc, sizeof(doc),
		 "<!DOCTYPE d [<!ENTITY x \"y\">]>"
		 "<DescribeAddressesResponse/>");
	CHECK(ec2_parse_describe_addresses(doc, strlen(doc), a, 4, &n, err,
					   sizeof(err)) == -1);
	CHECK(strstr(err, "DOCTYPE") != NULL);
	snprintf(doc, sizeof(doc), "<AssociateAddressResponse/>");
	CHECK(ec2_parse_describe_addresses(doc, strlen(doc), a, 4, &n, err,
					   sizeof(err)) == -1);
}

/* AWS's documented shape, the reachability details beside the status. */
static const char status_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<DescribeInstanceStatusResponse "
    "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
    "<requestId>3be1508e-c444-4fef-89cc-0b1223c4f02fEXAMPLE</requestId>"
    "<instanceStatusSet><item><instanceId>i-0bbbbbbbbbbbbbbb2</instanceId>"
    "<availabilityZone>eu-west-1b</availabilityZone>"
    "<instanceState><code>16</code><name>running</name></instanceState>"
    "<systemStatus><status>ok</status><details><item>"
    "<name>reachability</name><status>passed</status></item></details>"
    "</systemStatus><instanceStatus><status>impaired</status><details>"
    "<item><name>reachability</name><status>failed</status></item>"
    "</details></instanceStatus></item></instanceStatusSet>"
    "</DescribeInstanceStatusResponse>";
static const char status_empty_xml[] =
    "<DescribeInstanceStatusResponse><requestId>x</requestId>"
    "<instanceStatusSet/></DescribeInstanceStatusResponse>";

static void
test_parse_others(void)
{
	char id[EC2_ID_MAX], err[256];
	struct ec2_error e;
	const char *noid = "<AssociateAddressResponse><return>true</return>"
			   "</AssociateAddressResponse>";

	TEST("associate_parser_returns_the_association_id");
	CHECK(ec2_parse_associate(associate_xml, strlen(associate_xml), id,
				  sizeof(id), err, sizeof(err)) == 0);
	CHECK(strcmp(id, "eipassoc-fc5ca095") == 0);
	CHECK(ec2_parse_associate(noid, strlen(noid), id, sizeof(id), err,
				  sizeof(err)) == -1);
	CHECK(ec2_parse_associate(associate_xml, strlen(associate_xml), id, 8,
				  err, sizeof(err)) == -1);
	CHECK(ec2_parse_associate(error_xml, strlen(error_xml), id, sizeof(id),
				  err, sizeof(err)) == -1);
	CHECK(strncmp(err, "RequestLimitExceeded", 20) == 0);

	TEST("instance_status_parser_takes_state_and_both_checks");
	{
		struct ec2_instance_status s;
		int found = -1;

		CHECK(ec2_parse_instance_status(status_xml, strlen(status_xml),
						&s, &found, err,
						sizeof(err)) == 0);
		CHECK(found == 1);
		CHECK(strcmp(s.instance_id, "i-0bbbbbbbbbbbbbbb2") == 0);
		CHECK(strcmp(s.state, "running") == 0);
		CHECK(strcmp(s.instance_status, "impaired") == 0);
		CHECK(strcmp(s.system_status, "ok") == 0);
		CHECK(ec2_parse_instance_status(status_empty_xml,
						strlen(status_empty_xml), &s,
						&found, err, sizeof(err)) == 0);
		CHECK(found == 0 && s.state[0] == '\0');
		CHECK(ec2_parse_instance_status(error_xml, strlen(error_xml),
						&s, &found, err,
						sizeof(err)) == -1);
		CHECK(strncmp(err, "RequestLimitExceeded", 20) == 0);
		CHECK(ec2_parse_instance_status(
			  associate_xml, strlen(associate_xml), &s, &found,
			  err, sizeof(err)) == -1);
	}

	TEST("instance_down_when_not_running_or_impaired");
	{
		struct ec2_instance_status s;
		const char *states[] = {"stopping", "stopped", "shutting-down",
					"terminated"};
		char why[64];
		size_t i;

		memset(&s, 0, sizeof(s));
		strcpy(s.state, "running");
		strcpy(s.instance_status, "ok");
		strcpy(s.system_status, "ok");
		CHECK(ec2_instance_down(&s, why, sizeof(why)) == 0);
		strcpy(s.instance_status, "initializing");
		CHECK(ec2_instance_down(&s, why, sizeof(why)) == 0);
		strcpy(s.system_status, "impaired");
		CHECK(ec2_instance_down(&s, why, sizeof(why)) == 1);
		CHECK(strstr(why, "system status check impaired") != NULL);
		strcpy(s.system_status, "ok");
		strcpy(s.instance_status, "impaired");
		CHECK(ec2_instance_down(&s, why, sizeof(why)) == 1);
		strcpy(s.state, "pending");
		strcpy(s.instance_status, "not-applicable");
		CHECK(ec2_instance_down(&s, why, sizeof(why)) == 0);
		for (i = 0; i < 4; i++) {
			strcpy(s.state, states[i]);
			CHECK(ec2_instance_down(&s, why, sizeof(why)) == 1);
			CHECK(strcmp(why, states[i]) == 0);
		}
	}

	TEST("error_parser_takes_the_first_error_and_the_request_id");
	CHECK(ec2_parse_error(error_xml, strlen(error_xml), &e, err,
			      sizeof(err)) == 0);
	CHECK(strcmp(e.code, "RequestLimitExceeded") == 0);
	CHECK(strcmp(e.message, "Request limit exceeded.") == 0);
	CHECK(strcmp(e.request_id, "d3b1c2f4-2d4c-4ebd-8a4b-0c6a8EXAMPLE") ==
	      0);
	CHECK(ec2_parse_error(associate_xml, strlen(associate_xml), &e, err,
			      sizeof(err)) == -1);
	CHECK(ec2_parse_error("<html>502 Bad Gateway</html>", 28, &e, err,
			      sizeof(err)) == -1);
	{
		const char *other = "<ErrorResponse><Error><Code>Throttling"
				    "</Code><Message>slow down</Message>"
				    "</Error></ErrorResponse>";

		CHECK(ec2_parse_error(other, strlen(other), &e, err,
				      sizeof(err)) == 0);
		CHECK(strcmp(e.code, "Throttling") == 0);
	}
}

static void
test_classify(void)
{
	TEST("throttling_5xx_and_transport_errors_are_retryable");
	CHECK(ec2_classify(503, "RequestLimitExceeded") == EC2_ERR_RETRYABLE);
	CHECK(ec2_classify(400, "Throttling") == EC2_ERR_RETRYABLE);
	CHECK(ec2_classify(400, "ThrottlingException") == EC2_ERR_RETRYABLE);
	CHECK(ec2_classify(400, "RequestThrottled") == EC2_ERR_RETRYABLE);
	CHECK(ec2_classify(429, "TooManyRequestsException") ==
	      EC2_ERR_RETRYABLE);
	CHECK(ec2_classify(500, "InternalError") == EC2_ERR_RETRYABLE);
	CHECK(ec2_classify(503, "Unavailable") == EC2_ERR_RETRYABLE);
	CHECK(ec2_classify(503, "ServiceUnavailable") == EC2_ERR_RETRYABLE);
	CHECK(ec2_classify(502, "Http502") == EC2_ERR_RETRYABLE);
	CHECK(ec2_classify(0, "Transport") == EC2_ERR_RETRYABLE);
	CHECK(ec2_classify(429, NULL) == EC2_ERR_RETRYABLE);

	TEST("auth_expiry_codes_ask_for_fresh_credentials");
	CHECK(ec2_classify(401, "AuthFailure") == EC2_ERR_CREDS);
	CHECK(ec2_classify(400, "ExpiredToken") == EC2_ERR_CREDS);
	CHECK(ec2_classify(400, "RequestExpired") == EC2_ERR_CREDS);

	TEST("no_route_no_credentials_or_denied_mean_the_api_is_unusable");
	CHECK(ec2_unusable_code("Transport"));
	CHECK(ec2_unusable_code("NoCredentials"));
	CHECK(ec2_unusable_code("UnauthorizedOperation"));
	CHECK(ec2_unusable_code("AuthFailure"));
	CHECK(!ec2_unusable_code("RequestLimitExceeded"));
	CHECK(!ec2_unusable_code("InternalError"));
	CHECK(!ec2_unusable_code("InvalidAllocationID.NotFound"));
	CHECK(!ec2_unusable_code(""));
	CHECK(!ec2_unusable_code(NULL));

	TEST("validation_and_permission_errors_are_fatal");
	CHECK(ec2_classify(403, "UnauthorizedOperation") == EC2_ERR_FATAL);
	CHECK(ec2_classify(400, "InvalidAllocationID.NotFound") ==
	      EC2_ERR_FATAL);
	CHECK(ec2_classify(400, "InvalidInstanceID.NotFound") == EC2_ERR_FATAL);
	CHECK(ec2_classify(400, "InvalidParameterValue") == EC2_ERR_FATAL);
	CHECK(ec2_classify(404, "Http404") == EC2_ERR_FATAL);
	CHECK(ec2_classify(400, "") == EC2_ERR_FATAL);
}

static void
test_next_step(void)
{
	struct backoff_policy r, w;

	ec2_policy_read(&r);
	ec2_policy_write(&w);
	TEST("fatal_errors_are_never_retried");
	CHECK(ec2_next_step(&w, EC2_ERR_FATAL, 1, 0, 0, 1, 0) ==
	      EC2_NEXT_GIVE_UP);

	TEST("role_credentials_are_refreshed_once_on_auth_failure");
	CHECK(ec2_next_step(&r, EC2_ERR_CREDS, 1, 0, 0, 1, 0) ==
	      EC2_NEXT_REFRESH_RETRY);
	CHECK(ec2_next_step(&r, EC2_ERR_CREDS, 2, 0, 0, 1, 1) ==
	      EC2_NEXT_GIVE_UP);
	CHECK(ec2_next_step(&r, EC2_ERR_CREDS, 1, 0, 0, 0, 0) ==
	      EC2_NEXT_GIVE_UP);

	TEST("reads_give_up_after_3_attempts_writes_after_20");
	CHECK(ec2_next_step(&r, EC2_ERR_RETRYABLE, 1, 0, 50, 0, 0) ==
	      EC2_NEXT_RETRY);
	CHECK(ec2_next_step(&r, EC2_ERR_RETRYABLE, 2, 0, 50, 0, 0) ==
	      EC2_NEXT_RETRY);
	CHECK(ec2_next_step(&r, EC2_ERR_RETRYABLE, 3, 0, 50, 0, 0) ==
	      EC2_NEXT_GIVE_UP);
	CHECK(w.max_attempts == EC2_WRITE_ATTEMPTS);
	CHECK(ec2_next_step(&w, EC2_ERR_RETRYABLE, 19, 30000, 5000, 0, 0) ==
	      EC2_NEXT_RETRY);
	CHECK(ec2_next_step(&w, EC2_ERR_RETRYABLE, 20, 30000, 5000, 0, 0) ==
	      EC2_NEXT_GIVE_UP);
	w.max_attempts = 0;
	CHECK(ec2_next_step(&w, EC2_ERR_RETRYABLE, 1000, 3600000, 5000, 0, 0) ==
	      EC2_NEXT_RETRY);
	w.max_attempts = EC2_WRITE_ATTEMPTS;

	TEST("deadline_stops_retries_that_would_end_after_it");
	w.deadline_ms = 10000;
	CHECK(ec2_next_step(&w, EC2_ERR_RETRYABLE, 4, 9000, 900, 0, 0) ==
	      EC2_NEXT_RETRY);
	CHECK(ec2_next_step(&w, EC2_ERR_RETRYABLE, 4, 9000, 1001, 0, 0) ==
	      EC2_NEXT_GIVE_UP);
}

static void
test_endpoint(void)
{
	char buf[64], host[32], path[16];

	TEST("default_endpoint_is_the_regional_ec2_host");
	CHECK(ec2_default_endpoint("eu-west-1", buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "https://ec2.eu-west-1.amazonaws.com") == 0);
	CHECK(ec2_default_endpoint("", buf, sizeof(buf)) == -1);
	CHECK(ec2_default_endpoint("eu-west-1", buf, 20) == -1);

	TEST("endpoint_splits_into_host_and_path");
	CHECK(ec2_split_endpoint("http://127.0.0.1:8080/", host, sizeof(host),
				 path, sizeof(path)) == 0);
	CHECK(strcmp(host, "127.0.0.1:8080") == 0 && strcmp(path, "/") == 0);
	CHECK(ec2_split_endpoint("https://ec2.x.amazonaws.com", host,
				 sizeof(host), path, sizeof(path)) == 0);
	CHECK(strcmp(path, "/") == 0);
	CHECK(ec2_split_endpoint("https://h/a/b", host, sizeof(host), path,
				 sizeof(path)) == 0 &&
	      strcmp(path, "/a/b") == 0);
	CHECK(ec2_split_endpoint("h/a", host, sizeof(host), path,
				 sizeof(path)) == -1);
	CHECK(ec2_split_endpoint("https://u@h/", host, sizeof(host), path,
				 sizeof(path)) == -1);
	CHECK(ec2_split_endpoint("https://h/?a", host, sizeof(host), path,
				 sizeof(path)) == -1);
	CHECK(ec2_split_endpoint("https://h/0123456789abcdef", host,
				 sizeof(host), path, sizeof(path)) == -1);
}

static void
test_skew(void)
{
	/* 2026-12-01 23:00:47 UTC */
	const int64_t t = 1796166047;
	const char *date = "Tue, 01 Dec 2026 23:00:47 GMT";
	int64_t v, off;

	TEST("http_date_parses_imf_fixdate_only");
	CHECK(ec2_parse_http_date(date, &v) == 0 && v == t);
	CHECK(ec2_parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", &v) == 0 &&
	      v == 0);
	CHECK(ec2_parse_http_date("Tue, 01 Dec 2026 23:00:47 UTC", &v) == -1);
	CHECK(ec2_parse_http_date("Tue, 01 Foo 2026 23:00:47 GMT", &v) == -1);
	CHECK(ec2_parse_http_date("Xyz, 01 Dec 2026 23:00:47 GMT", &v) == -1);
	CHECK(ec2_parse_http_date("Tue, 01 Dec 2026 24:00:47 GMT", &v) == -1);
	CHECK(ec2_parse_http_date("Tue, 01 Dec 2026 23:00:47 GMTx", &v) == -1);
	CHECK(ec2_parse_http_date("2026-12-01T23:00:47Z", &v) == -1);
	CHECK(ec2_parse_http_date("", &v) == -1);
	CHECK(ec2_parse_http_date(NULL, &v) == -1);

	TEST("skew_codes_are_the_sdks_clock_skew_errors");
	CHECK(ec2_is_skew_code("RequestExpired"));
	CHECK(ec2_is_skew_code("RequestTimeTooSkewed"));
	CHECK(ec2_is_skew_code("InvalidSignatureException"));
	CHECK(ec2_is_skew_code("SignatureDoesNotMatch"));
	CHECK(ec2_is_skew_code("AuthFailure"));
	CHECK(ec2_is_skew_code("RequestInTheFuture"));
	CHECK(!ec2_is_skew_code("UnauthorizedOperation"));
	CHECK(!ec2_is_skew_code(""));

	TEST("a_date_within_5_minutes_keeps_the_offset");
	CHECK(ec2_skew_check(date, "", t - 299, 0, &off) == EC2_SKEW_KEEP &&
	      off == 0);
	CHECK(ec2_skew_check(date, "", t + 299, 0, &off) == EC2_SKEW_KEEP);
	CHECK(ec2_skew_check(NULL, "RequestExpired", t - 900, 0, &off) ==
	      EC2_SKEW_KEEP);
	CHECK(ec2_skew_check("garbage", "RequestExpired", t - 900, 0, &off) ==
	      EC2_SKEW_KEEP);

	TEST("ec2_7_minutes_ahead_or_behind_moves_the_offset");
	CHECK(ec2_skew_check(date, "", t - 420, 0, &off) == EC2_SKEW_ADJUST &&
	      off == 420);
	CHECK(ec2_skew_check(date, "", t + 420, 0, &off) == EC2_SKEW_ADJUST &&
	      off == -420);
	CHECK(ec2_skew_check(date, "RequestExpired", t - 420, 0, &off) ==
		  EC2_SKEW_RETRY &&
	      off == 420);
	CHECK(ec2_skew_check(date, "SignatureDoesNotMatch", t + 420, 0,
			     &off) == EC2_SKEW_RETRY &&
	      off == -420);

	CHECK(ec2_skew_check(date, "AuthFailure", t + 400, 0, &off) ==
		  EC2_SKEW_RETRY &&
	      off == -400);
	CHECK(ec2_skew_check(date, "AuthFailure", t + 10, 0, &off) ==
	      EC2_SKEW_KEEP);

	TEST("a_clock_skew_error_needs_only_4_minutes_of_skew");
	CHECK(ec2_skew_check(date, "RequestTimeTooSkewed", t - 250, 0, &off) ==
		  EC2_SKEW_RETRY &&
	      off == 250);
	CHECK(ec2_skew_check(date, "RequestExpired", t - 200, 0, &off) ==
	      EC2_SKEW_KEEP);

	TEST("a_corrected_offset_stays_and_clears_when_the_clocks_agree");
	CHECK(ec2_skew_check(date, "", t - 421, 420, &off) == EC2_SKEW_KEEP &&
	      off == 420);
	CHECK(ec2_skew_check(date, "RequestExpired", t - 420, 420, &off) ==
	      EC2_SKEW_KEEP);
	CHECK(ec2_skew_check(date, "", t, 420, &off) == EC2_SKEW_ADJUST &&
	      off == 0);
	CHECK(ec2_skew_check(date, "", t + 30, -420, &off) ==
		  EC2_SKEW_ADJUST &&
	      off == 0);
}

static void
test_form(void)
{
	struct ec2_form f;
	char big[EC2_FORM_MAX];

	TEST("form_body_starts_with_action_and_version_and_encodes_values");
	ec2_form_init(&f, "AssociateAddress");
	ec2_form_add(&f, "AllocationId", "eipalloc-0abc");
	ec2_form_add(&f, "PrivateIpAddress", "a b/c=d&e+f~g_h.i-j");
	CHECK(!f.overflow);
	CHECK(strcmp(f.buf,
		     "Action=AssociateAddress&Version=2016-11-15"
		     "&AllocationId=eipalloc-0abc"
		     "&PrivateIpAddress=a%20b%2Fc%3Dd%26e%2Bf~g_h.i-j") == 0);
	CHECK(f.len == strlen(f.buf));

	TEST("form_body_overflow_is_flagged_not_truncated_silently");
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ec2_form_add(&f, "Big", big);
	CHECK(f.overflow);
}

/* ---- against the local stub ---- */

static const char stub_py[] =
    "import http.server, socketserver, json, time, threading, os\n"
    "from urllib.parse import parse_qs\n"
    "NSA = 'xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"'\n"
    "lock = threading.Lock()\n"
    "counts = {}\n"
    "tokens = [0]\n"
    "last = {'body': '', 'token': ''}\n"
    "owner = {'eipalloc-self': 'i-self', 'eipalloc-peer': 'i-peer',\n"
    "         'eipalloc-none': '', 'eipalloc-other': 'i-stranger',\n"
    "         'eipalloc-resolved': 'i-self', 'eipalloc-throttle2': '',\n"
    "         'eipalloc-throttle2r': ''}\n"
    "ips = {'198.51.100.7': 'eipalloc-resolved'}\n"
    "def bump(k):\n"
    "    with lock:\n"
    "        counts[k] = counts.get(k, 0) + 1\n"
    "        return counts[k]\n"
    "def err(code, msg):\n"
    "    return ('<?xml version=\"1.0\" encoding=\"UTF-8\"?>\\n<Response>'\n"
    "        '<Errors><Error><Code>%s</Code><Message>%s</Message></Error>'\n"
    "        '</Errors><RequestID>r-1</RequestID></Response>' % (code, msg))\n"
    "import email.utils, calendar\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    skew = 0\n"
    "    def date_time_string(self, ts=None):\n"
    "        return email.utils.formatdate(time.time() + self.skew,\n"
    "                                      usegmt=True)\n"
    "    disable_nagle_algorithm = True\n"
    "    def log_message(self, *a): pass\n"
    "    def reply(self, code, body):\n"
    "        b = body.encode()\n"
    "        self.send_response(code)\n"
    "        self.send_header('Content-Length', str(len(b)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(b)\n"
    "    def do_PUT(self):\n"
    "        n = int(self.headers.get('Content-Length') or 0)\n"
    "        self.rfile.read(n)\n"
    "        if self.path == '/latest/api/token':\n"
    "            self.reply(200, 'imds-token')\n"
    "        else: self.reply(404, '')\n"
    "    def do_GET(self):\n"
    "        p = self.path\n"
    "        role = '/latest/meta-data/iam/security-credentials/'\n"
    "        if p == role: self.reply(200, 'role1')\n"
    "        elif p == role + 'role1':\n"
    "            with lock:\n"
    "                n = tokens[0]; tokens[0] += 1\n"
    "            exp = time.strftime('%Y-%m-%dT%H:%M:%SZ',\n"
    "                                time.gmtime(time.time() + 21600))\n"
    "            self.reply(200, json.dumps({'Code': 'Success',\n"
    "                'Type': 'AWS-HMAC', 'AccessKeyId': 'ASIAROLE%d' % n,\n"
    "                'SecretAccessKey': 'secret', 'Token': 'tok-%d' % n,\n"
    "                'Expiration': exp, 'LastUpdated': exp}))\n"
    "        elif p.startswith('/count/'):\n"
    "            self.reply(200, str(counts.get(p[7:], 0)))\n"
    "        elif p == '/last':\n"
    "            self.reply(200, last['body'] + '\\n' + last['token'])\n"
    "        else: self.reply(404, '')\n"
    "    def do_POST(self):\n"
    "        n = int(self.headers.get('Content-Length') or 0)\n"
    "        body = self.rfile.read(n).decode()\n"
    "        f = {k: v[0] for k, v in parse_qs(body).items()}\n"
    "        tok = self.headers.get('X-Amz-Security-Token') or ''\n"
    "        with lock:\n"
    "            last['body'] = body; last['token'] = tok\n"
    "        a = self.headers.get('Authorization') or ''\n"
    "        if (not a.startswith('AWS4-HMAC-SHA256 Credential=') or\n"
    "                '/ec2/aws4_request' not in a or\n"
    "                not self.headers.get('X-Amz-Date') or\n"
    "                self.headers.get('Content-Type') != \n"
    "                'application/x-www-form-urlencoded; charset=utf-8' or\n"
    "                f.get('Version') != '2016-11-15'):\n"
    "            return self.reply(400, err('IncompleteSignature', a))\n"
    "        act = f.get('Action')\n"
    "        key = (f.get('AllocationId') or f.get('AllocationId.1') or\n"
    "               f.get('PublicIp.1') or f.get('AssociationId') or '')\n"
    "        c = bump(key)\n"
    "        self.skew = 0\n"
    "        if key.startswith('eipalloc-skew'):\n"
    "            self.skew = int(key[13:].replace('m', '-'))\n"
    "            t = calendar.timegm(time.strptime(\n"
    "                self.headers.get('X-Amz-Date'), '%Y%m%dT%H%M%SZ'))\n"
    "            if abs(t - (time.time() + self.skew)) > 300:\n"
    "                return self.reply(400, err('RequestExpired', 'skew'))\n"
    "        if f.get('DryRun') == 'true':\n"
    "            if key == 'eipalloc-denied':\n"
    "                return self.reply(403, err('UnauthorizedOperation',\n"
    "                    'You are not authorized to perform this operation.'))\n"
    "            return self.reply(412, err('DryRunOperation',\n"
    "                'Request would have succeeded, but DryRun flag is set.'))\n"
    "        if key.startswith('eipalloc-throttle2') and c <= 2:\n"
    "            return self.reply(503, err('RequestLimitExceeded',\n"
    "                                       'Request limit exceeded.'))\n"
    "        if key == 'eipalloc-auth':\n"
    "            return self.reply(401, err('AuthFailure',\n"
    "                'AWS was not able to validate the credentials.'))\n"
    "        if key == 'eipalloc-expired' and tok in ('', 'tok-0'):\n"
    "            return self.reply(400, err('RequestExpired', 'old'))\n"
    "        if key == 'eipalloc-hang1' and c == 1:\n"
    "            time.sleep(3); self.close_connection = True; return\n"
    "        if key == 'eipalloc-drop1' and c == 1:\n"
    "            self.wfile.write(b'HTTP/1.1 200 OK\\r\\n'\n"
    "                b'Content-Length: 500\\r\\n\\r\\n<Assoc')\n"
    "            self.close_connection = True; return\n"
    "        if key == 'eipalloc-500':\n"
    "            return self.reply(500, err('InternalError', 'oops'))\n"
    "        if key == 'eipalloc-badparam':\n"
    "            return self.reply(400, err('InvalidParameterValue',\n"
    "                                       'bad value'))\n"
    "        if act == 'AssociateAddress':\n"
    "            who = f.get('InstanceId') or f.get('NetworkInterfaceId')\n"
    "            if f.get('AllowReassociation') != 'true':\n"
    "                return self.reply(400, err('Resource.AlreadyAssociated',"
    " 'x'))\n"
    "            with lock: owner[key] = who\n"
    "            return self.reply(200, '<AssociateAddressResponse %s>'\n"
    "                '<requestId>r</requestId><return>true</return>'\n"
    "                '<associationId>eipassoc-%d</associationId>'\n"
    "                '</AssociateAddressResponse>' % (NSA, c))\n"
    "        if act == 'DescribeAddresses':\n"
    "            want = []\n"
    "            i = 1\n"
    "            while 'AllocationId.%d' % i in f:\n"
    "                want.append(f['AllocationId.%d' % i]); i += 1\n"
    "            i = 1\n"
    "            while 'PublicIp.%d' % i in f:\n"
    "                ip = f['PublicIp.%d' % i]; i += 1\n"
    "                if ip not in ips:\n"
    "                    return self.reply(400, err(\n"
    "                        'InvalidAddress.NotFound', ip))\n"
    "                want.append(ips[ip])\n"
    "            items = ''\n"
    "            for w in want:\n"
    "                if w not in owner:\n"
    "                    return self.reply(400, err(\n"
    "                        'InvalidAllocationID.NotFound', w))\n"
    "                ip = [k for k, v in ips.items() if v == w]\n"
    "                items += '<item><allocationId>%s</allocationId>' % w\n"
    "                items += '<publicIp>%s</publicIp>' % (ip[0] if ip else"
    " '192.0.2.1')\n"
    "                items += '<domain>vpc</domain>'\n"
    "                if owner[w]:\n"
    "                    items += ('<instanceId>%s</instanceId><associationId>'"
    "\n"
    "                        'eipassoc-1</associationId>' % owner[w])\n"
    "                items += '</item>'\n"
    "            return self.reply(200, '<DescribeAddressesResponse %s>'\n"
    "                '<requestId>r</requestId><addressesSet>%s</addressesSet>'"
    "\n"
    "                '</DescribeAddressesResponse>' % (NSA, items))\n"
    "        self.reply(400, err('InvalidAction', str(act)))\n"
    "class S(socketserver.ThreadingMixIn, http.server.HTTPServer):\n"
    "    daemon_threads = True\n"
    "    def handle_error(self, *a): pass\n"
    "s = S(('127.0.0.1', 0), H)\n"
    "print(s.server_address[1], flush=True)\n"
    "threading.Timer(90, lambda: os._exit(0)).start()\n"
    "s.serve_forever()\n";

static pid_t stub_pid = -1;
static int stub_port;
static char stub_url[64];

static int
stub_start(void)
{
	stub_port = pyserver_start(stub_py, &stub_pid);
	snprintf(stub_url, sizeof(stub_url), "http://127.0.0.1:%d/", stub_port);
	return stub_port > 0 ? 0 : -1;
}

static void
stub_stop(void)
{
	if (stub_pid > 0) {
		kill(stub_pid, SIGTERM);
		waitpid(stub_pid, NULL, 0);
		stub_pid = -1;
	}
}

struct env {
	struct ev_loop *loop;
	struct http_ctx *http;
	struct creds_ctx *creds;
	struct ec2_ctx *ec2;
};

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop until *flag is set or `secs` pass. */
static void
run_until(struct ev_loop *loop, const int *flag, double secs)
{
	ev_timer guard;

	ev_timer_init(&guard, guard_cb, secs, 0.);
	ev_timer_start(loop, &guard);
	while (!*flag && ev_is_active(&guard))
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
}

/* A synchronous GET for the stub's bookkeeping (/count/KEY, /last). */
struct fetch {
	int done;
	char body[512];
};

static void
on_fetch(void *arg, const struct http_response *resp)
{
	struct fetch *f = arg;

	util_strlcpy(f->body, resp->body, sizeof(f->body));
	f->done = 1;
}

static void
stub_get(struct env *e, const char *path, char *out, size_t len)
{
	char u[128];
	struct fetch f = {0};
	struct http_request req = {.method = "GET", .url = u};

	snprintf(u, sizeof(u), "http://127.0.0.1:%d%s", stub_port, path);
	if (http_start(e->http, &req, on_fetch, &f) != NULL)
		run_until(e->loop, &f.done, 5.);
	util_strlcpy(out, f.body, len);
}

static int
stub_count(struct env *e, const char *key)
{
	char path[128], b[32];

	snprintf(path, sizeof(path), "/count/%s", key);
	stub_get(e, path, b, sizeof(b));
	return atoi(b);
}

struct outcome {
	int done;
	int rc;
	unsigned attempts;
	char code[EC2_CODE_MAX];
	char message[EC2_MESSAGE_MAX];
	char association_id[EC2_ID_MAX];
	size_t naddresses;
	struct ec2_address addrs[4];
	uint64_t elapsed_ms;
};

static void
on_result(void *arg, const struct ec2_result *res)
{
	struct outcome *o = arg;
	size_t i;

	o->done++;
	o->rc = res->rc;
	o->attempts = res->attempts;
	o->elapsed_ms = res->elapsed_ms;
	util_strlcpy(o->code, res->code, sizeof(o->code));
	util_strlcpy(o->message, res->message, sizeof(o->message));
	util_strlcpy(o->association_id, res->association_id,
		     sizeof(o->association_id));
	o->naddresses = res->naddresses;
	for (i = 0; i < res->naddresses && i < 4; i++)
		o->addrs[i] = res->addresses[i];
}

static uint32_t
rand_max(void *arg)
{
	(void)arg;
	return UINT32_MAX;
}

static uint32_t
rand_zero(void *arg)
{
	(void)arg;
	return 0;
}

static void
associate(struct env *e, const char *alloc, const char *instance,
	  const struct backoff_policy *p, struct outcome *o)
{
	struct ec2_associate_args a = {.allocation_id = alloc,
				       .instance_id = instance};

	memset(o, 0, sizeof(*o));
	CHECK(ec2_associate_address(e->ec2, &a, p, on_result, o) != NULL);
	CHECK(o->done == 0);
	run_until(e->loop, &o->done, 20.);
}

static void
test_io_retries(struct env *e)
{
	struct outcome o;
	struct backoff_policy read;
	char last[512];

	ec2_policy_read(&read);

	TEST("throttled_twice_then_success_on_attempt_three");
	ec2_set_rand(e->ec2, rand_max, NULL);
	associate(e, "eipalloc-throttle2", "i-self", NULL, &o);
	CHECK(o.done == 1 && o.rc == 0);
	CHECK(o.attempts == 3);
	CHECK(strcmp(o.association_id, "eipassoc-3") == 0);
	CHECK(stub_count(e, "eipalloc-throttle2") == 3);
	/* The waits were the full 100 + 200 ms ceilings, on the loop. */
	CHECK(o.elapsed_ms >= 290);
	CHECK(ec2_get_counters(e->ec2, EC2_ASSOCIATE_ADDRESS)->ok == 1);
	CHECK(ec2_get_counters(e->ec2, EC2_ASSOCIATE_ADDRESS)->retried == 2);
	stub_get(e, "/last", last, sizeof(last));
	CHECK(strcmp(last, "Action=AssociateAddress&Version=2016-11-15"
			   "&AllocationId=eipalloc-throttle2&InstanceId=i-self"
			   "&AllowReassociation=true\n") == 0);
	ec2_set_rand(e->ec2, rand_zero, NULL);

	TEST("auth_failure_with_static_credentials_is_not_retried");
	associate(e, "eipalloc-auth", "i-self", NULL, &o);
	CHECK(o.done == 1 && o.rc == -1 && o.attempts == 1);
	CHECK(strcmp(o.code, "AuthFailure") == 0);
	CHECK(strstr(o.message, "validate the credentials") != NULL);
	CHECK(stub_count(e, "eipalloc-auth") == 1);
	CHECK(ec2_get_counters(e->ec2, EC2_ASSOCIATE_ADDRESS)->failed == 1);

	TEST("validation_error_is_reported_once");
	associate(e, "eipalloc-badparam", "i-self", NULL, &o);
	CHECK(o.rc == -1 && o.attempts == 1);
	CHECK(strcmp(o.code, "InvalidParameterValue") == 0);

	TEST("hung_request_times_out_and_is_retried");
	associate(e, "eipalloc-hang1", "i-self", NULL, &o);
	CHECK(o.done == 1 && o.rc == 0 && o.attempts == 2);
	CHECK(o.elapsed_ms >= 450 && o.elapsed_ms < 3000);

	TEST("dropped_connection_is_retried");
	associate(e, "eipalloc-drop1", "i-self", NULL, &o);
	CHECK(o.rc == 0 && o.attempts == 2);

	TEST("server_errors_end_after_the_read_policy_attempts");
	associate(e, "eipalloc-500", "i-self", &read, &o);
	CHECK(o.rc == -1 && o.attempts == 3);
	CHECK(strcmp(o.code, "InternalError") == 0);
	CHECK(stub_count(e, "eipalloc-500") == 3);
}

static void
test_io_calls(struct env *e)
{
	struct outcome o;
	const char *ids[] = {"eipalloc-peer", "eipalloc-none"};
	const char *ips[] = {"198.51.100.7"};
	char last[512];
	struct ec2_associate_args a = {.allocation_id = "eipalloc-drop1",
				       .network_interface_id = "eni-1",
				       .private_ip = "10.0.0.5",
				       .instance_id = "i-ignored"};

	TEST("describe_by_allocation_ids_returns_their_owners");
	memset(&o, 0, sizeof(o));
	CHECK(ec2_describe_addresses(e->ec2, ids, 2, NULL, 0, NULL, on_result,
				     &o) != NULL);
	run_until(e->loop, &o.done, 10.);
	CHECK(o.rc == 0 && o.naddresses == 2);
	CHECK(strcmp(o.addrs[0].allocation_id, "eipalloc-peer") == 0);
	CHECK(strcmp(o.addrs[0].instance_id, "i-peer") == 0);
	CHECK(o.addrs[1].instance_id[0] == '\0');
	stub_get(e, "/last", last, sizeof(last));
	CHECK(strncmp(last,
		      "Action=DescribeAddresses&Version=2016-11-15"
		      "&AllocationId.1=eipalloc-peer"
		      "&AllocationId.2=eipalloc-none\n",
		      100) == 0);

	TEST("describe_by_public_ip_finds_the_allocation");
	memset(&o, 0, sizeof(o));
	CHECK(ec2_describe_addresses(e->ec2, NULL, 0, ips, 1, NULL, on_result,
				     &o) != NULL);
	run_until(e->loop, &o.done, 10.);
	CHECK(o.rc == 0 && o.naddresses == 1);
	CHECK(strcmp(o.addrs[0].allocation_id, "eipalloc-resolved") == 0);

	TEST("describe_of_a_missing_allocation_fails_without_retry");
	ids[0] = "eipalloc-missing";
	memset(&o, 0, sizeof(o));
	CHECK(ec2_describe_addresses(e->ec2, ids, 1, NULL, 0, NULL, on_result,
				     &o) != NULL);
	run_until(e->loop, &o.done, 10.);
	CHECK(o.rc == -1 && o.attempts == 1);
	CHECK(strcmp(o.code, "InvalidAllocationID.NotFound") == 0);

	TEST("associate_by_interface_sends_interface_and_private_ip");
	memset(&o, 0, sizeof(o));
	CHECK(ec2_associate_address(e->ec2, &a, NULL, on_result, &o) != NULL);
	run_until(e->loop, &o.done, 10.);
	CHECK(o.rc == 0);
	stub_get(e, "/last", last, sizeof(last));
	CHECK(strstr(last, "&NetworkInterfaceId=eni-1"
			   "&PrivateIpAddress=10.0.0.5"
			   "&AllowReassociation=true") != NULL);
	CHECK(strstr(last, "InstanceId=") == NULL);

	TEST("cancelled_call_never_calls_back");
	memset(&o, 0, sizeof(o));
	{
		struct ec2_associate_args h = {.instance_id = "i-self"};
		struct ec2_call *c;
		int never = 0;

		/* Always 500: it would retry forever; real backoff waits. */
		h.allocation_id = "eipalloc-500";
		ec2_set_rand(e->ec2, rand_max, NULL);
		c = ec2_associate_address(e->ec2, &h, NULL, on_result, &o);
		CHECK(c != NULL);
		run_until(e->loop, &never, 0.3);
		ec2_cancel(c);
		run_until(e->loop, &never, 0.3);
		CHECK(o.done == 0);
	}
}

struct free_in_cb {
	struct ec2_ctx *ec2;
	int done;
};

static void
free_ctx_cb(void *arg, const struct ec2_result *res)
{
	struct free_in_cb *f = arg;

	(void)res;
	f->done++;
	ec2_free(f->ec2);
}

/*
 * ec2_free from inside a callback, with another call still retrying: it
 * returns (the running call is already off the list; ec2_cancel would
 * skip it) and the other call never calls back.
 */
static void
test_io_free_in_callback(struct env *e)
{
	struct ec2_params p = {
	    .region = "us-east-1", .endpoint = stub_url, .timeout_ms = 500};
	struct ec2_associate_args h = {.instance_id = "i-self",
				       .allocation_id = "eipalloc-500"};
	struct free_in_cb f = {0};
	struct outcome o;
	int never = 0;

	TEST("free_from_inside_a_callback_with_a_call_pending");
	memset(&o, 0, sizeof(o));
	f.ec2 = ec2_new(e->loop, e->http, e->creds, &p);
	CHECK(f.ec2 != NULL);
	if (f.ec2 == NULL)
		return;
	ec2_set_rand(f.ec2, rand_max, NULL);
	CHECK(ec2_associate_address(f.ec2, &h, NULL, on_result, &o) != NULL);
	CHECK(ec2_describe_addresses(f.ec2, NULL, 0, NULL, 0, NULL,
				     free_ctx_cb, &f) != NULL);
	run_until(e->loop, &f.done, 10.);
	CHECK(f.done == 1);
	run_until(e->loop, &never, 0.5);
	CHECK(f.done == 1 && o.done == 0);
}

static void
test_io_skew(struct env *e)
{
	struct outcome o;
	char *dump = NULL;
	size_t dumplen = 0;
	FILE *f;

	TEST("ec2_7_minutes_ahead_is_corrected_from_its_date_and_retried_once");
	CHECK(ec2_clock_offset_s(e->ec2) == 0);
	associate(e, "eipalloc-skew420", "i-self", NULL, &o);
	CHECK(o.done == 1 && o.rc == 0 && o.attempts == 2);
	CHECK(ec2_clock_offset_s(e->ec2) >= 418 &&
	      ec2_clock_offset_s(e->ec2) <= 422);
	f = open_memstream(&dump, &dumplen);
	if (f != NULL) {
		ec2_dump(e->ec2, f);
		fclose(f);
		CHECK(strstr(dump, "ec2 clock offset +4") != NULL);
		free(dump);
	}
	TEST("with_the_offset_known_the_next_call_needs_no_retry");
	associate(e, "eipalloc-skew420", "i-self", NULL, &o);
	CHECK(o.done == 1 && o.rc == 0 && o.attempts == 1);

	TEST("ec2_7_minutes_behind_is_corrected_too");
	associate(e, "eipalloc-skewm420", "i-self", NULL, &o);
	CHECK(o.done == 1 && o.rc == 0 && o.attempts == 2);
	CHECK(ec2_clock_offset_s(e->ec2) >= -422 &&
	      ec2_clock_offset_s(e->ec2) <= -418);

	TEST("an_agreeing_date_clears_the_offset");
	associate(e, "eipalloc-none", "i-self", NULL, &o);
	CHECK(o.rc == 0);
	CHECK(ec2_clock_offset_s(e->ec2) == 0);
}

static void
test_io_dry_run(struct env *e)
{
	struct outcome o;
	struct ec2_associate_args a = {.allocation_id = "eipalloc-none",
				       .instance_id = "i-self",
				       .dry_run = 1};
	char last[512], why[512];

	TEST("dry_run_allowed_is_success_and_moves_nothing");
	memset(&o, 0, sizeof(o));
	CHECK(ec2_associate_address(e->ec2, &a, NULL, on_result, &o) != NULL);
	run_until(e->loop, &o.done, 10.);
	CHECK(o.done == 1 && o.rc == 0 && o.attempts == 1);
	CHECK(strcmp(o.code, "DryRunOperation") == 0);
	stub_get(e, "/last", last, sizeof(last));
	CHECK(strstr(last, "&AllowReassociation=true&DryRun=true") != NULL);

	TEST("dry_run_denied_names_the_action_and_is_not_retried");
	a.allocation_id = "eipalloc-denied";
	memset(&o, 0, sizeof(o));
	CHECK(ec2_associate_address(e->ec2, &a, NULL, on_result, &o) != NULL);
	run_until(e->loop, &o.done, 10.);
	CHECK(o.done == 1 && o.rc == -1 && o.attempts == 1);
	CHECK(strcmp(o.code, "UnauthorizedOperation") == 0);
	CHECK(strstr(o.message, "ec2:AssociateAddress") != NULL);

	TEST("a_denied_call_makes_the_api_unusable_until_a_success");
	CHECK(!ec2_api_usable(e->ec2, why, sizeof(why)));
	CHECK(strstr(why, "UnauthorizedOperation") != NULL);
	associate(e, "eipalloc-none", "i-self", NULL, &o);
	CHECK(o.rc == 0 && ec2_api_usable(e->ec2, why, sizeof(why)));
}

static void
test_io_quota(struct env *e)
{
	struct ec2_params p = {
	    .region = "us-east-1", .endpoint = stub_url, .timeout_ms = 500};
	struct ec2_ctx *ec2 = ec2_new(e->loop, e->http, e->creds, &p), *saved;
	struct backoff_policy unlimited;
	struct outcome o;
	int before;

	CHECK(ec2 != NULL);
	if (ec2 == NULL)
		return;
	saved = e->ec2;
	e->ec2 = ec2;
	ec2_set_rand(ec2, rand_zero, NULL);
	TEST("a_write_that_always_fails_stops_after_its_attempt_limit");
	CHECK(ec2_retry_quota(ec2) == 500);
	before = stub_count(e, "eipalloc-500");
	associate(e, "eipalloc-500", "i-self", NULL, &o);
	CHECK(o.done == 1 && o.rc == -1);
	CHECK(o.attempts == EC2_WRITE_ATTEMPTS);
	CHECK(stub_count(e, "eipalloc-500") - before == EC2_WRITE_ATTEMPTS);
	CHECK(ec2_retry_quota(ec2) == 500 - 5 * (EC2_WRITE_ATTEMPTS - 1));

	TEST("a_write_without_limit_stops_when_the_retry_quota_is_spent");
	ec2_policy_write(&unlimited);
	unlimited.max_attempts = 0;
	before = stub_count(e, "eipalloc-500");
	associate(e, "eipalloc-500", "i-self", &unlimited, &o);
	CHECK(o.done == 1 && o.rc == -1);
	CHECK(o.attempts == 1 + (500 - 5 * (EC2_WRITE_ATTEMPTS - 1)) / 5);
	CHECK(strcmp(o.code, "InternalError") == 0);
	CHECK(stub_count(e, "eipalloc-500") - before == (int)o.attempts);
	CHECK(ec2_retry_quota(ec2) == 0);

	TEST("with_the_quota_empty_a_failure_is_not_retried");
	associate(e, "eipalloc-throttle2q", "i-self", NULL, &o);
	CHECK(o.rc == -1 && o.attempts == 1);

	TEST("successes_refill_the_quota");
	associate(e, "eipalloc-none", "i-self", NULL, &o);
	CHECK(o.rc == 0 && ec2_retry_quota(ec2) == 1);
	associate(e, "eipalloc-none", "i-self", NULL, &o);
	CHECK(ec2_retry_quota(ec2) == 2);
	e->ec2 = saved;
	ec2_free(ec2);
}

static void
test_io_role_creds(struct env *e)
{
	struct imds_ctx *imds;
	struct creds_ctx *role, *saved = e->creds;
	struct ec2_ctx *ec2, *saved_ec2 = e->ec2;
	struct ec2_params p = {
	    .region = "us-east-1", .endpoint = stub_url, .timeout_ms = 500};
	struct outcome o;
	char last[512];

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	/* IMDS here is the loopback stub named explicitly. */
	unsetenv("AWS_EC2_METADATA_DISABLED");
	imds = imds_new(e->loop, e->http, stub_url, 2000);
	role = creds_new(e->loop, imds, "");
	ec2 = ec2_new(e->loop, e->http, role, &p);
	CHECK(imds != NULL && role != NULL && ec2 != NULL);
	if (imds == NULL || role == NULL || ec2 == NULL)
		goto out;
	ec2_set_rand(ec2, rand_zero, NULL);
	e->creds = role;
	e->ec2 = ec2;

	TEST("expired_role_credentials_are_refreshed_and_the_call_retried");
	associate(e, "eipalloc-expired", "i-self", NULL, &o);
	CHECK(o.done == 1 && o.rc == 0 && o.attempts == 2);
	stub_get(e, "/last", last, sizeof(last));
	CHECK(strstr(last, "\ntok-1") != NULL);

	TEST("auth_failure_with_role_credentials_is_retried_only_once");
	associate(e, "eipalloc-auth", "i-self", NULL, &o);
	CHECK(o.done == 1 && o.rc == -1 && o.attempts == 2);
	CHECK(strcmp(o.code, "AuthFailure") == 0);
out:
	e->creds = saved;
	e->ec2 = saved_ec2;
	ec2_free(ec2);
	creds_free(role);
	imds_free(imds);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

/* ---- resources ---- */

struct rs_outcome {
	int done;
	int rc;
	enum resource_owner owner;
	char detail[512];
};

static void
on_rs_done(void *arg, int rc, const char *detail)
{
	struct rs_outcome *o = arg;

	o->done++;
	o->rc = rc;
	util_strlcpy(o->detail, detail ? detail : "", sizeof(o->detail));
}

static void
on_rs_verify(void *arg, enum resource_owner owner, const char *detail)
{
	struct rs_outcome *o = arg;

	o->done++;
	o->owner = owner;
	util_strlcpy(o->detail, detail ? detail : "", sizeof(o->detail));
}

static void
make_config(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nnodes = 2;
	cfg->self = 0;
	cfg->peer = 1;
	util_strlcpy(cfg->nodes[0].name, "node-a", CONFIG_NAME_MAX);
	util_strlcpy(cfg->nodes[1].name, "node-b", CONFIG_NAME_MAX);
	util_strlcpy(cfg->nodes[1].instance_id, "i-peer", CONFIG_ID_MAX);
	cfg->aws_timeout_ms = 2000;
}

static void
add_eip(struct config *cfg, const char *alloc, const char *ip)
{
	struct config_resource *r = &cfg->resources[cfg->nresources++];

	r->type = CONFIG_RES_EIP;
	util_strlcpy(r->allocation_id, alloc ? alloc : "",
		     sizeof(r->allocation_id));
	util_strlcpy(r->public_ip, ip ? ip : "", sizeof(r->public_ip));
}

static enum resource_owner
verify_one(struct env *e, const char *alloc, char *detail, size_t len)
{
	struct config cfg;
	struct resource_env renv = {.loop = e->loop,
				    .http = e->http,
				    .creds = e->creds,
				    .cfg = &cfg,
				    .region = "us-east-1",
				    .endpoint = stub_url,
				    .self_instance = "i-self"};
	struct resource_set *set;
	struct rs_outcome o = {0};

	make_config(&cfg);
	add_eip(&cfg, "eipalloc-self", NULL);
	add_eip(&cfg, alloc, NULL);
	set = resource_new(&renv);
	if (set == NULL)
		return RES_OWNER_UNKNOWN;
	resource_verify(set, on_rs_verify, &o);
	CHECK(o.done == 0);
	run_until(e->loop, &o.done, 10.);
	CHECK(o.done == 1);
	if (detail != NULL)
		util_strlcpy(detail, o.detail, len);
	resource_free(set);
	return o.owner;
}

static void
test_resource_eip(struct env *e)
{
	struct config cfg;
	struct resource_env renv = {.loop = e->loop,
				    .http = e->http,
				    .creds = e->creds,
				    .cfg = &cfg,
				    .region = "us-east-1",
				    .endpoint = stub_url,
				    .self_instance = "i-self"};
	struct resource_set *set;
	struct rs_outcome o;
	char detail[512], *dump = NULL;
	size_t dumplen = 0;
	FILE *f;

	TEST("verify_aggregates_the_most_alarming_owner");
	CHECK(verify_one(e, "eipalloc-self", NULL, 0) == RES_OWNER_SELF);
	CHECK(verify_one(e, "eipalloc-peer", detail, sizeof(detail)) ==
	      RES_OWNER_PEER);
	CHECK(strstr(detail, "i-peer") != NULL);
	CHECK(verify_one(e, "eipalloc-none", NULL, 0) == RES_OWNER_NONE);
	CHECK(verify_one(e, "eipalloc-other", NULL, 0) == RES_OWNER_OTHER);
	CHECK(verify_one(e, "eipalloc-missing", detail, sizeof(detail)) ==
	      RES_OWNER_UNKNOWN);
	CHECK(strstr(detail, "InvalidAllocationID.NotFound") != NULL);

	TEST("prepare_resolves_public_ip_then_verify_and_acquire_use_it");
	make_config(&cfg);
	add_eip(&cfg, NULL, "198.51.100.7");
	add_eip(&cfg, "eipalloc-throttle2r", NULL);
	set = resource_new(&renv);
	CHECK(set != NULL);
	if (set == NULL)
		return;
	memset(&o, 0, sizeof(o));
	resource_prepare(set, on_rs_done, &o);
	run_until(e->loop, &o.done, 10.);
	CHECK(o.done == 1 && o.rc == 0);
	memset(&o, 0, sizeof(o));
	resource_verify(set, on_rs_verify, &o);
	run_until(e->loop, &o.done, 10.);
	/* throttle2r is unassociated in the stub (until acquired). */
	CHECK(o.owner == RES_OWNER_NONE);

	TEST("acquire_associates_every_resource_through_throttling");
	memset(&o, 0, sizeof(o));
	resource_acquire(set, on_rs_done, &o);
	CHECK(o.done == 0);
	run_until(e->loop, &o.done, 20.);
	CHECK(o.done == 1 && o.rc == 0);
	memset(&o, 0, sizeof(o));
	resource_verify(set, on_rs_verify, &o);
	run_until(e->loop, &o.done, 10.);
	CHECK(o.owner == RES_OWNER_SELF);

	TEST("dump_names_resources_owners_and_api_counters");
	f = open_memstream(&dump, &dumplen);
	if (f != NULL) {
		resource_dump(set, f);
		fclose(f);
		CHECK(strstr(dump, "eipalloc-resolved (198.51.100.7)") != NULL);
		CHECK(strstr(dump, "owner self (i-self)") != NULL);
		CHECK(
		    strstr(dump, "AssociateAddress ok=2 retried=2 failed=0") !=
		    NULL);
		free(dump);
	}

	TEST("acquire_failure_reports_the_aws_code");
	resource_free(set);
	make_config(&cfg);
	add_eip(&cfg, "eipalloc-badparam", NULL);
	set = resource_new(&renv);
	memset(&o, 0, sizeof(o));
	resource_acquire(set, on_rs_done, &o);
	run_until(e->loop, &o.done, 10.);
	CHECK(o.done == 1 && o.rc == -1);
	CHECK(strstr(o.detail, "InvalidParameterValue") != NULL);

	TEST("cancelled_acquire_never_calls_back");
	resource_free(set);
	make_config(&cfg);
	add_eip(&cfg, "eipalloc-500", NULL);
	set = resource_new(&renv);
	memset(&o, 0, sizeof(o));
	resource_acquire(set, on_rs_done, &o);
	{
		int never = 0;

		run_until(e->loop, &never, 0.3);
		resource_cancel(set);
		run_until(e->loop, &never, 0.3);
	}
	CHECK(o.done == 0);
	resource_free(set);

	TEST("free_with_an_acquire_in_flight_is_clean");
	set = resource_new(&renv);
	resource_acquire(set, on_rs_done, &o);
	resource_free(set);
	CHECK(o.done == 0);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void
test_resource_file(struct ev_loop *loop)
{
	struct config cfg;
	struct resource_env renv = {.loop = loop, .cfg = &cfg};
	struct resource_set *set;
	struct rs_outcome o;
	char path[] = "/tmp/test_ec2_fileres.XXXXXX";
	char file[CONFIG_PATH_MAX];
	int fd = mkstemp(path);

	TEST("file_resource_acquire_writes_our_name_and_verify_reads_it");
	CHECK(fd != -1);
	if (fd == -1)
		return;
	close(fd);
	unlink(path);
	snprintf(file, sizeof(file), "%s", path);
	make_config(&cfg);
	cfg.resources[0].type = CONFIG_RES_FILE;
	util_strlcpy(cfg.resources[0].path, file, CONFIG_PATH_MAX);
	cfg.nresources = 1;
	set = resource_new(&renv);
	CHECK(set != NULL);
	if (set == NULL)
		return;

	memset(&o, 0, sizeof(o));
	resource_verify(set, on_rs_verify, &o);
	CHECK(o.done == 0);
	run_until(loop, &o.done, 2.);
	CHECK(o.owner == RES_OWNER_NONE);

	memset(&o, 0, sizeof(o));
	resource_acquire(set, on_rs_done, &o);
	CHECK(o.done == 0);
	run_until(loop, &o.done, 2.);
	CHECK(o.done == 1 && o.rc == 0);
	memset(&o, 0, sizeof(o));
	resource_verify(set, on_rs_verify, &o);
	run_until(loop, &o.done, 2.);
	CHECK(o.owner == RES_OWNER_SELF);

	TEST("file_resource_classifies_peer_empty_and_strangers");
	write_file(file, "node-b\n");
	memset(&o, 0, sizeof(o));
	resource_verify(set, on_rs_verify, &o);
	run_until(loop, &o.done, 2.);
	CHECK(o.owner == RES_OWNER_PEER);
	write_file(file, "");
	memset(&o, 0, sizeof(o));
	resource_verify(set, on_rs_verify, &o);
	run_until(loop, &o.done, 2.);
	CHECK(o.owner == RES_OWNER_NONE);
	write_file(file, "node-z");
	memset(&o, 0, sizeof(o));
	resource_verify(set, on_rs_verify, &o);
	run_until(loop, &o.done, 2.);
	CHECK(o.owner == RES_OWNER_OTHER);
	CHECK(strstr(o.detail, "node-z") != NULL);
	unlink(file);
	resource_free(set);
}

static void
test_io(struct ev_loop *loop)
{
	struct env e = {.loop = loop};
	struct ec2_params p = {
	    .region = "us-east-1", .endpoint = stub_url, .timeout_ms = 500};

	if (stub_start() == -1) {
		fprintf(stderr, "# no %s: EC2 I/O tests skipped\n", PYTHON);
		stub_stop();
		return;
	}
	/* Static credentials from the environment only; never real AWS. */
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY",
	       "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	e.http = http_new(loop);
	e.creds = creds_new(loop, NULL, "");
	e.ec2 = ec2_new(loop, e.http, e.creds, &p);
	CHECK(e.http && e.creds && e.ec2);
	if (e.http && e.creds && e.ec2) {
		test_io_retries(&e);
		test_io_calls(&e);
		test_resource_eip(&e);
		test_io_free_in_callback(&e);
		test_io_skew(&e);
		test_io_dry_run(&e);
		test_io_quota(&e);
		test_io_role_creds(&e);
	}
	ec2_free(e.ec2);
	creds_free(e.creds);
	http_free(e.http);
	stub_stop();
}

int
main(void)
{
	struct ev_loop *loop = ev_default_loop(0);

	log_init(LOG_LEVEL_DEBUG);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	test_parse_describe();
	test_parse_others();
	test_classify();
	test_next_step();
	test_endpoint();
	test_skew();
	test_form();
	test_resource_file(loop);
	test_io(loop);
	ev_loop_destroy(loop);
	return check_done();
}
