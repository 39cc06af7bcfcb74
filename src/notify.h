/*
 * notify.h - the systemd notification protocol (sd_notify) spoken natively:
 * one datagram to $NOTIFY_SOCKET, no libsystemd.
 */
#ifndef EIPFLOATD_NOTIFY_H
#define EIPFLOATD_NOTIFY_H

#include <stdint.h>

/* Send "READY=1", "STATUS=...", ...; 0 if sent or no socket, -1 on error. */
int notify_send(const char *msg);
int notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog interval systemd asks for (WATCHDOG_USEC), 0 if none. */
uint64_t notify_watchdog_usec(void);

#endif
