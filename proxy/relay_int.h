/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the relay, not for other modules: what relay.c (the connections'
 * threads, each direction pausing itself when asked) and relay_pause.c
 * (asking them to pause, and the hand-over's outcome) share.
 */
#ifndef PEPSAL_PROXY_RELAY_INT_H
#define PEPSAL_PROXY_RELAY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"

enum relay_outcome { OUTCOME_NONE, OUTCOME_RESUME, OUTCOME_RELEASE };

/* relay.c: what relay_pause.c calls (never the reverse). The pause state
 * (the flag the directions look at, their wait for the outcome) is
 * relay.c's; these are the controller's side of it. */
/* Ask every direction to pause: the flag each looks at (the controller
 * signals them out of their waits). */
void relay_pause_begin(void);
/* Until PAUSED(ARG), called under the lock of the directions' states, is
 * true, or UNTIL_NS; a change of a direction's state during the pause has
 * it called again (changes that come while it runs, once for all). Returns
 * its last answer. */
bool relay_pause_wait(bool (*paused)(void *arg), void *arg, uint64_t until_ns);
/* The pause is over: the paused directions resume (OUTCOME_RESUME) or end
 * quietly (OUTCOME_RELEASE). */
void relay_pause_end(enum relay_outcome outcome);

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
