// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Linked into the ThreadSanitizer build only (make SAN=thread). TSan's
 * runtime (gcc 12, clang 14) intercepts pthread_mutex_timedlock but not
 * pthread_mutex_clocklock, which the table lock waits with (shm/table.c):
 * a lock taken that way is invisible to TSan, which then reports the
 * unlock as "unlock of an unlocked mutex" and the section it guards as a
 * data race. The programs' own calls bind to this definition, which waits
 * for the same deadline through pthread_mutex_timedlock, which TSan sees.
 */
#include <pthread.h>
#include <time.h>

int pthread_mutex_clocklock(pthread_mutex_t *restrict m, clockid_t clock,
			    const struct timespec *restrict abstime)
{
	struct timespec now, rt;
	long long left;

	if (clock == CLOCK_REALTIME)
		return pthread_mutex_timedlock(m, abstime);
	clock_gettime(clock, &now);
	left = (long long)(abstime->tv_sec - now.tv_sec) * 1000000000LL +
	       (abstime->tv_nsec - now.tv_nsec);
	if (left < 0)
		left = 0;
	clock_gettime(CLOCK_REALTIME, &rt);
	left += rt.tv_nsec;
	rt.tv_sec += (time_t)(left / 1000000000LL);
	rt.tv_nsec = (long)(left % 1000000000LL);
	return pthread_mutex_timedlock(m, &rt);
}
