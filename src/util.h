/*
 * util.h - small helpers shared by the I/O modules: clocks and strings.
 */
#ifndef EIPFLOATD_UTIL_H
#define EIPFLOATD_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic milliseconds (CLOCK_MONOTONIC); never goes back. */
uint64_t util_now_ms(void);
/* Wall-clock milliseconds since the epoch (CLOCK_REALTIME). */
uint64_t util_wall_ms(void);
/* Wall-clock ms as "2026-11-26T03:31:10Z" (UTC), for dumps and logs. */
void util_format_wall(uint64_t ms, char *buf, size_t len);
/* strlcpy semantics: always NUL-terminates, returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t size);
/*
 * Read up to n bytes from fd, retrying short reads and EINTR; the count
 * read (less than n at end of file or on an error, errno then set).
 */
size_t util_read_full(int fd, void *buf, size_t n);
/* Overwrite secrets so the compiler cannot drop the store. */
void util_explicit_bzero(void *p, size_t n);
/*
 * free() a malloc()ed block that may hold a secret, zeroing all of it
 * first (its usable size: the caller need not know the length). Also
 * jansson's free function, so parsed credentials leave no copy behind.
 */
void util_free_secret(void *p);

struct stat;
/*
 * A directory only the daemon may write (the runtime and state
 * directories): st, from stat or lstat of dir, must be a directory owned
 * by our effective uid and not writable by group or others. 0, or -1 and
 * one line in err naming `what` (e.g. "runtime dir"), dir and the fix.
 */
int util_check_own_dir(const struct stat *st, const char *what,
		       const char *dir, char *err, size_t errlen);

#endif
