// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the resource arithmetic of -c (proxy/limits.c). */
#include <glib.h>
#include <sys/resource.h>

#include "../../proxy/limits.h"
#include "pepsal_table.h"

static void test_capacity(void)
{
	g_assert_cmpuint(limits_default_capacity(1), ==, PEPSAL_TABLE_DEFAULT_CAPACITY);
	g_assert_cmpuint(limits_default_capacity(2112), ==, 4224);
	g_assert_cmpuint(limits_default_capacity(3000), ==, 6000);
	g_assert_cmpuint(limits_default_capacity(1000000), ==, PEPSAL_TABLE_MAX_CAPACITY);
	g_assert_cmpuint(limits_default_capacity(UINT32_MAX), ==, PEPSAL_TABLE_MAX_CAPACITY);
}

static void test_fds(void)
{
	uint64_t fixed = LIMITS_FDS_RESERVED + LIMITS_PIPES_MIN * LIMITS_FDS_PER_PIPE;

	g_assert_cmpuint(LIMITS_FDS_PER_CONN, ==, 2); /* the sockets only */
	g_assert_cmpuint(limits_fds_needed(0, 0), ==, LIMITS_FDS_RESERVED);
	g_assert_cmpuint(limits_fds_needed(100, 10), ==, 200 + 20 + LIMITS_FDS_RESERVED);
	g_assert_cmpuint(limits_fds_needed(UINT32_MAX, 0), ==,
			 (uint64_t)UINT32_MAX * 2 + LIMITS_FDS_RESERVED);
	/* this machine's 20,000 descriptors hold about 10,000 connections */
	g_assert_cmpuint(limits_conns_fitting(20000), ==, (20000 - fixed) / 2);
	g_assert_cmpuint(limits_conns_fitting(20000), >=, 9900);
	g_assert_cmpuint(limits_conns_fitting(0), ==, 1);
	g_assert_cmpuint(limits_conns_fitting(fixed + 1), ==, 1);
	g_assert_cmpuint(limits_conns_fitting(UINT64_MAX), ==, UINT32_MAX);
	/* what fits needs no more than there is, pipes included */
	for (uint64_t n = fixed + 2; n < 100000; n = n * 3 + 1) {
		uint32_t c = limits_conns_fitting(n);

		g_assert_cmpuint(limits_fds_needed(c, limits_pipes_fitting(n, c)), <=, n);
	}
}

static void test_pipes(void)
{
	/* room to spare: the full pool */
	g_assert_cmpuint(limits_pipes_fitting(20000, 100), ==, LIMITS_PIPES_MAX);
	/* tight: what is left, within the bounds */
	g_assert_cmpuint(limits_pipes_fitting(20000, 9900), ==,
			 (20000 - LIMITS_FDS_RESERVED - 2 * 9900) / 2);
	g_assert_cmpuint(limits_pipes_fitting(20000, 10000), ==, LIMITS_PIPES_MIN);
	g_assert_cmpuint(limits_pipes_fitting(UINT64_MAX, 1), ==, LIMITS_PIPES_MAX);
}

static void test_threads_maps(void)
{
	/* systemd's default TasksMax here: 15 % of pid_max 32768 */
	g_assert_cmpuint(limits_conns_by_threads(4915), ==, (4915 - LIMITS_THREADS_RESERVED) / 2);
	g_assert_cmpuint(limits_conns_by_threads(0), ==, 1);
	g_assert_cmpuint(limits_conns_by_threads(UINT64_MAX), ==, UINT32_MAX);
	g_assert_cmpuint(limits_conns_by_maps(65530), ==, (65530 - LIMITS_MAPS_RESERVED) / 4);
	g_assert_cmpuint(limits_conns_by_maps(100), ==, 1);
}

static void test_setup_clamps(void)
{
	struct rlimit rl;
	uint32_t c = 1000000, pipes = 0;

	limits_setup(&c, &pipes);
	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	g_assert_cmpuint(c, >=, 1);
	g_assert_cmpuint(pipes, >=, LIMITS_PIPES_MIN);
	g_assert_cmpuint(limits_fds_needed(c, pipes), <=, rl.rlim_cur);
	c = 10;
	limits_setup(&c, &pipes);
	g_assert_cmpuint(c, ==, 10);
	g_assert_cmpuint(pipes, ==, LIMITS_PIPES_MAX);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/limits/capacity", test_capacity);
	g_test_add_func("/limits/fds", test_fds);
	g_test_add_func("/limits/threads-maps", test_threads_maps);
	g_test_add_func("/limits/pipes", test_pipes);
	g_test_add_func("/limits/setup-clamps", test_setup_clamps);
	return g_test_run();
}
