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
	PC_COUNT,
};

/* Register the counters in T; warns once if some find no room. */
void stats_init(struct pepsal_table *t);
/* From here on nothing is counted (the table is about to go). */
void stats_fini(void);
void stats_count(enum proxy_counter c, uint64_t n);
void stats_set(enum proxy_counter c, uint64_t v);

#endif
