/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One option table per program: it drives getopt_long, checks every value
 * and prints --help, so help text never drifts from what is parsed.
 */
#ifndef PEPSAL_OPTS_H
#define PEPSAL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum pepsal_opt_kind {
	PEPSAL_OPT_FLAG,     /* bool *: set to true (or to .max != 0 ? false) */
	PEPSAL_OPT_U32,      /* uint32_t *, within [min, max] */
	PEPSAL_OPT_U64,      /* uint64_t *, within [min, max] */
	PEPSAL_OPT_STRING,   /* const char **: the argument as given */
	PEPSAL_OPT_DURATION, /* uint64_t * nanoseconds: "30", "30s", "500ms", "5m", "2h" (bare = seconds) */
	PEPSAL_OPT_SIZE,     /* uint64_t * bytes: "65536", "64k", "4m", "1g" */
	PEPSAL_OPT_CUSTOM,   /* parse(arg, dst, err, errlen) */
};

struct pepsal_opt {
	const char *name;      /* long name, without "--" */
	int short_name;        /* 0: long only */
	enum pepsal_opt_kind kind;
	void *dst;
	const char *arg_name;  /* shown in help: "PORT"; NULL for flags */
	const char *help;      /* one line */
	uint64_t min, max;     /* U32/U64/DURATION/SIZE bounds (max 0: none) */
	bool (*parse)(const char *arg, void *dst, char *err, size_t errlen);
};

/* Parse ARGV. Returns the index of the first non-option argument, -1 on a
 * bad option or value (message already printed to stderr as "PROG: ..."),
 * or -2 if --help/-h was given (usage printed to stdout). */
int pepsal_opts_parse(const char *prog, const char *synopsis,
		      const struct pepsal_opt *opts, int argc, char **argv);
void pepsal_opts_usage(FILE *f, const char *prog, const char *synopsis,
		       const struct pepsal_opt *opts);

/* Value parsers, usable on their own (configuration files, tests). */
bool pepsal_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
bool pepsal_parse_duration(const char *s, uint64_t *ns);
bool pepsal_parse_size(const char *s, uint64_t *bytes);

#endif
