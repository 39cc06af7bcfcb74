/*
 * link.c - the heartbeat links: sockets, the send timer, receive with
 * source, MAC, sender and replay checks, per-link status, RTT and counters.
 */
#include "link.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

_Static_assert(CONFIG_MAX_LINKS <= WIRE_MAX_LINKS, "links fit the wire");
_Static_assert(CONFIG_NAME_MAX <= WIRE_NODE_MAX, "node names fit the wire");

#define RX_BUF 512  /* larger than any packet we accept */
#define RX_BATCH 32 /* datagrams read per wake-up, then yield */
/* Per link and direction: at most LOG_BURST drop lines per LOG_RATE_MS. */
#define LOG_RATE_MS 10000
#define LOG_BURST 3

static void
format_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		(void)snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		(void)snprintf(buf, len, "[%s]:%u", host,
			       ntohs(sin6->sin6_port));
	} else {
		(void)snprintf(buf, len, "(family %d)", ss->ss_family);
	}
}

/*
 * Address and port must both match: each node sends from the socket bound
 * to its configured address and link port, and heartbeat links are routed
 * without NAT (VPC private addresses), so anything else is not the peer.
 */
static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr,
			      sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}

static const char *
peer_name(const struct link_set *ls)
{
	return ls->cfg->nodes[ls->cfg->peer].name;
}

/* The keys point into cfg, so they follow it on a reload. */
static int
load_keys(struct link_set *ls, const struct config *cfg)
{
	unsigned i;

	ls->nkeys = 0;
	for (i = 0; i < cfg->nauthkeys && i < WIRE_KEYS_MAX; i++) {
		if (wire_key_init(&ls->keys[i], cfg->authkey[i],
				  cfg->authkey_len[i]) == -1)
			return -1;
		ls->nkeys = i + 1;
	}
	return ls->nkeys > 0 ? 0 : -1;
}

int
link_new_incarnation(uint64_t *out)
{
	uint8_t b[8];
	uint64_t v = 0;
	unsigned i;

	do {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return -1;
		for (i = 0; i < sizeof(b); i++)
			v = v << 8 | b[i];
	} while (v == 0);
	*out = v;
	return 0;
}

/*
 * Log a link's change of status once. The status itself is always computed
 * from the receive times (link_status()); this only remembers what was said.
 */
static void
report(struct link *l, uint64_t now)
{
	struct link_set *ls = l->set;
	enum link_status old = l->logged;
	enum link_status st = link_status(ls, l->index, now);

	l->logged = st;
	if (old == st)
		return;
	if (st == LINK_DOWN)
		l->downs++;
	if (st == LINK_UP) {
		log_notice("link %u (%s) to %s up", l->index, l->peer_str,
			   peer_name(ls));
	} else if (st == LINK_DOWN && old == LINK_UP) {
		log_notice("link %u (%s) to %s down: silent for %llu ms",
			   l->index, l->peer_str, peer_name(ls),
			   (unsigned long long)(now - l->last_rx_ms));
	} else if (st == LINK_DOWN) {
		log_notice("link %u (%s) to %s down: nothing heard in %llu ms "
			   "since start",
			   l->index, l->peer_str, peer_name(ls),
			   (unsigned long long)(now - ls->opened_ms));
	}
}

static void
arm_dead(struct link *l, uint64_t after_ms)
{
	ev_timer_stop(l->set->loop, &l->dead);
	ev_timer_set(&l->dead, (double)after_ms / 1000.0, 0.0);
	ev_timer_start(l->set->loop, &l->dead);
}

/*
 * The libev clock and util_now_ms() differ by the time spent in the
 * callback, so re-check the silence and re-arm for what is left.
 */
static void
dead_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct link *l = w->data;
	uint64_t now = util_now_ms(), since, timeout;

	(void)loop;
	(void)revents;
	timeout = l->set->cfg->timeout_ms;
	since = l->last_rx_ms ? l->last_rx_ms : l->set->opened_ms;
	if (now - since < timeout) {
		arm_dead(l, timeout - (now - since));
		return;
	}
	report(l, now);
}

/* For unknown-key: which key the packet names, which ones we hold. */
static void
key_hint(const struct link_set *ls, enum wire_err why, uint32_t id, char *buf,
	 size_t len)
{
	char ours[LINK_KEY_IDS_MAX];

	buf[0] = '\0';
	if (why != WIRE_ERR_UNKNOWN_KEY)
		return;
	link_key_ids(ls, ours, sizeof(ours));
	snprintf(buf, len,
		 ": signed with key %08x, this node verifies with %s (the "
		 "two nodes' cluster.authkey differ)",
		 (unsigned)id, ours);
}

static void
reject(struct link *l, enum wire_err why, uint32_t key_id,
       const struct sockaddr_storage *from)
{
	char src[LINK_ADDRSTR_MAX], hint[160];
	struct log_fields f = {.message_id = LOG_ID_REJECTED,
			       .reason = wire_err_name(why)};

	l->rejected++;
	l->rejected_by[why]++;
	format_addr(from, src, sizeof(src));
	key_hint(l->set, why, key_id, hint, sizeof(hint));
	log_fields_limited(&l->rl_rx, LOG_LEVEL_WARNING, &f,
			   "link %u (%s): dropped packet from %s: %s%s",
			   l->index, l->local_str, src, wire_err_name(why),
			   hint);
}

/* A new peer incarnation: its echoes refer to nothing we remember. */
static void
peer_restarted(struct link_set *ls)
{
	unsigned i;

	for (i = 0; i < ls->nlinks; i++) {
		ls->links[i].rx_inc = 0;
		ls->links[i].rx_seq = 0;
	}
}

static void
accept_msg(struct link *l, const struct wire_msg *m, enum wire_order order,
	   uint64_t now)
{
	struct link_set *ls = l->set;
	uint32_t rtt;

	l->rx_inc = m->incarnation;
	l->rx_seq = m->seq;
	if (order == WIRE_ORDER_UNPROVEN) {
		/* Echoed back, so its next packets can prove themselves. */
		l->unproven++;
		return;
	}
	l->received++;
	l->last_rx_ms = now;
	ls->peer_key_id = m->key_id;
	ls->have_peer_key = 1;
	if (m->echo_incarnation == ls->incarnation &&
	    wire_echo_rtt(&l->echo, m->echo_seq, m->echo_hold_ms, now, &rtt) ==
		0) {
		l->rtt_ms = rtt;
		l->have_rtt = 1;
	}
	arm_dead(l, ls->cfg->timeout_ms);
	report(l, now);
	switch (order) {
	case WIRE_ORDER_NEWEST:
		ls->ops.on_msg(ls->ops.arg, l->index, m, now);
		break;
	case WIRE_ORDER_COPY:
		break;
	case WIRE_ORDER_OVERTAKEN:
		l->overtaken++;
		break;
	case WIRE_ORDER_UNPROVEN:
		break;
	}
}

static void
handle_packet(struct link *l, const uint8_t *buf, size_t n,
	      const struct sockaddr_storage *from)
{
	struct link_set *ls = l->set;
	const struct config *cfg = ls->cfg;
	uint64_t old_inc = ls->replay.incarnation;
	int was_known = ls->replay.known;
	enum wire_order order = WIRE_ORDER_NEWEST;
	uint32_t key_id = 0;
	struct wire_msg m;
	enum wire_err err;

	if (!same_addr(from, &cfg->nodes[cfg->peer].addr[l->index])) {
		reject(l, WIRE_ERR_WRONG_SOURCE, 0, from);
		return;
	}
	if (n > RX_BUF) {
		reject(l, WIRE_ERR_OVERSIZED, 0, from);
		return;
	}
	err = wire_decode(buf, n, cfg->cluster_name, ls->keys, ls->nkeys, &m,
			  &key_id);
	if (err == WIRE_ERR_UNKNOWN_KEY) {
		ls->unknown_key_id = key_id;
		ls->have_unknown_key = 1;
	}
	if (err == WIRE_OK)
		err = wire_check_sender(&m, cfg->nodes[cfg->self].name,
					cfg->nodes[cfg->peer].name);
	if (err == WIRE_OK)
		err = wire_replay_check(&ls->replay, l->index, &m,
					ls->incarnation, &order);
	if (err != WIRE_OK) {
		reject(l, err, key_id, from);
		return;
	}
	if (order != WIRE_ORDER_UNPROVEN && was_known &&
	    old_inc != m.incarnation)
		peer_restarted(ls);
	accept_msg(l, &m, order, util_now_ms());
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct link *l = w->data;
	struct sockaddr_storage from;
	uint8_t buf[RX_BUF];
	socklen_t fromlen;
	ssize_t n;
	int i;

	(void)loop;
	(void)revents;
	for (i = 0; i < RX_BATCH; i++) {
		fromlen = sizeof(from);
		memset(&from, 0, sizeof(from));
		/* MSG_TRUNC: the real length, so oversized is seen as such. */
		n = recvfrom(l->fd, buf, sizeof(buf), MSG_TRUNC,
			     (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_limited(&l->rl_rx, LOG_LEVEL_WARNING,
					    "link %u (%s): receive: %s",
					    l->index, l->local_str,
					    strerror(errno));
			return;
		}
		handle_packet(l, buf, (size_t)n, &from);
		if (l->fd == -1) /* the owner closed the links meanwhile */
			return;
	}
}

static void
send_one(struct link *l, const struct wire_msg *tmpl, uint64_t seq,
	 uint64_t now, uint64_t wall)
{
	struct link_set *ls = l->set;
	const struct config *cfg = ls->cfg;
	const struct config_node *peer = &cfg->nodes[cfg->peer];
	uint8_t buf[WIRE_PACKET_LEN];
	struct wire_msg m = *tmpl;
	int len;

	util_strlcpy(m.node, cfg->nodes[cfg->self].name, sizeof(m.node));
	m.incarnation = ls->incarnation;
	m.seq = seq;
	m.stamp_ms = wall;
	m.link = (uint8_t)l->index;
	m.echo_incarnation = l->rx_inc;
	m.echo_seq = l->rx_seq;
	m.echo_hold_ms = 0;
	if (l->rx_seq != 0)
		m.echo_hold_ms = now - l->last_rx_ms > UINT32_MAX
				     ? UINT32_MAX
				     : (uint32_t)(now - l->last_rx_ms);
	len = wire_encode(&m, cfg->cluster_name, &ls->keys[0], buf,
			  sizeof(buf));
	if (len < 0) {
		l->send_errors++;
		log_limited(&l->rl_tx, LOG_LEVEL_ERR,
			    "link %u: cannot encode %s (instance id \"%s\" "
			    "too long?)",
			    l->index, wire_type_name(m.type), m.instance_id);
		return;
	}
	wire_echo_sent(&l->echo, m.seq, now);
	if (sendto(l->fd, buf, (size_t)len, 0,
		   (const struct sockaddr *)&peer->addr[l->index],
		   peer->addrlen[l->index]) == -1) {
		l->send_errors++;
		log_limited(&l->rl_tx, LOG_LEVEL_WARNING,
			    "link %u (%s): send to %s: %s", l->index,
			    l->local_str, l->peer_str, strerror(errno));
		return;
	}
	l->sent++;
}

static void
send_all(struct link_set *ls, enum wire_type type)
{
	uint64_t now = util_now_ms(), wall = util_wall_ms();
	struct wire_msg tmpl;
	unsigned i;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.type = type;
	ls->ops.fill(ls->ops.arg, &tmpl);
	tmpl.type = type;
	/* One number for the copies: the peer orders them across links. */
	ls->tx_seq++;
	for (i = 0; i < ls->nlinks; i++)
		send_one(&ls->links[i], &tmpl, ls->tx_seq, now, wall);
}

static void
send_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	send_all(w->data, WIRE_HEARTBEAT);
}

/*
 * Freebind: a secondary address still being attached must not stop the
 * daemon; sends fail (and are counted) until it is there. V6ONLY keeps an
 * IPv6 link from also taking IPv4 traffic on the same port.
 */
static int
set_options(int fd, int family)
{
	int one = 1;

	if (family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one,
				  sizeof(one));
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		return -1;
	return setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
}

static int
open_socket(struct link *l, const struct sockaddr_storage *addr,
	    socklen_t addrlen, char *err, size_t errlen)
{
	int fd;

	fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd == -1) {
		(void)snprintf(err, errlen, "link %u: socket: %s", l->index,
			       strerror(errno));
		return -1;
	}
	if (set_options(fd, addr->ss_family) == -1) {
		(void)snprintf(err, errlen, "link %u: setsockopt: %s", l->index,
			       strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)addr, addrlen) == -1) {
		(void)snprintf(err, errlen, "link %u: bind %s: %s", l->index,
			       l->local_str, strerror(errno));
		close(fd);
		return -1;
	}
	l->fd = fd;
	return 0;
}

int
link_open(struct link_set *ls, struct ev_loop *loop, const struct config *cfg,
	  uint64_t incarnation, const struct link_ops *ops, char *err,
	  size_t errlen)
{
	const struct config_node *self = &cfg->nodes[cfg->self];
	const struct config_node *peer = &cfg->nodes[cfg->peer];
	unsigned i;

	memset(ls, 0, sizeof(*ls));
	ls->loop = loop;
	ls->cfg = cfg;
	ls->ops = *ops;
	ls->incarnation = incarnation;
	ls->opened_ms = util_now_ms();
	if (cfg->nlinks == 0 || cfg->nlinks > CONFIG_MAX_LINKS ||
	    cfg->self == cfg->peer || cfg->timeout_ms == 0 ||
	    cfg->interval_ms == 0 || load_keys(ls, cfg) == -1) {
		(void)snprintf(err, errlen, "link: bad configuration");
		return -1;
	}
	for (i = 0; i < cfg->nlinks; i++) {
		struct link *l = &ls->links[i];

		l->set = ls;
		l->index = i;
		l->fd = -1;
		l->rl_rx.interval_ms = LOG_RATE_MS;
		l->rl_rx.burst = LOG_BURST;
		l->rl_tx.interval_ms = LOG_RATE_MS;
		l->rl_tx.burst = LOG_BURST;
		format_addr(&self->addr[i], l->local_str, sizeof(l->local_str));
		format_addr(&peer->addr[i], l->peer_str, sizeof(l->peer_str));
		if (open_socket(l, &self->addr[i], self->addrlen[i], err,
				errlen) == -1) {
			link_close(ls);
			return -1;
		}
		ls->nlinks = i + 1;
	}
	for (i = 0; i < ls->nlinks; i++) {
		struct link *l = &ls->links[i];

		ev_io_init(&l->io, read_cb, l->fd, EV_READ);
		l->io.data = l;
		ev_io_start(loop, &l->io);
		ev_timer_init(&l->dead, dead_cb, cfg->timeout_ms / 1000.0, 0.0);
		l->dead.data = l;
		ev_timer_start(loop, &l->dead);
	}
	ev_timer_init(&ls->send_timer, send_cb, 0.0, cfg->interval_ms / 1000.0);
	ls->send_timer.data = ls;
	ev_timer_start(loop, &ls->send_timer);
	return 0;
}

void
link_close(struct link_set *ls)
{
	unsigned i;

	if (ls->loop != NULL)
		ev_timer_stop(ls->loop, &ls->send_timer);
	for (i = 0; i < ls->nlinks; i++) {
		struct link *l = &ls->links[i];

		if (ls->loop != NULL) {
			ev_io_stop(ls->loop, &l->io);
			ev_timer_stop(ls->loop, &l->dead);
		}
		if (l->fd != -1)
			close(l->fd);
		l->fd = -1;
	}
	ls->nlinks = 0;
}

void
link_set_config(struct link_set *ls, const struct config *cfg)
{
	ls->cfg = cfg;
	ls->send_timer.repeat = cfg->interval_ms / 1000.0;
	/* config_load checked every key; a failure here keeps the old ones. */
	if (load_keys(ls, cfg) == -1)
		log_err("link: cannot use the reloaded keys");
}

void
link_send_now(struct link_set *ls)
{
	send_all(ls, WIRE_HEARTBEAT);
	ev_timer_again(ls->loop, &ls->send_timer);
}

void
link_send_leave(struct link_set *ls)
{
	send_all(ls, WIRE_LEAVE);
}

enum link_status
link_status(const struct link_set *ls, unsigned i, uint64_t now_ms)
{
	const struct link *l;
	uint64_t timeout = ls->cfg->timeout_ms;

	if (i >= ls->nlinks)
		return LINK_DOWN;
	l = &ls->links[i];
	if (l->last_rx_ms == 0)
		return now_ms - ls->opened_ms < timeout ? LINK_UNKNOWN
							: LINK_DOWN;
	if (now_ms >= l->last_rx_ms && now_ms - l->last_rx_ms < timeout)
		return LINK_UP;
	return LINK_DOWN;
}

const char *
link_status_name(enum link_status st)
{
	switch (st) {
	case LINK_UNKNOWN:
		return "unknown";
	case LINK_UP:
		return "alive";
	case LINK_DOWN:
		return "dead";
	}
	return "?";
}

int
link_alive(const struct link_set *ls, unsigned i, uint64_t now_ms)
{
	return link_status(ls, i, now_ms) == LINK_UP;
}

uint32_t
link_own_key_id(const struct link_set *ls)
{
	return ls->keys[0].id;
}

void
link_key_ids(const struct link_set *ls, char *buf, size_t len)
{
	size_t off = 0;
	unsigned i;
	int n;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < ls->nkeys && off < len; i++) {
		n = snprintf(buf + off, len - off, "%s%08x", i ? ", " : "",
			     (unsigned)ls->keys[i].id);
		if (n > 0)
			off += (size_t)n;
	}
}

int
link_peer_key_id(const struct link_set *ls, uint32_t *id)
{
	*id = ls->peer_key_id;
	return ls->have_peer_key;
}

int
link_unknown_key_id(const struct link_set *ls, uint32_t *id)
{
	*id = ls->unknown_key_id;
	return ls->have_unknown_key;
}

void
link_describe(const struct link_set *ls, unsigned i, uint64_t now_ms, char *buf,
	      size_t len)
{
	const struct link *l = &ls->links[i];
	char rx[48], rtt[32], why[512];
	size_t off = 0;
	int e, n;

	if (l->last_rx_ms != 0)
		(void)snprintf(rx, sizeof(rx), "%llu ms ago",
			       (unsigned long long)(now_ms - l->last_rx_ms));
	else
		(void)snprintf(rx, sizeof(rx), "never");
	if (l->have_rtt)
		(void)snprintf(rtt, sizeof(rtt), "%u ms", (unsigned)l->rtt_ms);
	else
		(void)snprintf(rtt, sizeof(rtt), "unknown");
	why[0] = '\0';
	for (e = WIRE_OK + 1; e < WIRE_ERR_COUNT; e++) {
		if (l->rejected_by[e] == 0 || off >= sizeof(why))
			continue;
		n = snprintf(why + off, sizeof(why) - off, "%s%s=%lu",
			     off ? ", " : " (", wire_err_name((enum wire_err)e),
			     l->rejected_by[e]);
		if (n > 0)
			off += (size_t)n;
	}
	(void)snprintf(buf, len,
		       "link %u %s -> %s %s: %s, last rx %s, rtt %s, sent %lu, "
		       "send-errors %lu, received %lu, overtaken %lu, "
		       "unproven %lu, rejected %lu%s%s",
		       l->index, l->local_str, peer_name(ls), l->peer_str,
		       link_alive(ls, i, now_ms) ? "alive" : "dead", rx, rtt,
		       l->sent, l->send_errors, l->received, l->overtaken,
		       l->unproven, l->rejected, why, off ? ")" : "");
}

void
link_dump(const struct link_set *ls, FILE *f)
{
	uint64_t now = util_now_ms();
	char line[1024], ids[LINK_KEY_IDS_MAX];
	uint32_t id;
	unsigned i;

	link_key_ids(ls, ids, sizeof(ids));
	(void)fprintf(f, "keys: signs with %08x, verifies with %s; ",
		      (unsigned)link_own_key_id(ls), ids);
	if (link_peer_key_id(ls, &id))
		(void)fprintf(f, "%s signs with %08x", peer_name(ls),
			      (unsigned)id);
	else
		(void)fprintf(f, "%s: no packet accepted yet", peer_name(ls));
	if (link_unknown_key_id(ls, &id))
		(void)fprintf(f, "; last unknown key %08x", (unsigned)id);
	(void)fputc('\n', f);
	for (i = 0; i < ls->nlinks; i++) {
		link_describe(ls, i, now, line, sizeof(line));
		(void)fprintf(f, "%s\n", line);
	}
}
