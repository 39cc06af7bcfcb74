/*
 * test_notify.c - sd_notify messages reach a socket the test owns, by path
 * and by abstract name, and the watchdog interval is read as systemd sets
 * it.
 */
#include "check.h"
#include "notify.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int
listen_on(const char *name, int abstract)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (abstract) {
		memcpy(sun.sun_path + 1, name, strlen(name));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				  strlen(name));
	} else {
		unlink(name);
		memcpy(sun.sun_path, name, strlen(name));
		len = sizeof(sun);
	}
	if (bind(fd, (struct sockaddr *)&sun, len) == -1) {
		perror("bind");
		exit(1);
	}
	return fd;
}

static const char *
receive(int fd)
{
	static char buf[1024];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int
main(void)
{
	char path[64], name[64], env[80];
	int fd;

	TEST("no_notify_socket_is_not_an_error");
	unsetenv("NOTIFY_SOCKET");
	CHECK(notify_send("READY=1") == 0);

	TEST("ready_status_reach_a_path_socket");
	snprintf(path, sizeof(path), "/tmp/eipfloatd-notify-%ld",
		 (long)getpid());
	fd = listen_on(path, 0);
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK(notify_send("READY=1\nSTATUS=STANDBY") == 0);
	CHECK(strcmp(receive(fd), "READY=1\nSTATUS=STANDBY") == 0);
	CHECK(notify_sendf("STATUS=%s since %d s", "ACTIVE", 3) == 0);
	CHECK(strcmp(receive(fd), "STATUS=ACTIVE since 3 s") == 0);
	close(fd);
	unlink(path);

	TEST("abstract_socket_names_work");
	snprintf(name, sizeof(name), "eipfloatd-notify-abs-%ld",
		 (long)getpid());
	fd = listen_on(name, 1);
	snprintf(env, sizeof(env), "@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);
	CHECK(notify_send("WATCHDOG=1") == 0);
	CHECK(strcmp(receive(fd), "WATCHDOG=1") == 0);
	close(fd);

	TEST("relative_or_dead_socket_fails");
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	CHECK(notify_send("READY=1") == -1);
	setenv("NOTIFY_SOCKET", "/tmp/eipfloatd-no-such-socket", 1);
	CHECK(notify_send("READY=1") == -1);

	TEST("watchdog_usec_is_ours_only_for_our_pid");
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "10000000", 1);
	CHECK(notify_watchdog_usec() == 10000000);
	snprintf(env, sizeof(env), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", env, 1);
	CHECK(notify_watchdog_usec() == 10000000);
	setenv("WATCHDOG_PID", "1", 1);
	CHECK(notify_watchdog_usec() == 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "junk", 1);
	CHECK(notify_watchdog_usec() == 0);
	return check_done();
}
