/*
 * authkey.c - reads the heartbeat key file and writes new ones (--keygen).
 */
#include "authkey.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
authkey_read(const char *path, uint8_t *key, size_t *len, char *err,
	     size_t errlen)
{
	struct stat st;
	size_t got = 0;
	int fd;

	/*
	 * Look before opening: opening a device named by mistake can have
	 * effects (a watchdog arms itself). O_NONBLOCK covers the race.
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "authkey %s is not a regular file", path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open authkey %s: %s%s", path,
			 strerror(errno),
			 errno == ENOENT ? " (create it with eipfloatd "
					   "--keygen FILE)"
					 : "");
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "authkey %s is not a regular file", path);
		return -1;
	}
	if (st.st_mode & 077) {
		close(fd);
		snprintf(err, errlen,
			 "authkey %s is %s by group/other (mode %04o); "
			 "chmod 600 it",
			 path,
			 (st.st_mode & 044)   ? "readable"
			 : (st.st_mode & 022) ? "writable"
					      : "accessible",
			 (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (st.st_size < AUTHKEY_MIN || st.st_size > AUTHKEY_MAX) {
		close(fd);
		snprintf(err, errlen,
			 "authkey %s is %lld bytes; it must be %d..%d "
			 "(make one with eipfloatd --keygen FILE)",
			 path, (long long)st.st_size, AUTHKEY_MIN, AUTHKEY_MAX);
		return -1;
	}
	got = util_read_full(fd, key, (size_t)st.st_size);
	close(fd);
	if (got != (size_t)st.st_size) {
		util_explicit_bzero(key, got);
		snprintf(err, errlen, "authkey %s: short read", path);
		return -1;
	}
	*len = got;
	return 0;
}

/* O_EXCL so an existing key (which the peer shares) is never replaced. */
int
authkey_generate(const char *path, char *err, size_t errlen)
{
	unsigned char key[AUTHKEY_KEYGEN_BYTES];
	int fd;

	if (RAND_bytes(key, sizeof(key)) != 1) {
		snprintf(err, errlen, "cannot get random bytes");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
			 errno == EEXIST ? " (refusing to overwrite a key)"
					 : "");
		util_explicit_bzero(key, sizeof(key));
		return -1;
	}
	if (fchmod(fd, 0600) == -1 ||
	    write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		util_explicit_bzero(key, sizeof(key));
		close(fd);
		unlink(path);
		return -1;
	}
	util_explicit_bzero(key, sizeof(key));
	close(fd);
	return 0;
}
