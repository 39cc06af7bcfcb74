/*
 * statefile.c - the state directory and its one small file (statefile.h).
 */
#include "statefile.h"
#include "textfile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATEFILE_MAX 4096

int
statefile_check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir(dir, 0700) == -1 ||
		    stat(dir, &st) == -1) {
			snprintf(err, errlen, "state directory %s: %s", dir,
				 strerror(errno));
			return 1;
		}
	}
	return util_check_own_dir(&st, "state directory", dir, err, errlen);
}

static int
path_of(const char *dir, char *buf, size_t len, char *err, size_t errlen)
{
	int n = snprintf(buf, len, "%s/%s", dir, STATEFILE_NAME);

	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "state directory %s: path too long", dir);
		return -1;
	}
	return 0;
}

/* "on"/"off" (and 1/0, yes/no): the value of a flag. */
static int
flag_value(const char *v, size_t n)
{
	static const char *const on[] = {"on", "1", "yes", "true"};
	static const char *const off[] = {"off", "0", "no", "false"};

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		if (strlen(on[i]) == n && memcmp(v, on[i], n) == 0)
			return 1;
		if (strlen(off[i]) == n && memcmp(v, off[i], n) == 0)
			return 0;
	}
	return -1;
}

static int
key_is(const char *p, const char *eq, const char *key)
{
	return (size_t)(eq - p) == strlen(key) &&
	       memcmp(p, key, (size_t)(eq - p)) == 0;
}

/* KEY=on|off after `eq` up to `eol`: *out, or -1 with the line in err. */
static int
set_flag(int *out, const char *key, const char *eq, const char *eol,
	 unsigned line, char *err, size_t errlen)
{
	int v = flag_value(eq + 1, (size_t)(eol - eq - 1));

	if (v < 0) {
		snprintf(err, errlen,
			 "line %u: %s: \"%.*s\" is neither on nor off", line,
			 key, (int)(eol - eq - 1 > 32 ? 32 : eol - eq - 1),
			 eq + 1);
		return -1;
	}
	*out = v;
	return 0;
}

int
statefile_parse(const char *text, size_t len, struct statefile *st, char *err,
		size_t errlen)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;

	memset(st, 0, sizeof(*st));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *eq;
		int v;

		line++;
		eq = memchr(p, '=', (size_t)(eol - p));
		if (p == eol || *p == '#' || eq == NULL) {
			p = eol + 1;
			continue;
		}
		v = 0;
		if (key_is(p, eq, "maintenance"))
			v = set_flag(&st->maintenance, "maintenance", eq,
				     eol, line, err, errlen);
		else if (key_is(p, eq, "guarded"))
			v = set_flag(&st->guarded, "guarded", eq, eol, line,
				     err, errlen);
		if (v == -1)
			return -1;
		p = eol + 1;
	}
	return 0;
}

size_t
statefile_format(const struct statefile *st, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "# eipfloatd state: written by the daemon, do not "
			 "edit while it runs\n"
			 "maintenance=%s\n"
			 "guarded=%s\n",
			 st->maintenance ? "on" : "off",
			 st->guarded ? "on" : "off");

	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

int
statefile_load(const char *dir, struct statefile *st, char *err, size_t errlen)
{
	char path[PATH_MAX], text[STATEFILE_MAX], perr[160];
	size_t n;
	int fd;

	memset(st, 0, sizeof(*st));
	if (path_of(dir, path, sizeof(path), err, errlen) == -1)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	errno = 0;
	n = util_read_full(fd, text, sizeof(text));
	close(fd);
	if (n < sizeof(text) && errno != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (n == sizeof(text)) {
		snprintf(err, errlen, "%s: longer than %d bytes", path,
			 STATEFILE_MAX - 1);
		return -1;
	}
	if (statefile_parse(text, n, st, perr, sizeof(perr)) == -1) {
		snprintf(err, errlen, "%s: %s", path, perr);
		return -1;
	}
	return 0;
}

int
statefile_save(const char *dir, const struct statefile *st, char *err,
	       size_t errlen)
{
	char path[PATH_MAX], text[256];
	size_t n = statefile_format(st, text, sizeof(text));

	if (path_of(dir, path, sizeof(path), err, errlen) == -1)
		return -1;
	return textfile_replace_durable(path, text, n, err, errlen);
}
