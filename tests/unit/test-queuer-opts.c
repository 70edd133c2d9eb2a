// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of pepsal-queuer's command line (queuer/options.c): the value
 * parsers, the mark and routing mark kept apart, and the help's defaults
 * against the code's. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "../../queuer/options.c"
#include "help-defaults.h"

static int parse_args(void *o, const char *const *args)
{
	char *argv[40] = { (char *)"pepsal-queuer" };
	int argc = 1;
	FILE *err = stderr;
	int rc;

	while (*args && argc < 39)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	stderr = fopen("/dev/null", "w");
	rc = queuer_options_parse(o, argc, argv);
	fclose(stderr);
	stderr = err;
	return rc;
}

#define PARSE(o, ...) parse_args(o, (const char *const[]){ __VA_ARGS__, NULL })

static bool same_options(const void *x, const void *y)
{
	struct queuer_options a = *(const struct queuer_options *)x;
	struct queuer_options b = *(const struct queuer_options *)y;

	if (strcmp(a.shm, b.shm) != 0 || !a.pidfile != !b.pidfile ||
	    (a.pidfile && strcmp(a.pidfile, b.pidfile) != 0))
		return false;
	a.shm = b.shm = NULL;
	a.pidfile = b.pidfile = NULL;
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static const struct pepsal_opt *table_of(void *o)
{
	return queuer_options_table(o);
}

static void test_help_defaults(void)
{
	static struct queuer_options ref, o;
	const struct help_defaults h = { parse_args, same_options, NULL, table_of, &ref, &o };

	g_assert_cmpuint(help_defaults_check(&h), >=, 12);
}

static void test_values(void)
{
	struct queuer_options o;
	char err[256];
	int32_t v;

	g_assert_cmpint(PARSE(&o, "--mark", "0x4", "--routing-mark", "0x8/0x8"), ==, 0);
	g_assert_cmpuint(o.mark.mask, ==, 4);
	g_assert_cmpuint(o.routing_mark.value, ==, 8);
	g_assert_cmpint(PARSE(&o, "--mark", "0x1"), ==, -2); /* the default routing mark */
	g_assert_cmpint(PARSE(&o, "--mark", "0x1", "--routing-mark", "0x4"), ==, 0);
	g_assert_cmpint(PARSE(&o, "--mark", "0"), ==, -2);
	g_assert_cmpint(PARSE(&o, "--shm", "a/b"), ==, -2);
	g_assert_cmpint(PARSE(&o, "--shm", "pepsal-x"), ==, 0);
	g_assert_cmpint(PARSE(&o, "--hold-time", "0.5s"), ==, 0);
	g_assert_cmpuint(o.hold_ns, ==, 500000000ull);
	g_assert_cmpint(PARSE(&o, "-V"), ==, -1);
	g_assert_cmpint(PARSE(&o, "extra"), ==, -2);
	g_assert_true(parse_nice("-20", &v, err, sizeof(err)) && v == -20);
	g_assert_true(parse_nice("19", &v, err, sizeof(err)) && v == 19);
	g_assert_false(parse_nice("20", &v, err, sizeof(err)));
	g_assert_false(parse_nice("-1x", &v, err, sizeof(err)));
	g_assert_false(parse_nice("", &v, err, sizeof(err)));
	g_assert_true(parse_fd("2", &v, err, sizeof(err)) == false); /* 3 or more */
	g_assert_false(parse_fd("999999", &v, err, sizeof(err))); /* not open */
	g_assert_nonnull(strstr(err, "not open"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/queuer-opts/help-defaults", test_help_defaults);
	g_test_add_func("/queuer-opts/values", test_values);
	return g_test_run();
}
