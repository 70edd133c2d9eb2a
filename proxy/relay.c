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
 *
 * For an upgrade (relay_pause.c) each direction pauses itself when asked,
 * at a burst's boundary or while its output is full; a pipe with bytes in
 * flight is kept with the connection, out of the pool (dir_pause); a dial
 * in progress stops and the connection waits undialed (dial_pause).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "adapt.h"
#include "conn.h"
#include "dial.h"
#include "pepsal_log.h"
#include "pepsal_timeline.h"
#include "pipes.h"
#include "pump.h"
#include "relay.h"
#include "relay_int.h"
#include "sockopt.h"
#include "stats.h"
#include "stop.h"
#include "workers.h"

/* A pause for the hand-over: what the directions pausing themselves (here)
 * and the upgrade's controller (relay_pause.c, which calls into this file
 * through relay_int.h, never the other way) share. */
struct relay_pause_state {
	atomic_bool pause;            /* asked: directions stop where they are */
	pthread_mutex_t pause_lock;   /* RUN/DONE changes and the pause signals */
	/* the controller's wait for the directions to pause: CHANGES counts
	 * their state changes during a pause; CHANGE_LOCK is held only briefly,
	 * never while scanning, so a direction is never held up by the scan */
	atomic_uint changes;
	pthread_mutex_t change_lock;
	pthread_cond_t changed;
	pthread_mutex_t outcome_lock; /* the paused threads' wait */
	pthread_cond_t pause_cond;
	enum relay_outcome outcome;   /* of the last pause */
	unsigned int pause_round;     /* bumped by each outcome */
};

static struct {
	const struct relay_params *p;
	struct dial_ctx dial;
	struct drain active;      /* connections held */
	struct stop stop;         /* relay_fini began */
	_Atomic uint64_t short_until; /* out of threads or memory: no room until */
	struct relay_pause_state pause;
} relay = {
	.stop = STOP_INIT,
	.pause = { .pause_lock = PTHREAD_MUTEX_INITIALIZER,
		   .change_lock = PTHREAD_MUTEX_INITIALIZER,
		   .outcome_lock = PTHREAD_MUTEX_INITIALIZER,
		   .pause_cond = PTHREAD_COND_INITIALIZER },
};

static void pause_handler(int sig)
{
	(void)sig; /* only to interrupt a blocking call (no SA_RESTART) */
}

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
	publish_room(drain_count(&relay.active));
}

/* Threads or memory ran out: tell the queuer there is no room for a while. */
void relay_resources_short(void)
{
	atomic_store(&relay.short_until, pepsal_now_ns() + SHORT_HOLD_NS);
	publish_room(drain_count(&relay.active));
}

/* One connection more (+1) or less (-1) held: the count, its counter and
 * the room. The count goes down last: relay_fini waits for it to reach zero
 * before the table is unmapped, so nothing may touch the table after. */
static void held_change(int delta)
{
	unsigned int active;

	if (delta > 0) {
		active = drain_enter(&relay.active);
		stats_set(PC_ACTIVE, active);
		publish_room(active);
		return;
	}
	active = drain_count(&relay.active) - 1;
	stats_set(PC_ACTIVE, active);
	publish_room(active);
	drain_leave(&relay.active); /* the last touch */
}

/* ---- the connection's life ------------------------------------------------ */

/* Reset both sides, once; IDLE: because the connection idled out (both
 * directions may find so at once: counted once). */
static void conn_abort(struct conn *c, bool idle)
{
	if (atomic_exchange(&c->aborted, true))
		return;
	stats_count(idle ? PC_IDLE_TIMEOUTS : PC_RESETS, 1);
	conn_abort_sockets(c);
}

void relay_conn_abort(struct conn *c)
{
	conn_abort(c, false);
}

/* Drop a thread's reference; the last one frees everything, and the count
 * of connections held goes down last (held_change). */
void relay_conn_put(struct conn *c)
{
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];
	bool aborted, handed;

	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	/* first out of the live set: shutdown's abort must never touch a
	 * descriptor number closed here and perhaps reused */
	conn_unlist(c);
	aborted = atomic_load(&c->aborted);
	adapt_unwatch(atomic_load(&c->fd[LEG_CLIENT]));
	handed = c->handed;
	/* a lock held too long defers the removal to its next holder; a
	 * handed-over entry is the new process's now */
	if (!c->handed)
		pepsal_table_remove(relay.p->table, c->slot, c->gen);
	for (int dir = 0; dir < 2; dir++)
		if (c->held[dir])
			pipe_discard(c->held[dir]); /* ours, or the new process's copy */
	for (int leg = LEG_CLIENT; leg <= LEG_SERVER; leg++) {
		int fd = atomic_load(&c->fd[leg]);

		if (fd < 0)
			continue;
		if (aborted && !c->handed)
			sock_reset_close(fd);
		else
			close(fd);
	}
	pr_debug("%s %s -> %s: %llu bytes up, %llu down%s", handed ? "handed over" : "closed",
		 pepsal_endpoint_format(&c->client, a), pepsal_endpoint_format(&c->dst, b),
		 (unsigned long long)atomic_load(&c->bytes[PEPSAL_DIR_C2S]),
		 (unsigned long long)atomic_load(&c->bytes[PEPSAL_DIR_S2C]),
		 aborted ? " (reset)" : "");
	conn_free(c);
	if (!handed)
		stats_count(PC_CLOSED, 1);
	held_change(-1);
}

/* A held pipe of C's direction DIR (paused, or imported) goes back to
 * the pump P, with the bytes it holds, to be written out first. */
static void take_held(struct conn *c, enum pepsal_dir dir, struct pump *p)
{
	int inq = 0;

	p->pipe = c->held[dir];
	p->pending = 0;
	c->held[dir] = NULL;
	if (p->pipe && ioctl(p->pipe->fd[0], FIONREAD, &inq) == 0 && inq > 0)
		p->pending = (size_t)inq;
}

/* C's directions may start on these sockets: the client leg's options
 * (off the accept path), both non-blocking as the pump wants them (a
 * predialed server socket is already, an imported one may not be). */
static int sockets_setup(struct conn *c)
{
	int fd = atomic_load(&c->fd[LEG_CLIENT]);
	char err[160];

	/* accepted from our listener, which has the client leg's options (the
	 * socket inherits them) and gave it O_NONBLOCK; the server socket of a
	 * dial is non-blocking from its socket() */
	if (c->client_ready)
		return 0;
	if (leg_apply(fd, LEG_CLIENT, relay.p->cfg, err, sizeof(err)))
		pr_ratelimited(LOG_WARNING, "client socket: %s", err);
	return relay_sockets_nonblock(c);
}

int relay_sockets_nonblock(struct conn *c)
{
	for (int leg = LEG_CLIENT; leg <= LEG_SERVER; leg++) {
		int fd = atomic_load(&c->fd[leg]);

		if (fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
			pr_ratelimited(LOG_WARNING, "%s socket: O_NONBLOCK: %s",
				       leg == LEG_CLIENT ? "client" : "server", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* ---- pausing a direction for the hand-over ------------------------------ */

/* A direction's state changed: during a pause, the controller waiting for
 * every direction to pause looks again. */
static void pause_changed(void)
{
	struct relay_pause_state *ps = &relay.pause;

	if (!atomic_load(&ps->pause))
		return;
	pthread_mutex_lock(&ps->change_lock);
	atomic_fetch_add(&ps->changes, 1);
	pthread_cond_broadcast(&ps->changed);
	pthread_mutex_unlock(&ps->change_lock);
}

static void dir_set_state(struct conn *c, enum pepsal_dir dir, enum conn_dir_state st)
{
	pthread_mutex_lock(&relay.pause.pause_lock);
	if (st == DIR_RUN)
		c->th[dir] = pthread_self();
	atomic_store(&c->dir_state[dir], st);
	pause_changed();
	pthread_mutex_unlock(&relay.pause.pause_lock);
}

/* The pump P stopped at a pause (NULL: a dial did): keep its pipe with the
 * bytes in flight with the connection, out of the pool, and wait for the
 * outcome. True: resume (P has the pipe back), false: another process
 * took it. */
static bool dir_pause(struct conn *c, enum pepsal_dir dir, struct pump *p)
{
	struct relay_pause_state *ps = &relay.pause;
	unsigned int round;
	bool resume;

	if (p) {
		c->held[dir] = p->pipe;
		p->pipe = NULL;
		p->pending = 0;
	}
	pthread_mutex_lock(&ps->outcome_lock);
	round = ps->pause_round;
	atomic_store(&c->dir_state[dir], DIR_PAUSED);
	pause_changed();
	/* the outcome may be in already (an imported direction pauses
	 * itself): the flag and the outcome change together, under the lock */
	while (atomic_load(&ps->pause) && ps->pause_round == round)
		pthread_cond_wait(&ps->pause_cond, &ps->outcome_lock);
	resume = ps->outcome != OUTCOME_RELEASE;
	atomic_store(&c->dir_state[dir], resume ? DIR_RUN : DIR_DONE);
	pthread_mutex_unlock(&ps->outcome_lock);
	if (resume && p)
		take_held(c, dir, p);
	return resume;
}

static void relay_dir(struct conn *c, enum pepsal_dir dir)
{
	int out = atomic_load(&c->fd[leg_of_input(dir) ^ 1]);
	struct pump p = {
		.c = c, .dir = dir, .in = atomic_load(&c->fd[leg_of_input(dir)]), .out = out,
		.idle_ns = relay.p->cfg->idle_timeout_ns,
		.table = relay.p->table, .pause = &relay.pause.pause,
		.fin_in = c->fin_in[dir],
	};
	int rc;

	dir_set_state(c, dir, DIR_RUN);
	take_held(c, dir, &p); /* an imported direction's bytes */
	while ((rc = pump_run(&p)) == -EINTR && dir_pause(c, dir, &p))
		;
	if (rc == -EINTR) { /* handed over */
		dir_set_state(c, dir, DIR_DONE);
		return;
	}
	if (rc == 0 && !atomic_load(&c->aborted)) {
		/* EOF: pass it on, the other direction goes on (the entry says
		 * CLOSING before the peer can see the EOF) */
		c->eof[dir] = true;
		if (atomic_fetch_add(&c->dirs_done, 1) == 0)
			pepsal_table_set_state(relay.p->table, c->slot, c->gen,
					       PEPSAL_STATE_CLOSING);
		shutdown(out, SHUT_WR);
	} else if (rc) {
		conn_abort(c, rc == -ETIME);
	}
	dir_set_state(c, dir, DIR_DONE);
}

void relay_s2c_thread(void *arg)
{
	relay_dir(arg, PEPSAL_DIR_S2C);
	relay_conn_put(arg);
}

void relay_c2s_resumed_thread(void *arg)
{
	relay_dir(arg, PEPSAL_DIR_C2S);
	relay_conn_put(arg);
}

/* A dial stopped by a pause: the connection waits undialed (the other
 * process dials if it takes it over). True: resume, dial again here. */
static bool dial_pause(struct conn *c)
{
	bool resume;

	atomic_store(&c->dir_state[PEPSAL_DIR_S2C], DIR_PAUSED); /* no thread yet */
	resume = dir_pause(c, PEPSAL_DIR_C2S, NULL);
	atomic_store(&c->dir_state[PEPSAL_DIR_S2C], DIR_IDLE);
	return resume;
}

/* The upstream leg of C: the server, or what the relay's owner says. */
static int dial(const struct conn *c)
{
	if (relay.p->upstream) /* with the client's DSCP, when its packets had one */
		return relay.p->upstream(&relay.dial, &c->client, &c->dst,
					 sock_received_tos(atomic_load(&c->fd[LEG_CLIENT]),
							   c->client.family));
	return dial_upstream(&relay.dial, &c->client, &c->dst);
}

/* The dial of C failed (RC): counted, logged; the client is reset when the
 * connection is let go of. */
static void dial_failed(struct conn *c, int rc)
{
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];

	stats_count(PC_DIAL_FAILED, 1);
	pr_ratelimited(LOG_INFO, "connection from %s to %s failed: %s; resetting the client",
		       pepsal_endpoint_format(&c->client, a), pepsal_endpoint_format(&c->dst, b),
		       strerror(-rc));
	atomic_store(&c->aborted, true);
}

void relay_c2s_thread(void *arg)
{
	struct conn *c = arg;
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];
	int fd = atomic_load(&c->fd[LEG_SERVER]), rc;
	bool reset = true; /* both sides, on the way out */

	pepsal_tl_mark(TL_RELAY_START, &c->client, 0);
	if (sockets_setup(c))
		goto out;
	if (fd < 0) { /* not dialed yet (accept-first) */
		/* RUN while dialing too: a pause signals the thread out of its wait */
		dir_set_state(c, PEPSAL_DIR_C2S, DIR_RUN);
		while ((fd = dial(c)) == -ECANCELED && !relay_stopping()) {
			/* paused (or the pause is over already: dial again) */
			if (atomic_load(&relay.pause.pause) && !dial_pause(c)) {
				reset = false; /* another process dials it */
				goto out;
			}
		}
	}
	if (fd < 0) {
		dial_failed(c, fd);
		reset = false;
		goto out;
	}
	atomic_store(&c->fd[LEG_SERVER], fd);
	if (relay_stopping())
		goto out;
	adapt_watch(atomic_load(&c->fd[LEG_CLIENT]));
	atomic_store(&c->last_ns, pepsal_now_ns());
	pr_debug("relaying %s -> %s", pepsal_endpoint_format(&c->client, a),
		 pepsal_endpoint_format(&c->dst, b));
	atomic_fetch_add(&c->refs, 1);
	rc = workers_run(relay_s2c_thread, c);
	if (rc) {
		pr_ratelimited(LOG_WARNING, "cannot start a relay thread: %s", strerror(-rc));
		relay_resources_short();
		atomic_fetch_sub(&c->refs, 1);
		goto out;
	}
	relay_dir(c, PEPSAL_DIR_C2S);
	reset = false; /* relay_dir ended it as it had to */
out:
	if (reset)
		relay_conn_abort(c);
	relay_conn_put(c);
}

int relay_start(int client_fd, const struct pepsal_entry_view *entry)
{
	return relay_start_dialed(client_fd, -1, entry);
}

int relay_start_dialed(int client_fd, int server_fd, const struct pepsal_entry_view *entry)
{
	return relay_start_accepted(client_fd, server_fd, entry, false);
}

int relay_start_accepted(int client_fd, int server_fd, const struct pepsal_entry_view *entry,
			 bool client_ready)
{
	struct conn *c;
	int rc;

	c = conn_new(client_fd, entry, pepsal_now_ns());
	if (!c) {
		if (server_fd >= 0)
			sock_reset_close(server_fd);
		relay_resources_short();
		return -ENOMEM;
	}
	atomic_store(&c->fd[LEG_SERVER], server_fd);
	c->client_ready = client_ready;
	held_change(+1);
	rc = workers_run(relay_c2s_thread, c);
	if (rc) {
		/* the caller resets the client and frees the entry */
		if (server_fd >= 0)
			sock_reset_close(server_fd);
		conn_free(c);
		relay_resources_short();
		held_change(-1);
	}
	return rc;
}

void relay_count_held(void)
{
	held_change(+1);
}

/* ---- start and stop --------------------------------------------------------- */

void relay_init(const struct relay_params *p)
{
	int rc;

	relay.p = p;
	drain_init(&relay.active);
	cond_init_monotonic(&relay.pause.changed);
	if ((rc = stop_init(&relay.stop)))
		pr_warn("dials will see a stop only now and then: %s", strerror(-rc));
	relay.dial = (struct dial_ctx){ .cfg = p->cfg, .table = p->table,
					.stop = &relay.stop, .pause = &relay.pause.pause };
	pipes_init((size_t)p->cfg->pipe_size, p->pipes_max);
	workers_init(NULL);
	publish_room(0);
	/* the pause signal only interrupts: no SA_RESTART */
	sigaction(RELAY_PAUSE_SIGNAL, &(struct sigaction){ .sa_handler = pause_handler }, NULL);
}

unsigned int relay_active(void)
{
	return drain_count(&relay.active);
}

bool relay_stopping(void)
{
	return stop_is_set(&relay.stop);
}

void relay_wait_released(uint64_t wait_ns)
{
	drain_wait(&relay.active, pepsal_now_ns() + wait_ns);
}

bool relay_fini(uint64_t wait_ns)
{
	uint64_t deadline = pepsal_now_ns() + wait_ns;
	unsigned int left;

	stop_set(&relay.stop); /* dials in progress give up at once */
	publish_room(0); /* stopping: no room at all */
	conns_abort_all();
	if (!drain_wait(&relay.active, deadline)) {
		left = drain_count(&relay.active);
		pr_warn("%u connections did not close in time", left);
		return false;
	}
	workers_fini();
	pipes_fini();
	return true;
}

/* ---- the pause, for relay_pause.c (relay_int.h) ------------------------------ */

void relay_pause_begin(void)
{
	atomic_store(&relay.pause.pause, true);
}

bool relay_pause_wait(bool (*paused)(void *arg), void *arg, uint64_t until_ns)
{
	struct relay_pause_state *ps = &relay.pause;

	for (;;) {
		/* changes made during the scan make the wait below end at once:
		 * they are looked at by the next scan, all of them in one */
		unsigned int seen = atomic_load(&ps->changes);
		bool done, timeout = false;

		pthread_mutex_lock(&ps->pause_lock);
		done = paused(arg);
		pthread_mutex_unlock(&ps->pause_lock);
		if (done)
			return true;
		pthread_mutex_lock(&ps->change_lock);
		while (atomic_load(&ps->changes) == seen && !timeout)
			timeout = cond_wait_until(&ps->changed, &ps->change_lock, until_ns) != 0;
		pthread_mutex_unlock(&ps->change_lock);
		if (timeout)
			return false;
	}
}

void relay_pause_end(enum relay_outcome outcome)
{
	struct relay_pause_state *ps = &relay.pause;

	pthread_mutex_lock(&ps->outcome_lock);
	atomic_store(&ps->pause, false);
	ps->outcome = outcome;
	ps->pause_round++;
	pthread_cond_broadcast(&ps->pause_cond);
	pthread_mutex_unlock(&ps->outcome_lock);
}
