/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The upstream leg: connect to the original destination. */
#ifndef PEPSAL_PROXY_DIAL_H
#define PEPSAL_PROXY_DIAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "pepsal_endpoint.h"
#include "pepsal_table.h"
#include "stop.h"

/* What a dial needs, given by its caller. */
struct dial_ctx {
	const struct proxy_config *cfg;
	struct pepsal_table *table;    /* the source-port check; NULL: none */
	const struct stop *stop;       /* set: stop waiting (shutdown); may be NULL */
	uint64_t timeout_ns;           /* 0: cfg's --connect-timeout */
	const atomic_bool *pause;      /* set: stop waiting (an upgrade); may be NULL */
	bool recverr;                  /* IP_RECVERR: ICMP errors to the error queue
					* (the caller clears it once connected) */
};

/* Connect to DST, from CLIENT's address if transparent; non-blocking with
 * the configured timeout. Returns the connected (blocking) fd or -errno. */
int dial_upstream(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		  const struct pepsal_endpoint *dst);

/* The same, the SYN and the data carrying TOS (IPv4 TOS / IPv6 traffic
 * class: the client's DSCP); TOS < 0: the system's. */
int dial_upstream_tos(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		      const struct pepsal_endpoint *dst, int tos);

/* Start the same dial without waiting: 0 (*FD connected), -EINPROGRESS
 * (*FD connecting: writable when done, SO_ERROR says how), or -errno
 * (*FD is -1). */
int dial_start_tos(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		   const struct pepsal_endpoint *dst, int tos, int *fd);

/* Wait for the non-blocking connect of FD to finish, at most TIMEOUT_NS,
 * stopping early when STOP is set or PAUSE is (a pause also signals the
 * thread out of its wait); either may be NULL. 0 or -errno (-ETIMEDOUT,
 * -ECANCELED). */
int dial_wait_connected(int fd, uint64_t timeout_ns, const struct stop *stop,
			const atomic_bool *pause);

/* A source port of RANGE ((hi << 16) | lo) for a transparent dial from
 * CLIENT to DST that no client connection in the table holds, or 0 when
 * DIAL_PORT_TRIES candidates were all held. */
uint16_t dial_choose_port(const struct dial_ctx *d, uint32_t range,
			  const struct pepsal_endpoint *client,
			  const struct pepsal_endpoint *dst);

#endif
