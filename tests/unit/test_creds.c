/*
 * test_creds.c - the pure parts of the credential chain (credentials file,
 * IMDS JSON documents, times, refresh schedule) and the chain's environment
 * and file steps, which need a loop but no network.
 */
#include "check.h"
#include "creds.h"
#include "creds_file.h"
#include "imds.h"
#include "log.h"
#include "util.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[2048];

static int
parse(const char *text, const char *profile, struct creds *c)
{
	err[0] = '\0';
	return creds_parse_file(text, strlen(text), "creds", profile, c, err,
				sizeof(err));
}

static int
has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static void
test_file_good(void)
{
	struct creds c;

	TEST("file_profile_found_among_comments_and_other_profiles");
	CHECK(parse("# comment\n"
		    "; another\n"
		    "\n"
		    "[other]\n"
		    "aws_access_key_id = AKIAOTHER\n"
		    "aws_secret_access_key = othersecret\n"
		    "[default]\n"
		    "  aws_access_key_id=AKIADEFAULT  \n"
		    "aws_secret_access_key\t=\tsec/ret+with=equals\n"
		    "region = eu-west-1\n",
		    "default", &c) == 0);
	CHECK(strcmp(c.access_key_id, "AKIADEFAULT") == 0);
	CHECK(strcmp(c.secret_access_key, "sec/ret+with=equals") == 0);
	CHECK(c.session_token[0] == '\0');
	CHECK(c.source == CREDS_FILE);
	CHECK(c.expiration_ms == 0);

	TEST("file_crlf_and_no_trailing_newline");
	CHECK(parse("[p]\r\naws_access_key_id = AKIA1\r\n"
		    "aws_secret_access_key = s1\r\naws_session_token = tok",
		    "p", &c) == 0);
	CHECK(strcmp(c.access_key_id, "AKIA1") == 0);
	CHECK(strcmp(c.secret_access_key, "s1") == 0);
	CHECK(strcmp(c.session_token, "tok") == 0);

	TEST("file_keys_case_insensitive_profile_prefix_and_bom");
	CHECK(parse("\xef\xbb\xbf[profile prod] ; trailing comment\n"
		    "AWS_Access_Key_Id = AKIA2\n"
		    "AWS_SECRET_ACCESS_KEY = s2\n",
		    "prod", &c) == 0);
	CHECK(strcmp(c.access_key_id, "AKIA2") == 0);

	TEST("file_profile_names_are_case_sensitive");
	CHECK(parse("[Prod]\naws_access_key_id=a\naws_secret_access_key=b\n",
		    "prod", &c) == 1);
}

static void
test_file_odd(void)
{
	struct creds c;

	TEST("file_unknown_profile_says_which");
	CHECK(parse("[a]\naws_access_key_id=x\naws_secret_access_key=y\n", "b",
		    &c) == 1);
	CHECK(has(err, "creds: no profile [b]"));

	TEST("file_duplicate_section_is_an_error_with_both_lines");
	CHECK(parse("[p]\naws_access_key_id=x\naws_secret_access_key=y\n"
		    "[q]\n[p]\naws_access_key_id=z\n",
		    "p", &c) == -1);
	CHECK(has(err, "creds:5:") && has(err, "line 1"));
	CHECK(c.access_key_id[0] == '\0' && c.secret_access_key[0] == '\0');

	TEST("file_duplicate_other_section_is_harmless");
	CHECK(parse("[q]\n[q]\n[p]\naws_access_key_id=x\n"
		    "aws_secret_access_key=y\n",
		    "p", &c) == 0);

	TEST("file_duplicate_key_is_an_error");
	CHECK(parse("[p]\naws_access_key_id=x\naws_access_key_id=y\n"
		    "aws_secret_access_key=s\n",
		    "p", &c) == -1);
	CHECK(has(err, "creds:3:") && has(err, "twice"));

	TEST("file_missing_secret_names_the_key_and_section_line");
	CHECK(parse("\n[p]\naws_access_key_id=x\n", "p", &c) == -1);
	CHECK(has(err, "creds:2:") && has(err, "aws_secret_access_key"));

	TEST("file_missing_key_id");
	CHECK(parse("[p]\naws_secret_access_key=x\n", "p", &c) == -1);
	CHECK(has(err, "aws_access_key_id"));

	TEST("file_role_arn_profile_is_unsupported_clearly");
	CHECK(parse("[p]\nrole_arn=arn:aws:iam::1:role/x\nsource_profile=d\n",
		    "p", &c) == -1);
	CHECK(has(err, "does not support"));

	TEST("file_line_without_equals");
	CHECK(parse("[p]\naws_access_key_id x\n", "p", &c) == -1);
	CHECK(has(err, "creds:2:") && has(err, "key = value"));

	TEST("file_setting_before_any_section");
	CHECK(parse("aws_access_key_id = x\n[p]\n", "p", &c) == -1);
	CHECK(has(err, "creds:1:") && has(err, "outside"));

	TEST("file_unterminated_header_and_junk_after_it");
	CHECK(parse("[p\n", "p", &c) == -1 && has(err, "creds:1:"));
	CHECK(parse("[p] x\n", "p", &c) == -1 && has(err, "after ']'"));
	CHECK(parse("[ ]\n", "p", &c) == -1 && has(err, "empty section"));

	TEST("file_empty_key");
	CHECK(parse("[p]\n = v\n", "p", &c) == -1 && has(err, "missing key"));

	TEST("file_nul_byte");
	CHECK(creds_parse_file("[p]\n\0x=1\n", 9, "creds", "p", &c, err,
			       sizeof(err)) == -1);
	CHECK(has(err, "creds:2:"));

	TEST("file_error_never_quotes_a_secret");
	CHECK(parse("[p]\naws_access_key_id=AKIA\n"
		    "aws_secret_access_key=TOPSECRET with space\n",
		    "p", &c) == -1);
	CHECK(!has(err, "TOPSECRET") && has(err, "creds:3:"));
	CHECK(parse("[p]\naws_access_key_id=AKIA\nTOPSECRET\n", "p", &c) == -1);
	CHECK(!has(err, "TOPSECRET"));

	TEST("file_value_too_long");
	{
		char big[6000];
		int n = snprintf(big, sizeof(big), "[p]\naws_access_key_id=");
		memset(big + n, 'A', 200);
		strcpy(big + n + 200, "\naws_secret_access_key=s\n");
		CHECK(parse(big, "p", &c) == -1 && has(err, "too long"));
	}

	TEST("file_empty_input");
	CHECK(parse("", "default", &c) == 1);
}

static void
test_schedule(void)
{
	uint64_t r, s, h = 3600 * 1000ull;

	TEST("schedule_six_hour_credentials_refresh_15_min_early");
	creds_schedule(0, 6 * h, &r, &s);
	CHECK(r == 6 * h - 15 * 60 * 1000);
	CHECK(s == 6 * h - 5 * 60 * 1000);

	TEST("schedule_short_credentials_scale_with_lifetime");
	creds_schedule(1000000, 1000000 + 60000, &r, &s);
	CHECK(r == 1000000 + 45000);
	CHECK(s == 1000000 + 54000);
	creds_schedule(0, 4000, &r, &s);
	CHECK(r == 3000 && s == 3600);
	CHECK(r < s);

	TEST("schedule_already_expired_is_stale_now");
	creds_schedule(5000, 4000, &r, &s);
	CHECK(r == 5000 && s == 5000);
}

/* ---- the chain without IMDS ---- */

struct got {
	int calls;
	int ok;
	struct creds c;
	char err[2048];
};

static void
got_cb(void *arg, const struct creds *c, const char *e)
{
	struct got *g = arg;

	g->calls++;
	g->ok = c != NULL;
	if (c != NULL)
		g->c = *c;
	util_strlcpy(g->err, e ? e : "", sizeof(g->err));
}

static void
get_once(struct ev_loop *loop, struct creds_ctx *ctx, struct got *g)
{
	int i;

	memset(g, 0, sizeof(*g));
	creds_get(ctx, got_cb, g);
	for (i = 0; i < 100 && g->calls == 0; i++)
		ev_run(loop, EVRUN_ONCE);
}

static void
clear_env(void)
{
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/eipfloatd/creds",
	       1);
}

static void
test_chain(struct ev_loop *loop, const char *dir)
{
	struct creds_ctx *ctx;
	struct got g;
	char path[1024];
	FILE *f;

	clear_env();
	TEST("chain_environment_first");
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	ctx = creds_new(loop, NULL, "");
	CHECK(creds_current_source(ctx) == CREDS_NONE);
	get_once(loop, ctx, &g);
	CHECK(g.calls == 1 && g.ok);
	CHECK(strcmp(g.c.access_key_id, "AKIAENV") == 0);
	CHECK(strcmp(g.c.session_token, "envtoken") == 0);
	CHECK(creds_current_source(ctx) == CREDS_ENV);
	CHECK(creds_current_expiration(ctx) == 0);

	TEST("chain_cached_credentials_answer_synchronously");
	memset(&g, 0, sizeof(g));
	creds_get(ctx, got_cb, &g);
	CHECK(g.calls == 1 && g.ok);
	creds_free(ctx);

	TEST("chain_half_an_env_key_pair_is_an_error");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	ctx = creds_new(loop, NULL, "");
	memset(&g, 0, sizeof(g));
	creds_get(ctx, got_cb, &g);
	CHECK(g.calls == 0); /* failures come from the loop */
	ev_run(loop, EVRUN_ONCE);
	CHECK(g.calls == 1 && !g.ok);
	CHECK(has(g.err, "AWS_SECRET_ACCESS_KEY"));
	creds_free(ctx);

	TEST("chain_env_value_with_newline_is_an_error");
	setenv("AWS_SECRET_ACCESS_KEY", "abc\r\nX-Evil: 1", 1);
	ctx = creds_new(loop, NULL, "");
	get_once(loop, ctx, &g);
	CHECK(!g.ok && has(g.err, "non-ASCII") && !has(g.err, "Evil"));
	creds_free(ctx);
	clear_env();

	TEST("chain_file_profile_from_config_then_env");
	snprintf(path, sizeof(path), "%s/credentials", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs("[default]\naws_access_key_id = AKIADEF\n"
	      "aws_secret_access_key = d\n"
	      "[prod]\naws_access_key_id = AKIAPROD\n"
	      "aws_secret_access_key = p\n",
	      f);
	fclose(f);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	ctx = creds_new(loop, NULL, "");
	get_once(loop, ctx, &g);
	CHECK(g.ok && strcmp(g.c.access_key_id, "AKIADEF") == 0);
	CHECK(creds_current_source(ctx) == CREDS_FILE);
	creds_free(ctx);
	setenv("AWS_PROFILE", "prod", 1);
	ctx = creds_new(loop, NULL, "");
	get_once(loop, ctx, &g);
	CHECK(g.ok && strcmp(g.c.access_key_id, "AKIAPROD") == 0);
	creds_free(ctx);
	ctx = creds_new(loop, NULL, "default"); /* config beats AWS_PROFILE */
	get_once(loop, ctx, &g);
	CHECK(g.ok && strcmp(g.c.access_key_id, "AKIADEF") == 0);
	creds_free(ctx);

	TEST("chain_requested_profile_missing_is_an_error");
	ctx = creds_new(loop, NULL, "staging");
	get_once(loop, ctx, &g);
	CHECK(!g.ok && has(g.err, "no profile [staging]"));
	creds_free(ctx);
	unsetenv("AWS_PROFILE");

	TEST("chain_requested_profile_without_file_is_an_error");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/x", 1);
	ctx = creds_new(loop, NULL, "prod");
	get_once(loop, ctx, &g);
	CHECK(!g.ok && has(g.err, "profile prod") &&
	      has(g.err, "/nonexistent/x"));
	creds_free(ctx);

	TEST("chain_file_rotated_then_invalidate_rereads_it");
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	ctx = creds_new(loop, NULL, "");
	get_once(loop, ctx, &g);
	CHECK(g.ok && strcmp(g.c.access_key_id, "AKIADEF") == 0);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs("[default]\naws_access_key_id = AKIANEW\n"
		      "aws_secret_access_key = n\n",
		      f);
		fclose(f);
	}
	get_once(loop, ctx, &g);
	CHECK(g.ok && strcmp(g.c.access_key_id, "AKIADEF") == 0);
	creds_invalidate(ctx);
	get_once(loop, ctx, &g);
	CHECK(g.ok && strcmp(g.c.access_key_id, "AKIANEW") == 0);
	creds_free(ctx);

	TEST("chain_nothing_anywhere_without_imds");
	clear_env();
	ctx = creds_new(loop, NULL, "");
	get_once(loop, ctx, &g);
	CHECK(!g.ok && has(g.err, "no AWS credentials"));
	CHECK(creds_current_source(ctx) == CREDS_NONE);
	creds_free(ctx);
	unlink(path);
}

static void
test_endpoint(struct ev_loop *loop)
{
	struct imds_ctx *imds;

	TEST("imds_endpoint_config_then_env_then_default");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.2:9/", 1);
	imds = imds_new(loop, NULL, "http://127.0.0.1:1234/", 1000);
	CHECK(strcmp(imds_endpoint(imds), "http://127.0.0.1:1234") == 0);
	imds_free(imds);
	imds = imds_new(loop, NULL, "", 1000);
	CHECK(strcmp(imds_endpoint(imds), "http://127.0.0.2:9") == 0);
	imds_free(imds);
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	imds = imds_new(loop, NULL, NULL, 1000);
	CHECK(strcmp(imds_endpoint(imds), IMDS_DEFAULT_ENDPOINT) == 0);
	imds_free(imds);

	TEST("imds_disabled_env_is_case_insensitive");
	setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
	imds = imds_new(loop, NULL, "http://127.0.0.1:1", 1000);
	CHECK(imds_disabled(imds));
	imds_free(imds);
	setenv("AWS_EC2_METADATA_DISABLED", "false", 1);
	imds = imds_new(loop, NULL, "http://127.0.0.1:1", 1000);
	CHECK(!imds_disabled(imds));
	imds_free(imds);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

int
main(void)
{
	struct ev_loop *loop = ev_default_loop(0);
	char dir[] = "/tmp/test_creds.XXXXXX";

	log_init(LOG_LEVEL_WARNING);
	/* Nothing here may talk to a metadata service. */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	test_file_good();
	test_file_odd();
	test_schedule();
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_chain(loop, dir);
	rmdir(dir);
	test_endpoint(loop);
	ev_loop_destroy(loop);
	return check_done();
}
