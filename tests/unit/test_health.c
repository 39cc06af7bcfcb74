/*
 * test_health.c - the health check: the pure fall/rise counter against an
 * oracle, and the periodic check.command (fall, rise, timeout, no overlap,
 * reload) with real shell commands.
 */
#include "check.h"
#include "child.h"
#include "health.h"

/* ---- the pure fall/rise counter --------------------------------------- */

/*
 * Oracle, phrased differently from the counters: the first result decides;
 * later, a healthy node turns unhealthy when the last `fall` results all
 * failed, an unhealthy one healthy when the last `rise` all passed.
 */
static enum health_status
oracle(const int *seq, int upto, unsigned fall, unsigned rise)
{
	enum health_status h = seq[0] ? HEALTH_HEALTHY : HEALTH_UNHEALTHY;
	int i, j;

	fall = fall ? fall : 1;
	rise = rise ? rise : 1;
	for (i = 1; i <= upto; i++) {
		unsigned need = h == HEALTH_HEALTHY ? fall : rise;
		int want = h == HEALTH_HEALTHY ? 0 : 1, all = 1;

		if ((unsigned)i + 1 < need)
			continue;
		for (j = i - (int)need + 1; j <= i; j++)
			if (seq[j] != want)
				all = 0;
		if (all)
			h = h == HEALTH_HEALTHY ? HEALTH_UNHEALTHY
					       : HEALTH_HEALTHY;
	}
	return h;
}

static unsigned
trailing(const int *seq, int upto, int value)
{
	unsigned n = 0;

	while (upto >= 0 && seq[upto] == value) {
		n++;
		upto--;
	}
	return n;
}

static void
test_counter_matches_oracle_for_all_sequences(void)
{
	enum { LEN = 10 };
	unsigned fall, rise, bits;
	int seq[LEN], i, bad = 0;

	TEST("counter_matches_oracle_for_all_sequences");
	for (fall = 0; fall <= 5; fall++)
		for (rise = 0; rise <= 5; rise++)
			for (bits = 0; bits < (1u << LEN); bits++) {
				struct health_counter c;
				enum health_status prev = HEALTH_UNKNOWN;

				health_counter_init(&c, fall, rise);
				for (i = 0; i < LEN; i++) {
					enum health_status want;
					int changed;

					seq[i] = (bits >> i) & 1;
					changed = health_count(&c, seq[i]);
					want = oracle(seq, i, fall, rise);
					if (c.health != want ||
					    changed != (want != prev) ||
					    c.oks != trailing(seq, i, 1) ||
					    c.fails != trailing(seq, i, 0))
						bad++;
					prev = want;
				}
			}
	CHECK(bad == 0);
}

static void
test_counter_hysteresis_examples(void)
{
	struct health_counter c;

	TEST("counter_first_result_decides_then_fall_and_rise_apply");
	health_counter_init(&c, 3, 2);
	CHECK(c.health == HEALTH_UNKNOWN);
	CHECK(health_count(&c, 1) == 1 && c.health == HEALTH_HEALTHY);
	CHECK(health_count(&c, 0) == 0 && health_count(&c, 0) == 0);
	CHECK(health_count(&c, 1) == 0 && c.health == HEALTH_HEALTHY);
	CHECK(health_count(&c, 0) == 0 && health_count(&c, 0) == 0);
	CHECK(health_count(&c, 0) == 1 && c.health == HEALTH_UNHEALTHY);
	CHECK(health_count(&c, 0) == 0 && c.fails == 4);
	CHECK(health_count(&c, 1) == 0 && health_count(&c, 0) == 0);
	CHECK(health_count(&c, 1) == 0);
	CHECK(health_count(&c, 1) == 1);
	CHECK(c.health == HEALTH_HEALTHY);

	health_counter_init(&c, 3, 2);
	CHECK(health_count(&c, 0) == 1 && c.health == HEALTH_UNHEALTHY);
}

/* ---- hooks ------------------------------------------------------------ */

/* ---- health check ----------------------------------------------------- */

struct changes {
	int n;
	enum health_status health[16];
	char reason[16][512];
};

static void
on_change(void *arg, enum health_status health, const char *reason)
{
	struct changes *c = arg;

	if (c->n < 16) {
		c->health[c->n] = health;
		util_strlcpy(c->reason[c->n], reason, sizeof(c->reason[0]));
	}
	c->n++;
}

struct wait_changes {
	struct changes *c;
	int n;
};

static int
has_changes(void *arg)
{
	struct wait_changes *w = arg;

	return w->c->n >= w->n;
}

static int
wait_changes(struct changes *c, int n)
{
	struct wait_changes w = {c, n};

	return run_until(has_changes, &w, 10000);
}

static void
test_check_falls_and_rises(void)
{
	struct config cfg;
	struct health *k;
	struct changes ch;
	char *dump = NULL;
	size_t dumplen = 0;
	FILE *f;

	TEST("check_turns_unhealthy_after_fall_failures_and_back_after_rise");
	memset(&ch, 0, sizeof(ch));
	write_file("state", "up\n", 0644);
	base_config(&cfg);
	expand("if [ \"$(cat @/state)\" = up ]; then echo fine; "
	       "else echo 'service down' >&2; exit 7; fi",
	       cfg.check_command, sizeof(cfg.check_command));
	cfg.check_interval_ms = 20;
	cfg.check_timeout_ms = 5000;
	cfg.check_fall = 3;
	cfg.check_rise = 2;
	capture_start();
	k = health_new(loop, &cfg, on_change, &ch);
	CHECK(health_current(k) == HEALTH_UNKNOWN);
	CHECK(wait_changes(&ch, 1));
	CHECK(ch.health[0] == HEALTH_HEALTHY);
	CHECK(strcmp(ch.reason[0], "first check passed") == 0);

	write_file("state", "down\n", 0644);
	CHECK(wait_changes(&ch, 2));
	CHECK(ch.health[1] == HEALTH_UNHEALTHY);
	CHECK(strcmp(ch.reason[1],
		     "check failed 3 times: exit 7: service down") == 0);
	CHECK(health_current(k) == HEALTH_UNHEALTHY);

	write_file("state", "up\n", 0644);
	CHECK(wait_changes(&ch, 3));
	CHECK(ch.health[2] == HEALTH_HEALTHY);
	CHECK(strcmp(ch.reason[2], "check passed 2 times") == 0);
	run_for(200);
	CHECK(ch.n == 3);
	f = open_memstream(&dump, &dumplen);
	health_dump(k, f);
	fclose(f);
	health_free(k);
	capture_end();
	CHECK(strstr(logbuf, "notice: health: healthy -> unhealthy: check "
			     "failed 3 times: exit 7: service down") != NULL);
	CHECK(strstr(logbuf, "check failed (1 of 3): exit 7: service down"));
	CHECK(strstr(dump, "check: healthy, ") != NULL);
	CHECK(strstr(dump, "check: last at ") != NULL);
	CHECK(strstr(dump, ": exit 0 after ") != NULL &&
	      strstr(dump, " ms; output: fine\n") != NULL);
	free(dump);
}

static void
test_check_timeout(void)
{
	struct config cfg;
	struct health *k;
	struct changes ch;
	long pid;

	TEST("hanging_check_is_killed_by_its_timeout_and_counts_as_failure");
	memset(&ch, 0, sizeof(ch));
	base_config(&cfg);
	expand("echo $$ > @/hang.pid; exec sleep 30", cfg.check_command,
	       sizeof(cfg.check_command));
	cfg.check_interval_ms = 60000;
	cfg.check_timeout_ms = 200;
	capture_start();
	k = health_new(loop, &cfg, on_change, &ch);
	CHECK(wait_changes(&ch, 1));
	capture_end();
	CHECK(ch.health[0] == HEALTH_UNHEALTHY);
	CHECK(strcmp(ch.reason[0], "first check failed: timed out after "
				   "200 ms (signal 15)") == 0);
	pid = read_pid("hang.pid");
	CHECK(pid > 0);
	CHECK(wait_gone(pid, 0));
	health_free(k);
}

static void
test_check_never_overlaps(void)
{
	struct config cfg;
	struct health *k;
	struct changes ch;
	char runs[1024];
	int n = 0;
	uint64_t deadline;

	TEST("check_runs_never_overlap_even_with_a_tiny_interval");
	memset(&ch, 0, sizeof(ch));
	base_config(&cfg);
	expand("mkdir @/lock || exit 99; sleep 0.05; rmdir @/lock; "
	       "echo x >> @/runs",
	       cfg.check_command, sizeof(cfg.check_command));
	cfg.check_interval_ms = 1;
	cfg.check_timeout_ms = 5000;
	cfg.check_fall = 1;
	cfg.check_rise = 1;
	capture_start();
	k = health_new(loop, &cfg, on_change, &ch);
	deadline = util_now_ms() + 10000;
	while (util_now_ms() < deadline && n < 8) {
		run_for(50);
		n = read_file("runs", runs, sizeof(runs)) / 2;
	}
	health_free(k);
	capture_end();
	CHECK(n >= 8);
	CHECK(ch.n == 1 && ch.health[0] == HEALTH_HEALTHY);
}

static void
test_check_without_command(void)
{
	struct config cfg;
	struct health *k;
	struct changes ch;
	char *dump = NULL;
	size_t dumplen = 0;
	FILE *f;

	TEST("no_check_command_means_always_healthy_and_nothing_spawned");
	memset(&ch, 0, sizeof(ch));
	base_config(&cfg);
	k = health_new(loop, &cfg, on_change, &ch);
	CHECK(health_current(k) == HEALTH_HEALTHY);
	run_for(100);
	CHECK(ch.n == 0);
	CHECK(health_current(k) == HEALTH_HEALTHY);
	f = open_memstream(&dump, &dumplen);
	health_dump(k, f);
	fclose(f);
	CHECK(strcmp(dump, "check: none configured: healthy\n") == 0);
	free(dump);
	health_free(k);
}

static void
test_check_reload(void)
{
	struct config cfg;
	struct health *k;
	struct changes ch;

	TEST("reload_removing_the_check_command_makes_the_node_healthy");
	memset(&ch, 0, sizeof(ch));
	base_config(&cfg);
	util_strlcpy(cfg.check_command, "echo nope; exit 1",
		     sizeof(cfg.check_command));
	cfg.check_interval_ms = 50;
	capture_start();
	k = health_new(loop, &cfg, on_change, &ch);
	CHECK(wait_changes(&ch, 1));
	CHECK(ch.health[0] == HEALTH_UNHEALTHY);
	CHECK(strcmp(ch.reason[0], "first check failed: exit 1: nope") == 0);
	cfg.check_command[0] = '\0';
	health_reload(k, &cfg);
	CHECK(ch.n == 2 && ch.health[1] == HEALTH_HEALTHY);
	CHECK(strcmp(ch.reason[1], "check.command removed") == 0);
	run_for(200);
	CHECK(ch.n == 2);

	TEST("reload_with_a_new_command_keeps_health_until_fall_failures");
	util_strlcpy(cfg.check_command, "exit 2", sizeof(cfg.check_command));
	cfg.check_fall = 2;
	health_reload(k, &cfg);
	CHECK(health_current(k) == HEALTH_HEALTHY);
	CHECK(wait_changes(&ch, 3));
	CHECK(ch.health[2] == HEALTH_UNHEALTHY);
	CHECK(strcmp(ch.reason[2], "check failed 2 times: exit 2") == 0);
	health_free(k);
	capture_end();
}

int
main(void)
{
	if (child_setup("test_health") == -1)
		return 1;
	test_counter_matches_oracle_for_all_sequences();
	test_counter_hysteresis_examples();
	test_check_falls_and_rises();
	test_check_timeout();
	test_check_never_overlaps();
	test_check_without_command();
	test_check_reload();
	return child_teardown();
}
