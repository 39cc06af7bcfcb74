/*
 * log.c - one line per event. Under systemd (JOURNAL_STREAM set) each line
 * goes to the journal's socket with its priority and structured fields
 * (journal.c); if that fails, or elsewhere, to stderr: with "<N>" when
 * stderr is the journal, else with a timestamp and the level's name.
 */
#include "log.h"
#include "journal.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048
/* An identical warning or error within this window is counted, not shown. */
#define LOG_REPEAT_WINDOW_MS 10000

static enum log_level log_level = LOG_LEVEL_NOTICE;
static int log_journal;

static struct {
	enum log_level level;
	char text[LOG_LINE_MAX];
	uint64_t printed_at;
	unsigned long suppressed;
} last;

static const char *const level_names[] = {
	[LOG_LEVEL_ERR] = "error",     [LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_NOTICE] = "notice", [LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/* True when systemd connected our stderr to the journal (sd-daemon(3)). */
static int
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void
log_init(enum log_level level)
{
	log_level = level;
	log_journal = stderr_is_journal();
	journal_open();
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_level_parse(const char *name)
{
	int i;

	for (i = LOG_LEVEL_ERR; i <= LOG_LEVEL_DEBUG; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	if (strcmp(name, "err") == 0)
		return LOG_LEVEL_ERR;
	if (strcmp(name, "warn") == 0)
		return LOG_LEVEL_WARNING;
	return -1;
}

static int
emit_journal(enum log_level level, const char *text,
	     const struct log_fields *f)
{
	static const struct log_fields none;
	char prio[4], term[24];
	struct journal_field jf[9];
	unsigned n = 0;

	if (f == NULL)
		f = &none;
	snprintf(prio, sizeof(prio), "%d", (int)level);
	snprintf(term, sizeof(term), "%llu", (unsigned long long)f->term);
	jf[n++] = (struct journal_field){"PRIORITY", prio};
	jf[n++] = (struct journal_field){"SYSLOG_IDENTIFIER", "eipfloatd"};
	jf[n++] = (struct journal_field){"MESSAGE", text};
	jf[n++] = (struct journal_field){"MESSAGE_ID", f->message_id};
	jf[n++] = (struct journal_field){"EIPFLOATD_STATE", f->state};
	jf[n++] = (struct journal_field){"EIPFLOATD_FROM", f->from};
	jf[n++] = (struct journal_field){"EIPFLOATD_REASON", f->reason};
	jf[n++] = (struct journal_field){"EIPFLOATD_TERM",
					 f->has_term ? term : NULL};
	jf[n++] = (struct journal_field){"EIPFLOATD_PEER", f->peer};
	return journal_send(jf, n);
}

static void
emit(enum log_level level, const char *text, const struct log_fields *f)
{
	char stamp[64];
	struct timespec ts;
	struct tm tm;

	if (journal_active() && emit_journal(level, text, f) == 0)
		return;
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", (int)level, text);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s: %s\n", stamp, ts.tv_nsec / 1000000,
		level_names[level], text);
}

/*
 * A daemon that hits the same failure every 200 ms must not flood the
 * journal: an identical warning or error is counted while it repeats within
 * the window and shown again, with the count, once the window has passed.
 */
static int
suppress_repeat(enum log_level level, const char *text, char *note,
		size_t notelen, enum log_level *note_level)
{
	uint64_t now = util_now_ms();

	note[0] = '\0';
	if (level > LOG_LEVEL_WARNING)
		return 0;
	if (last.level == level && strcmp(last.text, text) == 0 &&
	    now - last.printed_at < LOG_REPEAT_WINDOW_MS) {
		last.suppressed++;
		return 1;
	}
	if (last.suppressed > 0) {
		snprintf(note, notelen, "(suppressed %lu repeats of: %.200s)",
			 last.suppressed, last.text);
		*note_level = last.level;
	}
	last.level = level;
	util_strlcpy(last.text, text, sizeof(last.text));
	last.printed_at = now;
	last.suppressed = 0;
	return 0;
}

static void
vmsg_fields(enum log_level level, const struct log_fields *f,
	    const char *fmt, va_list ap) LOG_PRINTF(3, 0);

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	vmsg_fields(level, NULL, fmt, ap);
}

void
log_fields_msg(enum log_level level, const struct log_fields *f,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg_fields(level, f, fmt, ap);
	va_end(ap);
}

static void
vmsg_fields(enum log_level level, const struct log_fields *f,
	    const char *fmt, va_list ap)
{
	char text[LOG_LINE_MAX], note[320];
	enum log_level note_level = level;
	int saved = errno;

	if (level > log_level)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	if (suppress_repeat(level, text, note, sizeof(note), &note_level)) {
		errno = saved;
		return;
	}
	/* The summary is a line of its own, at the level of what repeated. */
	if (note[0])
		emit(note_level, note, NULL);
	emit(level, text, f);
	errno = saved;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

#define LOG_VERB(name, level)                                                  \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vmsg(level, fmt, ap);                                      \
		va_end(ap);                                                    \
	}

LOG_VERB(log_err, LOG_LEVEL_ERR)
LOG_VERB(log_warn, LOG_LEVEL_WARNING)
LOG_VERB(log_notice, LOG_LEVEL_NOTICE)
LOG_VERB(log_info, LOG_LEVEL_INFO)
LOG_VERB(log_debug, LOG_LEVEL_DEBUG)

static void
vlimited(struct log_ratelimit *rl, enum log_level level,
	 const struct log_fields *f, const char *fmt, va_list ap)
	LOG_PRINTF(4, 0);

void
log_limited(struct log_ratelimit *rl, enum log_level level, const char *fmt,
	    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlimited(rl, level, NULL, fmt, ap);
	va_end(ap);
}

void
log_fields_limited(struct log_ratelimit *rl, enum log_level level,
		   const struct log_fields *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlimited(rl, level, f, fmt, ap);
	va_end(ap);
}

static void
vlimited(struct log_ratelimit *rl, enum log_level level,
	 const struct log_fields *f, const char *fmt, va_list ap)
{
	char text[LOG_LINE_MAX];
	uint64_t now = util_now_ms();

	if (now - rl->window_start >= rl->interval_ms) {
		rl->window_start = now;
		rl->printed = 0;
	}
	if (rl->printed >= rl->burst) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	vsnprintf(text, sizeof(text), fmt, ap);
	if (rl->suppressed > 0) {
		log_fields_msg(level, f, "%s (suppressed %lu similar messages)",
			       text, rl->suppressed);
		rl->suppressed = 0;
	} else {
		log_fields_msg(level, f, "%s", text);
	}
}

void
log_summarized(struct log_ratelimit *rl, enum log_level level, const char *fmt,
	       ...)
{
	char text[LOG_LINE_MAX];
	uint64_t now = util_now_ms();
	unsigned burst = rl->burst ? rl->burst : 1;
	unsigned long held = 0;
	va_list ap;

	if (rl->printed == 0)
		rl->window_start = now;
	if (rl->printed >= burst) {
		if (now - rl->window_start < rl->interval_ms) {
			rl->suppressed++;
			return;
		}
		held = rl->suppressed;
	} else {
		rl->printed++;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (held > 0)
		log_msg(level, "%s (%lu more in the last %llu s)", text, held,
			(unsigned long long)(now - rl->window_start + 500) /
			    1000);
	else
		log_msg(level, "%s", text);
	if (rl->printed >= burst && now - rl->window_start >= rl->interval_ms)
		rl->window_start = now;
	rl->suppressed = 0;
}

void
log_summary_end(struct log_ratelimit *rl, enum log_level level,
		const char *what)
{
	uint64_t now = util_now_ms();

	if (rl->suppressed > 0)
		log_msg(level, "%s: %lu more in the last %llu s", what,
			rl->suppressed,
			(unsigned long long)(now - rl->window_start + 500) /
			    1000);
	rl->printed = 0;
	rl->suppressed = 0;
}

void
log_flush_repeats(void)
{
	memset(&last, 0, sizeof(last));
}
