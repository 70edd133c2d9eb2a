// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Periodic work of the main loop: the heartbeat in the table (every
 * second), garbage collection of pending entries older than -t (every -g),
 * and the connection log (-l), rewritten whole and renamed into place so a
 * reader never sees half a file and it never grows without bound.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "pepsal_daemon.h"
#include "pepsal_log.h"
#include "pipes.h"
#include "relay.h"
#include "stats.h"
#include "timers.h"

#define HEARTBEAT_NS 1000000000ull

static struct {
	const struct timers_params *p;
	uint64_t next_beat;   /* CLOCK_MONOTONIC deadlines */
	uint64_t next_gc;
	uint64_t next_log;
	bool log_failed;      /* the last rewrite failed: said once */
	unsigned long small_pipes_said; /* warn when the small pipes pass it */
} timers;

static void fill_conn_log(FILE *f, void *ctx)
{
	(void)ctx;
	conns_dump(f, pepsal_now_ns());
}

static void write_conn_log(void)
{
	const char *path = timers.p->cfg->conn_log;
	int rc;

	if (!path)
		return;
	rc = pepsal_file_replace(path, fill_conn_log, NULL);
	if (rc && !timers.log_failed)
		pr_warn("cannot write the connection log %s: %s", path, strerror(-rc));
	else if (!rc && timers.log_failed)
		pr_info("connection log %s written again", path);
	timers.log_failed = rc != 0;
}

void timers_conn_log_now(void)
{
	write_conn_log();
}

void timers_init(const struct timers_params *p, uint64_t now_ns)
{
	timers.p = p;
	timers.next_beat = now_ns;
	timers.next_gc = now_ns + p->cfg->gc_interval_ns;
	timers.next_log = now_ns;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int timers_run(uint64_t now_ns)
{
	const struct proxy_config *cfg = timers.p->cfg;
	struct pipes_stats ps;
	uint64_t next;

	if (now_ns >= timers.next_beat) {
		pepsal_table_heartbeat(timers.p->table, PEPSAL_ROLE_PROXY, getpid(), now_ns);
		stats_set(PC_ACTIVE, relay_active());
		pipes_stats(&ps);
		stats_set(PC_SMALL_PIPES, ps.small);
		relay_publish_room();
		if (ps.small > timers.small_pipes_said) {
			pr_warn("%lu pipes are smaller than --pipe-size (fs.pipe-user-pages-soft "
				"without CAP_SYS_RESOURCE); their connections move smaller chunks",
				ps.small);
			timers.small_pipes_said = ps.small * 2; /* said again at twice */
		}
		timers.next_beat = now_ns + HEARTBEAT_NS;
	}
	if (now_ns >= timers.next_gc) {
		int n = pepsal_table_gc(timers.p->table, now_ns, cfg->pending_ns);

		if (n > 0)
			pr_info("garbage collection: %d pending entries older than %llu s removed",
				n, (unsigned long long)(cfg->pending_ns / 1000000000ull));
		timers.next_gc = now_ns + cfg->gc_interval_ns;
	}
	if (cfg->conn_log && now_ns >= timers.next_log) {
		write_conn_log();
		timers.next_log = now_ns + cfg->log_interval_ns;
	}
	next = min_u64(timers.next_beat, timers.next_gc);
	if (cfg->conn_log)
		next = min_u64(next, timers.next_log);
	return next <= now_ns ? 0 : (int)((next - now_ns + 999999) / 1000000);
}
