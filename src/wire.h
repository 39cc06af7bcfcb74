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
#define WIRE_VERSION 1
#define WIRE_PACKET_LEN 192 /* every version-1 packet has exactly this size */
#define WIRE_MAC_LEN 32
#define WIRE_NODE_MAX 64     /* node name field, NUL-padded, <= 63 chars */
#define WIRE_INSTANCE_MAX 32 /* instance id field, NUL-padded, <= 31 chars */
#define WIRE_CLUSTER_MAX 255 /* longest cluster name the MAC accepts */
#define WIRE_MAX_LINKS 4
#define WIRE_ECHO_SLOTS 16

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
	uint64_t stamp_ms;    /* sender's wall clock, ms since the epoch */
	uint64_t term;	      /* election epoch */
	char instance_id[WIRE_INSTANCE_MAX]; /* "" when not known yet */
	uint64_t echo_seq;     /* last seq received from the peer, 0 none */
	uint32_t echo_hold_ms; /* how long ago that one was received */
};

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
	WIRE_ERR_BAD_MAC,
	WIRE_ERR_MALFORMED,
	WIRE_ERR_UNKNOWN_NODE,
	WIRE_ERR_OWN_NODE,
	WIRE_ERR_WRONG_LINK,
	WIRE_ERR_STALE,
	WIRE_ERR_REPLAY,
	WIRE_ERR_OLD_INCARNATION,
	WIRE_ERR_WRONG_SOURCE, /* decided by link.c, counted alongside */
	WIRE_ERR_COUNT
};

const char *wire_err_name(enum wire_err err);
const char *wire_type_name(enum wire_type type);
const char *wire_state_name(enum wire_state state);

/*
 * Encode `m` for `cluster` with the shared key into buf. Returns the packet
 * length (WIRE_PACKET_LEN) or -1 when buf is too small, a string does not
 * fit its field, the cluster name is longer than WIRE_CLUSTER_MAX, or a
 * field is out of range (seq 0, node "", state, eligible > 1, link).
 */
int wire_encode(const struct wire_msg *m, const char *cluster,
		const uint8_t *key, size_t keylen, uint8_t *buf, size_t buflen);

/*
 * Check and decode one datagram. `out` is written only on WIRE_OK. The
 * checks run cheapest first: length, magic, version, type, cluster hash,
 * then the MAC (constant-time), then the field values.
 */
enum wire_err wire_decode(const uint8_t *buf, size_t len, const char *cluster,
			  const uint8_t *key, size_t keylen,
			  struct wire_msg *out);

/* The sender must be the peer: not us (a reflected packet), not a stranger. */
enum wire_err wire_check_sender(const struct wire_msg *m, const char *self,
				const char *peer);

/*
 * Replay and order state for one peer, shared by all links.
 * Zero-initialise. The sender numbers its packets once per incarnation, the
 * same number on every link for one send. A packet must be newer than the
 * last one on its own link (else it is a replay); only one newer than every
 * packet accepted on any link (max_seq) carries the peer's current state,
 * so a late packet overtaken on another link refreshes its link's liveness
 * and nothing else.
 */
struct wire_replay {
	int known;
	uint64_t incarnation;
	uint64_t max_stamp_ms; /* highest stamp accepted, any incarnation */
	uint64_t max_seq;      /* highest seq accepted, any link */
	uint64_t seq[WIRE_MAX_LINKS];
};

/* How an accepted packet ranks against those accepted before it. */
enum wire_order {
	WIRE_ORDER_NEWEST,    /* newer than all: the peer's current state */
	WIRE_ORDER_COPY,      /* the newest's copy on another link */
	WIRE_ORDER_OVERTAKEN, /* fresh on its link, older than another's */
};

/*
 * Decide whether an authenticated message received on `link` is fresh, and
 * remember it when it is (then *order says whether it is the newest).
 * Order: wrong-link, stale (stamp more than window_ms away from
 * now_wall_ms, either direction), then for a new incarnation
 * old-incarnation (stamp not newer than every stamp accepted so far), for
 * the current one replay (seq not newer on this link).
 */
enum wire_err wire_replay_check(struct wire_replay *r, unsigned link,
				const struct wire_msg *m, uint64_t now_wall_ms,
				uint64_t window_ms, enum wire_order *order);

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
