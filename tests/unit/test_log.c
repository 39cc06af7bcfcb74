/*
 * test_log.c - the log format (journal priority prefix or timestamp and
 * level) and the rate limiting of repeated messages.
 */
#include "check.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char captured[65536];

/* Run fn with stderr redirected into a temp file; return what it wrote. */
static const char *
capture(void (*fn)(void))
{
	char path[] = "/tmp/eipfloatd-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	ssize_t n;

	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, captured, sizeof(captured) - 1);
	captured[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return captured;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
plain_lines(void)
{
	log_init(LOG_LEVEL_INFO);
	log_err("disk on fire");
	log_info("link 0 up");
	log_debug("not shown at info");
}

static void
journal_lines(void)
{
	char env[64];
	struct stat st;

	/* Pretend systemd gave us this stderr (the capture file). */
	fstat(STDERR_FILENO, &st);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init(LOG_LEVEL_DEBUG);
	log_warn("peer silent");
	log_notice("STANDBY -> ACTIVE: test");
	log_debug("detail");
	unsetenv("JOURNAL_STREAM");
}

static void
repeats(void)
{
	log_init(LOG_LEVEL_INFO);
	log_flush_repeats();
	for (int i = 0; i < 50; i++)
		log_warn("bad packet from 10.0.0.9");
	log_warn("something else");
}

static void
limited(void)
{
	struct log_ratelimit rl = {.interval_ms = 60000, .burst = 3};

	log_init(LOG_LEVEL_INFO);
	for (int i = 0; i < 10; i++)
		log_limited(&rl, LOG_LEVEL_WARNING, "rejected packet %d", i);
	rl.window_start -= 60000; /* as if the window had passed */
	log_limited(&rl, LOG_LEVEL_WARNING, "rejected packet again");
}

static void
summarized(void)
{
	struct log_ratelimit rl = {.interval_ms = 60000};

	log_init(LOG_LEVEL_INFO);
	for (int i = 0; i < 10; i++)
		log_summarized(&rl, LOG_LEVEL_WARNING, "retry %d in %d ms", i,
			       100 * i);
	rl.window_start -= 61000; /* as if a minute had passed */
	log_summarized(&rl, LOG_LEVEL_WARNING, "retry 10 in 5000 ms");
	log_summarized(&rl, LOG_LEVEL_WARNING, "retry 11 in 5000 ms");
	log_summarized(&rl, LOG_LEVEL_WARNING, "retry 12 in 5000 ms");
	log_summary_end(&rl, LOG_LEVEL_NOTICE, "ec2 retries");
	log_summary_end(&rl, LOG_LEVEL_NOTICE, "nothing held");
	log_summarized(&rl, LOG_LEVEL_WARNING, "retry 0 after the end");
}

int
main(void)
{
	const char *out;

	TEST("plain_format_has_timestamp_and_level_and_filters_debug");
	unsetenv("JOURNAL_STREAM");
	out = capture(plain_lines);
	CHECK(strstr(out, " error: disk on fire\n") != NULL);
	CHECK(strstr(out, " info: link 0 up\n") != NULL);
	CHECK(strstr(out, "not shown") == NULL);
	CHECK(out[4] == '-' && out[10] == 'T'); /* 2026-11-26T... */

	TEST("journal_stream_gives_priority_prefix");
	out = capture(journal_lines);
	CHECK(strstr(out, "<4>peer silent\n") != NULL);
	CHECK(strstr(out, "<5>STANDBY -> ACTIVE: test\n") != NULL);
	CHECK(strstr(out, "<7>detail\n") != NULL);

	TEST("identical_warnings_are_suppressed_then_summarised");
	out = capture(repeats);
	CHECK(count(out, "bad packet from 10.0.0.9") == 2); /* once + summary */
	CHECK(strstr(out, "suppressed 49 repeats of: bad packet") != NULL);
	/* the summary is a line of its own, not glued to the next message */
	CHECK(strstr(out, " warning: something else\n") != NULL);

	TEST("rate_limiter_allows_burst_then_counts");
	out = capture(limited);
	CHECK(count(out, "rejected packet ") == 4);
	CHECK(strstr(out, "rejected packet 3") == NULL);
	CHECK(strstr(out, "(suppressed 7 similar messages)") != NULL);

	TEST("differing_retry_warnings_collapse_into_one_line_a_minute");
	out = capture(summarized);
	CHECK(count(out, "retry ") == 3);
	CHECK(strstr(out, "retry 0 in 0 ms\n") != NULL);
	CHECK(strstr(out, "retry 10 in 5000 ms (9 more in the last 61 s)\n") !=
	      NULL);
	CHECK(strstr(out, "ec2 retries: 2 more in the last 0 s\n") != NULL);
	CHECK(strstr(out, "nothing held") == NULL);
	CHECK(strstr(out, "retry 0 after the end\n") != NULL);

	TEST("level_names_parse");
	CHECK(log_level_parse("debug") == LOG_LEVEL_DEBUG);
	CHECK(log_level_parse("warning") == LOG_LEVEL_WARNING);
	CHECK(log_level_parse("loud") == -1);
	return check_done();
}
