// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Relay threads, reused. Every connection still has its pair of threads,
 * one per direction (relay.c), but a thread whose connection ended parks
 * here instead of exiting, and the next connection's thread is a parked
 * one woken up: creating a thread (clone, a kernel stack, a stack mapping)
 * cost more than a third of the proxy's CPU time per connection. At most
 * WORKERS_PARKED_MAX threads wait; the rest exit as before.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>

#include "proxy.h"

#define WORKER_STACK_SIZE (64 * 1024)
#define WORKERS_PARKED_MAX 128

struct worker {
	struct worker *next;  /* in the stack of parked workers */
	sem_t wake;           /* posted when a job is given */
	void (*fn)(void *);   /* the job; NULL while parked */
	void *arg;
};

static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct worker *parked;       /* most recently parked first (warm stack) */
static unsigned int parked_count;

/* Park W after its job; false if enough workers are parked already. */
static bool park(struct worker *w)
{
	bool ok;

	relay_thread_park();
	pthread_mutex_lock(&workers_lock);
	ok = parked_count < WORKERS_PARKED_MAX;
	if (ok) {
		w->fn = NULL;
		w->next = parked;
		parked = w;
		parked_count++;
	}
	pthread_mutex_unlock(&workers_lock);
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
		relay_thread_unpark();
	}
	relay_thread_exit();
	sem_destroy(&w->wake);
	free(w);
	return NULL;
}

int workers_run(void (*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	struct worker *w;
	pthread_t tid;
	int rc;

	pthread_mutex_lock(&workers_lock);
	w = parked;
	if (w) {
		parked = w->next;
		parked_count--;
	}
	pthread_mutex_unlock(&workers_lock);
	if (w) {
		w->fn = fn;
		w->arg = arg;
		sem_post(&w->wake);
		return 0;
	}
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
