/*
 * test_wire.c - the heartbeat packet (layout, MAC, every rejection reason,
 * replay rules, RTT echo); link.c's sockets are in test_link.c.
 * `test_wire --write-seeds DIR` writes the fuzzing seeds for fuzz_wire.
 */
#include "check.h"
#include "elect.h"
#include "elect_map.h"
#include "log.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define NOW 1700000000000ull /* a wall-clock stamp, ms: carried, not judged */
#define LEN WIRE_PACKET_LEN
#define MACOFF (LEN - WIRE_MAC_LEN) /* 176 */
#define SELF 0xabcdef0102030405ull /* the receiver's incarnation */

static const char CLUSTER[] = "web";
static const uint8_t KEY[32] = "0123456789abcdef0123456789abcdef";
static struct wire_key K; /* KEY with its id, set in main */

static struct wire_msg
sample(void)
{
	struct wire_msg m;

	memset(&m, 0, sizeof(m));
	m.type = WIRE_HEARTBEAT;
	m.flags = WIRE_FLAG_HOLDS;
	m.state = WIRE_STATE_ACTIVE;
	m.priority = 100;
	m.eligible = 1;
	m.link = 0;
	strcpy(m.node, "node-b");
	m.incarnation = 0x1122334455667788ull;
	m.seq = 1;
	m.stamp_ms = NOW;
	m.term = 7;
	strcpy(m.instance_id, "i-0123456789abcdef0");
	return m;
}

static int
encode(const struct wire_msg *m, uint8_t *buf)
{
	return wire_encode(m, CLUSTER, &K, buf, LEN);
}

static enum wire_err
decode(const uint8_t *buf, size_t len, struct wire_msg *out)
{
	return wire_decode(buf, len, CLUSTER, &K, 1, out, NULL);
}

/*
 * Re-sign a hand-edited packet, computing the MAC the way the man page
 * describes it (independently of wire.c): HMAC-SHA256(key, len16 || name ||
 * packet[0..176)).
 */
static void
resign(uint8_t *pkt, const char *cluster)
{
	uint8_t in[2 + 255 + MACOFF];
	size_t n = strlen(cluster);
	unsigned int maclen;

	in[0] = (uint8_t)(n >> 8);
	in[1] = (uint8_t)n;
	memcpy(in + 2, cluster, n);
	memcpy(in + 2 + n, pkt, MACOFF);
	HMAC(EVP_sha256(), KEY, sizeof(KEY), in, 2 + n + MACOFF, pkt + MACOFF,
	     &maclen);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
test_round_trip(void)
{
	struct wire_msg m = sample(), out;
	uint8_t buf[LEN];
	int st;

	TEST("round_trip_preserves_every_field");
	m.type = WIRE_LEAVE;
	m.flags = 0xa5;
	m.priority = 255;
	m.link = 3;
	strcpy(m.node, "n23456789012345678901234567890123456789012345678901"
		       "234567890123");
	m.incarnation = UINT64_MAX;
	m.seq = 0x8000000000000001ull;
	m.stamp_ms = NOW + 5;
	m.term = 0xfedcba9876543210ull;
	strcpy(m.instance_id, "i-0123456789abcdef0123456789abc");
	m.echo_seq = 0x0102030405060708ull;
	m.echo_incarnation = 0x1112131415161718ull;
	m.echo_hold_ms = 0xdeadbeef;
	CHECK(strlen(m.node) == WIRE_NODE_MAX - 1);
	CHECK(strlen(m.instance_id) == WIRE_INSTANCE_MAX - 1);
	CHECK(encode(&m, buf) == LEN);
	memset(&out, 0x55, sizeof(out));
	CHECK(decode(buf, LEN, &out) == WIRE_OK);
	CHECK(out.type == m.type);
	CHECK(out.flags == m.flags);
	CHECK(out.state == m.state);
	CHECK(out.priority == m.priority);
	CHECK(out.eligible == m.eligible);
	CHECK(out.link == m.link);
	CHECK(strcmp(out.node, m.node) == 0);
	CHECK(out.incarnation == m.incarnation);
	CHECK(out.seq == m.seq);
	CHECK(out.stamp_ms == m.stamp_ms);
	CHECK(out.term == m.term);
	CHECK(strcmp(out.instance_id, m.instance_id) == 0);
	CHECK(out.echo_seq == m.echo_seq);
	CHECK(out.echo_incarnation == m.echo_incarnation);
	CHECK(out.echo_hold_ms == m.echo_hold_ms);
	CHECK(out.key_id == K.id);

	TEST("round_trip_of_every_state_and_empty_instance_id");
	for (st = WIRE_STATE_STARTING; st <= WIRE_STATE_FAULT; st++) {
		m = sample();
		m.state = (enum wire_state)st;
		m.eligible = (uint8_t)(st & 1);
		m.instance_id[0] = '\0';
		CHECK(encode(&m, buf) == LEN);
		CHECK(decode(buf, LEN, &out) == WIRE_OK);
		CHECK(out.state == (enum wire_state)st);
		CHECK(out.eligible == (st & 1));
		CHECK(out.instance_id[0] == '\0');
	}
}

/* The offsets here are the table of eipfloatd-protocol(7). */
static void
test_layout(void)
{
	struct wire_msg m = sample();
	uint8_t buf[LEN], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	TEST("layout_matches_the_man_page_in_network_byte_order");
	m.echo_hold_ms = 0x01020304;
	m.echo_seq = 42;
	m.echo_incarnation = 0x0a0b0c0d0e0f1011ull;
	m.link = 1;
	CHECK(encode(&m, buf) == LEN);
	CHECK(memcmp(buf, "EIPF", 4) == 0);
	CHECK(buf[4] == 2);
	CHECK(buf[5] == WIRE_HEARTBEAT);
	CHECK(buf[6] == WIRE_FLAG_HOLDS);
	CHECK(buf[7] == WIRE_STATE_ACTIVE);
	CHECK(buf[8] == 100);
	CHECK(buf[9] == 1);
	CHECK(buf[10] == 1);
	CHECK(buf[11] == 0);
	CHECK(buf[12] == 1 && buf[13] == 2 && buf[14] == 3 && buf[15] == 4);
	EVP_Digest(CLUSTER, strlen(CLUSTER), md, &mdlen, EVP_sha256(), NULL);
	CHECK(memcmp(buf + 16, md, 8) == 0);
	CHECK(be64(buf + 24) == m.incarnation);
	CHECK(be64(buf + 32) == 1);
	CHECK(be64(buf + 40) == NOW);
	CHECK(be64(buf + 48) == 7);
	CHECK(be64(buf + 56) == 42);
	CHECK(be64(buf + 64) == m.echo_incarnation);
	CHECK(be32(buf + 72) == K.id);
	CHECK(be32(buf + 76) == 0);
	CHECK(strcmp((char *)buf + 80, "node-b") == 0);
	CHECK(buf[143] == 0);
	CHECK(strcmp((char *)buf + 144, "i-0123456789abcdef0") == 0);

	TEST("key_id_is_hmac_sha256_of_a_label_under_the_key");
	{
		static const char label[] = "eipfloatd key id";

		HMAC(EVP_sha256(), KEY, sizeof(KEY), (const uint8_t *)label,
		     sizeof(label) - 1, md, &mdlen);
		CHECK(be32(md) == K.id);
	}

	TEST("mac_is_hmac_sha256_over_cluster_name_and_packet");
	{
		uint8_t copy[LEN];

		memcpy(copy, buf, LEN);
		memset(copy + MACOFF, 0, WIRE_MAC_LEN);
		resign(copy, CLUSTER);
		CHECK(memcmp(copy, buf, LEN) == 0);
	}
}

static void
test_encode_refuses(void)
{
	struct wire_msg m;
	uint8_t buf[LEN];

	TEST("encode_refuses_what_cannot_be_sent");
	m = sample();
	CHECK(wire_encode(&m, CLUSTER, &K, buf, LEN - 1) == -1);
	memset(m.node, 'x', sizeof(m.node) - 1);
	m.node[sizeof(m.node) - 1] = '\0';
	CHECK(encode(&m, buf) == LEN);
	m = sample();
	m.node[0] = '\0';
	CHECK(encode(&m, buf) == -1);
	m = sample();
	memset(m.instance_id, 'i', sizeof(m.instance_id));
	CHECK(encode(&m, buf) == -1);
	m = sample();
	m.seq = 0;
	CHECK(encode(&m, buf) == -1);
	m = sample();
	m.state = (enum wire_state)4;
	CHECK(encode(&m, buf) == -1);
	m = sample();
	m.type = (enum wire_type)3;
	CHECK(encode(&m, buf) == -1);
	m = sample();
	m.eligible = 2;
	CHECK(encode(&m, buf) == -1);
	m = sample();
	m.link = WIRE_MAX_LINKS;
	CHECK(encode(&m, buf) == -1);
}

static void
test_header_rejections(void)
{
	struct wire_msg m = sample(), out;
	uint8_t buf[LEN], big[LEN + 100], bad[LEN];
	size_t len;
	int all;

	CHECK(encode(&m, buf) == LEN);

	TEST("every_short_length_is_truncated");
	all = 1;
	for (len = 0; len < LEN; len++)
		if (decode(buf, len, &out) != WIRE_ERR_TRUNCATED)
			all = 0;
	CHECK(all);

	TEST("longer_than_a_packet_is_oversized");
	memcpy(big, buf, LEN);
	memset(big + LEN, 0, sizeof(big) - LEN);
	CHECK(decode(big, LEN + 1, &out) == WIRE_ERR_OVERSIZED);
	CHECK(decode(big, sizeof(big), &out) == WIRE_ERR_OVERSIZED);

	TEST("wrong_magic_is_bad_magic");
	memcpy(bad, buf, LEN);
	bad[0] = 'X';
	CHECK(decode(bad, LEN, &out) == WIRE_ERR_BAD_MAGIC);
	CHECK(decode((const uint8_t *)"XY", 2, &out) == WIRE_ERR_BAD_MAGIC);
	CHECK(decode((const uint8_t *)"EI", 2, &out) == WIRE_ERR_TRUNCATED);

	TEST("other_version_is_bad_version_whatever_its_length");
	memcpy(bad, buf, LEN);
	bad[4] = 3;
	CHECK(decode(bad, LEN, &out) == WIRE_ERR_BAD_VERSION);
	big[4] = 3;
	CHECK(decode(big, sizeof(big), &out) == WIRE_ERR_BAD_VERSION);
	bad[4] = 1; /* version 1, 192 bytes, judged stamps: not understood */
	CHECK(decode(bad, 192, &out) == WIRE_ERR_BAD_VERSION);
	bad[4] = 0;
	CHECK(decode(bad, LEN, &out) == WIRE_ERR_BAD_VERSION);

	TEST("unknown_message_type_is_bad_type_even_when_signed");
	memcpy(bad, buf, LEN);
	bad[5] = 3;
	resign(bad, CLUSTER);
	CHECK(decode(bad, LEN, &out) == WIRE_ERR_BAD_TYPE);
	bad[5] = 0;
	resign(bad, CLUSTER);
	CHECK(decode(bad, LEN, &out) == WIRE_ERR_BAD_TYPE);

	TEST("packet_of_another_cluster_is_other_cluster");
	CHECK(wire_decode(buf, LEN, "db", &K, 1, &out, NULL) ==
	      WIRE_ERR_OTHER_CLUSTER);

	TEST("cluster_name_is_in_the_mac_not_only_its_hash");
	{
		uint8_t md[EVP_MAX_MD_SIZE];
		unsigned int mdlen;

		CHECK(wire_encode(&m, "db", &K, bad, LEN) == LEN);
		EVP_Digest(CLUSTER, strlen(CLUSTER), md, &mdlen, EVP_sha256(),
			   NULL);
		memcpy(bad + 16, md, 8); /* as if the hashes collided */
		CHECK(decode(bad, LEN, &out) == WIRE_ERR_BAD_MAC);
	}
}

static void
test_mac_rejections(void)
{
	struct wire_msg m = sample(), out;
	uint8_t buf[LEN], bad[LEN], key2[sizeof(KEY)];
	struct wire_key k2, both[2];
	uint32_t id = 0;
	int pos, bit, all;

	CHECK(encode(&m, buf) == LEN);

	TEST("changed_mac_is_bad_mac");
	memcpy(bad, buf, LEN);
	bad[LEN - 1] ^= 1;
	CHECK(decode(bad, LEN, &out) == WIRE_ERR_BAD_MAC);

	TEST("changed_field_is_bad_mac");
	memcpy(bad, buf, LEN);
	bad[48 + 7] ^= 1; /* term */
	CHECK(decode(bad, LEN, &out) == WIRE_ERR_BAD_MAC);

	TEST("other_key_is_unknown_key_naming_the_senders_key_id");
	memcpy(key2, KEY, sizeof(key2));
	key2[31] ^= 0x80;
	CHECK(wire_key_init(&k2, key2, sizeof(key2)) == 0 && k2.id != K.id);
	CHECK(wire_decode(buf, LEN, CLUSTER, &k2, 1, &out, &id) ==
	      WIRE_ERR_UNKNOWN_KEY);
	CHECK(id == K.id);

	TEST("a_key_with_the_right_id_but_other_bytes_is_bad_mac");
	k2.id = K.id;
	CHECK(wire_decode(buf, LEN, CLUSTER, &k2, 1, &out, NULL) ==
	      WIRE_ERR_BAD_MAC);
	k2 = K;
	k2.len--;
	CHECK(wire_decode(buf, LEN, CLUSTER, &k2, 1, &out, NULL) ==
	      WIRE_ERR_BAD_MAC);

	TEST("every_key_of_a_rotation_verifies_and_only_those");
	CHECK(wire_key_init(&both[0], key2, sizeof(key2)) == 0);
	both[1] = K;
	CHECK(wire_decode(buf, LEN, CLUSTER, both, 2, &out, NULL) == WIRE_OK &&
	      out.key_id == K.id);
	CHECK(wire_encode(&m, CLUSTER, &both[0], bad, LEN) == LEN);
	CHECK(wire_decode(bad, LEN, CLUSTER, both, 2, &out, NULL) == WIRE_OK &&
	      out.key_id == both[0].id);
	CHECK(wire_decode(bad, LEN, CLUSTER, &K, 1, &out, &id) ==
	      WIRE_ERR_UNKNOWN_KEY && id == both[0].id);
	CHECK(wire_decode(buf, LEN, CLUSTER, both, 0, &out, NULL) ==
	      WIRE_ERR_UNKNOWN_KEY);

	TEST("any_single_bit_flip_anywhere_is_rejected");
	all = 1;
	for (pos = 0; pos < LEN; pos++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, buf, LEN);
			bad[pos] ^= (uint8_t)(1u << bit);
			if (decode(bad, LEN, &out) == WIRE_OK) {
				fprintf(stderr, "flip %d.%d accepted\n", pos,
					bit);
				all = 0;
			}
		}
	}
	CHECK(all);
	CHECK(decode(buf, LEN, &out) == WIRE_OK);
}

/* Signed packets whose fields are out of range: a peer bug, not an attack. */
static void
test_malformed(void)
{
	struct wire_msg m = sample(), out;
	uint8_t buf[LEN], bad[LEN];

	CHECK(encode(&m, buf) == LEN);
	TEST("signed_but_invalid_fields_are_malformed");
#define MALFORMED(edit)                                                        \
	do {                                                                   \
		memcpy(bad, buf, LEN);                                         \
		edit;                                                          \
		resign(bad, CLUSTER);                                          \
		CHECK(decode(bad, LEN, &out) == WIRE_ERR_MALFORMED);           \
	} while (0)
	MALFORMED(bad[7] = 4);		       /* state */
	MALFORMED(bad[9] = 2);		       /* eligible */
	MALFORMED(bad[10] = WIRE_MAX_LINKS);   /* link */
	MALFORMED(memset(bad + 32, 0, 8));     /* seq 0 */
	MALFORMED(memset(bad + 80, 0, 64));    /* empty node */
	MALFORMED(memset(bad + 80, 'a', 64));  /* unterminated node */
	MALFORMED(bad[82] = ' ');	       /* space in node */
	MALFORMED(bad[82] = 0x07);	       /* control char */
	MALFORMED(bad[116] = 'z');	       /* junk after NUL */
	MALFORMED(memset(bad + 144, 'i', 32)); /* unterminated id */
	MALFORMED(bad[175] = 1);	       /* junk in id padding */
#undef MALFORMED

	TEST("reserved_bytes_and_unknown_flags_are_ignored");
	memcpy(bad, buf, LEN);
	bad[11] = 0xff;
	memset(bad + 76, 0xff, 4);
	bad[6] = 0xfe;
	resign(bad, CLUSTER);
	CHECK(decode(bad, LEN, &out) == WIRE_OK);
	CHECK(out.flags == 0xfe);
}

static void
test_sender(void)
{
	struct wire_msg m = sample();

	TEST("sender_must_be_the_peer");
	CHECK(wire_check_sender(&m, "node-a", "node-b") == WIRE_OK);
	CHECK(wire_check_sender(&m, "node-b", "node-a") == WIRE_ERR_OWN_NODE);
	CHECK(wire_check_sender(&m, "node-a", "node-c") ==
	      WIRE_ERR_UNKNOWN_NODE);
	CHECK(wire_check_sender(&m, "node-a", "node-bb") ==
	      WIRE_ERR_UNKNOWN_NODE);
}

static struct wire_msg
pkt(uint64_t inc, unsigned link, uint64_t seq, uint64_t echo_inc,
    uint64_t echo_seq)
{
	struct wire_msg m = sample();

	m.incarnation = inc;
	m.link = (uint8_t)link;
	m.seq = seq;
	m.echo_incarnation = echo_inc;
	m.echo_seq = echo_seq;
	return m;
}

static enum wire_order last_order;

static enum wire_err
rc(struct wire_replay *r, unsigned link, struct wire_msg m)
{
	last_order = (enum wire_order)-1;
	return wire_replay_check(r, link, &m, SELF, &last_order);
}

static int
ok(struct wire_replay *r, unsigned link, struct wire_msg m,
   enum wire_order want)
{
	return rc(r, link, m) == WIRE_OK && last_order == want;
}

static void
test_replay(void)
{
	struct wire_replay r, before;
	struct wire_msg m;

	TEST("packet_not_echoing_us_is_unproven_and_changes_nothing");
	memset(&r, 0, sizeof(r));
	CHECK(ok(&r, 0, pkt(1, 0, 10, 0, 0), WIRE_ORDER_UNPROVEN));
	CHECK(ok(&r, 0, pkt(1, 0, 10, SELF + 1, 99), WIRE_ORDER_UNPROVEN));
	CHECK(!r.known && r.max_seq == 0 && r.max_echo == 0);

	TEST("echo_of_our_incarnation_proves_a_new_incarnation");
	CHECK(ok(&r, 0, pkt(1, 0, 10, SELF, 3), WIRE_ORDER_NEWEST));
	CHECK(r.known && r.incarnation == 1 && r.max_echo == 3);
	CHECK(ok(&r, 0, pkt(1, 0, 11, SELF, 4), WIRE_ORDER_NEWEST));

	TEST("same_or_older_sequence_is_replay");
	CHECK(rc(&r, 0, pkt(1, 0, 11, SELF, 4)) == WIRE_ERR_REPLAY);
	CHECK(rc(&r, 0, pkt(1, 0, 5, SELF, 2)) == WIRE_ERR_REPLAY);
	CHECK(ok(&r, 0, pkt(1, 0, 12, SELF, 4), WIRE_ORDER_NEWEST));

	TEST("accepted_incarnation_needs_no_fresh_echo_nor_clock");
	/* one-way loss: the peer stops hearing us, its echo stands still */
	m = pkt(1, 0, 13, SELF, 1);
	m.stamp_ms = 0;
	CHECK(ok(&r, 0, m, WIRE_ORDER_NEWEST));
	m = pkt(1, 0, 14, 0, 0);
	m.stamp_ms = UINT64_MAX;
	CHECK(ok(&r, 0, m, WIRE_ORDER_NEWEST));
	CHECK(r.max_echo == 4);

	TEST("replay_is_judged_per_link");
	CHECK(ok(&r, 1, pkt(1, 1, 3, SELF, 4), WIRE_ORDER_OVERTAKEN));
	CHECK(rc(&r, 1, pkt(1, 1, 3, SELF, 4)) == WIRE_ERR_REPLAY);

	TEST("only_a_packet_newer_than_all_links_is_newest");
	CHECK(ok(&r, 1, pkt(1, 1, 15, SELF, 5), WIRE_ORDER_NEWEST));
	/* the same send's copy on the other link: fresh there, not newer */
	CHECK(ok(&r, 0, pkt(1, 0, 15, SELF, 5), WIRE_ORDER_COPY));
	CHECK(ok(&r, 1, pkt(1, 1, 16, SELF, 6), WIRE_ORDER_NEWEST));
	CHECK(ok(&r, 1, pkt(1, 1, 17, SELF, 6), WIRE_ORDER_NEWEST));
	/* a late one on link 0, overtaken by link 1 */
	CHECK(ok(&r, 0, pkt(1, 0, 16, SELF, 6), WIRE_ORDER_OVERTAKEN));
	CHECK(r.max_seq == 17 && r.seq[0] == 16 && r.seq[1] == 17);
	CHECK(r.max_echo == 6);

	TEST("packet_for_another_link_is_wrong_link");
	CHECK(rc(&r, 0, pkt(1, 1, 100, SELF, 6)) == WIRE_ERR_WRONG_LINK);
	CHECK(rc(&r, WIRE_MAX_LINKS, pkt(1, 0, 100, SELF, 6)) ==
	      WIRE_ERR_WRONG_LINK);

	TEST("new_incarnation_must_echo_newer_than_every_accepted_echo");
	CHECK(rc(&r, 0, pkt(2, 0, 1, SELF, 6)) == WIRE_ERR_OLD_INCARNATION);
	CHECK(rc(&r, 0, pkt(2, 0, 1, SELF, 2)) == WIRE_ERR_OLD_INCARNATION);
	CHECK(ok(&r, 0, pkt(2, 0, 1, 0, 0), WIRE_ORDER_UNPROVEN));
	CHECK(r.incarnation == 1);
	CHECK(ok(&r, 1, pkt(2, 1, 2, SELF, 7), WIRE_ORDER_NEWEST));
	CHECK(r.incarnation == 2 && r.max_echo == 7);
	/* its sequences start again, on every link */
	CHECK(ok(&r, 0, pkt(2, 0, 3, SELF, 8), WIRE_ORDER_NEWEST));

	TEST("left_incarnation_is_refused_on_any_link");
	/* made before the peer restarted: it echoes nothing newer than 7 */
	CHECK(rc(&r, 0, pkt(1, 0, 1000, SELF, 6)) == WIRE_ERR_OLD_INCARNATION);
	CHECK(rc(&r, 1, pkt(1, 1, 1000, SELF, 7)) == WIRE_ERR_OLD_INCARNATION);
	CHECK(r.incarnation == 2);

	TEST("incarnations_older_than_the_last_are_refused_too");
	CHECK(ok(&r, 0, pkt(3, 0, 1, SELF, 10), WIRE_ORDER_NEWEST));
	CHECK(rc(&r, 0, pkt(2, 0, 50, SELF, 9)) == WIRE_ERR_OLD_INCARNATION);
	CHECK(rc(&r, 0, pkt(1, 0, 50, SELF, 6)) == WIRE_ERR_OLD_INCARNATION);
	CHECK(ok(&r, 0, pkt(3, 0, 2, SELF, 10), WIRE_ORDER_NEWEST));

	TEST("rejections_and_unproven_packets_leave_the_state_alone");
	before = r;
	CHECK(rc(&r, 0, pkt(3, 0, 2, SELF, 11)) == WIRE_ERR_REPLAY);
	CHECK(rc(&r, 0, pkt(9, 0, 7, SELF, 10)) == WIRE_ERR_OLD_INCARNATION);
	CHECK(ok(&r, 0, pkt(9, 0, 8, 0, 0), WIRE_ORDER_UNPROVEN));
	CHECK(rc(&r, 0, pkt(9, 0, 0, SELF, 90)) == WIRE_ERR_REPLAY);
	CHECK(before.known == r.known && before.incarnation == r.incarnation &&
	      before.max_echo == r.max_echo && before.max_seq == r.max_seq &&
	      memcmp(before.seq, r.seq, sizeof(r.seq)) == 0);

	TEST("after_our_restart_nothing_captured_before_it_is_believed");
	memset(&r, 0, sizeof(r)); /* we restarted: SELF is new */
	CHECK(ok(&r, 0, pkt(3, 0, 500, SELF - 1, 400), WIRE_ORDER_UNPROVEN));
	CHECK(ok(&r, 0, pkt(3, 0, 501, 0, 0), WIRE_ORDER_UNPROVEN));
	CHECK(!r.known);
	CHECK(ok(&r, 0, pkt(3, 0, 502, SELF, 1), WIRE_ORDER_NEWEST));
	CHECK(rc(&r, 0, pkt(3, 0, 500, SELF - 1, 400)) == WIRE_ERR_REPLAY);
}

/*
 * Issue 11's measurement, as node-a lives it: node-a ACTIVE (term 1) and
 * its packets to node-b lost on both links. node-b takes over (term 2);
 * its first ACTIVE heartbeat reaches node-a on link 1 while the STANDBY
 * heartbeat it sent just before, on link 0, is 3 ms late. Before, node-a
 * took that late STANDBY for "node-b yielded" and took the EIP back: two
 * writes. Only packets newer than all reach the election (link.c does
 * exactly this), so node-a stays STANDBY and writes nothing more.
 */
struct pair {
	struct elect_state st;
	struct wire_replay r;
	uint64_t now;
	unsigned writes, fed;
};

static void
pair_step(struct pair *p, const struct elect_event *ev)
{
	struct elect_actions a;

	elect_step(&p->st, ev, p->now, &a);
	if (a.flags & ELECT_ACT_ACQUIRE)
		p->writes++;
}

static void
pair_until(struct pair *p, uint64_t t)
{
	struct elect_event tick = {.type = ELECT_EV_TICK};
	uint64_t d;
	int guard = 0;

	while ((d = elect_next_deadline(&p->st, p->now)) <= t &&
	       guard++ < 1000) {
		p->now = d;
		pair_step(p, &tick);
	}
	p->now = t;
}

static void
pair_recv(struct pair *p, uint64_t t, unsigned link, uint64_t seq,
	  enum wire_state state, uint64_t term)
{
	struct wire_msg m = pkt(5, link, seq, SELF, 1);
	enum wire_order order;
	struct elect_event ev;

	pair_until(p, t);
	m.state = state;
	m.term = term;
	m.priority = 50;
	m.flags = state == WIRE_STATE_ACTIVE ? WIRE_FLAG_HOLDS : 0;
	CHECK(wire_replay_check(&p->r, link, &m, SELF, &order) == WIRE_OK);
	if (order != WIRE_ORDER_NEWEST)
		return;
	p->fed++;
	elect_map_msg(&m, &ev);
	pair_step(p, &ev);
}

static void
test_order_across_links(void)
{
	struct elect_params ep;
	struct elect_event ev;
	struct pair p;
	uint64_t seq = 1, t;

	TEST("late_heartbeat_on_the_other_link_does_not_undo_a_step_down");
	memset(&ep, 0, sizeof(ep));
	strcpy(ep.self_name, "node-a");
	strcpy(ep.peer_name, "node-b");
	ep.self_priority = 100;
	ep.peer_priority = 50;
	ep.failback_delay_ms = 30000;
	ep.startup_wait_ms = 3000;
	ep.timeout_ms = 1000;
	ep.monitor_interval_ms = 60000;
	ep.migration_threshold = 1;
	memset(&p, 0, sizeof(p));
	elect_init(&p.st, &ep, 0);
	memset(&ev, 0, sizeof(ev));
	ev.type = ELECT_EV_START;
	pair_step(&p, &ev);
	pair_until(&p, 100);
	ev.type = ELECT_EV_OWNER;
	ev.owner = ELECT_OWNER_NONE;
	pair_step(&p, &ev);
	pair_until(&p, 3000);
	CHECK(elect_role(&p.st) == ELECT_ACTIVE && p.writes == 1);
	ev.type = ELECT_EV_ACQUIRED;
	ev.ok = 1;
	pair_step(&p, &ev);
	CHECK(elect_term(&p.st) == 1);

	/* node-b, STANDBY, heard on both links; node-a's packets are lost */
	for (t = 3200; t < 4000; t += 200, seq++) {
		pair_recv(&p, t, 0, seq, WIRE_STATE_STANDBY, 1);
		pair_recv(&p, t + 1, 1, seq, WIRE_STATE_STANDBY, 1);
	}
	CHECK(elect_role(&p.st) == ELECT_ACTIVE);
	/* seq: STANDBY, sent on link 1 at once, on link 0 late */
	pair_recv(&p, 4000, 1, seq, WIRE_STATE_STANDBY, 1);
	/* seq + 1: node-b took over; link 1 overtakes link 0 */
	pair_recv(&p, 4010, 1, seq + 1, WIRE_STATE_ACTIVE, 2);
	CHECK(elect_role(&p.st) == ELECT_STANDBY);
	pair_recv(&p, 4013, 0, seq, WIRE_STATE_STANDBY, 1);
	CHECK(elect_role(&p.st) == ELECT_STANDBY);
	pair_recv(&p, 4014, 0, seq + 1, WIRE_STATE_ACTIVE, 2);
	seq += 2;
	for (t = 4200; t < 12000; t += 200, seq++) {
		pair_recv(&p, t, 1, seq, WIRE_STATE_ACTIVE, 2);
		pair_recv(&p, t + 3, 0, seq, WIRE_STATE_ACTIVE, 2);
	}
	CHECK(elect_role(&p.st) == ELECT_STANDBY);
	CHECK(elect_term(&p.st) == 1);
	CHECK(p.writes == 1);
	CHECK(p.r.seq[0] == seq - 1 && p.r.seq[1] == seq - 1);
}

static void
test_echo(void)
{
	struct wire_echo e;
	uint32_t rtt = 12345;

	TEST("rtt_is_now_minus_sent_minus_hold");
	memset(&e, 0, sizeof(e));
	wire_echo_sent(&e, 7, 1000);
	wire_echo_sent(&e, 8, 1200);
	CHECK(wire_echo_rtt(&e, 7, 30, 1100, &rtt) == 0 && rtt == 70);
	CHECK(wire_echo_rtt(&e, 8, 0, 1203, &rtt) == 0 && rtt == 3);

	TEST("rtt_never_negative");
	CHECK(wire_echo_rtt(&e, 8, 50, 1210, &rtt) == 0 && rtt == 0);

	TEST("unknown_or_forgotten_echo_gives_no_rtt");
	CHECK(wire_echo_rtt(&e, 0, 0, 1300, &rtt) == -1);
	CHECK(wire_echo_rtt(&e, 9, 0, 1300, &rtt) == -1);
	wire_echo_sent(&e, 7 + WIRE_ECHO_SLOTS, 1400);
	CHECK(wire_echo_rtt(&e, 7, 0, 1500, &rtt) == -1);
	CHECK(wire_echo_rtt(&e, 7 + WIRE_ECHO_SLOTS, 0, 1500, &rtt) == 0 &&
	      rtt == 100);
}

static void
test_names(void)
{
	int i, j, distinct = 1;

	TEST("every_rejection_reason_has_its_own_name");
	for (i = 0; i < WIRE_ERR_COUNT; i++) {
		const char *a = wire_err_name((enum wire_err)i);

		CHECK(strcmp(a, "unknown") != 0);
		for (j = 0; j < i; j++)
			if (strcmp(a, wire_err_name((enum wire_err)j)) == 0)
				distinct = 0;
	}
	CHECK(distinct);
	CHECK(strcmp(wire_err_name(WIRE_ERR_BAD_MAC), "bad-mac") == 0);
}

static int
write_seed(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return 1;
	}
	return fclose(f) == 0 ? 0 : 1;
}

/*
 * Seeds in fuzz_wire's input format: one mode byte (bit 0: re-sign each
 * packet, bit 1: the rest is one datagram), then (link byte, packet)*.
 */
static int
write_seeds(const char *dir)
{
	struct wire_msg m = sample();
	uint8_t in[1 + 3 * (1 + LEN)];
	size_t off;
	int bad = 0, i;

	in[0] = 2;
	encode(&m, in + 1);
	bad |= write_seed(dir, "heartbeat", in, 1 + LEN);
	m.type = WIRE_LEAVE;
	m.seq = 2;
	encode(&m, in + 1);
	bad |= write_seed(dir, "leave", in, 1 + LEN);
	bad |= write_seed(dir, "truncated", in, 1 + 100);
	in[0] = 0;
	off = 1;
	for (i = 0; i < 3; i++) {
		m = sample();
		m.link = (uint8_t)(i == 2);
		m.seq = (uint64_t)i + 1;
		m.stamp_ms = NOW + (uint64_t)i * 200;
		m.echo_incarnation = SELF;
		m.echo_seq = (uint64_t)i + 1;
		in[off++] = m.link;
		encode(&m, in + off);
		off += LEN;
	}
	bad |= write_seed(dir, "sequence", in, off);
	in[0] = 1;
	in[1 + 1 + 7] = 9; /* a signed but malformed state */
	bad |= write_seed(dir, "resigned-malformed", in, 1 + 1 + LEN);
	return bad;
}

int
main(int argc, char **argv)
{
	if (wire_key_init(&K, KEY, sizeof(KEY)) == -1)
		return 1;
	if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
		return write_seeds(argv[2]);
	log_init(LOG_LEVEL_INFO);

	test_round_trip();
	test_layout();
	test_encode_refuses();
	test_header_rejections();
	test_mac_rejections();
	test_malformed();
	test_sender();
	test_replay();
	test_order_across_links();
	test_echo();
	test_names();
	return check_done();
}
