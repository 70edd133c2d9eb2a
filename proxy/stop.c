// SPDX-License-Identifier: GPL-2.0-or-later
/* Stops, drains and the waits with a deadline (stop.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pepsal_clock.h"
#include "stop.h"

#define FALLBACK_MS 200      /* a stop without its eventfd: the flag this often */
#define CHILDREN_MAX 64      /* children_wait's pidfds at once */
#define FALLBACK_CHILD_MS 10 /* a child without a pidfd: waitpid this often */

/* ---- the stop ---------------------------------------------------------------- */

int stop_init(struct stop *s)
{
	atomic_store(&s->set, false);
	s->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return s->fd < 0 ? -errno : 0;
}

void stop_set(struct stop *s)
{
	atomic_store(&s->set, true);
	/* never read: the counter stays non-zero, the fd readable for all (a
	 * failed write is EAGAIN at a counter near its maximum: readable too) */
	if (s->fd >= 0) {
		ssize_t r = write(s->fd, &(uint64_t){ 1 }, sizeof(uint64_t));

		(void)r;
	}
}

bool stop_is_set(const struct stop *s)
{
	return s && atomic_load(&s->set);
}

void stop_fini(struct stop *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Milliseconds from now until DEADLINE_NS, rounded up, for poll(). */
static int ms_until(uint64_t deadline_ns)
{
	uint64_t now = pepsal_now_ns(), ms;

	if (now >= deadline_ns)
		return 0;
	ms = (deadline_ns - now + 999999) / 1000000;
	return ms > 86400000 ? 86400000 : (int)ms;
}

int stop_poll(const struct stop *s, int fd, short events, uint64_t deadline_ns,
	      short *revents)
{
	struct pollfd p[2] = { { .fd = fd, .events = events },
			       { .fd = s ? s->fd : -1, .events = POLLIN } };

	for (;;) {
		int ms = ms_until(deadline_ns), n;

		if (stop_is_set(s))
			return -ECANCELED;
		if (ms == 0)
			return 0;
		if (s && s->fd < 0 && ms > FALLBACK_MS)
			ms = FALLBACK_MS;
		n = poll(p, 2, ms);
		if (n < 0)
			return -errno;
		if (p[1].revents)
			return -ECANCELED;
		if (p[0].revents) {
			*revents = p[0].revents;
			return n;
		}
	}
}

/* ---- conditions and drains ------------------------------------------------------ */

void cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* pepsal_now_ns()'s */
	pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
}

int cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, uint64_t deadline_ns)
{
	struct timespec ts = { (time_t)(deadline_ns / 1000000000ull),
			       (long)(deadline_ns % 1000000000ull) };

	if (pepsal_now_ns() >= deadline_ns)
		return ETIMEDOUT;
	return pthread_cond_timedwait(c, m, &ts) == ETIMEDOUT ? ETIMEDOUT : 0;
}

void drain_init(struct drain *d)
{
	atomic_store(&d->n, 0);
	atomic_store(&d->waiters, 0);
	pthread_mutex_init(&d->lock, NULL);
	cond_init_monotonic(&d->cond);
}

unsigned int drain_enter(struct drain *d)
{
	return atomic_fetch_add(&d->n, 1) + 1;
}

/* The count and the waiters are both sequentially consistent: either the
 * last one out sees a waiter (and wakes it under the lock, which the waiter
 * holds from its look at the count to its sleep), or the waiter sees 0. */
unsigned int drain_leave(struct drain *d)
{
	unsigned int n = atomic_fetch_sub(&d->n, 1) - 1;

	if (n == 0 && atomic_load(&d->waiters)) {
		pthread_mutex_lock(&d->lock);
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
	}
	return n;
}

unsigned int drain_count(struct drain *d)
{
	return atomic_load(&d->n);
}

bool drain_wait(struct drain *d, uint64_t deadline_ns)
{
	bool none;

	pthread_mutex_lock(&d->lock);
	atomic_fetch_add(&d->waiters, 1);
	while (atomic_load(&d->n) && cond_wait_until(&d->cond, &d->lock, deadline_ns) == 0)
		;
	none = atomic_load(&d->n) == 0;
	atomic_fetch_sub(&d->waiters, 1);
	pthread_mutex_unlock(&d->lock);
	return none;
}

/* ---- child processes ------------------------------------------------------------ */

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Reap what has exited of PIDS; how many are left. */
static unsigned int reap(pid_t *pids, int *status, unsigned int n)
{
	unsigned int left = 0;

	for (unsigned int i = 0; i < n; i++) {
		int st;

		if (!pids[i])
			continue;
		if (waitpid(pids[i], &st, WNOHANG) != pids[i]) {
			left++;
			continue;
		}
		pids[i] = 0;
		if (status)
			status[i] = st;
	}
	return left;
}

unsigned int children_wait(pid_t *pids, int *status, unsigned int n, uint64_t deadline_ns)
{
	struct pollfd p[CHILDREN_MAX];

	if (n > CHILDREN_MAX)
		n = CHILDREN_MAX;
	for (;;) {
		unsigned int left = reap(pids, status, n);
		int ms = ms_until(deadline_ns);

		if (!left || !ms)
			return left;
		for (unsigned int i = 0; i < n; i++) {
			/* readable once the child exits (a zombie still has one) */
			p[i] = (struct pollfd){ .fd = pids[i] ? pidfd_of(pids[i]) : -1,
						.events = POLLIN };
			if (pids[i] && p[i].fd < 0 && ms > FALLBACK_CHILD_MS)
				ms = FALLBACK_CHILD_MS; /* no pidfd (ENOSYS): look again soon */
		}
		poll(p, n, ms);
		for (unsigned int i = 0; i < n; i++)
			if (p[i].fd >= 0)
				close(p[i].fd);
	}
}
