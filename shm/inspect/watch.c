// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-shm watch: stats and list refreshed every --interval, with the
 * byte rate of each entry and of the counters between two refreshes, for
 * --count refreshes or until interrupted.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect.h"
#include "rows.h"
#include "tcpinfo.h"

struct watch_opts {
	struct rows_filter filter;
	uint64_t interval;    /* between refreshes, ns */
	uint32_t count;       /* refreshes, 0 = until interrupted */
};

/* What the last refresh saw, to compute rates. */
struct prev {
	uint64_t at;                  /* 0: no refresh yet */
	uint32_t *gen;                /* per slot: generation + 1, 0 = not seen */
	uint64_t (*bytes)[2];         /* per slot */
	uint64_t counter[PEPSAL_MAX_COUNTERS];
	int ncounters;
	uint64_t inserts;
};

/* Rates of the rows seen at the last refresh too (same slot, same
 * generation); then remember this refresh for the next one. */
static void add_rates(struct pepsal_table *t, struct rows *rows, struct prev *p, uint64_t now,
		      double sum[2])
{
	double dt = p->at ? (double)(now - p->at) / 1e9 : 0;

	sum[0] = sum[1] = 0;
	for (size_t i = 0; i < rows->n; i++) {
		struct row *r = &rows->r[i];
		uint32_t s = r->v.slot;

		r->has_rate = dt > 0 && p->gen[s] == r->v.gen + 1;
		for (int d = 0; d < 2; d++) {
			if (r->has_rate) {
				uint64_t was = p->bytes[s][d];

				r->rate[d] = r->v.bytes[d] > was ?
					     (double)(r->v.bytes[d] - was) / dt : 0.0;
				sum[d] += r->rate[d];
			}
			p->bytes[s][d] = r->v.bytes[d];
		}
	}
	memset(p->gen, 0, pepsal_table_capacity(t) * sizeof(*p->gen));
	for (size_t i = 0; i < rows->n; i++)
		p->gen[rows->r[i].v.slot] = rows->r[i].v.gen + 1;
}

static int watch(struct pepsal_table *t, const struct watch_opts *o, bool json)
{
	bool tty = isatty(STDOUT_FILENO) && !json;
	uint32_t cap = pepsal_table_capacity(t);
	struct prev p = { .gen = calloc(cap, sizeof(*p.gen)),
			  .bytes = calloc(cap, sizeof(*p.bytes)) };
	struct rows rows = { 0 };
	int ret = 0;

	if (!p.gen || !p.bytes) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t n = 0; !o->count || n < o->count; n++) {
		struct pepsal_table_info in;
		char name[PEPSAL_COUNTER_NAME_MAX];
		double dt;
		uint64_t now, v;
		double sum[2];

		if (n)
			poll(NULL, 0, (int)(o->interval / 1000000));
		now = pepsal_now_ns();
		dt = p.at ? (double)(now - p.at) / 1e9 : 0;
		tcpinfo_refresh();
		ret = rows_collect(t, &o->filter, now, &rows);
		if (ret)
			goto out;
		add_rates(t, &rows, &p, now, sum);
		pepsal_table_get_info(t, &in);
		if (tty)
			printf("\033[H\033[2J");
		if (json) {
			printf("{\"stats\":");
			stats_print_json(stdout, t, now);
			printf(",\"rates\":");
			if (!dt) {
				printf("null");
			} else {
				printf("{\"interval_s\":%.3f,\"bytes_c2s_per_s\":%.1f,"
				       "\"bytes_s2c_per_s\":%.1f,\"inserts_per_s\":%.1f,\"counters\":{",
				       dt, sum[0], sum[1], (double)(in.inserts - p.inserts) / dt);
				for (int i = 0; pepsal_table_counter_get(t, i, name, &v); i++) {
					if (i)
						putchar(',');
					shm_json_string(stdout, name);
					printf(":%.1f", i < p.ncounters ?
					       (double)(v - p.counter[i]) / dt : 0.0);
				}
				printf("}}");
			}
			putchar(',');
			rows_json(&rows, &o->filter, now, true);
			printf("}\n");
		} else {
			stats_print_text(t, now);
			if (dt) {
				printf("  rates over %.1f s: %.0f B/s client to server, %.0f B/s server "
				       "to client, %.1f inserts/s\n", dt, sum[0], sum[1],
				       (double)(in.inserts - p.inserts) / dt);
				for (int i = 0; pepsal_table_counter_get(t, i, name, &v); i++)
					if (i < p.ncounters && v != p.counter[i])
						printf("  %-30s %+.1f/s\n", shm_printable(name),
						       (double)(v - p.counter[i]) / dt);
			}
			putchar('\n');
			rows_text(&rows, &o->filter, now, true);
		}
		fflush(stdout);
		p.at = now;
		p.inserts = in.inserts;
		for (p.ncounters = 0; p.ncounters < PEPSAL_MAX_COUNTERS &&
		     pepsal_table_counter_get(t, p.ncounters, name, &v); p.ncounters++)
			p.counter[p.ncounters] = v;
	}
out:
	if (ret)
		fprintf(stderr, PROG ": %s\n", strerror(-ret));
	free(rows.r);
	free(p.gen);
	free(p.bytes);
	return ret ? 1 : 0;
}

int cmd_watch(int argc, char **argv, struct inspect_common *c)
{
	struct watch_opts o = { .interval = 1000000000ull };
	const struct pepsal_opt opts[] = {
		{ "shm", 's', PEPSAL_OPT_CUSTOM, &c->shm, "NAME",
		  "shared-memory table to read (default " PEPSAL_SHM_DEFAULT_NAME ")", 0, 0,
		  inspect_parse_shm },
		{ "json", 'j', PEPSAL_OPT_FLAG, &c->json, NULL,
		  "print JSON, one document per refresh and line", 0, 0, NULL },
		{ "interval", 'i', PEPSAL_OPT_DURATION, &o.interval, "DURATION",
		  "time between refreshes (default 1s)", 1000000, 0, NULL },
		{ "count", 'n', PEPSAL_OPT_U32, &o.count, "N",
		  "stop after N refreshes (default: until interrupted)", 1, 0, NULL },
		ROWS_FILTER_OPTS(&o.filter),
		{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
	};
	struct pepsal_table *t;
	int r = inspect_parse(argc, argv, opts, "[OPTIONS]", c, true);

	if (r || !rows_filter_check(&o.filter))
		return r < 0 ? 0 : r ? r : 2;
	if (inspect_attach(c, &t))
		return 1;
	r = watch(t, &o, c->json);
	pepsal_table_detach(t);
	return r;
}
