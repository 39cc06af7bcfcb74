/*
 * assoc.h - "the write is the commit": what one DescribeAddresses read of
 * an Elastic IP means, given the AssociateAddress this node made. Pure: the
 * caller passes each read and the time.
 *
 * EC2's reads are eventually consistent with no published bound: right
 * after a successful AssociateAddress a read may still show the old
 * association, or none. Every successful AssociateAddress creates a new
 * association id, so:
 *   - a read showing an association id seen before our write can never be
 *     the state after it: stale, always;
 *   - until a read shows our own association (or ASSOC_SETTLE_MS after the
 *     write), any other answer, "none" included, is stale too;
 *   - after that, an association this node did not create is believed
 *     only when two consecutive reads show it (then it is acted on).
 * Stale and first-sighting answers are read again (with backoff, by the
 * caller) and never reported to the election.
 */
#ifndef EIPFLOATD_ASSOC_H
#define EIPFLOATD_ASSOC_H

#include <stddef.h>
#include <stdint.h>

#define ASSOC_ID_MAX 64
#define ASSOC_KNOWN 8 /* foreign association ids remembered */
/* How long after our write unexplained answers still count as stale. */
#define ASSOC_SETTLE_MS 60000u

enum assoc_verdict {
	ASSOC_CURRENT, /* the read stands: report it */
	ASSOC_STALE,   /* it predates our write: read again */
	ASSOC_CONFIRM, /* someone else's association, seen once: read again */
};

const char *assoc_verdict_name(enum assoc_verdict v);

struct assoc_known {
	char id[ASSOC_ID_MAX];
	unsigned gen; /* writes made when it was first seen */
};

struct assoc_state {
	char mine[ASSOC_ID_MAX]; /* ours: written by us, or read on this node */
	int written;		 /* mine came from our AssociateAddress */
	uint64_t written_at;	 /* monotonic ms of that answer */
	int settled;		 /* a read showed mine, or the window passed */
	unsigned gen;		 /* our successful writes so far */
	struct assoc_known known[ASSOC_KNOWN]; /* ids seen on others */
	unsigned nknown, next;
	int suspect_set; /* the last read showed this foreign association */
	char suspect[ASSOC_ID_MAX];
	unsigned long stale, confirms; /* reads judged so, for the dump */
};

void assoc_init(struct assoc_state *s);
/* Our AssociateAddress answered 200 with this association id at `now`. */
void assoc_written(struct assoc_state *s, const char *id, uint64_t now);
/*
 * Judge one read: the association id it shows ("" for none) and whether it
 * places the address on this node's instance or interface.
 */
enum assoc_verdict assoc_judge(struct assoc_state *s, const char *id,
			       int on_self, uint64_t now);
/* Whether id is one seen on someone else before our latest write. */
int assoc_predates(const struct assoc_state *s, const char *id);
/*
 * Reading again after a stale or first-sighting answer (every driver that
 * judges its reads so): 1 s, 2 s, 4 s, then every 8 s; a question still
 * open after 60 s gets no more reads (the caller answers "unknown", and
 * the next monitor check asks again). Pure accounting: the caller owns
 * the timer.
 */
struct assoc_reread {
	unsigned n;    /* reads again within the current question */
	uint64_t from; /* the first such read (monotonic ms) */
};
/* 0 and the wait before the next read, or -1 when the question has been
 * open too long (then it is reset). */
int assoc_reread_next(struct assoc_reread *r, uint64_t now, uint64_t *wait);
static inline void assoc_reread_reset(struct assoc_reread *r) { r->n = 0; }

/* ", association eipassoc-1 (ours, written 3 s ago, settled), 2 stale reads" */
void assoc_describe(const struct assoc_state *s, uint64_t now, char *buf,
		    size_t len);

#endif
