/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The terminal side of a pepsal pair: the relay's upstream leg is a pair
 * connection to the gateway (pair_pool.c) that starts with the signed pair
 * header; without one, the server is dialed directly (a single pepsal).
 */
#ifndef PEPSAL_PROXY_PAIR_TERMINAL_H
#define PEPSAL_PROXY_PAIR_TERMINAL_H

#include "dial.h"
#include "pair_hdr.h"

struct pair_terminal_params {
	const struct pair_key *key;
};

/* P is kept by pointer. */
void pair_terminal_init(const struct pair_terminal_params *p);
/* The relay's upstream leg for CLIENT's connection to DST (relay_params'
 * upstream): a pair connection with its header written, or the direct
 * dial of D. The connected non-blocking fd or -errno. */
int pair_terminal_dial(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		       const struct pepsal_endpoint *dst, int tos);

/* The same for a held SYN (predial_params' upstream, --pair-hold): the
 * header asks the gateway to confirm, and the fd is returned once it did
 * (its server accepted); -ECONNREFUSED when the gateway reset instead. */
int pair_terminal_dial_held(const struct dial_ctx *d, const struct pepsal_endpoint *client,
			    const struct pepsal_endpoint *dst, int tos);

#endif
