/*
 * link.h - the heartbeat links: one UDP socket per link, the periodic send,
 * receive and authentication through wire.c, per-link status and RTT.
 * Whether the peer is alive is the election's call (elect.h): the links only
 * report what each one heard and when.
 */
#ifndef EIPFLOATD_LINK_H
#define EIPFLOATD_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>

#include "config.h"
#include "log.h"
#include "wire.h"

#define LINK_ADDRSTR_MAX 80 /* "[v6addr%scope]:port" */
#define LINK_KEY_IDS_MAX (WIRE_KEYS_MAX * 10 + 1) /* link_key_ids() */

struct link_set;

/* What the owner (daemon.c) plugs in. Both are required. */
struct link_ops {
	void *arg;
	/*
	 * Fill the owner's fields of the next outgoing message: state,
	 * priority, eligible, term, flags, instance_id. type is preset; the
	 * link sets node, incarnation, seq, stamp, link and the echo fields.
	 */
	void (*fill)(void *arg, struct wire_msg *m);
	/*
	 * An accepted message: authenticated, from the peer, fresh, and newer
	 * than every one accepted before on any link (one overtaken on
	 * another link only keeps its own link alive).
	 */
	void (*on_msg)(void *arg, unsigned link, const struct wire_msg *m,
		       uint64_t now_ms);
};

/* One link, computed from its receive times (link_status()). */
enum link_status {
	LINK_UNKNOWN, /* nothing heard yet, timeout not yet passed */
	LINK_UP,      /* an accepted packet within timeout_ms */
	LINK_DOWN,
};

struct link {
	struct link_set *set;
	unsigned index;
	int fd;
	ev_io io;
	/* Fires timeout_ms after the last accepted packet: logs "down". */
	ev_timer dead;
	char local_str[LINK_ADDRSTR_MAX];
	char peer_str[LINK_ADDRSTR_MAX];
	enum link_status logged; /* the status last logged (edge detection) */
	unsigned long downs;	 /* times it was logged going down */

	struct wire_echo echo; /* when our recent sequences left */
	uint64_t rx_inc;       /* echoed back: the peer's incarnation, */
	uint64_t rx_seq;       /* and its last sequence heard on this link */
	uint64_t last_rx_ms;   /* monotonic; 0 = never */
	int have_rtt;
	uint32_t rtt_ms;

	unsigned long sent, send_errors, received, rejected;
	unsigned long overtaken; /* accepted, older than one on another link */
	unsigned long unproven;	 /* authentic, new incarnation, not yet echoing
				    us: echoed, not believed */
	unsigned long rejected_by[WIRE_ERR_COUNT];
	struct log_ratelimit rl_rx, rl_tx;
};

struct link_set {
	struct ev_loop *loop;
	const struct config *cfg;
	struct link_ops ops;
	uint64_t incarnation;
	uint64_t tx_seq; /* last sequence sent, this incarnation, all links */
	uint64_t opened_ms;
	struct wire_replay replay;
	struct wire_key keys[WIRE_KEYS_MAX]; /* [0] signs; point into cfg */
	unsigned nkeys;
	uint32_t peer_key_id; /* the key the peer signs with, once accepted */
	int have_peer_key;
	uint32_t unknown_key_id; /* the last key id we could not verify */
	int have_unknown_key;
	ev_timer send_timer;
	unsigned nlinks;
	struct link links[CONFIG_MAX_LINKS];
};

/* A random non-zero incarnation for this start; 0 or -1 (no randomness). */
int link_new_incarnation(uint64_t *out);

/*
 * Open one socket per configured link, bound to this node's address and
 * the link's port (IP_FREEBIND: the address need not exist yet), and start
 * sending every interval_ms. `cfg` must outlive the set (or be replaced
 * with link_set_config). On error returns -1 with a message in err and
 * leaves nothing open.
 */
int link_open(struct link_set *ls, struct ev_loop *loop,
	      const struct config *cfg, uint64_t incarnation,
	      const struct link_ops *ops, char *err, size_t errlen);
void link_close(struct link_set *ls);

/*
 * After a reload: new keys, interval, timeout. Addresses, ports,
 * names and the cluster must be unchanged (config_reload_check).
 */
void link_set_config(struct link_set *ls, const struct config *cfg);

/* Send a heartbeat on every link now (state changed) and restart the timer. */
void link_send_now(struct link_set *ls);
/* Send one LEAVE on every link now (graceful stop; call it a few times). */
void link_send_leave(struct link_set *ls);

/* Link i at now_ms, from its last accepted packet and timeout_ms. */
enum link_status link_status(const struct link_set *ls, unsigned i,
			     uint64_t now_ms);
const char *link_status_name(enum link_status st);
/* An accepted packet on link i within timeout_ms before now_ms. */
int link_alive(const struct link_set *ls, unsigned i, uint64_t now_ms);

/*
 * Key ids as "%08x": ours (the signing key), every key we verify with
 * ("0a1b2c3d, 4e5f6a7b"), the peer's (0 when none accepted yet) and the
 * last one a packet named that we do not hold (0 when none).
 */
uint32_t link_own_key_id(const struct link_set *ls);
void link_key_ids(const struct link_set *ls, char *buf, size_t len);
int link_peer_key_id(const struct link_set *ls, uint32_t *id);
int link_unknown_key_id(const struct link_set *ls, uint32_t *id);

/* One line about link i for the state dump (no trailing newline). */
void link_describe(const struct link_set *ls, unsigned i, uint64_t now_ms,
		   char *buf, size_t len);
/* One line per link, each ending in a newline. */
void link_dump(const struct link_set *ls, FILE *f);

#endif
