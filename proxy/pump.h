/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One direction of a relayed connection: bytes from one socket to the
 * other through a pipe with splice(), or read()/write() where splice is
 * refused. Each chunk is written out before the next read, so at EOF
 * everything read has been delivered.
 */
#ifndef PEPSAL_PROXY_PUMP_H
#define PEPSAL_PROXY_PUMP_H

#include <stdint.h>

#include "conn.h"
#include "pipes.h"

struct pump {
	struct conn *c;               /* counts bytes, activity, the abort flag */
	enum pepsal_dir dir;
	int in, out;
	struct relay_pipe *pipe;      /* the thread's pipe, made when data comes */
	uint64_t idle_ns;             /* --idle-timeout, 0: none */
	struct pepsal_table *table;   /* the entry's byte counters */
	/* the hand-over: bytes already in the pipe, written out first (a
	 * paused or imported direction), and the pause request (NULL: none) */
	size_t pending;
	const atomic_bool *pause;
};

/* Relay until EOF on the input (0) or an error (-errno; -ETIME: the
 * whole connection was idle for idle_ns, -ECONNABORTED: aborted).
 * -EINTR: paused (*pause set and the thread interrupted by a signal): no
 * byte is lost, those still in the pipe stay there (FIONREAD tells how
 * many) and the pipe is kept. */
int pump_run(const struct pump *p);

#endif
