// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of proxy/stop.c: a stop wakes a thread blocked in stop_poll
 * (not its deadline), a drain wakes its waiter when the last one leaves
 * and reports what is left at its deadline, children_wait reaps children
 * as they exit and leaves those that do not. Each wake is checked against
 * a deadline far beyond it (60 s): a missing wake fails the test.
 */
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../proxy/stop.h"
#include "pepsal_clock.h"

#define FAR_NS 60000000000ull   /* a deadline no wake may wait for */
#define WAKE_NS 10000000000ull  /* a wake comes well before this */

/* Thread TID is asleep in the kernel (its state in /proc is S). */
static bool asleep(pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool s = false;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		s = p[1] == ' ' && p[2] == 'S';
	fclose(f);
	return s;
}

/* Until thread *TID (set by the thread itself) sleeps; 10 s at most. */
static void wait_asleep(const atomic_int *tid)
{
	uint64_t deadline = pepsal_now_ns() + WAKE_NS;

	while (!(atomic_load(tid) && asleep(atomic_load(tid))) && pepsal_now_ns() < deadline)
		g_usleep(1000);
	g_assert_true(asleep(atomic_load(tid)));
}

/* ---- stop ------------------------------------------------------------------------- */

struct poller {
	struct stop *stop;
	int fd;
	atomic_int tid;
	int rc;
	uint64_t took_ns;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	uint64_t t0 = pepsal_now_ns();
	short revents = 0;

	atomic_store(&p->tid, gettid());
	p->rc = stop_poll(p->stop, p->fd, POLLIN, t0 + FAR_NS, &revents);
	p->took_ns = pepsal_now_ns() - t0;
	return NULL;
}

static void test_stop_wakes_a_poller(void)
{
	struct stop s = STOP_INIT;
	struct poller p = { .stop = &s };
	int pfd[2];
	pthread_t th;

	g_assert_cmpint(stop_init(&s), ==, 0);
	g_assert_cmpint(pipe(pfd), ==, 0);
	p.fd = pfd[0]; /* never written: only the stop can end the wait */
	g_assert_false(stop_is_set(&s));
	g_assert_cmpint(pthread_create(&th, NULL, poll_thread, &p), ==, 0);
	wait_asleep(&p.tid);
	stop_set(&s);
	pthread_join(th, NULL);
	g_assert_cmpint(p.rc, ==, -ECANCELED);
	g_assert_cmpuint(p.took_ns, <, WAKE_NS);
	g_assert_true(stop_is_set(&s));
	/* set already: at once, and for every later waiter */
	p.tid = 0;
	poll_thread(&p);
	g_assert_cmpint(p.rc, ==, -ECANCELED);
	g_assert_false(stop_is_set(NULL));
	stop_fini(&s);
	close(pfd[0]);
	close(pfd[1]);
}

static void test_stop_poll_ready_and_deadline(void)
{
	struct stop s = STOP_INIT;
	short revents = 0;
	int pfd[2];

	g_assert_cmpint(stop_init(&s), ==, 0);
	g_assert_cmpint(pipe(pfd), ==, 0);
	g_assert_cmpint(stop_poll(&s, pfd[0], POLLIN, pepsal_now_ns() + 20000000ull, &revents),
			==, 0);
	g_assert_cmpint(write(pfd[1], "x", 1), ==, 1);
	g_assert_cmpint(stop_poll(&s, pfd[0], POLLIN, pepsal_now_ns() + FAR_NS, &revents), >, 0);
	g_assert_true(revents & POLLIN);
	/* no stop at all: the descriptor alone */
	g_assert_cmpint(stop_poll(NULL, pfd[0], POLLIN, pepsal_now_ns() + FAR_NS, &revents), >, 0);
	stop_fini(&s);
	close(pfd[0]);
	close(pfd[1]);
}

/* ---- drain ------------------------------------------------------------------------ */

struct waiter {
	struct drain *d;
	atomic_int tid;
	bool none;
	uint64_t took_ns;
};

static void *drain_thread(void *arg)
{
	struct waiter *w = arg;
	uint64_t t0 = pepsal_now_ns();

	atomic_store(&w->tid, gettid());
	w->none = drain_wait(w->d, t0 + FAR_NS);
	w->took_ns = pepsal_now_ns() - t0;
	return NULL;
}

static void test_drain(void)
{
	struct drain d;
	struct waiter w = { .d = &d };
	pthread_t th;

	drain_init(&d);
	g_assert_true(drain_wait(&d, pepsal_now_ns())); /* nothing in flight */
	g_assert_cmpuint(drain_enter(&d), ==, 1);
	g_assert_cmpuint(drain_enter(&d), ==, 2);
	g_assert_false(drain_wait(&d, pepsal_now_ns() + 10000000ull));
	g_assert_cmpuint(drain_count(&d), ==, 2);
	g_assert_cmpint(pthread_create(&th, NULL, drain_thread, &w), ==, 0);
	wait_asleep(&w.tid);
	g_assert_cmpuint(drain_leave(&d), ==, 1);
	wait_asleep(&w.tid); /* one left: still waiting */
	g_assert_cmpuint(drain_leave(&d), ==, 0);
	pthread_join(th, NULL);
	g_assert_true(w.none);
	g_assert_cmpuint(w.took_ns, <, WAKE_NS);
}

/* Many threads entering and leaving while one waits: the waiter always
 * ends with nothing in flight, never a lost wake. */
static void *churn(void *arg)
{
	struct drain *d = arg;

	for (int i = 0; i < 20000; i++) {
		drain_enter(d);
		drain_leave(d);
	}
	return NULL;
}

static void test_drain_races(void)
{
	struct drain d;
	pthread_t th[4];

	drain_init(&d);
	for (int round = 0; round < 50; round++) {
		uint64_t t0;

		drain_enter(&d); /* held by the round, so the waiter really waits */
		for (int i = 0; i < 4; i++)
			g_assert_cmpint(pthread_create(&th[i], NULL, churn, &d), ==, 0);
		drain_leave(&d);
		t0 = pepsal_now_ns();
		g_assert_true(drain_wait(&d, t0 + FAR_NS));
		g_assert_cmpuint(pepsal_now_ns() - t0, <, WAKE_NS);
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		g_assert_cmpuint(drain_count(&d), ==, 0);
	}
}

/* ---- children --------------------------------------------------------------------- */

/* A child that exits with STATUS once the parent closes *WFD (its pipe's
 * write end); OTHER (-1: none): another child's write end, not to be held
 * by this one. */
static pid_t child(int *wfd, int status, int other)
{
	int p[2];
	pid_t pid;
	char b;

	g_assert_cmpint(pipe(p), ==, 0);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		close(p[1]);
		if (other >= 0)
			close(other);
		while (read(p[0], &b, 1) > 0)
			;
		_exit(status);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

static void test_children(void)
{
	int w[2], status[2] = { -1, -1 };
	pid_t pids[2];
	uint64_t t0;

	pids[0] = child(&w[0], 3, -1);
	pids[1] = child(&w[1], 4, w[0]);
	g_assert_cmpuint(children_wait(pids, status, 2, pepsal_now_ns() + 20000000ull), ==, 2);
	close(w[0]);
	t0 = pepsal_now_ns();
	g_assert_cmpuint(children_wait(&pids[0], &status[0], 1, t0 + FAR_NS), ==, 0);
	g_assert_cmpuint(pepsal_now_ns() - t0, <, WAKE_NS);
	g_assert_cmpint(pids[0], ==, 0);
	g_assert_true(WIFEXITED(status[0]) && WEXITSTATUS(status[0]) == 3);
	/* the other one runs on: left at the deadline */
	g_assert_cmpuint(children_wait(pids, status, 2, pepsal_now_ns() + 20000000ull), ==, 1);
	g_assert_cmpint(pids[1], >, 0);
	close(w[1]);
	t0 = pepsal_now_ns();
	g_assert_cmpuint(children_wait(pids, status, 2, t0 + FAR_NS), ==, 0);
	g_assert_cmpuint(pepsal_now_ns() - t0, <, WAKE_NS);
	g_assert_true(WIFEXITED(status[1]) && WEXITSTATUS(status[1]) == 4);
	g_assert_cmpuint(children_wait(pids, NULL, 2, t0 + FAR_NS), ==, 0); /* none: at once */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/stop/wakes-a-poller", test_stop_wakes_a_poller);
	g_test_add_func("/stop/poll-ready-and-deadline", test_stop_poll_ready_and_deadline);
	g_test_add_func("/stop/drain", test_drain);
	g_test_add_func("/stop/drain-races", test_drain_races);
	g_test_add_func("/stop/children", test_children);
	return g_test_run();
}
