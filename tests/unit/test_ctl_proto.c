/*
 * test_ctl_proto.c - the control socket's request parser and answer
 * framing: every request round-trips, garbage and overlong lines are
 * refused, a partial line asks for more.
 */
#include "check.h"
#include "ctl_proto.h"

#include <string.h>

static enum ctl_parse
parse(const char *s, struct ctl_request *req, size_t *used)
{
	char err[128];

	return ctl_parse_request(s, strlen(s), req, used, err, sizeof(err));
}

static void
every_request_round_trips(void)
{
	static const struct ctl_request reqs[] = {
	    {CTL_CMD_STATUS},
	    {CTL_CMD_STATUS_JSON},
	    {CTL_CMD_METRICS},
	};
	char line[CTL_REQUEST_MAX];
	struct ctl_request got;
	size_t used, n;

	TEST("every_request_round_trips");
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		n = ctl_format_request(&reqs[i], line, sizeof(line));
		CHECK(n > 1 && line[n - 1] == '\n');
		CHECK(parse(line, &got, &used) == CTL_PARSE_OK);
		CHECK(used == n);
		CHECK(got.cmd == reqs[i].cmd);
	}
}

static void
partial_line_asks_for_more(void)
{
	struct ctl_request r;
	size_t used;

	TEST("partial_line_asks_for_more");
	CHECK(parse("", &r, &used) == CTL_PARSE_MORE);
	CHECK(parse("stat", &r, &used) == CTL_PARSE_MORE);
	CHECK(parse("status", &r, &used) == CTL_PARSE_MORE);
	CHECK(parse("status\nmetrics\n", &r, &used) == CTL_PARSE_OK &&
	      used == 7 && r.cmd == CTL_CMD_STATUS);
}

static void
operator_requests_parse_and_format_back(void)
{
	static const char *const lines[] = {
	    "switchover\n", "switchover force\n", "maintenance on\n",
	    "maintenance on force\n", "maintenance off\n"};
	char back[CTL_REQUEST_MAX];
	struct ctl_request r;
	size_t used;

	TEST("operator_requests_parse_and_format_back");
	CHECK(parse("switchover force\n", &r, &used) == CTL_PARSE_OK &&
	      r.cmd == CTL_CMD_SWITCHOVER && r.force == 1);
	CHECK(parse("maintenance off\n", &r, &used) == CTL_PARSE_OK &&
	      r.cmd == CTL_CMD_MAINTENANCE_OFF && r.force == 0);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		CHECK(parse(lines[i], &r, &used) == CTL_PARSE_OK);
		ctl_format_request(&r, back, sizeof(back));
		CHECK(strcmp(back, lines[i]) == 0);
	}
	CHECK(parse("maintenance off force\n", &r, &used) == CTL_PARSE_ERROR);
	CHECK(parse("maintenance\n", &r, &used) == CTL_PARSE_ERROR);
	CHECK(parse("switchover --force\n", &r, &used) == CTL_PARSE_ERROR);
}

static void
garbage_is_refused(void)
{
	char big[CTL_REQUEST_MAX + 10], err[128];
	struct ctl_request r;
	size_t used;

	TEST("garbage_is_refused");
	CHECK(parse("bogus\n", &r, &used) == CTL_PARSE_ERROR);
	CHECK(parse("status  json\n", &r, &used) == CTL_PARSE_ERROR);
	CHECK(parse("status json force\n", &r, &used) == CTL_PARSE_ERROR);
	CHECK(parse("metrics \n", &r, &used) == CTL_PARSE_ERROR);
	CHECK(parse(" status\n", &r, &used) == CTL_PARSE_ERROR);
	CHECK(parse("status\r\n", &r, &used) == CTL_PARSE_ERROR);
	CHECK(parse("\x01\x02", &r, &used) == CTL_PARSE_ERROR);
	CHECK(ctl_parse_request("st\0tus\n", 7, &r, &used, err, sizeof(err)) ==
	      CTL_PARSE_ERROR);
	memset(big, 'a', sizeof(big));
	CHECK(ctl_parse_request(big, sizeof(big), &r, &used, err,
				sizeof(err)) == CTL_PARSE_ERROR);
	CHECK(strstr(err, "longer") != NULL);
	/* a newline past the limit does not make an overlong line valid */
	memcpy(big, "status", 6);
	big[sizeof(big) - 1] = '\n';
	CHECK(ctl_parse_request(big, sizeof(big), &r, &used, err,
				sizeof(err)) == CTL_PARSE_ERROR);
}

static void
answer_header_round_trips_and_is_bounded(void)
{
	char h[CTL_HEADER_MAX], err[128];
	size_t n, body, used;
	int ok;

	TEST("answer_header_round_trips_and_is_bounded");
	n = ctl_frame_header(1, 1234, h, sizeof(h));
	CHECK(ctl_parse_header(h, n, &ok, &body, &used, err, sizeof(err)) ==
		  CTL_PARSE_OK &&
	      ok == 1 && body == 1234 && used == n);
	n = ctl_frame_header(0, 0, h, sizeof(h));
	CHECK(ctl_parse_header(h, n, &ok, &body, &used, err, sizeof(err)) ==
		  CTL_PARSE_OK &&
	      ok == 0 && body == 0);
	CHECK(ctl_parse_header("OK 12", 5, &ok, &body, &used, err,
			       sizeof(err)) == CTL_PARSE_MORE);
	CHECK(ctl_parse_header("OK 99999999\n", 12, &ok, &body, &used, err,
			       sizeof(err)) == CTL_PARSE_ERROR);
	CHECK(ctl_parse_header("OK \n", 4, &ok, &body, &used, err,
			       sizeof(err)) == CTL_PARSE_ERROR);
	CHECK(ctl_parse_header("YES 1\n", 6, &ok, &body, &used, err,
			       sizeof(err)) == CTL_PARSE_ERROR);
	CHECK(ctl_parse_header("OK -1\n", 6, &ok, &body, &used, err,
			       sizeof(err)) == CTL_PARSE_ERROR);
}

int
main(void)
{
	every_request_round_trips();
	partial_line_asks_for_more();
	garbage_is_refused();
	operator_requests_parse_and_format_back();
	answer_header_round_trips_and_is_bounded();
	return check_done();
}
