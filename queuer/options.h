/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pepsal-queuer's options (options.c): what the command line sets. */
#ifndef PEPSAL_QUEUER_OPTIONS_H
#define PEPSAL_QUEUER_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "pepsal_opts.h"
#include "pepsal_table.h"

#define QUEUER_PROG "pepsal-queuer"
/* Every SYN waits for the queuer: starved of CPU (a flood on a busy box),
 * it lets the queue overflow and SYNs bypass it unaccelerated. Being one
 * thread it can never take more than one core. */
#define QUEUER_DEFAULT_NICE (-10)

struct queuer_options {
	uint32_t queue;
	const char *shm;
	struct pepsal_mark mark;
	struct pepsal_mark routing_mark; /* must not overlap the mark */
	uint32_t queue_maxlen;
	uint32_t copy_range;
	uint64_t rcvbuf;
	uint64_t proxy_timeout_ns;
	uint32_t address_share;
	int32_t nice;
	uint32_t rt_priority;      /* SCHED_FIFO, 0: nice only */
	int32_t notify_fd;         /* the hold channel from pepsal, -1: none */
	uint64_t hold_ns;
	uint32_t hold_max;
	bool create;
	uint32_t capacity;
	const char *pidfile;
	bool verbose, daemon, version;
};

/* Parse the command line into O (defaults first): 0 go on, -1 exit 0
 * (help, version), -2 exit 2 (a bad option or value: reported). */
int queuer_options_parse(struct queuer_options *o, int argc, char **argv);
/* The option table, its destinations in O (static storage, valid until the
 * next call): for the tests. */
const struct pepsal_opt *queuer_options_table(struct queuer_options *o);

#endif
