/*
 * dump.h - the SIGUSR1 state dump: text built by the modules, sent to the
 * log line by line and written atomically to <runtime-dir>/state.
 */
#ifndef EIPFLOATD_DUMP_H
#define EIPFLOATD_DUMP_H

#include <stddef.h>

/*
 * Log `text` (one notice per line) and replace DIR/state with it through a
 * temporary file and rename(2), so readers never see half a dump. Returns
 * 0, or -1 with the reason in err (the log part still happened).
 */
int dump_publish(const char *dir, const char *text, size_t len, char *err,
		 size_t errlen);

#endif
