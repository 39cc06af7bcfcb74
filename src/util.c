/*
 * util.c - clocks and string helpers shared by the I/O modules.
 */
#include "util.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
util_now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

uint64_t
util_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

void
util_format_wall(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (gmtime_r(&t, &tm) != NULL)
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

void
util_explicit_bzero(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

void
util_free_secret(void *p)
{
	if (p == NULL)
		return;
	util_explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

size_t
util_read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

int
util_check_own_dir(const struct stat *st, const char *what, const char *dir,
		   char *err, size_t errlen)
{
	if (!S_ISDIR(st->st_mode)) {
		snprintf(err, errlen, "%s %s is not a directory%s", what, dir,
			 S_ISLNK(st->st_mode) ? " (a symbolic link)" : "");
		return -1;
	}
	if (st->st_uid != geteuid()) {
		snprintf(err, errlen,
			 "%s %s is owned by uid %lu, not by the daemon's uid "
			 "%lu: chown it",
			 what, dir, (unsigned long)st->st_uid,
			 (unsigned long)geteuid());
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "%s %s is writable by %s (mode %04o): chmod go-w it",
			 what, dir,
			 st->st_mode & S_IWOTH ? "others" : "its group",
			 (unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}
