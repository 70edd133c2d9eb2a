/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one clock of pepsal: CLOCK_MONOTONIC in nanoseconds. The table's
 * times (SYN, activity, heartbeats) and the log's rate limits use it. */
#ifndef PEPSAL_CLOCK_H
#define PEPSAL_CLOCK_H

#include <stdint.h>

uint64_t pepsal_now_ns(void);

#endif
