/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hold channel between pepsal-queuer and pepsal: a SOCK_SEQPACKET
 * socketpair pepsal creates and hands its queuer child (--notify-fd). The
 * queuer holds a recorded SYN and asks the proxy to dial its destination
 * (one request per connection); the proxy answers with the outcome, and
 * the queuer gives the held SYN its verdict: marked (the proxy accepts it
 * over the connection it already has) or unmarked (end to end, so the
 * client sees the server's own refusal, ICMP error or silence).
 * A datagram carries one or more requests, or one or more answers
 * (net.unix.max_dgram_qlen is 10 by default: a burst of SYNs needs
 * batches); the queuer also takes an answer of the first layout (16 bytes,
 * no ICMP details) and ignores datagrams of other sizes.
 */
#ifndef PEPSAL_HOLD_H
#define PEPSAL_HOLD_H

#include <stdint.h>

#include "pepsal_endpoint.h"

/* queuer -> proxy: dial DST for the entry SLOT/GEN (CLIENT's SYN). */
struct pepsal_hold_req {
	uint32_t slot, gen;
	struct pepsal_endpoint client;
	struct pepsal_endpoint dst;
	uint8_t tos;      /* the SYN's TOS / traffic class (DSCP and ECN bits) */
	uint8_t pad[3];
	uint32_t timeout_ms; /* give up after this: the queuer stops holding */
};

/* proxy -> queuer: the dial's outcome, 0 (connected) or a negative errno;
 * when an ICMP or ICMPv6 error refused the dial, its type, code and sender
 * (icmp_family AF_INET or AF_INET6, 0: none), for the queuer to answer the
 * held SYN with the same error at once. */
struct pepsal_hold_ans {
	uint32_t slot, gen;
	int32_t err;
	uint8_t icmp_family;
	uint8_t icmp_type, icmp_code;
	uint8_t pad;
	uint8_t icmp_from[16]; /* the error's sender (IPv4: first 4 bytes) */
	uint32_t pad2;
};
#define PEPSAL_HOLD_ANS_V1_SIZE 16 /* slot, gen, err, pad */

#endif
