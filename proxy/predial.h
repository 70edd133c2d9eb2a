/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The proxy's side of holding SYNs (include/pepsal_hold.h): the queuer
 * child asks for a dial while it holds the client's SYN; the upstream
 * connection is made now, kept, and handed to the relay when the client's
 * connection (its SYN marked once the server answered) is accepted.
 */
#ifndef PEPSAL_PROXY_PREDIAL_H
#define PEPSAL_PROXY_PREDIAL_H

#include <stdint.h>

#include "config.h"
#include "pepsal_table.h"

struct dial_ctx;

struct predial_params {
	const struct proxy_config *cfg;  /* dial options, --hold-time */
	struct pepsal_table *table;      /* capacity (slots), dial's port check */
	/* the dial (dial_upstream_tos's contract); NULL: dial_upstream_tos */
	int (*upstream)(const struct dial_ctx *d, const struct pepsal_endpoint *client,
			const struct pepsal_endpoint *dst, int tos);
};

/* Create the channel and the thread that serves it. Nothing is done (and
 * predial_child_fd is -1) with --accept-first or without a queuer child.
 * P is kept by pointer. 0 or -errno. */
int predial_init(const struct predial_params *p);
/* The descriptor the queuer child inherits (--notify-fd), -1: none. */
int predial_child_fd(void);
/* The connected upstream socket dialed for the entry SLOT/GEN, now the
 * caller's, and the client's TOS in *TOS; -1 if there is none. */
int predial_take(uint32_t slot, uint32_t gen, int *tos);
/* Stop serving, wait for dials in flight, reset the unclaimed sockets. */
void predial_fini(void);

#endif
