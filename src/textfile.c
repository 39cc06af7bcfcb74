/*
 * textfile.c - atomic replacement of a small file (the metrics textfile,
 * the state dump, and durably the state directory's file).
 */
#include "textfile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The rename itself reaches the disk only with its directory. */
static void
sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		util_strlcpy(dir, ".", sizeof(dir));
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s",
			 slash == path ? 1 : (int)(slash - path), path);
	else
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return;
	fsync(fd);
	close(fd);
}

static int
replace(const char *path, const char *data, size_t len, int durable,
	char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	int fd, n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	/*
	 * A stale temporary (a crash mid-write) must not block us forever,
	 * and one planted as a symlink is removed, never followed.
	 */
	if (unlink(tmp) == -1 && errno != ENOENT)
		goto fail_open;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd == -1)
		goto fail_open;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			close(fd);
			goto fail_write;
		}
		off += (size_t)w;
	}
	if ((durable && fsync(fd) == -1) || close(fd) == -1)
		goto fail_write;
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "rename %s to %s: %s", tmp, path,
			 strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (durable)
		sync_dir(path);
	return 0;
fail_write:
	snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
	unlink(tmp);
	return -1;
fail_open:
	snprintf(err, errlen, "open %s: %s", tmp, strerror(errno));
	return -1;
}

int
textfile_replace(const char *path, const char *data, size_t len, char *err,
		 size_t errlen)
{
	return replace(path, data, len, 0, err, errlen);
}

int
textfile_replace_durable(const char *path, const char *data, size_t len,
			 char *err, size_t errlen)
{
	return replace(path, data, len, 1, err, errlen);
}
