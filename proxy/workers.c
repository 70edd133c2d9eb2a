// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Relay threads, reused. Every connection still has its pair of threads,
 * one per direction (relay.c), but a thread whose job ended parks here
 * instead of exiting, and the next job's thread is a parked one woken up:
 * creating a thread (clone, a kernel stack, a stack mapping) cost more than
 * a third of the proxy's CPU time per connection. At most
 * WORKERS_PARKED_MAX threads wait; the rest exit as before.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdlib.h>

#include "pepsal_clock.h"
#include "stop.h"
#include "workers.h"

#define WORKER_STACK_SIZE (64 * 1024)
#define RESERVE_WAIT_NS 5000000000ull /* workers_reserve waits at most this long */

struct worker {
	struct worker *next;  /* in the stack of parked workers */
	sem_t wake;           /* posted when a job is given */
	void (*fn)(void *);   /* the job; NULL: exit */
	void *arg;
};

static struct {
	const struct workers_hooks *hooks;
	pthread_mutex_t lock;
	struct worker *parked;       /* most recently parked first (warm stack) */
	unsigned int nparked;
	unsigned int reserve;        /* workers_reserve: parked beyond the max */
	bool closing;                /* workers_fini: no more parking */
	pthread_cond_t parked_cond;  /* a worker parked (workers_reserve waits) */
} w_state = { .lock = PTHREAD_MUTEX_INITIALIZER };

void workers_init(const struct workers_hooks *hooks)
{
	w_state.hooks = hooks;
	cond_init_monotonic(&w_state.parked_cond);
}

static void hook(void (*fn)(void))
{
	if (fn)
		fn();
}

/* Park W after its job; false if enough workers are parked already. */
static bool park(struct worker *w)
{
	bool ok;

	if (w_state.hooks)
		hook(w_state.hooks->park);
	pthread_mutex_lock(&w_state.lock);
	ok = !w_state.closing && w_state.nparked < WORKERS_PARKED_MAX + w_state.reserve;
	if (ok) {
		w->fn = NULL;
		w->next = w_state.parked;
		w_state.parked = w;
		w_state.nparked++;
		if (w_state.reserve)
			pthread_cond_broadcast(&w_state.parked_cond);
	}
	pthread_mutex_unlock(&w_state.lock);
	return ok;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		w->fn(w->arg);
		if (!park(w))
			break;
		while (sem_wait(&w->wake) < 0 && errno == EINTR)
			;
		if (w_state.hooks)
			hook(w_state.hooks->unpark);
		if (!w->fn)
			break; /* woken to exit */
	}
	if (w_state.hooks)
		hook(w_state.hooks->exit);
	sem_destroy(&w->wake);
	free(w);
	return NULL;
}

/* A new thread running FN(ARG). */
static int spawn(void (*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	struct worker *w;
	pthread_t tid;
	int rc;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (sem_init(&w->wake, 0, 0) < 0) {
		free(w);
		return -ENOMEM;
	}
	w->fn = fn;
	w->arg = arg;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	if (rc) {
		sem_destroy(&w->wake);
		free(w);
	}
	return -rc;
}

int workers_run(void (*fn)(void *), void *arg)
{
	struct worker *w;

	pthread_mutex_lock(&w_state.lock);
	w = w_state.parked;
	if (w) {
		w_state.parked = w->next;
		w_state.nparked--;
	}
	pthread_mutex_unlock(&w_state.lock);
	if (!w)
		return spawn(fn, arg);
	w->fn = fn;
	w->arg = arg;
	sem_post(&w->wake);
	return 0;
}

static void nothing(void *arg)
{
	(void)arg;
}

void workers_reserve(unsigned int n)
{
	uint64_t deadline = pepsal_now_ns() + RESERVE_WAIT_NS;
	unsigned int started = 0;

	pthread_mutex_lock(&w_state.lock);
	w_state.reserve = n;
	pthread_mutex_unlock(&w_state.lock);
	while (started < n && !spawn(nothing, NULL))
		started++;
	/* until they are parked: a new thread's first run costs a scheduling
	 * round, better spent now than when the jobs come */
	pthread_mutex_lock(&w_state.lock);
	while (w_state.nparked < started &&
	       cond_wait_until(&w_state.parked_cond, &w_state.lock, deadline) == 0)
		;
	pthread_mutex_unlock(&w_state.lock);
}

unsigned int workers_parked(void)
{
	unsigned int n;

	pthread_mutex_lock(&w_state.lock);
	n = w_state.nparked;
	pthread_mutex_unlock(&w_state.lock);
	return n;
}

void workers_fini(void)
{
	struct worker *w, *next;

	pthread_mutex_lock(&w_state.lock);
	w_state.closing = true;
	w = w_state.parked;
	w_state.parked = NULL;
	w_state.nparked = 0;
	pthread_mutex_unlock(&w_state.lock);
	for (; w; w = next) {
		next = w->next;
		w->fn = NULL;
		sem_post(&w->wake);
	}
}
