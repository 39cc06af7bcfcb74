/*
 * log.h - the daemon's logging: four verbs plus notice, journal-friendly
 * output on stderr, and rate limiting of repeated messages.
 */
#ifndef EIPFLOATD_LOG_H
#define EIPFLOATD_LOG_H

#include <stdarg.h>
#include <stdint.h>

/* Values are syslog priorities, so they can prefix journal lines as <N>. */
enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/*
 * Structured fields for the journal (ignored on stderr): one MESSAGE_ID
 * per kind of event, so `journalctl MESSAGE_ID=...` lists them all. The
 * ids are listed in eipfloatd(8); never change one.
 */
#define LOG_ID_STATE_CHANGE "6cd665e9687643c187401f89bbe304cc"
#define LOG_ID_FAILOVER "54f6364d249c443fb0991995dc848f9c"
#define LOG_ID_EC2_ERROR "fd5e3d2cc8394992a7ae4528946652cb"
#define LOG_ID_REJECTED "608e0810772a4ba29f6a4aeae598f96d"

struct log_fields {
	const char *message_id;
	const char *state, *from, *reason, *peer; /* NULL: left out */
	int has_term;
	uint64_t term;
};

/* Call once at start-up; decides journal or plain format from the env. */
void log_init(enum log_level level);
void log_set_level(enum log_level level);
/* Parse "error", "warning", "notice", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *name);

void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_msg(enum log_level level, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	LOG_PRINTF(2, 0);

/* log_msg with journal fields (f may be NULL). */
void log_fields_msg(enum log_level level, const struct log_fields *f,
		    const char *fmt, ...) LOG_PRINTF(3, 4);

/*
 * A rate limiter for one class of event (say "bad MAC on link 0"): at most
 * `burst` messages per `interval_ms`; the rest are counted and reported as
 * "(suppressed N similar messages)" on the next message that gets through.
 * Zero-initialise, then set interval_ms and burst.
 */
struct log_ratelimit {
	uint64_t interval_ms;
	unsigned burst;
	uint64_t window_start;
	unsigned printed;
	unsigned long suppressed;
};

/* Logs at `level` unless `rl` says to hold back. */
void log_limited(struct log_ratelimit *rl, enum log_level level,
		 const char *fmt, ...) LOG_PRINTF(3, 4);

/*
 * One recurring warning summarised (say "EC2 retries" during an outage):
 * the first `burst` (0 = 1) are logged; later ones are counted until
 * interval_ms has passed, and the first after that is logged with "(N more
 * in the last M s)", once per interval. log_summary_end logs "WHAT: N more
 * in the last M s" for what was still held back, once the condition has
 * cleared, and starts afresh. Zero-initialise, then set interval_ms, burst.
 */
void log_summarized(struct log_ratelimit *rl, enum log_level level,
		    const char *fmt, ...) LOG_PRINTF(3, 4);
void log_summary_end(struct log_ratelimit *rl, enum log_level level,
		     const char *what);

/* log_limited with journal fields (f may be NULL). */
void log_fields_limited(struct log_ratelimit *rl, enum log_level level,
			const struct log_fields *f, const char *fmt, ...)
	LOG_PRINTF(4, 5);

/* Forget the last message (used by tests that check deduplication). */
void log_flush_repeats(void);

#endif
