/*
 * journal.h - systemd's native journal protocol without libsystemd: one
 * datagram per entry to /run/systemd/journal/socket, fields "NAME=value\n",
 * or for a value with a newline "NAME\n" + 64-bit little-endian length +
 * value + "\n" (systemd.journal-fields(7), "Native Journal Protocol").
 */
#ifndef EIPFLOATD_JOURNAL_H
#define EIPFLOATD_JOURNAL_H

#include <stddef.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
/* For tests only: send to this socket instead of JOURNAL_SOCKET. */
#define JOURNAL_SOCKET_ENV "EIPFLOATD_JOURNAL_SOCKET"
#define JOURNAL_ENTRY_MAX 8192

struct journal_field {
	const char *name;  /* upper case, digits and '_', not starting '_' */
	const char *value; /* NULL: the field is left out */
};

/*
 * Encode n fields into buf; the entry's length, or 0 if it does not fit
 * in len or a name is not a valid journal field name.
 */
size_t journal_encode(const struct journal_field *f, unsigned n, char *buf,
		      size_t len);

/*
 * Connect to the journal socket when JOURNAL_STREAM is set (we run under
 * systemd); 0 connected, -1 not (log to stderr instead).
 */
int journal_open(void);
int journal_active(void);
/* Send one entry; 0, or -1 (the caller falls back to stderr). */
int journal_send(const struct journal_field *f, unsigned n);

#endif
