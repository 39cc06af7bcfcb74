/*
 * wire.c - the heartbeat packet, byte by byte, its HMAC, and the replay
 * rules. Pure: everything it needs, including the time, is an argument.
 */
#include "wire.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Field offsets; eipfloatd-protocol(7) has the same table. */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 4,
	OFF_TYPE = 5,
	OFF_FLAGS = 6,
	OFF_STATE = 7,
	OFF_PRIORITY = 8,
	OFF_ELIGIBLE = 9,
	OFF_LINK = 10,
	OFF_RESERVED = 11,
	OFF_ECHO_HOLD = 12,
	OFF_CLUSTER = 16,
	OFF_INCARNATION = 24,
	OFF_SEQ = 32,
	OFF_STAMP = 40,
	OFF_TERM = 48,
	OFF_ECHO_SEQ = 56,
	OFF_ECHO_INCARNATION = 64,
	OFF_KEY_ID = 72,
	OFF_RESERVED2 = 76,
	OFF_NODE = 80,
	OFF_INSTANCE = OFF_NODE + WIRE_NODE_MAX,
	OFF_MAC = OFF_INSTANCE + WIRE_INSTANCE_MAX,
	PACKET_LEN = OFF_MAC + WIRE_MAC_LEN,
	CLUSTER_HASH_LEN = 8,
};

_Static_assert(PACKET_LEN == WIRE_PACKET_LEN, "layout and WIRE_PACKET_LEN");

const char *
wire_err_name(enum wire_err err)
{
	switch (err) {
	case WIRE_OK:
		return "ok";
	case WIRE_ERR_TRUNCATED:
		return "truncated";
	case WIRE_ERR_OVERSIZED:
		return "oversized";
	case WIRE_ERR_BAD_MAGIC:
		return "bad-magic";
	case WIRE_ERR_BAD_VERSION:
		return "bad-version";
	case WIRE_ERR_BAD_TYPE:
		return "bad-type";
	case WIRE_ERR_OTHER_CLUSTER:
		return "other-cluster";
	case WIRE_ERR_UNKNOWN_KEY:
		return "unknown-key";
	case WIRE_ERR_BAD_MAC:
		return "bad-mac";
	case WIRE_ERR_MALFORMED:
		return "malformed";
	case WIRE_ERR_UNKNOWN_NODE:
		return "unknown-node";
	case WIRE_ERR_OWN_NODE:
		return "own-node";
	case WIRE_ERR_WRONG_LINK:
		return "wrong-link";
	case WIRE_ERR_REPLAY:
		return "replay";
	case WIRE_ERR_OLD_INCARNATION:
		return "old-incarnation";
	case WIRE_ERR_WRONG_SOURCE:
		return "wrong-source";
	case WIRE_ERR_COUNT:
		break;
	}
	return "unknown";
}

const char *
wire_type_name(enum wire_type type)
{
	switch (type) {
	case WIRE_HEARTBEAT:
		return "heartbeat";
	case WIRE_LEAVE:
		return "leave";
	}
	return "unknown";
}

const char *
wire_state_name(enum wire_state state)
{
	switch (state) {
	case WIRE_STATE_STARTING:
		return "STARTING";
	case WIRE_STATE_STANDBY:
		return "STANDBY";
	case WIRE_STATE_ACTIVE:
		return "ACTIVE";
	case WIRE_STATE_FAULT:
		return "FAULT";
	}
	return "UNKNOWN";
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* Copy s into a NUL-padded field; -1 if it does not fit with one NUL. */
static int
put_str(uint8_t *p, size_t size, const char *s)
{
	size_t n = strnlen(s, size);

	if (n >= size)
		return -1;
	memset(p, 0, size);
	memcpy(p, s, n);
	return 0;
}

/*
 * A string field is valid when it is printable ASCII without spaces (node
 * names and instance ids end up in log lines), NUL-terminated inside the
 * field, and all zero after the terminator (one encoding per value).
 */
static int
get_str(const uint8_t *p, size_t size, char *out)
{
	size_t i, n = 0;

	while (n < size && p[n] != 0) {
		if (p[n] < 0x21 || p[n] > 0x7e)
			return -1;
		n++;
	}
	if (n == size)
		return -1;
	for (i = n; i < size; i++)
		if (p[i] != 0)
			return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int
cluster_hash(const char *cluster, uint8_t out[CLUSTER_HASH_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(cluster, strlen(cluster), md, &mdlen, EVP_sha256(),
			NULL))
		return -1;
	memcpy(out, md, CLUSTER_HASH_LEN);
	return 0;
}

/*
 * HMAC-SHA256(key, len16(cluster) || cluster || packet[0..OFF_MAC)). The
 * cluster name itself (not only its short hash) is bound into the MAC, so
 * two clusters that share a key still cannot accept each other's packets.
 */
static int
compute_mac(const uint8_t *pkt, const char *cluster, const struct wire_key *k,
	    uint8_t mac[WIRE_MAC_LEN])
{
	uint8_t in[2 + WIRE_CLUSTER_MAX + OFF_MAC];
	size_t clen = strlen(cluster), keylen = k->len;
	const uint8_t *key = k->bytes;
	unsigned int maclen = 0;
	static const uint8_t nokey[1];

	if (clen > WIRE_CLUSTER_MAX || keylen > 0x7fffffff)
		return -1;
	in[0] = (uint8_t)(clen >> 8);
	in[1] = (uint8_t)clen;
	memcpy(in + 2, cluster, clen);
	memcpy(in + 2 + clen, pkt, OFF_MAC);
	if (key == NULL)
		key = nokey;
	if (HMAC(EVP_sha256(), key, (int)keylen, in, 2 + clen + OFF_MAC, mac,
		 &maclen) == NULL ||
	    maclen != WIRE_MAC_LEN)
		return -1;
	return 0;
}

/* The key id: the first 4 bytes of HMAC-SHA256(key, a fixed label). */
int
wire_key_init(struct wire_key *k, const uint8_t *bytes, size_t len)
{
	static const char label[] = "eipfloatd key id";
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const uint8_t nokey[1];

	k->bytes = bytes;
	k->len = len;
	k->id = 0;
	if (len > 0x7fffffff ||
	    HMAC(EVP_sha256(), bytes ? bytes : nokey, (int)len,
		 (const uint8_t *)label, sizeof(label) - 1, md,
		 &mdlen) == NULL ||
	    mdlen < 4)
		return -1;
	k->id = get32(md);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

static int
valid_type(unsigned t)
{
	return t == WIRE_HEARTBEAT || t == WIRE_LEAVE;
}

int
wire_encode(const struct wire_msg *m, const char *cluster,
	    const struct wire_key *key, uint8_t *buf, size_t buflen)
{
	uint8_t pkt[PACKET_LEN];

	if (buflen < PACKET_LEN || !valid_type(m->type) ||
	    (unsigned)m->state > WIRE_STATE_FAULT || m->eligible > 1 ||
	    m->link >= WIRE_MAX_LINKS || m->seq == 0 || m->node[0] == '\0')
		return -1;
	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt + OFF_MAGIC, WIRE_MAGIC, 4);
	pkt[OFF_VERSION] = WIRE_VERSION;
	pkt[OFF_TYPE] = (uint8_t)m->type;
	pkt[OFF_FLAGS] = m->flags;
	pkt[OFF_STATE] = (uint8_t)m->state;
	pkt[OFF_PRIORITY] = m->priority;
	pkt[OFF_ELIGIBLE] = m->eligible;
	pkt[OFF_LINK] = m->link;
	pkt[OFF_RESERVED] = 0;
	put32(pkt + OFF_ECHO_HOLD, m->echo_hold_ms);
	if (cluster_hash(cluster, pkt + OFF_CLUSTER) == -1)
		return -1;
	put64(pkt + OFF_INCARNATION, m->incarnation);
	put64(pkt + OFF_SEQ, m->seq);
	put64(pkt + OFF_STAMP, m->stamp_ms);
	put64(pkt + OFF_TERM, m->term);
	put64(pkt + OFF_ECHO_SEQ, m->echo_seq);
	put64(pkt + OFF_ECHO_INCARNATION, m->echo_incarnation);
	put32(pkt + OFF_KEY_ID, key->id);
	put32(pkt + OFF_RESERVED2, 0);
	if (put_str(pkt + OFF_NODE, WIRE_NODE_MAX, m->node) == -1)
		return -1;
	if (put_str(pkt + OFF_INSTANCE, WIRE_INSTANCE_MAX, m->instance_id))
		return -1;
	if (compute_mac(pkt, cluster, key, pkt + OFF_MAC) == -1)
		return -1;
	memcpy(buf, pkt, PACKET_LEN);
	return PACKET_LEN;
}

/* Length, magic, version, type: what can be judged without the key. */
static enum wire_err
check_header(const uint8_t *buf, size_t len)
{
	if (len < OFF_VERSION + 1)
		return memcmp(buf, WIRE_MAGIC, len) == 0 ? WIRE_ERR_TRUNCATED
							 : WIRE_ERR_BAD_MAGIC;
	if (memcmp(buf + OFF_MAGIC, WIRE_MAGIC, 4) != 0)
		return WIRE_ERR_BAD_MAGIC;
	/* Version before length: a newer version may have another size. */
	if (buf[OFF_VERSION] != WIRE_VERSION)
		return WIRE_ERR_BAD_VERSION;
	if (len < PACKET_LEN)
		return WIRE_ERR_TRUNCATED;
	if (len > PACKET_LEN)
		return WIRE_ERR_OVERSIZED;
	if (!valid_type(buf[OFF_TYPE]))
		return WIRE_ERR_BAD_TYPE;
	return WIRE_OK;
}

/* Field values, judged only once the MAC says the peer sent them. */
static enum wire_err
parse_fields(const uint8_t *pkt, struct wire_msg *m)
{
	if (pkt[OFF_STATE] > WIRE_STATE_FAULT || pkt[OFF_ELIGIBLE] > 1 ||
	    pkt[OFF_LINK] >= WIRE_MAX_LINKS || get64(pkt + OFF_SEQ) == 0)
		return WIRE_ERR_MALFORMED;
	if (get_str(pkt + OFF_NODE, WIRE_NODE_MAX, m->node) == -1 ||
	    m->node[0] == '\0')
		return WIRE_ERR_MALFORMED;
	if (get_str(pkt + OFF_INSTANCE, WIRE_INSTANCE_MAX, m->instance_id))
		return WIRE_ERR_MALFORMED;
	m->type = (enum wire_type)pkt[OFF_TYPE];
	m->flags = pkt[OFF_FLAGS];
	m->state = (enum wire_state)pkt[OFF_STATE];
	m->priority = pkt[OFF_PRIORITY];
	m->eligible = pkt[OFF_ELIGIBLE];
	m->link = pkt[OFF_LINK];
	m->echo_hold_ms = get32(pkt + OFF_ECHO_HOLD);
	m->incarnation = get64(pkt + OFF_INCARNATION);
	m->seq = get64(pkt + OFF_SEQ);
	m->stamp_ms = get64(pkt + OFF_STAMP);
	m->term = get64(pkt + OFF_TERM);
	m->echo_seq = get64(pkt + OFF_ECHO_SEQ);
	m->echo_incarnation = get64(pkt + OFF_ECHO_INCARNATION);
	m->key_id = get32(pkt + OFF_KEY_ID);
	return WIRE_OK;
}

/*
 * Every key of the packet's id is tried (two keys sharing an id is a
 * 1-in-2^32 chance, but costs nothing to allow); the MAC comparison is
 * constant-time, the id comparison need not be (the id is public).
 */
static enum wire_err
check_mac(const uint8_t *buf, const char *cluster, const struct wire_key *keys,
	  unsigned nkeys, uint32_t *key_id)
{
	uint8_t mac[WIRE_MAC_LEN];
	uint32_t id = get32(buf + OFF_KEY_ID);
	int known = 0;
	unsigned i;

	for (i = 0; i < nkeys; i++) {
		if (keys[i].id != id)
			continue;
		known = 1;
		if (compute_mac(buf, cluster, &keys[i], mac) == 0 &&
		    CRYPTO_memcmp(buf + OFF_MAC, mac, WIRE_MAC_LEN) == 0)
			return WIRE_OK;
	}
	if (known)
		return WIRE_ERR_BAD_MAC;
	if (key_id)
		*key_id = id;
	return WIRE_ERR_UNKNOWN_KEY;
}

enum wire_err
wire_decode(const uint8_t *buf, size_t len, const char *cluster,
	    const struct wire_key *keys, unsigned nkeys, struct wire_msg *out,
	    uint32_t *key_id)
{
	uint8_t hash[CLUSTER_HASH_LEN];
	struct wire_msg m;
	enum wire_err err;

	err = check_header(buf, len);
	if (err != WIRE_OK)
		return err;
	if (cluster_hash(cluster, hash) == -1)
		return WIRE_ERR_BAD_MAC;
	/* The hash is public (not a secret), so memcmp is fine here. */
	if (memcmp(buf + OFF_CLUSTER, hash, CLUSTER_HASH_LEN) != 0)
		return WIRE_ERR_OTHER_CLUSTER;
	err = check_mac(buf, cluster, keys, nkeys, key_id);
	if (err != WIRE_OK)
		return err;
	memset(&m, 0, sizeof(m));
	err = parse_fields(buf, &m);
	if (err != WIRE_OK)
		return err;
	*out = m;
	return WIRE_OK;
}

enum wire_err
wire_check_sender(const struct wire_msg *m, const char *self, const char *peer)
{
	if (strcmp(m->node, self) == 0)
		return WIRE_ERR_OWN_NODE;
	if (strcmp(m->node, peer) != 0)
		return WIRE_ERR_UNKNOWN_NODE;
	return WIRE_OK;
}

/*
 * Why the echo rule for a new incarnation is sound: our incarnation is
 * random and new at every start, and our sequence only grows, so a packet
 * that echoes our incarnation was made after we started, and one that
 * echoes our sequence S was made after we sent S. Every packet of an
 * incarnation the peer has left was made before it left, so it echoes
 * nothing newer than what that incarnation's accepted packets echoed;
 * requiring more than max_echo keeps all of them out, however many
 * restarts ago and on whichever link, while the peer's current
 * incarnation, which hears our newer packets, gets in with its next
 * heartbeat. No clock of either host takes part.
 */
enum wire_err
wire_replay_check(struct wire_replay *r, unsigned link,
		  const struct wire_msg *m, uint64_t self_incarnation,
		  enum wire_order *order)
{
	int ours = self_incarnation != 0 &&
		   m->echo_incarnation == self_incarnation;

	if (link >= WIRE_MAX_LINKS || m->link != link)
		return WIRE_ERR_WRONG_LINK;
	if (m->seq == 0)
		return WIRE_ERR_REPLAY;
	if (!r->known || m->incarnation != r->incarnation) {
		if (!ours) {
			*order = WIRE_ORDER_UNPROVEN;
			return WIRE_OK;
		}
		if (m->echo_seq <= r->max_echo)
			return WIRE_ERR_OLD_INCARNATION;
		memset(r->seq, 0, sizeof(r->seq));
		r->max_seq = 0;
		r->known = 1;
		r->incarnation = m->incarnation;
	} else if (m->seq <= r->seq[link]) {
		return WIRE_ERR_REPLAY;
	}
	r->seq[link] = m->seq;
	if (m->seq > r->max_seq)
		*order = WIRE_ORDER_NEWEST;
	else if (m->seq == r->max_seq)
		*order = WIRE_ORDER_COPY;
	else
		*order = WIRE_ORDER_OVERTAKEN;
	if (m->seq > r->max_seq)
		r->max_seq = m->seq;
	if (ours && m->echo_seq > r->max_echo)
		r->max_echo = m->echo_seq;
	return WIRE_OK;
}

void
wire_echo_sent(struct wire_echo *e, uint64_t seq, uint64_t now_ms)
{
	unsigned slot = (unsigned)(seq % WIRE_ECHO_SLOTS);

	e->seq[slot] = seq;
	e->sent_ms[slot] = now_ms;
}

int
wire_echo_rtt(const struct wire_echo *e, uint64_t echo_seq, uint32_t hold_ms,
	      uint64_t now_ms, uint32_t *rtt_ms)
{
	unsigned slot = (unsigned)(echo_seq % WIRE_ECHO_SLOTS);
	uint64_t elapsed;

	if (echo_seq == 0 || e->seq[slot] != echo_seq ||
	    now_ms < e->sent_ms[slot])
		return -1;
	elapsed = now_ms - e->sent_ms[slot];
	/* Millisecond rounding on both ends can make hold exceed elapsed. */
	if (hold_ms >= elapsed)
		*rtt_ms = 0;
	else if (elapsed - hold_ms > UINT32_MAX)
		*rtt_ms = UINT32_MAX;
	else
		*rtt_ms = (uint32_t)(elapsed - hold_ms);
	return 0;
}
