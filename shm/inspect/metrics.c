// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-shm metrics: the table in the Prometheus text exposition format
 * (version 0.0.4), for node_exporter's textfile collector and for serve.
 *
 * Every named counter the processes registered in the segment is exported:
 * "queuer.syns" becomes the counter pepsal_queuer_syns_total. Those of
 * pepsal and pepsal-queuer are in libpepsal's catalogue (pepsal_catalog.h),
 * which says whether each counts or holds a current value (a gauge:
 * "proxy.active" is exported as pepsal_proxy_active) and what it means (its
 * HELP). A name the catalogue does not know (another process's) is a gauge
 * if its last word says so (gauge_words below). Beside them: the header's
 * statistics as pepsal_table_*_total, and gauges computed from the entries
 * (connections by state, bytes each way), the table's use and the
 * heartbeats of the queuer and the proxy.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "inspect.h"
#include "pepsal_catalog.h"
#include "pepsal_table.h"

#define MAX_FAMILIES (PEPSAL_MAX_COUNTERS + 40)
#define METRIC_NAME_MAX (PEPSAL_COUNTER_NAME_MAX + 24)

/* Names already written: a family must appear once. */
struct names {
	char name[MAX_FAMILIES][METRIC_NAME_MAX];
	int n;
};

static bool name_taken(const struct names *ns, const char *name)
{
	for (int i = 0; i < ns->n; i++)
		if (strcmp(ns->name[i], name) == 0)
			return true;
	return false;
}

static void family(FILE *f, struct names *ns, const char *name, const char *type,
		   const char *help)
{
	if (ns->n < MAX_FAMILIES)
		snprintf(ns->name[ns->n++], METRIC_NAME_MAX, "%s", name);
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *f, struct names *ns, const char *name, const char *type,
		const char *help, double v)
{
	family(f, ns, name, type, help);
	fprintf(f, "%s %.17g\n", name, v);
}

static void one_u64(FILE *f, struct names *ns, const char *name, const char *type,
		    const char *help, uint64_t v)
{
	family(f, ns, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* ---- the named counters ------------------------------------------------ */

/* Last words of a named counter outside the catalogue that holds a current
 * value (a gauge). */
static const char *const gauge_words[] = {
	"active", "open", "current", "in_use", "room", "free", "available", "limit",
	"capacity", "size", NULL,
};

static bool is_gauge(const char *name)
{
	const struct pepsal_counter_def *def = pepsal_counter_def(name);
	const char *last = strrchr(name, '.');

	if (def)
		return def->kind == PEPSAL_METRIC_GAUGE;
	last = last ? last + 1 : name;
	for (int i = 0; gauge_words[i]; i++)
		if (strcmp(last, gauge_words[i]) == 0)
			return true;
	return false;
}

/* pepsal_ + NAME with every character Prometheus does not allow in a name
 * turned into '_', + _total for a counter. */
static void metric_name(const char *name, bool gauge, char out[METRIC_NAME_MAX])
{
	size_t n = (size_t)snprintf(out, METRIC_NAME_MAX, "pepsal_");

	for (const char *p = name; *p && n < METRIC_NAME_MAX - 8; p++) {
		char c = *p;

		out[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') ? c : '_';
	}
	out[n] = '\0';
	if (!gauge && (n < 6 || strcmp(out + n - 6, "_total") != 0))
		strcpy(out + n, "_total");
}

static void named_counters(FILE *f, struct names *ns, struct pepsal_table *t)
{
	char name[PEPSAL_COUNTER_NAME_MAX], mname[METRIC_NAME_MAX], help[256];
	uint64_t v;

	for (int i = 0; pepsal_table_counter_get(t, i, name, &v); i++) {
		const struct pepsal_counter_def *def;
		bool gauge = is_gauge(name);

		metric_name(name, gauge, mname);
		if (name_taken(ns, mname)) {
			/* two names that differ only in forbidden characters */
			char base[METRIC_NAME_MAX];
			size_t bl;

			snprintf(base, sizeof(base), "%s", mname);
			bl = strlen(base) - (gauge ? 0 : 6);
			if (bl > METRIC_NAME_MAX - 16)
				bl = METRIC_NAME_MAX - 16;
			snprintf(mname, METRIC_NAME_MAX, "%.*s_%d%s", (int)bl, base, i % 100,
				 gauge ? "" : "_total");
		}
		def = pepsal_counter_def(name);
		/* the help names the counter as registered, printable only */
		for (char *p = name; *p; p++)
			if (*p < 0x20 || *p == 0x7f || *p == '\\')
				*p = '?';
		if (def)
			snprintf(help, sizeof(help), "%s (%s)", def->help, name);
		else
			snprintf(help, sizeof(help), "Named %s %s of the connection table.",
				 gauge ? "value" : "counter", name);
		one_u64(f, ns, mname, gauge ? "gauge" : "counter", help, v);
	}
}

/* ---- the table ------------------------------------------------------------ */

static void header_counters(FILE *f, struct names *ns, const struct pepsal_table_info *in)
{
	static const struct {
		const char *name;
		size_t off;
		const char *help;
	} c[] = {
#define C(field, name, help) { name, offsetof(struct pepsal_table_info, field), help }
		C(inserts, "pepsal_table_inserts_total", "SYNs recorded as new pending entries."),
		C(refreshes, "pepsal_table_refreshes_total",
		  "Retransmitted SYNs that refreshed their pending entry."),
		C(lookups, "pepsal_table_lookups_total", "Lookups and claims by the proxy."),
		C(hits, "pepsal_table_lookup_hits_total", "Lookups that found their entry."),
		C(misses, "pepsal_table_lookup_misses_total", "Lookups that found no entry."),
		C(evictions, "pepsal_table_evictions_total",
		  "Stale pending entries reclaimed to make room."),
		C(table_full, "pepsal_table_full_total", "SYNs not recorded: the table was full."),
		C(removes, "pepsal_table_removes_total", "Entries removed at close."),
		C(gc_removed, "pepsal_table_gc_removed_total",
		  "Pending entries removed by garbage collection."),
		C(recoveries, "pepsal_table_recoveries_total",
		  "Lock recoveries after a writer died holding the lock."),
		C(deferred, "pepsal_table_deferred_removes_total",
		  "Removals that found the lock held too long, done by its next holder."),
		C(address_limited, "pepsal_table_address_limited_total",
		  "SYNs not recorded: their client address held its share of the table."),
#undef C
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		one_u64(f, ns, c[i].name, "counter", c[i].help,
			*(const uint64_t *)((const char *)in + c[i].off));
}

static void table_gauges(FILE *f, struct names *ns, struct pepsal_table *t,
			 const struct pepsal_table_info *in)
{
	family(f, ns, "pepsal_table_info", "gauge", "The table's name and layout version.");
	fprintf(f, "pepsal_table_info{name=\"");
	label_value(f, pepsal_table_name(t));
	fprintf(f, "\",version=\"%u\"} 1\n", in->version);
	one_u64(f, ns, "pepsal_table_capacity_entries", "gauge", "Slots of the table.",
		in->capacity);
	one_u64(f, ns, "pepsal_table_used_entries", "gauge", "Slots in use.", in->used);
	one_u64(f, ns, "pepsal_table_pending_entries", "gauge",
		"Slots holding a SYN not accepted yet.", in->pending);
	if (in->room != PEPSAL_ROOM_UNPUBLISHED)
		one_u64(f, ns, "pepsal_proxy_room_connections", "gauge",
			"Connections the proxy can still take, as it published.", in->room);
	one_u64(f, ns, "pepsal_table_segment_bytes", "gauge",
		"Size of the shared-memory segment.", in->segment_size);
	one(f, ns, "pepsal_table_created_timestamp_seconds", "gauge",
	    "When the table was created (Unix time); counters start from zero then.",
	    (double)in->created_realtime_ns / 1e9);
	one(f, ns, "pepsal_table_pending_lifetime_seconds", "gauge",
	    "How long a pending entry is kept.", (double)in->pending_lifetime_ns / 1e9);
}

static void entry_gauges(FILE *f, struct names *ns, struct pepsal_table *t)
{
	static const enum pepsal_state states[] = {
		PEPSAL_STATE_PENDING, PEPSAL_STATE_ESTABLISHED, PEPSAL_STATE_CLOSING,
	};
	uint64_t by_state[PEPSAL_STATE_CLOSING + 1] = { 0 }, bytes[2] = { 0, 0 };
	unsigned int skipped = 0;
	struct pepsal_entry_view v;

	for (uint32_t i = 0; i < pepsal_table_capacity(t); i++) {
		int r = pepsal_table_snapshot(t, i, &v);

		if (r == -ENOENT)
			continue;
		if (r || v.state > PEPSAL_STATE_CLOSING) {
			skipped++;
			continue;
		}
		by_state[v.state]++;
		bytes[0] += v.bytes[PEPSAL_DIR_C2S];
		bytes[1] += v.bytes[PEPSAL_DIR_S2C];
	}
	family(f, ns, "pepsal_connections", "gauge", "Entries of the table by state.");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		fprintf(f, "pepsal_connections{state=\"%s\"} %" PRIu64 "\n",
			pepsal_state_name(states[i]), by_state[states[i]]);
	family(f, ns, "pepsal_connection_bytes", "gauge",
	       "Bytes relayed so far by the connections now in the table, each way.");
	fprintf(f, "pepsal_connection_bytes{direction=\"client_to_server\"} %" PRIu64 "\n"
		"pepsal_connection_bytes{direction=\"server_to_client\"} %" PRIu64 "\n",
		bytes[0], bytes[1]);
	one_u64(f, ns, "pepsal_table_unreadable_entries", "gauge",
		"Entries skipped by this scrape: busy or corrupt.", skipped);
}

static void heartbeats(FILE *f, struct names *ns, struct pepsal_table *t,
		       const struct pepsal_table_info *in, uint64_t now)
{
	family(f, ns, "pepsal_process_alive", "gauge",
	       "1 if the process beat within the last 3 seconds.");
	for (int r = 0; r < PEPSAL_ROLE_COUNT; r++)
		fprintf(f, "pepsal_process_alive{role=\"%s\"} %d\n", pepsal_role_name(r),
			in->heartbeat[r].pid &&
			pepsal_table_role_alive(t, r, now, HEARTBEAT_FRESH_NS) ? 1 : 0);
	family(f, ns, "pepsal_heartbeat_age_seconds", "gauge",
	       "Time since the process's last heartbeat (absent if it never beat).");
	for (int r = 0; r < PEPSAL_ROLE_COUNT; r++)
		if (in->heartbeat[r].pid && in->heartbeat[r].beat_ns)
			fprintf(f, "pepsal_heartbeat_age_seconds{role=\"%s\"} %.3f\n",
				pepsal_role_name(r), shm_age_s(now, in->heartbeat[r].beat_ns));
}

/* Each NFQUEUE's queuer: alive, and its counters labelled by queue. */
static void queue_metrics(FILE *f, struct names *ns, struct pepsal_table *t, uint64_t now)
{
	struct pepsal_queue_view q[PEPSAL_MAX_QUEUES];
	char mname[METRIC_NAME_MAX];
	int n = 0;

	for (int i = 0; i < PEPSAL_MAX_QUEUES; i++)
		if (pepsal_table_queue_get(t, i, &q[n]))
			n++;
	if (!n)
		return;
	family(f, ns, "pepsal_queue_alive", "gauge",
	       "1 if the queuer of this NFQUEUE beat within the last 3 seconds.");
	for (int i = 0; i < n; i++)
		fprintf(f, "pepsal_queue_alive{queue=\"%u\"} %d\n", q[i].queue,
			pepsal_table_queue_alive(&q[i], now, HEARTBEAT_FRESH_NS) ? 1 : 0);
	for (int c = 0; c < PEPSAL_QUEUE_COUNTERS; c++) {
		snprintf(mname, sizeof(mname), "pepsal_queue_%s_total", pepsal_queue_counter_name(c));
		family(f, ns, mname, "counter", "The queuer counter of that name, for this NFQUEUE.");
		for (int i = 0; i < n; i++)
			fprintf(f, "%s{queue=\"%u\"} %" PRIu64 "\n", mname, q[i].queue,
				q[i].count[c]);
	}
}

int shm_metrics_write(FILE *f, const char *name, char *err, size_t errlen)
{
	static struct names ns; /* 4 KiB: not on the stack */
	struct pepsal_table_info in;
	struct pepsal_table *t;
	int r;

	ns.n = 0;
	r = pepsal_table_attach(name, true, &t, err, errlen);
	one(f, &ns, "pepsal_table_up", "gauge",
	    "1 if the connection table could be attached and read.", r ? 0 : 1);
	if (r)
		return r;
	pepsal_table_get_info(t, &in);
	table_gauges(f, &ns, t, &in);
	entry_gauges(f, &ns, t);
	heartbeats(f, &ns, t, &in, pepsal_now_ns());
	queue_metrics(f, &ns, t, pepsal_now_ns());
	header_counters(f, &ns, &in);
	named_counters(f, &ns, t);
	pepsal_table_detach(t);
	return 0;
}

int cmd_metrics(int argc, char **argv, struct inspect_common *c)
{
	const struct pepsal_opt opts[] = {
		{ "shm", 's', PEPSAL_OPT_CUSTOM, &c->shm, "NAME",
		  "shared-memory table to read (default " PEPSAL_SHM_DEFAULT_NAME ")", 0, 0,
		  inspect_parse_shm },
		{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
	};
	char err[512];
	int r = inspect_parse(argc, argv, opts, "[OPTIONS]", c, false);

	if (r)
		return r < 0 ? 0 : r;
	/* it attaches itself, as serve does at each scrape */
	r = shm_metrics_write(stdout, c->shm, err, sizeof(err));
	if (r)
		fprintf(stderr, PROG ": %s%s\n", err, inspect_attach_hint(r));
	return r ? 1 : 0;
}
