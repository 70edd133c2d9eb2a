// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Periodic work of the main loop: the heartbeat in the table (every
 * second), garbage collection of pending entries older than -t (every -g),
 * and the connection log (-l), rewritten whole and renamed into place so a
 * reader never sees half a file and it never grows without bound.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pepsal_log.h"
#include "proxy.h"

#define HEARTBEAT_NS 1000000000ull

static struct {
	uint64_t next_beat;   /* CLOCK_MONOTONIC deadlines */
	uint64_t next_gc;
	uint64_t next_log;
	bool log_failed;      /* the last rewrite failed: said once */
} timers;

static void write_conn_log(void)
{
	const char *path = g_proxy.cfg.conn_log;
	char tmp[PATH_MAX];
	FILE *f;
	int rc = 0;

	if (!path)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return;
	f = fopen(tmp, "we");
	if (!f) {
		rc = -errno;
	} else {
		conns_dump(f);
		if (fflush(f) || ferror(f))
			rc = -EIO;
		if (fclose(f) && !rc)
			rc = -errno;
		if (!rc && rename(tmp, path) < 0)
			rc = -errno;
		if (rc)
			unlink(tmp);
	}
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

void timers_init(uint64_t now_ns)
{
	timers.next_beat = now_ns;
	timers.next_gc = now_ns + g_proxy.cfg.gc_interval_ns;
	timers.next_log = now_ns;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int timers_run(uint64_t now_ns)
{
	uint64_t next;

	if (now_ns >= timers.next_beat) {
		pepsal_table_heartbeat(g_proxy.table, PEPSAL_ROLE_PROXY, getpid(), now_ns);
		proxy_count(PC_ACTIVE, 0);
		timers.next_beat = now_ns + HEARTBEAT_NS;
	}
	if (now_ns >= timers.next_gc) {
		int n = pepsal_table_gc(g_proxy.table, now_ns, g_proxy.cfg.pending_ns);

		if (n > 0)
			pr_info("garbage collection: %d pending entries older than %llu s removed",
				n, (unsigned long long)(g_proxy.cfg.pending_ns / 1000000000ull));
		timers.next_gc = now_ns + g_proxy.cfg.gc_interval_ns;
	}
	if (g_proxy.cfg.conn_log && now_ns >= timers.next_log) {
		write_conn_log();
		timers.next_log = now_ns + g_proxy.cfg.log_interval_ns;
	}
	next = min_u64(timers.next_beat, timers.next_gc);
	if (g_proxy.cfg.conn_log)
		next = min_u64(next, timers.next_log);
	return next <= now_ns ? 0 : (int)((next - now_ns + 999999) / 1000000);
}
