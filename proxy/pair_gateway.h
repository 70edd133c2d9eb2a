/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The gateway side of a pepsal pair: accepts pair connections from the
 * --pair-peer addresses only, reads and checks each one's header (the
 * key's HMAC, the time window, a nonce never seen), dials the server from
 * the client's address with the client's DSCP, records the connection in
 * the table and hands both sockets to the relay. Anything else is reset,
 * counted and logged (rate-limited): nothing is ever relayed for it.
 */
#ifndef PEPSAL_PROXY_PAIR_GATEWAY_H
#define PEPSAL_PROXY_PAIR_GATEWAY_H

#include <stddef.h>

#include "config.h"
#include "pair_hdr.h"
#include "pepsal_table.h"

struct pair_gateway_params {
	const struct proxy_config *cfg; /* pair.listen, pair.peers, leg[LEG_PAIR], dials */
	struct pepsal_table *table;     /* entries of the relayed connections */
	const struct pair_key *key;
};

/* Open the pair listener(s) and start the thread that accepts. P is kept
 * by pointer. 0 or -errno with ERR filled. */
int pair_gateway_init(const struct pair_gateway_params *p, char *err, size_t errlen);
/* Stop accepting, wait for the headers being checked, close the pair
 * connections that never sent one. */
void pair_gateway_fini(void);

#endif
