// SPDX-License-Identifier: GPL-2.0-or-later
/* The list of live connections: for shutdown and for the connection log. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#include "proxy.h"

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns_head;

void conns_register(struct conn *c)
{
	pthread_mutex_lock(&conns_lock);
	c->prev = NULL;
	c->next = conns_head;
	if (conns_head)
		conns_head->prev = c;
	conns_head = c;
	pthread_mutex_unlock(&conns_lock);
}

void conns_unregister(struct conn *c)
{
	pthread_mutex_lock(&conns_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	pthread_mutex_unlock(&conns_lock);
}

void conns_abort_all(void)
{
	pthread_mutex_lock(&conns_lock);
	for (struct conn *c = conns_head; c; c = c->next) {
		atomic_store(&c->aborted, true);
		sock_abort(atomic_load(&c->fd[LEG_CLIENT]));
		sock_abort(atomic_load(&c->fd[LEG_SERVER]));
	}
	pthread_mutex_unlock(&conns_lock);
}

void conns_dump(FILE *f)
{
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];
	uint64_t now = pepsal_now_ns();
	unsigned int n = 0;

	fprintf(f, "# client destination state age_s idle_s bytes_up bytes_down\n");
	pthread_mutex_lock(&conns_lock);
	for (struct conn *c = conns_head; c; c = c->next, n++) {
		const char *state = atomic_load(&c->fd[LEG_SERVER]) < 0 ? "CONNECTING" :
				    atomic_load(&c->dirs_done) ? "CLOSING" : "ESTABLISHED";

		fprintf(f, "%s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			pepsal_endpoint_format(&c->client, a),
			pepsal_endpoint_format(&c->dst, b), state,
			(uint64_t)((now - c->start_ns) / 1000000000u),
			(uint64_t)((now - atomic_load(&c->last_ns)) / 1000000000u),
			atomic_load(&c->bytes[PEPSAL_DIR_C2S]),
			atomic_load(&c->bytes[PEPSAL_DIR_S2C]));
	}
	pthread_mutex_unlock(&conns_lock);
	fprintf(f, "# %u connections\n", n);
}
