/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay: one pair of threads per connection, one per direction, as in
 * the original PEPsal. It owns the connections it is given from accept to
 * close, and the threads (workers.c) they run on.
 */
#ifndef PEPSAL_PROXY_RELAY_H
#define PEPSAL_PROXY_RELAY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "pepsal_table.h"
#include "pipes.h"

/* Sent to a relay thread to interrupt it when a pause is asked. */
#define RELAY_PAUSE_SIGNAL (SIGRTMIN + 2)

struct dial_ctx;

struct relay_params {
	const struct proxy_config *cfg;  /* legs, timeouts, -c, pipes */
	struct pepsal_table *table;      /* entries of the connections */
	unsigned int pipes_max;          /* splice pipes at most, busy or idle */
	/* the upstream leg of a connection not dialed yet (dial_upstream_tos's
	 * contract); NULL: dial_upstream_tos, the server itself */
	int (*upstream)(const struct dial_ctx *d, const struct pepsal_endpoint *client,
			const struct pepsal_endpoint *dst, int tos);
};

/* P is kept by pointer. */
void relay_init(const struct relay_params *p);
/* Take over an accepted client socket whose entry is claimed: start the
 * thread pair (dial, then relay). 0 or -errno (then the caller resets the
 * client and frees the entry). */
int relay_start(int client_fd, const struct pepsal_entry_view *entry);
/* The same with the upstream connection made already (a held SYN's dial,
 * predial.c): SERVER_FD is the relay's from here on, even on failure. */
int relay_start_dialed(int client_fd, int server_fd, const struct pepsal_entry_view *entry);
/* The same for a client socket accepted from the listener (listener.c):
 * CLIENT_READY, it has the client leg's options (inherited from the
 * listener) and O_NONBLOCK, and none is set again. */
int relay_start_accepted(int client_fd, int server_fd, const struct pepsal_entry_view *entry,
			 bool client_ready);
/* Publish again the room left for new connections (timers: a shortage of
 * threads or memory ends, or a republication the queuer may have missed). */
void relay_publish_room(void);
/* Threads, memory or descriptors ran out: no room for a second. */
void relay_resources_short(void);
/* Connections held now. */
unsigned int relay_active(void);
/* relay_fini has begun: no new connection is wanted. */
bool relay_stopping(void);
/* ---- the hand-over to another process (upgrade.c) ----
 * relay_quiesce pauses every direction at a chunk boundary or inside a
 * write, no byte lost: what a direction read and has not written stays in
 * its pipe. relay_export describes the paused connections; then either
 * relay_resume (they go on here) or relay_release (they are another
 * process's: this one closes its copies of the descriptors quietly and
 * touches neither the sockets nor their table entries). The caller must not
 * start connections meanwhile (the main loop does not accept). */

/* What a connection is made of, to hand it over. */
struct relay_conn_state {
	int fd[2];                 /* indexed by enum proxy_leg */
	struct relay_pipe pipe[2]; /* per enum pepsal_dir: a pipe with bytes in
				    * flight, written out first; or none (-1) */
	bool eof[2];               /* per direction: its EOF was passed on */
	bool fin_in[2];            /* per direction: its input socket's FIN came
				    * (a moved socket): EOF once its queue is read */
	uint64_t bytes[2];         /* relayed so far */
	uint32_t slot, gen;        /* the table entry */
	struct pepsal_endpoint client, dst;
	uint64_t age_ns;           /* since accept */
};

/* Pause every direction; 0, or -ETIMEDOUT after WAIT_NS (some direction
 * did not pause, e.g. a dial in progress: relay_resume then). */
int relay_quiesce(uint64_t wait_ns);
/* After relay_quiesce: the paused connections into a malloc'ed *OUT (the
 * descriptors stay ours until relay_release); returns how many or -errno. */
int relay_export(struct relay_conn_state **out);
void relay_resume(void);
void relay_release(void);
/* The importing side: about N connections are coming, their threads are
 * started now (0: back to the usual number of parked threads). */
void relay_expect(unsigned int n);
/* Take over a connection another process exported. ST's descriptors are
 * ours whatever happens. Nothing is read or written until relay_resume
 * (then its threads start: it is ours) or relay_release (the hand-over
 * failed: it is let go of quietly). 0 or -errno (then the hand-over must
 * fail). */
int relay_import(const struct relay_conn_state *st);

/* After relay_release: wait at most WAIT_NS for the threads to let go of
 * the released connections (nothing is aborted). */
void relay_wait_released(uint64_t wait_ns);

/* Stop: abort every connection, wait at most WAIT_NS for their threads to
 * let go of them. True if none is left (the table may go), false if some
 * thread still holds one (leave the table mapped until exit). */
bool relay_fini(uint64_t wait_ns);

#endif
