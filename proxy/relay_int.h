/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the relay, not for other modules: what relay.c (the connections'
 * threads, each direction pausing itself when asked) and relay_pause.c
 * (asking them to pause, and the hand-over's outcome) share.
 */
#ifndef PEPSAL_PROXY_RELAY_INT_H
#define PEPSAL_PROXY_RELAY_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "conn.h"

enum relay_outcome { OUTCOME_NONE, OUTCOME_RESUME, OUTCOME_RELEASE };

struct relay_pause_state {
	atomic_bool pause;            /* asked: directions stop where they are */
	pthread_mutex_t pause_lock;   /* RUN/DONE changes and the pause signals */
	pthread_mutex_t outcome_lock; /* the paused threads' wait */
	pthread_cond_t pause_cond;
	enum relay_outcome outcome;   /* of the last pause */
	unsigned int pause_round;     /* bumped by each outcome */
};

/* relay.c: the state, and what relay_pause.c calls (never the reverse) */
extern struct relay_pause_state relay_pause;
void relay_conn_abort(struct conn *c);
void relay_conn_put(struct conn *c);
void relay_c2s_thread(void *arg);          /* dial, then relay */
void relay_c2s_resumed_thread(void *arg);  /* relay (already dialed) */
void relay_s2c_thread(void *arg);
/* Both of C's sockets non-blocking, as the pump wants them; 0 or -errno. */
int relay_sockets_nonblock(struct conn *c);
/* One more connection held (an imported one). */
void relay_count_held(void);

#endif
