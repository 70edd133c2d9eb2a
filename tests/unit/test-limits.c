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
	g_assert_cmpuint(limits_fds_needed(0), ==, LIMITS_FDS_RESERVED);
	g_assert_cmpuint(limits_fds_needed(100), ==, 100 * LIMITS_FDS_PER_CONN + LIMITS_FDS_RESERVED);
	g_assert_cmpuint(limits_fds_needed(UINT32_MAX), ==,
			 (uint64_t)UINT32_MAX * LIMITS_FDS_PER_CONN + LIMITS_FDS_RESERVED);
	g_assert_cmpuint(limits_conns_fitting(20000), ==, (20000 - LIMITS_FDS_RESERVED) / LIMITS_FDS_PER_CONN);
	g_assert_cmpuint(limits_conns_fitting(0), ==, 1);
	g_assert_cmpuint(limits_conns_fitting(LIMITS_FDS_RESERVED + 5), ==, 1);
	g_assert_cmpuint(limits_conns_fitting(UINT64_MAX), ==, UINT32_MAX);
	/* what fits needs no more than there is */
	for (uint64_t n = 70; n < 100000; n = n * 3 + 1)
		g_assert_cmpuint(limits_fds_needed(limits_conns_fitting(n)), <=, n);
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
	uint32_t c = 1000000;

	limits_setup(&c);
	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	g_assert_cmpuint(c, >=, 1);
	g_assert_cmpuint(limits_fds_needed(c), <=, rl.rlim_cur);
	c = 10;
	limits_setup(&c);
	g_assert_cmpuint(c, ==, 10);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/limits/capacity", test_capacity);
	g_test_add_func("/limits/fds", test_fds);
	g_test_add_func("/limits/threads-maps", test_threads_maps);
	g_test_add_func("/limits/setup-clamps", test_setup_clamps);
	return g_test_run();
}
