// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Named counters in the segment ("queuer.syns"): registered once under the
 * lock, then added to and read lock-free.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lock.h"

int pepsal_table_counter_register(struct pepsal_table *t, const char *name)
{
	struct pepsal_shm_header *h = t->hdr;
	uint32_t n;
	int r = pepsal_table_lock(t);

	if (r)
		return r;
	n = atomic_load(&h->counters_used);
	if (n > PEPSAL_MAX_COUNTERS)
		n = PEPSAL_MAX_COUNTERS;
	for (uint32_t i = 0; i < n; i++) {
		if (strncmp(h->counters[i].name, name, PEPSAL_COUNTER_NAME_MAX - 1) == 0) {
			r = (int)i;
			goto out;
		}
	}
	if (n == PEPSAL_MAX_COUNTERS) {
		r = -ENOSPC;
		goto out;
	}
	snprintf(h->counters[n].name, PEPSAL_COUNTER_NAME_MAX, "%s", name);
	atomic_store(&h->counters[n].value, 0);
	atomic_store_explicit(&h->counters_used, n + 1, memory_order_release);
	r = (int)n;
out:
	pepsal_table_unlock(t);
	return r;
}

void pepsal_table_counter_add(struct pepsal_table *t, int idx, uint64_t n)
{
	if (idx >= 0 && idx < PEPSAL_MAX_COUNTERS)
		atomic_fetch_add_explicit(&t->hdr->counters[idx].value, n, memory_order_relaxed);
}

void pepsal_table_counter_set(struct pepsal_table *t, int idx, uint64_t v)
{
	if (idx >= 0 && idx < PEPSAL_MAX_COUNTERS)
		atomic_store_explicit(&t->hdr->counters[idx].value, v, memory_order_relaxed);
}

bool pepsal_table_counter_get(const struct pepsal_table *t, int idx,
			      char name[PEPSAL_COUNTER_NAME_MAX], uint64_t *value)
{
	uint32_t n = atomic_load_explicit(&t->hdr->counters_used, memory_order_acquire);

	if (idx < 0 || (uint32_t)idx >= n || idx >= PEPSAL_MAX_COUNTERS)
		return false;
	memcpy(name, t->hdr->counters[idx].name, PEPSAL_COUNTER_NAME_MAX);
	name[PEPSAL_COUNTER_NAME_MAX - 1] = '\0';
	*value = atomic_load_explicit(&t->hdr->counters[idx].value, memory_order_relaxed);
	return true;
}
