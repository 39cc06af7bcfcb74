/*
 * elect.h - the election state machine: a pure function of (state, event,
 * now) that returns the new state and the actions the shell must carry out.
 *
 * How the shell drives it (times are monotonic milliseconds):
 *   elect_init() then ELECT_EV_START once the sockets are open.
 *   ELECT_EV_PEER_HEARTBEAT for every authenticated, non-replayed heartbeat
 *   from the peer on any link; ELECT_EV_PEER_LEAVE for a LEAVE.
 *   ELECT_EV_OWNER with the result of each resource_verify() it was asked
 *   for, ELECT_EV_ACQUIRED with the result of each resource_acquire() (not
 *   after a CANCEL). ELECT_EV_HEALTH when the check's fall/rise logic flips.
 *   ELECT_EV_TICK whenever elect_next_deadline() comes due (re-arm the timer
 *   after every step; extra TICKs are harmless). ELECT_EV_SHUTDOWN on
 *   SIGTERM, then carry out its actions and exit. ELECT_EV_MAINTENANCE and
 *   ELECT_EV_SWITCHOVER are the operator's requests (the control socket):
 *   `refused` and `reason` are the answer.
 * The shell translates with elect_map.h (configuration, heartbeats,
 * resource owners, log levels), so this header includes nothing of theirs.
 * After each step, in this order: log `reason` at `level` if not empty;
 * CANCEL; VERIFY; ACQUIRE; SEND (heartbeats carry elect_role(), elect_term(),
 * elect_eligible(), elect_api_down()); HOOK for role `to`; READY; LEAVE.
 * ELECT_EV_API whenever this node's use of the EC2 API changes (an EC2 call
 * failed for want of a route or of credentials, or one succeeded again).
 */
#ifndef EIPFLOATD_ELECT_H
#define EIPFLOATD_ELECT_H

#include <stddef.h>
#include <stdint.h>

#define ELECT_NAME_MAX 64
#define ELECT_REASON_MAX 256

enum elect_role {
	ELECT_STARTING,
	ELECT_STANDBY,
	ELECT_ACTIVE,
	ELECT_FAULT,
};

const char *elect_role_name(enum elect_role role);

/*
 * Who holds the resources, in the election's words. The election keeps its
 * own enum (rather than including resource.h) so that this header stands
 * alone; elect_map_owner() in elect_map.h translates resource.h's verdict.
 */
enum elect_owner {
	ELECT_OWNER_UNKNOWN, /* could not find out (API error) */
	ELECT_OWNER_NONE,    /* unassociated */
	ELECT_OWNER_SELF,    /* on this node's instance */
	ELECT_OWNER_PEER,    /* on the peer's instance */
	ELECT_OWNER_OTHER,   /* on an instance of neither node */
};

/* How loud the reason of a step is; the shell maps it to its log levels. */
enum elect_level {
	ELECT_LEVEL_ERR, /* most severe first: a lower value wins */
	ELECT_LEVEL_WARNING,
	ELECT_LEVEL_NOTICE,
	ELECT_LEVEL_INFO,
};

/*
 * The peer as the election sees it. The election is the one owner of peer
 * liveness: UP means an accepted heartbeat within timeout_ms on any link
 * (link.c only reports per-link status for the dump).
 */
enum elect_peer_state {
	ELECT_PEER_UNKNOWN, /* never heard since start */
	ELECT_PEER_UP,
	ELECT_PEER_SILENT, /* heard before, nothing for timeout_ms */
	ELECT_PEER_LEFT,   /* announced LEAVE (graceful stop) */
};

const char *elect_peer_state_name(enum elect_peer_state ps);

/* This node's acquisition of the resources, within the current role. */
enum elect_acq {
	ELECT_ACQ_IDLE,	       /* nothing asked, nothing known to be ours */
	ELECT_ACQ_IN_FLIGHT,   /* ACQUIRE issued, ACQUIRED not yet seen */
	ELECT_ACQ_UNCONFIRMED, /* acquired; no verify since: "self, unverified"
				*/
	ELECT_ACQ_HELD,	       /* verified on this instance */
};

const char *elect_acq_name(enum elect_acq acq);

/* What the election needs to know of the configuration (elect_map_params). */
struct elect_params {
	char self_name[ELECT_NAME_MAX];
	char peer_name[ELECT_NAME_MAX];
	unsigned self_priority;
	unsigned peer_priority; /* until the peer's heartbeat says otherwise */
	int failback;
	unsigned failback_delay_ms;
	unsigned startup_wait_ms;
	unsigned timeout_ms;
	unsigned monitor_interval_ms;
	/*
	 * Non-zero: each monitor wait is drawn from interval +/- 10 %
	 * (xorshift from this seed), so pairs started together do not poll
	 * EC2 in step. 0: exactly the interval (the scenario tests).
	 */
	uint64_t monitor_jitter_seed;
	unsigned migration_threshold; /* 0 is taken as 1 */
	/*
	 * An acquisition not answered by then counts as failed and is
	 * cancelled (0: no deadline). A node that can never finish its
	 * AssociateAddress (no credentials, no route to EC2) must reach FAULT
	 * so that a healthy peer takes over.
	 */
	unsigned acquire_timeout_ms;
	/*
	 * How long a write the peer cancelled when it stepped down may still
	 * land at EC2 (its request timeout, aws.timeout_ms, plus slack): the
	 * winner of two ACTIVE nodes verifies at once and again after this.
	 */
	unsigned late_write_ms;
	/*
	 * A health check is configured and has not answered yet: the node is
	 * not eligible until its first result (HEALTH ok=1), so it cannot grab
	 * the EIP before its service is known to be up.
	 */
	int start_unhealthy;
	/* The maintenance flag from the state directory (survives restarts). */
	int start_maintenance;
	/*
	 * Guarded STANDBY from before a restart (the state directory): the
	 * EIP went to the peer while it was silent. Kept at start-up while
	 * the peer stays silent and EC2 shows the EIP on it (or cannot say).
	 */
	int start_guarded;
};

/* What one authenticated heartbeat (or LEAVE) from the peer tells us. */
struct elect_peer_info {
	enum elect_role role;
	unsigned priority; /* effective priority */
	int eligible;	   /* health check passing */
	int no_api;	   /* it says it cannot use the EC2 API */
	uint64_t term;
	uint64_t incarnation; /* random, new at every start of the peer */
	int holds;	      /* ACTIVE with its acquisition done */
	int maintenance;      /* the operator's flag: it never takes over */
	int handover;	      /* ACTIVE asking this node to take over */
};

enum elect_event_type {
	ELECT_EV_START,		 /* once, after elect_init */
	ELECT_EV_TICK,		 /* at elect_next_deadline(), or any time */
	ELECT_EV_PEER_HEARTBEAT, /* .peer */
	ELECT_EV_PEER_LEAVE,	 /* .peer (the LEAVE packet's header) */
	ELECT_EV_OWNER,		 /* answer to VERIFY: .owner, .detail */
	ELECT_EV_ACQUIRED,	 /* answer to ACQUIRE: .ok, .detail */
	ELECT_EV_HEALTH,	 /* .ok = eligible (after fall/rise) */
	ELECT_EV_API,		 /* .ok = this node can use the EC2 API, .detail */
	ELECT_EV_RESOURCES,	 /* a reload rebuilt the resource group */
	ELECT_EV_SHUTDOWN,	 /* SIGTERM: last event */
	ELECT_EV_MAINTENANCE,	 /* operator: .ok = on, .force */
	ELECT_EV_SWITCHOVER,	 /* operator: hand over to the peer, .force */
	ELECT_EV_HOLDER,	 /* answer to CHECK_HOLDER: .ok = it may be
				    serving, 0 = it cannot be; .detail */
};

struct elect_event {
	enum elect_event_type type;
	struct elect_peer_info peer;
	enum elect_owner owner;
	int ok;
	int force; /* MAINTENANCE, SWITCHOVER: skip the refusals that may be */
	const char *detail; /* why (API error text); may be NULL */
};

/* Action flags: what the shell must do after one elect_step(). */
#define ELECT_ACT_VERIFY 0x01u	/* resource_verify(), deliver ELECT_EV_OWNER */
#define ELECT_ACT_ACQUIRE 0x02u /* resource_acquire(), deliver ACQUIRED */
#define ELECT_ACT_CANCEL 0x04u	/* resource_cancel(): drop the acquire */
#define ELECT_ACT_SEND 0x08u	/* send a heartbeat on every link now */
#define ELECT_ACT_HOOK 0x10u	/* run the hook of the role `to` */
#define ELECT_ACT_READY 0x20u	/* first settled: sd_notify READY=1 */
#define ELECT_ACT_LEAVE 0x40u	/* send LEAVE on every link (shutdown) */
/* Ask EC2 about the instance holding the EIP: deliver ELECT_EV_HOLDER. */
#define ELECT_ACT_CHECK_HOLDER 0x80u

struct elect_actions {
	unsigned flags;
	enum elect_role from, to; /* from != to: a state change */
	/*
	 * One complete log line, "" if nothing to say. A state change always
	 * has one ("STANDBY -> ACTIVE: peer node-a silent on all links for
	 * 1003 ms (timeout 1000 ms), term 4"); other steps may note something
	 * worth a line (API error, peer restart, guard lifted).
	 */
	enum elect_level level;
	char reason[ELECT_REASON_MAX];
	/* reason + why: the same without "STANDBY -> ACTIVE: " (hooks, fields) */
	unsigned why;
	/* An operator's request was refused; `reason` says why. */
	int refused;
};

enum elect_contest {
	ELECT_CONTEST_NONE,
	ELECT_CONTEST_EQUAL, /* equal terms: EC2's answer decides */
	ELECT_CONTEST_WON,   /* won: the answer must be SELF or we acquire */
};

/*
 * The whole state. Callers allocate it and only read it through the
 * accessors below; the fields are public so it can live on the stack.
 */
struct elect_state {
	struct elect_params params;
	enum elect_role role;
	uint64_t since; /* when `role` was entered */
	uint64_t started_at;
	int started, stopped;
	uint64_t term;
	int eligible;
	int api_down; /* this node knows it cannot use the EC2 API */
	int ready;  /* READY already reported */
	int reeval; /* a state change happened: evaluate again at once */

	/* the peer */
	enum elect_peer_state peer_state; /* as of the last step */
	uint64_t left_incarnation;	  /* the one that said LEAVE */
	uint64_t peer_last;		  /* last heartbeat */
	struct elect_peer_info peer;
	enum elect_role peer_prev_role;
	uint64_t peer_max_term; /* over every incarnation */
	int peer_ok;		/* alive, eligible, not FAULT ... */
	uint64_t peer_ok_since; /* ... continuously since (failback) */

	/* the resources */
	enum elect_owner owner; /* last VERIFY answer, or SELF once acquired */
	int owner_answered;	/* any answer since START */
	uint64_t owner_at;	/* when `owner` was learnt */
	enum elect_acq acq;
	/*
	 * The EIP was ours at some point in this role (verified or acquired),
	 * even if a re-acquisition is in flight or failed since: the rule-5
	 * guard needs this history, which `acq` does not keep.
	 */
	int held_in_role;
	unsigned failures;   /* consecutive failed acquisitions */
	uint64_t acq_deadline; /* the in-flight acquisition fails then; 0 */
	uint64_t next_check; /* monitor verify / FAULT retry / guard verify */
	uint64_t jitter_state; /* monitor_jitter_seed, stepped per wait */
	int guarded;

	/* the operator */
	int maintenance;      /* never become ACTIVE; hand over if ACTIVE */
	uint64_t handover_at; /* ACTIVE: asked the peer to take over, 0 not */

	/* two ACTIVE nodes */
	enum elect_contest contest;
	int contest_done;
	uint64_t contest_incarnation, contest_term, contest_at;

	char last_reason[ELECT_REASON_MAX];
};

void elect_init(struct elect_state *st, const struct elect_params *cfg,
		uint64_t now);
/* Reload: new timings and priorities; names must not change. */
void elect_reconfigure(struct elect_state *st, const struct elect_params *cfg);
void elect_step(struct elect_state *st, const struct elect_event *ev,
		uint64_t now, struct elect_actions *out);
/* When to deliver the next TICK: now if overdue, UINT64_MAX if never. */
uint64_t elect_next_deadline(const struct elect_state *st, uint64_t now);

/* Accessors for heartbeats and the state dump. */
enum elect_role elect_role(const struct elect_state *st);
uint64_t elect_since(const struct elect_state *st);
uint64_t elect_term(const struct elect_state *st);
/* The health check passes (heartbeats' `eligible`; maintenance apart). */
int elect_eligible(const struct elect_state *st);
/* The heartbeat flag: this node cannot reach EC2 or has no credentials. */
int elect_api_down(const struct elect_state *st);
int elect_maintenance(const struct elect_state *st);
/* An ACTIVE asking its peer to take over (switchover), not yet lapsed. */
int elect_handover_pending(const struct elect_state *st);
/* ACTIVE and asking the peer to take over (a switchover in progress). */
int elect_handing_over(const struct elect_state *st);
/* ACTIVE with the acquisition done: the heartbeats' HOLDS flag. */
int elect_holds(const struct elect_state *st);
int elect_peer_alive(const struct elect_state *st, uint64_t now);
/* The peer's state at `now` (UP turns SILENT once timeout_ms has passed). */
enum elect_peer_state elect_peer_state(const struct elect_state *st,
				       uint64_t now);
/* The peer's latest heartbeat (valid unless the state is UNKNOWN). */
const struct elect_peer_info *elect_peer(const struct elect_state *st);
enum elect_owner elect_owner(const struct elect_state *st);
enum elect_acq elect_acq(const struct elect_state *st);
int elect_guarded(const struct elect_state *st);
unsigned elect_failures(const struct elect_state *st);
const char *elect_last_reason(const struct elect_state *st);
/*
 * The election's lines of the state dump, each ending in a newline: state,
 * since, term, guarded, reason, the one-line summary ("election: ...") and
 * the peer ("peer: ..."). Returns what snprintf would (the full length).
 */
int elect_describe(const struct elect_state *st, uint64_t now, char *buf,
		   size_t len);
/* The one-line summary alone: role, term, peer, owner, guard, failures. */
void elect_summary(const struct elect_state *st, uint64_t now, char *buf,
		   size_t len);

#endif
