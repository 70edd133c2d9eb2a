/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One direction of a relayed connection: bytes from one socket to the
 * other, burst by burst. Both sockets are non-blocking. A burst begins when
 * the input is readable: a pipe is taken from the pool (pipes.c), filled
 * with splice() and drained into the output until the input has nothing
 * more, then given back empty, so an idle direction holds no pipe. Without
 * a pipe (the pool's cap, or a socket splice refuses) the burst is copied
 * with read()/write(). Each chunk is written out before the next read, so
 * at EOF everything read has been delivered.
 */
#ifndef PEPSAL_PROXY_PUMP_H
#define PEPSAL_PROXY_PUMP_H

#include <stdint.h>

#include "conn.h"
#include "pipes.h"

struct pump {
	struct conn *c;               /* counts bytes, activity, the abort flag */
	enum pepsal_dir dir;
	int in, out;                  /* non-blocking sockets */
	uint64_t idle_ns;             /* --idle-timeout, 0: none */
	struct pepsal_table *table;   /* the entry's byte counters */
	/* the hand-over: a pipe with PENDING bytes in flight, written out
	 * first (a paused or imported direction; NULL: none), and the pause
	 * request (NULL: none) */
	struct relay_pipe *pipe;
	size_t pending;
	const atomic_bool *pause;
	bool copy;                    /* splice refused on this socket: copy */
	bool fin_in;                  /* the input's FIN came already (a moved
				       * socket restored without it): EOF as
				       * soon as its queue is empty */
};

/* Relay until EOF on the input (0) or an error (-errno; -ETIME: the
 * whole connection was idle for idle_ns, -ECONNABORTED: aborted). A pipe
 * given in P->pipe is emptied first and goes back to the pool.
 * -EINTR: paused (*pause set, at a burst's boundary or while the output
 * was full): no byte is lost: P->pipe is the pipe still holding
 * P->pending of them, kept out of the pool, or NULL if none was in
 * flight. A copied burst (no pipe) finishes its writes before it pauses. */
int pump_run(struct pump *p);

#endif
