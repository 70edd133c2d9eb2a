/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Issue 23.7: the defaults a program sets in code and the "(default X)" of
 * its --help must agree. For every option whose help names a value X,
 * parsing "--name X" gives the same configuration as parsing nothing; and a
 * number whose default is not 0 says "default" in its help. A unit test
 * includes this after the program's option code.
 */
#ifndef PEPSAL_TEST_HELP_DEFAULTS_H
#define PEPSAL_TEST_HELP_DEFAULTS_H

#include <glib.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pepsal_opts.h"

struct help_defaults {
	/* parse ARGS (NULL-terminated, after the program's name) into CFG: 0 ok */
	int (*parse)(void *cfg, const char *const *args);
	/* the same configuration (strings by content) */
	bool (*same)(const void *a, const void *b);
	/* the options given with every parse of option NAME (NULL: none) */
	const char *const *(*base)(const char *name);
	/* the table, its destinations in CFG */
	const struct pepsal_opt *(*table)(void *cfg);
	void *ref, *cfg;      /* two configurations to parse into */
};

/* Returns how many defaults were checked; fails the test on a mismatch. */
static inline unsigned int help_defaults_check(const struct help_defaults *h)
{
	char names[128][64], values[128][64];
	const char *args[40];
	unsigned int n = 0, checked = 0;
	const struct pepsal_opt *o;

	for (o = h->table(h->cfg); o->name && n < 128; o++) {
		const char *def = strstr(o->help, "(default ");
		size_t len;

		if (!def || o->kind == PEPSAL_OPT_FLAG || o->kind == PEPSAL_OPT_CLEAR)
			continue;
		def += strlen("(default ");
		len = strcspn(def, ";),:");
		if (!len) /* "(default: system)": a description, not a value */
			continue;
		g_assert_cmpuint(len, <, sizeof(values[0]));
		snprintf(names[n], sizeof(names[n]), "--%s", o->name);
		snprintf(values[n], sizeof(values[n]), "%.*s", (int)len, def);
		n++;
	}
	for (unsigned int i = 0; i < n; i++) {
		const char *const *b = h->base ? h->base(names[i]) : NULL;
		size_t k = 0;

		for (; b && b[k]; k++)
			args[k] = b[k];
		args[k] = NULL;
		g_assert_cmpint(h->parse(h->ref, args), ==, 0);
		args[k] = names[i];
		args[k + 1] = values[i];
		args[k + 2] = NULL;
		if (h->parse(h->cfg, args) != 0)
			g_error("%s: the help's default '%s' is refused", names[i], values[i]);
		if (!h->same(h->cfg, h->ref))
			g_error("%s: the help's default '%s' is not the code's", names[i], values[i]);
		checked++;
	}
	/* the other way: a number with a default other than 0 says so */
	g_assert_cmpint(h->parse(h->ref, (const char *const[]){ NULL }), ==, 0);
	for (o = h->table(h->ref); o->name; o++) {
		uint64_t v = o->kind == PEPSAL_OPT_U32 ? *(const uint32_t *)o->dst :
			     o->kind == PEPSAL_OPT_U64 || o->kind == PEPSAL_OPT_DURATION ||
			     o->kind == PEPSAL_OPT_SIZE ? *(const uint64_t *)o->dst : 0;

		if (v && !strstr(o->help, "default"))
			g_error("--%s: a default of %" PRIu64 " the help does not give", o->name, v);
	}
	return checked;
}

/*
 * Issue 22.10: a help that gives an option's least value, "N or more"
 * (before its "(default"), tells the parser's: N is taken and N - 1 is not.
 * Returns how many options say so.
 */
static inline unsigned int help_minimums_check(const struct help_defaults *h)
{
	unsigned int checked = 0;
	const struct pepsal_opt *o;

	for (o = h->table(h->cfg); o->name; o++) {
		const char *def = strstr(o->help, "(default");
		const char *more = strstr(o->help, " or more");
		char name[64], low[24], below[24];
		const char *args[40];
		unsigned long n;
		size_t k = 0;

		if (!more || (def && more > def))
			continue;
		while (more > o->help && more[-1] >= '0' && more[-1] <= '9')
			more--;
		n = strtoul(more, NULL, 10);
		g_assert_cmpuint(n, >, 0);
		snprintf(name, sizeof(name), "--%s", o->name);
		snprintf(low, sizeof(low), "%lu", n);
		snprintf(below, sizeof(below), "%lu", n - 1);
		for (const char *const *b = h->base ? h->base(name) : NULL; b && b[k]; k++)
			args[k] = b[k];
		args[k] = name;
		args[k + 2] = NULL;
		args[k + 1] = low;
		if (h->parse(h->cfg, args) != 0)
			g_error("%s: the help's least value %s is refused", name, low);
		args[k + 1] = below;
		if (h->parse(h->cfg, args) == 0)
			g_error("%s: %s, below the help's least value, is taken", name, below);
		checked++;
	}
	return checked;
}

#endif
