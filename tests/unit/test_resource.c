/*
 * test_resource.c - the resource group (resource.c) over the test-only
 * file driver: the worst owner wins, callbacks never run inside the call,
 * the first failure is the one reported, cancel silences an answer.
 */
#include "check.h"
#include "config.h"
#include "resource.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ev_loop *loop;
static char dir[64];

struct answer {
	int calls;
	int rc;
	enum resource_owner owner;
	char detail[512];
};

static void
on_owner(void *arg, enum resource_owner owner, const char *detail)
{
	struct answer *a = arg;

	a->calls++;
	a->owner = owner;
	snprintf(a->detail, sizeof(a->detail), "%s", detail ? detail : "");
}

static void
on_done(void *arg, int rc, const char *detail)
{
	struct answer *a = arg;

	a->calls++;
	a->rc = rc;
	snprintf(a->detail, sizeof(a->detail), "%s", detail ? detail : "");
}

static void
run_loop(void)
{
	for (int i = 0; i < 5; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

static void
path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
write_owner(const char *name, const char *node)
{
	char path[256];
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, "w");
	if (f == NULL)
		return;
	fprintf(f, "%s\n", node);
	fclose(f);
}

/* Two nodes, one file resource per name given. */
static void
make_config(struct config *cfg, const char *const *files, unsigned n)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->nodes[0].name, sizeof(cfg->nodes[0].name), "node-a");
	snprintf(cfg->nodes[1].name, sizeof(cfg->nodes[1].name), "node-b");
	cfg->nnodes = 2;
	cfg->self = 0;
	cfg->peer = 1;
	for (unsigned i = 0; i < n; i++) {
		cfg->resources[i].type = CONFIG_RES_FILE;
		path_of(cfg->resources[i].path, sizeof(cfg->resources[i].path),
			files[i]);
	}
	cfg->nresources = n;
}

static struct resource_set *
group(const struct config *cfg)
{
	struct resource_env env = {.loop = loop, .cfg = cfg};

	return resource_new(&env);
}

static void
test_verify_answers_after_the_call_returns(void)
{
	static const char *const f[] = {"v1"};
	struct config cfg;
	struct resource_set *set;
	struct answer a = {0};

	TEST("verify_answers_after_the_call_returns");
	make_config(&cfg, f, 1);
	set = group(&cfg);
	CHECK(set != NULL);
	if (set == NULL)
		return;
	resource_verify(set, on_owner, &a);
	CHECK(a.calls == 0);
	run_loop();
	CHECK(a.calls == 1);
	CHECK(a.owner == RES_OWNER_NONE);
	CHECK(strstr(a.detail, "is not associated") != NULL);
	resource_free(set);
}

static void
test_acquire_then_all_on_self(void)
{
	static const char *const f[] = {"s1", "s2"};
	struct config cfg;
	struct resource_set *set;
	struct answer a = {0}, v = {0};

	TEST("acquire_then_verify_says_all_on_self");
	make_config(&cfg, f, 2);
	set = group(&cfg);
	if (set == NULL) {
		CHECK(set != NULL);
		return;
	}
	resource_acquire(set, on_done, &a);
	CHECK(a.calls == 0);
	run_loop();
	CHECK(a.calls == 1 && a.rc == 0);
	resource_verify(set, on_owner, &v);
	run_loop();
	CHECK(v.calls == 1);
	CHECK(v.owner == RES_OWNER_SELF);
	CHECK(strcmp(v.detail, "all 2 resources on node-a") == 0);
	resource_free(set);
}

static void
test_worst_owner_wins(void)
{
	static const char *const f[] = {"w1", "w2", "w3"};
	struct config cfg;
	struct resource_set *set;
	struct answer v = {0};
	char bad[256];

	TEST("worst_owner_wins_self_none_other_peer_unknown");
	make_config(&cfg, f, 3);
	set = group(&cfg);
	if (set == NULL) {
		CHECK(set != NULL);
		return;
	}
	write_owner("w1", "node-a");
	write_owner("w2", "somebody");
	resource_verify(set, on_owner, &v);
	run_loop();
	CHECK(v.owner == RES_OWNER_OTHER); /* self, other, none */
	CHECK(strstr(v.detail, "somebody (neither node)") != NULL);
	write_owner("w3", "node-b");
	resource_verify(set, on_owner, &v);
	run_loop();
	CHECK(v.owner == RES_OWNER_PEER);
	CHECK(strstr(v.detail, "node-b (the peer)") != NULL);
	resource_free(set);

	/* A path below a regular file cannot be read: unknown beats all. */
	path_of(bad, sizeof(bad), "w1/below");
	snprintf(cfg.resources[0].path, sizeof(cfg.resources[0].path), "%s",
		 bad);
	set = group(&cfg);
	if (set == NULL) {
		CHECK(set != NULL);
		return;
	}
	resource_verify(set, on_owner, &v);
	run_loop();
	CHECK(v.owner == RES_OWNER_UNKNOWN);
	CHECK(v.calls == 3);
	resource_free(set);
}

static void
test_acquire_failure_reports_it(void)
{
	static const char *const f[] = {"ok", "nodir/x"};
	struct config cfg;
	struct resource_set *set;
	struct answer a = {0};

	TEST("acquire_failure_reports_the_failing_resource");
	make_config(&cfg, f, 2);
	set = group(&cfg);
	if (set == NULL) {
		CHECK(set != NULL);
		return;
	}
	resource_acquire(set, on_done, &a);
	run_loop();
	CHECK(a.calls == 1);
	CHECK(a.rc == -1);
	CHECK(strstr(a.detail, "nodir/x") != NULL);
	resource_free(set);
}

static void
test_cancel_silences_the_answer(void)
{
	static const char *const f[] = {"c1"};
	struct config cfg;
	struct resource_set *set;
	struct answer v = {0}, a = {0};

	TEST("cancel_silences_pending_answers");
	make_config(&cfg, f, 1);
	set = group(&cfg);
	if (set == NULL) {
		CHECK(set != NULL);
		return;
	}
	resource_verify(set, on_owner, &v);
	resource_acquire(set, on_done, &a);
	resource_cancel(set);
	run_loop();
	CHECK(v.calls == 0);
	CHECK(a.calls == 0);
	resource_free(set);
}

static void
test_eip_needs_the_api(void)
{
	struct config cfg;

	TEST("eip_without_the_ec2_api_is_refused");
	make_config(&cfg, NULL, 0);
	cfg.resources[0].type = CONFIG_RES_EIP;
	snprintf(cfg.resources[0].allocation_id,
		 sizeof(cfg.resources[0].allocation_id), "eipalloc-0abc1234");
	cfg.nresources = 1;
	CHECK(group(&cfg) == NULL);
}

int
main(void)
{
	char cmd[96];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/test_resource.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 99;
	loop = ev_default_loop(0);
	test_verify_answers_after_the_call_returns();
	test_acquire_then_all_on_self();
	test_worst_owner_wins();
	test_acquire_failure_reports_it();
	test_cancel_silences_the_answer();
	test_eip_needs_the_api();
	rc = check_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
