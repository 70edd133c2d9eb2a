/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Periodic work of the main loop: heartbeat, garbage collection, the
 * connection log. */
#ifndef PEPSAL_PROXY_TIMERS_H
#define PEPSAL_PROXY_TIMERS_H

#include <stdint.h>

#include "config.h"
#include "pepsal_table.h"

struct timers_params {
	const struct proxy_config *cfg;  /* -g, -t, -l, --log-interval */
	struct pepsal_table *table;      /* heartbeat and GC */
};

/* P is kept by pointer. */
void timers_init(const struct timers_params *p, uint64_t now_ns);
/* Run what is due; returns milliseconds until the next deadline. */
int timers_run(uint64_t now_ns);
/* Rewrite the connection log at once (SIGHUP, shutdown). */
void timers_conn_log_now(void);

#endif
