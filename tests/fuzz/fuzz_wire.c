/*
 * fuzz_wire.c - arbitrary datagrams into wire_decode, and what gets through
 * into wire_check_sender and wire_replay_check.
 *
 * Input: one mode byte, then (link byte, packet of WIRE_PACKET_LEN bytes)*;
 * a shorter tail is one last datagram. Mode bit 1: the whole rest is a
 * single datagram of any length. Mode bit 0: re-sign every packet with the
 * fixed key first, so the fuzzer reaches the checks behind the MAC (it
 * cannot forge HMAC-SHA256 by itself).
 */
#include "wire.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define NOW 1700000000000ull
#define SELF 0xabcdef0102030405ull /* the receiver's incarnation */

static const char CLUSTER[] = "web";
static const uint8_t KEY[32] = "0123456789abcdef0123456789abcdef";

static void
resign(uint8_t *pkt)
{
	uint8_t in[2 + sizeof(CLUSTER) - 1 + WIRE_PACKET_LEN - WIRE_MAC_LEN];
	size_t n = sizeof(CLUSTER) - 1;
	unsigned int maclen;

	in[0] = 0;
	in[1] = (uint8_t)n;
	memcpy(in + 2, CLUSTER, n);
	memcpy(in + 2 + n, pkt, WIRE_PACKET_LEN - WIRE_MAC_LEN);
	HMAC(EVP_sha256(), KEY, sizeof(KEY), in, sizeof(in),
	     pkt + WIRE_PACKET_LEN - WIRE_MAC_LEN, &maclen);
}

/*
 * What decodes must encode back to the same bytes; only the reserved bytes
 * 11 and 76..79 (ignored on receipt, sent as zero) and hence the MAC may
 * differ.
 */
static int
same_packet(const uint8_t *a, const uint8_t *b)
{
	static const uint8_t zero[4];

	if (b[11] == 0 && memcmp(b + 76, zero, 4) == 0)
		return memcmp(a, b, WIRE_PACKET_LEN) == 0;
	return memcmp(a, b, 11) == 0 && memcmp(a + 12, b + 12, 76 - 12) == 0 &&
	       memcmp(a + 80, b + 80, WIRE_PACKET_LEN - WIRE_MAC_LEN - 80) == 0;
}

static void
one(struct wire_replay *r, unsigned link, const uint8_t *p, size_t n, int sign)
{
	uint8_t buf[WIRE_PACKET_LEN], again[WIRE_PACKET_LEN];
	struct wire_msg m;
	struct wire_key k;
	uint32_t rtt;
	struct wire_echo e;
	enum wire_order order;

	if (wire_key_init(&k, KEY, sizeof(KEY)) == -1)
		__builtin_trap();
	if (sign && n == WIRE_PACKET_LEN) {
		memcpy(buf, p, n);
		/* our key's id (bytes 72..75), so the MAC is what is judged */
		buf[72] = (uint8_t)(k.id >> 24);
		buf[73] = (uint8_t)(k.id >> 16);
		buf[74] = (uint8_t)(k.id >> 8);
		buf[75] = (uint8_t)k.id;
		resign(buf);
		p = buf;
	}
	if (wire_decode(p, n, CLUSTER, &k, 1, &m, NULL) != WIRE_OK)
		return;
	if (wire_check_sender(&m, "node-a", "node-b") != WIRE_OK)
		return;
	(void)wire_err_name(wire_replay_check(r, link, &m, SELF, &order));
	(void)wire_type_name(m.type);
	(void)wire_state_name(m.state);
	memset(&e, 0, sizeof(e));
	wire_echo_sent(&e, m.seq, NOW);
	(void)wire_echo_rtt(&e, m.echo_seq, m.echo_hold_ms, NOW, &rtt);
	if (wire_encode(&m, CLUSTER, &k, again, sizeof(again)) !=
	    WIRE_PACKET_LEN)
		__builtin_trap();
	if (!same_packet(again, p))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_replay r;
	unsigned mode, link;
	size_t n;

	if (size == 0)
		return 0;
	memset(&r, 0, sizeof(r));
	mode = data[0];
	data++;
	size--;
	if (mode & 2) {
		one(&r, 0, data, size, mode & 1);
		return 0;
	}
	while (size > 0) {
		link = data[0] % (WIRE_MAX_LINKS + 1);
		data++;
		size--;
		n = size < WIRE_PACKET_LEN ? size : WIRE_PACKET_LEN;
		one(&r, link, data, n, mode & 1);
		data += n;
		size -= n;
	}
	return 0;
}
