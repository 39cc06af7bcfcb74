/*
 * pidfile.h - one daemon per runtime directory: an flock()ed pid file.
 */
#ifndef EIPFLOATD_PIDFILE_H
#define EIPFLOATD_PIDFILE_H

#include <stddef.h>

/*
 * Create the runtime dir if needed, open and lock DIR/eipfloatd.pid, write
 * our pid. Returns the fd (keep it open for the daemon's life) or -1 with
 * a message in err (another instance runs: its pid is named).
 */
int pidfile_acquire(const char *dir, char *err, size_t errlen);
void pidfile_release(int fd, const char *dir);

#endif
