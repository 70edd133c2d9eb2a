/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Packet parser of the queuer: raw IPv4/IPv6 bytes to "is this a SYN, from
 * whom, to where". Pure: no libnetfilter, no allocation, no global state, so
 * the unit test and the fuzzer include parse.c alone. */
#ifndef PEPSAL_QUEUER_PARSE_H
#define PEPSAL_QUEUER_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "pepsal_endpoint.h"

/* The longest IPv6 extension header chain the parser walks before giving up. */
#define QUEUER_PARSE_MAX_EXTHDRS 8

enum queuer_parse_result {
	QP_SYN = 0,      /* TCP SYN without ACK/RST/FIN: client and dst are set */
	QP_NOT_SYN,      /* well-formed TCP, but not an opening SYN */
	QP_NOT_TCP,      /* well-formed IP carrying something else (or ESP, no next header) */
	QP_FRAGMENT,     /* an IP fragment: never a SYN we can record */
	QP_TRUNCATED,    /* the bytes stop before the TCP flags */
	QP_MALFORMED,    /* inconsistent header fields */
	QP_RESULT_COUNT,
};

struct queuer_parsed {
	struct pepsal_endpoint client; /* source address and port of the SYN */
	struct pepsal_endpoint dst;    /* destination address and port */
	uint8_t tcp_flags;             /* the TCP flags byte, when TCP was reached */
	uint8_t tos;                   /* IPv4 TOS / IPv6 traffic class (DSCP and ECN) */
	uint32_t isn;                  /* for QP_SYN: the initial sequence number */
	const char *why;               /* for anything but QP_SYN: a short reason */
};

/* Parse the LEN bytes at PKT (a network-layer packet, possibly cut short by
 * the copy range: WIRE_LEN is its length on the wire, or 0 if unknown).
 * Never reads outside [PKT, PKT + LEN). */
enum queuer_parse_result queuer_parse(const uint8_t *pkt, size_t len, size_t wire_len,
				      struct queuer_parsed *out);
const char *queuer_parse_result_name(enum queuer_parse_result r);

#endif
