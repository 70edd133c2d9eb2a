// SPDX-License-Identifier: GPL-2.0-or-later
/* Table-driven command-line parsing and help, shared by all programs. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pepsal_opts.h"

#define MAX_OPTS 96 /* options of one table, at most */

bool pepsal_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || (max && v > max))
		return false;
	*out = v;
	return true;
}

/* Parse a number, with an optional decimal fraction ("0.1", "1.5"),
 * followed by one of the units NAMES (MULT[i] base units each): true and
 * *OUT if the value is a whole number of base units that fits. */
static bool parse_with_unit(const char *s, const char *const *names,
			    const uint64_t *mult, uint64_t *out)
{
	uint64_t whole = 0, frac = 0, scale = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return false;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		for (int digits = 0; *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits == 18)
				return false; /* finer than any unit's base unit */
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	}
	for (size_t i = 0; names[i]; i++) {
		unsigned __int128 f;
		uint64_t m = mult[i];

		if (strcmp(p, names[i]) != 0)
			continue;
		/* FRAC / SCALE of M, exactly: a fraction of a base unit is refused */
		f = (unsigned __int128)frac * m;
		if (f % scale || whole > UINT64_MAX / m || whole * m > UINT64_MAX - f / scale)
			return false;
		*out = whole * m + (uint64_t)(f / scale);
		return true;
	}
	return false;
}

bool pepsal_parse_duration(const char *s, uint64_t *ns)
{
	static const char *const names[] = { "", "s", "ms", "us", "m", "h", NULL };
	static const uint64_t mult[] = { 1000000000ull, 1000000000ull, 1000000ull,
					 1000ull, 60000000000ull, 3600000000000ull };

	return parse_with_unit(s, names, mult, ns);
}

bool pepsal_parse_size(const char *s, uint64_t *bytes)
{
	static const char *const names[] = { "", "k", "K", "m", "M", "g", "G", NULL };
	static const uint64_t mult[] = { 1, 1024, 1024, 1 << 20, 1 << 20, 1 << 30, 1 << 30 };

	return parse_with_unit(s, names, mult, bytes);
}

static bool in_range(const struct pepsal_opt *o, uint64_t v)
{
	return v >= o->min && (!o->max || v <= o->max);
}

/* V in the largest unit that holds it whole: "100ms", "60s" -> "1m". */
static void format_unit(uint64_t v, const char *const *names, const uint64_t *mult,
			size_t n, char *buf, size_t len)
{
	size_t best = 0;

	for (size_t i = 0; i < n; i++)
		if (v && v % mult[i] == 0 && mult[i] > mult[best])
			best = i;
	if (v % mult[best])
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 "%s", v / mult[best], names[best]);
}

static void format_value(const struct pepsal_opt *o, uint64_t v, char *buf, size_t len)
{
	static const char *const dnames[] = { "ns", "us", "ms", "s", "m", "h" };
	static const uint64_t dmult[] = { 1, 1000ull, 1000000ull, 1000000000ull,
					  60000000000ull, 3600000000000ull };
	static const char *const snames[] = { "", "k", "m", "g" };
	static const uint64_t smult[] = { 1, 1024, 1 << 20, 1 << 30 };

	if (o->kind == PEPSAL_OPT_DURATION)
		format_unit(v, dnames, dmult, 6, buf, len);
	else if (o->kind == PEPSAL_OPT_SIZE)
		format_unit(v, snames, smult, 4, buf, len);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

/* " (between MIN and MAX)", " (at least MIN)" or "" for O's bounds, in
 * the units of its kind. A duration whose only bound is one nanosecond
 * must just be non-zero. */
static void range_text(const struct pepsal_opt *o, char *buf, size_t len)
{
	char lo[32], hi[32];
	uint64_t max = o->kind == PEPSAL_OPT_U32 && !o->max ? UINT32_MAX : o->max;

	format_value(o, o->min, lo, sizeof(lo));
	format_value(o, max, hi, sizeof(hi));
	if (max)
		snprintf(buf, len, " (between %s and %s)", lo, hi);
	else if (o->min == 1 && o->kind == PEPSAL_OPT_DURATION)
		snprintf(buf, len, " (greater than zero)");
	else if (o->min)
		snprintf(buf, len, " (at least %s)", lo);
	else
		buf[0] = '\0';
}

static bool apply(const char *prog, const struct pepsal_opt *o, const char *arg)
{
	char err[256] = "";
	char range[96];
	uint64_t v;

	switch (o->kind) {
	case PEPSAL_OPT_FLAG:
		*(bool *)o->dst = true;
		return true;
	case PEPSAL_OPT_CLEAR:
		*(bool *)o->dst = false;
		return true;
	case PEPSAL_OPT_STRING:
		if (!*arg) {
			fprintf(stderr, "%s: --%s needs a non-empty value\n", prog, o->name);
			return false;
		}
		*(const char **)o->dst = arg;
		return true;
	case PEPSAL_OPT_U32:
	case PEPSAL_OPT_U64:
		if (pepsal_parse_u64(arg, o->min, o->kind == PEPSAL_OPT_U32 && !o->max ?
				     UINT32_MAX : o->max, &v)) {
			if (o->kind == PEPSAL_OPT_U32)
				*(uint32_t *)o->dst = (uint32_t)v;
			else
				*(uint64_t *)o->dst = v;
			return true;
		}
		range_text(o, range, sizeof(range));
		fprintf(stderr, "%s: invalid value '%s' for --%s: expected a whole number%s\n",
			prog, arg, o->name, range);
		return false;
	case PEPSAL_OPT_DURATION:
		if (pepsal_parse_duration(arg, &v) && in_range(o, v)) {
			*(uint64_t *)o->dst = v;
			return true;
		}
		range_text(o, range, sizeof(range));
		fprintf(stderr, "%s: invalid duration '%s' for --%s: expected a number of "
			"seconds, or a number with ms, s, m or h%s\n", prog, arg,
			o->name, range);
		return false;
	case PEPSAL_OPT_SIZE:
		if (pepsal_parse_size(arg, &v) && in_range(o, v)) {
			*(uint64_t *)o->dst = v;
			return true;
		}
		range_text(o, range, sizeof(range));
		fprintf(stderr, "%s: invalid size '%s' for --%s: expected bytes, or a "
			"number with k, m or g%s\n", prog, arg, o->name, range);
		return false;
	case PEPSAL_OPT_CUSTOM:
		if (o->parse(arg, o->dst, err, sizeof(err)))
			return true;
		fprintf(stderr, "%s: invalid value '%s' for --%s: %s\n", prog, arg,
			o->name, err);
		return false;
	}
	return false;
}

void pepsal_opts_usage(FILE *f, const char *prog, const char *synopsis,
		       const struct pepsal_opt *opts)
{
	fprintf(f, "Usage: %s %s\n\nOptions:\n", prog, synopsis);
	for (const struct pepsal_opt *o = opts; o->name; o++) {
		char left[64];
		int n = 0;

		if (o->short_name)
			n = snprintf(left, sizeof(left), "  -%c, --%s", o->short_name, o->name);
		else
			n = snprintf(left, sizeof(left), "      --%s", o->name);
		if (o->arg_name && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->arg_name);
		if (strlen(left) > 30)
			fprintf(f, "%s\n%32s%s\n", left, "", o->help);
		else
			fprintf(f, "%-32s%s\n", left, o->help);
	}
	fprintf(f, "  -h, --help                    show this help and exit\n");
}

int pepsal_opts_parse_given(const char *prog, const char *synopsis,
			    const struct pepsal_opt *opts, int argc, char **argv, bool *given)
{
	struct option longopts[MAX_OPTS + 2];
	char shortopts[MAX_OPTS * 2 + 4];
	size_t n = 0, s = 0;
	int c, idx, bad = 0;

	shortopts[s++] = '+'; /* stop at the first non-option (a command) */
	shortopts[s++] = ':'; /* report missing arguments as ':' */
	for (const struct pepsal_opt *o = opts; o->name && n < MAX_OPTS; o++, n++) {
		bool has_arg = o->kind != PEPSAL_OPT_FLAG && o->kind != PEPSAL_OPT_CLEAR;

		if (given)
			given[n] = false;
		longopts[n] = (struct option){ o->name, has_arg ? required_argument : no_argument,
					       NULL, 0x100 + (int)n };
		if (o->short_name) {
			shortopts[s++] = (char)o->short_name;
			if (has_arg)
				shortopts[s++] = ':';
		}
	}
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[s++] = 'h';
	shortopts[s] = '\0';

	optind = 0; /* 0: glibc reinitialises, so the parser can run twice */
	opterr = 0;
	/* every bad option or value is reported, one line each, then the hint */
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct pepsal_opt *o = NULL;

		if (c == 'h') {
			pepsal_opts_usage(stdout, prog, synopsis, opts);
			return -2;
		}
		if (c == '?' || c == ':') {
			const char *what = argv[optind - 1];

			if (c == ':')
				fprintf(stderr, "%s: option '%s' needs a value\n", prog, what);
			else if (optopt)
				fprintf(stderr, "%s: unknown option '-%c'\n", prog, optopt);
			else
				fprintf(stderr, "%s: unknown option '%s'\n", prog, what);
			bad++;
			continue;
		}
		if (c >= 0x100)
			o = &opts[c - 0x100];
		else
			for (const struct pepsal_opt *p = opts; p->name; p++)
				if (p->short_name == c)
					o = p;
		if (!o || !apply(prog, o, optarg)) {
			bad++;
			continue;
		}
		if (given)
			given[o - opts] = true;
	}
	if (bad) {
		fprintf(stderr, "Try '%s --help' for more information.\n", prog);
		return -1;
	}
	return optind;
}

int pepsal_opts_parse(const char *prog, const char *synopsis,
		      const struct pepsal_opt *opts, int argc, char **argv)
{
	return pepsal_opts_parse_given(prog, synopsis, opts, argc, argv, NULL);
}

bool pepsal_opts_given(const struct pepsal_opt *opts, const bool *given, const char *name)
{
	for (size_t i = 0; opts[i].name; i++)
		if (strcmp(opts[i].name, name) == 0)
			return given[i];
	return false;
}
