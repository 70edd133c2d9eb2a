// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The connection's life. The first thread dials the server, starts the
 * second and then relays client to server; the second relays server to
 * client (pump.c moves the bytes). EOF on the input: the output is shut
 * down for writing at once and the other direction carries on. An error on
 * either side aborts both sockets (RST to both peers, wakes the other
 * thread). The last thread out frees the table entry and the sockets.
 *
 * Both sockets are non-blocking; a direction takes a splice pipe from the
 * pool only for a burst (pump.c, pipes.c), so a connection holds its two
 * sockets and nothing else while no data is in flight. Threads park between
 * connections (workers.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "dial.h"
#include "pepsal_log.h"
#include "pipes.h"
#include "pump.h"
#include "relay.h"
#include "sockopt.h"
#include "stats.h"
#include "workers.h"

static struct {
	const struct relay_params *p;
	struct dial_ctx dial;
	atomic_uint active;       /* connections held */
	atomic_bool stopping;     /* relay_fini began */
} relay;

static int leg_of_input(enum pepsal_dir dir)
{
	return dir == PEPSAL_DIR_C2S ? LEG_CLIENT : LEG_SERVER;
}

/* ---- the connection's life ------------------------------------------------ */

static void conn_abort(struct conn *c)
{
	if (atomic_exchange(&c->aborted, true))
		return;
	stats_count(PC_RESETS, 1);
	conn_abort_sockets(c);
}

/* Drop a thread's reference; the last one frees everything. The count of
 * active connections goes down last: relay_fini waits for it to reach zero
 * before the table is unmapped, so nothing here may touch the table after. */
static void conn_put(struct conn *c)
{
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];
	bool aborted;

	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	aborted = atomic_load(&c->aborted);
	pepsal_table_remove(relay.p->table, c->slot, c->gen);
	for (int leg = LEG_CLIENT; leg <= LEG_SERVER; leg++) {
		int fd = atomic_load(&c->fd[leg]);

		if (fd < 0)
			continue;
		if (aborted)
			sock_reset_close(fd);
		else
			close(fd);
	}
	pr_debug("closed %s -> %s: %llu bytes up, %llu down%s",
		 pepsal_endpoint_format(&c->client, a), pepsal_endpoint_format(&c->dst, b),
		 (unsigned long long)atomic_load(&c->bytes[PEPSAL_DIR_C2S]),
		 (unsigned long long)atomic_load(&c->bytes[PEPSAL_DIR_S2C]),
		 aborted ? " (reset)" : "");
	conn_free(c);
	stats_count(PC_CLOSED, 1);
	stats_set(PC_ACTIVE, atomic_load(&relay.active) - 1);
	atomic_fetch_sub(&relay.active, 1); /* the last touch: see above */
}

static void relay_dir(struct conn *c, enum pepsal_dir dir)
{
	int out = atomic_load(&c->fd[leg_of_input(dir) ^ 1]);
	struct pump p = {
		.c = c, .dir = dir, .in = atomic_load(&c->fd[leg_of_input(dir)]), .out = out,
		.idle_ns = relay.p->cfg->idle_timeout_ns,
		.table = relay.p->table,
	};
	int rc = pump_run(&p);

	if (rc == 0 && !atomic_load(&c->aborted)) {
		/* EOF: pass it on, the other direction goes on (the entry says
		 * CLOSING before the peer can see the EOF) */
		if (atomic_fetch_add(&c->dirs_done, 1) == 0)
			pepsal_table_set_state(relay.p->table, c->slot, c->gen,
					       PEPSAL_STATE_CLOSING);
		shutdown(out, SHUT_WR);
	} else if (rc) {
		if (rc == -ETIMEDOUT)
			stats_count(PC_IDLE_TIMEOUTS, 1);
		conn_abort(c);
	}
}

static void s2c_thread(void *arg)
{
	relay_dir(arg, PEPSAL_DIR_S2C);
	conn_put(arg);
}

static void c2s_thread(void *arg)
{
	struct conn *c = arg;
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN], err[160];
	int fd, rc;

	/* off the accept path: the client leg's options, non-blocking */
	fd = atomic_load(&c->fd[LEG_CLIENT]);
	if (leg_apply(fd, LEG_CLIENT, relay.p->cfg, err, sizeof(err)))
		pr_ratelimited(LOG_WARNING, "client socket: %s", err);
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		pr_ratelimited(LOG_WARNING, "client socket: O_NONBLOCK: %s", strerror(errno));
		conn_abort(c);
		conn_put(c);
		return;
	}
	fd = dial_upstream(&relay.dial, &c->client, &c->dst);
	if (fd < 0) {
		stats_count(PC_DIAL_FAILED, 1);
		pr_ratelimited(LOG_INFO, "connection from %s to %s failed: %s; resetting the client",
			       pepsal_endpoint_format(&c->client, a),
			       pepsal_endpoint_format(&c->dst, b), strerror(-fd));
		atomic_store(&c->aborted, true);
		conn_put(c);
		return;
	}
	atomic_store(&c->fd[LEG_SERVER], fd);
	if (atomic_load(&relay.stopping)) {
		conn_abort(c);
		conn_put(c);
		return;
	}
	atomic_store(&c->last_ns, pepsal_now_ns());
	pr_debug("relaying %s -> %s", pepsal_endpoint_format(&c->client, a),
		 pepsal_endpoint_format(&c->dst, b));
	atomic_fetch_add(&c->refs, 1);
	rc = workers_run(s2c_thread, c);
	if (rc) {
		pr_ratelimited(LOG_WARNING, "cannot start a relay thread: %s", strerror(-rc));
		atomic_fetch_sub(&c->refs, 1);
		conn_abort(c);
		conn_put(c);
		return;
	}
	relay_dir(c, PEPSAL_DIR_C2S);
	conn_put(c);
}

int relay_start(int client_fd, const struct pepsal_entry_view *entry)
{
	struct conn *c;
	int rc;

	c = conn_new(client_fd, entry, pepsal_now_ns());
	if (!c)
		return -ENOMEM;
	stats_set(PC_ACTIVE, atomic_fetch_add(&relay.active, 1) + 1);
	rc = workers_run(c2s_thread, c);
	if (rc) {
		/* the caller resets the client and frees the entry */
		conn_free(c);
		stats_set(PC_ACTIVE, atomic_fetch_sub(&relay.active, 1) - 1);
	}
	return rc;
}

/* ---- start and stop --------------------------------------------------------- */

void relay_init(const struct relay_params *p)
{
	relay.p = p;
	relay.dial = (struct dial_ctx){ .cfg = p->cfg, .table = p->table,
					.cancel = &relay.stopping };
	pipes_init((size_t)p->cfg->pipe_size, p->pipes_max);
	workers_init(NULL);
}

unsigned int relay_active(void)
{
	return atomic_load(&relay.active);
}

bool relay_stopping(void)
{
	return atomic_load(&relay.stopping);
}

bool relay_fini(uint64_t wait_ns)
{
	uint64_t deadline = pepsal_now_ns() + wait_ns;
	struct timespec ts = { 0, 5000000 };
	unsigned int left;

	atomic_store(&relay.stopping, true);
	conns_abort_all();
	while ((left = atomic_load(&relay.active)) && pepsal_now_ns() < deadline)
		nanosleep(&ts, NULL);
	if (left) {
		pr_warn("%u connections did not close in time", left);
		return false;
	}
	workers_fini();
	pipes_fini();
	return true;
}
