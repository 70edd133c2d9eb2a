// SPDX-License-Identifier: GPL-2.0-or-later
/* The SYN path's scheduling (pepsal_sched.h): per thread, SCHED_FIFO with a
 * step down to SCHED_OTHER while saturated. */
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>

#include "pepsal_clock.h"
#include "pepsal_sched.h"

static int set_fifo(struct pepsal_rt *r, bool on)
{
	struct sched_param sp = { .sched_priority = on ? r->prio : 0 };

	/* pid 0: the calling thread only; a thread or process it creates
	 * (a worker the predial's hook starts) starts SCHED_OTHER at nice 0 */
	if (sched_setscheduler(0, (on ? SCHED_FIFO : SCHED_OTHER) | SCHED_RESET_ON_FORK,
			       &sp) < 0)
		return -errno;
	r->rt = on;
	if (!on) /* back to CFS: nice is per thread, kept across the switch */
		setpriority(PRIO_PROCESS, 0, r->nice);
	return 0;
}

int pepsal_rt_init(struct pepsal_rt *r, int prio, int nice)
{
	int rc = 0;

	r->prio = prio;
	r->nice = nice;
	r->rt = r->failed = false;
	r->stepdowns = 0;
	r->window_ns = pepsal_now_ns();
	r->busy_ns = 0;
	if (setpriority(PRIO_PROCESS, 0, nice) < 0)
		rc = -errno;
	if (prio > 0) {
		int e = set_fifo(r, true);

		if (e < 0) {
			r->failed = true;
			rc = e; /* the one that matters */
		}
	}
	return rc;
}

void pepsal_rt_wakeup(struct pepsal_rt *r, bool saturated, uint64_t start_ns)
{
	uint64_t now;

	if (r->prio <= 0 || r->failed)
		return;
	now = pepsal_now_ns();
	if (now - r->window_ns >= PEPSAL_RT_WINDOW_NS) {
		r->window_ns = now;
		r->busy_ns = 0;
	}
	r->busy_ns += now - start_ns;
	saturated |= r->busy_ns > PEPSAL_RT_BUSY_NS;
	if (r->rt == !saturated)
		return;
	if (saturated)
		r->stepdowns++;
	if (set_fifo(r, !saturated) < 0)
		r->failed = true;
}
