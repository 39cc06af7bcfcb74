/*
 * loop.h - the one "call me back later" primitive over libev: after N ms,
 * or on the next loop turn, cancellable, re-armable. Every deferred
 * delivery, retry wait and one-shot timeout in eipfloatd uses it, so that
 * a callback never runs inside the call that scheduled it.
 */
#ifndef EIPFLOATD_LOOP_H
#define EIPFLOATD_LOOP_H

#include <ev.h>
#include <stdint.h>

struct loop_defer {
	ev_timer timer;
	struct ev_loop *loop;
	void (*cb)(void *arg);
	void *arg;
};

/* Bind d to a loop and a callback; nothing is scheduled yet. */
void loop_defer_init(struct loop_defer *d, struct ev_loop *loop,
		     void (*cb)(void *arg), void *arg);
/* Call cb(arg) once, ms from now; replaces any pending call. */
void loop_defer_after(struct loop_defer *d, uint64_t ms);
/* Call cb(arg) once on the next loop turn; replaces any pending call. */
void loop_defer_soon(struct loop_defer *d);
/* Forget the pending call, if any; safe on an idle or never-armed d. */
void loop_defer_cancel(struct loop_defer *d);
/* Whether a call is pending. */
int loop_defer_pending(const struct loop_defer *d);

#endif
