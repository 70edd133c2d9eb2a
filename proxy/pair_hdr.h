/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pair header: what the terminal-side pepsal writes first on each pair
 * connection, for the gateway-side pepsal to know where the client was
 * going and that the connection comes from a holder of the pre-shared key.
 * Fixed size, network byte order:
 *
 *   0  magic "PEP" and version 1            4 bytes
 *   4  family (4 or 6), DSCP byte (TOS; 0xff: unknown), kind (enum
 *      pair_kind), 1 reserved (zero)
 *   8  client address (16) and port (2)
 *  26  original destination address (16) and port (2)
 *  44  nonce                                16 bytes, random
 *  60  CLOCK_REALTIME seconds               8 bytes
 *  68  HMAC-SHA256 of bytes 0..67 with the key
 * 100
 *
 * Pure functions: no socket, no clock, no global.
 */
#ifndef PEPSAL_PROXY_PAIR_HDR_H
#define PEPSAL_PROXY_PAIR_HDR_H

#include <stddef.h>
#include <stdint.h>

#include "pepsal_endpoint.h"

#define PAIR_HDR_VERSION 1
#define PAIR_HDR_LEN 100
#define PAIR_NONCE_LEN 16
#define PAIR_MAC_LEN 32
#define PAIR_KEY_MIN 16   /* bytes of a key file, at least */
#define PAIR_KEY_MAX 256
#define PAIR_TOS_UNKNOWN (-1)

struct pair_key {
	uint8_t bytes[PAIR_KEY_MAX];
	size_t len;
};

/* What a pair connection is for. */
enum pair_kind {
	PAIR_KIND_CONN = 0,  /* a client's connection to relay */
	PAIR_KIND_PROBE = 1, /* the terminal checks that the gateway takes its
			      * headers (key, clocks): one byte back, then EOF */
	PAIR_KIND_CONFIRM = 2, /* a client's connection whose SYN the terminal
				* holds: one byte back once the server accepted */
};

#define PAIR_PROBE_OK 'K' /* the gateway's answer to a valid probe, or a confirm */

struct pair_hdr {
	enum pair_kind kind;
	struct pepsal_endpoint client; /* the client's address and port */
	struct pepsal_endpoint dst;    /* its original destination, same family */
	int tos;                       /* the client's TOS byte, or PAIR_TOS_UNKNOWN */
	uint8_t nonce[PAIR_NONCE_LEN];
	uint64_t time_s;               /* CLOCK_REALTIME seconds at the terminal */
};

/* Why a header was refused (pair_hdr_decode). */
enum pair_hdr_status {
	PAIR_HDR_OK = 0,
	PAIR_HDR_SHORT = -1,    /* fewer than PAIR_HDR_LEN bytes */
	PAIR_HDR_MAGIC = -2,    /* not a pair header */
	PAIR_HDR_VERSION_BAD = -3, /* a version this pepsal does not speak */
	PAIR_HDR_AUTH = -4,     /* the HMAC does not match: another key, or altered */
	PAIR_HDR_FIELD = -5,    /* authentic but malformed (family, kind, ports, reserved) */
	PAIR_HDR_TIME = -6,     /* authentic but outside the time window */
};

/* H (client and dst of one family) into OUT, the MAC with KEY. */
void pair_hdr_encode(const struct pair_hdr *h, const struct pair_key *key,
		     uint8_t out[PAIR_HDR_LEN]);
/* Check BUF (LEN bytes) with KEY, its time within WINDOW_S seconds of
 * NOW_S either way; PAIR_HDR_OK and *OUT filled, or why not. */
enum pair_hdr_status pair_hdr_decode(const uint8_t *buf, size_t len,
				     const struct pair_key *key, uint64_t now_s,
				     uint64_t window_s, struct pair_hdr *out);
/* What STATUS means, for a log line. */
const char *pair_hdr_strerror(enum pair_hdr_status status);
/* Read the key file PATH (its bytes, one trailing newline dropped): 0 or
 * -errno with ERR saying why (too short, too long, unreadable, open to
 * other users: -EACCES). */
int pair_key_load(const char *path, struct pair_key *key, char *err, size_t errlen);

#endif
