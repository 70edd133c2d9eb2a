// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-shm: read-only inspector of the connection table.
 *
 *   pepsal-shm [--shm NAME] [--json] stats|list|watch
 *
 * It maps the segment read-only and never takes the table's lock: entries
 * are copied under their sequence counters, so a busy or even a dead writer
 * never blocks it.
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
#include "tcpinfo.h"

#define HEARTBEAT_FRESH_NS 3000000000ull /* what the queuer calls alive */

static struct {
	const char *shm;     /* segment name */
	bool json;           /* JSON instead of text */
	uint64_t interval;   /* watch period, ns */
	uint32_t count;      /* watch iterations, 0 = forever */
} opt = { PEPSAL_SHM_DEFAULT_NAME, false, 1000000000ull, 0 };

static const struct pepsal_opt options[] = {
	{ "shm", 's', PEPSAL_OPT_STRING, &opt.shm, "NAME",
	  "shared-memory table to read (default " PEPSAL_SHM_DEFAULT_NAME ")", 0, 0, NULL },
	{ "json", 'j', PEPSAL_OPT_FLAG, &opt.json, NULL,
	  "print JSON (watch: one document per line)", 0, 0, NULL },
	{ "interval", 'i', PEPSAL_OPT_DURATION, &opt.interval, "DURATION",
	  "watch: time between refreshes (default 1s)", 1000000, 0, NULL },
	{ "count", 'n', PEPSAL_OPT_U32, &opt.count, "N",
	  "watch: stop after N refreshes (default: until interrupted)", 0, 0, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
};

/* ---- JSON output -------------------------------------------------------- */

static void json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f) /* shm bytes may be anything */
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static double age_s(uint64_t now, uint64_t then)
{
	return then && then <= now ? (double)(now - then) / 1e9 : 0.0;
}

/* ---- stats ---------------------------------------------------------------- */

static void print_stats_json(struct pepsal_table *t, uint64_t now)
{
	struct pepsal_table_info in;
	char name[PEPSAL_COUNTER_NAME_MAX];
	uint64_t v;

	pepsal_table_get_info(t, &in);
	printf("{\"table\":{\"name\":");
	json_string(pepsal_table_name(t));
	printf(",\"version\":%u,\"capacity\":%u,\"used\":%u,\"entry_size\":%u,"
	       "\"segment_size\":%" PRIu64 ",\"created_unix\":%.3f,"
	       "\"pending_lifetime_s\":%.3f,\"inserts\":%" PRIu64 ",\"refreshes\":%" PRIu64
	       ",\"lookups\":%" PRIu64 ",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
	       ",\"evictions\":%" PRIu64 ",\"table_full\":%" PRIu64 ",\"removes\":%" PRIu64
	       ",\"gc_removed\":%" PRIu64 ",\"recoveries\":%" PRIu64 "},\"heartbeats\":{",
	       in.version, in.capacity, in.used, in.entry_size, in.segment_size,
	       (double)in.created_realtime_ns / 1e9, (double)in.pending_lifetime_ns / 1e9,
	       in.inserts, in.refreshes, in.lookups, in.hits, in.misses, in.evictions,
	       in.table_full, in.removes, in.gc_removed, in.recoveries);
	for (int r = 0; r < PEPSAL_ROLE_COUNT; r++) {
		printf("%s\"%s\":{\"pid\":%d,", r ? "," : "", pepsal_role_name(r),
		       (int)in.heartbeat[r].pid);
		if (in.heartbeat[r].pid && in.heartbeat[r].beat_ns)
			printf("\"age_s\":%.3f,\"alive\":%s}", age_s(now, in.heartbeat[r].beat_ns),
			       pepsal_table_role_alive(t, r, now, HEARTBEAT_FRESH_NS) ?
			       "true" : "false");
		else
			printf("\"age_s\":null,\"alive\":false}");
	}
	printf("},\"counters\":{");
	for (int i = 0; pepsal_table_counter_get(t, i, name, &v); i++) {
		if (i)
			putchar(',');
		json_string(name);
		printf(":%" PRIu64, v);
	}
	printf("}}");
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
			       age_s(now, in.heartbeat[r].beat_ns),
			       pepsal_table_role_alive(t, r, now, HEARTBEAT_FRESH_NS) ?
			       "" : " (stale)");
	}
	printf("  inserts %" PRIu64 "  refreshes %" PRIu64 "  lookups %" PRIu64 "  hits %"
	       PRIu64 "  misses %" PRIu64 "\n  evictions %" PRIu64 "  table-full %" PRIu64
	       "  removes %" PRIu64 "  gc-removed %" PRIu64 "  recoveries %" PRIu64 "\n",
	       in.inserts, in.refreshes, in.lookups, in.hits, in.misses, in.evictions,
	       in.table_full, in.removes, in.gc_removed, in.recoveries);
	for (int i = 0; pepsal_table_counter_get(t, i, name, &v); i++) {
		char safe[PEPSAL_COUNTER_NAME_MAX];

		for (int k = 0; k < PEPSAL_COUNTER_NAME_MAX; k++)
			safe[k] = name[k] && (name[k] < 0x20 || name[k] == 0x7f) ? '?' : name[k];
		printf("  %-30s %" PRIu64 "\n", safe, v);
	}
}

static int cmd_stats(struct pepsal_table *t)
{
	uint64_t now = pepsal_now_ns();

	if (opt.json) {
		print_stats_json(t, now);
		putchar('\n');
	} else {
		print_stats_text(t, now);
	}
	return 0;
}

/* ---- list ----------------------------------------------------------------- */

/* Calls FN for each entry that can be read; returns how many were skipped
 * because writers kept them busy or they are corrupt. */
static unsigned int for_each_entry(struct pepsal_table *t,
				   void (*fn)(const struct pepsal_entry_view *, uint64_t, bool *),
				   uint64_t now)
{
	struct pepsal_entry_view v;
	unsigned int skipped = 0;
	bool first = true;

	for (uint32_t i = 0; i < pepsal_table_capacity(t); i++) {
		int r = pepsal_table_snapshot(t, i, &v);

		if (r == 0)
			fn(&v, now, &first);
		else if (r != -ENOENT)
			skipped++;
	}
	return skipped;
}

static void entry_json(const struct pepsal_entry_view *v, uint64_t now, bool *first)
{
	char c[PEPSAL_ENDPOINT_STRLEN], d[PEPSAL_ENDPOINT_STRLEN];
	char ca[PEPSAL_ENDPOINT_STRLEN], da[PEPSAL_ENDPOINT_STRLEN];

	printf("%s{\"slot\":%u,\"state\":\"%s\",\"family\":\"%s\",\"client\":\"%s\","
	       "\"client_addr\":\"%s\",\"client_port\":%u,\"dst\":\"%s\",\"dst_addr\":\"%s\","
	       "\"dst_port\":%u,\"age_s\":%.3f,\"idle_s\":%.3f,\"bytes_c2s\":%" PRIu64
	       ",\"bytes_s2c\":%" PRIu64, *first ? "" : ",", v->slot,
	       pepsal_state_name(v->state), v->client.family == AF_INET ? "ipv4" : "ipv6",
	       pepsal_endpoint_format(&v->client, c), pepsal_endpoint_format_addr(&v->client, ca),
	       v->client.port, pepsal_endpoint_format(&v->dst, d),
	       pepsal_endpoint_format_addr(&v->dst, da), v->dst.port, age_s(now, v->syn_ns),
	       age_s(now, v->last_ns), v->bytes[PEPSAL_DIR_C2S], v->bytes[PEPSAL_DIR_S2C]);
	tcpinfo_json(v, age_s(now, v->syn_ns)); /* the client leg (sock_diag) */
	putchar('}');
	*first = false;
}

static void entry_text(const struct pepsal_entry_view *v, uint64_t now, bool *first)
{
	char c[PEPSAL_ENDPOINT_STRLEN], d[PEPSAL_ENDPOINT_STRLEN];

	(void)first;
	printf("%-12s %-46s %-46s %8.1f %14" PRIu64 " %14" PRIu64 "\n",
	       pepsal_state_name(v->state), pepsal_endpoint_format(&v->client, c),
	       pepsal_endpoint_format(&v->dst, d), age_s(now, v->syn_ns),
	       v->bytes[PEPSAL_DIR_C2S], v->bytes[PEPSAL_DIR_S2C]);
	tcpinfo_text(v, age_s(now, v->syn_ns));
}

static int cmd_list(struct pepsal_table *t)
{
	uint64_t now = pepsal_now_ns();
	unsigned int skipped;

	tcpinfo_refresh();
	if (opt.json) {
		printf("{\"table\":");
		json_string(pepsal_table_name(t));
		printf(",\"entries\":[");
		skipped = for_each_entry(t, entry_json, now);
		printf("],\"skipped\":%u}\n", skipped);
		return 0;
	}
	printf("%-12s %-46s %-46s %8s %14s %14s\n", "STATE", "CLIENT", "ORIGINAL DESTINATION",
	       "AGE(s)", "BYTES C>S", "BYTES S>C");
	skipped = for_each_entry(t, entry_text, now);
	if (skipped)
		printf("(%u entries skipped: busy or corrupt)\n", skipped);
	return 0;
}

/* ---- watch ---------------------------------------------------------------- */

static int cmd_watch(struct pepsal_table *t)
{
	bool tty = isatty(STDOUT_FILENO) && !opt.json;

	for (uint32_t n = 0; !opt.count || n < opt.count; n++) {
		if (n)
			poll(NULL, 0, (int)(opt.interval / 1000000));
		if (tty)
			printf("\033[H\033[2J");
		if (opt.json) {
			uint64_t now = pepsal_now_ns();
			unsigned int skipped;

			tcpinfo_refresh();
			printf("{\"stats\":");
			print_stats_json(t, now);
			printf(",\"entries\":[");
			skipped = for_each_entry(t, entry_json, now);
			printf("],\"skipped\":%u}\n", skipped);
		} else {
			cmd_stats(t);
			putchar('\n');
			cmd_list(t);
		}
		fflush(stdout);
	}
	return 0;
}

/* ---- main ------------------------------------------------------------------ */

static const struct {
	const char *name;
	int (*fn)(struct pepsal_table *t);
	const char *description;
} commands[] = {
	{ "stats", cmd_stats, "header, heartbeats and counters" },
	{ "list", cmd_list, "one line per entry: state, client, original destination, age, bytes" },
	{ "watch", cmd_watch, "stats and list, refreshed every --interval" },
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
	struct pepsal_table *t;
	const char *cmd = "stats";
	int first, r;

	first = pepsal_opts_parse("pepsal-shm", "[OPTIONS] stats|list|watch", options,
				  argc, argv);
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
		int rest = pepsal_opts_parse("pepsal-shm", "[OPTIONS] stats|list|watch", options,
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
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		r = pepsal_table_attach(opt.shm, true, &t, err, sizeof(err));
		if (r) {
			fprintf(stderr, "pepsal-shm: %s\n", err);
			return 1;
		}
		r = commands[i].fn(t);
		pepsal_table_detach(t);
		return r ? 1 : 0;
	}
	fprintf(stderr, "pepsal-shm: unknown command '%s'\n", cmd);
	pepsal_opts_usage(stderr, "pepsal-shm", "[OPTIONS] stats|list|watch", options);
	print_commands(stderr);
	return 2;
}
