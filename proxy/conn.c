// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Relayed connections and the set of live ones. The accept path only
 * pushes a new connection onto a lock-free stack (conns_incoming); whoever
 * takes conns_lock next (a relay thread freeing one, the connection log,
 * shutdown) moves the stack into the list first. So nothing the accept path
 * needs waits for a walk of the whole set.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#include "conn.h"
#include "sockopt.h"

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns_head;
static unsigned int conns_count;
static _Atomic(struct conn *) conns_incoming; /* via ->next, not yet in the list */

/* Under conns_lock: the incoming connections into the list. */
static void conns_settle(void)
{
	struct conn *c = atomic_exchange(&conns_incoming, NULL), *next;

	for (; c; c = next) {
		next = c->next;
		c->prev = NULL;
		c->next = conns_head;
		if (conns_head)
			conns_head->prev = c;
		conns_head = c;
		conns_count++;
		c->listed = true;
	}
}

struct conn *conn_new(int client_fd, const struct pepsal_entry_view *entry, uint64_t now_ns)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	atomic_store(&c->fd[LEG_CLIENT], client_fd);
	atomic_store(&c->fd[LEG_SERVER], -1);
	c->client = entry->client;
	c->dst = entry->dst;
	c->slot = entry->slot;
	c->gen = entry->gen;
	c->start_ns = now_ns;
	atomic_store(&c->last_ns, now_ns);
	atomic_store(&c->refs, 1);
	c->held[0] = c->held[1] = NULL;
	c->next = atomic_load(&conns_incoming);
	while (!atomic_compare_exchange_weak(&conns_incoming, &c->next, c))
		;
	return c;
}

void conn_unlist(struct conn *c)
{
	pthread_mutex_lock(&conns_lock);
	conns_settle(); /* C is in the list now, if it was still incoming */
	if (c->listed) {
		if (c->prev)
			c->prev->next = c->next;
		else
			conns_head = c->next;
		if (c->next)
			c->next->prev = c->prev;
		conns_count--;
		c->listed = false;
	}
	pthread_mutex_unlock(&conns_lock);
}

void conn_free(struct conn *c)
{
	conn_unlist(c);
	free(c);
}

void conn_abort_sockets(struct conn *c)
{
	sock_abort(atomic_load(&c->fd[LEG_CLIENT]));
	sock_abort(atomic_load(&c->fd[LEG_SERVER]));
}

void conns_abort_all(void)
{
	pthread_mutex_lock(&conns_lock);
	conns_settle();
	for (struct conn *c = conns_head; c; c = c->next) {
		atomic_store(&c->aborted, true);
		conn_abort_sockets(c);
	}
	pthread_mutex_unlock(&conns_lock);
}

void conns_for_each(void (*fn)(struct conn *c, void *arg), void *arg)
{
	pthread_mutex_lock(&conns_lock);
	conns_settle();
	for (struct conn *c = conns_head; c; c = c->next)
		fn(c, arg);
	pthread_mutex_unlock(&conns_lock);
}

/* What the log shows of one connection, copied under the lock. */
struct conn_line {
	struct pepsal_endpoint client, dst;
	const char *state;
	uint64_t start_ns, last_ns, bytes[2];
};

void conns_dump(FILE *f, uint64_t now_ns)
{
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];
	struct conn_line *lines;
	unsigned int n = 0;

	pthread_mutex_lock(&conns_lock);
	conns_settle();
	lines = calloc(conns_count ? conns_count : 1, sizeof(*lines));
	for (struct conn *c = conns_head; c && lines; c = c->next, n++) {
		struct conn_line *l = &lines[n];

		l->client = c->client;
		l->dst = c->dst;
		l->state = atomic_load(&c->fd[LEG_SERVER]) < 0 ? "CONNECTING" :
			   atomic_load(&c->dirs_done) ? "CLOSING" : "ESTABLISHED";
		l->start_ns = c->start_ns;
		l->last_ns = atomic_load(&c->last_ns);
		l->bytes[0] = atomic_load(&c->bytes[PEPSAL_DIR_C2S]);
		l->bytes[1] = atomic_load(&c->bytes[PEPSAL_DIR_S2C]);
	}
	pthread_mutex_unlock(&conns_lock);
	fprintf(f, "# client destination state age_s idle_s bytes_up bytes_down\n");
	for (unsigned int i = 0; i < n; i++) {
		const struct conn_line *l = &lines[i];

		fprintf(f, "%s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			pepsal_endpoint_format(&l->client, a), pepsal_endpoint_format(&l->dst, b),
			l->state, (now_ns - l->start_ns) / 1000000000u,
			(now_ns > l->last_ns ? now_ns - l->last_ns : 0) / 1000000000u,
			l->bytes[0], l->bytes[1]);
	}
	fprintf(f, "# %u connections%s\n", n, lines ? "" : " (out of memory: not listed)");
	free(lines);
}
