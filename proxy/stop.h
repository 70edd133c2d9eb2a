/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stopping, and waiting for what is in flight, one way for the whole
 * proxy. A stop is a flag and an eventfd that becomes readable when the
 * flag is set and stays so: a thread blocked in poll() on it wakes at once,
 * a loop looks at the flag. A drain counts what is in flight (connections,
 * dials, headers being read) and lets one wait, with a deadline, until
 * none is left: the last one out wakes the waiter. Child processes are
 * waited for by pidfd. Deadlines are on pepsal_now_ns()'s clock.
 */
#ifndef PEPSAL_PROXY_STOP_H
#define PEPSAL_PROXY_STOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct stop {
	atomic_bool set;     /* stop_set was called */
	int fd;              /* eventfd, readable once set; -1: none (stop_init failed) */
};

#define STOP_INIT { false, -1 }

/* The eventfd; 0 or -errno (then S still works as a flag, which stop_poll
 * looks at every 200 ms). */
int stop_init(struct stop *s);
/* Set the flag and wake every poller (once is enough; again is harmless). */
void stop_set(struct stop *s);
/* Was S set? (NULL: never.) */
bool stop_is_set(const struct stop *s);
/* Close the eventfd: nobody may poll it any more. */
void stop_fini(struct stop *s);
/* Wait until FD has EVENTS, S is set (S may be NULL) or DEADLINE_NS passes.
 * >0 with FD's *REVENTS, 0 at the deadline, -ECANCELED when S is set (also
 * before waiting), -EINTR on a signal (the caller looks at its own flags
 * and calls again), or -errno. */
int stop_poll(const struct stop *s, int fd, short events, uint64_t deadline_ns,
	      short *revents);

/* A count of things in flight. */
struct drain {
	atomic_uint n;           /* in flight now */
	atomic_uint waiters;     /* in drain_wait: a count reaching 0 wakes them */
	pthread_mutex_t lock;    /* the waiters' */
	pthread_cond_t cond;     /* CLOCK_MONOTONIC */
};

void drain_init(struct drain *d);
/* One more in flight; returns the new count. */
unsigned int drain_enter(struct drain *d);
/* One less; returns the new count (0 wakes the waiters). */
unsigned int drain_leave(struct drain *d);
unsigned int drain_count(struct drain *d);
/* Wait until nothing is in flight, at most until DEADLINE_NS; true if
 * nothing is. */
bool drain_wait(struct drain *d, uint64_t deadline_ns);

/* A condition whose waits take deadlines of pepsal_now_ns()'s clock. */
void cond_init_monotonic(pthread_cond_t *c);
/* pthread_cond_timedwait on C (made by cond_init_monotonic) with M held,
 * until DEADLINE_NS: 0 (woken, perhaps spuriously) or ETIMEDOUT. */
int cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, uint64_t deadline_ns);

/* Wait until the N child processes PIDS exit, at most until DEADLINE_NS;
 * each one reaped gets pid 0 and its wait status in STATUS[i] (STATUS may
 * be NULL). Returns how many are left; a pid of 0 is none. */
unsigned int children_wait(pid_t *pids, int *status, unsigned int n, uint64_t deadline_ns);

#endif
