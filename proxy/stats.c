// SPDX-License-Identifier: GPL-2.0-or-later
/* The proxy's named counters, on libpepsal's counters helper. */
#include "pepsal_counters.h"
#include "pepsal_log.h"
#include "stats.h"

static const char *const counter_names[PC_COUNT] = {
	PEPSAL_PROXY_COUNTERS(PEPSAL_CATALOG_NAME)
};

static struct pepsal_counters counters; /* table NULL until stats_init */

void stats_init(struct pepsal_table *t)
{
	if (pepsal_counters_init(&counters, t, counter_names, PC_COUNT))
		pr_warn("table %s has no room for some proxy counters: they will not be shown",
			pepsal_table_name(t));
}

void stats_fini(void)
{
	pepsal_counters_fini(&counters);
}

void stats_count(enum proxy_counter c, uint64_t n)
{
	pepsal_counters_add(&counters, c, n);
}

void stats_set(enum proxy_counter c, uint64_t v)
{
	pepsal_counters_set(&counters, c, v);
}
