// SPDX-License-Identifier: GPL-2.0-or-later
/* Resource arithmetic of -c, the pipe pool and the descriptor limit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "limits.h"
#include "pepsal_log.h"
#include "pepsal_table.h"

uint32_t limits_default_capacity(uint32_t max_conns)
{
	uint64_t want = 2ull * max_conns;

	if (want < PEPSAL_TABLE_DEFAULT_CAPACITY)
		want = PEPSAL_TABLE_DEFAULT_CAPACITY;
	return want > PEPSAL_TABLE_MAX_CAPACITY ? PEPSAL_TABLE_MAX_CAPACITY : (uint32_t)want;
}

uint64_t limits_fds_needed(uint32_t max_conns, uint32_t pipes)
{
	return (uint64_t)max_conns * LIMITS_FDS_PER_CONN + (uint64_t)pipes * LIMITS_FDS_PER_PIPE +
	       LIMITS_FDS_RESERVED;
}

uint32_t limits_conns_fitting(uint64_t nofile)
{
	uint64_t fixed = limits_fds_needed(0, LIMITS_PIPES_MIN);
	uint64_t fit = nofile > fixed ? (nofile - fixed) / LIMITS_FDS_PER_CONN : 0;

	if (fit < 1)
		return 1;
	return fit > UINT32_MAX ? UINT32_MAX : (uint32_t)fit;
}

static uint32_t fit_u32(uint64_t v)
{
	return v < 1 ? 1 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

uint32_t limits_conns_by_threads(uint64_t tasks)
{
	return fit_u32(tasks > LIMITS_THREADS_RESERVED ?
		       (tasks - LIMITS_THREADS_RESERVED) / LIMITS_THREADS_PER_CONN : 0);
}

uint32_t limits_conns_by_maps(uint64_t max_map_count)
{
	return fit_u32(max_map_count > LIMITS_MAPS_RESERVED ?
		       (max_map_count - LIMITS_MAPS_RESERVED) / LIMITS_MAPS_PER_CONN : 0);
}

/* The first number in PATH ("max" is UINT64_MAX); FALLBACK if none. */
static uint64_t read_number(const char *path, uint64_t fallback)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	uint64_t v = fallback;

	if (!f)
		return fallback;
	if (fgets(buf, sizeof(buf), f))
		v = strncmp(buf, "max", 3) == 0 ? UINT64_MAX : strtoull(buf, NULL, 10);
	fclose(f);
	return v ? v : fallback;
}

/* Threads this process may still start: its cgroup's pids.max less
 * pids.current (systemd's TasksMax), and the kernel's threads-max and
 * pid_max less what runs (roughly: the whole machine shares them). */
static uint64_t tasks_available(void)
{
	char line[512], path[600];
	uint64_t avail = UINT64_MAX, max, cur;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, "::/");

			if (strncmp(line, "0::", 3) || !p)
				continue;
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/pids.max", p + 2);
			max = read_number(path, UINT64_MAX);
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/pids.current", p + 2);
			cur = read_number(path, 0);
			if (max != UINT64_MAX)
				avail = max > cur ? max - cur : 0;
		}
		fclose(f);
	}
	max = read_number("/proc/sys/kernel/threads-max", UINT64_MAX);
	if (max < avail)
		avail = max;
	max = read_number("/proc/sys/kernel/pid_max", UINT64_MAX);
	return max < avail ? max : avail;
}

static void clamp(uint32_t *max_conns, uint32_t fit, const char *why)
{
	if (*max_conns <= fit)
		return;
	pr_warn("%u connections do not fit in %s: serving at most %u", *max_conns, why, fit);
	*max_conns = fit;
}

uint32_t limits_pipes_fitting(uint64_t nofile, uint32_t max_conns)
{
	uint64_t used = limits_fds_needed(max_conns, 0);
	uint64_t fit = nofile > used ? (nofile - used) / LIMITS_FDS_PER_PIPE : 0;

	if (fit < LIMITS_PIPES_MIN)
		return LIMITS_PIPES_MIN;
	return fit > LIMITS_PIPES_MAX ? LIMITS_PIPES_MAX : (uint32_t)fit;
}

void limits_setup(uint32_t *max_conns, uint32_t *pipes)
{
	uint64_t want = limits_fds_needed(*max_conns, LIMITS_PIPES_MAX);
	uint32_t fit;
	struct rlimit rl;

	*pipes = LIMITS_PIPES_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < want) {
		struct rlimit up = { .rlim_cur = want, .rlim_max = want };

		if (rl.rlim_max >= want)
			up.rlim_max = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &up) < 0) {
			up = (struct rlimit){ .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
			if (setrlimit(RLIMIT_NOFILE, &up) < 0)
				pr_warn("cannot raise the descriptor limit: %s", strerror(errno));
		}
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	fit = limits_conns_fitting(rl.rlim_cur);
	if (*max_conns > fit) {
		pr_warn("%u connections need up to %llu descriptors and the limit is %llu: "
			"serving at most %u", *max_conns,
			(unsigned long long)limits_fds_needed(*max_conns, LIMITS_PIPES_MIN),
			(unsigned long long)rl.rlim_cur, fit);
		*max_conns = fit;
	}
	clamp(max_conns, limits_conns_by_threads(tasks_available()),
	      "the threads this process may start (TasksMax, threads-max, pid_max; "
	      "two per connection)");
	clamp(max_conns, limits_conns_by_maps(read_number("/proc/sys/vm/max_map_count", 65530)),
	      "vm.max_map_count (four mappings per connection)");
	*pipes = limits_pipes_fitting(rl.rlim_cur, *max_conns);
}
