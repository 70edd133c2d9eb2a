// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the pair header (proxy/pair_hdr.c) and the replay cache
 * (proxy/pair_replay.c). */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../proxy/pair_hdr.h"
#include "../../proxy/pair_replay.h"

#define NOW 1764633600ull /* 2025-12-02 */
#define WINDOW 30

static const struct pair_key key = { .bytes = "0123456789abcdef0123456789abcdef", .len = 32 };

static struct pair_hdr sample(int family)
{
	struct pair_hdr h = { .tos = 0xb8, .time_s = NOW };

	if (family == AF_INET) {
		pepsal_endpoint_set(&h.client, AF_INET, (uint8_t[]){ 198, 18, 1, 2 }, 40001);
		pepsal_endpoint_set(&h.dst, AF_INET, (uint8_t[]){ 198, 18, 2, 2 }, 443);
	} else {
		uint8_t c[16] = { 0xfd, 0, 0, 1, [15] = 2 }, d[16] = { 0xfd, 0, 0, 2, [15] = 2 };

		pepsal_endpoint_set(&h.client, AF_INET6, c, 65535);
		pepsal_endpoint_set(&h.dst, AF_INET6, d, 1);
	}
	for (int i = 0; i < PAIR_NONCE_LEN; i++)
		h.nonce[i] = (uint8_t)(i * 37 + family);
	return h;
}

static void assert_same(const struct pair_hdr *a, const struct pair_hdr *b)
{
	g_assert_true(pepsal_endpoint_equal(&a->client, &b->client));
	g_assert_true(pepsal_endpoint_equal(&a->dst, &b->dst));
	g_assert_cmpint(a->tos, ==, b->tos);
	g_assert_cmpmem(a->nonce, PAIR_NONCE_LEN, b->nonce, PAIR_NONCE_LEN);
	g_assert_cmpuint(a->time_s, ==, b->time_s);
}

static void test_round_trip(void)
{
	int families[] = { AF_INET, AF_INET6 };

	for (unsigned int i = 0; i < G_N_ELEMENTS(families); i++) {
		struct pair_hdr h = sample(families[i]), out;
		uint8_t buf[PAIR_HDR_LEN + 10];

		memset(buf, 0xee, sizeof(buf));
		pair_hdr_encode(&h, &key, buf);
		g_assert_cmpuint(buf[PAIR_HDR_LEN], ==, 0xee); /* nothing written beyond */
		g_assert_cmpint(pair_hdr_decode(buf, PAIR_HDR_LEN, &key, NOW, WINDOW, &out), ==,
				PAIR_HDR_OK);
		assert_same(&h, &out);
		/* longer input (the client's first bytes behind): the header alone */
		g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &key, NOW, WINDOW, &out), ==,
				PAIR_HDR_OK);
	}
	/* an unknown TOS travels as unknown */
	struct pair_hdr h = sample(AF_INET), out;
	uint8_t buf[PAIR_HDR_LEN];

	h.tos = PAIR_TOS_UNKNOWN;
	pair_hdr_encode(&h, &key, buf);
	g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &key, NOW, WINDOW, &out), ==, PAIR_HDR_OK);
	g_assert_cmpint(out.tos, ==, PAIR_TOS_UNKNOWN);
}

static void test_wrong_key(void)
{
	struct pair_hdr h = sample(AF_INET), out;
	struct pair_key other = key;
	uint8_t buf[PAIR_HDR_LEN];

	pair_hdr_encode(&h, &key, buf);
	other.bytes[31] ^= 1;
	g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &other, NOW, WINDOW, &out), ==,
			PAIR_HDR_AUTH);
	other = key;
	other.len = 31; /* a prefix of the key is another key */
	g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &other, NOW, WINDOW, &out), ==,
			PAIR_HDR_AUTH);
}

static void test_truncated(void)
{
	struct pair_hdr h = sample(AF_INET6), out;
	uint8_t buf[PAIR_HDR_LEN];

	pair_hdr_encode(&h, &key, buf);
	for (size_t n = 0; n < PAIR_HDR_LEN; n++)
		g_assert_cmpint(pair_hdr_decode(buf, n, &key, NOW, WINDOW, &out), ==,
				PAIR_HDR_SHORT);
}

static void test_bit_flips(void)
{
	struct pair_hdr h = sample(AF_INET), out;
	uint8_t buf[PAIR_HDR_LEN];

	pair_hdr_encode(&h, &key, buf);
	for (int bit = 0; bit < PAIR_HDR_LEN * 8; bit++) {
		int st;

		buf[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		st = pair_hdr_decode(buf, sizeof(buf), &key, NOW, WINDOW, &out);
		/* never accepted; the magic and version are looked at first */
		if (bit < 24)
			g_assert_cmpint(st, ==, PAIR_HDR_MAGIC);
		else if (bit < 32)
			g_assert_cmpint(st, ==, PAIR_HDR_VERSION_BAD);
		else
			g_assert_cmpint(st, ==, PAIR_HDR_AUTH);
		buf[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &key, NOW, WINDOW, &out), ==, PAIR_HDR_OK);
}

static void test_version(void)
{
	struct pair_hdr h = sample(AF_INET), out;
	uint8_t buf[PAIR_HDR_LEN];

	pair_hdr_encode(&h, &key, buf);
	buf[3] = PAIR_HDR_VERSION + 1; /* a future version, even correctly signed */
	g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &key, NOW, WINDOW, &out), ==,
			PAIR_HDR_VERSION_BAD);
	buf[3] = 0;
	g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &key, NOW, WINDOW, &out), ==,
			PAIR_HDR_VERSION_BAD);
	g_assert_cmpstr(pair_hdr_strerror(PAIR_HDR_VERSION_BAD), ==, "unknown header version");
}

static void test_time(void)
{
	struct pair_hdr h = sample(AF_INET), out;
	uint8_t buf[PAIR_HDR_LEN];
	struct { uint64_t t; int want; } cases[] = {
		{ NOW - WINDOW, PAIR_HDR_OK }, { NOW + WINDOW, PAIR_HDR_OK },
		{ NOW - WINDOW - 1, PAIR_HDR_TIME }, { NOW + WINDOW + 1, PAIR_HDR_TIME },
		{ 0, PAIR_HDR_TIME }, { UINT64_MAX - 5, PAIR_HDR_TIME },
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		h.time_s = cases[i].t;
		pair_hdr_encode(&h, &key, buf);
		g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &key, NOW, WINDOW, &out), ==,
				cases[i].want);
	}
}

static void test_fields(void)
{
	struct pair_hdr h = sample(AF_INET), out;
	uint8_t buf[PAIR_HDR_LEN];

	/* signed but wrong: a port 0 destination */
	h.dst.port = 0;
	pair_hdr_encode(&h, &key, buf);
	g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &key, NOW, WINDOW, &out), ==,
			PAIR_HDR_FIELD);
}

static void test_kinds(void)
{
	struct pair_hdr h = sample(AF_INET6), out;
	uint8_t buf[PAIR_HDR_LEN];

	h.kind = PAIR_KIND_PROBE;
	memset(&h.dst.addr, 0, sizeof(h.dst.addr));
	h.dst.port = 0; /* a probe goes nowhere */
	pair_hdr_encode(&h, &key, buf);
	g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &key, NOW, WINDOW, &out), ==, PAIR_HDR_OK);
	g_assert_cmpint(out.kind, ==, PAIR_KIND_PROBE);
	h.kind = PAIR_KIND_CONFIRM + 1; /* unknown, even signed */
	pair_hdr_encode(&h, &key, buf);
	g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &key, NOW, WINDOW, &out), ==,
			PAIR_HDR_FIELD);
	h = sample(AF_INET);
	pair_hdr_encode(&h, &key, buf);
	g_assert_cmpint(pair_hdr_decode(buf, sizeof(buf), &key, NOW, WINDOW, &out), ==, PAIR_HDR_OK);
	g_assert_cmpint(out.kind, ==, PAIR_KIND_CONN);
}

static void test_key_file(void)
{
	char path[] = "/tmp/test-pair-key.XXXXXX", err[256];
	struct pair_key k;
	int fd = mkstemp(path);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, "short\n", 6), ==, 6);
	g_assert_cmpint(pair_key_load(path, &k, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "16 to 256 bytes"));
	g_assert_cmpint(write(fd, "0123456789abcdef\n", 17), ==, 17);
	g_assert_cmpint(pair_key_load(path, &k, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(k.len, ==, 22); /* the last newline dropped, the first kept */
	/* open to others (read, or write by the group): refused, naming the fix */
	g_assert_cmpint(fchmod(fd, 0644), ==, 0);
	g_assert_cmpint(pair_key_load(path, &k, err, sizeof(err)), ==, -EACCES);
	g_assert_nonnull(strstr(err, "chmod 600"));
	g_assert_cmpint(fchmod(fd, 0620), ==, 0);
	g_assert_cmpint(pair_key_load(path, &k, err, sizeof(err)), ==, -EACCES);
	g_assert_cmpint(fchmod(fd, 0640), ==, 0); /* a group that reads it: allowed */
	g_assert_cmpint(pair_key_load(path, &k, err, sizeof(err)), ==, 0);
	close(fd);
	unlink(path);
	g_assert_cmpint(pair_key_load(path, &k, err, sizeof(err)), ==, -ENOENT);
}

static void test_replay(void)
{
	struct pair_replay *r = pair_replay_new(WINDOW, 3);
	uint8_t n[4][PAIR_NONCE_LEN] = { { 1 }, { 2 }, { 3 }, { 4 } };

	g_assert_cmpint(pair_replay_check(r, n[0], NOW, NOW), ==, 0);
	g_assert_cmpint(pair_replay_check(r, n[0], NOW, NOW), ==, -EEXIST);
	g_assert_cmpint(pair_replay_check(r, n[0], NOW, NOW + WINDOW), ==, -EEXIST);
	g_assert_cmpint(pair_replay_check(r, n[1], NOW + 10, NOW), ==, 0);
	g_assert_cmpint(pair_replay_check(r, n[2], NOW, NOW), ==, 0);
	g_assert_cmpint(pair_replay_check(r, n[3], NOW, NOW), ==, -ENOSPC); /* full */
	g_assert_cmpuint(pair_replay_size(r), ==, 3);
	/* past the window the time check refuses the header: forgotten */
	g_assert_cmpint(pair_replay_check(r, n[3], NOW + WINDOW + 2, NOW + WINDOW + 2), ==, 0);
	g_assert_cmpuint(pair_replay_size(r), ==, 2); /* n[1] (10 s younger) and n[3] */
	g_assert_cmpint(pair_replay_check(r, n[1], NOW + 10, NOW + WINDOW + 2), ==, -EEXIST);
	pair_replay_free(r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pair/hdr/round-trip", test_round_trip);
	g_test_add_func("/pair/hdr/wrong-key", test_wrong_key);
	g_test_add_func("/pair/hdr/truncated", test_truncated);
	g_test_add_func("/pair/hdr/bit-flips", test_bit_flips);
	g_test_add_func("/pair/hdr/version", test_version);
	g_test_add_func("/pair/hdr/time", test_time);
	g_test_add_func("/pair/hdr/fields", test_fields);
	g_test_add_func("/pair/hdr/kinds", test_kinds);
	g_test_add_func("/pair/hdr/key-file", test_key_file);
	g_test_add_func("/pair/replay", test_replay);
	return g_test_run();
}
