// SPDX-License-Identifier: GPL-2.0-or-later
/* The named counters' definitions (include/pepsal_catalog.h), looked up by name. */
#include <string.h>

#include "pepsal_catalog.h"
#include "pepsal_table.h"

#define DEF(e, n, k, h) { n, PEPSAL_METRIC_##k, h },

const struct pepsal_counter_def pepsal_counter_defs[] = {
	PEPSAL_PROXY_COUNTERS(DEF)
	PEPSAL_QUEUER_COUNTERS(DEF)
};
const size_t pepsal_counter_ndefs = sizeof(pepsal_counter_defs) / sizeof(pepsal_counter_defs[0]);
/* every counter of ours has its slot in the table, with room to spare */
_Static_assert(sizeof(pepsal_counter_defs) / sizeof(pepsal_counter_defs[0]) + 16 <=
	       PEPSAL_MAX_COUNTERS, "raise PEPSAL_MAX_COUNTERS (and PEPSAL_TABLE_VERSION)");

const struct pepsal_counter_def *pepsal_counter_def(const char *name)
{
	for (size_t i = 0; i < pepsal_counter_ndefs; i++)
		if (strcmp(pepsal_counter_defs[i].name, name) == 0)
			return &pepsal_counter_defs[i];
	return NULL;
}
