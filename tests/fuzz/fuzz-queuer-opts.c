// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness of pepsal-queuer's command line (queuer/options.c),
 * what pepsal writes there or an operator runs by hand: the input, cut at
 * NUL bytes, is an argument vector for queuer_options_parse, and each value
 * parser (marks, nice, descriptors, table names) is also fed the whole
 * input. Nothing may crash, and an accepted configuration must hold what
 * the parsers promise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../queuer/options.c"

#define MAX_ARGS 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

static void check_options(const struct queuer_options *o)
{
	if (o->queue > 65535 || !o->mark.value || (o->mark.value & ~o->mark.mask) ||
	    !o->routing_mark.value || (o->routing_mark.value & ~o->routing_mark.mask) ||
	    (o->mark.mask & o->routing_mark.mask) || !o->shm ||
	    strchr(o->shm + (o->shm[0] == '/'), '/') ||
	    o->queue_maxlen < 1 || o->copy_range < 60 || o->copy_range > 3584 ||
	    o->rcvbuf < 65536 || !o->proxy_timeout_ns || o->nice < -20 || o->nice > 19 ||
	    o->rt_priority > 99 ||
	    (o->notify_fd != -1 && o->notify_fd < 3) || !o->hold_ns || o->hold_max < 1 ||
	    o->hold_max > 2048 || o->capacity < PEPSAL_TABLE_MIN_CAPACITY ||
	    o->capacity > PEPSAL_TABLE_MAX_CAPACITY)
		__builtin_trap();
}

static void each_parser(const char *s)
{
	struct pepsal_mark m;
	const char *name;
	int32_t v;
	char err[512];

	if (pepsal_opt_mark(s, &m, err, sizeof(err)) && (!m.value || (m.value & ~m.mask)))
		__builtin_trap();
	if (parse_nice(s, &v, err, sizeof(err)) && (v < -20 || v > 19))
		__builtin_trap();
	if (parse_fd(s, &v, err, sizeof(err)) && v < 3)
		__builtin_trap();
	if (parse_shm(s, &name, err, sizeof(err)) && (!name[name[0] == '/'] ||
						      strchr(name + (name[0] == '/'), '/')))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct queuer_options o;
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 1];
	FILE *out = stdout, *errf = stderr;
	int argc = 1, rc;
	size_t i = 0;

	if (!copy)
		return 0;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	memcpy(copy, data, size);
	copy[size] = '\0';
	each_parser(copy);
	argv[0] = (char *)"pepsal-queuer";
	while (i <= size && argc < MAX_ARGS) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	argv[argc] = NULL;
	/* the parsers' messages (and --help) go nowhere */
	stdout = stderr = devnull;
	rc = queuer_options_parse(&o, argc, argv);
	stdout = out;
	stderr = errf;
	if (rc == 0)
		check_options(&o);
	free(copy);
	return 0;
}
