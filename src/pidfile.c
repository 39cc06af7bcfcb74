/*
 * pidfile.c - the lock that keeps a second eipfloatd off the same runtime
 * directory: two daemons for one node would fight over the EIP.
 */
#include "pidfile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Rounds of "locked a pid file that its owner had just unlinked". */
#define PIDFILE_ATTEMPTS 5

/*
 * The runtime directory holds the lock, the control socket and the state
 * dump: a directory of ours that nobody else can write, or someone else
 * could replace what we write or listen in our place.
 */
int
pidfile_check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(dir, &st) == -1) {
		snprintf(err, errlen, "runtime dir %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	return util_check_own_dir(&st, "runtime dir", dir, err, errlen);
}

/*
 * Whether fd is still the file at path: a daemon that stops unlinks its
 * pid file while holding the lock, so a lock won on the unlinked file is
 * no lock at all (the next daemon would create and lock a new one).
 */
static int
still_linked(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int
pidfile_acquire(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX], buf[32];
	struct stat st;
	ssize_t n;
	int fd, len, attempt = 0;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "runtime dir %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	if (pidfile_check_dir(dir, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/eipfloatd.pid", dir);
again:
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
		  0644);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
			 errno == ELOOP ? " (a symbolic link: refused)" : "");
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int e = errno;

		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			snprintf(err, errlen,
				 "another eipfloatd (pid %s) holds %s",
				 buf[0] ? buf : "?", path);
		else
			snprintf(err, errlen, "lock %s: %s", path,
				 strerror(e));
		close(fd);
		return -1;
	}
	if (!still_linked(fd, path)) {
		close(fd);
		if (++attempt < PIDFILE_ATTEMPTS)
			goto again;
		snprintf(err, errlen, "%s: replaced while we locked it", path);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)len, 0) != len) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void
pidfile_release(int fd, const char *dir)
{
	char path[PATH_MAX];

	if (fd < 0)
		return;
	/*
	 * Unlinked while still locked, never after the close: a daemon that
	 * locked the file between our close and our unlink would hold a lock
	 * on a file nobody can find. pidfile_acquire() refuses a lock on an
	 * unlinked file, so the order is safe for the one starting next.
	 */
	snprintf(path, sizeof(path), "%s/eipfloatd.pid", dir);
	unlink(path);
	close(fd);
}
