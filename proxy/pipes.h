/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's splice pipes: one pool for the whole proxy. A direction takes
 * a pipe for a burst (its input readable), splices until the input has
 * nothing more, drains the pipe into the output and gives the pipe back
 * empty; an idle connection holds no pipe. A pipe that may still hold bytes
 * (an error on the way out) is closed, never pooled. One cap bounds every
 * pipe, busy or idle, so the pool's descriptors are known in advance
 * (limits.c budgets them).
 */
#ifndef PEPSAL_PROXY_PIPES_H
#define PEPSAL_PROXY_PIPES_H

#include <stdbool.h>
#include <stddef.h>

struct relay_pipe {
	int fd[2];                /* read end, write end (-1: none, in a copy) */
	size_t size;              /* its capacity: the splice chunk */
	struct relay_pipe *next;  /* in the pool of idle pipes */
};

/* No pipe, in a copy (the hand-over's description of a connection). */
#define RELAY_PIPE_INIT { { -1, -1 }, 0, NULL }

/* Pipes are made WANT bytes large where the kernel allows (0: 64 KiB);
 * at most MAX pipes exist at once, busy or idle (0: none, always copy).
 * Idle pipes already pooled are closed. */
void pipes_init(size_t want, unsigned int max);
/* An empty pipe for a burst: an idle one, else a new one. NULL when MAX
 * pipes exist or the kernel refuses one (the caller copies instead). */
struct relay_pipe *pipe_get(void);
/* Give back P, empty (closed instead while more than MAX exist). */
void pipe_put(struct relay_pipe *p);
/* A pipe of another process's with bytes in flight (the hand-over): FD and
 * SIZE become a pipe of the pool's, counted even beyond MAX; NULL (FD
 * closed) without memory. */
struct relay_pipe *pipe_adopt(const int fd[2], size_t size);
/* Close P, which may hold bytes. */
void pipe_discard(struct relay_pipe *p);
/* Close the idle pipes (shutdown). */
void pipes_fini(void);

struct pipes_stats {
	unsigned int total;     /* pipes that exist, busy or idle */
	unsigned int idle;      /* of which in the pool */
	unsigned int max;       /* the cap */
	unsigned long denied;   /* pipe_get answered NULL: cap reached or refused */
	unsigned long small;    /* pipes smaller than asked (per-user pipe limit) */
};

void pipes_stats(struct pipes_stats *s);

#endif
