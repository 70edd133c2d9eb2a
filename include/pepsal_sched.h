/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SYN path's scheduling: the queuer and the proxy's predial thread
 * answer held SYNs, and a SYN that waits behind hundreds of runnable relay
 * threads waits for the client's retransmission timer. They run SCHED_FIFO
 * (--rt-priority) with a bounded amount of work per wake-up; a wake-up
 * that used its whole budget (a flood: more is waiting) steps the thread
 * down to SCHED_OTHER at its nice value until a wake-up drains its input,
 * so the SYN path never holds a core against the relay for longer than
 * one budget (and the kernel's RT throttling bounds even that). Without
 * CAP_SYS_NICE or an RT budget (CONFIG_RT_GROUP_SCHED: the cgroup's
 * cpu.rt_runtime_us), the thread stays at its nice value.
 */
#ifndef PEPSAL_SCHED_H
#define PEPSAL_SCHED_H

#include <stdbool.h>

struct pepsal_rt {
	int prio;       /* SCHED_FIFO priority, 0: none (nice only) */
	int nice;       /* the SCHED_OTHER nice value */
	bool rt;        /* running SCHED_FIFO now */
	bool failed;    /* SCHED_FIFO was refused: nice only from then on */
	unsigned long stepdowns; /* saturated wake-ups that stepped down */
};

/* The calling thread at R->nice, then SCHED_FIFO R->prio if asked; 0, or
 * the -errno of the first refusal (the caller warns once). */
int pepsal_rt_init(struct pepsal_rt *r, int prio, int nice);
/* After a wake-up: SATURATED (its budget ran out) steps down to
 * SCHED_OTHER, a drained one goes back to SCHED_FIFO. */
void pepsal_rt_wakeup(struct pepsal_rt *r, bool saturated);

#endif
