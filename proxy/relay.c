// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The connection's life. The first thread dials the server, starts the
 * second and then relays client to server; the second relays server to
 * client (pump.c moves the bytes). EOF on the input: the output is shut
 * down for writing at once and the other direction carries on. An error on
 * either side aborts both sockets (RST to both peers, wakes the other
 * thread). The last thread out frees the table entry and the sockets.
 *
 * Each relay thread keeps its splice pipe from one connection to the next
 * (pipes.c) and parks between connections (workers.c); a parked thread
 * keeps its pipe only while the descriptors budgeted for connections not
 * served now (two pipes each) cover it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "adapt.h"
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
	_Atomic uint64_t short_until; /* out of threads or memory: no room until */
} relay;

static __thread struct relay_pipe tl_pipe = RELAY_PIPE_INIT;

static int leg_of_input(enum pepsal_dir dir)
{
	return dir == PEPSAL_DIR_C2S ? LEG_CLIENT : LEG_SERVER;
}

/* ---- the room published to the queuer ------------------------------------- */

#define SHORT_HOLD_NS 1000000000ull /* a failed thread start closes the room 1 s */

/* How many more connections we take, now that ACTIVE are held: the queuer
 * routes SYNs end to end when there is none. */
static void publish_room(unsigned int active)
{
	uint32_t max = relay.p->cfg->max_conns;

	if (pepsal_now_ns() < atomic_load(&relay.short_until) || relay_stopping())
		max = 0;
	pepsal_table_set_room(relay.p->table, active < max ? max - active : 0);
}

void relay_publish_room(void)
{
	publish_room(atomic_load(&relay.active));
}

/* Threads or memory ran out: tell the queuer there is no room for a while. */
void relay_resources_short(void)
{
	atomic_store(&relay.short_until, pepsal_now_ns() + SHORT_HOLD_NS);
	publish_room(atomic_load(&relay.active));
}

/* ---- the threads between connections ------------------------------------ */

static void thread_park(void)
{
	unsigned int active = atomic_load(&relay.active), max = relay.p->cfg->max_conns;

	pipe_park(&tl_pipe, active < max ? 2 * (max - active) : 0);
}

static void thread_unpark(void)
{
	pipe_unpark(&tl_pipe);
}

static void thread_exit(void)
{
	pipe_unpark(&tl_pipe);
	pipe_drop(&tl_pipe);
}

static const struct workers_hooks relay_hooks = {
	.park = thread_park, .unpark = thread_unpark, .exit = thread_exit,
};

/* ---- the connection's life ------------------------------------------------ */

static void set_timeouts(int fd, uint64_t ns)
{
	struct timeval tv = { .tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_usec = (suseconds_t)(ns % 1000000000ull / 1000) };

	if (!ns)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Reset both sides, once; IDLE: because the connection idled out (both
 * directions may find so at once: counted once). */
static void conn_abort(struct conn *c, bool idle)
{
	if (atomic_exchange(&c->aborted, true))
		return;
	stats_count(idle ? PC_IDLE_TIMEOUTS : PC_RESETS, 1);
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
	/* first out of the live set: shutdown's abort must never touch a
	 * descriptor number closed here and perhaps reused */
	conn_unlist(c);
	aborted = atomic_load(&c->aborted);
	adapt_unwatch(atomic_load(&c->fd[LEG_CLIENT]));
	/* a lock held too long defers the removal to its next holder */
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
	publish_room(atomic_load(&relay.active) - 1);
	atomic_fetch_sub(&relay.active, 1); /* the last touch: see above */
}

static void relay_dir(struct conn *c, enum pepsal_dir dir)
{
	int out = atomic_load(&c->fd[leg_of_input(dir) ^ 1]);
	struct pump p = {
		.c = c, .dir = dir, .in = atomic_load(&c->fd[leg_of_input(dir)]), .out = out,
		.pipe = &tl_pipe, .idle_ns = relay.p->cfg->idle_timeout_ns,
		.table = relay.p->table,
	};
	int rc = pump_run(&p);

	if (rc == 0 && !atomic_load(&c->aborted)) {
		/* EOF: pass it on, the other direction goes on */
		shutdown(out, SHUT_WR);
		if (atomic_fetch_add(&c->dirs_done, 1) == 0)
			pepsal_table_set_state(relay.p->table, c->slot, c->gen,
					       PEPSAL_STATE_CLOSING);
	} else if (rc) {
		conn_abort(c, rc == -ETIMEDOUT);
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
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];
	int fd = atomic_load(&c->fd[LEG_SERVER]), rc;

	if (fd < 0) /* not dialed yet (accept-first) */
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
		conn_abort(c, false);
		conn_put(c);
		return;
	}
	set_timeouts(fd, relay.p->cfg->idle_timeout_ns);
	adapt_watch(atomic_load(&c->fd[LEG_CLIENT]));
	atomic_store(&c->last_ns, pepsal_now_ns());
	pr_debug("relaying %s -> %s", pepsal_endpoint_format(&c->client, a),
		 pepsal_endpoint_format(&c->dst, b));
	atomic_fetch_add(&c->refs, 1);
	rc = workers_run(s2c_thread, c);
	if (rc) {
		pr_ratelimited(LOG_WARNING, "cannot start a relay thread: %s", strerror(-rc));
		relay_resources_short();
		atomic_fetch_sub(&c->refs, 1);
		conn_abort(c, false);
		conn_put(c);
		return;
	}
	relay_dir(c, PEPSAL_DIR_C2S);
	conn_put(c);
}

int relay_start(int client_fd, const struct pepsal_entry_view *entry)
{
	return relay_start_dialed(client_fd, -1, entry);
}

int relay_start_dialed(int client_fd, int server_fd, const struct pepsal_entry_view *entry)
{
	const struct proxy_config *cfg = relay.p->cfg;
	unsigned int active;
	struct conn *c;
	char err[160];
	int rc;

	if (leg_apply(client_fd, LEG_CLIENT, cfg, err, sizeof(err)))
		pr_ratelimited(LOG_WARNING, "client socket: %s", err);
	set_timeouts(client_fd, cfg->idle_timeout_ns);
	c = conn_new(client_fd, entry, pepsal_now_ns());
	if (!c) {
		if (server_fd >= 0)
			sock_reset_close(server_fd);
		relay_resources_short();
		return -ENOMEM;
	}
	atomic_store(&c->fd[LEG_SERVER], server_fd);
	active = atomic_fetch_add(&relay.active, 1) + 1;
	stats_set(PC_ACTIVE, active);
	publish_room(active);
	rc = workers_run(c2s_thread, c);
	if (rc) {
		/* the caller resets the client and frees the entry */
		if (server_fd >= 0)
			sock_reset_close(server_fd);
		conn_free(c);
		relay_resources_short();
		active = atomic_fetch_sub(&relay.active, 1) - 1;
		stats_set(PC_ACTIVE, active);
		publish_room(active);
	}
	return rc;
}

/* ---- start and stop --------------------------------------------------------- */

void relay_init(const struct relay_params *p)
{
	relay.p = p;
	relay.dial = (struct dial_ctx){ .cfg = p->cfg, .table = p->table,
					.cancel = &relay.stopping };
	pipes_init((size_t)p->cfg->pipe_size);
	workers_init(&relay_hooks);
	publish_room(0);
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
	publish_room(0); /* stopping: no room at all */
	conns_abort_all();
	while ((left = atomic_load(&relay.active)) && pepsal_now_ns() < deadline)
		nanosleep(&ts, NULL);
	if (left) {
		pr_warn("%u connections did not close in time", left);
		return false;
	}
	workers_fini();
	return true;
}
