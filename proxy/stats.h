/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The proxy's counters in the table ("proxy.<name>"), shown by pepsal-shm. */
#ifndef PEPSAL_PROXY_STATS_H
#define PEPSAL_PROXY_STATS_H

#include <stdint.h>

#include "pepsal_table.h"

enum proxy_counter {
	PC_ACCEPTED = 0,
	PC_LOOKUP_MISS,
	PC_DIAL_FAILED,
	PC_OVER_LIMIT,
	PC_ACTIVE,          /* a gauge: connections held now */
	PC_CLOSED,
	PC_RESETS,
	PC_IDLE_TIMEOUTS,
	PC_ACCEPT_ERRORS,
	PC_QUEUER_RESTARTS,
	PC_MISS_SERVED,     /* lookup misses relayed by the original destination */
	PC_SMALL_PIPES,     /* a gauge: pipes the kernel would not enlarge */
	PC_CC_ADAPTED,      /* client legs switched to --client-cc-lossy */
	PC_CC_RESTORED,     /* ... and back */
	PC_CC_STARTED_LOSSY, /* ... from the start: their client's link was lossy */
	PC_PREDIALED,       /* held SYNs whose server accepted our dial */
	PC_PREDIAL_FAILED,  /* held SYNs whose server refused or did not answer */
	PC_PREDIAL_UNCLAIMED, /* of the first, never accepted: reset */
	PC_UPGRADES,        /* take-overs by a new process (SIGUSR2) */
	PC_UPGRADES_FAILED, /* the old process kept serving */
	/* the pair, terminal side */
	PC_PAIR_USED,       /* connections carried to the gateway */
	PC_PAIR_POOL,       /* a gauge: warm pair connections ready now */
	PC_PAIR_POOL_OPENED, /* pair connections opened (pool and on demand) */
	PC_PAIR_POOL_STALE, /* pooled ones found closed by the gateway, dropped */
	PC_PAIR_ON_DEMAND,  /* the pool was empty: opened for the connection */
	PC_PAIR_CONNECT_FAILED, /* pair connections the gateway did not accept */
	PC_PAIR_FALLBACK_DIRECT, /* no pair connection: the server dialed directly */
	PC_PAIR_PROBE_REFUSED, /* probes the gateway refused (key, clocks) */
	/* the pair, gateway side */
	PC_PAIR_ACCEPTED,   /* pair connections whose header was valid */
	PC_PAIR_REFUSED_PEER, /* from an address not in --pair-peer */
	PC_PAIR_REFUSED_AUTH, /* wrong key, or an altered header */
	PC_PAIR_REFUSED_HEADER, /* truncated, malformed, unknown version, silent */
	PC_PAIR_REFUSED_TIME, /* authentic, its time outside the window */
	PC_PAIR_REPLAY,     /* authentic, its nonce seen already */
	PC_HA_SWITCHOVERS,  /* switchovers to the other box (SIGUSR1) done */
	PC_HA_SWITCHOVERS_FAILED, /* ... or failed, given or taken: all stayed */
	PC_HA_MOVED_OUT,    /* connections moved to the other box */
	PC_HA_MOVED_IN,     /* connections taken from the other box */
	PC_HA_UNMOVABLE,    /* not established when moving: reset */
	PC_COUNT,
};

/* Register the counters in T; warns once if some find no room. */
void stats_init(struct pepsal_table *t);
/* From here on nothing is counted (the table is about to go). */
void stats_fini(void);
void stats_count(enum proxy_counter c, uint64_t n);
void stats_set(enum proxy_counter c, uint64_t v);

#endif
