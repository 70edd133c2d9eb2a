/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The terminal's warm pool: pair connections to the gateway opened ahead
 * of need, so that a client's connection costs no handshake over the
 * satellite. A thread keeps --pair-pool of them open, with exponential
 * back-off while the gateway does not answer; a connection taken is
 * checked first (the gateway may have closed it), and one is opened on
 * demand when the pool is empty, unless the gateway is known down.
 * Before filling the pool, and every minute, the thread probes the gateway
 * with a header of its own: a gateway that refuses our headers (another
 * key, clocks apart) counts as down, so connections are relayed directly
 * rather than reset.
 */
#ifndef PEPSAL_PROXY_PAIR_POOL_H
#define PEPSAL_PROXY_PAIR_POOL_H

#include <stdatomic.h>

#include "config.h"
#include "pair_hdr.h"
#include "stop.h"

struct pair_pool_params {
	const struct proxy_config *cfg; /* pair.gateway, pair.pool, leg[LEG_PAIR], timeouts */
	const struct pair_key *key;     /* the probes' headers */
};

/* Start the refill thread (none with a pool of 0). P is kept by pointer.
 * 0 or -errno. */
int pair_pool_init(const struct pair_pool_params *p);
/* A connected pair connection, non-blocking, the caller's; or -errno:
 * -EHOSTUNREACH the gateway did not answer lately (backing off), or why
 * the connection on demand failed. STOP (may be NULL) set: stop waiting. */
int pair_pool_take(const struct stop *stop);
/* Write the header of KIND for CLIENT -> DST (TOS: PAIR_TOS_UNKNOWN or
 * the client's) on the fresh pair connection FD, signed with KEY. 0 or
 * -errno. */
int pair_pool_send_header(int fd, const struct pair_key *key, enum pair_kind kind,
			  const struct pepsal_endpoint *client,
			  const struct pepsal_endpoint *dst, int tos);
/* Stop the thread, close the pooled connections. */
void pair_pool_fini(void);

#endif
