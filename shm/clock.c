// SPDX-License-Identifier: GPL-2.0-or-later
/* pepsal_now_ns: CLOCK_MONOTONIC in nanoseconds (pepsal_clock.h). */
#include <time.h>

#include "pepsal_clock.h"

uint64_t pepsal_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
