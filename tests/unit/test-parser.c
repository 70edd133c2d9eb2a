// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the queuer's packet parser (queuer/parse.c) with crafted
 * IPv4 and IPv6 packets: SYNs with and without options, other TCP flags,
 * every truncation length, bad header fields, IPv6 extension headers and
 * fragments, and seeded random bytes. */
#include <arpa/inet.h>
#include <glib.h>
#include <string.h>

#include "../../queuer/parse.h"

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

static const uint8_t C4[4] = { 198, 18, 1, 2 }, S4[4] = { 198, 18, 2, 2 };
static const uint8_t C6[16] = { 0xfd, 0, 0, 1, [15] = 2 }, S6[16] = { 0xfd, 0, 0, 2, [15] = 2 };
#define CPORT 40000
#define SPORT 80

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A TCP header of DOFF words (options are NOPs) with FLAGS at P. */
static size_t put_tcp(uint8_t *p, unsigned int doff, uint8_t flags)
{
	memset(p, 0, doff * 4);
	put16(p, CPORT);
	put16(p + 2, SPORT);
	p[12] = (uint8_t)(doff << 4);
	p[13] = flags;
	put16(p + 14, 64240);
	memset(p + 20, 1, doff * 4 - 20);
	return doff * 4;
}

/* IPv4 with IHL words of header, a TCP header of DOFF words and PAYLOAD
 * bytes of data. Returns the total length. */
static size_t build_v4(uint8_t *buf, unsigned int ihl, unsigned int doff, uint8_t flags,
		       size_t payload)
{
	size_t hl = ihl * 4, len;

	memset(buf, 0, hl);
	buf[0] = (uint8_t)(0x40 | ihl);
	buf[8] = 64;
	buf[9] = 6;
	put16(buf + 6, 0x4000); /* DF */
	memcpy(buf + 12, C4, 4);
	memcpy(buf + 16, S4, 4);
	memset(buf + 20, 1, hl - 20); /* NOP options */
	len = hl + put_tcp(buf + hl, doff, flags);
	memset(buf + len, 'x', payload);
	len += payload;
	put16(buf + 2, (uint16_t)len);
	return len;
}

/* IPv6 with the extension headers in EXT (protocol numbers, 0-terminated
 * list given with its length N), then TCP. Returns the total length. */
static size_t build_v6(uint8_t *buf, const uint8_t *ext, size_t n, unsigned int doff,
		       uint8_t flags)
{
	size_t off = 40;
	uint8_t *nh = buf + 6;

	memset(buf, 0, 40);
	buf[0] = 0x60;
	buf[7] = 64;
	memcpy(buf + 8, C6, 16);
	memcpy(buf + 24, S6, 16);
	for (size_t i = 0; i < n; i++) {
		size_t hlen = ext[i] == 51 ? 12 : ext[i] == 44 ? 8 : 16;

		*nh = ext[i];
		memset(buf + off, 0, hlen);
		if (ext[i] == 51)
			buf[off + 1] = 1;        /* AH: (1 + 2) * 4 = 12 bytes */
		else if (ext[i] != 44)
			buf[off + 1] = 1;        /* (1 + 1) * 8 = 16 bytes */
		nh = buf + off;
		off += hlen;
	}
	*nh = 6;
	off += put_tcp(buf + off, doff, flags);
	put16(buf + 4, (uint16_t)(off - 40));
	return off;
}

static enum queuer_parse_result parse(const uint8_t *b, size_t len, size_t wire,
				      struct queuer_parsed *p)
{
	return queuer_parse(b, len, wire, p);
}

static void assert_syn(const uint8_t *b, size_t len, size_t wire, int family)
{
	struct queuer_parsed p;
	enum queuer_parse_result r = parse(b, len, wire, &p);

	g_assert_cmpstr(queuer_parse_result_name(r), ==, "syn");
	g_assert_cmpint(p.client.family, ==, family);
	g_assert_cmpint(p.dst.family, ==, family);
	g_assert_cmpint(p.client.port, ==, CPORT);
	g_assert_cmpint(p.dst.port, ==, SPORT);
	g_assert_cmpmem(p.client.addr, family == AF_INET ? 4 : 16,
			family == AF_INET ? C4 : C6, family == AF_INET ? 4 : 16);
	g_assert_cmpmem(p.dst.addr, family == AF_INET ? 4 : 16,
			family == AF_INET ? S4 : S6, family == AF_INET ? 4 : 16);
	g_assert_null(p.why);
}

static void assert_result(const uint8_t *b, size_t len, size_t wire,
			  enum queuer_parse_result want)
{
	struct queuer_parsed p;
	enum queuer_parse_result r = parse(b, len, wire, &p);

	g_assert_cmpstr(queuer_parse_result_name(r), ==, queuer_parse_result_name(want));
	g_assert_nonnull(p.why);
}

/* ---- SYNs ------------------------------------------------------------ */

static void test_v4_syn(void)
{
	uint8_t b[256];
	size_t n = build_v4(b, 5, 5, TCPF_SYN, 0);

	assert_syn(b, n, 0, AF_INET);
	assert_syn(b, n, n, AF_INET);
}

static void test_v4_syn_options(void)
{
	uint8_t b[256];

	for (unsigned int ihl = 5; ihl <= 15; ihl++)
		for (unsigned int doff = 5; doff <= 15; doff++) {
			size_t n = build_v4(b, ihl, doff, TCPF_SYN, 0);

			assert_syn(b, n, 0, AF_INET);
		}
	/* SYN with data (TCP Fast Open) and ECN/CWR flags is still a SYN */
	assert_syn(b, build_v4(b, 5, 10, TCPF_SYN | 0xc0, 100), 0, AF_INET);
}

static void test_v6_syn(void)
{
	uint8_t b[512];

	assert_syn(b, build_v6(b, NULL, 0, 5, TCPF_SYN), 0, AF_INET6);
	assert_syn(b, build_v6(b, NULL, 0, 15, TCPF_SYN), 0, AF_INET6);
}

static void test_v6_ext_headers(void)
{
	static const uint8_t chains[][4] = {
		{ 0 }, { 43 }, { 60 }, { 51 }, { 0, 43, 60 }, { 0, 60, 43, 51 },
	};
	static const size_t lens[] = { 1, 1, 1, 1, 3, 4 };
	uint8_t b[512];

	for (size_t i = 0; i < G_N_ELEMENTS(chains); i++)
		assert_syn(b, build_v6(b, chains[i], lens[i], 5, TCPF_SYN), 0, AF_INET6);
}

/* ---- not SYNs -------------------------------------------------------- */

static void test_other_flags(void)
{
	static const uint8_t flags[] = {
		TCPF_SYN | TCPF_ACK, TCPF_RST, TCPF_ACK, TCPF_RST | TCPF_ACK, 0,
		TCPF_SYN | TCPF_RST, TCPF_SYN | TCPF_FIN, TCPF_FIN | TCPF_ACK,
	};
	uint8_t b[512];

	for (size_t i = 0; i < G_N_ELEMENTS(flags); i++) {
		struct queuer_parsed p;

		assert_result(b, build_v4(b, 5, 5, flags[i], 0), 0, QP_NOT_SYN);
		assert_result(b, build_v6(b, NULL, 0, 5, flags[i]), 0, QP_NOT_SYN);
		parse(b, build_v4(b, 5, 5, flags[i], 0), 0, &p);
		g_assert_cmpint(p.tcp_flags, ==, flags[i]);
	}
}

static void test_not_tcp(void)
{
	static const uint8_t esp[] = { 50 };
	uint8_t b[512];
	size_t n = build_v4(b, 5, 5, TCPF_SYN, 0);

	b[9] = 17; /* UDP */
	assert_result(b, n, 0, QP_NOT_TCP);
	n = build_v6(b, NULL, 0, 5, TCPF_SYN);
	b[6] = 58; /* ICMPv6 */
	assert_result(b, n, 0, QP_NOT_TCP);
	b[6] = 59; /* no next header */
	assert_result(b, n, 0, QP_NOT_TCP);
	/* ESP hides the transport header */
	n = build_v6(b, esp, 1, 5, TCPF_SYN);
	assert_result(b, n, 0, QP_NOT_TCP);
}

static void test_v6_too_many_ext_headers(void)
{
	uint8_t chain[QUEUER_PARSE_MAX_EXTHDRS + 1], b[1024];

	memset(chain, 60, sizeof(chain));
	assert_syn(b, build_v6(b, chain, QUEUER_PARSE_MAX_EXTHDRS, 5, TCPF_SYN), 0, AF_INET6);
	assert_result(b, build_v6(b, chain, sizeof(chain), 5, TCPF_SYN), 0, QP_NOT_TCP);
}

/* ---- fragments ------------------------------------------------------- */

static void test_v4_fragments(void)
{
	uint8_t b[256];
	size_t n = build_v4(b, 5, 5, TCPF_SYN, 0);

	put16(b + 6, 0x2000); /* MF, offset 0: first fragment */
	assert_result(b, n, 0, QP_FRAGMENT);
	put16(b + 6, 0x0010); /* offset 16 * 8 */
	assert_result(b, n, 0, QP_FRAGMENT);
	put16(b + 6, 0x0000); /* no DF: a whole packet */
	assert_syn(b, n, 0, AF_INET);
}

static void test_v6_fragments(void)
{
	static const uint8_t frag[] = { 44 }, frag_after_hop[] = { 0, 44 };
	uint8_t b[512];
	size_t n = build_v6(b, frag, 1, 5, TCPF_SYN);

	assert_syn(b, n, 0, AF_INET6); /* atomic fragment (RFC 6946) */
	put16(b + 42, 0x0001);          /* M flag: first fragment */
	assert_result(b, n, 0, QP_FRAGMENT);
	put16(b + 42, 0x0008);          /* offset 1, last fragment */
	assert_result(b, n, 0, QP_FRAGMENT);
	n = build_v6(b, frag_after_hop, 2, 5, TCPF_SYN);
	put16(b + 40 + 16 + 2, 0x0001);
	assert_result(b, n, 0, QP_FRAGMENT);
}

/* ---- truncation ------------------------------------------------------ */

/* Every prefix of PKT: as a copy-range cut (wire length known) it is a SYN
 * once the first 20 TCP bytes are in, truncated before; claimed as the whole
 * packet it is never a SYN. */
static void check_truncations(const uint8_t *b, size_t n, size_t tcp_off, int family)
{
	for (size_t len = 0; len < n; len++) {
		struct queuer_parsed p;
		enum queuer_parse_result r;

		if (len >= tcp_off + 20) {
			assert_syn(b, len, n, family);
		} else {
			assert_result(b, len, n, QP_TRUNCATED);
		}
		r = parse(b, len, 0, &p);
		g_assert_cmpint(r, !=, QP_SYN);
		g_assert_true(r == QP_TRUNCATED || r == QP_MALFORMED);
	}
}

static void test_truncation(void)
{
	static const uint8_t chain[] = { 0, 43, 44, 60, 51 };
	uint8_t b[512];

	check_truncations(b, build_v4(b, 5, 5, TCPF_SYN, 0), 20, AF_INET);
	check_truncations(b, build_v4(b, 15, 15, TCPF_SYN, 10), 60, AF_INET);
	check_truncations(b, build_v6(b, NULL, 0, 10, TCPF_SYN), 40, AF_INET6);
	check_truncations(b, build_v6(b, chain, sizeof(chain), 5, TCPF_SYN),
			  40 + 16 + 16 + 8 + 16 + 12, AF_INET6);
}

/* ---- bad header fields ----------------------------------------------- */

static void test_v4_bad_ihl(void)
{
	uint8_t b[256];
	size_t n = build_v4(b, 5, 5, TCPF_SYN, 0);

	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		b[0] = (uint8_t)(0x40 | ihl);
		assert_result(b, n, 0, QP_MALFORMED);
	}
	/* header longer than the packet: IHL 15 = 60 bytes > 40 */
	b[0] = 0x4f;
	assert_result(b, n, 0, QP_MALFORMED);
}

static void test_v4_bad_total_length(void)
{
	uint8_t b[256];
	size_t n = build_v4(b, 5, 5, TCPF_SYN, 0);

	put16(b + 2, 19);                 /* below the header */
	assert_result(b, n, 0, QP_MALFORMED);
	put16(b + 2, (uint16_t)(n + 1));  /* beyond the packet */
	assert_result(b, n, 0, QP_MALFORMED);
	put16(b + 2, 0xffff);
	assert_result(b, n, n, QP_MALFORMED);
	put16(b + 2, 39);                 /* room for only 19 TCP bytes */
	assert_result(b, n, 0, QP_MALFORMED);
	put16(b + 2, 0);
	assert_result(b, n, 0, QP_MALFORMED);
	/* more bytes captured than the wire length is nonsense */
	put16(b + 2, (uint16_t)n);
	assert_result(b, n, n - 1, QP_MALFORMED);
}

static void test_v6_bad_lengths(void)
{
	static const uint8_t hop[] = { 0 };
	uint8_t b[512];
	size_t n = build_v6(b, NULL, 0, 5, TCPF_SYN);

	put16(b + 4, 0); /* jumbogram or empty */
	assert_result(b, n, 0, QP_MALFORMED);
	put16(b + 4, (uint16_t)(n - 40 + 1));
	assert_result(b, n, 0, QP_MALFORMED);
	put16(b + 4, 19);
	assert_result(b, n, 0, QP_MALFORMED);
	/* an extension header longer than the payload */
	n = build_v6(b, hop, 1, 5, TCPF_SYN);
	b[41] = 200;
	assert_result(b, n, 0, QP_MALFORMED);
}

static void test_bad_tcp(void)
{
	uint8_t b[256];
	size_t n = build_v4(b, 5, 5, TCPF_SYN, 0);

	b[20 + 12] = 4 << 4; /* data offset 4 */
	assert_result(b, n, 0, QP_MALFORMED);
	b[20 + 12] = 6 << 4; /* 24 bytes, segment has 20 */
	assert_result(b, n, 0, QP_MALFORMED);
	n = build_v4(b, 5, 5, TCPF_SYN, 0);
	put16(b + 20, 0); /* source port 0 */
	assert_result(b, n, 0, QP_MALFORMED);
	n = build_v4(b, 5, 5, TCPF_SYN, 0);
	put16(b + 22, 0); /* destination port 0 */
	assert_result(b, n, 0, QP_MALFORMED);
}

static void test_bad_version(void)
{
	uint8_t b[256];
	size_t n = build_v4(b, 5, 5, TCPF_SYN, 0);

	for (int v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		b[0] = (uint8_t)(v << 4 | 5);
		assert_result(b, n, 0, QP_MALFORMED);
	}
	assert_result(b, 0, 0, QP_TRUNCATED);
	assert_result(NULL, 0, 0, QP_TRUNCATED);
}

/* ---- random bytes ---------------------------------------------------- */

/* Seeded random mutations of valid SYNs: whatever the parser says, a SYN
 * verdict must carry endpoints of the packet's family and nonzero ports. */
static void test_random(void)
{
	GRand *rng = g_rand_new_with_seed(0x5e45a1);
	uint8_t b[512];

	for (int i = 0; i < 200000; i++) {
		size_t n = (i & 1) ? build_v4(b, 5 + (unsigned)(i % 11), 5, TCPF_SYN, 0)
				   : build_v6(b, NULL, 0, 5, TCPF_SYN);
		struct queuer_parsed p;
		int flips = g_rand_int_range(rng, 1, 4);

		for (int f = 0; f < flips; f++)
			b[g_rand_int_range(rng, 0, (gint32)n)] = (uint8_t)g_rand_int(rng);
		n = (size_t)g_rand_int_range(rng, 0, (gint32)n + 1);
		if (parse(b, n, 0, &p) == QP_SYN) {
			int fam = (b[0] >> 4) == 4 ? AF_INET : AF_INET6;

			g_assert_cmpint(p.client.family, ==, fam);
			g_assert_cmpint(p.dst.family, ==, fam);
			g_assert_cmpint(p.client.port, !=, 0);
			g_assert_cmpint(p.dst.port, !=, 0);
		} else {
			g_assert_nonnull(p.why);
		}
	}
	g_rand_free(rng);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/parser/ipv4/syn", test_v4_syn);
	g_test_add_func("/parser/ipv4/syn-options", test_v4_syn_options);
	g_test_add_func("/parser/ipv6/syn", test_v6_syn);
	g_test_add_func("/parser/ipv6/extension-headers", test_v6_ext_headers);
	g_test_add_func("/parser/ipv6/too-many-extension-headers", test_v6_too_many_ext_headers);
	g_test_add_func("/parser/other-flags", test_other_flags);
	g_test_add_func("/parser/not-tcp", test_not_tcp);
	g_test_add_func("/parser/ipv4/fragments", test_v4_fragments);
	g_test_add_func("/parser/ipv6/fragments", test_v6_fragments);
	g_test_add_func("/parser/truncation", test_truncation);
	g_test_add_func("/parser/ipv4/bad-ihl", test_v4_bad_ihl);
	g_test_add_func("/parser/ipv4/bad-total-length", test_v4_bad_total_length);
	g_test_add_func("/parser/ipv6/bad-lengths", test_v6_bad_lengths);
	g_test_add_func("/parser/bad-tcp", test_bad_tcp);
	g_test_add_func("/parser/bad-version", test_bad_version);
	g_test_add_func("/parser/random", test_random);
	return g_test_run();
}
