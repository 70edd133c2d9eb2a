/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's splice pipes. Each relay thread keeps one pipe from one
 * connection to the next (workers.c reuses threads), so a connection costs
 * no pipe2() and no F_SETPIPE_SZ. A pipe is kept only while empty: after an
 * error that may have left bytes in it, it is dropped. A parked thread keeps
 * its pipe only within a budget its caller computes (the descriptors
 * reserved for connections not being served now).
 */
#ifndef PEPSAL_PROXY_PIPES_H
#define PEPSAL_PROXY_PIPES_H

#include <stdbool.h>
#include <stddef.h>

struct relay_pipe {
	int fd[2];      /* read end, write end; -1: none */
	size_t size;    /* its capacity: the splice chunk */
	bool parked;    /* counted among the parked pipes */
};

#define RELAY_PIPE_INIT { { -1, -1 }, 0, false }

/* Pipes are made WANT bytes large where the kernel allows. */
void pipes_init(size_t want);
/* Make P's pipe if it has none; false if none can be made. */
bool pipe_ready(struct relay_pipe *p);
void pipe_drop(struct relay_pipe *p);
/* P's thread parks: P is kept if fewer than BUDGET pipes are parked. */
void pipe_park(struct relay_pipe *p, unsigned int budget);
/* P's thread has work again. */
void pipe_unpark(struct relay_pipe *p);
/* How many pipes parked threads keep. */
unsigned int pipes_parked(void);
/* Pipes that got less than was asked (the kernel's per-user pipe limit). */
unsigned long pipes_small(void);

#endif
