/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The planned switchover between two pepsal boxes (doc/ha.md): every live
 * connection moves to the other box, both its sockets through TCP_REPAIR
 * (repair.h) with their queues, the bytes in its pipes and its table
 * entry, over a TCP connection between the boxes (--ha-peer on the one
 * that gives, --ha-listen on the one that takes). Until the taker says it
 * has everything, the giver keeps it all and resumes it on any failure.
 */
#ifndef PEPSAL_PROXY_MIGRATE_H
#define PEPSAL_PROXY_MIGRATE_H

#include <stdint.h>

#include "config.h"
#include "pepsal_table.h"

struct migrate_params {
	const struct proxy_config *cfg;   /* ha_peer, ha_listen, connect timeout */
	struct pepsal_table *table;       /* the taker records the entries */
};

/* P is kept by pointer. Opens the --ha-listen socket (if any): 0 or
 * -errno with ERR. */
int migrate_init(const struct migrate_params *p, char *err, size_t errlen);
void migrate_fini(void);
/* The giver, on SIGUSR1: move everything to --ha-peer. How many
 * connections moved, or -errno (the reason is logged: everything stays). */
int migrate_out(void);
/* The taker: the listening socket (-1: none) and what to do when it is
 * readable (one switchover, start to end). */
int migrate_listen_fd(void);
void migrate_accept(void);
/* After a switchover came in: window probes on the moved connections,
 * which tell their peers the new path once the addresses moved here.
 * Milliseconds until the next call is due (-1: none). */
int migrate_tick(uint64_t now_ns);

#endif
