// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-shm counters: every named counter of pepsal and pepsal-queuer,
 * from libpepsal's catalogue (pepsal_catalog.h): its name, whether it is a
 * counter or a gauge, what it means. No table is read: it answers what a
 * line of stats or a metric stands for.
 */
#include <stdio.h>
#include <string.h>

#include "inspect.h"
#include "pepsal_catalog.h"

int cmd_counters(int argc, char **argv, struct inspect_common *c)
{
	const struct pepsal_opt opts[] = {
		{ "json", 'j', PEPSAL_OPT_FLAG, &c->json, NULL,
		  "print JSON: an array of {name, type, help}", 0, 0, NULL },
		{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
	};
	int r = inspect_parse(argc, argv, opts, "[OPTIONS]", c, true);

	if (r)
		return r < 0 ? 0 : r;
	if (c->shm_given) {
		fprintf(stderr, PROG " counters: --shm does not apply: it reads no table\n");
		return 2;
	}
	if (c->json)
		putchar('[');
	for (size_t i = 0; i < pepsal_counter_ndefs; i++) {
		const struct pepsal_counter_def *d = &pepsal_counter_defs[i];
		const char *type = d->kind == PEPSAL_METRIC_GAUGE ? "gauge" : "counter";

		if (c->json) {
			printf("%s{\"name\":", i ? "," : "");
			shm_json_string(stdout, d->name);
			printf(",\"type\":\"%s\",\"help\":", type);
			shm_json_string(stdout, d->help);
			putchar('}');
		} else {
			printf("%-30s %-8s %s\n", d->name, type, d->help);
		}
	}
	if (c->json)
		printf("]\n");
	return 0;
}
