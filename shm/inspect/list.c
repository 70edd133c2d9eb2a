// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-shm list: the entries that pass the filters, in the order asked,
 * or only how many there are (-C), like conntrack -L.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"
#include "rows.h"
#include "tcpinfo.h"

static int list(struct pepsal_table *t, const struct rows_filter *f, bool count_only,
		bool json)
{
	uint64_t now = pepsal_now_ns();
	struct rows rows = { 0 };
	int r;

	tcpinfo_refresh();
	r = rows_collect(t, f, now, &rows);
	if (r) {
		fprintf(stderr, PROG ": %s\n", strerror(-r));
		free(rows.r);
		return 1;
	}
	if (count_only && json) {
		printf("{\"table\":");
		shm_json_string(stdout, pepsal_table_name(t));
		printf(",\"count\":%zu,\"skipped\":%u}\n", rows.n, rows.skipped);
	} else if (count_only) {
		printf("%zu\n", rows.n);
	} else if (json) {
		printf("{\"table\":");
		shm_json_string(stdout, pepsal_table_name(t));
		putchar(',');
		rows_json(&rows, f, now, false);
		printf("}\n");
	} else {
		rows_text(&rows, f, now, false);
	}
	free(rows.r);
	return 0;
}

int cmd_list(int argc, char **argv, struct inspect_common *c)
{
	struct rows_filter f = { 0 };
	bool count_only = false;
	const struct pepsal_opt opts[] = {
		{ "shm", 's', PEPSAL_OPT_CUSTOM, &c->shm, "NAME",
		  "shared-memory table to read (default " PEPSAL_SHM_DEFAULT_NAME ")", 0, 0,
		  inspect_parse_shm },
		{ "json", 'j', PEPSAL_OPT_FLAG, &c->json, NULL, "print JSON", 0, 0, NULL },
		ROWS_FILTER_OPTS(&f),
		{ "count-only", 'C', PEPSAL_OPT_FLAG, &count_only, NULL,
		  "print how many entries match instead of the entries", 0, 0, NULL },
		{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
	};
	struct pepsal_table *t;
	int r = inspect_parse(argc, argv, opts, "[OPTIONS]", c, true);

	if (r || !rows_filter_check(&f))
		return r < 0 ? 0 : r ? r : 2;
	if (inspect_attach(c, &t))
		return 1;
	r = list(t, &f, count_only, c->json);
	pepsal_table_detach(t);
	return r;
}
