/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hold channel between pepsal-queuer and pepsal: a SOCK_SEQPACKET
 * socketpair pepsal creates and hands its queuer child (--notify-fd). The
 * queuer holds a recorded SYN and asks the proxy to dial its destination
 * (one request per connection); the proxy answers with the outcome, and
 * the queuer gives the held SYN its verdict: marked (the proxy accepts it
 * over the connection it already has) or unmarked (end to end, so the
 * client sees the server's own refusal, ICMP error or silence).
 * A request datagram carries one or more requests (net.unix.max_dgram_qlen
 * is 10 by default: a burst of SYNs needs batches), an answer datagram one
 * answer; the queuer ignores datagrams of other sizes.
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

/* proxy -> queuer: the dial's outcome, 0 (connected) or a negative errno. */
struct pepsal_hold_ans {
	uint32_t slot, gen;
	int32_t err;
	uint32_t pad;
};

#endif
