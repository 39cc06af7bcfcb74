/*
 * journal.c - the journal's native protocol: a pure encoder and a small
 * non-blocking datagram sender. Structured fields (MESSAGE_ID, the state,
 * the reason) are what make `journalctl MESSAGE_ID=...` list every failover.
 */
#include "journal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int journal_fd = -1;

static int
valid_name(const char *s)
{
	if (s[0] == '\0' || s[0] == '_' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return 0;
	return 1;
}

size_t
journal_encode(const struct journal_field *f, unsigned n, char *buf, size_t len)
{
	size_t off = 0;

	for (unsigned i = 0; i < n; i++) {
		size_t nl, vl;
		int binary;

		if (f[i].value == NULL)
			continue;
		if (!valid_name(f[i].name))
			return 0;
		nl = strlen(f[i].name);
		vl = strlen(f[i].value);
		binary = memchr(f[i].value, '\n', vl) != NULL;
		if (len - off < nl + vl + 2 + (binary ? 8 : 0))
			return 0;
		memcpy(buf + off, f[i].name, nl);
		off += nl;
		if (binary) {
			uint64_t v = vl;

			buf[off++] = '\n';
			for (int b = 0; b < 8; b++)
				buf[off++] = (char)((v >> (8 * b)) & 0xff);
		} else {
			buf[off++] = '=';
		}
		memcpy(buf + off, f[i].value, vl);
		off += vl;
		buf[off++] = '\n';
	}
	return off;
}

int
journal_open(void)
{
	const char *path = getenv(JOURNAL_SOCKET_ENV);
	struct sockaddr_un sun;
	int fd;

	if (journal_fd != -1)
		return 0;
	if (getenv("JOURNAL_STREAM") == NULL)
		return -1;
	if (path == NULL || path[0] == '\0')
		path = JOURNAL_SOCKET;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	journal_fd = fd;
	return 0;
}

int
journal_active(void)
{
	return journal_fd != -1;
}

int
journal_send(const struct journal_field *f, unsigned n)
{
	char buf[JOURNAL_ENTRY_MAX];
	size_t len = journal_encode(f, n, buf, sizeof(buf));

	if (journal_fd == -1 || len == 0)
		return -1;
	/* Never wait: a journal that is not reading loses lines to stderr. */
	return send(journal_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) ==
		       (ssize_t)len
		   ? 0
		   : -1;
}
