// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pausing the relay for a hand-over (relay.h, used by upgrade.c): every
 * running direction is signalled out of its blocking call and pauses itself
 * (relay.c: dir_pause) where no byte is lost; the paused connections are
 * described for the other process; the outcome either resumes them or lets
 * go of them. The importing side keeps the connections it receives here,
 * unstarted, until its own outcome.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pepsal_log.h"
#include "relay.h"
#include "relay_int.h"
#include "workers.h"

#define KICK_AGAIN_NS 10000000ull /* a direction not paused yet is signalled again */

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

/* Every direction paused (the relay's states locked)? The running ones
 * are signalled first if KICK asks. */
static bool all_paused(void *arg)
{
	struct scan *sc = arg;

	sc->waiting = 0;
	conns_for_each(scan_pause, sc);
	sc->kick = false;
	return !sc->waiting;
}

int relay_quiesce(uint64_t wait_ns)
{
	uint64_t deadline = pepsal_now_ns() + wait_ns;
	struct scan sc = { .kick = true };

	relay_pause_begin();
	for (;;) {
		uint64_t until = pepsal_now_ns() + KICK_AGAIN_NS;

		if (relay_pause_wait(all_paused, &sc, until < deadline ? until : deadline))
			return 0;
		if (pepsal_now_ns() >= deadline)
			return -ETIMEDOUT;
		/* one signal each, and again for one that checked the flag just
		 * before it blocked */
		sc.kick = true;
	}
}

void relay_expect(unsigned int n)
{
	workers_reserve(2 * n);
}

/* A held pipe as the hand-over describes it (fd -1: none). */
static struct relay_pipe held_copy(const struct relay_pipe *p)
{
	struct relay_pipe none = RELAY_PIPE_INIT;

	if (!p)
		return none;
	return (struct relay_pipe){ { p->fd[0], p->fd[1] }, p->size, NULL };
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
		.pipe = { held_copy(c->held[0]), held_copy(c->held[1]) },
		.eof = { c->eof[0], c->eof[1] },
		.fin_in = { c->fin_in[0], c->fin_in[1] },
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

static void imported_end(enum relay_outcome outcome);

static void pause_end(enum relay_outcome outcome)
{
	imported_end(outcome);
	if (outcome == OUTCOME_RESUME)
		conns_for_each(unmark, NULL);
	relay_pause_end(outcome);
}

void relay_resume(void)
{
	pause_end(OUTCOME_RESUME);
}

void relay_release(void)
{
	pause_end(OUTCOME_RELEASE);
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
		if ((rc = workers_run(relay_c2s_thread, c))) {
			pr_ratelimited(LOG_WARNING, "cannot start a relay thread: %s", strerror(-rc));
			relay_conn_abort(c);
			relay_conn_put(c);
		}
		return;
	}
	/* the sockets are ours now: as our pump wants them (an older
	 * process may have had them blocking) */
	if ((rc = relay_sockets_nonblock(c))) {
		relay_conn_abort(c);
		atomic_store(&c->refs, 1);
		relay_conn_put(c);
		return;
	}
	if (!c->eof[PEPSAL_DIR_C2S] && (rc = workers_run(relay_c2s_resumed_thread, c))) {
		atomic_fetch_sub(&c->refs, 1);
		atomic_store(&c->dir_state[PEPSAL_DIR_C2S], DIR_DONE);
	}
	if (!c->eof[PEPSAL_DIR_S2C] && (rc || (rc = workers_run(relay_s2c_thread, c)))) {
		atomic_fetch_sub(&c->refs, 1);
		atomic_store(&c->dir_state[PEPSAL_DIR_S2C], DIR_DONE);
	}
	if (rc) {
		/* lost, as a connection whose threads cannot start on accept */
		pr_ratelimited(LOG_WARNING, "cannot start a relay thread: %s", strerror(-rc));
		atomic_fetch_add(&c->refs, 1);
		relay_conn_abort(c);
		relay_conn_put(c);
	}
}

static void imported_end(enum relay_outcome outcome)
{
	for (unsigned int i = 0; i < imported.n; i++) {
		struct conn *c = imported.c[i];

		if (outcome == OUTCOME_RESUME) {
			start_imported(c);
		} else { /* the sockets stay the old process's: close quietly */
			atomic_store(&c->refs, 1);
			relay_conn_put(c);
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
	bool lost = false;

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
			if (st->pipe[dir].fd[0] < 0)
				continue;
			close(st->pipe[dir].fd[0]);
			close(st->pipe[dir].fd[1]);
		}
		return live ? -ENOMEM : -EINVAL;
	}
	c->start_ns = now - st->age_ns;
	c->handed = true; /* until relay_resume: the sockets are not ours yet */
	atomic_store(&c->fd[LEG_SERVER], st->fd[LEG_SERVER]);
	for (int dir = 0; dir < 2; dir++) {
		atomic_store(&c->bytes[dir], st->bytes[dir]);
		c->eof[dir] = st->eof[dir];
		c->fin_in[dir] = st->fin_in[dir];
		/* into the pool's count (and back to it once emptied) */
		if (st->pipe[dir].fd[0] >= 0 &&
		    !(c->held[dir] = pipe_adopt(st->pipe[dir].fd, st->pipe[dir].size)))
			lost = true; /* its bytes: the hand-over must fail */
		if (st->eof[dir])
			atomic_store(&c->dir_state[dir], DIR_DONE);
	}
	atomic_store(&c->dirs_done, (unsigned int)(2 - live));
	/* undialed: one thread dials, then starts the other (relay_c2s_thread) */
	atomic_store(&c->refs, st->fd[LEG_SERVER] < 0 ? 1 : live);
	relay_count_held();
	imported.c[imported.n++] = c;
	return lost ? -ENOMEM : 0; /* listed: let go of with the others */
}
