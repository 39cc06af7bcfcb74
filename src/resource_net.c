/*
 * resource_net.c - the shared part of the secondary_ip and route drivers
 * (resource_net.h).
 */
#include "resource_net.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the interfaces ---- */

const struct ec2_eni *
rnet_pick(const struct ec2_result *res, const char *instance, const char *eni)
{
	const struct ec2_eni *best = NULL;

	for (size_t i = 0; i < res->nenis; i++) {
		const struct ec2_eni *e = &res->enis[i];

		if (eni[0] != '\0') {
			if (strcmp(e->id, eni) == 0)
				return e;
			continue;
		}
		if (strcmp(e->instance_id, instance) == 0 &&
		    (best == NULL || e->device_index < best->device_index))
			best = e;
	}
	return best;
}

static void
on_enis(void *arg, const struct ec2_result *res)
{
	const struct rnet_resolving *r = arg;
	struct resource_item *it = r->it;
	rnet_enis_cb cb = r->cb;
	const struct resource_ids *ids = it->ids;
	struct rnet_enis e;
	const struct ec2_eni *self, *peer;
	char why[700];

	if (res->rc != 0) {
		snprintf(why, sizeof(why), "DescribeNetworkInterfaces: %s: %s",
			 res->code, res->message);
		cb(it, NULL, why);
		return;
	}
	memset(&e, 0, sizeof(e));
	self = rnet_pick(res, ids->self_instance,
			 ids->self_eni[0] ? ids->self_eni : ids->primary_eni);
	if (self == NULL && ids->self_eni[0] == '\0') /* IMDS's not listed */
		self = rnet_pick(res, ids->self_instance, "");
	if (self == NULL) {
		snprintf(why, sizeof(why),
			 "DescribeNetworkInterfaces shows no interface %s%s",
			 ids->self_eni[0] ? ids->self_eni : "attached to ",
			 ids->self_eni[0] ? "" : ids->self_instance);
		cb(it, NULL, why);
		return;
	}
	e.known = 1;
	util_strlcpy(e.eni, self->id, sizeof(e.eni));
	util_strlcpy(e.subnet, self->subnet_id, sizeof(e.subnet));
	util_strlcpy(e.az, self->az, sizeof(e.az));
	util_strlcpy(e.primary_ip, self->primary_ip, sizeof(e.primary_ip));
	util_strlcpy(e.mac, self->mac, sizeof(e.mac));
	peer = ids->peer_instance[0] || ids->peer_eni[0]
		   ? rnet_pick(res, ids->peer_instance, ids->peer_eni)
		   : NULL;
	if (peer != NULL) {
		util_strlcpy(e.peer_eni, peer->id, sizeof(e.peer_eni));
		util_strlcpy(e.peer_subnet, peer->subnet_id,
			     sizeof(e.peer_subnet));
		util_strlcpy(e.peer_az, peer->az, sizeof(e.peer_az));
	}
	cb(it, &e, NULL);
}

struct ec2_call *
rnet_resolve(struct resource_item *it, struct rnet_resolving *r,
	     rnet_enis_cb cb)
{
	const struct resource_ids *ids = it->ids;
	const char *inst[2] = {ids->self_instance, ids->peer_instance};

	r->it = it;
	r->cb = cb;
	return ec2_describe_network_interfaces(it->ec2, inst, 2, NULL, on_enis,
					       r);
}

enum resource_owner
rnet_classify(const struct resource_item *it, const struct rnet_enis *e,
	      const char *instance_id, const char *eni)
{
	const struct resource_ids *ids = it->ids;

	if ((ids->self_instance[0] &&
	     strcmp(instance_id, ids->self_instance) == 0) ||
	    (e->eni[0] && strcmp(eni, e->eni) == 0))
		return RES_OWNER_SELF;
	if ((ids->peer_instance[0] &&
	     strcmp(instance_id, ids->peer_instance) == 0) ||
	    (e->peer_eni[0] && strcmp(eni, e->peer_eni) == 0))
		return RES_OWNER_PEER;
	if (instance_id[0] == '\0' && eni[0] == '\0')
		return RES_OWNER_NONE;
	return RES_OWNER_OTHER;
}

/* ---- the staleness rule ---- */

void
rnet_claim_init(struct rnet_claim *c, struct resource_item *it,
		void (*reread)(void *arg))
{
	assoc_init(&c->st);
	c->rr.n = 0;
	loop_defer_init(&c->again, it->loop, reread, it);
}

void
rnet_claim_written(struct rnet_claim *c, const char *eni)
{
	assoc_written(&c->st, eni, util_now_ms());
}

int
rnet_claim_judge(struct rnet_claim *c, struct resource_item *it,
		 enum resource_owner owner, const char *shown, char *why,
		 size_t len)
{
	/*
	 * Without association ids a read cannot be dated: an owner seen
	 * before our write and seen again after it look the same. So a
	 * foreign answer's id carries our write count, and only the settle
	 * window and the two-reads rule of assoc.h apply.
	 */
	char id[ASSOC_ID_MAX + 16];
	uint64_t now = util_now_ms(), wait, from;
	enum assoc_verdict v;

	snprintf(id, sizeof(id), "%.*s@%u", ASSOC_ID_MAX - 12, shown,
		 c->st.gen);
	v = assoc_judge(&c->st, owner == RES_OWNER_SELF ? "" : id,
			owner == RES_OWNER_SELF, now);
	if (v == ASSOC_CURRENT) {
		assoc_reread_reset(&c->rr);
		return 1;
	}
	from = c->rr.n ? c->rr.from : now;
	if (assoc_reread_next(&c->rr, now, &wait) == -1) {
		snprintf(why, len,
			 "%s: reads for %llu s still show %s, not our write",
			 it->name, (unsigned long long)((now - from) / 1000),
			 shown);
		return -1;
	}
	log_msg(c->rr.n == 1 ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
		"resource %s: the read shows %s: %s; reading again in %llu ms",
		it->name, shown,
		v == ASSOC_STALE ? "stale (it predates our write)"
				 : "not ours, believed only if the next read "
				   "shows it too",
		(unsigned long long)wait);
	loop_defer_after(&c->again, wait);
	return 0;
}

void
rnet_claim_cancel(struct rnet_claim *c)
{
	loop_defer_cancel(&c->again);
	assoc_reread_reset(&c->rr);
}

void
rnet_claim_describe(const struct rnet_claim *c, char *buf, size_t len)
{
	const struct assoc_state *s = &c->st;
	char stale[64] = "";

	if (s->stale != 0)
		snprintf(stale, sizeof(stale), ", %lu stale read%s", s->stale,
			 s->stale == 1 ? "" : "s");
	if (s->written && s->mine[0] != '\0')
		snprintf(buf, len, ", written %llu ms ago (%s)%s%s",
			 (unsigned long long)(util_now_ms() - s->written_at),
			 s->settled ? "settled" : "not read back yet", stale,
			 loop_defer_pending(&c->again) ? ", reading again"
						       : "");
	else
		snprintf(buf, len, "%s%s", stale,
			 loop_defer_pending(&c->again) ? ", reading again"
						       : "");
}

/* ---- the host side ---- */

int
rnet_host_add(struct rnet_host *h, const struct resource_item *it,
	      const struct rnet_enis *e, char *why, size_t len)
{
	struct hostaddr_where w;
	struct in_addr primary;
	char err[300], ip[INET_ADDRSTRLEN];
	unsigned plen;
	int rc;

	inet_ntop(AF_INET, &h->addr, ip, sizeof(ip));
	if (!e->known || inet_pton(AF_INET, e->primary_ip, &primary) != 1) {
		snprintf(why, len, "%s: this node's interface is not known yet",
			 it->name);
		return -1;
	}
	rc = hostaddr_find(primary, &w, err, sizeof(err));
	if (rc == -1) {
		snprintf(why, len, "%s: %s", it->name, err);
		return -1;
	}
	if (rc == 0) {
		snprintf(why, len,
			 "%s: no interface on this host holds %s, the primary "
			 "address of %s",
			 it->name, e->primary_ip, e->eni);
		return -1;
	}
	plen = h->prefixlen ? h->prefixlen : w.prefixlen;
	if (hostaddr_add(w.ifindex, h->addr, plen, err, sizeof(err)) == -1) {
		snprintf(why, len, "%s: %s on %s: %s", it->name, ip, w.ifname,
			 err);
		return -1;
	}
	if (!h->on)
		log_notice("resource %s: %s/%u added to %s", it->name, ip, plen,
			   w.ifname);
	h->on = 1;
	util_strlcpy(h->ifname, w.ifname, sizeof(h->ifname));
	if (h->garp &&
	    hostaddr_garp(w.ifindex, h->addr, err, sizeof(err)) == -1)
		log_warn("resource %s: %s (the address is up; neighbours "
			 "learn it on their next ARP)",
			 it->name, err);
	return 0;
}

void
rnet_host_up(struct rnet_host *h, const struct resource_item *it,
	     const struct rnet_enis *e)
{
	char why[600];

	if (rnet_host_add(h, it, e, why, sizeof(why)) == -1)
		log_err("%s", why);
}

void
rnet_host_check(struct rnet_host *h, const struct resource_item *it,
		const struct rnet_enis *e)
{
	struct hostaddr_where w;
	char err[300];
	int rc = hostaddr_find(h->addr, &w, err, sizeof(err));

	if (rc != 0)
		return; /* there, or the kernel could not say: nothing to do */
	log_warn("resource %s: the address is gone from this host (removed "
		 "by hand?); adding it again",
		 it->name);
	h->on = 0;
	rnet_host_up(h, it, e);
}

void
rnet_host_remove(struct rnet_host *h, const struct resource_item *it)
{
	char err[300], ip[INET_ADDRSTRLEN];
	int n = hostaddr_remove(h->addr, err, sizeof(err));

	inet_ntop(AF_INET, &h->addr, ip, sizeof(ip));
	if (n < 0)
		log_err("resource %s: cannot remove %s from this host: %s",
			it->name, ip, err);
	else if (n > 0)
		log_notice("resource %s: %s removed from this host", it->name,
			   ip);
	if (n >= 0) {
		h->on = 0;
		h->ifname[0] = '\0';
	}
}

void
rnet_host_describe(const struct rnet_host *h, char *buf, size_t len)
{
	if (h->on)
		snprintf(buf, len, ", on the host (%s)", h->ifname);
	else
		snprintf(buf, len, ", not on the host");
}
