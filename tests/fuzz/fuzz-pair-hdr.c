// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness of the pair header's decoder (proxy/pair_hdr.c), which
 * reads what any host that reaches a gateway sends. Each input is decoded
 * as it is (after 8 bytes taken as the gateway's clock), and also becomes
 * the fields of a header that is encoded with the key, decoded (it must
 * come back as it went, or be refused as malformed for what the encoder
 * does not check), then altered in one byte (it must be refused). A header
 * the decoder accepts must hold what pair_hdr.h promises.
 */
#include <string.h>
#include <sys/socket.h>

#include "../../proxy/pair_hdr.c"

#define WINDOW_S 30

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct pair_key key = { "a key of the pair, 32 bytes long", 32 };

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* What an accepted header must be. */
static void check_accepted(const struct pair_hdr *h, uint64_t now_s)
{
	int fam = h->dst.family;

	if ((fam != AF_INET && fam != AF_INET6) || h->client.family != fam)
		__builtin_trap();
	if (h->kind != PAIR_KIND_CONN && h->kind != PAIR_KIND_PROBE &&
	    h->kind != PAIR_KIND_CONFIRM)
		__builtin_trap();
	if (h->tos < PAIR_TOS_UNKNOWN || h->tos > 255)
		__builtin_trap();
	if (!h->dst.port && h->kind != PAIR_KIND_PROBE)
		__builtin_trap();
	if (fam == AF_INET && (memcmp(h->client.addr + 4, (uint8_t[12]){ 0 }, 12) ||
			       memcmp(h->dst.addr + 4, (uint8_t[12]){ 0 }, 12)))
		__builtin_trap();
	if ((h->time_s < now_s ? now_s - h->time_s : h->time_s - now_s) > WINDOW_S)
		__builtin_trap();
}

/* The input as the fields of a header: encode, decode, alter. */
static void round_trip(const uint8_t *data, size_t size)
{
	uint8_t in[64] = { 0 }, buf[PAIR_HDR_LEN];
	struct pair_hdr h = { 0 }, out;
	enum pair_hdr_status st;
	int fam;

	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
	fam = in[0] & 1 ? AF_INET6 : AF_INET;
	h.kind = (enum pair_kind)(in[1] % 3);
	h.tos = in[2] == 0xff ? PAIR_TOS_UNKNOWN : in[2];
	pepsal_endpoint_set(&h.client, fam, in + 4, (uint16_t)(in[20] << 8 | in[21]));
	pepsal_endpoint_set(&h.dst, fam, in + 22, (uint16_t)(in[38] << 8 | in[39]));
	memcpy(h.nonce, in + 40, PAIR_NONCE_LEN);
	h.time_s = get64(in + 56);
	pair_hdr_encode(&h, &key, buf);
	st = pair_hdr_decode(buf, sizeof(buf), &key, h.time_s, WINDOW_S, &out);
	if (st == PAIR_HDR_OK) {
		check_accepted(&out, h.time_s);
		if (out.kind != h.kind || out.tos != h.tos || out.time_s != h.time_s ||
		    !pepsal_endpoint_equal(&out.client, &h.client) ||
		    !pepsal_endpoint_equal(&out.dst, &h.dst) ||
		    memcmp(out.nonce, h.nonce, PAIR_NONCE_LEN))
			__builtin_trap();
	} else if (st != PAIR_HDR_FIELD || (h.dst.port && h.kind != PAIR_KIND_PROBE)) {
		/* only a CONN or CONFIRM toward port 0 is the encoder's to refuse */
		__builtin_trap();
	}
	/* one byte altered, anywhere: never accepted */
	buf[in[3] % PAIR_HDR_LEN] ^= (uint8_t)(in[0] | 1);
	if (pair_hdr_decode(buf, sizeof(buf), &key, h.time_s, WINDOW_S, &out) == PAIR_HDR_OK)
		__builtin_trap();
	/* another key: never accepted */
	pair_hdr_encode(&h, &key, buf);
	if (pair_hdr_decode(buf, sizeof(buf), &(struct pair_key){ "another key, 16b", 16 },
			    h.time_s, WINDOW_S, &out) == PAIR_HDR_OK)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pair_hdr out;
	enum pair_hdr_status st;
	uint64_t now_s;

	round_trip(data, size);
	if (size < 8)
		return 0;
	now_s = get64(data);
	st = pair_hdr_decode(data + 8, size - 8, &key, now_s, WINDOW_S, &out);
	if (st == PAIR_HDR_OK)
		check_accepted(&out, now_s);
	else if (st < PAIR_HDR_TIME || !strcmp(pair_hdr_strerror(st), "?"))
		__builtin_trap();
	return 0;
}
