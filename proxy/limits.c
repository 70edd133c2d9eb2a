// SPDX-License-Identifier: GPL-2.0-or-later
/* Resource arithmetic of -c, the pipe pool and the descriptor limit. */
#include <errno.h>
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
	*pipes = limits_pipes_fitting(rl.rlim_cur, *max_conns);
}
