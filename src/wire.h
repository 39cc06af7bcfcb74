/*
 * wire.h - the heartbeat packet: encoding, authenticated decoding and the
 * replay rules. Pure: no I/O, no clocks; time comes in as an argument.
 * The byte layout is documented in eipfloatd-protocol(7).
 */
#ifndef EIPFLOATD_WIRE_H
#define EIPFLOATD_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC "EIPF"
#define WIRE_VERSION 2
#define WIRE_PACKET_LEN 208 /* every version-2 packet has exactly this size */
#define WIRE_MAC_LEN 32
#define WIRE_NODE_MAX 64     /* node name field, NUL-padded, <= 63 chars */
#define WIRE_INSTANCE_MAX 32 /* instance id field, NUL-padded, <= 31 chars */
#define WIRE_CLUSTER_MAX 255 /* longest cluster name the MAC accepts */
#define WIRE_MAX_LINKS 4
#define WIRE_ECHO_SLOTS 16
#define WIRE_KEYS_MAX 4 /* keys one node verifies with (rotation) */

enum wire_type {
	WIRE_HEARTBEAT = 1,
	WIRE_LEAVE = 2, /* graceful stop: take over now */
};

/* The sender's election state, as it travels (values are the wire bytes). */
enum wire_state {
	WIRE_STATE_STARTING = 0,
	WIRE_STATE_STANDBY = 1,
	WIRE_STATE_ACTIVE = 2,
	WIRE_STATE_FAULT = 3,
};

/* Bits of the flags byte; the others are sent as zero and ignored. */
#define WIRE_FLAG_HOLDS 0x01 /* sender's last EC2 check: resources are mine */
#define WIRE_FLAG_NO_API 0x02 /* sender cannot reach EC2 / has no credentials */
#define WIRE_FLAG_MAINTENANCE                                                  \
	0x04			/* operator's flag: sender never takes over */
#define WIRE_FLAG_HANDOVER 0x08 /* ACTIVE sender: take over now (switchover)   \
				 */

struct wire_msg {
	enum wire_type type;
	uint8_t flags;
	enum wire_state state;
	uint8_t priority; /* effective priority */
	uint8_t eligible; /* 1 healthy and allowed to be ACTIVE, 0 not */
	uint8_t link;	  /* the link index the packet was sent on */
	char node[WIRE_NODE_MAX];
	uint64_t incarnation; /* random, new every start of the sender */
	uint64_t seq;	      /* per incarnation, all links, starts at 1 */
	uint64_t stamp_ms;    /* sender's wall clock: shown, never trusted */
	uint64_t term;	      /* election epoch */
	char instance_id[WIRE_INSTANCE_MAX]; /* "" when not known yet */
	uint64_t echo_incarnation; /* the receiver's, as last heard; 0 none */
	uint64_t echo_seq;	   /* last seq heard from it on this link */
	uint32_t echo_hold_ms;	   /* how long ago that one was heard */
	uint32_t key_id;	   /* which key signed it (wire_key_init) */
};

/*
 * One shared key. The id travels in every packet so a receiver that
 * knows several keys (a rotation) picks the right one, and can say which
 * key the peer signs with; it is a keyed hash of the key, so it reveals
 * nothing about the key but its identity.
 */
struct wire_key {
	const uint8_t *bytes;
	size_t len;
	uint32_t id;
};

/* Point k at the key's bytes (which must outlive it) and compute its id. */
int wire_key_init(struct wire_key *k, const uint8_t *bytes, size_t len);

/*
 * Every reason a packet is refused. The names are the counter names of the
 * state dump and of eipfloatd-protocol(7); keep them stable.
 */
enum wire_err {
	WIRE_OK = 0,
	WIRE_ERR_TRUNCATED,
	WIRE_ERR_OVERSIZED,
	WIRE_ERR_BAD_MAGIC,
	WIRE_ERR_BAD_VERSION,
	WIRE_ERR_BAD_TYPE,
	WIRE_ERR_OTHER_CLUSTER,
	WIRE_ERR_UNKNOWN_KEY, /* signed with a key id we do not hold */
	WIRE_ERR_BAD_MAC,
	WIRE_ERR_MALFORMED,
	WIRE_ERR_UNKNOWN_NODE,
	WIRE_ERR_OWN_NODE,
	WIRE_ERR_WRONG_LINK,
	WIRE_ERR_REPLAY,
	WIRE_ERR_OLD_INCARNATION,
	WIRE_ERR_WRONG_SOURCE, /* decided by link.c, counted alongside */
	WIRE_ERR_COUNT
};

const char *wire_err_name(enum wire_err err);
const char *wire_type_name(enum wire_type type);
const char *wire_state_name(enum wire_state state);

/*
 * Encode `m` for `cluster`, signed with `key` (its id replaces m->key_id),
 * into buf. Returns the packet length (WIRE_PACKET_LEN) or -1 when buf is
 * too small, a string does not fit its field, the cluster name is longer
 * than WIRE_CLUSTER_MAX, or a field is out of range (seq 0, node "",
 * state, eligible > 1, link).
 */
int wire_encode(const struct wire_msg *m, const char *cluster,
		const struct wire_key *key, uint8_t *buf, size_t buflen);

/*
 * Check and decode one datagram against the `nkeys` keys we hold. `out`
 * is written only on WIRE_OK. The checks run cheapest first: length,
 * magic, version, type, cluster hash, key id, then the MAC (constant-time)
 * with each key of that id, then the field values. On unknown-key,
 * *key_id (when not NULL) is the id the packet names.
 */
enum wire_err wire_decode(const uint8_t *buf, size_t len, const char *cluster,
			  const struct wire_key *keys, unsigned nkeys,
			  struct wire_msg *out, uint32_t *key_id);

/* The sender must be the peer: not us (a reflected packet), not a stranger. */
enum wire_err wire_check_sender(const struct wire_msg *m, const char *self,
				const char *peer);

/*
 * Replay, freshness and order state for one peer, shared by all links.
 * Zero-initialise at every start of ours. Freshness needs no clocks: the
 * sender echoes our incarnation and the last sequence it heard from us,
 * which no packet made before we sent that sequence can carry.
 *
 * - A peer incarnation we have not accepted yet must prove itself: it must
 *   echo our current incarnation, and a sequence of ours newer than any
 *   echo accepted so far (max_echo, from every incarnation of the peer).
 *   So a packet captured before we started, or one from an incarnation
 *   the peer has left, is never believed. Until the proof arrives its
 *   packets are authentic but unproven: only echoed back.
 * - Within an accepted incarnation the sender numbers its packets once per
 *   send, the same number on every link. A packet must be newer than the
 *   last one on its own link (else a replay); only one newer than every
 *   packet accepted on any link (max_seq) carries the peer's current state,
 *   so a late packet overtaken on another link refreshes its link's
 *   liveness and nothing else.
 */
struct wire_replay {
	int known;
	uint64_t incarnation;
	uint64_t max_echo; /* highest echo of our sequence accepted, any inc. */
	uint64_t max_seq;  /* highest seq accepted, any link */
	uint64_t seq[WIRE_MAX_LINKS];
};

/* How an authenticated packet ranks against those accepted before it. */
enum wire_order {
	WIRE_ORDER_NEWEST,    /* newer than all: the peer's current state */
	WIRE_ORDER_COPY,      /* the newest's copy on another link */
	WIRE_ORDER_OVERTAKEN, /* fresh on its link, older than another's */
	WIRE_ORDER_UNPROVEN,  /* a new incarnation without proof yet: ignore */
};

/*
 * Decide whether an authenticated message received on `link` is fresh, and
 * remember it when it is; *order says how it ranks (UNPROVEN: nothing was
 * remembered). `self_incarnation` is ours. Errors, in order: wrong-link,
 * then for a new incarnation old-incarnation (it echoes our incarnation,
 * but no sequence newer than max_echo), for the current one replay (seq not
 * newer on this link).
 */
enum wire_err wire_replay_check(struct wire_replay *r, unsigned link,
				const struct wire_msg *m,
				uint64_t self_incarnation,
				enum wire_order *order);

/*
 * Round-trip time from the echo fields: remember when each sequence was
 * sent, then RTT = now - sent(echo_seq) - echo_hold_ms. Zero-initialise.
 */
struct wire_echo {
	uint64_t seq[WIRE_ECHO_SLOTS];
	uint64_t sent_ms[WIRE_ECHO_SLOTS];
};

void wire_echo_sent(struct wire_echo *e, uint64_t seq, uint64_t now_ms);
/* 0 and *rtt_ms set, or -1 when echo_seq is 0 or no longer remembered. */
int wire_echo_rtt(const struct wire_echo *e, uint64_t echo_seq,
		  uint32_t hold_ms, uint64_t now_ms, uint32_t *rtt_ms);

#endif
