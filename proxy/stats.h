/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The proxy's counters in the table ("proxy.<name>"), shown by pepsal-shm. */
#ifndef PEPSAL_PROXY_STATS_H
#define PEPSAL_PROXY_STATS_H

#include <stdint.h>

#include "pepsal_catalog.h"
#include "pepsal_table.h"

/* Each counter's name, kind and meaning: include/pepsal_catalog.h. */
enum proxy_counter {
	PEPSAL_PROXY_COUNTERS(PEPSAL_CATALOG_ENUM)
	PC_COUNT,
};

/* Register the counters in T; warns once if some find no room. */
void stats_init(struct pepsal_table *t);
/* From here on nothing is counted (the table is about to go). */
void stats_fini(void);
void stats_count(enum proxy_counter c, uint64_t n);
void stats_set(enum proxy_counter c, uint64_t v);

#endif
