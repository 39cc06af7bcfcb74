/*
 * textfile.h - replace a file atomically for readers that poll it
 * (node_exporter's textfile collector): write a temporary file beside it,
 * then rename(2) over it, so a reader sees the old or the new content,
 * never half of one.
 */
#ifndef EIPFLOATD_TEXTFILE_H
#define EIPFLOATD_TEXTFILE_H

#include <stddef.h>

/*
 * Write data to "<path>.tmp" (created afresh, O_NOFOLLOW: never through a
 * symbolic link someone left there), mode 0644, then rename it to path.
 * 0, or -1 with the reason in err.
 */
int textfile_replace(const char *path, const char *data, size_t len, char *err,
		     size_t errlen);

/*
 * The same, and fsync(2) the file before the rename and its directory
 * after it, for state that must survive a power cut (statefile.c).
 */
int textfile_replace_durable(const char *path, const char *data, size_t len,
			     char *err, size_t errlen);

#endif
