/*
 * ctl.h - the control socket <runtime-dir>/ctl (AF_UNIX stream, mode 0600,
 * root or the daemon's own user only). Non-blocking on the loop: each client
 * has a bounded request buffer, one bounded answer and an idle timeout, so a
 * slow or hostile client costs a file descriptor for a few seconds at most
 * and never delays a heartbeat. The protocol is in ctl_proto.h.
 */
#ifndef EIPFLOATD_CTL_H
#define EIPFLOATD_CTL_H

#include <stddef.h>

#include "ctl_proto.h"

struct ev_loop;
struct ctl;

#define CTL_SOCKET_NAME "ctl"
#define CTL_CLIENTS_MAX 16
#define CTL_IDLE_MS 5000

/*
 * Answer one request: set *body to a malloc'd answer of *len bytes (ctl
 * frees it) and return 1 for OK, 0 for ERR (the body is the message).
 * Returning -1 (out of memory) closes the connection without an answer.
 */
typedef int (*ctl_handler)(void *arg, const struct ctl_request *req,
			   char **body, size_t *len);

/* Listen on DIR/ctl (replacing a stale socket); NULL with err on failure. */
struct ctl *ctl_open(struct ev_loop *loop, const char *runtime_dir,
		     ctl_handler handler, void *arg, char *err, size_t errlen);
/* Close every client and the socket, and remove it. NULL is fine. */
void ctl_close(struct ctl *ctl);

/* DIR/ctl into buf; -1 if it does not fit a sockaddr_un. */
int ctl_socket_path(const char *runtime_dir, char *buf, size_t len);

#endif
