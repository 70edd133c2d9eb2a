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

struct pump {
	struct conn *c;               /* counts bytes, activity, the abort flag */
	enum pepsal_dir dir;
	int in, out;                  /* non-blocking sockets */
	uint64_t idle_ns;             /* --idle-timeout, 0: none */
	struct pepsal_table *table;   /* the entry's byte counters */
};

/* Relay until EOF on the input (0) or an error (-errno; -ETIMEDOUT: the
 * whole connection was idle for idle_ns, -ECONNABORTED: aborted). */
int pump_run(const struct pump *p);

#endif
