// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the live set of connections (proxy/conn.c): the accept
 * path's conn_new never waits for the set's lock (held by the connection
 * log's walk, or anyone), and connections pushed meanwhile are listed and
 * freed like the others.
 */
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../proxy/conn.c"

static struct pepsal_entry_view entry(uint32_t slot)
{
	struct pepsal_entry_view v;

	memset(&v, 0, sizeof(v));
	v.slot = slot;
	v.gen = 1;
	return v;
}

/* pthread's mutex and condition, not GLib's: ThreadSanitizer sees only
 * the former (GLib's use futexes directly). */
struct newer {
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	bool done;
	struct conn *c[3];
};

static gpointer make_three(gpointer arg)
{
	struct newer *n = arg;
	struct pepsal_entry_view v;

	for (int i = 0; i < 3; i++) {
		v = entry((uint32_t)i);
		n->c[i] = conn_new(-1, &v, 1);
	}
	pthread_mutex_lock(&n->lock);
	n->done = true;
	pthread_cond_signal(&n->done_cond);
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

/* Lines of conns_dump's output that list a connection. */
static int dumped(void)
{
	char *buf = NULL, *line;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int n = 0;

	conns_dump(f, 2);
	fclose(f);
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		n += line[0] != '#';
	free(buf);
	return n;
}

static void test_new_without_the_lock(void)
{
	struct newer n = { .lock = PTHREAD_MUTEX_INITIALIZER,
			   .done_cond = PTHREAD_COND_INITIALIZER, .done = false };
	struct timespec deadline;
	GThread *t;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2;
	pthread_mutex_lock(&conns_lock); /* as a long walk of the set would */
	t = g_thread_new("accept", make_three, &n);
	pthread_mutex_lock(&n.lock);
	while (!n.done && pthread_cond_timedwait(&n.done_cond, &n.lock, &deadline) == 0)
		;
	pthread_mutex_unlock(&n.lock);
	g_assert_true(n.done); /* conn_new returned while the lock was held */
	pthread_mutex_unlock(&conns_lock);
	g_thread_join(t);
	g_assert_cmpint(dumped(), ==, 3);
	conn_free(n.c[1]);
	g_assert_cmpint(dumped(), ==, 2);
	conn_free(n.c[0]);
	conn_free(n.c[2]);
	g_assert_cmpint(dumped(), ==, 0);
	g_assert_cmpuint(conns_count, ==, 0);
}

/* Freed before anyone settled the stack: still unlinked correctly. */
static void test_free_unsettled(void)
{
	struct pepsal_entry_view v = entry(7);
	struct conn *a = conn_new(-1, &v, 1), *b = conn_new(-1, &v, 1);

	conn_free(a); /* settles both, frees A */
	g_assert_cmpint(dumped(), ==, 1);
	conn_free(b);
	g_assert_cmpint(dumped(), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conn/new-without-the-lock", test_new_without_the_lock);
	g_test_add_func("/conn/free-unsettled", test_free_unsettled);
	return g_test_run();
}
