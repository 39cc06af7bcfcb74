/*
 * pidfile.h - one daemon per runtime directory: an flock()ed pid file.
 */
#ifndef EIPFLOATD_PIDFILE_H
#define EIPFLOATD_PIDFILE_H

#include <stddef.h>

/*
 * 0, or -1 with the reason in err, unless DIR is a real directory (not a
 * symbolic link) owned by our euid and not writable by group or others.
 */
int pidfile_check_dir(const char *dir, char *err, size_t errlen);

/*
 * Create the runtime dir if needed (and check it as above) if needed, open and lock DIR/eipfloatd.pid, write
 * our pid. A symbolic link or a non-regular pid file is refused. Returns the fd (keep it open for the daemon's life) or -1 with
 * a message in err (another instance runs: its pid is named).
 */
int pidfile_acquire(const char *dir, char *err, size_t errlen);
void pidfile_release(int fd, const char *dir);

#endif
