/*
 * loop.c - the deferral primitive (see loop.h): one ev_timer per deferral.
 */
#include "loop.h"

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct loop_defer *d = w->data;

	(void)loop;
	(void)revents;
	d->cb(d->arg);
}

void
loop_defer_init(struct loop_defer *d, struct ev_loop *loop,
		void (*cb)(void *arg), void *arg)
{
	ev_timer_init(&d->timer, on_timer, 0., 0.);
	d->timer.data = d;
	d->loop = loop;
	d->cb = cb;
	d->arg = arg;
}

void
loop_defer_after(struct loop_defer *d, uint64_t ms)
{
	ev_timer_stop(d->loop, &d->timer);
	ev_timer_set(&d->timer, (double)ms / 1000., 0.);
	ev_timer_start(d->loop, &d->timer);
}

void
loop_defer_soon(struct loop_defer *d)
{
	loop_defer_after(d, 0);
}

void
loop_defer_cancel(struct loop_defer *d)
{
	if (d->loop != NULL)
		ev_timer_stop(d->loop, &d->timer);
}

int
loop_defer_pending(const struct loop_defer *d)
{
	return ev_is_active(&d->timer);
}
