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
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
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
	/* the hand-over: pause asked, and its outcome for the paused threads */
	atomic_bool pause;
	pthread_mutex_t pause_lock;  /* RUN/DONE changes and the pause signals */
	pthread_mutex_t outcome_lock; /* the paused threads' wait */
	pthread_cond_t pause_cond;
	enum { OUTCOME_NONE, OUTCOME_RESUME, OUTCOME_RELEASE } outcome;
	unsigned int pause_round;    /* bumped by each outcome */
} relay = { .pause_lock = PTHREAD_MUTEX_INITIALIZER, .outcome_lock = PTHREAD_MUTEX_INITIALIZER,
	    .pause_cond = PTHREAD_COND_INITIALIZER };

static __thread struct relay_pipe tl_pipe = RELAY_PIPE_INIT;

static int leg_of_input(enum pepsal_dir dir)
{
	return dir == PEPSAL_DIR_C2S ? LEG_CLIENT : LEG_SERVER;
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
	bool aborted, handed;

	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	aborted = atomic_load(&c->aborted);
	handed = c->handed;
	if (!c->handed) /* else the entry is the new process's now */
		pepsal_table_remove(relay.p->table, c->slot, c->gen);
	for (int dir = 0; dir < 2; dir++)
		pipe_drop(&c->held[dir]);
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
	stats_set(PC_ACTIVE, atomic_load(&relay.active) - 1);
	atomic_fetch_sub(&relay.active, 1); /* the last touch: see above */
}

/* A held pipe of C's direction DIR (paused, or imported) becomes the
 * thread's: returns the bytes it holds, to be written out first. */
static size_t take_held(struct conn *c, enum pepsal_dir dir)
{
	int inq = 0;

	if (c->held[dir].fd[0] < 0)
		return 0;
	pipe_drop(&tl_pipe);
	tl_pipe = c->held[dir];
	c->held[dir] = (struct relay_pipe)RELAY_PIPE_INIT;
	if (ioctl(tl_pipe.fd[0], FIONREAD, &inq) < 0 || inq < 0)
		inq = 0;
	return (size_t)inq;
}

/* ---- pausing a direction for the hand-over ------------------------------ */

static void dir_set_state(struct conn *c, enum pepsal_dir dir, enum conn_dir_state st)
{
	pthread_mutex_lock(&relay.pause_lock);
	if (st == DIR_RUN)
		c->th[dir] = pthread_self();
	atomic_store(&c->dir_state[dir], st);
	pthread_mutex_unlock(&relay.pause_lock);
}

/* The pump stopped at a pause: keep the pipe's bytes with the connection
 * (the thread's pipe is its own) and wait for the outcome. True: resume
 * (*PENDING bytes to write first), false: another process took it. */
static bool dir_pause(struct conn *c, enum pepsal_dir dir, size_t *pending)
{
	int inq = 0;
	unsigned int round;
	bool resume;

	if (tl_pipe.fd[0] >= 0 && ioctl(tl_pipe.fd[0], FIONREAD, &inq) == 0 && inq > 0) {
		c->held[dir] = tl_pipe;
		tl_pipe = (struct relay_pipe)RELAY_PIPE_INIT;
	}
	pthread_mutex_lock(&relay.outcome_lock);
	round = relay.pause_round;
	atomic_store(&c->dir_state[dir], DIR_PAUSED);
	/* the outcome may be in already (an imported direction pauses
	 * itself): the flag and the outcome change together, under the lock */
	while (atomic_load(&relay.pause) && relay.pause_round == round)
		pthread_cond_wait(&relay.pause_cond, &relay.outcome_lock);
	resume = relay.outcome != OUTCOME_RELEASE;
	atomic_store(&c->dir_state[dir], resume ? DIR_RUN : DIR_DONE);
	pthread_mutex_unlock(&relay.outcome_lock);
	*pending = 0;
	if (resume)
		*pending = take_held(c, dir);
	return resume;
}

static void relay_dir(struct conn *c, enum pepsal_dir dir)
{
	int out = atomic_load(&c->fd[leg_of_input(dir) ^ 1]);
	struct pump p = {
		.c = c, .dir = dir, .in = atomic_load(&c->fd[leg_of_input(dir)]), .out = out,
		.pipe = &tl_pipe, .idle_ns = relay.p->cfg->idle_timeout_ns,
		.table = relay.p->table, .pause = &relay.pause,
	};
	int rc;

	dir_set_state(c, dir, DIR_RUN);
	p.pending = take_held(c, dir); /* an imported direction's bytes */
	while ((rc = pump_run(&p)) == -EINTR && dir_pause(c, dir, &p.pending))
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
		if (rc == -ETIMEDOUT)
			stats_count(PC_IDLE_TIMEOUTS, 1);
		conn_abort(c);
	}
	dir_set_state(c, dir, DIR_DONE);
}

static void s2c_thread(void *arg)
{
	relay_dir(arg, PEPSAL_DIR_S2C);
	conn_put(arg);
}

/* A dial stopped by a pause: the connection waits undialed (the other
 * process dials if it takes it over). True: resume, dial again here. */
static bool dial_pause(struct conn *c)
{
	size_t pending;
	bool resume;

	atomic_store(&c->dir_state[PEPSAL_DIR_S2C], DIR_PAUSED); /* no thread yet */
	resume = dir_pause(c, PEPSAL_DIR_C2S, &pending);
	atomic_store(&c->dir_state[PEPSAL_DIR_S2C], DIR_IDLE);
	return resume;
}

static void c2s_thread(void *arg)
{
	struct conn *c = arg;
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];
	int fd, rc;

	/* RUN while dialing too: a pause signals the thread out of its wait */
	dir_set_state(c, PEPSAL_DIR_C2S, DIR_RUN);
	while ((fd = dial_upstream(&relay.dial, &c->client, &c->dst)) == -ECANCELED &&
	       !atomic_load(&relay.stopping)) {
		/* paused (or the pause is over already: dial again) */
		if (atomic_load(&relay.pause) && !dial_pause(c)) {
			conn_put(c); /* another process dials it */
			return;
		}
	}
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
	set_timeouts(fd, relay.p->cfg->idle_timeout_ns);
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
	const struct proxy_config *cfg = relay.p->cfg;
	struct conn *c;
	char err[160];
	int rc;

	if (leg_apply(client_fd, LEG_CLIENT, cfg, err, sizeof(err)))
		pr_ratelimited(LOG_WARNING, "client socket: %s", err);
	set_timeouts(client_fd, cfg->idle_timeout_ns);
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

/* ---- the hand-over (upgrade.c) ------------------------------------------------ */

static void pause_handler(int sig)
{
	(void)sig; /* only to interrupt a blocking call (no SA_RESTART) */
}

struct scan {
	bool kick;                /* signal the running directions */
	unsigned int waiting;     /* directions not paused yet */
	unsigned int n;           /* exportable connections */
	struct relay_conn_state *out;
};

/* Interrupt every running direction; count what is not paused yet. */
static void scan_pause(struct conn *c, void *arg)
{
	struct scan *sc = arg;

	for (int dir = 0; dir < 2; dir++) {
		int st = atomic_load(&c->dir_state[dir]);

		if (st == DIR_RUN && sc->kick)
			pthread_kill(c->th[dir], RELAY_PAUSE_SIGNAL);
		if (st == DIR_RUN || st == DIR_IDLE)
			sc->waiting++;
	}
}

static bool exportable(const struct conn *c)
{
	return !atomic_load(&c->aborted) &&
	       (atomic_load(&c->dir_state[0]) == DIR_PAUSED ||
		atomic_load(&c->dir_state[1]) == DIR_PAUSED);
}

int relay_quiesce(uint64_t wait_ns)
{
	uint64_t deadline = pepsal_now_ns() + wait_ns;
	struct timespec ts = { 0, 200000 };
	struct scan sc;

	atomic_store(&relay.pause, true);
	for (unsigned int round = 0;; round++) {
		/* one signal each; again every 10 ms or so for one that checked
		 * the flag just before it blocked */
		sc = (struct scan){ .kick = round % 50 == 0 };
		pthread_mutex_lock(&relay.pause_lock);
		conns_for_each(scan_pause, &sc);
		pthread_mutex_unlock(&relay.pause_lock);
		if (!sc.waiting)
			return 0;
		if (pepsal_now_ns() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
}

void relay_expect(unsigned int n)
{
	workers_reserve(2 * n);
}

static void scan_export(struct conn *c, void *arg)
{
	struct scan *sc = arg;
	struct relay_conn_state *st;

	if (!exportable(c))
		return;
	if (!sc->out) {
		sc->n++;
		return;
	}
	st = &sc->out[sc->n++];
	c->handed = true; /* until relay_resume says otherwise */
	*st = (struct relay_conn_state){
		.fd = { atomic_load(&c->fd[LEG_CLIENT]), atomic_load(&c->fd[LEG_SERVER]) },
		.pipe = { c->held[0], c->held[1] },
		.eof = { c->eof[0], c->eof[1] },
		.bytes = { atomic_load(&c->bytes[0]), atomic_load(&c->bytes[1]) },
		.slot = c->slot, .gen = c->gen, .client = c->client, .dst = c->dst,
		.age_ns = pepsal_now_ns() - c->start_ns,
	};
}

int relay_export(struct relay_conn_state **out)
{
	struct scan sc = { 0 };

	conns_for_each(scan_export, &sc); /* nothing moves while paused */
	sc.out = calloc(sc.n ? sc.n : 1, sizeof(*sc.out));
	if (!sc.out)
		return -ENOMEM;
	sc.n = 0;
	conns_for_each(scan_export, &sc);
	*out = sc.out;
	return (int)sc.n;
}

static void unmark(struct conn *c, void *arg)
{
	(void)arg;
	c->handed = false;
}

static void imported_end(int outcome);

static void pause_end(int outcome)
{
	imported_end(outcome);
	if (outcome == OUTCOME_RESUME)
		conns_for_each(unmark, NULL);
	pthread_mutex_lock(&relay.outcome_lock);
	atomic_store(&relay.pause, false);
	relay.outcome = outcome;
	relay.pause_round++;
	pthread_cond_broadcast(&relay.pause_cond);
	pthread_mutex_unlock(&relay.outcome_lock);
}

void relay_resume(void)
{
	pause_end(OUTCOME_RESUME);
}

void relay_release(void)
{
	pause_end(OUTCOME_RELEASE);
}

static void resumed_c2s_thread(void *arg)
{
	relay_dir(arg, PEPSAL_DIR_C2S);
	conn_put(arg);
}

/* Imported connections wait here for the outcome (relay_resume/release). */
static struct {
	struct conn **c;
	unsigned int n, cap;
} imported;

/* Start the threads of an imported connection (after GO: it is ours). */
static void start_imported(struct conn *c)
{
	int rc = 0;

	c->handed = false;
	if (atomic_load(&c->fd[LEG_SERVER]) < 0) { /* handed over undialed: dial */
		if ((rc = workers_run(c2s_thread, c))) {
			pr_ratelimited(LOG_WARNING, "cannot start a relay thread: %s", strerror(-rc));
			conn_abort(c);
			conn_put(c);
		}
		return;
	}
	if (!c->eof[PEPSAL_DIR_C2S] && (rc = workers_run(resumed_c2s_thread, c))) {
		atomic_fetch_sub(&c->refs, 1);
		atomic_store(&c->dir_state[PEPSAL_DIR_C2S], DIR_DONE);
	}
	if (!c->eof[PEPSAL_DIR_S2C] && (rc || (rc = workers_run(s2c_thread, c)))) {
		atomic_fetch_sub(&c->refs, 1);
		atomic_store(&c->dir_state[PEPSAL_DIR_S2C], DIR_DONE);
	}
	if (rc) {
		/* lost, as a connection whose threads cannot start on accept */
		pr_ratelimited(LOG_WARNING, "cannot start a relay thread: %s", strerror(-rc));
		atomic_fetch_add(&c->refs, 1);
		conn_abort(c);
		conn_put(c);
	}
}

static void imported_end(int outcome)
{
	for (unsigned int i = 0; i < imported.n; i++) {
		struct conn *c = imported.c[i];

		if (outcome == OUTCOME_RESUME) {
			start_imported(c);
		} else { /* the sockets stay the old process's: close quietly */
			atomic_store(&c->refs, 1);
			conn_put(c);
		}
	}
	free(imported.c);
	imported.c = NULL;
	imported.n = imported.cap = 0;
}

int relay_import(const struct relay_conn_state *st)
{
	struct pepsal_entry_view entry = { .slot = st->slot, .gen = st->gen,
					   .client = st->client, .dst = st->dst };
	uint64_t now = pepsal_now_ns();
	struct conn *c = NULL;
	int live = !st->eof[0] + !st->eof[1];

	if (imported.n == imported.cap) {
		unsigned int cap = imported.cap ? 2 * imported.cap : 256;
		struct conn **a = realloc(imported.c, cap * sizeof(*a));

		if (a) {
			imported.c = a;
			imported.cap = cap;
		}
	}
	if (imported.n < imported.cap && live)
		c = conn_new(st->fd[LEG_CLIENT], &entry, now);
	if (!c) {
		close(st->fd[LEG_CLIENT]);
		if (st->fd[LEG_SERVER] >= 0)
			close(st->fd[LEG_SERVER]);
		for (int dir = 0; dir < 2; dir++) {
			struct relay_pipe pp = st->pipe[dir];

			pipe_drop(&pp);
		}
		return live ? -ENOMEM : -EINVAL;
	}
	c->start_ns = now - st->age_ns;
	c->handed = true; /* until relay_resume: the sockets are not ours yet */
	atomic_store(&c->fd[LEG_SERVER], st->fd[LEG_SERVER]);
	for (int dir = 0; dir < 2; dir++) {
		atomic_store(&c->bytes[dir], st->bytes[dir]);
		c->eof[dir] = st->eof[dir];
		c->held[dir] = st->pipe[dir];
		if (st->eof[dir])
			atomic_store(&c->dir_state[dir], DIR_DONE);
	}
	atomic_store(&c->dirs_done, (unsigned int)(2 - live));
	/* undialed: one thread dials, then starts the other (c2s_thread) */
	atomic_store(&c->refs, st->fd[LEG_SERVER] < 0 ? 1 : live);
	stats_set(PC_ACTIVE, atomic_fetch_add(&relay.active, 1) + 1);
	imported.c[imported.n++] = c;
	return 0;
}

/* ---- start and stop --------------------------------------------------------- */

void relay_init(const struct relay_params *p)
{
	relay.p = p;
	relay.dial = (struct dial_ctx){ .cfg = p->cfg, .table = p->table,
					.cancel = &relay.stopping, .pause = &relay.pause };
	pipes_init((size_t)p->cfg->pipe_size);
	workers_init(&relay_hooks);
	/* the pause signal only interrupts: no SA_RESTART */
	sigaction(RELAY_PAUSE_SIGNAL, &(struct sigaction){ .sa_handler = pause_handler }, NULL);
}

unsigned int relay_active(void)
{
	return atomic_load(&relay.active);
}

bool relay_stopping(void)
{
	return atomic_load(&relay.stopping);
}

void relay_wait_released(uint64_t wait_ns)
{
	uint64_t deadline = pepsal_now_ns() + wait_ns;
	struct timespec ts = { 0, 1000000 };

	while (atomic_load(&relay.active) && pepsal_now_ns() < deadline)
		nanosleep(&ts, NULL);
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
	return true;
}
