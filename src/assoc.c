/*
 * assoc.c - the staleness rule of assoc.h: our AssociateAddress answer is
 * the commit, and a read that predates it is never acted upon.
 */
#include "assoc.h"
#include "backoff.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

const char *
assoc_verdict_name(enum assoc_verdict v)
{
	switch (v) {
	case ASSOC_CURRENT:
		return "current";
	case ASSOC_STALE:
		return "stale";
	case ASSOC_CONFIRM:
		return "to confirm";
	}
	return "?";
}

void
assoc_init(struct assoc_state *s)
{
	memset(s, 0, sizeof(*s));
}

static struct assoc_known *
find(const struct assoc_state *s, const char *id)
{
	for (unsigned i = 0; i < s->nknown; i++)
		if (strcmp(s->known[i].id, id) == 0)
			return (struct assoc_known *)&s->known[i];
	return NULL;
}

/* Remember an association seen on someone else (first sighting counts). */
static void
remember(struct assoc_state *s, const char *id)
{
	struct assoc_known *k;

	if (id[0] == '\0' || find(s, id) != NULL)
		return;
	k = &s->known[s->next];
	s->next = (s->next + 1) % ASSOC_KNOWN;
	if (s->nknown < ASSOC_KNOWN)
		s->nknown++;
	util_strlcpy(k->id, id, sizeof(k->id));
	k->gen = s->gen;
}

int
assoc_predates(const struct assoc_state *s, const char *id)
{
	const struct assoc_known *k;

	if (id[0] == '\0')
		return 0;
	k = find(s, id);
	return k != NULL && k->gen < s->gen;
}

void
assoc_written(struct assoc_state *s, const char *id, uint64_t now)
{
	/* What was ours before is now as old as any other association. */
	remember(s, s->mine);
	s->gen++;
	util_strlcpy(s->mine, id, sizeof(s->mine));
	s->written = 1;
	s->written_at = now;
	s->settled = 0;
	s->suspect_set = 0;
}

/* Two consecutive reads showed it: the address is someone else's now. */
static void
let_go(struct assoc_state *s, const char *id)
{
	remember(s, s->mine);
	remember(s, id);
	s->mine[0] = '\0';
	s->written = 0;
	s->settled = 0;
	s->suspect_set = 0;
}

enum assoc_verdict
assoc_judge(struct assoc_state *s, const char *id, int on_self, uint64_t now)
{
	if (on_self) {
		if (id[0] != '\0')
			util_strlcpy(s->mine, id, sizeof(s->mine));
		s->settled = 1;
		s->suspect_set = 0;
		return ASSOC_CURRENT;
	}
	if (s->mine[0] == '\0') {
		/* We hold nothing: nothing to be stale against. */
		remember(s, id);
		return ASSOC_CURRENT;
	}
	if (assoc_predates(s, id)) {
		s->stale++;
		s->suspect_set = 0;
		return ASSOC_STALE;
	}
	if (s->written && !s->settled) {
		if (now - s->written_at < ASSOC_SETTLE_MS) {
			s->stale++;
			s->suspect_set = 0;
			return ASSOC_STALE;
		}
		s->settled = 1;
	}
	if (s->suspect_set && strcmp(s->suspect, id) == 0) {
		let_go(s, id);
		return ASSOC_CURRENT;
	}
	s->suspect_set = 1;
	util_strlcpy(s->suspect, id, sizeof(s->suspect));
	s->confirms++;
	return ASSOC_CONFIRM;
}

void
assoc_describe(const struct assoc_state *s, uint64_t now, char *buf,
	       size_t len)
{
	char stale[64] = "";

	if (s->stale != 0)
		snprintf(stale, sizeof(stale), ", %lu stale read%s", s->stale,
			 s->stale == 1 ? "" : "s");
	if (s->mine[0] == '\0')
		snprintf(buf, len, "%s", stale);
	else if (s->written)
		snprintf(buf, len, ", association %s (ours, written %llu ms "
			 "ago, %s)%s", s->mine,
			 (unsigned long long)(now - s->written_at),
			 s->settled ? "settled" : "not read back yet", stale);
	else
		snprintf(buf, len, ", association %s (read on this node)%s",
			 s->mine, stale);
}

static const struct backoff_policy reread_policy = {
	.base_ms = 1000,
	.cap_ms = 8000,
	.deadline_ms = 60000,
	.jitter = BACKOFF_JITTER_NONE,
};

int
assoc_reread_next(struct assoc_reread *r, uint64_t now, uint64_t *wait)
{
	if (r->n == 0)
		r->from = now;
	*wait = backoff_delay_ms(&reread_policy, r->n + 1, 0);
	if (!backoff_may_retry(&reread_policy, r->n + 1, now - r->from,
			       *wait)) {
		r->n = 0;
		return -1;
	}
	r->n++;
	return 0;
}
