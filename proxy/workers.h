/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Threads, reused: a thread whose job ended parks instead of exiting, and
 * the next job runs on a parked thread woken up. The owner of the jobs
 * (relay.c) gives hooks that run on the thread itself when it parks, wakes
 * and exits, to keep or drop what the thread holds between jobs.
 */
#ifndef PEPSAL_PROXY_WORKERS_H
#define PEPSAL_PROXY_WORKERS_H

struct workers_hooks {
	void (*park)(void);     /* the job ended, the thread parks */
	void (*unpark)(void);   /* a parked thread was given a job */
	void (*exit)(void);     /* the thread exits */
};

#define WORKERS_PARKED_MAX 128

/* HOOKS (may be NULL, and any of its members) are kept by pointer. */
void workers_init(const struct workers_hooks *hooks);
/* Run FN(ARG) on a parked thread, or a new one. 0 or -errno. */
int workers_run(void (*fn)(void *), void *arg);
/* Start N threads that park at once, allowed beyond WORKERS_PARKED_MAX
 * (0: the max again for threads parking from now on), and wait (5 s at
 * most) until they are parked: a burst of jobs expected soon (an
 * upgrade's connections) finds them ready. */
void workers_reserve(unsigned int n);
/* Parked threads now. */
unsigned int workers_parked(void);
/* Wake every parked thread so it exits; jobs still running go on. */
void workers_fini(void);

#endif
