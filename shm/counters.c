// SPDX-License-Identifier: GPL-2.0-or-later
/* Named counters of one process, registered in the table from a name table. */
#include <string.h>

#include "pepsal_counters.h"

int pepsal_counters_init(struct pepsal_counters *c, struct pepsal_table *t,
			 const char *const *names, unsigned int n)
{
	int missing = 0;

	if (n > PEPSAL_MAX_COUNTERS)
		n = PEPSAL_MAX_COUNTERS;
	atomic_store(&c->table, t);
	c->names = names;
	c->n = n;
	for (unsigned int i = 0; i < PEPSAL_MAX_COUNTERS; i++)
		c->idx[i] = -1;
	for (unsigned int i = 0; i < n; i++) {
		c->idx[i] = pepsal_table_counter_register(t, names[i]);
		if (c->idx[i] < 0)
			missing++;
	}
	return missing;
}

void pepsal_counters_fini(struct pepsal_counters *c)
{
	atomic_store(&c->table, NULL);
}

void pepsal_counters_add(const struct pepsal_counters *c, unsigned int i, uint64_t v)
{
	struct pepsal_table *t = atomic_load(&c->table);

	if (t && i < c->n && c->idx[i] >= 0)
		pepsal_table_counter_add(t, c->idx[i], v);
}

void pepsal_counters_set(const struct pepsal_counters *c, unsigned int i, uint64_t v)
{
	struct pepsal_table *t = atomic_load(&c->table);

	if (t && i < c->n && c->idx[i] >= 0)
		pepsal_table_counter_set(t, c->idx[i], v);
}

void pepsal_counters_flush(const struct pepsal_counters *c, uint64_t *local)
{
	for (unsigned int i = 0; i < c->n; i++) {
		if (local[i])
			pepsal_counters_add(c, i, local[i]);
		local[i] = 0;
	}
}
