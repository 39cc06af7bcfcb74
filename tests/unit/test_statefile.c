/*
 * test_statefile.c - the state directory's file: parse, format, the
 * directory checks (owner, mode), and that a saved flag loads again.
 */
#include "check.h"
#include "statefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
parse_flag_on_off_and_defaults(void)
{
	struct statefile st;
	char err[160];
	const char *on = "# c\nmaintenance=on\n", *off = "maintenance=0";

	TEST("parse_flag_on_off_and_defaults");
	CHECK(statefile_parse(on, strlen(on), &st, err, sizeof(err)) == 0);
	CHECK(st.maintenance == 1);
	CHECK(statefile_parse(off, strlen(off), &st, err, sizeof(err)) == 0);
	CHECK(st.maintenance == 0);
	CHECK(statefile_parse("", 0, &st, err, sizeof(err)) == 0);
	CHECK(st.maintenance == 0);
	CHECK(statefile_parse("future=7\n", 9, &st, err, sizeof(err)) == 0);

	TEST("parse_guard_flag_beside_maintenance");
	on = "guarded=on\nmaintenance=off\n";
	CHECK(statefile_parse(on, strlen(on), &st, err, sizeof(err)) == 0);
	CHECK(st.guarded == 1 && st.maintenance == 0);
	CHECK(statefile_parse("", 0, &st, err, sizeof(err)) == 0);
	CHECK(st.guarded == 0);
	on = "guarded=perhaps\n";
	CHECK(statefile_parse(on, strlen(on), &st, err, sizeof(err)) == -1);
	CHECK(strstr(err, "guarded") != NULL);
}

static void
parse_bad_value_is_an_error(void)
{
	struct statefile st;
	char err[160] = "";
	const char *bad = "maintenance=maybe\n";

	TEST("parse_bad_value_is_an_error");
	CHECK(statefile_parse(bad, strlen(bad), &st, err, sizeof(err)) == -1);
	CHECK(strstr(err, "maybe") != NULL);
}

static void
format_parses_back(void)
{
	struct statefile in = {.maintenance = 1, .guarded = 1}, out;
	char buf[256], err[160];
	size_t n = statefile_format(&in, buf, sizeof(buf));

	TEST("format_parses_back");
	CHECK(n > 0 && n < sizeof(buf));
	CHECK(statefile_parse(buf, n, &out, err, sizeof(err)) == 0);
	CHECK(out.maintenance == 1 && out.guarded == 1);
	in.maintenance = 0;
	n = statefile_format(&in, buf, sizeof(buf));
	CHECK(statefile_parse(buf, n, &out, err, sizeof(err)) == 0);
	CHECK(out.maintenance == 0 && out.guarded == 1);
}

static void
dir_checks_and_round_trip(void)
{
	char dir[] = "/tmp/eipfloatd-statefile.XXXXXX", sub[64], err[512];
	struct statefile st = {.maintenance = 1}, back = {0};

	TEST("dir_checks_and_round_trip");
	if (mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(sub, sizeof(sub), "%s/state", dir);
	/* missing: created 0700, then usable; no file yet means defaults */
	CHECK(statefile_check_dir(sub, err, sizeof(err)) == 0);
	CHECK(statefile_load(sub, &back, err, sizeof(err)) == 0);
	CHECK(back.maintenance == 0);
	CHECK(statefile_save(sub, &st, err, sizeof(err)) == 0);
	CHECK(statefile_load(sub, &back, err, sizeof(err)) == 0);
	CHECK(back.maintenance == 1);
	/* group- or world-writable: refused, and the message says how to fix */
	CHECK(chmod(sub, 0770) == 0);
	CHECK(statefile_check_dir(sub, err, sizeof(err)) == -1);
	CHECK(strstr(err, "group") != NULL && strstr(err, "chmod") != NULL);
	CHECK(chmod(sub, 0702) == 0);
	CHECK(statefile_check_dir(sub, err, sizeof(err)) == -1);
	CHECK(strstr(err, "others") != NULL);
	CHECK(chmod(sub, 0755) == 0);
	CHECK(statefile_check_dir(sub, err, sizeof(err)) == 0);
	/* a file where the directory should be */
	snprintf(sub + strlen(sub), sizeof(sub) - strlen(sub), "/%s",
		 STATEFILE_NAME);
	CHECK(statefile_check_dir(sub, err, sizeof(err)) == -1);
	CHECK(strstr(err, "not a directory") != NULL);
	/* missing parent: unusable, not fatal */
	snprintf(sub, sizeof(sub), "%s/no/such", dir);
	CHECK(statefile_check_dir(sub, err, sizeof(err)) == 1);
	snprintf(sub, sizeof(sub), "%s/state/%s", dir, STATEFILE_NAME);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/state", dir);
	rmdir(sub);
	rmdir(dir);
}

static void
wrong_owner_is_refused(void)
{
	char dir[] = "/tmp/eipfloatd-statefile.XXXXXX", err[512];

	TEST("wrong_owner_is_refused");
	if (geteuid() != 0) {
		fprintf(stderr, "# (skipped: needs root to chown)\n");
		return;
	}
	if (mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(chown(dir, 65534, 65534) == 0);
	CHECK(statefile_check_dir(dir, err, sizeof(err)) == -1);
	CHECK(strstr(err, "owned by uid 65534") != NULL);
	rmdir(dir);
}

int
main(void)
{
	parse_flag_on_off_and_defaults();
	parse_bad_value_is_an_error();
	format_parses_back();
	dir_checks_and_round_trip();
	wrong_owner_is_refused();
	return check_done();
}
