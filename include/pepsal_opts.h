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
	PEPSAL_OPT_FLAG,     /* bool *: set to true */
	PEPSAL_OPT_CLEAR,    /* bool *: set to false (--no-keepalive beside --keepalive) */
	PEPSAL_OPT_U32,      /* uint32_t *, within [min, max] */
	PEPSAL_OPT_U64,      /* uint64_t *, within [min, max] */
	PEPSAL_OPT_STRING,   /* const char **: the argument as given */
	PEPSAL_OPT_DURATION, /* uint64_t * nanoseconds: "30", "30s", "0.1s", "500ms", "5m", "2h"
			      * (bare = seconds; a fraction of a nanosecond is refused) */
	PEPSAL_OPT_SIZE,     /* uint64_t * bytes: "65536", "64k", "4m", "1.5g" (whole bytes) */
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

/* Parse ARGV. Returns the index of the first non-option argument, -1 on
 * bad options or values (each reported to stderr, one line "PROG: ..."
 * each, then a line pointing at --help), or -2 if --help/-h was given
 * (usage printed to stdout). */
int pepsal_opts_parse(const char *prog, const char *synopsis,
		      const struct pepsal_opt *opts, int argc, char **argv);
/* The same, and GIVEN[i] (one per entry of OPTS) tells whether OPTS[i]
 * appeared on the command line. */
int pepsal_opts_parse_given(const char *prog, const char *synopsis,
			    const struct pepsal_opt *opts, int argc, char **argv, bool *given);
/* GIVEN[i] of the option called NAME (false if OPTS has none). */
bool pepsal_opts_given(const struct pepsal_opt *opts, const bool *given, const char *name);
void pepsal_opts_usage(FILE *f, const char *prog, const char *synopsis,
		       const struct pepsal_opt *opts);

/* Value parsers, usable on their own (configuration files, tests). */
bool pepsal_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
bool pepsal_parse_duration(const char *s, uint64_t *ns);
bool pepsal_parse_size(const char *s, uint64_t *bytes);

/* A netfilter mark and the bits it owns (shm/mark.c). */
struct pepsal_mark {
	uint32_t value;  /* bits set */
	uint32_t mask;   /* bits owned; the others are kept */
};

#define PEPSAL_DEFAULT_MARK ((struct pepsal_mark){ 0x2, 0x2 })       /* --mark */
#define PEPSAL_DEFAULT_ROUTE_MARK ((struct pepsal_mark){ 0x1, 0x1 }) /* the return path */

/* "VALUE[/MASK]": decimal or 0x hex, 32 bits; MASK defaults to VALUE; the
 * value non-zero and within the mask. False with ERR saying why. */
bool pepsal_parse_mark(const char *s, struct pepsal_mark *m, char *err, size_t errlen);
/* The same as a PEPSAL_OPT_CUSTOM parser: DST is a struct pepsal_mark. */
bool pepsal_opt_mark(const char *arg, void *dst, char *err, size_t errlen);
/* "0xVALUE/0xMASK" into BUF; returns snprintf's count. */
int pepsal_mark_format(const struct pepsal_mark *m, char *buf, size_t len);
/* The queuer's mark and the return path's routing mark share no bit; false
 * with ERR saying so (REDIRECT would take the return path's packets). */
bool pepsal_marks_apart(const struct pepsal_mark *mark, const struct pepsal_mark *route,
			char *err, size_t errlen);

#endif
