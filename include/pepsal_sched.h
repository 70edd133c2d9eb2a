/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SYN path's scheduling: the queuer and the proxy's predial thread
 * answer held SYNs, and a SYN that waits behind hundreds of runnable relay
 * threads waits for the client's retransmission timer. They run SCHED_FIFO
 * (--rt-priority) with a bounded amount of work per wake-up; a wake-up
 * that used its whole budget (a flood: more is waiting), or a thread that
 * was busy for more than PEPSAL_RT_SHARE of the last PEPSAL_RT_WINDOW_NS,
 * steps down to SCHED_OTHER at its nice value until a wake-up drains its
 * input within its share, so the SYN path never holds a core against the
 * relay and the proxy's timers (the heartbeat the queuer checks) for long. Without
 * CAP_SYS_NICE or an RT budget (CONFIG_RT_GROUP_SCHED: the cgroup's
 * cpu.rt_runtime_us), the thread stays at its nice value.
 */
#ifndef PEPSAL_SCHED_H
#define PEPSAL_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct pepsal_rt {
	int prio;       /* SCHED_FIFO priority, 0: none (nice only) */
	int nice;       /* the SCHED_OTHER nice value */
	bool rt;        /* running SCHED_FIFO now */
	bool failed;    /* SCHED_FIFO was refused: nice only from then on */
	unsigned long stepdowns; /* saturated wake-ups that stepped down */
	uint64_t window_ns;      /* start of the current accounting window */
	uint64_t busy_ns;        /* time spent working in it */
};

#define PEPSAL_RT_WINDOW_NS 100000000ull /* 100 ms */
#define PEPSAL_RT_BUSY_NS 20000000ull    /* at most 20 ms of it at SCHED_FIFO */

/* The calling thread at R->nice, then SCHED_FIFO R->prio if asked; 0, or
 * the -errno of the first refusal (the caller warns once). */
int pepsal_rt_init(struct pepsal_rt *r, int prio, int nice);
/* After a wake-up that worked from START_NS to now: SATURATED (its budget
 * ran out) or over its share of the window steps down to SCHED_OTHER, a
 * drained one within its share goes back to SCHED_FIFO. */
void pepsal_rt_wakeup(struct pepsal_rt *r, bool saturated, uint64_t start_ns);

#endif
