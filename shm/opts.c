// SPDX-License-Identifier: GPL-2.0-or-later
/* Table-driven command-line parsing and help, shared by all programs. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pepsal_opts.h"

#define MAX_OPTS 64

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

/* Parse a number followed by an optional unit from UNITS; 0 on success. */
static bool parse_with_unit(const char *s, const char *const *names,
			    const uint64_t *mult, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	for (size_t i = 0; names[i]; i++) {
		if (strcmp(end, names[i]) == 0) {
			if (v > UINT64_MAX / mult[i])
				return false;
			*out = v * mult[i];
			return true;
		}
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

static void range_text(const struct pepsal_opt *o, char *buf, size_t len)
{
	if (o->max)
		snprintf(buf, len, " (between %" PRIu64 " and %" PRIu64 ")", o->min, o->max);
	else if (o->min)
		snprintf(buf, len, " (at least %" PRIu64 ")", o->min);
	else
		buf[0] = '\0';
}

static bool apply(const char *prog, const struct pepsal_opt *o, const char *arg)
{
	char err[256] = "";
	char range[64];
	uint64_t v;

	switch (o->kind) {
	case PEPSAL_OPT_FLAG:
		*(bool *)o->dst = o->max == 0;
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
		fprintf(stderr, "%s: invalid duration '%s' for --%s: expected a number of "
			"seconds, or a number with ms, s, m or h%s\n", prog, arg, o->name,
			o->min ? " (greater than zero)" : "");
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

int pepsal_opts_parse(const char *prog, const char *synopsis,
		      const struct pepsal_opt *opts, int argc, char **argv)
{
	struct option longopts[MAX_OPTS + 2];
	char shortopts[MAX_OPTS * 2 + 4];
	size_t n = 0, s = 0;
	int c, idx;

	shortopts[s++] = '+'; /* stop at the first non-option (a command) */
	shortopts[s++] = ':'; /* report missing arguments as ':' */
	for (const struct pepsal_opt *o = opts; o->name && n < MAX_OPTS; o++, n++) {
		bool has_arg = o->kind != PEPSAL_OPT_FLAG;

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
			fprintf(stderr, "Try '%s --help' for more information.\n", prog);
			return -1;
		}
		if (c >= 0x100)
			o = &opts[c - 0x100];
		else
			for (const struct pepsal_opt *p = opts; p->name; p++)
				if (p->short_name == c)
					o = p;
		if (!o || !apply(prog, o, optarg))
			return -1;
	}
	return optind;
}
