/*
 * test_pidfile.c - the one-daemon-per-runtime-directory lock and the
 * checks on the directory and the file it lives in.
 */
#include "check.h"
#include "pidfile.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char top[] = "/tmp/test_pidfile.XXXXXX";

static void
sub(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", top, name);
}

static void
test_lock_is_exclusive_and_released(void)
{
	char dir[PATH_MAX], path[PATH_MAX], err[512], buf[64];
	int fd, fd2;
	FILE *f;

	TEST("second_acquire_names_the_holder_and_release_unlinks");
	sub(dir, sizeof(dir), "run");
	fd = pidfile_acquire(dir, err, sizeof(err));
	CHECK(fd >= 0);
	snprintf(path, sizeof(path), "%s/eipfloatd.pid", dir);
	f = fopen(path, "r");
	CHECK(f != NULL && fgets(buf, sizeof(buf), f) != NULL);
	if (f != NULL)
		fclose(f);
	CHECK(atol(buf) == (long)getpid());
	fd2 = pidfile_acquire(dir, err, sizeof(err));
	CHECK(fd2 == -1);
	snprintf(buf, sizeof(buf), "another eipfloatd (pid %ld)",
		 (long)getpid());
	CHECK(strstr(err, buf) != NULL);
	pidfile_release(fd, dir);
	CHECK(access(path, F_OK) == -1);
	fd = pidfile_acquire(dir, err, sizeof(err));
	CHECK(fd >= 0);
	pidfile_release(fd, dir);
}

static void
test_unsafe_places_refused(void)
{
	char dir[PATH_MAX], path[PATH_MAX], link[PATH_MAX], err[512];

	TEST("group_writable_or_symlinked_runtime_dir_refused");
	sub(dir, sizeof(dir), "loose");
	CHECK(mkdir(dir, 0755) == 0 && chmod(dir, 0775) == 0);
	CHECK(pidfile_acquire(dir, err, sizeof(err)) == -1);
	CHECK(strstr(err, "writable by its group (mode 0775): chmod go-w") != NULL);
	CHECK(pidfile_check_dir(dir, err, sizeof(err)) == -1);
	CHECK(chmod(dir, 0755) == 0);
	CHECK(pidfile_check_dir(dir, err, sizeof(err)) == 0);

	sub(link, sizeof(link), "linked");
	CHECK(symlink(dir, link) == 0);
	CHECK(pidfile_acquire(link, err, sizeof(err)) == -1);
	CHECK(strstr(err, "a symbolic link") != NULL);

	if (geteuid() == 0) {
		TEST("runtime_dir_of_another_owner_refused");
		CHECK(chown(dir, 65534, 0) == 0);
		CHECK(pidfile_acquire(dir, err, sizeof(err)) == -1);
		CHECK(strstr(err, "owned by uid 65534") != NULL);
		CHECK(chown(dir, 0, 0) == 0);
	}

	TEST("pid_file_that_is_a_symlink_refused");
	sub(path, sizeof(path), "elsewhere");
	snprintf(link, sizeof(link), "%s/eipfloatd.pid", dir);
	CHECK(symlink(path, link) == 0);
	CHECK(pidfile_acquire(dir, err, sizeof(err)) == -1);
	CHECK(strstr(err, "symbolic link") != NULL);
	CHECK(access(path, F_OK) == -1); /* nothing created through it */
	unlink(link);
}

int
main(void)
{
	char cmd[PATH_MAX + 16];

	if (mkdtemp(top) == NULL)
		return 99;
	test_lock_is_exclusive_and_released();
	test_unsafe_places_refused();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		return 99;
	return check_done();
}
