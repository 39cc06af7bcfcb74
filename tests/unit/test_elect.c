/*
 * test_elect.c - the election rules, scenario by scenario with an injected
 * clock, and a randomized two-node simulation that must always settle on
 * exactly one ACTIVE node holding the EIP.
 */
#include "elect.h"
#include "elect_map.h"

#include "check.h"
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- scenario tables ---- */

enum kind {
	K_START,
	K_TICK,
	K_HB,
	K_LEAVE,
	K_OWNER,
	K_ACQ,
	K_HEALTH,
	K_API, /* this node can (1) or cannot (0) use the EC2 API */
	K_DOWN,
	K_RES, /* a reload rebuilt the resource group */
	K_HOLDER, /* answer to CHECK_HOLDER: 1 may serve, 0 cannot */
	K_KEEP, /* heartbeats every 200 ms from t to until */
};

struct step {
	uint64_t t, until;
	struct elect_peer_info p;
	enum kind k;
	int arg;
	/* expected after the step */
	enum elect_role role;
	unsigned flags;
	const char *reason; /* substring; NULL: not checked */
	uint64_t term;
	uint64_t deadline;
	int has_term;
	int has_guard, guarded;
	int has_deadline;
};

/* clang-format off */
#define PEER(r, tm, prio, elig, inc)                                           \
	{                                                                      \
		.role = (r), .priority = (prio), .eligible = (elig),           \
		.term = (tm), .incarnation = (inc)                             \
	}
/* The peer as node-b (priority 50) or node-a (priority 100). */
#define B(r, tm) PEER(ELECT_##r, tm, 50, 1, 7)
#define AA(r, tm) PEER(ELECT_##r, tm, 100, 1, 9)
/* The same, saying in their heartbeats that they cannot use the EC2 API. */
#define NOAPI(r, tm, prio, inc)                                                \
	{                                                                      \
		.role = ELECT_##r, .priority = (prio), .eligible = 1,          \
		.term = (tm), .incarnation = (inc), .no_api = 1                \
	}
#define B_NOAPI(r, tm) NOAPI(r, tm, 50, 7)
#define AA_NOAPI(r, tm) NOAPI(r, tm, 100, 9)

#define START(t_) .k = K_START, .t = (t_)
#define TICK(t_) .k = K_TICK, .t = (t_)
#define HB(t_, pi) .k = K_HB, .t = (t_), .p = pi
#define KEEP(t_, u_, pi) .k = K_KEEP, .t = (t_), .until = (u_), .p = pi
#define LEAVE(t_, pi) .k = K_LEAVE, .t = (t_), .p = pi
#define OWNER(t_, o) .k = K_OWNER, .t = (t_), .arg = (o)
#define ACQ(t_, ok) .k = K_ACQ, .t = (t_), .arg = (ok)
#define HEALTH(t_, e) .k = K_HEALTH, .t = (t_), .arg = (e)
#define API(t_, ok) .k = K_API, .t = (t_), .arg = (ok)
#define DOWN(t_) .k = K_DOWN, .t = (t_)
#define RES(t_) .k = K_RES, .t = (t_)
#define HOLDER(t_, ok) .k = K_HOLDER, .t = (t_), .arg = (ok)
#define EXPECT(r, f) .role = ELECT_##r, .flags = (f)
#define TERM(x) .has_term = 1, .term = (x)
#define GUARD(x) .has_guard = 1, .guarded = (x)
#define DEADLINE(x) .has_deadline = 1, .deadline = (x)
#define WHY(s) .reason = (s)

#define V ELECT_ACT_VERIFY
#define A ELECT_ACT_ACQUIRE
#define C ELECT_ACT_CANCEL
#define S ELECT_ACT_SEND
#define H ELECT_ACT_HOOK
#define R ELECT_ACT_READY
#define L ELECT_ACT_LEAVE
#define CH ELECT_ACT_CHECK_HOLDER

#define SELF ELECT_OWNER_SELF
#define PEER_ ELECT_OWNER_PEER
#define NONE ELECT_OWNER_NONE
#define OTHER ELECT_OWNER_OTHER
#define UNKNOWN ELECT_OWNER_UNKNOWN

/* clang-format on */

struct scenario {
	const char *name;
	int as_b; /* this node is node-b (50) facing node-a (100) */
	int tie;  /* both priority 100 */
	int failback;
	unsigned failback_delay; /* 0: 30000 */
	unsigned threshold;	 /* 0: 1 */
	unsigned late_write;	 /* elect_params.late_write_ms */
	int start_unhealthy;	 /* a check is configured, no result yet */
	unsigned acquire_timeout; /* 0: no acquisition deadline */
	int start_guarded;	  /* the state directory says guarded */
	const struct step *steps;
	size_t n;
};

static void
make_config(struct elect_params *ec, int as_b, int tie)
{
	memset(ec, 0, sizeof(*ec));
	snprintf(ec->self_name, sizeof(ec->self_name), "%s",
		 as_b ? "node-b" : "node-a");
	snprintf(ec->peer_name, sizeof(ec->peer_name), "%s",
		 as_b ? "node-a" : "node-b");
	ec->self_priority = as_b && !tie ? 50 : 100;
	ec->peer_priority = !as_b && !tie ? 50 : 100;
	ec->failback = 0;
	ec->failback_delay_ms = 30000;
	ec->startup_wait_ms = 3000;
	ec->timeout_ms = 1000;
	ec->monitor_interval_ms = 10000;
	ec->migration_threshold = 1;
}

static const char *
flags_str(unsigned f, char *buf, size_t len)
{
	static const char *names[] = {"VERIFY", "ACQUIRE", "CANCEL",
				      "SEND",	"HOOK",	   "READY",
				      "LEAVE",	"CHECK_HOLDER"};
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < NELEM(names); i++)
		if (f & (1u << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      n ? "|" : "", names[i]);
	if (n == 0)
		snprintf(buf, len, "-");
	return buf;
}

/* Properties every step must have, whatever the scenario. */
static void
check_invariants(const struct elect_state *st, const struct elect_actions *a,
		 int shutdown)
{
	CHECK(a->to == elect_role(st));
	if (a->from != a->to) {
		char prefix[64];

		snprintf(prefix, sizeof(prefix),
			 "%s -> %s: ", elect_role_name(a->from),
			 elect_role_name(a->to));
		CHECK(strncmp(a->reason, prefix, strlen(prefix)) == 0);
		CHECK(strlen(a->reason) > strlen(prefix) + 10);
		CHECK(a->flags & ELECT_ACT_HOOK);
		if (!shutdown)
			CHECK(a->flags & ELECT_ACT_SEND);
		CHECK(a->to != ELECT_STARTING);
	}
	/* Writes only from ACTIVE or FAULT; never alongside a cancel. */
	if (a->flags & ELECT_ACT_ACQUIRE) {
		CHECK(a->to == ELECT_ACTIVE || a->to == ELECT_FAULT);
		CHECK(!(a->flags & ELECT_ACT_CANCEL));
	}
	/* ... except an acquisition past its deadline, retried after a verify */
	if (a->flags & ELECT_ACT_CANCEL)
		CHECK(a->to != ELECT_ACTIVE ||
		      strstr(a->reason, "acquire_timeout_ms") != NULL);
}

static enum elect_event_type
event_type(enum kind k)
{
	switch (k) {
	case K_START:
		return ELECT_EV_START;
	case K_TICK:
		return ELECT_EV_TICK;
	case K_HB:
	case K_KEEP:
		return ELECT_EV_PEER_HEARTBEAT;
	case K_LEAVE:
		return ELECT_EV_PEER_LEAVE;
	case K_OWNER:
		return ELECT_EV_OWNER;
	case K_ACQ:
		return ELECT_EV_ACQUIRED;
	case K_HEALTH:
		return ELECT_EV_HEALTH;
	case K_API:
		return ELECT_EV_API;
	case K_DOWN:
		return ELECT_EV_SHUTDOWN;
	case K_RES:
		return ELECT_EV_RESOURCES;
	case K_HOLDER:
		return ELECT_EV_HOLDER;
	}
	return ELECT_EV_TICK;
}

static struct elect_event
event_of(const struct step *s, enum elect_event_type type)
{
	struct elect_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.peer = s->p;
	ev.owner = (enum elect_owner)s->arg;
	ev.ok = s->arg;
	ev.detail = "test detail";
	return ev;
}

static int
expect(const struct scenario *sc, size_t i, uint64_t t,
       const struct elect_state *st, const struct elect_actions *a,
       enum elect_role role, unsigned flags)
{
	char want[80], got[80];

	if (a->to == role && a->flags == flags)
		return 1;
	fprintf(stderr,
		"  %s: step %zu at %" PRIu64 " ms: want %s [%s], got %s [%s]: "
		"%s\n",
		sc->name, i, t, elect_role_name(role),
		flags_str(flags, want, sizeof(want)), elect_role_name(a->to),
		flags_str(a->flags, got, sizeof(got)), a->reason);
	(void)st;
	return 0;
}

/*
 * Deliver every TICK the machine asks for before `t`: between two steps of
 * a scenario nothing may happen, so each must be silent.
 */
static void
auto_ticks(const struct scenario *sc, size_t i, struct elect_state *st,
	   uint64_t *now, uint64_t t)
{
	struct elect_event ev = {.type = ELECT_EV_TICK};
	struct elect_actions a;
	uint64_t d;
	int guard = 0;

	while ((d = elect_next_deadline(st, *now)) < t && guard++ < 1000) {
		enum elect_role before = elect_role(st);

		*now = d;
		elect_step(st, &ev, d, &a);
		check_invariants(st, &a, 0);
		CHECK(expect(sc, i, d, st, &a, before, 0));
	}
	CHECK(guard < 1000);
}

static void
run_step(const struct scenario *sc, size_t i, struct elect_state *st,
	 uint64_t *now)
{
	const struct step *s = &sc->steps[i];
	struct elect_event ev = event_of(s, event_type(s->k));
	struct elect_actions a;

	if (s->k == K_KEEP) {
		for (uint64_t t = s->t; t <= s->until; t += 200) {
			auto_ticks(sc, i, st, now, t);
			*now = t;
			elect_step(st, &ev, t, &a);
			check_invariants(st, &a, 0);
			CHECK(expect(sc, i, t, st, &a, s->role, s->flags));
		}
		return;
	}
	auto_ticks(sc, i, st, now, s->t);
	*now = s->t;
	elect_step(st, &ev, s->t, &a);
	check_invariants(st, &a, s->k == K_DOWN);
	CHECK(expect(sc, i, s->t, st, &a, s->role, s->flags));
	if (s->reason && !strstr(a.reason, s->reason)) {
		fprintf(stderr, "  %s: step %zu: reason \"%s\" lacks \"%s\"\n",
			sc->name, i, a.reason, s->reason);
		CHECK(!"reason");
	}
	if (s->has_term)
		CHECK(elect_term(st) == s->term);
	if (s->has_guard)
		CHECK(elect_guarded(st) == s->guarded);
	if (s->has_deadline && elect_next_deadline(st, s->t) != s->deadline) {
		fprintf(stderr,
			"  %s: step %zu: deadline %" PRIu64 " != %" PRIu64 "\n",
			sc->name, i, elect_next_deadline(st, s->t),
			s->deadline);
		CHECK(!"deadline");
	}
}

static void
run_scenario(const struct scenario *sc)
{
	struct elect_params ec;
	struct elect_state st;
	uint64_t now = 0;
	int before = check_failures;
	size_t i;

	TEST(sc->name);
	make_config(&ec, sc->as_b, sc->tie);
	ec.failback = sc->failback;
	ec.start_unhealthy = sc->start_unhealthy;
	ec.start_guarded = sc->start_guarded;
	if (sc->failback_delay)
		ec.failback_delay_ms = sc->failback_delay;
	if (sc->threshold)
		ec.migration_threshold = sc->threshold;
	ec.acquire_timeout_ms = sc->acquire_timeout;
	ec.late_write_ms = sc->late_write;
	elect_init(&st, &ec, 0);
	for (i = 0; i < sc->n; i++)
		run_step(sc, i, &st, &now);
	if (check_failures != before)
		fprintf(stderr, "  ^ FAILED: %s\n", sc->name);
}

/* The tables are laid out by hand, one step per line. */
/* clang-format off */

/* Rule 1: start-up. */

static const struct step startup_eip_on_self[] = {
	{START(0), EXPECT(STARTING, V | S), DEADLINE(3000)},
	{OWNER(100, SELF), EXPECT(STARTING, 0)},
	{HB(200, B(STARTING, 0)), EXPECT(ACTIVE, S | H | R), TERM(1),
	 WHY("STARTING -> ACTIVE: EIP already on this instance; no API call")},
	{HB(400, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{KEEP(600, 9800, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
};

static const struct step startup_eip_on_self_peer_silent[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, SELF), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, S | H | R), TERM(1)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13100, SELF), EXPECT(ACTIVE, 0)},
};

static const struct step startup_eip_on_peer_peer_alive[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, PEER_), EXPECT(STARTING, 0)},
	{HB(200, B(STARTING, 0)), EXPECT(STANDBY, S | H | R),
	 WHY("EIP is on node-b's instance and node-b is alive")},
	{HB(400, B(ACTIVE, 1)), EXPECT(STANDBY, 0)},
	{KEEP(600, 20000, B(ACTIVE, 1)), EXPECT(STANDBY, 0)},
};

static const struct step startup_peer_active_wins_over_own_eip[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, SELF), EXPECT(STARTING, 0)},
	{HB(150, B(ACTIVE, 3)), EXPECT(STANDBY, S | H | R),
	 WHY("peer node-b is ACTIVE (term 3)")},
};

static const struct step startup_peer_active_before_owner_answer[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(150, B(ACTIVE, 3)), EXPECT(STANDBY, S | H | R)},
	{OWNER(300, PEER_), EXPECT(STANDBY, 0)},
};

/* A health check that has not answered yet keeps the EIP where it is. */
static const struct step startup_check_pending_no_takeover[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0), DEADLINE(3000)},
	{TICK(3000), EXPECT(STANDBY, S | H | R)},
	{TICK(9000), EXPECT(STANDBY, 0)},
	{HEALTH(9100, 1), EXPECT(ACTIVE, A | S | H), TERM(1)},
};

static const struct step startup_peer_silent_takes_over[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0), DEADLINE(3000)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1),
	 WHY("peer node-b not heard on any link since start 3000 ms ago")},
	{ACQ(3500, 1), EXPECT(ACTIVE, 0)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13100, SELF), EXPECT(ACTIVE, 0)},
};

static const struct step startup_eip_on_silent_peer_takes_over[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, PEER_), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1)},
};

static const struct step startup_api_down_peer_silent_takes_over[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, UNKNOWN), EXPECT(STARTING, 0), WHY("cannot verify")},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R)},
};

static const struct step startup_api_down_peer_alive_priority[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, UNKNOWN), EXPECT(STARTING, 0)},
	{HB(200, B(STARTING, 0)), EXPECT(ACTIVE, A | S | H | R)},
};

static const struct step startup_api_down_peer_alive_priority_b[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, UNKNOWN), EXPECT(STARTING, 0)},
	{HB(200, AA(STARTING, 0)), EXPECT(STANDBY, S | H | R)},
};

/* A starts alone, B joins 5 s later: seen from each node. */
static const struct step a_first_then_b_seen_by_a[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1)},
	{ACQ(3400, 1), EXPECT(ACTIVE, 0)},
	{HB(5000, B(STARTING, 0)), EXPECT(ACTIVE, 0), WHY("peer node-b heard")},
	{KEEP(5200, 12800, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13050, SELF), EXPECT(ACTIVE, 0)},
};

static const struct step a_first_then_b_seen_by_b[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(100, AA(ACTIVE, 1)), EXPECT(STANDBY, S | H | R)},
	{OWNER(200, PEER_), EXPECT(STANDBY, 0)},
	{KEEP(300, 30000, AA(ACTIVE, 1)), EXPECT(STANDBY, 0)},
};

/* B (lower priority) starts alone, A joins: no failback by default. */
static const struct step b_first_then_a_seen_by_b[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1)},
	{ACQ(3400, 1), EXPECT(ACTIVE, 0)},
	{HB(5000, AA(STARTING, 0)), EXPECT(ACTIVE, 0)},
	{KEEP(5200, 12800, AA(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13050, SELF), EXPECT(ACTIVE, 0)},
	{KEEP(13200, 22800, AA(STANDBY, 0)), EXPECT(ACTIVE, 0)},
};

static const struct step b_first_then_a_seen_by_a[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(100, B(ACTIVE, 1)), EXPECT(STANDBY, S | H | R)},
	{KEEP(300, 60000, B(ACTIVE, 1)), EXPECT(STANDBY, 0)},
};

static const struct step simultaneous_start_seen_by_a[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(50, B(STARTING, 0)), EXPECT(STARTING, 0)},
	{OWNER(120, NONE), EXPECT(ACTIVE, A | S | H | R), TERM(1),
	 WHY("takes precedence (priority 100 > 50)")},
	{HB(250, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{ACQ(700, 1), EXPECT(ACTIVE, 0)},
};

static const struct step simultaneous_start_seen_by_b[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(50, AA(STARTING, 0)), EXPECT(STARTING, 0)},
	{OWNER(120, NONE), EXPECT(STANDBY, S | H | R),
	 WHY("node-a takes precedence (priority 50 < 100)")},
	{HB(250, AA(ACTIVE, 1)), EXPECT(STANDBY, 0)},
};

static const struct step simultaneous_start_tie_seen_by_a[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(50, PEER(ELECT_STARTING, 0, 100, 1, 7)), EXPECT(STARTING, 0)},
	{OWNER(120, OTHER), EXPECT(ACTIVE, A | S | H | R),
	 WHY("name node-a < node-b")},
};

static const struct step simultaneous_start_tie_seen_by_b[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(50, AA(STARTING, 0)), EXPECT(STARTING, 0)},
	{OWNER(120, OTHER), EXPECT(STANDBY, S | H | R),
	 WHY("name node-b > node-a")},
};

/* The lower node already settled STANDBY when the other decides. */
static const struct step startup_peer_standby_unassociated[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(50, B(STANDBY, 0)), EXPECT(STARTING, 0)},
	{OWNER(120, NONE), EXPECT(ACTIVE, A | S | H | R)},
};

/* EIP on a STANDBY peer: STANDBY first, then rule 3 re-elects at once. */
static const struct step startup_eip_on_standby_peer[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, PEER_), EXPECT(STARTING, 0)},
	{HB(200, B(STANDBY, 0)), EXPECT(STANDBY, S | H | R), DEADLINE(200)},
	{TICK(200), EXPECT(ACTIVE, A | S | H),
	 WHY("STANDBY too and nobody is ACTIVE")},
};

static const struct step startup_unhealthy_leaves_own_eip[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HEALTH(10, 0), EXPECT(STARTING, S)},
	{OWNER(100, SELF), EXPECT(STARTING, 0)},
	{HB(200, B(STARTING, 0)), EXPECT(STANDBY, S | H | R),
	 WHY("health check is failing and peer node-b is healthy")},
};

static const struct step startup_unhealthy_peer_silent[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HEALTH(10, 0), EXPECT(STARTING, S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(STANDBY, S | H | R), WHY("not taking over")},
	{TICK(20000), EXPECT(STANDBY, 0)},
	{HEALTH(21000, 1), EXPECT(ACTIVE, A | S | H),
	 WHY("not heard on any link since start 21000 ms ago")},
};

/* Rule 3: takeover. B is STANDBY under an ACTIVE A. */

#define B_STANDBY_UNDER_A                                                      \
	{START(0), EXPECT(STARTING, V | S)},                                   \
		{HB(100, AA(ACTIVE, 1)), EXPECT(STANDBY, S | H | R)},          \
		{OWNER(200, PEER_), EXPECT(STANDBY, 0)}

static const struct step flapping_heartbeats_no_takeover[] = {
	B_STANDBY_UNDER_A,
	{HB(1099, AA(ACTIVE, 1)), EXPECT(STANDBY, 0), DEADLINE(2099)},
	{HB(2098, AA(ACTIVE, 1)), EXPECT(STANDBY, 0)},
	{HB(3000, AA(ACTIVE, 1)), EXPECT(STANDBY, 0)},
	{HB(3950, AA(ACTIVE, 1)), EXPECT(STANDBY, 0)},
	{HB(4949, AA(ACTIVE, 1)), EXPECT(STANDBY, 0)},
	{TICK(5948), EXPECT(STANDBY, 0)},
	{TICK(5949), EXPECT(ACTIVE, A | S | H), TERM(2),
	 WHY("STANDBY -> ACTIVE: peer node-a silent on all links for 1000 ms "
	     "(timeout 1000 ms); acquiring, term 2")},
	{ACQ(6500, 1), EXPECT(ACTIVE, 0)},
	/* The old ACTIVE comes back as a new process: no failback. */
	{HB(9000, PEER(ELECT_STARTING, 0, 100, 1, 10)), EXPECT(ACTIVE, 0),
	 WHY("restarted")},
	{KEEP(9200, 15800, PEER(ELECT_STANDBY, 0, 100, 1, 10)),
	 EXPECT(ACTIVE, 0)},
};

static const struct step leave_immediate_takeover[] = {
	B_STANDBY_UNDER_A,
	{KEEP(300, 900, AA(ACTIVE, 1)), EXPECT(STANDBY, 0)},
	{LEAVE(950, AA(ACTIVE, 1)), EXPECT(ACTIVE, A | S | H), TERM(2),
	 WHY("peer node-a left (graceful stop)")},
	/* A heartbeat of the same incarnation after its LEAVE is ignored. */
	{HB(960, AA(ACTIVE, 1)), EXPECT(ACTIVE, 0)},
	{ACQ(1500, 1), EXPECT(ACTIVE, 0)},
	{HB(4000, PEER(ELECT_STARTING, 0, 100, 1, 11)), EXPECT(ACTIVE, 0)},
	{KEEP(4200, 10800, PEER(ELECT_STANDBY, 0, 100, 1, 11)),
	 EXPECT(ACTIVE, 0)},
};

static const struct step peer_fault_takeover[] = {
	B_STANDBY_UNDER_A,
	{HB(500, AA(FAULT, 1)), EXPECT(ACTIVE, A | S | H), TERM(2),
	 WHY("peer node-a reports FAULT")},
	{HB(700, AA(FAULT, 1)), EXPECT(ACTIVE, 0)},
	{ACQ(900, 1), EXPECT(ACTIVE, 0)},
	{HB(1100, AA(STANDBY, 1)), EXPECT(ACTIVE, 0)},
};

static const struct step peer_yield_takeover[] = {
	/* A is node-a, STANDBY under node-b which yields (unhealthy). */
	{START(0), EXPECT(STARTING, V | S)},
	{HB(100, B(ACTIVE, 4)), EXPECT(STANDBY, S | H | R)},
	{HB(300, B(ACTIVE, 4)), EXPECT(STANDBY, 0)},
	{HB(500, PEER(ELECT_STANDBY, 4, 50, 0, 7)), EXPECT(ACTIVE, A | S | H),
	 TERM(5), WHY("yielded")},
};

static const struct step restart_of_standby_peer_keeps_active[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, SELF), EXPECT(STARTING, 0)},
	{HB(200, B(STANDBY, 0)), EXPECT(ACTIVE, S | H | R)},
	{KEEP(400, 2000, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{HB(2100, PEER(ELECT_STARTING, 0, 50, 1, 8)), EXPECT(ACTIVE, 0),
	 WHY("peer node-b restarted")},
	{KEEP(2300, 9000, PEER(ELECT_STANDBY, 0, 50, 1, 8)),
	 EXPECT(ACTIVE, 0)},
};

/* Rule 2: stickiness and failback (B lower priority, ACTIVE alone). */

#define B_ACTIVE_ALONE                                                         \
	{START(0), EXPECT(STARTING, V | S)},                                   \
		{OWNER(100, NONE), EXPECT(STARTING, 0)},                       \
		{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1)},          \
		{ACQ(3400, 1), EXPECT(ACTIVE, 0)}

static const struct step failback_after_delay[] = {
	B_ACTIVE_ALONE,
	{HB(4000, AA(STARTING, 0)), EXPECT(ACTIVE, 0)},
	{KEEP(4200, 6800, AA(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(7000), EXPECT(STANDBY, S | H),
	 WHY("failback: peer node-a has higher priority (100 > 50) and has "
	     "been healthy for 3000 ms")},
	{HB(7100, AA(STANDBY, 0)), EXPECT(STANDBY, 0)},
	{HB(7300, AA(ACTIVE, 2)), EXPECT(STANDBY, 0)},
};

static const struct step failback_clock_restarts[] = {
	B_ACTIVE_ALONE,
	{KEEP(4000, 5800, AA(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	/* silent: the clock stops */
	{TICK(6800), EXPECT(ACTIVE, 0), WHY("silent on all links")},
	{HB(8000, AA(STANDBY, 0)), EXPECT(ACTIVE, 0), DEADLINE(9000)},
	{KEEP(8200, 9800, AA(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	/* unhealthy: the clock stops again */
	{HB(10000, PEER(ELECT_STANDBY, 0, 100, 0, 9)), EXPECT(ACTIVE, 0)},
	{KEEP(10200, 11800, AA(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	/* restarted (new incarnation): starts over from its first beat */
	{KEEP(12000, 12800, PEER(ELECT_STANDBY, 0, 100, 1, 12)),
	 EXPECT(ACTIVE, 0)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13100, SELF), EXPECT(ACTIVE, 0)},
	{KEEP(13200, 14800, PEER(ELECT_STANDBY, 0, 100, 1, 12)),
	 EXPECT(ACTIVE, 0)},
	{TICK(15000), EXPECT(STANDBY, S | H), WHY("failback")},
};

static const struct step failback_false_never[] = {
	B_ACTIVE_ALONE,
	{KEEP(4000, 12800, AA(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13100, SELF), EXPECT(ACTIVE, 0)},
	{KEEP(13200, 22800, AA(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(23000), EXPECT(ACTIVE, V)},
	{OWNER(23100, SELF), EXPECT(ACTIVE, 0)},
	{KEEP(23200, 32800, AA(STANDBY, 0)), EXPECT(ACTIVE, 0)},
};

/* failback never yields to a lower priority peer. */
static const struct step failback_not_to_lower_priority[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R)},
	{ACQ(3400, 1), EXPECT(ACTIVE, 0)},
	{KEEP(4000, 12800, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
};

/* Rule 4: two ACTIVE nodes (healed partition). This node is node-a. */

#define A_ACTIVE_TERM1                                                         \
	{START(0), EXPECT(STARTING, V | S)},                                   \
		{OWNER(100, NONE), EXPECT(STARTING, 0)},                       \
		{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1)},          \
		{ACQ(3400, 1), EXPECT(ACTIVE, 0)}

static const struct step two_active_higher_term_wins[] = {
	A_ACTIVE_TERM1,
	{HB(4000, B(ACTIVE, 2)), EXPECT(STANDBY, S | H),
	 WHY("higher term (2 > 1)")},
	{HB(4200, B(ACTIVE, 2)), EXPECT(STANDBY, 0)},
};

static const struct step two_active_loser_cancels_acquire[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1)},
	{HB(3100, B(ACTIVE, 5)), EXPECT(STANDBY, S | H | C)},
	{ACQ(3400, 1), EXPECT(STANDBY, 0)},
	{KEEP(3500, 20000, B(ACTIVE, 5)), EXPECT(STANDBY, 0)},
};

static const struct step two_active_lower_term_peer[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(100, B(STANDBY, 5)), EXPECT(STARTING, 0)},
	{OWNER(200, SELF), EXPECT(ACTIVE, S | H | R), TERM(6)},
	{HB(1000, B(ACTIVE, 5)), EXPECT(ACTIVE, V), WHY("lower term (5 < 6)")},
	{HB(1200, B(ACTIVE, 5)), EXPECT(ACTIVE, 0)},
	/* The EIP ended up on the loser: take it back at once. */
	{OWNER(1300, PEER_), EXPECT(ACTIVE, A), WHY("re-associating")},
	{HB(1400, B(STANDBY, 5)), EXPECT(ACTIVE, 0)},
	{ACQ(2000, 1), EXPECT(ACTIVE, 0)},
	{KEEP(2200, 9800, B(STANDBY, 5)), EXPECT(ACTIVE, 0)},
};

/*
 * The loser's cancelled AssociateAddress lands after the winner verified:
 * the winner verifies again once the late-write window (6 s) is over, not
 * at the next monitor check (10 s later), and takes the EIP back.
 */
static const struct step two_active_late_write_of_the_loser[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(100, B(STANDBY, 5)), EXPECT(STARTING, 0)},
	{OWNER(200, SELF), EXPECT(ACTIVE, S | H | R), TERM(6)},
	{HB(1000, B(ACTIVE, 5)), EXPECT(ACTIVE, V), WHY("lower term (5 < 6)")},
	{OWNER(1100, SELF), EXPECT(ACTIVE, 0)},
	{KEEP(1200, 6800, B(STANDBY, 5)), EXPECT(ACTIVE, 0)},
	{TICK(7000), EXPECT(ACTIVE, V)},
	{OWNER(7100, PEER_), EXPECT(ACTIVE, A), WHY("re-associating")},
	{ACQ(7600, 1), EXPECT(ACTIVE, 0)},
};

/*
 * The same race seen from the winner that never heard the loser ACTIVE
 * (it lost on its side first): the peer heard again after silence, not
 * ACTIVE, means verify now and once more after the window.
 */
static const struct step peer_back_after_silence_verified_twice[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1)},
	{ACQ(3100, 1), EXPECT(ACTIVE, 0)},
	{HB(4000, B(STANDBY, 1)), EXPECT(ACTIVE, V), WHY("heard")},
	{OWNER(4100, SELF), EXPECT(ACTIVE, 0)},
	{KEEP(4200, 9800, B(STANDBY, 1)), EXPECT(ACTIVE, 0)},
	{TICK(10000), EXPECT(ACTIVE, V)},
	{OWNER(10100, PEER_), EXPECT(ACTIVE, A), WHY("re-associating")},
	{ACQ(10600, 1), EXPECT(ACTIVE, 0)},
};

static const struct step two_active_lower_term_eip_here[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(100, B(STANDBY, 5)), EXPECT(STARTING, 0)},
	{OWNER(200, SELF), EXPECT(ACTIVE, S | H | R), TERM(6)},
	{HB(1000, B(ACTIVE, 5)), EXPECT(ACTIVE, V)},
	{OWNER(1100, SELF), EXPECT(ACTIVE, 0)},
	/* It has not heard us yet: no second verify within the interval. */
	{HB(1200, B(ACTIVE, 5)), EXPECT(ACTIVE, 0)},
	{HB(1400, B(STANDBY, 5)), EXPECT(ACTIVE, 0)},
};

static const struct step two_active_equal_term_owner_peer[] = {
	A_ACTIVE_TERM1,
	{HB(4000, B(ACTIVE, 1)), EXPECT(ACTIVE, V), WHY("same term 1")},
	{HB(4200, B(ACTIVE, 1)), EXPECT(ACTIVE, 0)},
	{OWNER(4300, PEER_), EXPECT(STANDBY, S | H),
	 WHY("wins (EIP on node-b's instance")},
};

static const struct step two_active_equal_term_owner_self[] = {
	A_ACTIVE_TERM1,
	{HB(4000, B(ACTIVE, 1)), EXPECT(ACTIVE, V)},
	{OWNER(4300, SELF), EXPECT(ACTIVE, 0), WHY("staying ACTIVE")},
	{HB(4400, B(STANDBY, 1)), EXPECT(ACTIVE, 0)},
};

/* Seen from the lower priority node: owner beats priority. */
static const struct step two_active_equal_term_owner_self_b[] = {
	B_ACTIVE_ALONE,
	{HB(4000, AA(ACTIVE, 1)), EXPECT(ACTIVE, V)},
	{OWNER(4300, SELF), EXPECT(ACTIVE, 0)},
};

static const struct step two_active_equal_term_priority_wins[] = {
	A_ACTIVE_TERM1,
	{HB(4000, B(ACTIVE, 1)), EXPECT(ACTIVE, V)},
	{OWNER(4300, NONE), EXPECT(ACTIVE, A)},
	{ACQ(4600, 1), EXPECT(ACTIVE, S)},
};

static const struct step two_active_equal_term_priority_loses[] = {
	B_ACTIVE_ALONE,
	{HB(4000, AA(ACTIVE, 1)), EXPECT(ACTIVE, V)},
	{OWNER(4300, OTHER), EXPECT(STANDBY, S | H)},
};

static const struct step two_active_equal_term_name_wins[] = {
	A_ACTIVE_TERM1,
	{HB(4000, PEER(ELECT_ACTIVE, 1, 100, 1, 7)), EXPECT(ACTIVE, V)},
	{OWNER(4300, NONE), EXPECT(ACTIVE, A)},
};

static const struct step two_active_equal_term_name_loses[] = {
	B_ACTIVE_ALONE,
	{HB(4000, AA(ACTIVE, 1)), EXPECT(ACTIVE, V)},
	{OWNER(4300, NONE), EXPECT(STANDBY, S | H)},
};

/* The peer stepped down before our answer came: make the EIP ours. */
static const struct step two_active_equal_peer_gave_up_first[] = {
	B_ACTIVE_ALONE,
	{HB(4000, AA(ACTIVE, 1)), EXPECT(ACTIVE, V)},
	{HB(4100, AA(STANDBY, 1)), EXPECT(ACTIVE, 0)},
	{OWNER(4300, PEER_), EXPECT(ACTIVE, A)},
};

/* Rule 5: monitor. */

#define A_ACTIVE_EIP_HERE                                                      \
	{START(0), EXPECT(STARTING, V | S)},                                   \
		{OWNER(100, SELF), EXPECT(STARTING, 0)},                       \
		{HB(200, B(STANDBY, 0)), EXPECT(ACTIVE, S | H | R), TERM(1)}

static const struct step monitor_step_down_guarded[] = {
	A_ACTIVE_EIP_HERE,
	{KEEP(400, 1000, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	/* partition: B silent, takes over on its side */
	{TICK(2000), EXPECT(ACTIVE, 0), WHY("staying ACTIVE")},
	{TICK(10200), EXPECT(ACTIVE, V)},
	{OWNER(10300, PEER_), EXPECT(STANDBY, S | H), GUARD(1),
	 WHY("guarded STANDBY")},
	/* silence alone does not make it take over */
	{TICK(20300), EXPECT(STANDBY, V)},
	{OWNER(20400, PEER_), EXPECT(STANDBY, CH), GUARD(1)},
	/* the instance holding it is running: the guard stays */
	{HOLDER(20500, 1), EXPECT(STANDBY, 0), GUARD(1)},
	{TICK(30300), EXPECT(STANDBY, V)},
	{OWNER(30400, UNKNOWN), EXPECT(STANDBY, 0), GUARD(1)},
	/* healed: heard again, the guard goes, normal rules apply */
	{HB(31000, B(ACTIVE, 2)), EXPECT(STANDBY, 0), GUARD(0),
	 WHY("guarded STANDBY lifted")},
	{KEEP(31200, 35000, B(ACTIVE, 2)), EXPECT(STANDBY, 0)},
	{TICK(36000), EXPECT(ACTIVE, A | S | H), TERM(3),
	 WHY("silent on all links for 1000 ms")},
};

/* Restarted during the partition: the guard came back from the state dir. */
static const struct step restart_guarded_keeps_the_guard[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, PEER_), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(STANDBY, S | H | R), GUARD(1),
	 WHY("guarded STANDBY kept across the restart")},
	{TICK(13000), EXPECT(STANDBY, V)},
	{OWNER(13100, PEER_), EXPECT(STANDBY, CH), GUARD(1)},
	/* the EIP left the peer's instance: nothing to protect, take over */
	{TICK(23000), EXPECT(STANDBY, V)},
	{OWNER(23100, NONE), EXPECT(ACTIVE, A | S | H), TERM(1)},
};

static const struct step restart_guarded_ec2_silent_keeps_it[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{TICK(3000), EXPECT(STANDBY, S | H | R), GUARD(1)},
	{HB(3500, B(ACTIVE, 2)), EXPECT(STANDBY, 0), GUARD(0),
	 WHY("guarded STANDBY lifted")},
};

/* The peer's instance id is learnt from its heartbeats: "other" until then. */
static const struct step restart_guarded_unknown_instance_keeps_it[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, OTHER), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(STANDBY, S | H | R), GUARD(1)},
	{TICK(13000), EXPECT(STANDBY, V)},
	{OWNER(13100, OTHER), EXPECT(STANDBY, CH), GUARD(1)},
};

/*
 * Guarded after node-b took the EIP in a partition; at 20400 its verify
 * finds the EIP still on node-b's instance and asks about that instance.
 */
#define A_GUARDED_ASKS_ABOUT_HOLDER                                            \
	A_ACTIVE_EIP_HERE,                                                     \
		{KEEP(400, 1000, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},           \
		{TICK(2000), EXPECT(ACTIVE, 0)},                               \
		{TICK(10200), EXPECT(ACTIVE, V)},                              \
		{OWNER(10300, PEER_), EXPECT(STANDBY, S | H), GUARD(1)},       \
		{TICK(20300), EXPECT(STANDBY, V)},                             \
		{OWNER(20400, PEER_), EXPECT(STANDBY, CH), GUARD(1)}

/* The peer's instance was stopped with the EIP on it: the way out. */
static const struct step guard_lifted_when_holder_is_down[] = {
	A_GUARDED_ASKS_ABOUT_HOLDER,
	{HOLDER(20500, 0), EXPECT(ACTIVE, A | S | H), GUARD(0), TERM(2),
	 WHY("cannot be serving")},
};

/* A late "down" answer after the peer was heard again changes nothing. */
static const struct step holder_down_ignored_once_peer_heard[] = {
	A_GUARDED_ASKS_ABOUT_HOLDER,
	{HB(20450, B(ACTIVE, 2)), EXPECT(STANDBY, 0), GUARD(0)},
	{HOLDER(20500, 0), EXPECT(STANDBY, 0), GUARD(0)},
};

static const struct step restart_guarded_eip_here_is_active[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, SELF), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, S | H | R), TERM(1), GUARD(0)},
};

static const struct step restart_guarded_eip_nowhere_takes_over[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1), GUARD(0)},
};

static const struct step monitor_guard_lifted_when_eip_leaves_peer[] = {
	A_ACTIVE_EIP_HERE,
	{KEEP(400, 1000, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(2000), EXPECT(ACTIVE, 0)},
	{TICK(10200), EXPECT(ACTIVE, V)},
	{OWNER(10300, PEER_), EXPECT(STANDBY, S | H), GUARD(1)},
	{TICK(20300), EXPECT(STANDBY, V)},
	{OWNER(20400, NONE), EXPECT(ACTIVE, A | S | H), TERM(2),
	 WHY("silent on all links")},
};

/*
 * One-way partition: node-b does not hear us and stays ACTIVE with a lower
 * term; EC2 then shows the EIP on node-b: EC2 is the arbiter.
 */
static const struct step monitor_step_down_peer_active[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{HB(100, B(STANDBY, 5)), EXPECT(STARTING, 0)},
	{OWNER(200, SELF), EXPECT(ACTIVE, S | H | R), TERM(6)},
	{HB(1000, B(ACTIVE, 5)), EXPECT(ACTIVE, V)},
	{OWNER(1100, SELF), EXPECT(ACTIVE, 0)},
	{KEEP(1200, 10000, B(ACTIVE, 5)), EXPECT(ACTIVE, 0)},
	{TICK(10200), EXPECT(ACTIVE, V)},
	{OWNER(10300, PEER_), EXPECT(STANDBY, S | H), GUARD(0),
	 WHY("EC2 is the arbiter")},
	{HB(10400, B(ACTIVE, 5)), EXPECT(STANDBY, 0)},
	{KEEP(10600, 30000, B(ACTIVE, 5)), EXPECT(STANDBY, 0)},
};

/* The EIP moved by hand to the STANDBY peer, which does not claim it. */
static const struct step monitor_eip_on_standby_peer_reassociates[] = {
	A_ACTIVE_EIP_HERE,
	{KEEP(400, 10000, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(10200), EXPECT(ACTIVE, V)},
	{OWNER(10300, PEER_), EXPECT(ACTIVE, A), WHY("re-associating")},
	{ACQ(10800, 1), EXPECT(ACTIVE, 0)},
	{KEEP(11000, 20000, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(20200), EXPECT(ACTIVE, V)},
	{OWNER(20300, SELF), EXPECT(ACTIVE, 0)},
};

/* Our takeover never landed and the silent peer still has it: retry. */
static const struct step monitor_failed_takeover_is_not_guarded[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, PEER_), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R)},
	{ACQ(3500, 0), EXPECT(ACTIVE, V)},
	{OWNER(3600, PEER_), EXPECT(ACTIVE, A), GUARD(0)},
	{ACQ(4000, 1), EXPECT(ACTIVE, 0)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13100, SELF), EXPECT(ACTIVE, 0)},
};

static const struct step monitor_api_error_stays[] = {
	A_ACTIVE_EIP_HERE,
	{KEEP(400, 10000, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(10200), EXPECT(ACTIVE, V)},
	{OWNER(10300, UNKNOWN), EXPECT(ACTIVE, 0), WHY("test detail")},
	{KEEP(10400, 20000, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(20200), EXPECT(ACTIVE, V)},
};

/* Threshold 2, peer never heard: re-acquire, then FAULT, then retries. */
/*
 * A reload added an EIP nobody holds just after our acquisition: the new
 * group is verified at once and the new EIP associated, no failure counted
 * (threshold 1: counting it would be FAULT).
 */
static const struct step reload_new_resources_verified_not_failed[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1)},
	{ACQ(3500, 1), EXPECT(ACTIVE, 0)},
	{RES(4000), EXPECT(ACTIVE, V)},
	{OWNER(4100, NONE), EXPECT(ACTIVE, A), WHY("re-associating (0 of 1")},
	{ACQ(4600, 1), EXPECT(ACTIVE, 0)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13100, SELF), EXPECT(ACTIVE, 0)},
};

/* A reload during the acquisition: it is issued again on the new group. */
static const struct step reload_during_acquisition_reissues_it[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1)},
	{RES(3200), EXPECT(ACTIVE, A)},
	{ACQ(3700, 1), EXPECT(ACTIVE, 0)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13100, SELF), EXPECT(ACTIVE, 0)},
};

static const struct step monitor_reacquire_then_fault[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, SELF), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, S | H | R), TERM(1)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13100, NONE), EXPECT(ACTIVE, A), WHY("re-associating")},
	{ACQ(13600, 1), EXPECT(ACTIVE, 0)},
	{TICK(23000), EXPECT(ACTIVE, V)},
	{OWNER(23100, OTHER), EXPECT(ACTIVE, A)},
	{ACQ(23600, 0), EXPECT(FAULT, S | H),
	 WHY("2 failed acquisitions (migration_threshold 2)")},
	/* alone: retry every monitor interval, verify after success */
	{TICK(33600), EXPECT(FAULT, A), WHY("retrying")},
	{ACQ(34000, 0), EXPECT(FAULT, 0)},
	{TICK(43600), EXPECT(FAULT, A)},
	{ACQ(44000, 1), EXPECT(FAULT, V)},
	{OWNER(44100, SELF), EXPECT(ACTIVE, S | H), TERM(2)},
	{TICK(54100), EXPECT(ACTIVE, V)},
	{OWNER(54200, SELF), EXPECT(ACTIVE, 0)},
};

static const struct step monitor_reacquire_success_resets[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, SELF), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, S | H | R)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13100, NONE), EXPECT(ACTIVE, A)},
	{ACQ(13600, 1), EXPECT(ACTIVE, 0)},
	{TICK(23000), EXPECT(ACTIVE, V)},
	{OWNER(23100, SELF), EXPECT(ACTIVE, 0)},
	{TICK(33000), EXPECT(ACTIVE, V)},
	{OWNER(33100, NONE), EXPECT(ACTIVE, A)},
	{ACQ(33600, 1), EXPECT(ACTIVE, 0)},
	{TICK(43000), EXPECT(ACTIVE, V)},
	{OWNER(43100, SELF), EXPECT(ACTIVE, 0)},
};

/* Threshold 1 with a healthy peer: FAULT hands over, no retry race. */
static const struct step fault_hands_over_to_peer[] = {
	A_ACTIVE_EIP_HERE,
	{KEEP(400, 10000, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(10200), EXPECT(ACTIVE, V)},
	{OWNER(10300, NONE), EXPECT(ACTIVE, A)},
	{ACQ(10900, 0), EXPECT(FAULT, S | H),
	 WHY("acquisition failed (test detail)")},
	{KEEP(11000, 22000, B(STANDBY, 0)), EXPECT(FAULT, 0)},
	{HB(22100, B(ACTIVE, 2)), EXPECT(STANDBY, S | H),
	 WHY("peer node-b took over (term 2)")},
	{KEEP(22300, 40000, B(ACTIVE, 2)), EXPECT(STANDBY, 0)},
};

static const struct step takeover_acquire_fails_below_threshold[] = {
	B_STANDBY_UNDER_A,
	{LEAVE(500, AA(ACTIVE, 1)), EXPECT(ACTIVE, A | S | H)},
	{ACQ(1500, 0), EXPECT(ACTIVE, V), WHY("1 of 2 failures")},
	{OWNER(1600, PEER_), EXPECT(ACTIVE, A)},
	{ACQ(2000, 0), EXPECT(FAULT, S | H)},
};

/* The acquisition deadline (acquire_timeout_ms 30000). */

/* No credentials: the takeover never answers; FAULT hands over to b. */
static const struct step acquire_timeout_faults_and_hands_over[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1)},
	{KEEP(3200, 32800, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(33000), EXPECT(FAULT, C | S | H),
	 WHY("acquisition failed (not done after 30000 ms, "
	     "election.acquire_timeout_ms); 1 failed acquisition")},
	{KEEP(33200, 45000, B(STANDBY, 0)), EXPECT(FAULT, 0)},
	{HB(45100, B(ACTIVE, 2)), EXPECT(STANDBY, S | H),
	 WHY("peer node-b took over")},
	{ACQ(45200, 0), EXPECT(STANDBY, 0)},
};

/* Threshold 2, alone: time out, re-acquire though the verify fails, FAULT. */
static const struct step acquire_timeout_counts_towards_threshold[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R), TERM(1)},
	{TICK(33000), EXPECT(ACTIVE, C | V), WHY("1 of 2 failures")},
	{OWNER(33100, UNKNOWN), EXPECT(ACTIVE, A),
	 WHY("after a failed acquisition: re-associating (1 of 2")},
	{TICK(63100), EXPECT(FAULT, C | S | H),
	 WHY("2 failed acquisitions (migration_threshold 2)")},
	/* alone in FAULT: retry a monitor interval later, time out again */
	{TICK(73100), EXPECT(FAULT, A), WHY("retrying")},
	{TICK(103100), EXPECT(FAULT, C), WHY("failed again (not done")},
	{ACQ(103200, 1), EXPECT(FAULT, 0)}, /* cancelled: ignored */
	{TICK(113100), EXPECT(FAULT, A)},
	{ACQ(113500, 1), EXPECT(FAULT, V)},
	{OWNER(113600, SELF), EXPECT(ACTIVE, S | H), TERM(2)},
};

/* An acquisition that answers in time leaves no deadline behind. */
static const struct step acquire_timeout_not_after_success[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R)},
	{ACQ(3500, 1), EXPECT(ACTIVE, 0), DEADLINE(13000)},
	{TICK(13000), EXPECT(ACTIVE, V)},
	{OWNER(13100, SELF), EXPECT(ACTIVE, 0)},
	{TICK(23000), EXPECT(ACTIVE, V)},
	{OWNER(23100, SELF), EXPECT(ACTIVE, 0)},
	{TICK(33000), EXPECT(ACTIVE, V)},
};

/* A node that cannot use the EC2 API (heartbeat flag 0x02). */

/* node-b sees node-a (priority 100) without credentials: b takes it. */
static const struct step startup_peer_without_api_not_preferred[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, NONE), EXPECT(STARTING, 0)},
	{HB(200, AA_NOAPI(STARTING, 0)), EXPECT(ACTIVE, A | S | H | R),
	 WHY("this node takes precedence (node-a cannot use the EC2 API)")},
	{KEEP(400, 2000, AA_NOAPI(STANDBY, 0)), EXPECT(ACTIVE, 0)},
};

/* node-a knows it has no credentials: it defers to node-b, then recovers. */
static const struct step startup_self_without_api_defers[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{API(50, 0), EXPECT(STARTING, S),
	 WHY("cannot use the EC2 API (peer node-b is preferred while it can; "
	     "heartbeats say so): test detail")},
	{OWNER(100, UNKNOWN), EXPECT(STARTING, 0)},
	{HB(200, B(STARTING, 0)), EXPECT(STANDBY, S | H | R),
	 WHY("node-b takes precedence (this node cannot use the EC2 API)")},
	{HB(300, B(ACTIVE, 1)), EXPECT(STANDBY, 0)},
	{KEEP(400, 10000, B(ACTIVE, 1)), EXPECT(STANDBY, 0)},
	/* it verifies every monitor interval to learn when it can again */
	{TICK(10200), EXPECT(STANDBY, V)},
	{OWNER(10300, PEER_), EXPECT(STANDBY, 0)},
	{API(10350, 1), EXPECT(STANDBY, S), WHY("can use the EC2 API again")},
	{KEEP(10400, 25000, B(ACTIVE, 1)), EXPECT(STANDBY, 0)},
};

/* Without credentials, alone: it still tries. */
static const struct step without_api_still_takes_over_alone[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{API(50, 0), EXPECT(STARTING, S)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R),
	 WHY("not heard on any link since start")},
};

/* ... and from a STANDBY peer that went silent. */
static const struct step without_api_takes_over_from_silent_peer[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{API(50, 0), EXPECT(STARTING, S)},
	{HB(100, B(ACTIVE, 1)), EXPECT(STANDBY, S | H | R)},
	{HB(1000, B(ACTIVE, 1)), EXPECT(STANDBY, 0)},
	{TICK(2000), EXPECT(ACTIVE, A | S | H), WHY("silent on all links")},
};

static const struct step health_no_yield_to_peer_without_api[] = {
	A_ACTIVE_EIP_HERE,
	{KEEP(400, 1000, B_NOAPI(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{HEALTH(1100, 0), EXPECT(ACTIVE, S),
	 WHY("peer node-b cannot take over now: staying ACTIVE")},
	{KEEP(1200, 3000, B_NOAPI(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	/* it can again: the yield happens */
	{HB(3100, B(STANDBY, 0)), EXPECT(STANDBY, S | H),
	 WHY("health check failing and peer node-b is healthy")},
};

static const struct step failback_not_to_peer_without_api[] = {
	B_ACTIVE_ALONE,
	{HB(4000, AA_NOAPI(STARTING, 0)), EXPECT(ACTIVE, 0)},
	{KEEP(4200, 9000, AA_NOAPI(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	/* node-a can again: the failback delay starts then */
	{KEEP(9200, 12000, AA(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(12200), EXPECT(STANDBY, S | H), WHY("failback")},
};

/* A FAULT node retries itself when the peer cannot use the API either. */
static const struct step fault_retries_when_peer_without_api[] = {
	A_ACTIVE_EIP_HERE,
	{KEEP(400, 10000, B_NOAPI(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{TICK(10200), EXPECT(ACTIVE, V)},
	{OWNER(10300, NONE), EXPECT(ACTIVE, A)},
	{ACQ(10900, 0), EXPECT(FAULT, S | H)},
	{KEEP(11000, 20800, B_NOAPI(STANDBY, 0)), EXPECT(FAULT, 0)},
	{TICK(20900), EXPECT(FAULT, A),
	 WHY("retrying the acquisition (peer node-b cannot use the EC2 API)")},
};

/* Rule 6: health. */

static const struct step health_active_yields_to_healthy_peer[] = {
	A_ACTIVE_EIP_HERE,
	{KEEP(400, 1000, B(STANDBY, 0)), EXPECT(ACTIVE, 0)},
	{HEALTH(1100, 0), EXPECT(STANDBY, S | H),
	 WHY("health check failing and peer node-b is healthy")},
	{HB(1200, B(ACTIVE, 2)), EXPECT(STANDBY, 0)},
	{HEALTH(1300, 1), EXPECT(STANDBY, S), WHY("passing again")},
	{KEEP(1400, 9000, B(ACTIVE, 2)), EXPECT(STANDBY, 0)},
};

static const struct step health_active_yield_cancels_acquire[] = {
	B_STANDBY_UNDER_A,
	{LEAVE(500, AA(ACTIVE, 1)), EXPECT(ACTIVE, A | S | H)},
	{HB(600, PEER(ELECT_STANDBY, 0, 100, 1, 20)), EXPECT(ACTIVE, 0)},
	{HEALTH(700, 0), EXPECT(STANDBY, S | H | C)},
	{ACQ(900, 1), EXPECT(STANDBY, 0)},
};

static const struct step health_active_stays_with_unhealthy_peer[] = {
	A_ACTIVE_EIP_HERE,
	{KEEP(400, 1000, PEER(ELECT_STANDBY, 0, 50, 0, 7)), EXPECT(ACTIVE, 0)},
	{HEALTH(1100, 0), EXPECT(ACTIVE, S), WHY("staying ACTIVE")},
	{KEEP(1200, 3000, PEER(ELECT_STANDBY, 0, 50, 0, 7)),
	 EXPECT(ACTIVE, 0)},
	/* the peer recovers: now hand over */
	{HB(3200, B(STANDBY, 0)), EXPECT(STANDBY, S | H)},
};

static const struct step health_active_stays_with_silent_peer[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{OWNER(100, SELF), EXPECT(STARTING, 0)},
	{TICK(3000), EXPECT(ACTIVE, S | H | R)},
	{HEALTH(4000, 0), EXPECT(ACTIVE, S), WHY("staying ACTIVE")},
	{TICK(13000), EXPECT(ACTIVE, V)},
};

static const struct step health_standby_never_takes_over[] = {
	B_STANDBY_UNDER_A,
	{HEALTH(300, 0), EXPECT(STANDBY, S)},
	{HB(400, AA(ACTIVE, 1)), EXPECT(STANDBY, 0)},
	{TICK(1400), EXPECT(STANDBY, 0), WHY("health check failing")},
	{HB(5000, AA(FAULT, 1)), EXPECT(STANDBY, 0)},
	{LEAVE(5100, AA(FAULT, 1)), EXPECT(STANDBY, 0)},
	{TICK(30000), EXPECT(STANDBY, 0)},
	/* eligible again, peer gone: takes over now */
	{HEALTH(31000, 1), EXPECT(ACTIVE, A | S | H), TERM(2),
	 WHY("left (graceful stop)")},
};

static const struct step health_both_standby_healthy_beats_priority[] = {
	/* node-b STANDBY, node-a (higher priority) yields while unhealthy */
	B_STANDBY_UNDER_A,
	{HB(500, PEER(ELECT_STANDBY, 1, 100, 0, 9)), EXPECT(ACTIVE, A | S | H),
	 WHY("node-a is unhealthy")},
};

/* SIGTERM. */

static const struct step shutdown_active[] = {
	A_ACTIVE_EIP_HERE,
	{DOWN(500), EXPECT(STANDBY, H | L), WHY("shutting down")},
	{TICK(5000), EXPECT(STANDBY, 0), DEADLINE(UINT64_MAX)},
	{HB(5100, B(ACTIVE, 2)), EXPECT(STANDBY, 0)},
};

static const struct step shutdown_while_acquiring[] = {
	{START(0), EXPECT(STARTING, V | S)},
	{TICK(3000), EXPECT(ACTIVE, A | S | H | R)},
	{DOWN(3100), EXPECT(STANDBY, H | L | C)},
	{ACQ(3200, 1), EXPECT(STANDBY, 0)},
};

static const struct step shutdown_standby[] = {
	B_STANDBY_UNDER_A,
	{DOWN(500), EXPECT(STANDBY, L)},
};

#define SCEN(fn, ...) {.name = #fn, .steps = fn, .n = NELEM(fn), __VA_ARGS__}

static const struct scenario scenarios[] = {
	SCEN(startup_eip_on_self),
	SCEN(startup_eip_on_self_peer_silent),
	SCEN(startup_eip_on_peer_peer_alive),
	SCEN(startup_peer_active_wins_over_own_eip),
	SCEN(startup_peer_active_before_owner_answer),
	SCEN(startup_peer_silent_takes_over),
	SCEN(startup_check_pending_no_takeover, .start_unhealthy = 1),
	SCEN(startup_eip_on_silent_peer_takes_over),
	SCEN(startup_api_down_peer_silent_takes_over),
	SCEN(startup_api_down_peer_alive_priority),
	SCEN(startup_api_down_peer_alive_priority_b, .as_b = 1),
	SCEN(a_first_then_b_seen_by_a),
	SCEN(a_first_then_b_seen_by_b, .as_b = 1),
	SCEN(b_first_then_a_seen_by_a),
	SCEN(b_first_then_a_seen_by_b, .as_b = 1),
	SCEN(simultaneous_start_seen_by_a),
	SCEN(simultaneous_start_seen_by_b, .as_b = 1),
	SCEN(simultaneous_start_tie_seen_by_a, .tie = 1),
	SCEN(simultaneous_start_tie_seen_by_b, .as_b = 1, .tie = 1),
	SCEN(startup_peer_standby_unassociated),
	SCEN(startup_eip_on_standby_peer),
	SCEN(startup_unhealthy_leaves_own_eip),
	SCEN(startup_unhealthy_peer_silent),
	SCEN(flapping_heartbeats_no_takeover, .as_b = 1),
	SCEN(leave_immediate_takeover, .as_b = 1),
	SCEN(peer_fault_takeover, .as_b = 1),
	SCEN(peer_yield_takeover),
	SCEN(restart_of_standby_peer_keeps_active),
	SCEN(failback_after_delay, .as_b = 1, .failback = 1,
	     .failback_delay = 3000),
	SCEN(failback_clock_restarts, .as_b = 1, .failback = 1,
	     .failback_delay = 3000),
	SCEN(failback_false_never, .as_b = 1),
	SCEN(failback_not_to_lower_priority, .failback = 1,
	     .failback_delay = 1000),
	SCEN(two_active_higher_term_wins),
	SCEN(two_active_loser_cancels_acquire),
	SCEN(two_active_lower_term_peer),
	SCEN(two_active_lower_term_eip_here),
	SCEN(two_active_equal_term_owner_peer),
	SCEN(two_active_equal_term_owner_self),
	SCEN(two_active_equal_term_owner_self_b, .as_b = 1),
	SCEN(two_active_equal_term_priority_wins),
	SCEN(two_active_equal_term_priority_loses, .as_b = 1),
	SCEN(two_active_equal_term_name_wins, .tie = 1),
	SCEN(two_active_equal_term_name_loses, .as_b = 1, .tie = 1),
	SCEN(two_active_equal_peer_gave_up_first, .as_b = 1),
	SCEN(monitor_step_down_guarded),
	SCEN(restart_guarded_keeps_the_guard, .start_guarded = 1),
	SCEN(restart_guarded_ec2_silent_keeps_it, .start_guarded = 1),
	SCEN(restart_guarded_eip_here_is_active, .start_guarded = 1),
	SCEN(restart_guarded_unknown_instance_keeps_it, .start_guarded = 1),
	SCEN(guard_lifted_when_holder_is_down),
	SCEN(holder_down_ignored_once_peer_heard),
	SCEN(restart_guarded_eip_nowhere_takes_over, .start_guarded = 1),
	SCEN(monitor_guard_lifted_when_eip_leaves_peer),
	SCEN(monitor_step_down_peer_active),
	SCEN(monitor_eip_on_standby_peer_reassociates),
	SCEN(monitor_failed_takeover_is_not_guarded, .threshold = 3),
	SCEN(two_active_late_write_of_the_loser, .late_write = 6000),
	SCEN(peer_back_after_silence_verified_twice, .late_write = 6000),
	SCEN(monitor_api_error_stays),
	SCEN(monitor_reacquire_then_fault, .threshold = 2),
	SCEN(reload_new_resources_verified_not_failed),
	SCEN(reload_during_acquisition_reissues_it),
	SCEN(monitor_reacquire_success_resets, .threshold = 2),
	SCEN(fault_hands_over_to_peer),
	SCEN(startup_peer_without_api_not_preferred, .as_b = 1),
	SCEN(startup_self_without_api_defers),
	SCEN(without_api_still_takes_over_alone),
	SCEN(without_api_takes_over_from_silent_peer),
	SCEN(health_no_yield_to_peer_without_api),
	SCEN(failback_not_to_peer_without_api, .as_b = 1, .failback = 1,
	     .failback_delay = 3000),
	SCEN(fault_retries_when_peer_without_api),
	SCEN(acquire_timeout_faults_and_hands_over, .acquire_timeout = 30000),
	SCEN(acquire_timeout_counts_towards_threshold, .threshold = 2,
	     .acquire_timeout = 30000),
	SCEN(acquire_timeout_not_after_success, .acquire_timeout = 30000),
	SCEN(takeover_acquire_fails_below_threshold, .as_b = 1,
	     .threshold = 2),
	SCEN(health_active_yields_to_healthy_peer),
	SCEN(health_active_yield_cancels_acquire, .as_b = 1),
	SCEN(health_active_stays_with_unhealthy_peer),
	SCEN(health_active_stays_with_silent_peer),
	SCEN(health_standby_never_takes_over, .as_b = 1),
	SCEN(health_both_standby_healthy_beats_priority, .as_b = 1),
	SCEN(shutdown_active),
	SCEN(shutdown_while_acquiring),
	SCEN(shutdown_standby, .as_b = 1),
};

/* clang-format on */

/* ---- two simulated nodes, one link, one EC2 ---- */

#define SIM_QMAX 256
#define OWNER_NONE_ID (-1)
#define OWNER_OTHER_ID (-2)

enum sim_kind { SIM_HB, SIM_LEAVE, SIM_VERIFY, SIM_ACQ };

struct sim_item {
	int used;
	uint64_t at;
	int node;     /* receiver (messages) or requester (API) */
	uint64_t gen; /* the receiver's incarnation when queued */
	enum sim_kind kind;
	struct elect_peer_info p;
	int ok;	    /* SIM_ACQ: will succeed */
	int notify; /* SIM_ACQ: the caller still wants the answer */
};

struct sim_node {
	struct elect_state st;
	struct elect_params cfg;
	int up;
	uint64_t inc;
	uint64_t next_hb;
	uint64_t restart_at;
	int healthy;
	unsigned ready;
	uint64_t last_change;
};

struct sim {
	uint64_t rng;
	uint64_t now;
	struct sim_node n[2];
	struct sim_item q[SIM_QMAX];
	int owner; /* node index or OWNER_*_ID */
	uint64_t link_last[2];
	int cut[2]; /* direction from node i is cut */
	int lossy;  /* drop some heartbeats */
	int api_trouble;
	int chaos;
	unsigned changes;
	unsigned overflow;
};

static uint64_t
rnd(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static uint64_t
rnd_range(struct sim *s, uint64_t lo, uint64_t hi)
{
	return lo + rnd(s) % (hi - lo + 1);
}

static void
enqueue(struct sim *s, const struct sim_item *it)
{
	int i;

	for (i = 0; i < SIM_QMAX; i++)
		if (!s->q[i].used) {
			s->q[i] = *it;
			s->q[i].used = 1;
			return;
		}
	s->overflow++;
}

static void
send_msg(struct sim *s, int from, enum sim_kind kind)
{
	struct sim_node *n = &s->n[from];
	int to = 1 - from;
	struct sim_item it = {.kind = kind, .node = to, .gen = s->n[to].inc};
	uint64_t at = s->now + rnd_range(s, 1, 40);

	if (s->cut[from] || (s->lossy && rnd(s) % 4 == 0))
		return;
	/* FIFO per direction, as the shell drops older sequence numbers. */
	if (at < s->link_last[from])
		at = s->link_last[from];
	s->link_last[from] = at;
	it.at = at;
	it.p.role = elect_role(&n->st);
	it.p.priority = n->cfg.self_priority;
	it.p.eligible = elect_eligible(&n->st);
	it.p.term = elect_term(&n->st);
	it.p.incarnation = n->inc;
	/* the heartbeat flags, as daemon.c's link_fill sets them */
	it.p.holds = elect_holds(&n->st);
	it.p.maintenance = elect_maintenance(&n->st);
	it.p.handover = elect_handing_over(&n->st);
	enqueue(s, &it);
}

static void
cancel_acquire(struct sim *s, int node)
{
	int i;

	for (i = 0; i < SIM_QMAX; i++) {
		struct sim_item *it = &s->q[i];

		if (!it->used || it->node != node || it->kind != SIM_ACQ)
			continue;
		/* A cancelled AssociateAddress may still have reached EC2. */
		if (s->chaos && rnd(s) % 2) {
			it->notify = 0;
			continue;
		}
		it->used = 0;
	}
}

static void
apply(struct sim *s, int i, const struct elect_actions *a)
{
	struct sim_node *n = &s->n[i];
	struct sim_item it = {.node = i, .gen = n->inc};

	check_invariants(&n->st, a, 0 != (a->flags & ELECT_ACT_LEAVE));
	if (a->from != a->to) {
		s->changes++;
		n->last_change = s->now;
	}
	if (a->flags & ELECT_ACT_READY)
		n->ready++;
	if (a->flags & ELECT_ACT_CANCEL)
		cancel_acquire(s, i);
	if (a->flags & ELECT_ACT_VERIFY) {
		it.kind = SIM_VERIFY;
		it.at = s->now + rnd_range(s, 20, 400);
		enqueue(s, &it);
	}
	if (a->flags & ELECT_ACT_ACQUIRE) {
		it.kind = SIM_ACQ;
		it.at = s->now + rnd_range(s, 50, 1500);
		it.ok = !(s->api_trouble && rnd(s) % 2);
		it.notify = 1;
		enqueue(s, &it);
	}
	if (a->flags & ELECT_ACT_SEND)
		send_msg(s, i, SIM_HB);
	if (a->flags & ELECT_ACT_LEAVE)
		send_msg(s, i, SIM_LEAVE);
}

static void
deliver(struct sim *s, int i, const struct elect_event *ev)
{
	struct elect_actions a;

	elect_step(&s->n[i].st, ev, s->now, &a);
	apply(s, i, &a);
}

static void
node_start(struct sim *s, int i)
{
	struct sim_node *n = &s->n[i];
	struct elect_event ev = {.type = ELECT_EV_START};

	n->up = 1;
	n->inc = rnd(s) | 1;
	n->ready = 0;
	elect_init(&n->st, &n->cfg, s->now);
	n->next_hb = s->now;
	deliver(s, i, &ev);
	if (!n->healthy) {
		struct elect_event h = {.type = ELECT_EV_HEALTH, .ok = 0};
		deliver(s, i, &h);
	}
}

static void
node_stop(struct sim *s, int i, int graceful)
{
	struct sim_node *n = &s->n[i];
	struct elect_event ev = {.type = ELECT_EV_SHUTDOWN};
	int k;

	if (graceful)
		deliver(s, i, &ev);
	else
		cancel_acquire(s, i);
	/* the state directory keeps the flag over the restart */
	n->cfg.start_maintenance = elect_maintenance(&n->st);
	n->up = 0;
	n->restart_at = s->now + rnd_range(s, 200, 6000);
	for (k = 0; k < SIM_QMAX; k++)
		if (s->q[k].used && s->q[k].node == i &&
		    s->q[k].kind != SIM_ACQ)
			s->q[k].used = 0;
}

static enum elect_owner
owner_for(const struct sim *s, int i)
{
	if (s->owner == i)
		return ELECT_OWNER_SELF;
	if (s->owner == 1 - i)
		return ELECT_OWNER_PEER;
	return s->owner == OWNER_NONE_ID ? ELECT_OWNER_NONE : ELECT_OWNER_OTHER;
}

static void
run_item(struct sim *s, struct sim_item *it)
{
	struct sim_node *n = &s->n[it->node];
	struct elect_event ev;

	it->used = 0;
	memset(&ev, 0, sizeof(ev));
	if (it->kind == SIM_ACQ && it->ok)
		s->owner = it->node; /* EC2 applies it even if nobody listens */
	if (!n->up || it->gen != n->inc)
		return;
	switch (it->kind) {
	case SIM_HB:
		ev.type = ELECT_EV_PEER_HEARTBEAT;
		ev.peer = it->p;
		break;
	case SIM_LEAVE:
		ev.type = ELECT_EV_PEER_LEAVE;
		ev.peer = it->p;
		break;
	case SIM_VERIFY:
		ev.type = ELECT_EV_OWNER;
		ev.owner = s->api_trouble && rnd(s) % 2
			       ? ELECT_OWNER_UNKNOWN
			       : owner_for(s, it->node);
		break;
	case SIM_ACQ:
		if (!it->notify)
			return;
		ev.type = ELECT_EV_ACQUIRED;
		ev.ok = it->ok;
		break;
	}
	deliver(s, it->node, &ev);
}

static void
chaos_event(struct sim *s)
{
	int i = (int)(rnd(s) % 2);
	struct elect_event ev = {.type = ELECT_EV_HEALTH};

	switch (rnd(s) % 9) {
	case 7: /* the operator: a switchover, forced or not */
		ev.type = ELECT_EV_SWITCHOVER;
		ev.force = rnd(s) % 3 == 0;
		if (s->n[i].up)
			deliver(s, i, &ev);
		break;
	case 8: /* the operator: maintenance on or off */
		ev.type = ELECT_EV_MAINTENANCE;
		ev.ok = !elect_maintenance(&s->n[i].st);
		ev.force = rnd(s) % 3 == 0;
		if (s->n[i].up)
			deliver(s, i, &ev);
		break;
	case 0:
		s->n[i].healthy = !s->n[i].healthy;
		ev.ok = s->n[i].healthy;
		if (s->n[i].up)
			deliver(s, i, &ev);
		break;
	case 1:
		/* a full partition, a one-way one, or a lossy link */
		switch (rnd(s) % 3) {
		case 0:
			s->cut[0] = s->cut[1] = !s->cut[0];
			break;
		case 1:
			s->cut[i] = !s->cut[i];
			break;
		case 2:
			s->lossy = !s->lossy;
			break;
		}
		break;
	case 2:
		if (s->n[i].up)
			node_stop(s, i, 0);
		break;
	case 3:
		if (s->n[i].up)
			node_stop(s, i, 1);
		break;
	case 4:
		s->owner = rnd(s) % 2 ? OWNER_NONE_ID : OWNER_OTHER_ID;
		break;
	case 5:
		s->api_trouble = !s->api_trouble;
		break;
	case 6:
		s->owner = (int)(rnd(s) % 2);
		break;
	}
}

/* Heal everything: links, API, health; crashed nodes come back. */
static void
settle(struct sim *s)
{
	int i;

	s->chaos = 0;
	s->cut[0] = s->cut[1] = 0;
	s->lossy = 0;
	s->api_trouble = 0;
	for (i = 0; i < 2; i++) {
		struct elect_event ev = {.type = ELECT_EV_HEALTH, .ok = 1};
		struct elect_event m = {.type = ELECT_EV_MAINTENANCE, .ok = 0};

		s->n[i].healthy = 1;
		if (s->n[i].up) {
			deliver(s, i, &ev);
			deliver(s, i, &m);
		}
		s->n[i].cfg.start_maintenance = 0;
	}
}

/* The earliest thing to happen, and which one: -1 queue, 0/1 node. */
static uint64_t
next_time(const struct sim *s, uint64_t limit)
{
	uint64_t t = limit, d;
	int i;

	for (i = 0; i < SIM_QMAX; i++)
		if (s->q[i].used && s->q[i].at < t)
			t = s->q[i].at;
	for (i = 0; i < 2; i++) {
		const struct sim_node *n = &s->n[i];

		if (!n->up) {
			if (n->restart_at < t)
				t = n->restart_at;
			continue;
		}
		d = elect_next_deadline(&n->st, s->now);
		if (d < t)
			t = d;
		if (n->next_hb < t)
			t = n->next_hb;
	}
	return t < s->now ? s->now : t;
}

static void
sim_advance(struct sim *s, uint64_t limit)
{
	struct elect_event tick = {.type = ELECT_EV_TICK};
	unsigned guard = 0;
	int i;

	while (s->now < limit && guard++ < 2000000) {
		s->now = next_time(s, limit);
		for (i = 0; i < SIM_QMAX; i++)
			if (s->q[i].used && s->q[i].at <= s->now)
				run_item(s, &s->q[i]);
		for (i = 0; i < 2; i++) {
			struct sim_node *n = &s->n[i];

			if (!n->up) {
				if (n->restart_at <= s->now)
					node_start(s, i);
				continue;
			}
			if (elect_next_deadline(&n->st, s->now) <= s->now)
				deliver(s, i, &tick);
			if (n->next_hb <= s->now) {
				n->next_hb = s->now + 200;
				send_msg(s, i, SIM_HB);
			}
		}
	}
	CHECK(guard < 2000000);
}

static int
sim_run(uint64_t seed, int failback, int tie)
{
	static struct sim s;
	uint64_t chaos_end = 60000, t;
	int i, active = -1, nactive = 0;

	memset(&s, 0, sizeof(s));
	s.rng = seed * 0x9e3779b97f4a7c15ull + 1;
	s.owner = OWNER_NONE_ID;
	s.chaos = 1;
	for (i = 0; i < 2; i++) {
		make_config(&s.n[i].cfg, i == 1, tie);
		s.n[i].cfg.monitor_interval_ms = 2000;
		s.n[i].cfg.failback = failback;
		s.n[i].cfg.failback_delay_ms = 5000;
		s.n[i].cfg.migration_threshold = 1 + (unsigned)(seed % 3);
		s.n[i].healthy = 1;
		/* start-up order and gap differ per seed */
		s.n[i].restart_at = rnd_range(&s, 0, 4000);
	}
	for (t = 0; t < chaos_end;) {
		t += rnd_range(&s, 300, 5000);
		sim_advance(&s, t);
		chaos_event(&s);
	}
	sim_advance(&s, chaos_end + 7000); /* crashed nodes are back */
	settle(&s);
	sim_advance(&s, chaos_end + 90000);

	for (i = 0; i < 2; i++) {
		CHECK(s.n[i].up);
		CHECK(s.n[i].ready <= 1);
		if (elect_role(&s.n[i].st) == ELECT_ACTIVE) {
			active = i;
			nactive++;
		}
	}
	CHECK(s.overflow == 0);
	CHECK(nactive == 1);
	CHECK(s.owner == active);
	for (i = 0; i < 2; i++) {
		CHECK(elect_role(&s.n[i].st) ==
		      (i == active ? ELECT_ACTIVE : ELECT_STANDBY));
		/* settled: no state change in the last 30 s */
		CHECK(s.now - s.n[i].last_change > 30000);
	}
	if (nactive != 1 || s.owner != active) {
		char buf[2048];

		for (i = 0; i < 2; i++) {
			elect_describe(&s.n[i].st, s.now, buf, sizeof(buf));
			fprintf(stderr, "  seed %" PRIu64 " node %d: %s\n",
				seed, i, buf);
		}
		fprintf(stderr, "  owner %d\n", s.owner);
		return 0;
	}
	return 1;
}

static void
test_simulation(void)
{
	uint64_t seed;
	unsigned bad = 0;

	TEST("random_two_node_runs_settle_on_one_active_holding_the_eip");
	for (seed = 1; seed <= 300; seed++)
		if (!sim_run(seed, (int)(seed % 2), seed % 5 == 0))
			bad++;
	CHECK(bad == 0);
}

/* ---- small things ---- */

static void
test_config_from(void)
{
	static struct config cfg;
	struct elect_params ec;

	TEST("elect_map_params_maps_self_and_peer_entries");
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.nodes[0].name, sizeof(cfg.nodes[0].name), "node-a");
	snprintf(cfg.nodes[1].name, sizeof(cfg.nodes[1].name), "node-b");
	cfg.nodes[0].priority = 100;
	cfg.nodes[1].priority = 50;
	cfg.nnodes = 2;
	cfg.self = 1;
	cfg.peer = 0;
	cfg.failback = 1;
	cfg.failback_delay_ms = 1234;
	cfg.startup_wait_ms = 2345;
	cfg.timeout_ms = 3456;
	cfg.monitor_interval_ms = 4567;
	cfg.migration_threshold = 3;
	elect_map_params(&ec, &cfg);
	CHECK(strcmp(ec.self_name, "node-b") == 0);
	CHECK(strcmp(ec.peer_name, "node-a") == 0);
	CHECK(ec.self_priority == 50 && ec.peer_priority == 100);
	CHECK(ec.failback == 1 && ec.failback_delay_ms == 1234);
	CHECK(ec.startup_wait_ms == 2345 && ec.timeout_ms == 3456);
	CHECK(ec.monitor_interval_ms == 4567 && ec.migration_threshold == 3);
}

static void
test_names_and_describe(void)
{
	struct elect_params ec;
	struct elect_state st;
	struct elect_event ev = {.type = ELECT_EV_START};
	struct elect_actions a;
	char buf[600];

	TEST("role_names_and_state_dump_line");
	CHECK(strcmp(elect_role_name(ELECT_STARTING), "STARTING") == 0);
	CHECK(strcmp(elect_role_name(ELECT_STANDBY), "STANDBY") == 0);
	CHECK(strcmp(elect_role_name(ELECT_ACTIVE), "ACTIVE") == 0);
	CHECK(strcmp(elect_role_name(ELECT_FAULT), "FAULT") == 0);

	make_config(&ec, 0, 0);
	elect_init(&st, &ec, 1000);
	CHECK(elect_next_deadline(&st, 1000) == UINT64_MAX);
	/* nothing happens before START */
	ev.type = ELECT_EV_TICK;
	elect_step(&st, &ev, 1000, &a);
	CHECK(a.flags == 0 && elect_role(&st) == ELECT_STARTING);
	ev.type = ELECT_EV_START;
	elect_step(&st, &ev, 1000, &a);
	CHECK(a.flags == (ELECT_ACT_VERIFY | ELECT_ACT_SEND));
	/* a second START is ignored */
	elect_step(&st, &ev, 1100, &a);
	CHECK(a.flags == 0);
	ev.type = ELECT_EV_TICK;
	elect_step(&st, &ev, 4000, &a);
	CHECK(elect_role(&st) == ELECT_ACTIVE);
	CHECK(elect_since(&st) == 4000);
	CHECK(elect_failures(&st) == 0);
	CHECK(elect_eligible(&st));
	CHECK(!elect_peer_alive(&st, 4000));
	CHECK(strcmp(elect_last_reason(&st), a.reason) == 0);
	elect_summary(&st, 5000, buf, sizeof(buf));
	CHECK(strstr(buf, "ACTIVE for 1000 ms") != NULL);
	CHECK(strstr(buf, "term 1") != NULL);
	CHECK(strstr(buf, "never heard") != NULL);
	CHECK(strstr(buf, "acquisition in flight") != NULL);
}

/* ---- the enums and the mappings of elect_map.h ---- */

static void
test_role_wire_mapping(void)
{
	static const enum elect_role roles[] = {ELECT_STARTING, ELECT_STANDBY,
						ELECT_ACTIVE, ELECT_FAULT};
	static const enum wire_state states[] = {
	    WIRE_STATE_STARTING, WIRE_STATE_STANDBY, WIRE_STATE_ACTIVE,
	    WIRE_STATE_FAULT};
	size_t i;

	TEST("role_and_wire_state_map_one_to_one_both_ways");
	for (i = 0; i < NELEM(roles); i++) {
		CHECK(elect_map_role_to_wire(roles[i]) == states[i]);
		CHECK(elect_map_role_from_wire(states[i]) == roles[i]);
		CHECK(strcmp(elect_role_name(roles[i]),
			     wire_state_name(states[i])) == 0);
	}
}

static void
test_msg_mapping(void)
{
	struct wire_msg m;
	struct elect_event ev;

	TEST("heartbeat_and_leave_map_to_peer_events");
	memset(&m, 0, sizeof(m));
	m.type = WIRE_HEARTBEAT;
	m.state = WIRE_STATE_ACTIVE;
	m.priority = 77;
	m.eligible = 1;
	m.term = 12;
	m.incarnation = 0x1234;
	elect_map_msg(&m, &ev);
	CHECK(ev.type == ELECT_EV_PEER_HEARTBEAT);
	CHECK(ev.peer.role == ELECT_ACTIVE && ev.peer.priority == 77);
	CHECK(ev.peer.eligible == 1 && ev.peer.term == 12);
	CHECK(ev.peer.incarnation == 0x1234);
	CHECK(!ev.peer.holds && !ev.peer.maintenance && !ev.peer.handover);
	m.flags = WIRE_FLAG_HOLDS | WIRE_FLAG_MAINTENANCE | WIRE_FLAG_HANDOVER;
	elect_map_msg(&m, &ev);
	CHECK(ev.peer.holds && ev.peer.maintenance && ev.peer.handover);
	m.flags = 0;
	m.type = WIRE_LEAVE;
	m.state = WIRE_STATE_FAULT;
	m.eligible = 0;
	elect_map_msg(&m, &ev);
	CHECK(ev.type == ELECT_EV_PEER_LEAVE);
	CHECK(ev.peer.role == ELECT_FAULT && ev.peer.eligible == 0);
}

static void
test_owner_and_level_mapping(void)
{
	TEST("resource_owner_and_log_level_map_value_by_value");
	CHECK(elect_map_owner(RES_OWNER_UNKNOWN) == ELECT_OWNER_UNKNOWN);
	CHECK(elect_map_owner(RES_OWNER_NONE) == ELECT_OWNER_NONE);
	CHECK(elect_map_owner(RES_OWNER_SELF) == ELECT_OWNER_SELF);
	CHECK(elect_map_owner(RES_OWNER_PEER) == ELECT_OWNER_PEER);
	CHECK(elect_map_owner(RES_OWNER_OTHER) == ELECT_OWNER_OTHER);
	CHECK(elect_map_level(ELECT_LEVEL_ERR) == LOG_LEVEL_ERR);
	CHECK(elect_map_level(ELECT_LEVEL_WARNING) == LOG_LEVEL_WARNING);
	CHECK(elect_map_level(ELECT_LEVEL_NOTICE) == LOG_LEVEL_NOTICE);
	CHECK(elect_map_level(ELECT_LEVEL_INFO) == LOG_LEVEL_INFO);
	/* note() keeps the most severe: a lower value is more severe */
	CHECK(ELECT_LEVEL_ERR < ELECT_LEVEL_WARNING &&
	      ELECT_LEVEL_WARNING < ELECT_LEVEL_NOTICE &&
	      ELECT_LEVEL_NOTICE < ELECT_LEVEL_INFO);
}

static void
step_at(struct elect_state *st, struct elect_event *ev, uint64_t t,
	struct elect_actions *a)
{
	elect_step(st, ev, t, a);
	check_invariants(st, a, ev->type == ELECT_EV_SHUTDOWN);
}

static void
test_peer_states(void)
{
	struct elect_params ec;
	struct elect_state st;
	struct elect_event ev;
	struct elect_actions a;
	struct elect_peer_info b = B(STANDBY, 0);

	TEST("peer_state_unknown_up_silent_left_and_back");
	CHECK(strcmp(elect_peer_state_name(ELECT_PEER_UNKNOWN), "unknown") ==
	      0);
	CHECK(strcmp(elect_peer_state_name(ELECT_PEER_UP), "alive") == 0);
	CHECK(strcmp(elect_peer_state_name(ELECT_PEER_SILENT), "silent") == 0);
	CHECK(strcmp(elect_peer_state_name(ELECT_PEER_LEFT), "left") == 0);
	make_config(&ec, 0, 0);
	elect_init(&st, &ec, 0);
	memset(&ev, 0, sizeof(ev));
	ev.type = ELECT_EV_START;
	step_at(&st, &ev, 0, &a);
	CHECK(elect_peer_state(&st, 0) == ELECT_PEER_UNKNOWN);
	ev.type = ELECT_EV_PEER_HEARTBEAT;
	ev.peer = b;
	step_at(&st, &ev, 100, &a);
	CHECK(elect_peer_state(&st, 100) == ELECT_PEER_UP);
	CHECK(elect_peer_alive(&st, 1099));
	CHECK(elect_peer(&st)->priority == 50);
	/* the accessor says SILENT as soon as the timeout has passed ... */
	CHECK(elect_peer_state(&st, 1100) == ELECT_PEER_SILENT);
	CHECK(!elect_peer_alive(&st, 1100));
	CHECK(elect_next_deadline(&st, 200) <= 1100);
	/* ... and the state machine records it at the next step */
	ev.type = ELECT_EV_TICK;
	step_at(&st, &ev, 1100, &a);
	CHECK(st.peer_state == ELECT_PEER_SILENT);
	CHECK(strstr(a.reason, "silent on all links") != NULL);
	ev.type = ELECT_EV_PEER_HEARTBEAT;
	step_at(&st, &ev, 1200, &a);
	CHECK(elect_peer_state(&st, 1200) == ELECT_PEER_UP);
	ev.type = ELECT_EV_PEER_LEAVE;
	step_at(&st, &ev, 1300, &a);
	CHECK(elect_peer_state(&st, 1300) == ELECT_PEER_LEFT);
	CHECK(!elect_peer_alive(&st, 1300));
	/* late heartbeats of the incarnation that left change nothing */
	ev.type = ELECT_EV_PEER_HEARTBEAT;
	step_at(&st, &ev, 1350, &a);
	CHECK(elect_peer_state(&st, 1350) == ELECT_PEER_LEFT);
	/* a new incarnation is up again */
	ev.peer.incarnation = 8;
	step_at(&st, &ev, 1400, &a);
	CHECK(elect_peer_state(&st, 1400) == ELECT_PEER_UP);
}

/*
 * The issue-9 contradiction: node-a finds the EIP on node-b's instance,
 * node-b goes silent, node-a takes over. 350 ms after AssociateAddress
 * succeeded the dump must say "this node, unverified", never "node-b's".
 */
static void
test_acquisition_sets_owner_self_unverified(void)
{
	struct elect_params ec;
	struct elect_state st;
	struct elect_event ev;
	struct elect_actions a;
	char buf[4096];

	TEST("acquisition_sets_owner_self_unverified_until_the_next_verify");
	CHECK(strcmp(elect_acq_name(ELECT_ACQ_IDLE), "idle") == 0);
	CHECK(strcmp(elect_acq_name(ELECT_ACQ_IN_FLIGHT), "in flight") == 0);
	CHECK(strcmp(elect_acq_name(ELECT_ACQ_UNCONFIRMED), "unconfirmed") ==
	      0);
	CHECK(strcmp(elect_acq_name(ELECT_ACQ_HELD), "held") == 0);
	make_config(&ec, 0, 0);
	elect_init(&st, &ec, 0);
	memset(&ev, 0, sizeof(ev));
	ev.type = ELECT_EV_START;
	step_at(&st, &ev, 0, &a);
	ev.type = ELECT_EV_PEER_HEARTBEAT;
	ev.peer = (struct elect_peer_info)B(ACTIVE, 1);
	step_at(&st, &ev, 100, &a);
	CHECK(elect_role(&st) == ELECT_STANDBY);
	CHECK(elect_acq(&st) == ELECT_ACQ_IDLE);
	ev.type = ELECT_EV_OWNER;
	ev.owner = ELECT_OWNER_PEER;
	step_at(&st, &ev, 200, &a);
	CHECK(elect_owner(&st) == ELECT_OWNER_PEER);
	ev.type = ELECT_EV_TICK;
	step_at(&st, &ev, 1100, &a);
	CHECK(elect_role(&st) == ELECT_ACTIVE && (a.flags & ELECT_ACT_ACQUIRE));
	CHECK(elect_acq(&st) == ELECT_ACQ_IN_FLIGHT);
	elect_summary(&st, 1150, buf, sizeof(buf));
	CHECK(strstr(buf, "acquisition in flight") != NULL);

	ev.type = ELECT_EV_ACQUIRED;
	ev.ok = 1;
	step_at(&st, &ev, 1500, &a);
	CHECK(elect_acq(&st) == ELECT_ACQ_UNCONFIRMED);
	CHECK(elect_owner(&st) == ELECT_OWNER_SELF);
	elect_describe(&st, 1850, buf, sizeof(buf));
	fprintf(stderr, "%s", buf);
	CHECK(strstr(buf, "node-b's instance") == NULL);
	CHECK(strstr(buf,
		     "\nowner: EIP on this instance (acquired 350 ms ago, "
		     "not verified yet), acquisition unconfirmed\n") != NULL);
	CHECK(strncmp(buf, "state: ACTIVE\n", 14) == 0);
	CHECK(strstr(buf, "\nterm: 2\n") != NULL);
	CHECK(strstr(buf, "\nguarded: no\n") != NULL);
	CHECK(strstr(buf, "\nsince: 0.750 s ago\n") != NULL);
	CHECK(strstr(buf, "\nreason: STANDBY -> ACTIVE: peer node-b silent") !=
	      NULL);
	CHECK(strstr(buf, "\nelection: ACTIVE for 750 ms") != NULL);
	CHECK(strstr(buf,
		     "\npeer: node-b silent, state ACTIVE, priority 50, "
		     "healthy, term 1, incarnation 0000000000000007") != NULL);

	/* the next verify confirms it: held */
	ev.type = ELECT_EV_OWNER;
	ev.owner = ELECT_OWNER_SELF;
	step_at(&st, &ev, 2000, &a);
	CHECK(elect_acq(&st) == ELECT_ACQ_HELD);
	elect_describe(&st, 2100, buf, sizeof(buf));
	CHECK(strstr(buf, "owner: EIP on this instance (verified 100 ms ago), "
			  "acquisition held\n") != NULL);
}

/* An acquisition that did not stick counts once, at the verify after it. */
static void
test_unconfirmed_acquisition_that_did_not_stick(void)
{
	struct elect_params ec;
	struct elect_state st;
	struct elect_event ev;
	struct elect_actions a;

	TEST("unconfirmed_acquisition_then_eip_missing_counts_one_failure");
	make_config(&ec, 0, 0);
	ec.migration_threshold = 3;
	elect_init(&st, &ec, 0);
	memset(&ev, 0, sizeof(ev));
	ev.type = ELECT_EV_START;
	step_at(&st, &ev, 0, &a);
	ev.type = ELECT_EV_TICK;
	step_at(&st, &ev, 3000, &a);
	CHECK(elect_role(&st) == ELECT_ACTIVE);
	CHECK(elect_acq(&st) == ELECT_ACQ_IN_FLIGHT);
	ev.type = ELECT_EV_ACQUIRED;
	ev.ok = 1;
	step_at(&st, &ev, 3200, &a);
	CHECK(elect_acq(&st) == ELECT_ACQ_UNCONFIRMED);
	ev.type = ELECT_EV_OWNER;
	ev.owner = ELECT_OWNER_NONE;
	step_at(&st, &ev, 3400, &a);
	CHECK(elect_failures(&st) == 1);
	CHECK(a.flags & ELECT_ACT_ACQUIRE);
	CHECK(elect_acq(&st) == ELECT_ACQ_IN_FLIGHT);
	CHECK(elect_owner(&st) == ELECT_OWNER_NONE);
	/* a state change drops the acquisition: CANCEL, idle */
	ev.type = ELECT_EV_SHUTDOWN;
	step_at(&st, &ev, 3500, &a);
	CHECK(a.flags & ELECT_ACT_CANCEL);
	CHECK(elect_acq(&st) == ELECT_ACQ_IDLE);
}

/* ---- the operator: switchover and maintenance ---- */

/* One event of the given type with the peer's heartbeat fields. */
static void
op(struct elect_state *st, enum elect_event_type type,
   struct elect_peer_info peer, int ok, int force, uint64_t t,
   struct elect_actions *a)
{
	struct elect_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.peer = peer;
	ev.owner = (enum elect_owner)ok;
	ev.ok = ok;
	ev.force = force;
	step_at(st, &ev, t, a);
}

static struct elect_peer_info
peer_of(enum elect_role role, uint64_t term, unsigned prio, int holds,
	int maint, int handover)
{
	struct elect_peer_info p = PEER(role, term, prio, 1, 7);

	p.holds = holds;
	p.maintenance = maint;
	p.handover = handover;
	return p;
}

static const struct elect_peer_info no_peer;

/* node-a ACTIVE (EIP already here, term 1) with node-b STANDBY. */
static void
active_pair(struct elect_state *st, struct elect_peer_info b)
{
	struct elect_params ec;
	struct elect_actions a;

	make_config(&ec, 0, 0);
	elect_init(st, &ec, 0);
	op(st, ELECT_EV_START, no_peer, 0, 0, 0, &a);
	op(st, ELECT_EV_OWNER, no_peer, ELECT_OWNER_SELF, 0, 100, &a);
	op(st, ELECT_EV_PEER_HEARTBEAT, b, 0, 0, 200, &a);
	CHECK(elect_role(st) == ELECT_ACTIVE && elect_term(st) == 1);
}

/* node-b STANDBY facing node-a ACTIVE (term 1, acquisition done). */
static void
standby_pair(struct elect_state *st, int maintenance)
{
	struct elect_params ec;
	struct elect_actions a;

	make_config(&ec, 1, 0);
	ec.start_maintenance = maintenance;
	elect_init(st, &ec, 0);
	op(st, ELECT_EV_START, no_peer, 0, 0, 0, &a);
	op(st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 1, 100, 1, 0, 0),
	   0, 0, 100, &a);
	CHECK(elect_role(st) == ELECT_STANDBY);
}

static void
test_switchover_from_active_keeps_an_active_node(void)
{
	struct elect_state st;
	struct elect_actions a;

	TEST("switchover_on_active_asks_peer_then_steps_down_on_higher_term");
	active_pair(&st, peer_of(ELECT_STANDBY, 0, 50, 0, 0, 0));
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 0, 500, &a);
	CHECK(!a.refused && elect_role(&st) == ELECT_ACTIVE);
	CHECK(elect_handing_over(&st) && (a.flags & ELECT_ACT_SEND));
	CHECK(!(a.flags & (ELECT_ACT_ACQUIRE | ELECT_ACT_HOOK)));
	CHECK(strstr(a.reason, "asking peer node-b to take over") != NULL);
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 0, 550, &a);
	CHECK(a.refused && strstr(a.reason, "already in progress") != NULL);
	CHECK(elect_handing_over(&st));
	/* still STANDBY (its heartbeat crossed ours): stay ACTIVE */
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_STANDBY, 0, 50, 0, 0, 0),
	   0, 0, 600, &a);
	CHECK(elect_role(&st) == ELECT_ACTIVE);
	/* ACTIVE, its AssociateAddress in flight: stay ACTIVE meanwhile */
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 2, 50, 0, 0, 0),
	   0, 0, 700, &a);
	CHECK(elect_role(&st) == ELECT_ACTIVE && a.flags == 0);
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 2, 50, 1, 0, 0),
	   0, 0, 750, &a);
	CHECK(elect_role(&st) == ELECT_STANDBY && (a.flags & ELECT_ACT_HOOK));
	CHECK(!(a.flags & ELECT_ACT_ACQUIRE));
	CHECK(strstr(a.reason, "switchover: peer node-b is ACTIVE") != NULL);
	CHECK(!elect_handing_over(&st));
}

static void
test_switchover_lapses(void)
{
	struct elect_state st;
	struct elect_actions a;
	struct elect_peer_info b = peer_of(ELECT_STANDBY, 0, 50, 0, 0, 0);
	uint64_t t;

	TEST("switchover_not_answered_lapses_after_three_timeouts");
	active_pair(&st, b);
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 0, 500, &a);
	CHECK(elect_next_deadline(&st, 600) <= 3500);
	for (t = 600; t < 3500; t += 200)
		op(&st, ELECT_EV_PEER_HEARTBEAT, b, 0, 0, t, &a);
	CHECK(elect_handing_over(&st));
	op(&st, ELECT_EV_TICK, no_peer, 0, 0, 3500, &a);
	CHECK(!elect_handing_over(&st) && elect_role(&st) == ELECT_ACTIVE);
	CHECK(strstr(a.reason, "did not take over") != NULL);
}

static void
test_switchover_refusals(void)
{
	struct elect_state st;
	struct elect_actions a;

	TEST("switchover_refused_when_peer_in_maintenance_unless_forced");
	active_pair(&st, peer_of(ELECT_STANDBY, 0, 50, 0, 1, 0));
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 0, 500, &a);
	CHECK(a.refused && strstr(a.reason, "node-b is in maintenance"));
	CHECK(!elect_handing_over(&st));
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 1, 550, &a);
	CHECK(!a.refused && elect_handing_over(&st));

	TEST("switchover_refused_when_peer_cannot_use_the_api");
	{
		struct elect_peer_info b = peer_of(ELECT_STANDBY, 0, 50, 0, 0, 0);

		b.no_api = 1;
		active_pair(&st, b);
		op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 0, 500, &a);
		CHECK(a.refused && strstr(a.reason, "cannot use the EC2 API"));
	}

	TEST("switchover_refused_when_peer_unhealthy_or_not_heard");
	active_pair(&st,
		    (struct elect_peer_info)PEER(ELECT_STANDBY, 0, 50, 0, 7));
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 0, 500, &a);
	CHECK(a.refused && strstr(a.reason, "unhealthy"));
	op(&st, ELECT_EV_TICK, no_peer, 0, 0, 1300, &a);
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 1, 1400, &a);
	CHECK(a.refused && strstr(a.reason, "silent"));
	CHECK(elect_role(&st) == ELECT_ACTIVE);
}

static void
test_standby_takes_over_on_handover(void)
{
	struct elect_state st;
	struct elect_actions a;

	TEST("standby_takes_over_once_when_active_peer_hands_over");
	standby_pair(&st, 0);
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 1, 100, 1, 0, 1),
	   0, 0, 300, &a);
	CHECK(elect_role(&st) == ELECT_ACTIVE && elect_term(&st) == 2);
	CHECK((a.flags & ELECT_ACT_ACQUIRE) && (a.flags & ELECT_ACT_HOOK));
	CHECK(strstr(a.reason, "asked this node to take over") != NULL);
	/* the old ACTIVE's next heartbeats, before it stepped down: quiet */
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 1, 100, 1, 0, 1),
	   0, 0, 350, &a);
	CHECK(elect_role(&st) == ELECT_ACTIVE && a.reason[0] == '\0');
	CHECK(!(a.flags & ELECT_ACT_ACQUIRE));
	op(&st, ELECT_EV_ACQUIRED, no_peer, 1, 0, 400, &a);
	CHECK(elect_holds(&st) && (a.flags & ELECT_ACT_SEND));
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 1, 100, 1, 0, 1),
	   0, 0, 450, &a);
	CHECK(elect_role(&st) == ELECT_ACTIVE && a.flags == 0);

	TEST("standby_without_the_api_ignores_handover");
	standby_pair(&st, 0);
	op(&st, ELECT_EV_API, no_peer, 0, 0, 200, &a);
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 1, 100, 1, 0, 1),
	   0, 0, 300, &a);
	CHECK(elect_role(&st) == ELECT_STANDBY);
	CHECK(!(a.flags & ELECT_ACT_ACQUIRE));
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 1, 100, 1, 0, 0),
	   0, 0, 350, &a);
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 0, 400, &a);
	CHECK(a.refused && strstr(a.reason, "cannot use the EC2 API"));

	TEST("standby_in_maintenance_ignores_handover");
	standby_pair(&st, 1);
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 1, 100, 1, 0, 1),
	   0, 0, 300, &a);
	CHECK(elect_role(&st) == ELECT_STANDBY);
	CHECK(!(a.flags & ELECT_ACT_ACQUIRE));
}

static void
test_switchover_on_standby(void)
{
	struct elect_state st;
	struct elect_actions a;

	TEST("switchover_on_standby_takes_over_at_once");
	standby_pair(&st, 0);
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 0, 500, &a);
	CHECK(!a.refused && elect_role(&st) == ELECT_ACTIVE);
	CHECK((a.flags & ELECT_ACT_ACQUIRE) && elect_term(&st) == 2);
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 0, 550, &a);
	CHECK(a.refused && strstr(a.reason, "in progress") != NULL);

	TEST("active_waits_for_standby_that_took_over_to_hold");
	active_pair(&st, peer_of(ELECT_STANDBY, 0, 50, 0, 0, 0));
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 2, 50, 0, 0, 0),
	   0, 0, 500, &a);
	CHECK(elect_role(&st) == ELECT_ACTIVE && elect_handing_over(&st));
	CHECK(!(a.flags & (ELECT_ACT_ACQUIRE | ELECT_ACT_VERIFY)));
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 2, 50, 0, 0, 0),
	   0, 0, 600, &a);
	CHECK(elect_role(&st) == ELECT_ACTIVE);
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 2, 50, 1, 0, 0),
	   0, 0, 700, &a);
	CHECK(elect_role(&st) == ELECT_STANDBY &&
	      !(a.flags & ELECT_ACT_ACQUIRE));

	TEST("switchover_on_standby_refused_while_peer_acquires");
	standby_pair(&st, 0);
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 1, 100, 0, 0, 0),
	   0, 0, 300, &a);
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 1, 500, &a);
	CHECK(a.refused && strstr(a.reason, "already in progress") != NULL);
	CHECK(elect_role(&st) == ELECT_STANDBY);

	TEST("switchover_on_standby_in_maintenance_refused_even_forced");
	standby_pair(&st, 1);
	op(&st, ELECT_EV_SWITCHOVER, no_peer, 0, 1, 500, &a);
	CHECK(a.refused && strstr(a.reason, "maintenance") != NULL);
	CHECK(elect_role(&st) == ELECT_STANDBY);
}

static void
test_maintenance(void)
{
	struct elect_state st;
	struct elect_actions a;
	char buf[4096];

	TEST("maintenance_standby_never_takes_over_on_silence");
	standby_pair(&st, 0);
	op(&st, ELECT_EV_MAINTENANCE, no_peer, 1, 0, 200, &a);
	CHECK(!a.refused && elect_maintenance(&st) &&
	      (a.flags & ELECT_ACT_SEND));
	op(&st, ELECT_EV_TICK, no_peer, 0, 0, 1200, &a);
	op(&st, ELECT_EV_TICK, no_peer, 0, 0, 5000, &a);
	CHECK(elect_role(&st) == ELECT_STANDBY);
	CHECK(!(a.flags & ELECT_ACT_ACQUIRE));
	elect_describe(&st, 5000, buf, sizeof(buf));
	CHECK(strstr(buf, "\nmaintenance: yes") != NULL);
	CHECK(strstr(buf, "in maintenance (never taking over)") != NULL);
	/* off again: the silent peer is taken over at once */
	op(&st, ELECT_EV_MAINTENANCE, no_peer, 0, 0, 5100, &a);
	CHECK(!elect_maintenance(&st) && elect_role(&st) == ELECT_ACTIVE);
	CHECK(a.flags & ELECT_ACT_ACQUIRE);

	TEST("maintenance_from_start_keeps_even_own_eip_standby");
	{
		struct elect_params ec;

		make_config(&ec, 0, 0);
		ec.start_maintenance = 1;
		elect_init(&st, &ec, 0);
		op(&st, ELECT_EV_START, no_peer, 0, 0, 0, &a);
		op(&st, ELECT_EV_OWNER, no_peer, ELECT_OWNER_SELF, 0, 100, &a);
		op(&st, ELECT_EV_TICK, no_peer, 0, 0, 3000, &a);
		CHECK(elect_role(&st) == ELECT_STANDBY);
		CHECK(strstr(a.reason, "in maintenance") != NULL);
		op(&st, ELECT_EV_TICK, no_peer, 0, 0, 9000, &a);
		CHECK(elect_role(&st) == ELECT_STANDBY);
	}

	TEST("maintenance_on_active_hands_over_like_a_switchover");
	active_pair(&st, peer_of(ELECT_STANDBY, 0, 50, 0, 0, 0));
	op(&st, ELECT_EV_MAINTENANCE, no_peer, 1, 0, 500, &a);
	CHECK(!a.refused && elect_role(&st) == ELECT_ACTIVE);
	CHECK(elect_maintenance(&st) && elect_handing_over(&st));
	op(&st, ELECT_EV_PEER_HEARTBEAT, peer_of(ELECT_ACTIVE, 2, 50, 1, 0, 0),
	   0, 0, 700, &a);
	CHECK(elect_role(&st) == ELECT_STANDBY);
	CHECK(!(a.flags & ELECT_ACT_ACQUIRE));
	/* the new ACTIVE dies: no takeover */
	op(&st, ELECT_EV_TICK, no_peer, 0, 0, 3000, &a);
	CHECK(elect_role(&st) == ELECT_STANDBY);

	TEST("maintenance_on_active_without_peer_refused_unless_forced");
	active_pair(&st, peer_of(ELECT_STANDBY, 0, 50, 0, 0, 0));
	op(&st, ELECT_EV_TICK, no_peer, 0, 0, 1300, &a);
	op(&st, ELECT_EV_MAINTENANCE, no_peer, 1, 0, 1400, &a);
	CHECK(a.refused && strstr(a.reason, "--force") != NULL);
	CHECK(!elect_maintenance(&st) && elect_role(&st) == ELECT_ACTIVE);
	op(&st, ELECT_EV_MAINTENANCE, no_peer, 1, 1, 1500, &a);
	CHECK(!a.refused && elect_maintenance(&st));
	CHECK(elect_role(&st) == ELECT_STANDBY);
	CHECK(!(a.flags & ELECT_ACT_ACQUIRE));

	TEST("peer_in_maintenance_is_not_preferred");
	{
		struct elect_params ec;

		make_config(&ec, 1, 0);
		elect_init(&st, &ec, 0);
		op(&st, ELECT_EV_START, no_peer, 0, 0, 0, &a);
		op(&st, ELECT_EV_OWNER, no_peer, ELECT_OWNER_NONE, 0, 50, &a);
		op(&st, ELECT_EV_PEER_HEARTBEAT,
		   peer_of(ELECT_STANDBY, 0, 100, 0, 1, 0), 0, 0, 100, &a);
		CHECK(elect_role(&st) == ELECT_ACTIVE);
		CHECK(strstr(a.reason, "node-a is in maintenance") != NULL);
	}
}

/* Monitor polls spread over interval +/- 10 % once seeded, never beyond. */
static void
test_monitor_jitter(void)
{
	struct elect_params ec;
	struct elect_state st;
	struct elect_actions a;
	struct elect_event ev;
	uint64_t now = 0, last = 0, lo = UINT64_MAX, hi = 0, d;
	unsigned verifies = 0, guard = 0;

	TEST("monitor_waits_jitter_within_ten_percent");
	make_config(&ec, 0, 0);
	ec.monitor_jitter_seed = 0x9e3779b97f4a7c15ull;
	elect_init(&st, &ec, 0);
	memset(&ev, 0, sizeof(ev));
	ev.type = ELECT_EV_START;
	elect_step(&st, &ev, now, &a);
	ev.type = ELECT_EV_OWNER;
	ev.owner = ELECT_OWNER_SELF;
	elect_step(&st, &ev, 100, &a);
	while (verifies < 200 && guard++ < 2000) {
		d = elect_next_deadline(&st, now);
		if (d == UINT64_MAX)
			break;
		now = d > now ? d : now + 1;
		ev.type = ELECT_EV_TICK;
		elect_step(&st, &ev, now, &a);
		if (!(a.flags & ELECT_ACT_VERIFY))
			continue;
		if (last != 0 && elect_role(&st) == ELECT_ACTIVE) {
			lo = now - last < lo ? now - last : lo;
			hi = now - last > hi ? now - last : hi;
		}
		last = now;
		verifies++;
		ev.type = ELECT_EV_OWNER;
		ev.owner = ELECT_OWNER_SELF;
		elect_step(&st, &ev, now, &a);
	}
	CHECK(elect_role(&st) == ELECT_ACTIVE && verifies == 200);
	CHECK(lo >= 9000 && hi <= 11000);
	CHECK(hi - lo >= 1000); /* actually spread, not a constant */
	if (!(lo >= 9000 && hi <= 11000 && hi - lo >= 1000))
		fprintf(stderr, "  waits %llu..%llu ms\n", (unsigned long long)lo,
			(unsigned long long)hi);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < NELEM(scenarios); i++)
		run_scenario(&scenarios[i]);
	test_names_and_describe();
	test_config_from();
	test_role_wire_mapping();
	test_msg_mapping();
	test_owner_and_level_mapping();
	test_peer_states();
	test_acquisition_sets_owner_self_unverified();
	test_unconfirmed_acquisition_that_did_not_stick();
	test_switchover_from_active_keeps_an_active_node();
	test_switchover_lapses();
	test_switchover_refusals();
	test_standby_takes_over_on_handover();
	test_switchover_on_standby();
	test_maintenance();
	test_simulation();
	test_monitor_jitter();
	return check_done();
}
