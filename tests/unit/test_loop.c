/*
 * test_loop.c - the one deferral (src/loop.c) on a real libev loop: soon
 * runs on the next turn and never inside the caller, after waits, re-arming
 * replaces, cancel forgets, pending tells.
 */
#include "check.h"
#include "loop.h"
#include "util.h"

#include <ev.h>
#include <string.h>

struct probe {
	int calls;
	uint64_t at_ms;
	struct loop_defer *rearm; /* re-armed from inside the callback */
};

static void
on_call(void *arg)
{
	struct probe *p = arg;

	p->calls++;
	p->at_ms = util_now_ms();
	if (p->rearm != NULL && p->calls == 1)
		loop_defer_soon(p->rearm);
}

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop for `secs` (bounded; the guard always ends it). */
static void
spin(struct ev_loop *loop, double secs)
{
	ev_timer guard;

	ev_timer_init(&guard, guard_cb, secs, 0.);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	ev_timer_stop(loop, &guard);
}

static void
test_soon_and_after(struct ev_loop *loop)
{
	struct loop_defer d;
	struct probe p;
	uint64_t t0;

	memset(&p, 0, sizeof(p));
	loop_defer_init(&d, loop, on_call, &p);
	TEST("a_fresh_deferral_is_idle_and_cancel_is_harmless");
	CHECK(!loop_defer_pending(&d));
	loop_defer_cancel(&d);
	CHECK(!loop_defer_pending(&d));

	TEST("soon_runs_on_the_next_turn_not_inside_the_caller");
	loop_defer_soon(&d);
	CHECK(p.calls == 0);
	CHECK(loop_defer_pending(&d));
	ev_run(loop, EVRUN_ONCE);
	CHECK(p.calls == 1);
	CHECK(!loop_defer_pending(&d));
	spin(loop, 0.05);
	CHECK(p.calls == 1);

	TEST("after_waits_at_least_its_delay_and_runs_once");
	p.calls = 0;
	t0 = util_now_ms();
	loop_defer_after(&d, 100);
	spin(loop, 0.05);
	CHECK(p.calls == 0);
	spin(loop, 0.2);
	CHECK(p.calls == 1);
	CHECK(p.at_ms - t0 >= 99);

	TEST("re_arming_replaces_the_pending_call");
	p.calls = 0;
	t0 = util_now_ms();
	loop_defer_after(&d, 30);
	loop_defer_after(&d, 150);
	spin(loop, 0.1);
	CHECK(p.calls == 0);
	spin(loop, 0.15);
	CHECK(p.calls == 1);
	CHECK(p.at_ms - t0 >= 149);

	TEST("cancel_forgets_the_pending_call");
	p.calls = 0;
	loop_defer_after(&d, 20);
	loop_defer_cancel(&d);
	CHECK(!loop_defer_pending(&d));
	spin(loop, 0.08);
	CHECK(p.calls == 0);
}

static void
test_rearm_from_callback(struct ev_loop *loop)
{
	struct loop_defer d;
	struct probe p;

	TEST("a_callback_may_re_arm_its_own_deferral");
	memset(&p, 0, sizeof(p));
	loop_defer_init(&d, loop, on_call, &p);
	p.rearm = &d;
	loop_defer_soon(&d);
	spin(loop, 0.05);
	CHECK(p.calls == 2);
	CHECK(!loop_defer_pending(&d));
}

int
main(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);

	test_soon_and_after(loop);
	test_rearm_from_callback(loop);
	ev_loop_destroy(loop);
	return check_done();
}
