/*
 * statefile.h - what must survive a restart or a reboot: the operator's
 * maintenance flag and the election's partition guard, in <state-dir>/state (default /var/lib/eipfloatd, the
 * systemd unit's StateDirectory=). One "key=value" line per fact; the file
 * is replaced atomically (textfile.c) so a crash leaves the old or the new.
 */
#ifndef EIPFLOATD_STATEFILE_H
#define EIPFLOATD_STATEFILE_H

#include <stddef.h>

#define STATEFILE_NAME "state"

struct statefile {
	int maintenance; /* `eipfloatd maintenance on`: never become ACTIVE */
	/*
	 * Guarded STANDBY: the EIP moved to the peer while it was silent (a
	 * partition). A node restarted meanwhile must not take it back.
	 */
	int guarded;
};

/*
 * The state directory must be a directory owned by the daemon's user and
 * not writable by group or others (anyone who could write there could put
 * the node into or out of maintenance). A missing one is created 0700.
 * 0 when usable; -1 when it exists but is unsafe (refuse to start); 1 when
 * it is missing and cannot be created (run on, nothing persists). The
 * reason is in err for both.
 */
int statefile_check_dir(const char *dir, char *err, size_t errlen);

/* Read DIR/state into *st; a missing file means the defaults (all off). */
int statefile_load(const char *dir, struct statefile *st, char *err,
		   size_t errlen);

/* Replace DIR/state with *st. 0, or -1 with the reason in err. */
int statefile_save(const char *dir, const struct statefile *st, char *err,
		   size_t errlen);

/*
 * Pure: parse the file's text. Unknown keys are ignored (a newer version
 * may add some); a known key with a bad value is an error.
 */
int statefile_parse(const char *text, size_t len, struct statefile *st,
		    char *err, size_t errlen);
/* The file's text for *st into buf; its length. */
size_t statefile_format(const struct statefile *st, char *buf, size_t len);

#endif
