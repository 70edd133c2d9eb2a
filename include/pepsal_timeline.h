/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The set-up timeline, for benchmarks only (tests/bench/synpath.sh): with
 * PEPSAL_TIMELINE=DIR in its environment a program stamps each stage of a
 * connection's set-up (stage, client endpoint, CLOCK_MONOTONIC ns) into a
 * preallocated array and writes DIR/timeline.<role>.<pid> when it exits.
 * Without the variable a stamp is one load of a flag and a branch.
 */
#ifndef PEPSAL_TIMELINE_H
#define PEPSAL_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "pepsal_endpoint.h"

enum pepsal_tl_stage {
	TL_SYN_QUEUED = 0,   /* the kernel queued the SYN (NFQA_TIMESTAMP) */
	TL_QUEUER_READ,      /* the queuer read it */
	TL_REQ_SENT,         /* the queuer sent the dial request (held SYN) */
	TL_REQ_READ,         /* the proxy read the request */
	TL_DIAL_START,       /* connect() called */
	TL_DIAL_DONE,        /* the server's SYN-ACK: connected (or failed) */
	TL_ANSWER_SENT,      /* the proxy sent the outcome */
	TL_ANSWER_READ,      /* the queuer read it */
	TL_VERDICT,          /* the queuer sent the SYN's verdict */
	TL_ACCEPT,           /* accept4() returned the connection */
	TL_CLAIM,            /* its table entry claimed (or recorded) */
	TL_RELAY_START,      /* the connection's first relay thread runs */
	TL_CLIENT_CONNECT,   /* the client's connect() (connload) */
	TL_CLIENT_CONNECTED, /* the client's handshake completed */
	TL_CLIENT_FIRST_BYTE,/* the answer's first byte at the client */
	TL_COUNT,
};

/* Reads PEPSAL_TIMELINE; ROLE names the output file. Safe to call once,
 * before any thread starts. */
void pepsal_tl_init(const char *role);
bool pepsal_tl_enabled(void);
/* Stamp STAGE of the connection from CLIENT at NS (0: now). */
void pepsal_tl_mark(enum pepsal_tl_stage stage, const struct pepsal_endpoint *client,
		    uint64_t ns);
/* The same with the client's IPv4 address (network order) and port. */
void pepsal_tl_mark4(enum pepsal_tl_stage stage, uint32_t addr_be, uint16_t port,
		     uint64_t ns);
/* Write the file now (also done at exit). */
void pepsal_tl_write(void);

#endif
