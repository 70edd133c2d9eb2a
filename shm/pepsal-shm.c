// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-shm: read-only inspector of the connection table.
 *
 *   pepsal-shm [--shm NAME] [--json] stats|list|watch|metrics|serve
 *
 * It maps the segment read-only and never takes the table's lock: entries
 * are copied under their sequence counters, so a busy or even a dead writer
 * never blocks it. This file holds the options, stats and main; list and
 * watch are in shm-list.c, metrics in shm-metrics.c, serve in shm-serve.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pepsal_opts.h"
#include "pepsal_table.h"
#include "shm-cli.h"

struct shm_cli_opts opt = {
	.shm = PEPSAL_SHM_DEFAULT_NAME,
	.interval = 1000000000ull,
	.listen = "127.0.0.1:9752",
};

static const struct pepsal_opt options[] = {
	{ "shm", 's', PEPSAL_OPT_STRING, &opt.shm, "NAME",
	  "shared-memory table to read (default " PEPSAL_SHM_DEFAULT_NAME ")", 0, 0, NULL },
	{ "json", 'j', PEPSAL_OPT_FLAG, &opt.json, NULL,
	  "print JSON (watch: one document per line)", 0, 0, NULL },
	{ "interval", 'i', PEPSAL_OPT_DURATION, &opt.interval, "DURATION",
	  "watch: time between refreshes (default 1s)", 1000000, 0, NULL },
	{ "count", 'n', PEPSAL_OPT_U32, &opt.count, "N",
	  "watch: stop after N refreshes (default: until interrupted)", 0, 0, NULL },
	{ "client", 'c', PEPSAL_OPT_CUSTOM, &opt.client, "ADDR[/LEN]",
	  "list, watch: only clients in this address or prefix", 0, 0, shm_parse_prefix },
	{ "client-port", 0, PEPSAL_OPT_U32, &opt.client_port, "PORT",
	  "list, watch: only this client port", 1, 65535, NULL },
	{ "dst", 'd', PEPSAL_OPT_CUSTOM, &opt.dst, "ADDR[/LEN]",
	  "list, watch: only original destinations in this address or prefix", 0, 0,
	  shm_parse_prefix },
	{ "port", 'p', PEPSAL_OPT_U32, &opt.dst_port, "PORT",
	  "list, watch: only this destination port", 1, 65535, NULL },
	{ "state", 'S', PEPSAL_OPT_CUSTOM, &opt.states, "STATE[,STATE]",
	  "list, watch: only pending, established or closing entries", 0, 0,
	  shm_parse_states },
	{ "min-age", 0, PEPSAL_OPT_DURATION, &opt.min_age, "DURATION",
	  "list, watch: only entries whose SYN is at least this old", 0, 0, NULL },
	{ "max-age", 0, PEPSAL_OPT_DURATION, &opt.max_age, "DURATION",
	  "list, watch: only entries whose SYN is at most this old", 0, 0, NULL },
	{ "sort", 'o', PEPSAL_OPT_CUSTOM, &opt.sort, "KEY",
	  "list, watch: order by slot (default), bytes, age or idle (largest first)", 0, 0,
	  shm_parse_sort },
	{ "limit", 0, PEPSAL_OPT_U32, &opt.limit, "N",
	  "list, watch: print the first N entries only", 1, 0, NULL },
	{ "count-only", 'C', PEPSAL_OPT_FLAG, &opt.count_only, NULL,
	  "list: print how many entries match instead of the entries", 0, 0, NULL },
	{ "listen", 'l', PEPSAL_OPT_CUSTOM, &opt.listen, "ADDR:PORT",
	  "serve: address of the HTTP endpoint (default 127.0.0.1:9752)", 0, 0,
	  shm_parse_listen },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
};

/* ---- JSON output -------------------------------------------------------- */

void shm_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f) /* shm bytes may be anything */
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* NAME (a counter name from the segment) with control characters as '?'. */
char *shm_printable(char *name)
{
	for (char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return name;
}

double shm_age_s(uint64_t now, uint64_t then)
{
	return then && then <= now ? (double)(now - then) / 1e9 : 0.0;
}

/* ---- stats ---------------------------------------------------------------- */
/* ---- stats ---------------------------------------------------------------- */

void shm_print_stats_json(FILE *f, struct pepsal_table *t, uint64_t now)
{
	struct pepsal_table_info in;
	char name[PEPSAL_COUNTER_NAME_MAX];
	uint64_t v;

	pepsal_table_get_info(t, &in);
	fprintf(f, "{\"table\":{\"name\":");
	shm_json_string(f, pepsal_table_name(t));
	fprintf(f, ",\"version\":%u,\"capacity\":%u,\"used\":%u,\"entry_size\":%u,"
		"\"segment_size\":%" PRIu64 ",\"created_unix\":%.3f,"
		"\"pending_lifetime_s\":%.3f,\"inserts\":%" PRIu64 ",\"refreshes\":%" PRIu64
		",\"lookups\":%" PRIu64 ",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
		",\"evictions\":%" PRIu64 ",\"table_full\":%" PRIu64 ",\"removes\":%" PRIu64
		",\"gc_removed\":%" PRIu64 ",\"recoveries\":%" PRIu64 ",\"deferred\":%" PRIu64
		",\"address_limited\":%" PRIu64 ",\"pending\":%u,\"room\":",
		in.version, in.capacity, in.used, in.entry_size, in.segment_size,
		(double)in.created_realtime_ns / 1e9, (double)in.pending_lifetime_ns / 1e9,
		in.inserts, in.refreshes, in.lookups, in.hits, in.misses, in.evictions,
		in.table_full, in.removes, in.gc_removed, in.recoveries, in.deferred,
		in.address_limited, in.pending);
	if (in.room == PEPSAL_ROOM_UNPUBLISHED)
		fprintf(f, "null},\"heartbeats\":{");
	else
		fprintf(f, "%u},\"heartbeats\":{", in.room);
	for (int r = 0; r < PEPSAL_ROLE_COUNT; r++) {
		fprintf(f, "%s\"%s\":{\"pid\":%d,", r ? "," : "", pepsal_role_name(r),
			(int)in.heartbeat[r].pid);
		if (in.heartbeat[r].pid && in.heartbeat[r].beat_ns)
			fprintf(f, "\"age_s\":%.3f,\"alive\":%s}",
				shm_age_s(now, in.heartbeat[r].beat_ns),
				pepsal_table_role_alive(t, r, now, HEARTBEAT_FRESH_NS) ?
				"true" : "false");
		else
			fprintf(f, "\"age_s\":null,\"alive\":false}");
	}
	fprintf(f, "},\"counters\":{");
	for (int i = 0; pepsal_table_counter_get(t, i, name, &v); i++) {
		if (i)
			fputc(',', f);
		shm_json_string(f, name);
		fprintf(f, ":%" PRIu64, v);
	}
	fprintf(f, "},\"queues\":[");
	for (int i = 0, n = 0; i < PEPSAL_MAX_QUEUES; i++) {
		struct pepsal_queue_view q;

		if (!pepsal_table_queue_get(t, i, &q))
			continue;
		fprintf(f, "%s{\"queue\":%u,\"pid\":%d,\"age_s\":", n++ ? "," : "", q.queue,
			(int)q.pid);
		if (q.pid && q.beat_ns)
			fprintf(f, "%.3f", shm_age_s(now, q.beat_ns));
		else
			fprintf(f, "null");
		fprintf(f, ",\"alive\":%s", pepsal_table_queue_alive(&q, now, HEARTBEAT_FRESH_NS) ?
			"true" : "false");
		for (int c = 0; c < PEPSAL_QUEUE_COUNTERS; c++)
			fprintf(f, ",\"%s\":%" PRIu64, pepsal_queue_counter_name(c), q.count[c]);
		fputc('}', f);
	}
	fprintf(f, "]}");
}

/* One line per NFQUEUE whose queuer ever used the table. */
static void print_queues_text(struct pepsal_table *t, uint64_t now)
{
	for (int i = 0; i < PEPSAL_MAX_QUEUES; i++) {
		struct pepsal_queue_view q;

		if (!pepsal_table_queue_get(t, i, &q))
			continue;
		printf("  queue %-5u ", q.queue);
		if (!q.pid)
			printf("not running ");
		else
			printf("pid %d%s ", (int)q.pid,
			       pepsal_table_queue_alive(&q, now, HEARTBEAT_FRESH_NS) ? "" : " (stale)");
		for (int c = 0; c < PEPSAL_QUEUE_COUNTERS; c++)
			printf(" %s %" PRIu64, pepsal_queue_counter_name(c), q.count[c]);
		putchar('\n');
	}
}

static void print_stats_text(struct pepsal_table *t, uint64_t now)
{
	struct pepsal_table_info in;
	char name[PEPSAL_COUNTER_NAME_MAX], when[64];
	time_t created;
	struct tm tm;
	uint64_t v;

	pepsal_table_get_info(t, &in);
	created = (time_t)(in.created_realtime_ns / 1000000000ull);
	localtime_r(&created, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("table %s: layout version %u, %u of %u slots used (%.1f %%), %" PRIu64
	       " KiB, created %s, pending lifetime %.0f s\n", pepsal_table_name(t),
	       in.version, in.used, in.capacity, 100.0 * in.used / in.capacity,
	       in.segment_size / 1024, when, (double)in.pending_lifetime_ns / 1e9);
	for (int r = 0; r < PEPSAL_ROLE_COUNT; r++) {
		printf("  %-6s ", pepsal_role_name(r));
		if (!in.heartbeat[r].pid)
			printf("not running\n");
		else
			printf("pid %d, heartbeat %.1f s ago%s\n", (int)in.heartbeat[r].pid,
			       shm_age_s(now, in.heartbeat[r].beat_ns),
			       pepsal_table_role_alive(t, r, now, HEARTBEAT_FRESH_NS) ?
			       "" : " (stale)");
	}
	printf("  inserts %" PRIu64 "  refreshes %" PRIu64 "  lookups %" PRIu64 "  hits %"
	       PRIu64 "  misses %" PRIu64 "\n  evictions %" PRIu64 "  table-full %" PRIu64
	       "  removes %" PRIu64 "  gc-removed %" PRIu64 "  recoveries %" PRIu64
	       "\n  deferred %" PRIu64 "  address-limited %" PRIu64 "  pending %u  room ",
	       in.inserts, in.refreshes, in.lookups, in.hits, in.misses, in.evictions,
	       in.table_full, in.removes, in.gc_removed, in.recoveries, in.deferred,
	       in.address_limited, in.pending);
	if (in.room == PEPSAL_ROOM_UNPUBLISHED)
		printf("unpublished\n");
	else
		printf("%u\n", in.room);
	print_queues_text(t, now);
	for (int i = 0; pepsal_table_counter_get(t, i, name, &v); i++)
		printf("  %-30s %" PRIu64 "\n", shm_printable(name), v);
}

int shm_cmd_stats(struct pepsal_table *t)
{
	uint64_t now = pepsal_now_ns();

	if (opt.json) {
		shm_print_stats_json(stdout, t, now);
		putchar('\n');
	} else {
		print_stats_text(t, now);
	}
	return 0;
}

/* ---- metrics -------------------------------------------------------------- */

static int cmd_metrics(struct pepsal_table *t)
{
	char err[512];
	int r;

	(void)t; /* it attaches itself, as serve does at each scrape */
	r = shm_metrics_write(stdout, opt.shm, err, sizeof(err));
	if (r)
		fprintf(stderr, "pepsal-shm: %s\n", err);
	return r;
}

static int cmd_serve(struct pepsal_table *t)
{
	(void)t;
	return shm_cmd_serve();
}

/* ---- main ------------------------------------------------------------------ */

#define SYNOPSIS "[OPTIONS] stats|list|watch|metrics|serve [OPTIONS]"

static const struct {
	const char *name;
	int (*fn)(struct pepsal_table *t);
	bool attach;          /* the command reads an attached table */
	const char *description;
} commands[] = {
	{ "stats", shm_cmd_stats, true, "header, heartbeats and counters" },
	{ "list", shm_cmd_list, true,
	  "one line per entry: state, client, original destination, age, bytes" },
	{ "watch", shm_cmd_watch, true, "stats and list with rates, refreshed every --interval" },
	{ "metrics", cmd_metrics, false, "counters and gauges in the Prometheus text format" },
	{ "serve", cmd_serve, false, "the metrics over HTTP at --listen, GET /metrics" },
};

static void print_commands(FILE *f)
{
	fprintf(f, "\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].description);
}

int main(int argc, char **argv)
{
	char err[512];
	struct pepsal_table *t = NULL;
	const char *cmd = "stats";
	int first, r;

	first = pepsal_opts_parse("pepsal-shm", SYNOPSIS, options, argc, argv);
	if (first == -2) {
		print_commands(stdout);
		return 0;
	}
	if (first < 0)
		return 2;
	if (first < argc)
		cmd = argv[first++];
	/* options may also follow the command: pepsal-shm list --json */
	if (first < argc) {
		int rest = pepsal_opts_parse("pepsal-shm", SYNOPSIS, options,
					     argc - first + 1, argv + first - 1);
		if (rest == -2) {
			print_commands(stdout);
			return 0;
		}
		if (rest < 0)
			return 2;
		if (rest != argc - first + 1) {
			fprintf(stderr, "pepsal-shm: unexpected argument '%s'\n",
				argv[first - 1 + rest]);
			return 2;
		}
	}
	if (opt.min_age && opt.max_age && opt.min_age > opt.max_age) {
		fprintf(stderr, "pepsal-shm: --min-age is larger than --max-age: no entry can match\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		if (commands[i].attach) {
			r = pepsal_table_attach(opt.shm, true, &t, err, sizeof(err));
			if (r) {
				fprintf(stderr, "pepsal-shm: %s\n", err);
				return 1;
			}
		}
		r = commands[i].fn(t);
		if (t)
			pepsal_table_detach(t);
		return r ? 1 : 0;
	}
	fprintf(stderr, "pepsal-shm: unknown command '%s'\n", cmd);
	pepsal_opts_usage(stderr, "pepsal-shm", SYNOPSIS, options);
	print_commands(stderr);
	return 2;
}
