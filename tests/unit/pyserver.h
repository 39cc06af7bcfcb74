/*
 * pyserver.h - start a throw-away HTTP server written in Python for a unit
 * test: the script prints the port it listens on as its first stdout line.
 */
#ifndef EIPFLOATD_PYSERVER_H
#define EIPFLOATD_PYSERVER_H

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define PYSERVER_PYTHON "/usr/bin/python3"

/*
 * Run `script` with PYSERVER_PYTHON -c; store its pid in *pid and return the
 * port it announced, or -1 (no python, fork failed, no port line).
 */
static inline int
pyserver_start(const char *script, pid_t *pid)
{
	int fds[2];
	char buf[32];
	ssize_t n;
	size_t got = 0;

	if (access(PYSERVER_PYTHON, X_OK) != 0 || pipe(fds) == -1)
		return -1;
	*pid = fork();
	if (*pid == -1)
		return -1;
	if (*pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(PYSERVER_PYTHON, PYSERVER_PYTHON, "-c", script,
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (got < sizeof(buf) - 1 &&
	       (n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
		if (memchr(buf, '\n', got) != NULL)
			break;
	}
	close(fds[0]);
	buf[got] = '\0';
	n = atoi(buf);
	return n > 0 ? (int)n : -1;
}

#endif
