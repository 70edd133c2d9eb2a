// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-queuer's command line: the option table that parses, checks and
 * prints --help, the parsers of its values and the defaults. Apart from
 * main.c so that the fuzzer (tests/fuzz/fuzz-queuer-opts.c) and the unit
 * tests run it as the queuer does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/* A valid segment name: checked with the other values. */
static bool parse_shm(const char *arg, void *dst, char *err, size_t errlen)
{
	if (!pepsal_shm_name_valid(arg, err, errlen))
		return false;
	*(const char **)dst = arg;
	return true;
}

/* A nice value, -20 to 19. */
static bool parse_nice(const char *arg, void *dst, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < -20 || v > 19) {
		snprintf(err, errlen, "expected a nice value from -20 to 19");
		return false;
	}
	*(int32_t *)dst = (int32_t)v;
	return true;
}

/* An open descriptor number (inherited from pepsal). */
static bool parse_fd(const char *arg, void *dst, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 3 || v > INT32_MAX) {
		snprintf(err, errlen, "expected a descriptor number, 3 or more");
		return false;
	}
	if (fcntl((int)v, F_GETFD) < 0) {
		snprintf(err, errlen, "descriptor %ld is not open", v);
		return false;
	}
	*(int32_t *)dst = (int32_t)v;
	return true;
}

static void defaults(struct queuer_options *o)
{
	*o = (struct queuer_options){
		.queue = 0,
		.shm = PEPSAL_SHM_DEFAULT_NAME,
		.mark = PEPSAL_DEFAULT_MARK,
		.routing_mark = PEPSAL_DEFAULT_ROUTE_MARK,
		.queue_maxlen = 4096,
		.copy_range = 256,
		.rcvbuf = 8u << 20,
		.proxy_timeout_ns = 3000000000ull,
		.address_share = PEPSAL_DEFAULT_ADDRESS_SHARE,
		.nice = QUEUER_DEFAULT_NICE,
		.rt_priority = 0,
		.notify_fd = -1,
		.hold_ns = 3000000000ull,
		.hold_max = 1024,
		.capacity = PEPSAL_TABLE_DEFAULT_CAPACITY,
	};
}

const struct pepsal_opt *queuer_options_table(struct queuer_options *o)
{
	const struct pepsal_opt options[] = {
		{ "queue", 'q', PEPSAL_OPT_U32, &o->queue, "N",
		  "NFQUEUE number to read SYNs from (default 0)", 0, 65535, NULL },
		{ "shm", 's', PEPSAL_OPT_CUSTOM, &o->shm, "NAME",
		  "shared-memory connection table (default " PEPSAL_SHM_DEFAULT_NAME ")", 0, 0,
		  parse_shm },
		{ "mark", 'm', PEPSAL_OPT_CUSTOM, &o->mark, "VALUE[/MASK]",
		  "mark set on recorded SYNs, other bits kept (default 0x2/0x2)", 0, 0,
		  pepsal_opt_mark },
		{ "routing-mark", 0, PEPSAL_OPT_CUSTOM, &o->routing_mark, "VALUE[/MASK]",
		  "mark of the transparent return path, must not overlap --mark (default 0x1)",
		  0, 0, pepsal_opt_mark },
		{ "queue-maxlen", 0, PEPSAL_OPT_U32, &o->queue_maxlen, "N",
		  "packets the kernel queues for us; beyond, they bypass (default 4096)",
		  1, 1u << 20, NULL },
		{ "copy-range", 0, PEPSAL_OPT_U32, &o->copy_range, "BYTES",
		  "bytes of each packet copied to us (default 256: IP and TCP headers)",
		  60, 3584, NULL },
		{ "rcvbuf", 0, PEPSAL_OPT_SIZE, &o->rcvbuf, "SIZE",
		  "netlink receive buffer (default 8m)", 65536, 1u << 30, NULL },
		{ "proxy-timeout", 0, PEPSAL_OPT_DURATION, &o->proxy_timeout_ns, "DURATION",
		  "proxy heartbeat older than this: SYNs pass unmarked (default 3s)", 1, 0, NULL },
		{ "address-share", 0, PEPSAL_OPT_U32, &o->address_share, "N",
		  "a client address holds at most 1/N of the table as pending SYNs "
		  "(default 2; 0: no limit)", 0, 65536, NULL },
		{ "nice", 0, PEPSAL_OPT_CUSTOM, &o->nice, "N",
		  "scheduling priority, so that a busy machine does not starve the SYN path "
		  "(default -10)", 0, 0, parse_nice },
		{ "rt-priority", 0, PEPSAL_OPT_U32, &o->rt_priority, "N",
		  "SCHED_FIFO priority, with a step down to --nice while a wake-up's budget "
		  "does not drain the queue (default 0: --nice only)", 0, 99, NULL },
		{ "notify-fd", 0, PEPSAL_OPT_CUSTOM, &o->notify_fd, "FD",
		  "hold each recorded SYN until the proxy's dial over the channel FD (given by "
		  "pepsal) answered (default: none, accept-first)", 0, 0, parse_fd },
		{ "hold-time", 0, PEPSAL_OPT_DURATION, &o->hold_ns, "DURATION",
		  "with --notify-fd: a SYN held longer passes unmarked (default 3s)", 1, 0, NULL },
		{ "hold-max", 0, PEPSAL_OPT_U32, &o->hold_max, "N",
		  "with --notify-fd: connections held at once; beyond, unmarked "
		  "(default 1024)", 1, 2048, NULL },
		{ "create", 0, PEPSAL_OPT_FLAG, &o->create, NULL,
		  "create the table if it does not exist (standalone use)", 0, 0, NULL },
		{ "capacity", 0, PEPSAL_OPT_U32, &o->capacity, "N",
		  "entries of a table made by --create (default 4224)",
		  PEPSAL_TABLE_MIN_CAPACITY, PEPSAL_TABLE_MAX_CAPACITY, NULL },
		{ "pidfile", 0, PEPSAL_OPT_STRING, &o->pidfile, "FILE",
		  "write the process id to FILE", 0, 0, NULL },
		{ "verbose", 'v', PEPSAL_OPT_FLAG, &o->verbose, NULL,
		  "log every recorded SYN", 0, 0, NULL },
		{ "daemon", 'd', PEPSAL_OPT_FLAG, &o->daemon, NULL,
		  "run in the background, log to syslog", 0, 0, NULL },
		{ "version", 'V', PEPSAL_OPT_FLAG, &o->version, NULL,
		  "print the version and exit", 0, 0, NULL },
		{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
	};
	static struct pepsal_opt t[sizeof(options) / sizeof(options[0])];

	memcpy(t, options, sizeof(options));
	return t;
}

int queuer_options_parse(struct queuer_options *o, int argc, char **argv)
{
	char err[512];
	int r;

	defaults(o);
	r = pepsal_opts_parse(QUEUER_PROG, "[OPTIONS]", queuer_options_table(o), argc, argv);
	if (r == -2)
		return -1;
	if (r < 0)
		return -2;
	if (r < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n"
			"Try '%s --help' for more information.\n", QUEUER_PROG, argv[r],
			QUEUER_PROG);
		return -2;
	}
	if (o->version) {
		printf("%s %s\n", QUEUER_PROG, PEPSAL_VERSION);
		return -1;
	}
	if (!pepsal_marks_apart(&o->mark, &o->routing_mark, err, sizeof(err))) {
		fprintf(stderr, "%s: %s (--mark, --routing-mark)\n", QUEUER_PROG, err);
		return -2;
	}
	return 0;
}
