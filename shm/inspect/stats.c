// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-shm stats (the default command): the table's header, the
 * heartbeats of the proxy and the queuer, one line per NFQUEUE, and the
 * named counters; watch prints the same at each refresh.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "inspect.h"

void stats_print_json(FILE *f, struct pepsal_table *t, uint64_t now)
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

void stats_print_text(struct pepsal_table *t, uint64_t now)
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

int cmd_stats(int argc, char **argv, struct inspect_common *c)
{
	const struct pepsal_opt opts[] = {
		{ "shm", 's', PEPSAL_OPT_CUSTOM, &c->shm, "NAME",
		  "shared-memory table to read (default " PEPSAL_SHM_DEFAULT_NAME ")", 0, 0,
		  inspect_parse_shm },
		{ "json", 'j', PEPSAL_OPT_FLAG, &c->json, NULL, "print JSON", 0, 0, NULL },
		{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
	};
	struct pepsal_table *t;
	uint64_t now;
	int r = inspect_parse(argc, argv, opts, "[OPTIONS]", c, true);

	if (r)
		return r < 0 ? 0 : r;
	if (inspect_attach(c, &t))
		return 1;
	now = pepsal_now_ns();
	if (c->json) {
		stats_print_json(stdout, t, now);
		putchar('\n');
	} else {
		stats_print_text(t, now);
	}
	pepsal_table_detach(t);
	return 0;
}
