/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A process's named counters in the connection table ("proxy.accepted",
 * "queuer.syns"): registered once from a table of names, then counted
 * lock-free by index. Both pepsal and pepsal-queuer use it; pepsal-shm
 * lists whatever is registered.
 */
#ifndef PEPSAL_COUNTERS_H
#define PEPSAL_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

#include "pepsal_table.h"

struct pepsal_counters {
	/* NULL: counting is a no-op (fini may come while threads count) */
	_Atomic(struct pepsal_table *) table;
	const char *const *names;     /* NAMES[i] is counter i's name */
	unsigned int n;
	int idx[PEPSAL_MAX_COUNTERS]; /* index in the table, -1: not registered */
};

/* Register NAMES[0..N) in T. Returns how many found no room in the table
 * (0: all registered); those are not counted. N is at most
 * PEPSAL_MAX_COUNTERS. */
int pepsal_counters_init(struct pepsal_counters *c, struct pepsal_table *t,
			 const char *const *names, unsigned int n);
/* Forget the table: later calls count nothing. */
void pepsal_counters_fini(struct pepsal_counters *c);
void pepsal_counters_add(const struct pepsal_counters *c, unsigned int i, uint64_t v);
void pepsal_counters_set(const struct pepsal_counters *c, unsigned int i, uint64_t v);
/* Add LOCAL[0..n) to the table and zero them (counts batched by a caller). */
void pepsal_counters_flush(const struct pepsal_counters *c, uint64_t *local);

#endif
