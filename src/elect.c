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
 *   healthy beats unhealthy (a FAULT node counts as unhealthy), then higher
 *   priority, then the lower name (strcmp). Both nodes compute it from the
 *   same heartbeats, so exactly one of them takes over.
 * - Two ACTIVE nodes with equal terms ask EC2 first (VERIFY) and decide on
 *   the fresh answer; a remembered owner may be stale on one of them.
 * - Failures: each failed acquisition counts once, whether AssociateAddress
 *   failed for good or the next verify still shows the EIP elsewhere; the
 *   count resets when a verify shows the EIP on this instance. Reaching
 *   migration_threshold means FAULT. Below it the node verifies at once and
 *   re-acquires if needed.
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
 *   guard has nothing left to protect and is lifted.
 * - SHUTDOWN: LEAVE on all links; a node that is not STANDBY becomes
 *   STANDBY (its standby hook runs) without touching the EIP; nothing
 *   happens afterwards.
 * - A LEAVE ends that peer incarnation: its late heartbeats are ignored.
 */
#include "elect.h"

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ULL(x) ((unsigned long long)(x))

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

void
elect_config_from(struct elect_config *ec, const struct config *cfg)
{
	const struct config_node *self = &cfg->nodes[cfg->self];
	const struct config_node *peer = &cfg->nodes[cfg->peer];

	memset(ec, 0, sizeof(*ec));
	snprintf(ec->self_name, sizeof(ec->self_name), "%s", self->name);
	snprintf(ec->peer_name, sizeof(ec->peer_name), "%s", peer->name);
	ec->self_priority = self->priority;
	ec->peer_priority = peer->priority;
	ec->failback = cfg->failback;
	ec->failback_delay_ms = cfg->failback_delay_ms;
	ec->startup_wait_ms = cfg->startup_wait_ms;
	ec->timeout_ms = cfg->timeout_ms;
	ec->monitor_interval_ms = cfg->monitor_interval_ms;
	ec->migration_threshold = cfg->migration_threshold;
	ec->start_unhealthy = cfg->check_command[0] != '\0';
}

void
elect_init(struct elect_state *st, const struct elect_config *cfg, uint64_t now)
{
	memset(st, 0, sizeof(*st));
	st->cfg = *cfg;
	st->role = ELECT_STARTING;
	st->since = now;
	st->started_at = now;
	st->eligible = !cfg->start_unhealthy;
	st->owner = RES_OWNER_UNKNOWN;
	st->peer.role = ELECT_STARTING;
	st->peer.priority = cfg->peer_priority;
	st->peer_prev_role = ELECT_STARTING;
	st->contest = ELECT_CONTEST_NONE;
}

void
elect_reconfigure(struct elect_state *st, const struct elect_config *cfg)
{
	st->cfg = *cfg;
}

/* ---- facts ---- */

static int
alive(const struct elect_state *st, uint64_t now)
{
	if (!st->peer_known || st->peer_left)
		return 0;
	return now < st->peer_last || now - st->peer_last < st->cfg.timeout_ms;
}

/* The peer could hold the EIP well: healthy and not in FAULT. */
static int
peer_healthy(const struct elect_state *st)
{
	return st->peer.eligible && st->peer.role != ELECT_FAULT;
}

static unsigned
threshold(const struct elect_state *st)
{
	return st->cfg.migration_threshold ? st->cfg.migration_threshold : 1;
}

/* Priority, then the lower name: the rule-4 and start-up tie-breaks. */
static int
wins_on_priority(const struct elect_state *st)
{
	if (st->cfg.self_priority != st->peer.priority)
		return st->cfg.self_priority > st->peer.priority;
	return strcmp(st->cfg.self_name, st->cfg.peer_name) < 0;
}

/* Between two alive nodes not ACTIVE, which one should be? */
static int
self_better(const struct elect_state *st)
{
	if (st->eligible != peer_healthy(st))
		return st->eligible;
	return wins_on_priority(st);
}

/* Why self_better() said what it said, for the log line. */
static const char *
precedence(const struct elect_state *st, char *buf, size_t len)
{
	const char *pn = st->cfg.peer_name;
	unsigned sp = st->cfg.self_priority, pp = st->peer.priority;

	if (st->eligible != peer_healthy(st)) {
		if (st->eligible)
			snprintf(buf, len, "%s is %s", pn,
				 st->peer.role == ELECT_FAULT ? "in FAULT"
							      : "unhealthy");
		else
			snprintf(buf, len, "this node is unhealthy");
	} else if (sp != pp) {
		snprintf(buf, len, "priority %u %s %u", sp, sp > pp ? ">" : "<",
			 pp);
	} else {
		int lower = strcmp(st->cfg.self_name, pn) < 0;
		snprintf(buf, len, "equal priority %u, name %s %s %s", sp,
			 st->cfg.self_name, lower ? "<" : ">", pn);
	}
	return buf;
}

static const char *
owner_text(const struct elect_state *st, enum resource_owner owner, char *buf,
	   size_t len)
{
	switch (owner) {
	case RES_OWNER_UNKNOWN:
		return "unknown (EC2 API error)";
	case RES_OWNER_NONE:
		return "unassociated";
	case RES_OWNER_SELF:
		return "on this instance";
	case RES_OWNER_PEER:
		snprintf(buf, len, "on %s's instance", st->cfg.peer_name);
		return buf;
	case RES_OWNER_OTHER:
		return "on an instance of neither node";
	}
	return "?";
}

/* Why the peer is not alive: never heard, left, or silent. */
static const char *
gone_text(const struct elect_state *st, uint64_t now, char *buf, size_t len)
{
	const char *pn = st->cfg.peer_name;

	if (!st->peer_known)
		snprintf(buf, len,
			 "peer %s not heard on any link since start "
			 "%llu ms ago",
			 pn, ULL(now - st->started_at));
	else if (st->peer_left)
		snprintf(buf, len, "peer %s left (graceful stop)", pn);
	else
		snprintf(buf, len,
			 "peer %s silent on all links for %llu ms "
			 "(timeout %u ms)",
			 pn, ULL(now - st->peer_last), st->cfg.timeout_ms);
	return buf;
}

/* An ACTIVE node can hand over now: the peer is up, STANDBY and healthy. */
static int
can_hand_over(const struct elect_state *st, uint64_t now)
{
	return alive(st, now) && st->peer.role == ELECT_STANDBY &&
	       peer_healthy(st);
}

/* When a failback yield becomes due; UINT64_MAX when it does not apply. */
static uint64_t
failback_at(const struct elect_state *st)
{
	if (!st->cfg.failback || !st->peer_ok ||
	    st->peer.role != ELECT_STANDBY ||
	    st->peer.priority <= st->cfg.self_priority)
		return UINT64_MAX;
	return st->peer_ok_since + st->cfg.failback_delay_ms;
}

/* ---- output ---- */

static void note(struct elect_actions *out, enum log_level level,
		 const char *fmt, ...) LOG_PRINTF(3, 4);

/*
 * A log line for a step without a state change. A state change's reason
 * always wins; otherwise the most severe note of the step is kept.
 */
static void
note(struct elect_actions *out, enum log_level level, const char *fmt, ...)
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
		   struct elect_actions *out, enum log_level level,
		   const char *fmt, ...) LOG_PRINTF(6, 7);

/*
 * The one place the role changes: fills from/to/reason, announces the new
 * role (SEND), runs its hook, cancels an acquisition we no longer want, and
 * resets what belongs to the old role. At most one change per step; the
 * next evaluation runs on the TICK that elect_next_deadline() asks for now.
 */
static void
change(struct elect_state *st, enum elect_role to, uint64_t now,
       struct elect_actions *out, enum log_level level, const char *fmt, ...)
{
	va_list ap;
	int n;

	out->from = st->role;
	out->to = to;
	out->level = level;
	n = snprintf(out->reason, sizeof(out->reason),
		     "%s -> %s: ", elect_role_name(st->role),
		     elect_role_name(to));
	va_start(ap, fmt);
	vsnprintf(out->reason + n, sizeof(out->reason) - (size_t)n, fmt, ap);
	va_end(ap);
	memcpy(st->last_reason, out->reason, sizeof(st->last_reason));

	out->flags |= ELECT_ACT_SEND | ELECT_ACT_HOOK;
	if (st->acquiring && to != ELECT_ACTIVE) {
		out->flags |= ELECT_ACT_CANCEL;
		st->acquiring = 0;
	}
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
	st->acq_unconfirmed = 0;
	st->held = 0;
	st->contest = ELECT_CONTEST_NONE;
	st->contest_done = 0;
	st->next_check = now + st->cfg.monitor_interval_ms;
}

static uint64_t
next_term(const struct elect_state *st)
{
	uint64_t t =
	    st->term > st->peer_max_term ? st->term : st->peer_max_term;

	return t + 1;
}

static void take_over(struct elect_state *st, uint64_t now,
		      struct elect_actions *out, const char *fmt, ...)
    LOG_PRINTF(4, 5);

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
	change(st, ELECT_ACTIVE, now, out, LOG_LEVEL_WARNING,
	       "%s; acquiring, term %llu", why, ULL(st->term));
	out->flags |= ELECT_ACT_ACQUIRE;
	st->acquiring = 1;
}

/* ACTIVE with the EIP verified on this instance: no API write. */
static void
activate_held(struct elect_state *st, uint64_t now, struct elect_actions *out,
	      const char *why)
{
	st->term = next_term(st);
	change(st, ELECT_ACTIVE, now, out, LOG_LEVEL_NOTICE,
	       "%s; no API call needed, term %llu", why, ULL(st->term));
	st->held = 1;
}

/* What a node that is not taking over says about itself. */
static const char *
stay_text(const struct elect_state *st)
{
	switch (st->role) {
	case ELECT_STARTING:
		return "";
	case ELECT_STANDBY:
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
	const char *pn = st->cfg.peer_name;
	int up = alive(st, now);
	int waited = now - st->started_at >= st->cfg.startup_wait_ms;
	char ob[ELECT_NAME_MAX + 32], pb[ELECT_NAME_MAX * 2 + 48];
	const char *ow;

	if (up && st->peer.role == ELECT_ACTIVE) {
		change(st, ELECT_STANDBY, now, out, LOG_LEVEL_NOTICE,
		       "peer %s is ACTIVE (term %llu)", pn, ULL(st->peer.term));
		return;
	}
	if (!waited && !(up && st->owner_answered))
		return;
	ow = owner_text(st, st->owner, ob, sizeof(ob));

	if (st->owner == RES_OWNER_SELF) {
		if (!st->eligible && up && peer_healthy(st)) {
			change(st, ELECT_STANDBY, now, out, LOG_LEVEL_WARNING,
			       "EIP is on this instance but the health check "
			       "is failing and peer %s is healthy",
			       pn);
			return;
		}
		activate_held(st, now, out, "EIP already on this instance");
		return;
	}
	if (st->owner == RES_OWNER_PEER && up) {
		change(st, ELECT_STANDBY, now, out, LOG_LEVEL_NOTICE,
		       "EIP is on %s's instance and %s is alive (%s)", pn, pn,
		       elect_role_name(st->peer.role));
		return;
	}
	if (!up) {
		char gb[ELECT_REASON_MAX];

		gone_text(st, now, gb, sizeof(gb));
		if (!st->eligible)
			change(st, ELECT_STANDBY, now, out, LOG_LEVEL_WARNING,
			       "%s but the health check is failing: not "
			       "taking over (EIP %s)",
			       gb, ow);
		else
			take_over(st, now, out,
				  "%s (start-up wait %u ms), EIP %s", gb,
				  st->cfg.startup_wait_ms, ow);
		return;
	}
	/* Both alive, the peer not ACTIVE, the EIP on neither (or unknown). */
	precedence(st, pb, sizeof(pb));
	if (!self_better(st)) {
		change(st, ELECT_STANDBY, now, out, LOG_LEVEL_NOTICE,
		       "EIP %s and %s takes precedence (%s)", ow, pn, pb);
		return;
	}
	if (!st->eligible) {
		change(st, ELECT_STANDBY, now, out, LOG_LEVEL_WARNING,
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
	const char *pn = st->cfg.peer_name;
	char pb[ELECT_NAME_MAX * 2 + 48];

	if (!st->eligible)
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
	case ELECT_STARTING:
	case ELECT_ACTIVE:
		break;
	}
}

/* Rules 2 and 6: the only reasons an ACTIVE node hands over by itself. */
static void
eval_active(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	const char *pn = st->cfg.peer_name;

	if (!alive(st, now) || st->peer.role != ELECT_STANDBY)
		return;
	if (!st->eligible && can_hand_over(st, now)) {
		change(st, ELECT_STANDBY, now, out, LOG_LEVEL_WARNING,
		       "health check failing and peer %s is healthy: handing "
		       "over without API call",
		       pn);
		return;
	}
	if (now >= failback_at(st))
		change(st, ELECT_STANDBY, now, out, LOG_LEVEL_NOTICE,
		       "failback: peer %s has higher priority (%u > %u) and "
		       "has been healthy for %llu ms (failback_delay %u ms)",
		       pn, st->peer.priority, st->cfg.self_priority,
		       ULL(now - st->peer_ok_since), st->cfg.failback_delay_ms);
}

static void
eval_fault(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	if (alive(st, now) && st->peer.role == ELECT_ACTIVE)
		change(st, ELECT_STANDBY, now, out, LOG_LEVEL_NOTICE,
		       "peer %s took over (term %llu)", st->cfg.peer_name,
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
	if (!st->peer_up || alive(st, now))
		return;
	st->peer_up = 0;
	st->peer_ok = 0;
	note(out, LOG_LEVEL_WARNING,
	     "peer %s silent on all links for %llu ms (timeout %u ms)%s",
	     st->cfg.peer_name, ULL(now - st->peer_last), st->cfg.timeout_ms,
	     stay_text(st));
}

static void
on_start(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	st->started = 1;
	st->started_at = now;
	st->since = now;
	out->flags |= ELECT_ACT_VERIFY | ELECT_ACT_SEND;
	note(out, LOG_LEVEL_INFO,
	     "STARTING: waiting up to %u ms for peer %s and EC2's answer",
	     st->cfg.startup_wait_ms, st->cfg.peer_name);
}

/* Timers: the monitor verify, the guarded-standby verify, FAULT retries. */
static void
on_tick(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	if (st->role == ELECT_STARTING || now < st->next_check)
		return;
	switch (st->role) {
	case ELECT_STARTING:
		break;
	case ELECT_STANDBY:
		if (!st->guarded)
			break;
		st->next_check = now + st->cfg.monitor_interval_ms;
		out->flags |= ELECT_ACT_VERIFY;
		break;
	case ELECT_ACTIVE:
		st->next_check = now + st->cfg.monitor_interval_ms;
		if (!st->acquiring)
			out->flags |= ELECT_ACT_VERIFY;
		break;
	case ELECT_FAULT:
		st->next_check = now + st->cfg.monitor_interval_ms;
		if (st->acquiring)
			break;
		if (alive(st, now) && peer_healthy(st))
			break; /* it will take over; do not race it */
		out->flags |= ELECT_ACT_ACQUIRE;
		st->acquiring = 1;
		note(out, LOG_LEVEL_NOTICE,
		     "FAULT: retrying the acquisition (peer %s %s)",
		     st->cfg.peer_name,
		     alive(st, now) ? "cannot take over" : "not alive");
		break;
	}
}

/* Rule 4, on a heartbeat from an ACTIVE peer while ACTIVE. */
static void
contest(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	const struct elect_peer_info *p = &st->peer;
	const char *pn = st->cfg.peer_name;

	if (st->contest != ELECT_CONTEST_NONE)
		return; /* our VERIFY is on its way */
	if (st->contest_done && st->contest_incarnation == p->incarnation &&
	    st->contest_term == p->term &&
	    now - st->contest_at < st->cfg.monitor_interval_ms)
		return; /* decided already; it has not heard us yet */
	if (p->term > st->term) {
		change(st, ELECT_STANDBY, now, out, LOG_LEVEL_WARNING,
		       "peer %s is also ACTIVE with a higher term (%llu > "
		       "%llu): stepping down without API call",
		       pn, ULL(p->term), ULL(st->term));
		return;
	}
	st->contest_incarnation = p->incarnation;
	st->contest_term = p->term;
	st->contest_at = now;
	st->contest_done = 1;
	if (p->term < st->term) {
		if (st->acquiring) {
			note(out, LOG_LEVEL_WARNING,
			     "peer %s is also ACTIVE with a lower term (%llu "
			     "< %llu): staying ACTIVE, acquisition in flight",
			     pn, ULL(p->term), ULL(st->term));
			return;
		}
		st->contest = ELECT_CONTEST_WON;
		out->flags |= ELECT_ACT_VERIFY;
		note(out, LOG_LEVEL_WARNING,
		     "peer %s is also ACTIVE with a lower term (%llu < %llu): "
		     "staying ACTIVE, verifying the EIP now",
		     pn, ULL(p->term), ULL(st->term));
		return;
	}
	st->contest = ELECT_CONTEST_EQUAL;
	out->flags |= ELECT_ACT_VERIFY;
	note(out, LOG_LEVEL_WARNING,
	     "peer %s is also ACTIVE with the same term %llu: asking EC2 who "
	     "holds the EIP",
	     pn, ULL(p->term));
}

static void
on_heartbeat(struct elect_state *st, const struct elect_peer_info *p,
	     uint64_t now, struct elect_actions *out)
{
	const char *pn = st->cfg.peer_name;
	const char *guard;
	int was_up, restarted, ok;

	if (st->peer_left && p->incarnation == st->left_incarnation)
		return; /* that incarnation said goodbye */
	was_up = alive(st, now);
	restarted = st->peer_known && p->incarnation != st->peer.incarnation;
	guard = st->guarded ? ": guarded STANDBY lifted" : stay_text(st);
	st->guarded = 0;
	if (!st->peer_known)
		note(out, LOG_LEVEL_NOTICE,
		     "peer %s heard: %s, term %llu, priority %u, %s%s", pn,
		     elect_role_name(p->role), ULL(p->term), p->priority,
		     p->eligible ? "healthy" : "unhealthy", guard);
	else if (restarted)
		note(out, LOG_LEVEL_NOTICE, "peer %s restarted (now %s)%s", pn,
		     elect_role_name(p->role), guard);
	else if (!was_up)
		note(out, LOG_LEVEL_NOTICE,
		     "peer %s heard again after %llu ms of silence%s", pn,
		     ULL(now - st->peer_last), guard);
	if (restarted) {
		st->peer_ok = 0;
		st->contest_done = 0;
	}

	ok = p->eligible && p->role != ELECT_FAULT;
	if (!ok)
		st->peer_ok = 0;
	else if (!st->peer_ok || !was_up) {
		st->peer_ok = 1;
		st->peer_ok_since = now;
	}
	st->peer_prev_role = restarted ? ELECT_STARTING : st->peer.role;
	st->peer = *p;
	st->peer_last = now;
	st->peer_known = 1;
	st->peer_up = 1;
	st->peer_left = 0;
	if (p->term > st->peer_max_term)
		st->peer_max_term = p->term;
	if (st->role == ELECT_ACTIVE && p->role == ELECT_ACTIVE)
		contest(st, now, out);
}

static void
on_leave(struct elect_state *st, const struct elect_peer_info *p, uint64_t now,
	 struct elect_actions *out)
{
	(void)now;
	if (st->peer_left && p->incarnation == st->left_incarnation)
		return;
	st->peer_left = 1;
	st->left_incarnation = p->incarnation;
	st->peer_up = 0;
	st->peer_ok = 0;
	st->guarded = 0; /* we heard it: it is not holding the EIP any more */
	st->contest = ELECT_CONTEST_NONE;
	note(out, LOG_LEVEL_NOTICE, "peer %s left (graceful stop)%s",
	     st->cfg.peer_name, stay_text(st));
}

/* Rule 4's verify answer: decide, or make sure the EIP is ours. */
static void
contest_answer(struct elect_state *st, enum resource_owner owner, uint64_t now,
	       struct elect_actions *out)
{
	const char *pn = st->cfg.peer_name;
	char ob[ELECT_NAME_MAX + 32];
	const char *ow = owner_text(st, owner, ob, sizeof(ob));
	int peer_active = alive(st, now) && st->peer.role == ELECT_ACTIVE;

	if (st->contest == ELECT_CONTEST_EQUAL && peer_active) {
		if (owner == RES_OWNER_PEER ||
		    (owner != RES_OWNER_SELF && !wins_on_priority(st))) {
			change(st, ELECT_STANDBY, now, out, LOG_LEVEL_WARNING,
			       "peer %s is also ACTIVE with the same term "
			       "%llu and wins (EIP %s, priority %u vs %u): "
			       "stepping down without API call",
			       pn, ULL(st->term), ow, st->cfg.self_priority,
			       st->peer.priority);
			return;
		}
		if (owner == RES_OWNER_SELF) {
			st->contest = ELECT_CONTEST_NONE;
			note(out, LOG_LEVEL_WARNING,
			     "peer %s is also ACTIVE with the same term %llu; "
			     "EC2 says the EIP is on this instance: staying "
			     "ACTIVE",
			     pn, ULL(st->term));
			return;
		}
	}
	if (owner == RES_OWNER_SELF) {
		st->contest = ELECT_CONTEST_NONE;
		return;
	}
	if (owner == RES_OWNER_UNKNOWN) {
		/* Keep the contest open: the next verify answer decides. */
		st->contest = ELECT_CONTEST_WON;
		note(out, LOG_LEVEL_WARNING,
		     "won against ACTIVE peer %s but the EIP is %s: will "
		     "verify again at the next monitor check",
		     pn, ow);
		return;
	}
	st->contest = ELECT_CONTEST_NONE;
	if (st->acquiring)
		return;
	out->flags |= ELECT_ACT_ACQUIRE;
	st->acquiring = 1;
	note(out, LOG_LEVEL_WARNING,
	     "won against ACTIVE peer %s (term %llu) but the EIP is %s: "
	     "re-associating",
	     pn, ULL(st->term), ow);
}

static void
fault(struct elect_state *st, uint64_t now, struct elect_actions *out,
      const char *what)
{
	change(st, ELECT_FAULT, now, out, LOG_LEVEL_ERR,
	       "%s; %u failed acquisition%s (migration_threshold %u), "
	       "handing over to peer %s",
	       what, st->failures, st->failures == 1 ? "" : "s", threshold(st),
	       st->cfg.peer_name);
}

/* Rule 5: what the monitor's verify answer means for an ACTIVE node. */
static void
active_answer(struct elect_state *st, enum resource_owner owner,
	      const char *detail, uint64_t now, struct elect_actions *out)
{
	const char *pn = st->cfg.peer_name;
	char ob[ELECT_NAME_MAX + 32];
	const char *ow = owner_text(st, owner, ob, sizeof(ob));

	if (st->contest != ELECT_CONTEST_NONE) {
		contest_answer(st, owner, now, out);
		return;
	}
	if (st->acquiring) /* stale: asked before our association lands */
		return;
	switch (owner) {
	case RES_OWNER_SELF:
		st->failures = 0;
		st->acq_unconfirmed = 0;
		st->held = 1;
		break;
	case RES_OWNER_UNKNOWN:
		note(out, LOG_LEVEL_WARNING,
		     "cannot verify the EIP (%s): staying ACTIVE",
		     detail ? detail : "EC2 API error");
		break;
	case RES_OWNER_PEER:
		if (alive(st, now) && st->peer.role == ELECT_ACTIVE) {
			change(st, ELECT_STANDBY, now, out, LOG_LEVEL_WARNING,
			       "EIP is on ACTIVE peer %s's instance (EC2 is "
			       "the arbiter): stepping down without API call",
			       pn);
			return;
		}
		if (!alive(st, now) && st->held) {
			change(st, ELECT_STANDBY, now, out, LOG_LEVEL_WARNING,
			       "EIP moved to %s's instance though %s is "
			       "silent on all links: guarded STANDBY, no "
			       "takeover until %s is heard again",
			       pn, pn, pn);
			st->guarded = 1;
			return;
		}
		/* It never reached us, or nobody claims it: re-associate. */
		/* fall through */
	case RES_OWNER_NONE:
	case RES_OWNER_OTHER:
		if (st->acq_unconfirmed) {
			st->acq_unconfirmed = 0;
			st->failures++;
		}
		if (st->failures >= threshold(st)) {
			char what[ELECT_REASON_MAX];

			snprintf(what, sizeof(what),
				 "EIP still %s after "
				 "acquiring it",
				 ow);
			fault(st, now, out, what);
			return;
		}
		out->flags |= ELECT_ACT_ACQUIRE;
		st->acquiring = 1;
		note(out, LOG_LEVEL_WARNING,
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
		if (ev->owner == RES_OWNER_UNKNOWN)
			note(out, LOG_LEVEL_WARNING,
			     "cannot verify the EIP at start-up (%s)",
			     ev->detail ? ev->detail : "EC2 API error");
		break;
	case ELECT_STANDBY:
		if (!st->guarded || ev->owner == RES_OWNER_PEER ||
		    ev->owner == RES_OWNER_UNKNOWN)
			break;
		st->guarded = 0;
		note(out, LOG_LEVEL_WARNING,
		     "EIP is %s, no longer on %s's instance: guarded STANDBY "
		     "lifted",
		     ow, st->cfg.peer_name);
		break;
	case ELECT_ACTIVE:
		active_answer(st, ev->owner, ev->detail, now, out);
		break;
	case ELECT_FAULT:
		if (ev->owner == RES_OWNER_SELF &&
		    !(alive(st, now) && st->peer.role == ELECT_ACTIVE)) {
			activate_held(st, now, out,
				      "EIP verified on this instance again");
			return;
		}
		note(out, LOG_LEVEL_WARNING, "FAULT: EIP is %s", ow);
		break;
	}
}

static void
on_acquired(struct elect_state *st, const struct elect_event *ev, uint64_t now,
	    struct elect_actions *out)
{
	const char *detail = ev->detail ? ev->detail : "no detail";

	if (!st->acquiring)
		return; /* cancelled: we no longer care */
	st->acquiring = 0;
	switch (st->role) {
	case ELECT_STARTING:
	case ELECT_STANDBY:
		break;
	case ELECT_ACTIVE:
		if (ev->ok) {
			st->acq_unconfirmed = 1;
			st->held = 1;
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
		note(out, LOG_LEVEL_WARNING,
		     "acquisition failed (%s), %u of %u failures: verifying "
		     "now",
		     detail, st->failures, threshold(st));
		break;
	case ELECT_FAULT:
		if (ev->ok) {
			out->flags |= ELECT_ACT_VERIFY;
			break;
		}
		note(out, LOG_LEVEL_WARNING,
		     "FAULT: acquisition failed again (%s), next try in %u ms",
		     detail, st->cfg.monitor_interval_ms);
		break;
	}
}

static void
on_health(struct elect_state *st, int eligible, uint64_t now,
	  struct elect_actions *out)
{
	const char *pn = st->cfg.peer_name;

	eligible = eligible != 0;
	if (eligible == st->eligible)
		return;
	st->eligible = eligible;
	out->flags |= ELECT_ACT_SEND;
	if (eligible) {
		note(out, LOG_LEVEL_NOTICE,
		     "health check passing again: "
		     "eligible");
		return;
	}
	switch (st->role) {
	case ELECT_ACTIVE:
		if (!can_hand_over(st, now))
			note(out, LOG_LEVEL_WARNING,
			     "health check failing, but peer %s cannot take "
			     "over now: staying ACTIVE",
			     pn);
		break; /* otherwise the hand-over says it */
	case ELECT_STANDBY:
		note(out, LOG_LEVEL_WARNING,
		     "health check failing: not eligible, will not take over");
		break;
	case ELECT_STARTING:
	case ELECT_FAULT:
		note(out, LOG_LEVEL_WARNING,
		     "health check failing: not eligible");
		break;
	}
}

static void
on_shutdown(struct elect_state *st, uint64_t now, struct elect_actions *out)
{
	st->stopped = 1;
	if (st->role != ELECT_STANDBY) {
		unsigned keep = out->flags;

		change(st, ELECT_STANDBY, now, out, LOG_LEVEL_NOTICE,
		       "shutting down: leaving the EIP for peer %s",
		       st->cfg.peer_name);
		/* No heartbeat and no READY on the way out, only LEAVE. */
		out->flags &= ~(ELECT_ACT_SEND | ELECT_ACT_READY);
		out->flags |= keep;
	} else {
		note(out, LOG_LEVEL_NOTICE, "shutting down");
	}
	if (st->acquiring) {
		out->flags |= ELECT_ACT_CANCEL;
		st->acquiring = 0;
	}
	out->flags |= ELECT_ACT_LEAVE;
	st->reeval = 0;
}

void
elect_step(struct elect_state *st, const struct elect_event *ev, uint64_t now,
	   struct elect_actions *out)
{
	memset(out, 0, sizeof(*out));
	out->from = out->to = st->role;
	out->level = LOG_LEVEL_INFO;
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
	case ELECT_EV_SHUTDOWN:
		on_shutdown(st, now, out);
		return;
	}
	if (out->from == out->to)
		evaluate(st, now, out);
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
	if (st->peer_up)
		d = st->peer_last + st->cfg.timeout_ms;
	switch (st->role) {
	case ELECT_STARTING:
		d = min64(d, st->started_at + st->cfg.startup_wait_ms);
		break;
	case ELECT_STANDBY:
		if (st->guarded)
			d = min64(d, st->next_check);
		break;
	case ELECT_ACTIVE:
		d = min64(d, st->next_check);
		d = min64(d, failback_at(st));
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

void
elect_describe(const struct elect_state *st, uint64_t now, char *buf,
	       size_t len)
{
	char ob[ELECT_NAME_MAX + 32], peer[160];
	const char *ow = owner_text(st, st->owner, ob, sizeof(ob));

	if (!st->peer_known)
		snprintf(peer, sizeof(peer), "never heard");
	else
		snprintf(peer, sizeof(peer),
			 "%s (%s, term %llu, priority %u, %s, heard %llu ms "
			 "ago)",
			 st->peer_left	  ? "left"
			 : alive(st, now) ? "alive"
					  : "silent",
			 elect_role_name(st->peer.role), ULL(st->peer.term),
			 st->peer.priority,
			 st->peer.eligible ? "healthy" : "unhealthy",
			 ULL(now - st->peer_last));
	snprintf(buf, len,
		 "election: %s for %llu ms, term %llu, %s%s; peer %s %s; EIP "
		 "%s%s; failures %u/%u%s; last change: %s",
		 elect_role_name(st->role), ULL(now - st->since), ULL(st->term),
		 st->eligible ? "healthy" : "unhealthy",
		 st->guarded ? ", guarded STANDBY (no takeover on silence)"
			     : "",
		 st->cfg.peer_name, peer, ow,
		 st->owner_answered ? "" : " (not verified yet)", st->failures,
		 threshold(st), st->acquiring ? ", acquisition in flight" : "",
		 st->last_reason[0] ? st->last_reason : "none");
}
