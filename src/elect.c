/*
 * elect.c - the election rules of DESIGN.md as a pure state machine: every
 * input (heartbeat, EC2 answer, health, timer) comes in as an event with the
 * time, and every output (verify, acquire, send, hook) goes out as a flag.
 *
 * Choices where DESIGN.md is silent (also in eipfloatd(8)):
 *
 * - Start-up decides as soon as both the peer and EC2's answer are known, or
 *   at the end of startup_wait_ms. An ACTIVE peer wins over "the EIP is on
 *   this instance": that peer has just taken over and its AssociateAddress
 *   is in flight, so fighting it would move the EIP twice. An unhealthy node
 *   never acquires at start-up; it keeps the EIP it already holds (no API
 *   call) unless a healthy peer is there to take it.
 * - "Should be active" between two alive nodes that are both not ACTIVE:
 *   healthy beats unhealthy (a FAULT node counts as unhealthy), then a node
 *   that can use the EC2 API beats one whose heartbeats say it cannot (no
 *   credentials, no route), then higher priority, then the lower name
 *   (strcmp). Both nodes compute it from the same heartbeats, so exactly
 *   one of them takes over. A peer that cannot use the API is not handed
 *   the EIP (health yield, failback) and does not stop a FAULT node's
 *   retries; a node that cannot use it still takes over from a silent peer.
 *   A STANDBY that cannot use it verifies every monitor interval, to learn
 *   when it can again.
 * - Two ACTIVE nodes with equal terms ask EC2 first (VERIFY) and decide on
 *   the fresh answer; a remembered owner may be stale on one of them.
 * - Failures: each failed acquisition counts once, whether AssociateAddress
 *   failed for good or the next verify still shows the EIP elsewhere; the
 *   count resets when a verify shows the EIP on this instance. Reaching
 *   migration_threshold means FAULT. Below it the node verifies at once and
 *   re-acquires if needed.
 * - An acquisition still unanswered after acquire_timeout_ms is cancelled
 *   and counts as a failed one (ACTIVE: verify, re-acquire or FAULT; FAULT:
 *   the next try a monitor interval later). A verify that cannot answer
 *   after a failed acquisition re-acquires: "unknown" must not stall the
 *   count on its way to FAULT.
 * - FAULT is left when an alive peer becomes ACTIVE (-> STANDBY), or when
 *   the EIP is verified on this instance (-> ACTIVE, new term). Unless a
 *   healthy peer is alive to take over, a FAULT node retries the acquisition
 *   every monitor.interval_ms and verifies after each success: a lone node
 *   keeps trying.
 * - Monitor answer "on the peer's instance": step down when the peer is
 *   alive and ACTIVE (EC2 is the arbiter), or, as a guarded STANDBY, when
 *   the peer is silent and the EIP had been ours during this term (the peer
 *   took it in a partition). If the EIP never reached us (our acquisition
 *   failed) or the alive peer does not claim it (STANDBY, STARTING, FAULT:
 *   someone moved it by hand), it is re-associated like a missing EIP.
 * - A guarded STANDBY verifies every monitor.interval_ms. If the EIP is no
 *   longer on the peer's instance (say the peer's instance was stopped) the
 *   guard has nothing left to protect and is lifted. Each verify that
 *   finds it on another instance also asks EC2 about that instance
 *   (CHECK_HOLDER): stopped, stopping, terminated, shutting-down or
 *   impaired means nobody serves behind it, and lifts the guard too (the
 *   peer's instance died while keeping the association). The guard survives a
 *   restart (the shell keeps it in the state directory, start_guarded):
 *   at start-up it holds while the peer is silent and the EIP is on the
 *   peer's instance or EC2 cannot say.
 * - SHUTDOWN: LEAVE on all links; a node that is not STANDBY becomes
 *   STANDBY (its standby hook runs) without touching the EIP; nothing
 *   happens afterwards.
 * - A LEAVE ends that peer incarnation: its late heartbeats are ignored.
 * - Maintenance (the operator's flag): the node never becomes ACTIVE, and
 *   says so in its heartbeats (not eligible, flag MAINTENANCE). An ACTIVE
 *   node put into maintenance hands over as a switchover does; with
 *   --force and no peer able to take over it steps down without an API
 *   call, leaving the EIP where it is.
 * - Switchover: the ACTIVE node does not step down first; it sets HANDOVER
 *   in its heartbeats, the healthy STANDBY takes over (one acquisition,
 *   term + 1) and the old ACTIVE steps down when it hears the peer ACTIVE
 *   with the higher term and HOLDS (acquisition done), so there is always
 *   an ACTIVE node, and the old one's standby hook runs after the move. Asked
 * on the STANDBY, the STANDBY takes over at once. A request the peer has not
 *   answered within HANDOVER_TIMEOUTS * timeout_ms lapses.
 */
#include "elect.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ULL(x) ((unsigned long long)(x))
#define HANDOVER_TIMEOUTS 3 /* a switchover lapses after 3 * timeout_ms */
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))

const char *
elect_role_name(enum elect_role role)
{
	switch (role) {
	case ELECT_STARTING:
		return "STARTING";
	case ELECT_STANDBY:
		return "STANDBY";
	case ELECT_ACTIVE:
		return "ACTIVE";
	case ELECT_FAULT:
		return "FAULT";
	}
	return "?";
}

const char *
elect_peer_state_name(enum elect_peer_state ps)
{
	switch (ps) {
	case ELECT_PEER_UNKNOWN:
		return "unknown";
	case ELECT_PEER_UP:
		return "alive";
	case ELECT_PEER_SILENT:
		return "silent";
	case ELECT_PEER_LEFT:
		return "left";
	}
	return "?";
}

const char *
elect_acq_name(enum elect_acq acq)
{
	switch (acq) {
	case ELECT_ACQ_IDLE:
		return "idle";
	case ELECT_ACQ_IN_FLIGHT:
		return "in flight";
	case ELECT_ACQ_UNCONFIRMED:
		return "unconfirmed";
	case ELECT_ACQ_HELD:
		return "held";
	}
	return "?";
}

void
elect_init(struct elect_state *st, const struct elect_params *cfg, uint64_t now)
{
	memset(st, 0, sizeof(*st));
	st->params = *cfg;
	st->role = ELECT_STARTING;
	st->since = now;
	st->started_at = now;
	st->eligible = !cfg->start_unhealthy;
	st->maintenance = cfg->start_maintenance != 0;
	st->guarded = cfg->start_guarded != 0;
	st->jitter_state = cfg->monitor_jitter_seed;
	st->owner = ELECT_OWNER_UNKNOWN;
	st->peer_state = ELECT_PEER_UNKNOWN;
	st->acq = ELECT_ACQ_IDLE;
	st->peer.role = ELECT_STARTING;
	st->peer.priority = cfg->peer_priority;
	st->peer_prev_role = ELECT_STARTING;
	st->contest = ELECT_CONTEST_NONE;
}

void
elect_reconfigure(struct elect_state *st, const struct elect_params *cfg)
{
	st->params = *cfg;
}

/* The next monitor wait: the interval, +/- 10 % when jitter is seeded. */
static uint64_t
monitor_wait(struct elect_state *st)
{
	uint64_t iv = st->params.monitor_interval_ms, x = st->jitter_state;
	uint64_t spread = iv / 10;

	if (x == 0 || spread == 0)
		return iv;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->jitter_state = x;
	return iv - spread + (x * 2685821657736338717ull) % (2 * spread + 1);
}

/* ---- facts ---- */

/* The one definition of "peer alive": see enum elect_peer_state. */
static int
alive(const struct elect_state *st, uint64_t now)
{
	if (st->peer_state != ELECT_PEER_UP)
		return 0;
	return now < st->peer_last ||
	       now - st->peer_last < st->params.timeout_ms;
}

/* This node may be ACTIVE: healthy and not in maintenance. */
static int
usable(const struct elect_state *st)
{
	return st->eligible && !st->maintenance;
}

/* The peer could hold the EIP well: healthy, not in FAULT or maintenance. */
static int
peer_healthy(const struct elect_state *st)
{
	return st->peer.eligible && st->peer.role != ELECT_FAULT &&
	       !st->peer.maintenance;
}

static unsigned
threshold(const struct elect_state *st)
{
	return st->params.migration_threshold ? st->params.migration_threshold
					      : 1;
}

/* Priority, then the lower name: the rule-4 and start-up tie-breaks. */
static int
wins_on_priority(const struct elect_state *st)
{
	if (st->params.self_priority != st->peer.priority)
		return st->params.self_priority > st->peer.priority;
	return strcmp(st->params.self_name, st->params.peer_name) < 0;
}

/* The peer could also move the EIP: healthy, and able to use EC2. */
static int
peer_capable(const struct elect_state *st)
{
	return peer_healthy(st) && !st->peer.no_api;
}

/* Between two alive nodes not ACTIVE, which one should be? */
static int
self_better(const struct elect_state *st)
{
	if (usable(st) != peer_healthy(st))
		return usable(st);
	if (st->api_down != st->peer.no_api)
		return !st->api_down;
	return wins_on_priority(st);
}

/* Why self_better() said what it said, for the log line. */
static const char *
precedence(const struct elect_state *st, char *buf, size_t len)
{
	const char *pn = st->params.peer_name;
	unsigned sp = st->params.self_priority, pp = st->peer.priority;

	if (usable(st) != peer_healthy(st)) {
		if (usable(st))
			snprintf(buf, len, "%s is %s", pn,
				 st->peer.role == ELECT_FAULT ? "in FAULT"
				 : st->peer.maintenance	      ? "in maintenance"
							      : "unhealthy");
		else
			snprintf(buf, len, "this node is %s",
				 st->maintenance ? "in maintenance"
						 : "unhealthy");
	} else if (st->api_down != st->peer.no_api) {
		if (st->api_down)
			snprintf(buf, len, "this node cannot use the EC2 API");
		else
			snprintf(buf, len, "%s cannot use the EC2 API", pn);
	} else if (sp != pp) {
		snprintf(buf, len, "priority %u %s %u", sp, sp > pp ? ">" : "<",
			 pp);
	} else {
		int lower = strcmp(st->params.self_name, pn) < 0;
		snprintf(buf, len, "equal priority %u, name %s %s %s", sp,
			 st->params.self_name, lower ? "<" : ">", pn);
	}
	return buf;
}

static const char *
owner_text(const struct elect_state *st, enum elect_owner owner, char *buf,
	   size_t len)
{
	switch (owner) {
	case ELECT_OWNER_UNKNOWN:
		return "unknown (EC2 API error)";
	case ELECT_OWNER_NONE:
		return "unassociated";
	case ELECT_OWNER_SELF:
		return "on this instance";
	case ELECT_OWNER_PEER:
		snprintf(buf, len, "on %s's instance", st->params.peer_name);
		return buf;
	case ELECT_OWNER_OTHER:
		return "on an instance of neither node";
	}
	return "?";
}

/* Why the peer is not alive: never heard, left, or silent. */
static const char *
gone_text(const struct elect_state *st, uint64_t now, char *buf, size_t len)
{
	const char *pn = st->params.peer_name;

	switch (st->peer_state) {
	case ELECT_PEER_UNKNOWN:
		snprintf(buf, len,
			 "peer %s not heard on any link since start "
			 "%llu ms ago",
			 pn, ULL(now - st->started_at));
		break;
	case ELECT_PEER_LEFT:
		snprintf(buf, len, "peer %s left (graceful stop)", pn);
		break;
	case ELECT_PEER_UP:
	case ELECT_PEER_SILENT:
		snprintf(buf, len,
			 "peer %s silent on all links for %llu ms "
			 "(timeout %u ms)",
			 pn, ULL(now - st->peer_last), st->params.timeout_ms);
		break;
	}
	return buf;
}

/* An ACTIVE node can hand over now: the peer is up, STANDBY and healthy. */
static int
can_hand_over(const struct elect_state *st, uint64_t now)
{
	return alive(st, now) && st->peer.role == ELECT_STANDBY &&
	       peer_capable(st);
}

/* When a failback yield becomes due; UINT64_MAX when it does not apply. */
static uint64_t
failback_at(const struct elect_state *st)
{
	if (!st->params.failback || !st->peer_ok || st->peer.no_api ||
	    st->peer.role != ELECT_STANDBY ||
	    st->peer.priority <= st->params.self_priority)
		return UINT64_MAX;
	return st->peer_ok_since + st->params.failback_delay_ms;
}

/* ---- output ---- */

static void note(struct elect_actions *out, enum elect_level level,
		 const char *fmt, ...) PRINTF_LIKE(3, 4);

/*
 * A log line for a step without a state change. A state change's reason
 * always wins; otherwise the most severe note of the step is kept.
 */
static void
note(struct elect_actions *out, enum elect_level level, const char *fmt, ...)
{
	va_list ap;

	if (out->from != out->to)
		return;
	if (out->reason[0] != '\0' && level >= out->level)
		return;
	out->level = level;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

static void change(struct elect_state *st, enum elect_role to, uint64_t now,
		   struct elect_actions *out, enum elect_level level,
		   const char *fmt, ...) PRINTF_LIKE(6, 7);

/*
 * The one place the role changes: fills from/to/reason, announces the new
 * role (SEND), runs its hook, cancels an acquisition we no longer want, and
 * resets what belongs to the old role. At most one change per step; the
 * next evaluation runs on the TICK that elect_next_deadline() asks for now.
 */
static void
change(struct elect_state *st, enum elect_role to, uint64_t now,
       struct elect_actions *out, enum elect_level level, const char *fmt, ...)
{
	va_list ap;
	int n;

	out->from = st->role;
	out->to = to;
	out->level = level;
	n = snprintf(out->reason, sizeof(out->reason),
		     "%s -> %s: ", elect_role_name(st->role),
		     elect_role_name(to));
	if (n < 0 || (size_t)n >= sizeof(out->reason))
		n = 0;
	out->why = (unsigned)n;
	va_start(ap, fmt);
	vsnprintf(out->reason + n, sizeof(out->reason) - (size_t)n, fmt, ap);
	va_end(ap);
	memcpy(st->last_reason, out->reason, sizeof(st->last_reason));

	out->flags |= ELECT_ACT_SEND | ELECT_ACT_HOOK;
	/* An acquisition in flight survives only into ACTIVE (from FAULT). */
	if (st->acq == ELECT_ACQ_IN_FLIGHT && to != ELECT_ACTIVE)
		out->flags |= ELECT_ACT_CANCEL;
	if (st->acq != ELECT_ACQ_IN_FLIGHT || to != ELECT_ACTIVE)
		st->acq = ELECT_ACQ_IDLE;
	if (!st->ready && (to == ELECT_STANDBY || to == ELECT_ACTIVE)) {
		out->flags |= ELECT_ACT_READY;
		st->ready = 1;
	}
	if (to == ELECT_ACTIVE)
		st->failures = 0;
	st->role = to;
	st->since = now;
	st->reeval = 1;
	st->guarded = 0;
	st->held_in_role = 0;
	st->handover_at = 0;
	st->contest = ELECT_CONTEST_NONE;
	st->contest_done = 0;
	st->next_check = now + monitor_wait(st);
}

static uint64_t
next_term(const struct elect_state *st)
{
	uint64_t t =
	    st->term > st->peer_max_term ? st->term : st->peer_max_term;

	return t + 1;
}

/* Ask the shell to associate everything (rules 3, 4, 5 and FAULT retries). */
static void
acquire(struct elect_state *st, struct elect_actions *out)
{
	out->flags |= ELECT_ACT_ACQUIRE;
	st->acq = ELECT_ACQ_IN_FLIGHT;
	st->acq_deadline = 0; /* armed at the end of the step */
}

/*
 * The acquisition succeeded: until the next verify the election's view of
 * the owner is "this node, unverified", so the dump never shows the EIP on
 * the peer's instance (the answer that started the takeover) while the
 * resources already say it is ours.
 */
static void
acquired(struct elect_state *st, uint64_t now)
{
	st->acq = ELECT_ACQ_UNCONFIRMED;
	st->owner = ELECT_OWNER_SELF;
	st->owner_at = now;
	st->held_in_role = 1;
}

/* EC2 says the resources are on this instance (or were, at start-up). */
static void
held(struct elect_state *st)
{
	if (st->acq != ELECT_ACQ_IN_FLIGHT)
		st->acq = ELECT_ACQ_HELD;
	st->held_in_role = 1;
}

static void take_over(struct elect_state *st, uint64_t now,
		      struct elect_actions *out, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

/* Rule 3: become ACTIVE with a new term and associate everything. */
static void
take_over(struct elect_state *st, uint64_t now, struct elect_actions *out,
	  const char *fmt, ...)
{
	char why[ELECT_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	st->term = next_term(st);
	change(st, ELECT_ACTIVE, now, out, ELECT_LEVEL_WARNING,
	       "%s; acquiring, term %llu", why, ULL(st->term));
	acquire(st, out);
}

/* ACTIVE with the EIP verified on this instance: no API write. */
static void
activate_held(struct elect_state *st, uint64_t now, struct elect_actions *out,
	      const char *why)
{
	st->term = next_term(st);
	change(st, ELECT_ACTIVE, now, out, ELECT_LEVEL_NOTICE,
	       "%s; no API call needed, term %llu", why, ULL(st->term));
	held(st);
}

/*
 * Whether an owner answer leaves the partition guard standing: the EIP on
 * the peer's instance, or EC2 cannot say. Before the peer was heard (a
 * restart kept the guard) its instance id is not known yet, so "another
 * instance" may be the peer's and holds the guard too.
 */
static int
guard_holds(const struct elect_state *st, enum elect_owner owner)
{
	switch (owner) {
	case ELECT_OWNER_PEER:
	case ELECT_OWNER_UNKNOWN:
		return 1;
	case ELECT_OWNER_OTHER:
		return st->peer_state == ELECT_PEER_UNKNOWN;
	case ELECT_OWNER_SELF:
	case ELECT_OWNER_NONE:
		return 0;
	}
	return 0;
}

/* What a node that is not taking over says about itself. */
static const char *
stay_text(const struct elect_state *st)
{
	switch (st->role) {
	case ELECT_STARTING:
		return "";
	case ELECT_STANDBY:
		if (st->maintenance)
			return "; not taking over: in maintenance";
		if (!st->eligible)
			return "; not taking over: health check failing";
		if (st->guarded)
			return "; guarded STANDBY: not taking over until it is "
			       "heard again";
		return "";
	case ELECT_ACTIVE:
		return "; staying ACTIVE";
	case ELECT_FAULT:
		return "; staying in FAULT";
	}
	return "";
}

/* ---- evaluation: what the rules say given everything known now ---- */

/* Rule 1. */
static void
eval_starting(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	const char *pn = st->params.peer_name;
	int up = alive(st, now);
	int waited = now - st->started_at >= st->params.startup_wait_ms;
	char ob[ELECT_NAME_MAX + 32], pb[ELECT_NAME_MAX * 2 + 48];
	const char *ow;

	if (up && st->peer.role == ELECT_ACTIVE) {
		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_NOTICE,
		       "peer %s is ACTIVE (term %llu)", pn, ULL(st->peer.term));
		return;
	}
	if (!waited && !(up && st->owner_answered))
		return;
	ow = owner_text(st, st->owner, ob, sizeof(ob));

	if (st->maintenance) {
		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_NOTICE,
		       "in maintenance: never taking over (EIP %s)", ow);
		return;
	}
	if (st->owner == ELECT_OWNER_SELF) {
		if (!st->eligible && up && peer_healthy(st)) {
			change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_WARNING,
			       "EIP is on this instance but the health check "
			       "is failing and peer %s is healthy",
			       pn);
			return;
		}
		activate_held(st, now, out, "EIP already on this instance");
		return;
	}
	if (st->owner == ELECT_OWNER_PEER && up) {
		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_NOTICE,
		       "EIP is on %s's instance and %s is alive (%s)", pn, pn,
		       elect_role_name(st->peer.role));
		return;
	}
	if (!up && st->guarded && guard_holds(st, st->owner)) {
		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_WARNING,
		       "guarded STANDBY kept across the restart: EIP %s and %s "
		       "silent; no takeover until %s is heard again or the "
		       "EIP leaves its instance",
		       ow, pn, pn);
		st->guarded = 1; /* change() starts every role unguarded */
		return;
	}
	st->guarded = 0; /* nothing left to protect */
	if (!up) {
		char gb[ELECT_REASON_MAX];

		gone_text(st, now, gb, sizeof(gb));
		if (!st->eligible)
			change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_WARNING,
			       "%s but the health check is failing: not "
			       "taking over (EIP %s)",
			       gb, ow);
		else
			take_over(st, now, out,
				  "%s (start-up wait %u ms), EIP %s", gb,
				  st->params.startup_wait_ms, ow);
		return;
	}
	/* Both alive, the peer not ACTIVE, the EIP on neither (or unknown). */
	precedence(st, pb, sizeof(pb));
	if (!self_better(st)) {
		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_NOTICE,
		       "EIP %s and %s takes precedence (%s)", ow, pn, pb);
		return;
	}
	if (!st->eligible) {
		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_WARNING,
		       "EIP %s but the health check is failing (%s too): "
		       "not acquiring",
		       ow, pn);
		return;
	}
	take_over(st, now, out,
		  "EIP %s, peer %s is %s and this node takes "
		  "precedence (%s)",
		  ow, pn, elect_role_name(st->peer.role), pb);
}

/* Rules 3 and 6. */
static void
eval_standby(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	const char *pn = st->params.peer_name;
	char pb[ELECT_NAME_MAX * 2 + 48];

	if (!usable(st))
		return;
	if (!alive(st, now)) {
		char gb[ELECT_REASON_MAX];

		if (st->guarded)
			return;
		take_over(st, now, out, "%s",
			  gone_text(st, now, gb, sizeof(gb)));
		return;
	}
	switch (st->peer.role) {
	case ELECT_FAULT:
		take_over(st, now, out, "peer %s reports FAULT", pn);
		break;
	case ELECT_STANDBY:
		if (!self_better(st))
			break;
		precedence(st, pb, sizeof(pb));
		if (st->peer_prev_role == ELECT_ACTIVE)
			take_over(st, now, out,
				  "peer %s yielded (ACTIVE -> STANDBY), this "
				  "node takes precedence (%s)",
				  pn, pb);
		else
			take_over(st, now, out,
				  "peer %s is STANDBY too and nobody is "
				  "ACTIVE, this node takes precedence (%s)",
				  pn, pb);
		break;
	case ELECT_ACTIVE:
		if (st->peer.handover && !st->api_down)
			take_over(st, now, out,
				  "switchover: peer %s (term %llu) asked this "
				  "node to take over",
				  pn, ULL(st->peer.term));
		break;
	case ELECT_STARTING:
		break;
	}
}

/* Ask the peer to take over (switchover, maintenance): HANDOVER flag. */
static void
hand_over(struct elect_state *st, uint64_t now, struct elect_actions *out,
	  const char *why)
{
	st->handover_at = now;
	out->flags |= ELECT_ACT_SEND;
	note(out, ELECT_LEVEL_NOTICE,
	     "%s: asking peer %s to take over; staying ACTIVE until it is", why,
	     st->params.peer_name);
}

static uint64_t
handover_deadline(const struct elect_state *st)
{
	if (st->handover_at == 0)
		return UINT64_MAX;
	return st->handover_at +
	       (uint64_t)HANDOVER_TIMEOUTS * st->params.timeout_ms;
}

/* Rules 2 and 6: the only reasons an ACTIVE node hands over by itself. */
static void
eval_active(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	const char *pn = st->params.peer_name;

	if (now >= handover_deadline(st)) {
		st->handover_at = 0;
		note(out, ELECT_LEVEL_WARNING,
		     "switchover: peer %s did not take over within %llu ms: "
		     "staying ACTIVE",
		     pn,
		     ULL((uint64_t)HANDOVER_TIMEOUTS * st->params.timeout_ms));
	}
	if (!alive(st, now) || st->peer.role != ELECT_STANDBY)
		return;
	if (st->maintenance) {
		if (st->handover_at == 0 && can_hand_over(st, now))
			hand_over(st, now, out, "in maintenance");
		return;
	}
	if (!st->eligible && can_hand_over(st, now)) {
		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_WARNING,
		       "health check failing and peer %s is healthy: handing "
		       "over without API call",
		       pn);
		return;
	}
	if (now >= failback_at(st))
		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_NOTICE,
		       "failback: peer %s has higher priority (%u > %u) and "
		       "has been healthy for %llu ms (failback_delay %u ms)",
		       pn, st->peer.priority, st->params.self_priority,
		       ULL(now - st->peer_ok_since),
		       st->params.failback_delay_ms);
}

static void
eval_fault(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	if (alive(st, now) && st->peer.role == ELECT_ACTIVE)
		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_NOTICE,
		       "peer %s took over (term %llu)", st->params.peer_name,
		       ULL(st->peer.term));
}

static void
evaluate(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	switch (st->role) {
	case ELECT_STARTING:
		eval_starting(st, now, out);
		break;
	case ELECT_STANDBY:
		eval_standby(st, now, out);
		break;
	case ELECT_ACTIVE:
		eval_active(st, now, out);
		break;
	case ELECT_FAULT:
		eval_fault(st, now, out);
		break;
	}
}

/* ---- events ---- */

/* Edge-detect the peer going silent, for the log and the failback clock. */
static void
observe_silence(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	if (st->peer_state != ELECT_PEER_UP || alive(st, now))
		return;
	st->peer_state = ELECT_PEER_SILENT;
	st->peer_ok = 0;
	note(out, ELECT_LEVEL_WARNING,
	     "peer %s silent on all links for %llu ms (timeout %u ms)%s",
	     st->params.peer_name, ULL(now - st->peer_last),
	     st->params.timeout_ms, stay_text(st));
}

static void
on_start(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	st->started = 1;
	st->started_at = now;
	st->since = now;
	out->flags |= ELECT_ACT_VERIFY | ELECT_ACT_SEND;
	note(out, ELECT_LEVEL_INFO,
	     "STARTING: waiting up to %u ms for peer %s and EC2's answer",
	     st->params.startup_wait_ms, st->params.peer_name);
}

static void acquire_expired(struct elect_state *st, uint64_t now,
			    struct elect_actions *out);

/*
 * Timers: the acquisition deadline, the monitor verify, the guarded-standby
 * verify, FAULT retries.
 */
static void
on_tick(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	if (st->acq == ELECT_ACQ_IN_FLIGHT && st->acq_deadline != 0 &&
	    now >= st->acq_deadline) {
		acquire_expired(st, now, out);
		return;
	}
	if (st->role == ELECT_STARTING || now < st->next_check)
		return;
	switch (st->role) {
	case ELECT_STARTING:
		break;
	case ELECT_STANDBY:
		if (!st->guarded && !st->api_down)
			break;
		st->next_check = now + monitor_wait(st);
		out->flags |= ELECT_ACT_VERIFY;
		break;
	case ELECT_ACTIVE:
		st->next_check = now + monitor_wait(st);
		if (st->acq != ELECT_ACQ_IN_FLIGHT)
			out->flags |= ELECT_ACT_VERIFY;
		break;
	case ELECT_FAULT:
		st->next_check = now + monitor_wait(st);
		if (st->acq == ELECT_ACQ_IN_FLIGHT)
			break;
		if (alive(st, now) && peer_capable(st))
			break; /* it will take over; do not race it */
		if (st->maintenance)
			break; /* never takes over */
		acquire(st, out);
		note(out, ELECT_LEVEL_NOTICE,
		     "FAULT: retrying the acquisition (peer %s %s)",
		     st->params.peer_name,
		     !alive(st, now)	  ? "not alive"
		     : st->peer.no_api ? "cannot use the EC2 API"
				       : "cannot take over");
		break;
	}
}

/*
 * The peer is heard (again) while we are ACTIVE, and it is not ACTIVE: it
 * may have been ACTIVE during the silence, or have stepped down with an
 * AssociateAddress in flight before we ever heard it as ACTIVE (it loses
 * the contest on its side first). A cancelled write that had reached EC2
 * still lands, so verify now and once more when that window is over.
 */
static void
peer_back(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	if (st->params.late_write_ms == 0)
		return;
	if (st->acq != ELECT_ACQ_IN_FLIGHT)
		out->flags |= ELECT_ACT_VERIFY;
	if (now + st->params.late_write_ms < st->next_check)
		st->next_check = now + st->params.late_write_ms;
}

/* Rule 4, on a heartbeat from an ACTIVE peer while ACTIVE. */
static void
contest(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	const struct elect_peer_info *p = &st->peer;
	const char *pn = st->params.peer_name;

	if (st->contest != ELECT_CONTEST_NONE)
		return; /* our VERIFY is on its way */
	if (p->handover && p->term < st->term)
		return; /* it asked us to take over: it steps down once we hold
			 */
	if (st->contest_done && st->contest_incarnation == p->incarnation &&
	    st->contest_term == p->term &&
	    now - st->contest_at < st->params.monitor_interval_ms)
		return; /* decided already; it has not heard us yet */
	if (p->term > st->term && st->handover_at == 0 && !p->holds &&
	    st->peer_prev_role == ELECT_STANDBY) {
		/* A switchover asked on the peer: the same wait as ours. */
		st->handover_at = now;
		note(out, ELECT_LEVEL_NOTICE,
		     "peer %s took over from STANDBY (term %llu > %llu): "
		     "staying ACTIVE until its acquisition is done",
		     pn, ULL(p->term), ULL(st->term));
		return;
	}
	if (p->term > st->term && st->handover_at != 0) {
		/* Stay ACTIVE through the peer's API call: never no ACTIVE. */
		if (!p->holds)
			return;
		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_NOTICE,
		       "switchover: peer %s is ACTIVE with term %llu and holds "
		       "the resources: stepping down without API call",
		       pn, ULL(p->term));
		return;
	}
	if (p->term > st->term) {
		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_WARNING,
		       "peer %s is also ACTIVE with a higher term (%llu > "
		       "%llu): stepping down without API call",
		       pn, ULL(p->term), ULL(st->term));
		return;
	}
	st->contest_incarnation = p->incarnation;
	st->contest_term = p->term;
	st->contest_at = now;
	st->contest_done = 1;
	/*
	 * The loser cancels its acquisition, but a write it had already sent
	 * can still land: the monitor verifies again once that window is over
	 * (rule 4: never leave the EIP on the standby).
	 */
	if (st->params.late_write_ms > 0 &&
	    now + st->params.late_write_ms < st->next_check)
		st->next_check = now + st->params.late_write_ms;
	if (p->term < st->term) {
		if (st->acq == ELECT_ACQ_IN_FLIGHT) {
			note(out, ELECT_LEVEL_WARNING,
			     "peer %s is also ACTIVE with a lower term (%llu "
			     "< %llu): staying ACTIVE, acquisition in flight",
			     pn, ULL(p->term), ULL(st->term));
			return;
		}
		st->contest = ELECT_CONTEST_WON;
		out->flags |= ELECT_ACT_VERIFY;
		note(out, ELECT_LEVEL_WARNING,
		     "peer %s is also ACTIVE with a lower term (%llu < %llu): "
		     "staying ACTIVE, verifying the EIP now",
		     pn, ULL(p->term), ULL(st->term));
		return;
	}
	st->contest = ELECT_CONTEST_EQUAL;
	out->flags |= ELECT_ACT_VERIFY;
	note(out, ELECT_LEVEL_WARNING,
	     "peer %s is also ACTIVE with the same term %llu: asking EC2 who "
	     "holds the EIP",
	     pn, ULL(p->term));
}

static void
on_heartbeat(struct elect_state *st, const struct elect_peer_info *p,
	     uint64_t now, struct elect_actions *out)
{
	const char *pn = st->params.peer_name;
	const char *guard;
	int was_up, restarted, ok;

	if (st->peer_state == ELECT_PEER_LEFT &&
	    p->incarnation == st->left_incarnation)
		return; /* that incarnation said goodbye */
	was_up = alive(st, now);
	restarted = st->peer_state != ELECT_PEER_UNKNOWN &&
		    p->incarnation != st->peer.incarnation;
	guard = st->guarded ? ": guarded STANDBY lifted" : stay_text(st);
	st->guarded = 0;
	if (st->peer_state == ELECT_PEER_UNKNOWN)
		note(out, ELECT_LEVEL_NOTICE,
		     "peer %s heard: %s, term %llu, priority %u, %s%s", pn,
		     elect_role_name(p->role), ULL(p->term), p->priority,
		     p->eligible ? "healthy" : "unhealthy", guard);
	else if (restarted)
		note(out, ELECT_LEVEL_NOTICE, "peer %s restarted (now %s)%s",
		     pn, elect_role_name(p->role), guard);
	else if (!was_up)
		note(out, ELECT_LEVEL_NOTICE,
		     "peer %s heard again after %llu ms of silence%s", pn,
		     ULL(now - st->peer_last), guard);
	if (restarted) {
		st->peer_ok = 0;
		st->contest_done = 0;
	}

	if (p->no_api != st->peer.no_api && st->peer_state != ELECT_PEER_UNKNOWN)
		note(out, ELECT_LEVEL_NOTICE,
		     p->no_api ? "peer %s cannot use the EC2 API: not handing "
				 "it the EIP while this node can"
			       : "peer %s can use the EC2 API again",
		     pn);
	ok = p->eligible && p->role != ELECT_FAULT && !p->maintenance &&
	     !p->no_api;
	if (!ok)
		st->peer_ok = 0;
	else if (!st->peer_ok || !was_up) {
		st->peer_ok = 1;
		st->peer_ok_since = now;
	}
	st->peer_prev_role = restarted ? ELECT_STARTING : st->peer.role;
	st->peer = *p;
	st->peer_last = now;
	st->peer_state = ELECT_PEER_UP;
	if (p->term > st->peer_max_term)
		st->peer_max_term = p->term;
	if (st->role == ELECT_ACTIVE && p->role == ELECT_ACTIVE)
		contest(st, now, out);
	else if (st->role == ELECT_ACTIVE && !was_up)
		peer_back(st, now, out);
}

static void
on_leave(struct elect_state *st, const struct elect_peer_info *p, uint64_t now,
	 struct elect_actions *out)
{
	(void)now;
	if (st->peer_state == ELECT_PEER_LEFT &&
	    p->incarnation == st->left_incarnation)
		return;
	st->peer_state = ELECT_PEER_LEFT;
	st->left_incarnation = p->incarnation;
	st->peer_ok = 0;
	st->guarded = 0; /* we heard it: it is not holding the EIP any more */
	st->contest = ELECT_CONTEST_NONE;
	note(out, ELECT_LEVEL_NOTICE, "peer %s left (graceful stop)%s",
	     st->params.peer_name, stay_text(st));
}

/*
 * The guard's way out: the instance holding the EIP is stopped, stopping,
 * terminated, shutting down or impaired, so nobody is serving behind it.
 * The guard goes, and a usable node takes over at once.
 */
static void
on_holder(struct elect_state *st, const struct elect_event *ev, uint64_t now,
	  struct elect_actions *out)
{
	if (ev->ok || st->role != ELECT_STANDBY || !st->guarded ||
	    alive(st, now))
		return;
	st->guarded = 0;
	if (usable(st))
		take_over(st, now, out,
			  "the instance holding the EIP cannot be serving "
			  "(%s) and peer %s is silent: guarded STANDBY lifted",
			  ev->detail ? ev->detail : "DescribeInstanceStatus",
			  st->params.peer_name);
	else
		note(out, ELECT_LEVEL_WARNING,
		     "the instance holding the EIP cannot be serving (%s): "
		     "guarded STANDBY lifted%s",
		     ev->detail ? ev->detail : "DescribeInstanceStatus",
		     stay_text(st));
}

/* Rule 4's verify answer: decide, or make sure the EIP is ours. */
static void
contest_answer(struct elect_state *st, enum elect_owner owner, uint64_t now,
	       struct elect_actions *out)
{
	const char *pn = st->params.peer_name;
	char ob[ELECT_NAME_MAX + 32];
	const char *ow = owner_text(st, owner, ob, sizeof(ob));
	int peer_active = alive(st, now) && st->peer.role == ELECT_ACTIVE;

	if (st->contest == ELECT_CONTEST_EQUAL && peer_active) {
		if (owner == ELECT_OWNER_PEER ||
		    (owner != ELECT_OWNER_SELF && !wins_on_priority(st))) {
			change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_WARNING,
			       "peer %s is also ACTIVE with the same term "
			       "%llu and wins (EIP %s, priority %u vs %u): "
			       "stepping down without API call",
			       pn, ULL(st->term), ow, st->params.self_priority,
			       st->peer.priority);
			return;
		}
		if (owner == ELECT_OWNER_SELF) {
			st->contest = ELECT_CONTEST_NONE;
			st->failures = 0;
			held(st);
			note(out, ELECT_LEVEL_WARNING,
			     "peer %s is also ACTIVE with the same term %llu; "
			     "EC2 says the EIP is on this instance: staying "
			     "ACTIVE",
			     pn, ULL(st->term));
			return;
		}
	}
	if (owner == ELECT_OWNER_SELF) {
		/* Verified ours: a later move (a late write) is no failure. */
		st->contest = ELECT_CONTEST_NONE;
		st->failures = 0;
		held(st);
		return;
	}
	if (owner == ELECT_OWNER_UNKNOWN) {
		/* Keep the contest open: the next verify answer decides. */
		st->contest = ELECT_CONTEST_WON;
		note(out, ELECT_LEVEL_WARNING,
		     "won against ACTIVE peer %s but the EIP is %s: will "
		     "verify again at the next monitor check",
		     pn, ow);
		return;
	}
	st->contest = ELECT_CONTEST_NONE;
	if (st->acq == ELECT_ACQ_IN_FLIGHT)
		return;
	acquire(st, out);
	note(out, ELECT_LEVEL_WARNING,
	     "won against ACTIVE peer %s (term %llu) but the EIP is %s: "
	     "re-associating",
	     pn, ULL(st->term), ow);
}

static void
fault(struct elect_state *st, uint64_t now, struct elect_actions *out,
      const char *what)
{
	change(st, ELECT_FAULT, now, out, ELECT_LEVEL_ERR,
	       "%s; %u failed acquisition%s (migration_threshold %u), "
	       "handing over to peer %s",
	       what, st->failures, st->failures == 1 ? "" : "s", threshold(st),
	       st->params.peer_name);
}

/* Rule 5: what the monitor's verify answer means for an ACTIVE node. */
static void
active_answer(struct elect_state *st, enum elect_owner owner,
	      const char *detail, uint64_t now, struct elect_actions *out)
{
	const char *pn = st->params.peer_name;
	char ob[ELECT_NAME_MAX + 32];
	const char *ow = owner_text(st, owner, ob, sizeof(ob));

	if (st->contest != ELECT_CONTEST_NONE) {
		contest_answer(st, owner, now, out);
		return;
	}
	if (st->acq == ELECT_ACQ_IN_FLIGHT) /* stale: asked before ours lands */
		return;
	switch (owner) {
	case ELECT_OWNER_SELF:
		st->failures = 0;
		held(st);
		break;
	case ELECT_OWNER_UNKNOWN:
		if (st->failures > 0 && st->acq == ELECT_ACQ_IDLE) {
			acquire(st, out);
			note(out, ELECT_LEVEL_WARNING,
			     "cannot verify the EIP (%s) after a failed "
			     "acquisition: re-associating (%u of %u failures "
			     "so far)",
			     detail ? detail : "EC2 API error", st->failures,
			     threshold(st));
			break;
		}
		note(out, ELECT_LEVEL_WARNING,
		     "cannot verify the EIP (%s): staying ACTIVE",
		     detail ? detail : "EC2 API error");
		break;
	case ELECT_OWNER_PEER:
		if (alive(st, now) && st->peer.role == ELECT_ACTIVE) {
			change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_WARNING,
			       "EIP is on ACTIVE peer %s's instance (EC2 is "
			       "the arbiter): stepping down without API call",
			       pn);
			return;
		}
		if (!alive(st, now) && st->held_in_role) {
			change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_WARNING,
			       "EIP moved to %s's instance though %s is "
			       "silent on all links: guarded STANDBY, no "
			       "takeover until %s is heard again",
			       pn, pn, pn);
			st->guarded = 1;
			return;
		}
		/* It never reached us, or nobody claims it: re-associate. */
		/* fall through */
	case ELECT_OWNER_NONE:
	case ELECT_OWNER_OTHER:
		if (st->acq == ELECT_ACQ_UNCONFIRMED) /* it did not stick */
			st->failures++;
		st->acq = ELECT_ACQ_IDLE;
		if (st->failures >= threshold(st)) {
			char what[ELECT_REASON_MAX];

			snprintf(what, sizeof(what),
				 "EIP still %s after "
				 "acquiring it",
				 ow);
			fault(st, now, out, what);
			return;
		}
		acquire(st, out);
		note(out, ELECT_LEVEL_WARNING,
		     "EIP is %s: re-associating (%u of %u failures so far)", ow,
		     st->failures, threshold(st));
		break;
	}
}

static void
on_owner(struct elect_state *st, const struct elect_event *ev, uint64_t now,
	 struct elect_actions *out)
{
	char ob[ELECT_NAME_MAX + 32];
	const char *ow = owner_text(st, ev->owner, ob, sizeof(ob));

	st->owner = ev->owner;
	st->owner_answered = 1;
	st->owner_at = now;
	switch (st->role) {
	case ELECT_STARTING:
		if (ev->owner == ELECT_OWNER_UNKNOWN)
			note(out, ELECT_LEVEL_WARNING,
			     "cannot verify the EIP at start-up (%s)",
			     ev->detail ? ev->detail : "EC2 API error");
		break;
	case ELECT_STANDBY:
		if (st->guarded && (ev->owner == ELECT_OWNER_PEER ||
				    ev->owner == ELECT_OWNER_OTHER) &&
		    guard_holds(st, ev->owner))
			out->flags |= ELECT_ACT_CHECK_HOLDER; /* the way out */
		if (!st->guarded || guard_holds(st, ev->owner))
			break;
		st->guarded = 0;
		note(out, ELECT_LEVEL_WARNING,
		     "EIP is %s, no longer on %s's instance: guarded STANDBY "
		     "lifted",
		     ow, st->params.peer_name);
		break;
	case ELECT_ACTIVE:
		active_answer(st, ev->owner, ev->detail, now, out);
		break;
	case ELECT_FAULT:
		if (ev->owner == ELECT_OWNER_SELF && !st->maintenance &&
		    !(alive(st, now) && st->peer.role == ELECT_ACTIVE)) {
			activate_held(st, now, out,
				      "EIP verified on this instance again");
			return;
		}
		note(out, ELECT_LEVEL_WARNING, "FAULT: EIP is %s", ow);
		break;
	}
}

/*
 * A reload rebuilt the resource group, so what we knew of its owner was
 * about the old one. An acquisition in flight is issued again on the new
 * group; otherwise the new group is verified at once, and what it lacks
 * (an added EIP nobody holds) is no failed acquisition: an ACTIVE node
 * associates it on the answer and a removed one is simply not asked.
 */
static void
on_resources(struct elect_state *st, struct elect_actions *out)
{
	if (st->acq == ELECT_ACQ_IN_FLIGHT) {
		acquire(st, out);
		return;
	}
	st->acq = ELECT_ACQ_IDLE;
	out->flags |= ELECT_ACT_VERIFY;
}

static void
on_acquired(struct elect_state *st, const struct elect_event *ev, uint64_t now,
	    struct elect_actions *out)
{
	const char *detail = ev->detail ? ev->detail : "no detail";

	if (st->acq != ELECT_ACQ_IN_FLIGHT)
		return; /* cancelled: we no longer care */
	st->acq = ELECT_ACQ_IDLE;
	if (ev->ok)
		acquired(st, now);
	switch (st->role) {
	case ELECT_STARTING:
	case ELECT_STANDBY:
		break;
	case ELECT_ACTIVE:
		if (ev->ok) {
			/* An ACTIVE peer handing over waits for our HOLDS. */
			if (alive(st, now) && st->peer.role == ELECT_ACTIVE)
				out->flags |= ELECT_ACT_SEND;
			break;
		}
		st->failures++;
		if (st->failures >= threshold(st)) {
			char what[ELECT_REASON_MAX];

			snprintf(what, sizeof(what), "acquisition failed (%s)",
				 detail);
			fault(st, now, out, what);
			return;
		}
		out->flags |= ELECT_ACT_VERIFY;
		note(out, ELECT_LEVEL_WARNING,
		     "acquisition failed (%s), %u of %u failures: verifying "
		     "now",
		     detail, st->failures, threshold(st));
		break;
	case ELECT_FAULT:
		if (ev->ok) {
			out->flags |= ELECT_ACT_VERIFY;
			break;
		}
		note(out, ELECT_LEVEL_WARNING,
		     "FAULT: acquisition failed again (%s), next try in %u ms",
		     detail, st->params.monitor_interval_ms);
		break;
	}
}

/* The deadline passed: cancel it and count it as failed, with the why. */
static void
acquire_expired(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	char detail[96];
	struct elect_event ev = {
	    .type = ELECT_EV_ACQUIRED, .ok = 0, .detail = detail};

	snprintf(detail, sizeof(detail),
		 "not done after %u ms, election.acquire_timeout_ms",
		 st->params.acquire_timeout_ms);
	out->flags |= ELECT_ACT_CANCEL;
	/* ACTIVE verifies now, FAULT tries again: the next check after that */
	st->next_check = now + monitor_wait(st);
	on_acquired(st, &ev, now, out);
}

/* Start the deadline of an acquisition issued in this step. */
static void
arm_acquire_deadline(struct elect_state *st, uint64_t now)
{
	if (st->acq != ELECT_ACQ_IN_FLIGHT)
		st->acq_deadline = 0;
	else if (st->acq_deadline == 0 && st->params.acquire_timeout_ms != 0)
		st->acq_deadline = now + st->params.acquire_timeout_ms;
}

static void
on_health(struct elect_state *st, int eligible, uint64_t now,
	  struct elect_actions *out)
{
	const char *pn = st->params.peer_name;

	eligible = eligible != 0;
	if (eligible == st->eligible)
		return;
	st->eligible = eligible;
	out->flags |= ELECT_ACT_SEND;
	if (eligible) {
		note(out, ELECT_LEVEL_NOTICE,
		     "health check passing again: "
		     "eligible");
		return;
	}
	switch (st->role) {
	case ELECT_ACTIVE:
		if (!can_hand_over(st, now))
			note(out, ELECT_LEVEL_WARNING,
			     "health check failing, but peer %s cannot take "
			     "over now: staying ACTIVE",
			     pn);
		break; /* otherwise the hand-over says it */
	case ELECT_STANDBY:
		note(out, ELECT_LEVEL_WARNING,
		     "health check failing: not eligible, will not take over");
		break;
	case ELECT_STARTING:
	case ELECT_FAULT:
		note(out, ELECT_LEVEL_WARNING,
		     "health check failing: not eligible");
		break;
	}
}

/* This node learnt whether it can use the EC2 API; the peer hears it. */
static void
on_api(struct elect_state *st, const struct elect_event *ev,
       struct elect_actions *out)
{
	int down = !ev->ok;

	if (down == st->api_down)
		return;
	st->api_down = down;
	out->flags |= ELECT_ACT_SEND;
	if (down)
		note(out, ELECT_LEVEL_WARNING,
		     "this node cannot use the EC2 API (peer %s is preferred "
		     "while it can; heartbeats say so): %s",
		     st->params.peer_name,
		     ev->detail ? ev->detail : "no detail");
	else
		note(out, ELECT_LEVEL_NOTICE,
		     "this node can use the EC2 API again");
}

static void
on_shutdown(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	st->stopped = 1;
	if (st->role != ELECT_STANDBY) {
		unsigned keep = out->flags;

		change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_NOTICE,
		       "shutting down: leaving the EIP for peer %s",
		       st->params.peer_name);
		/* No heartbeat and no READY on the way out, only LEAVE. */
		out->flags &= ~(ELECT_ACT_SEND | ELECT_ACT_READY);
		out->flags |= keep;
	} else {
		note(out, ELECT_LEVEL_NOTICE, "shutting down");
	}
	if (st->acq == ELECT_ACQ_IN_FLIGHT) {
		out->flags |= ELECT_ACT_CANCEL;
		st->acq = ELECT_ACQ_IDLE;
	}
	out->flags |= ELECT_ACT_LEAVE;
	st->reeval = 0;
}

/* ---- the operator's requests ---- */

static void refuse(struct elect_actions *out, const char *fmt, ...)
    PRINTF_LIKE(2, 3);

/* The answer to a request that is not carried out: nothing changes. */
static void
refuse(struct elect_actions *out, const char *fmt, ...)
{
	va_list ap;

	out->refused = 1;
	out->level = ELECT_LEVEL_NOTICE;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

/*
 * Why the peer cannot take over now ("" when it can): not heard, in
 * maintenance, in FAULT, unhealthy, or not STANDBY. The refusals that
 * --force skips.
 */
static const char *
peer_unable(const struct elect_state *st, uint64_t now, char *buf, size_t len)
{
	const char *pn = st->params.peer_name;

	if (!alive(st, now))
		return gone_text(st, now, buf, len);
	if (st->peer.maintenance)
		snprintf(buf, len, "peer %s is in maintenance", pn);
	else if (st->peer.role == ELECT_FAULT)
		snprintf(buf, len, "peer %s is in FAULT", pn);
	else if (!st->peer.eligible)
		snprintf(buf, len,
			 "peer %s is unhealthy (health check failing)", pn);
	else if (st->peer.no_api)
		snprintf(buf, len, "peer %s cannot use the EC2 API", pn);
	else if (st->peer.role != ELECT_STANDBY)
		snprintf(buf, len, "peer %s is %s, not STANDBY", pn,
			 elect_role_name(st->peer.role));
	else
		buf[0] = '\0';
	return buf;
}

static void
on_maintenance(struct elect_state *st, const struct elect_event *ev,
	       uint64_t now, struct elect_actions *out)
{
	char why[ELECT_REASON_MAX];

	if (!ev->ok) {
		if (st->maintenance) {
			st->maintenance = 0;
			out->flags |= ELECT_ACT_SEND;
		}
		note(out, ELECT_LEVEL_NOTICE,
		     "maintenance off: this node may take over again");
		return;
	}
	if (st->role != ELECT_ACTIVE || st->maintenance) {
		st->maintenance = 1;
		out->flags |= ELECT_ACT_SEND;
		note(out, ELECT_LEVEL_NOTICE,
		     "maintenance on: this node will not take over%s",
		     st->role == ELECT_FAULT ? " (no more FAULT retries)" : "");
		return;
	}
	peer_unable(st, now, why, sizeof(why));
	if (why[0] == '\0') {
		st->maintenance = 1;
		hand_over(st, now, out, "maintenance on");
		return;
	}
	if (!ev->force) {
		refuse(out,
		       "maintenance refused: this node is ACTIVE and %s, so "
		       "nobody could take over (--force steps down anyway, "
		       "leaving the EIP on this instance)",
		       why);
		return;
	}
	st->maintenance = 1;
	change(st, ELECT_STANDBY, now, out, ELECT_LEVEL_WARNING,
	       "maintenance on (forced) and %s: stepping down without API "
	       "call, the EIP stays on this instance",
	       why);
}

static void
on_switchover(struct elect_state *st, const struct elect_event *ev,
	      uint64_t now, struct elect_actions *out)
{
	const char *pn = st->params.peer_name;
	char why[ELECT_REASON_MAX];

	switch (st->role) {
	case ELECT_STARTING:
	case ELECT_FAULT:
		refuse(out, "switchover refused: this node is %s",
		       st->role == ELECT_FAULT ? "in FAULT" : "STARTING");
		return;
	case ELECT_ACTIVE:
		if (st->handover_at != 0) {
			refuse(out,
			       "switchover refused: a switchover is already in "
			       "progress (peer %s asked %llu ms ago)",
			       pn, ULL(now - st->handover_at));
			return;
		}
		if (st->acq == ELECT_ACQ_IN_FLIGHT ||
		    (alive(st, now) && st->peer.role == ELECT_ACTIVE)) {
			refuse(out,
			       "switchover refused: a takeover is in progress "
			       "(%s)",
			       st->acq == ELECT_ACQ_IN_FLIGHT
				   ? "this node's acquisition is in flight"
				   : "both nodes are ACTIVE");
			return;
		}
		peer_unable(st, now, why, sizeof(why));
		if (!alive(st, now) || (why[0] && !ev->force)) {
			refuse(out, "switchover refused: %s%s", why,
			       alive(st, now) ? " (--force to ask anyway)"
					      : "");
			return;
		}
		hand_over(st, now, out, "switchover");
		return;
	case ELECT_STANDBY:
		break;
	}
	if (alive(st, now) && st->peer.role == ELECT_ACTIVE &&
	    (st->peer.handover || !st->peer.holds)) {
		refuse(out,
		       "switchover refused: a switchover is already in "
		       "progress (peer %s %s)",
		       pn,
		       st->peer.handover ? "is handing over to this node"
					 : "has not finished its acquisition");
		return;
	}
	if (st->maintenance || !st->eligible) {
		refuse(out, "switchover refused: this node is %s",
		       st->maintenance
			   ? "in maintenance (maintenance off first)"
			   : "unhealthy (health check failing)");
		return;
	}
	if (st->api_down && !ev->force) {
		refuse(out, "switchover refused: this node cannot use the EC2 "
			    "API (--force takes over anyway)");
		return;
	}
	if (!ev->force && !(alive(st, now) && st->peer.role == ELECT_ACTIVE)) {
		if (alive(st, now))
			snprintf(why, sizeof(why), "peer %s is %s, not ACTIVE",
				 pn, elect_role_name(st->peer.role));
		else
			gone_text(st, now, why, sizeof(why));
		refuse(out,
		       "switchover refused: %s (--force takes over anyway)",
		       why);
		return;
	}
	take_over(
	    st, now, out, "switchover asked on this node (peer %s %s)", pn,
	    alive(st, now) ? elect_role_name(st->peer.role) : "not heard");
}

void
elect_step(struct elect_state *st, const struct elect_event *ev, uint64_t now,
	   struct elect_actions *out)
{
	memset(out, 0, sizeof(*out));
	out->from = out->to = st->role;
	out->level = ELECT_LEVEL_INFO;
	if (st->stopped)
		return;
	if (!st->started && ev->type != ELECT_EV_START)
		return;
	st->reeval = 0;
	if (ev->type != ELECT_EV_PEER_HEARTBEAT)
		observe_silence(st, now, out);

	switch (ev->type) {
	case ELECT_EV_START:
		if (st->started)
			return;
		on_start(st, now, out);
		break;
	case ELECT_EV_TICK:
		on_tick(st, now, out);
		break;
	case ELECT_EV_PEER_HEARTBEAT:
		on_heartbeat(st, &ev->peer, now, out);
		break;
	case ELECT_EV_PEER_LEAVE:
		on_leave(st, &ev->peer, now, out);
		break;
	case ELECT_EV_OWNER:
		on_owner(st, ev, now, out);
		break;
	case ELECT_EV_ACQUIRED:
		on_acquired(st, ev, now, out);
		break;
	case ELECT_EV_HEALTH:
		on_health(st, ev->ok, now, out);
		break;
	case ELECT_EV_API:
		on_api(st, ev, out);
		break;
	case ELECT_EV_RESOURCES:
		on_resources(st, out);
		break;
	case ELECT_EV_SHUTDOWN:
		on_shutdown(st, now, out);
		return;
	case ELECT_EV_MAINTENANCE:
		on_maintenance(st, ev, now, out);
		break;
	case ELECT_EV_SWITCHOVER:
		on_switchover(st, ev, now, out);
		break;
	case ELECT_EV_HOLDER:
		on_holder(st, ev, now, out);
		break;
	}
	if (out->from == out->to && !out->refused)
		evaluate(st, now, out);
	arm_acquire_deadline(st, now);
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t
elect_next_deadline(const struct elect_state *st, uint64_t now)
{
	uint64_t d = UINT64_MAX;

	if (!st->started || st->stopped)
		return UINT64_MAX;
	if (st->reeval)
		return now;
	if (st->peer_state == ELECT_PEER_UP)
		d = st->peer_last + st->params.timeout_ms;
	if (st->acq == ELECT_ACQ_IN_FLIGHT && st->acq_deadline != 0)
		d = min64(d, st->acq_deadline);
	switch (st->role) {
	case ELECT_STARTING:
		d = min64(d, st->started_at + st->params.startup_wait_ms);
		break;
	case ELECT_STANDBY:
		if (st->guarded)
			d = min64(d, st->next_check);
		break;
	case ELECT_ACTIVE:
		d = min64(d, st->next_check);
		d = min64(d, failback_at(st));
		d = min64(d, handover_deadline(st));
		break;
	case ELECT_FAULT:
		d = min64(d, st->next_check);
		break;
	}
	return d < now ? now : d;
}

/* ---- accessors ---- */

enum elect_role
elect_role(const struct elect_state *st)
{
	return st->role;
}

uint64_t
elect_since(const struct elect_state *st)
{
	return st->since;
}

uint64_t
elect_term(const struct elect_state *st)
{
	return st->term;
}

int
elect_eligible(const struct elect_state *st)
{
	return st->eligible;
}

int
elect_api_down(const struct elect_state *st)
{
	return st->api_down;
}

int
elect_maintenance(const struct elect_state *st)
{
	return st->maintenance;
}

int
elect_handover_pending(const struct elect_state *st)
{
	return st->role == ELECT_ACTIVE && st->handover_at != 0;
}

int
elect_handing_over(const struct elect_state *st)
{
	return st->role == ELECT_ACTIVE && st->handover_at != 0;
}

int
elect_holds(const struct elect_state *st)
{
	return st->role == ELECT_ACTIVE &&
	       (st->acq == ELECT_ACQ_UNCONFIRMED || st->acq == ELECT_ACQ_HELD);
}

int
elect_peer_alive(const struct elect_state *st, uint64_t now)
{
	return alive(st, now);
}

int
elect_guarded(const struct elect_state *st)
{
	return st->guarded;
}

unsigned
elect_failures(const struct elect_state *st)
{
	return st->failures;
}

const char *
elect_last_reason(const struct elect_state *st)
{
	return st->last_reason;
}

enum elect_peer_state
elect_peer_state(const struct elect_state *st, uint64_t now)
{
	if (st->peer_state == ELECT_PEER_UP && !alive(st, now))
		return ELECT_PEER_SILENT;
	return st->peer_state;
}

const struct elect_peer_info *
elect_peer(const struct elect_state *st)
{
	return &st->peer;
}

enum elect_owner
elect_owner(const struct elect_state *st)
{
	return st->owner;
}

enum elect_acq
elect_acq(const struct elect_state *st)
{
	return st->acq;
}

/* "on this instance (acquired 350 ms ago, not verified yet)" and the like. */
static const char *
owner_line(const struct elect_state *st, uint64_t now, char *buf, size_t len)
{
	char ob[ELECT_NAME_MAX + 32];
	const char *ow = owner_text(st, st->owner, ob, sizeof(ob));

	if (!st->owner_answered && st->acq != ELECT_ACQ_UNCONFIRMED)
		snprintf(buf, len, "%s (not verified yet)", ow);
	else if (st->acq == ELECT_ACQ_UNCONFIRMED)
		snprintf(buf, len,
			 "%s (acquired %llu ms ago, not verified yet)", ow,
			 ULL(now - st->owner_at));
	else
		snprintf(buf, len, "%s (verified %llu ms ago)", ow,
			 ULL(now - st->owner_at));
	return buf;
}

static const char *
peer_health_text(const struct elect_peer_info *p)
{
	if (p->maintenance)
		return "in maintenance";
	return p->eligible ? "healthy" : "unhealthy";
}

void
elect_summary(const struct elect_state *st, uint64_t now, char *buf, size_t len)
{
	char peer[160], own[ELECT_NAME_MAX + 96];
	enum elect_peer_state ps = elect_peer_state(st, now);

	if (ps == ELECT_PEER_UNKNOWN)
		snprintf(peer, sizeof(peer), "never heard");
	else
		snprintf(peer, sizeof(peer),
			 "%s (%s, term %llu, priority %u, %s%s, heard %llu "
			 "ms ago)",
			 elect_peer_state_name(ps),
			 elect_role_name(st->peer.role), ULL(st->peer.term),
			 st->peer.priority, peer_health_text(&st->peer),
			 st->peer.no_api ? ", cannot use the EC2 API" : "",
			 ULL(now - st->peer_last));
	snprintf(
	    buf, len,
	    "election: %s for %llu ms, term %llu, %s%s%s%s%s; peer %s %s; EIP "
	    "%s; failures %u/%u%s; last change: %s",
	    elect_role_name(st->role), ULL(now - st->since), ULL(st->term),
	    st->eligible ? "healthy" : "unhealthy",
	    st->api_down ? ", cannot use the EC2 API" : "",
	    st->maintenance ? ", in maintenance (never taking over)" : "",
	    st->handover_at ? ", switchover: asking the peer to take over" : "",
	    st->guarded ? ", guarded STANDBY (no takeover on silence)" : "",
	    st->params.peer_name, peer, owner_line(st, now, own, sizeof(own)),
	    st->failures, threshold(st),
	    st->acq == ELECT_ACQ_IN_FLIGHT ? ", acquisition in flight" : "",
	    st->last_reason[0] ? st->last_reason : "none");
}

int
elect_describe(const struct elect_state *st, uint64_t now, char *buf,
	       size_t len)
{
	char sum[2 * ELECT_REASON_MAX + 512], own[ELECT_NAME_MAX + 96];
	char peer[ELECT_NAME_MAX + 160];
	const struct elect_peer_info *p = &st->peer;
	enum elect_peer_state ps = elect_peer_state(st, now);
	uint64_t since = now - st->since;

	elect_summary(st, now, sum, sizeof(sum));
	if (ps == ELECT_PEER_UNKNOWN)
		snprintf(peer, sizeof(peer), "%s never heard",
			 st->params.peer_name);
	else
		snprintf(peer, sizeof(peer),
			 "%s %s, state %s, priority %u, %s%s, term %llu, "
			 "incarnation %016llx, heard %llu ms ago",
			 st->params.peer_name, elect_peer_state_name(ps),
			 elect_role_name(p->role), p->priority,
			 peer_health_text(p),
			 p->no_api ? ", cannot use the EC2 API" : "",
			 ULL(p->term), ULL(p->incarnation),
			 ULL(now - st->peer_last));
	return snprintf(
	    buf, len,
	    "state: %s\n"
	    "since: %llu.%03llu s ago\n"
	    "term: %llu\n"
	    "guarded: %s\n"
	    "maintenance: %s\n"
	    "reason: %s\n"
	    "%s\n"
	    "peer: %s\n"
	    "owner: EIP %s, acquisition %s\n",
	    elect_role_name(st->role), ULL(since / 1000), ULL(since % 1000),
	    ULL(st->term), st->guarded ? "yes" : "no",
	    st->maintenance ? "yes (never taking over)" : "no", st->last_reason,
	    sum, peer, owner_line(st, now, own, sizeof(own)),
	    elect_acq_name(st->acq));
}
