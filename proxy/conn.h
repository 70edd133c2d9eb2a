/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One relayed connection, shared by its two relay threads (relay.c), and
 * the set of live connections: for shutdown and the connection log.
 */
#ifndef PEPSAL_PROXY_CONN_H
#define PEPSAL_PROXY_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "pepsal_endpoint.h"
#include "pepsal_table.h"
#include "pipes.h"

/* Where one direction's thread is (relay.c; for the hand-over). */
enum conn_dir_state {
	DIR_IDLE = 0,     /* no thread yet (dialing), or none since an import */
	DIR_RUN,          /* its thread is in relay_dir: th[dir] is valid */
	DIR_PAUSED,       /* its thread waits for the hand-over's outcome */
	DIR_DONE,         /* EOF passed on, or the connection ended */
};

struct conn {
	struct conn *prev, *next;     /* the live set (conn.c only) */
	bool listed;                  /* in the live set (conn.c only) */
	_Atomic int fd[2];            /* indexed by enum proxy_leg; -1: none yet */
	struct pepsal_endpoint client; /* the client as the proxy sees it */
	struct pepsal_endpoint dst;   /* original destination */
	uint32_t slot, gen;           /* its table entry */
	atomic_int refs;              /* threads still using it */
	atomic_bool aborted;          /* reset: both sides were aborted */
	atomic_uint dirs_done;        /* directions that saw EOF */
	_Atomic uint64_t bytes[2];    /* indexed by enum pepsal_dir */
	_Atomic uint64_t last_ns;     /* last activity, for --idle-timeout */
	uint64_t start_ns;            /* accept time */
	/* the hand-over (relay.c, under its pause lock) */
	pthread_t th[2];              /* indexed by enum pepsal_dir */
	_Atomic int dir_state[2];     /* enum conn_dir_state */
	bool eof[2];                  /* this direction's EOF was passed on */
	bool fin_in[2];               /* its input ends with its queue (relay.h) */
	bool handed;                  /* another process took it: close quietly */
	bool client_ready;            /* accepted from our listener: the client leg's
				       * options inherited, non-blocking already */
	struct relay_pipe *held[2];   /* a paused direction's pipe with its bytes, or NULL */
};

/* A new connection of CLIENT_FD for ENTRY, in the live set (one ref). */
struct conn *conn_new(int client_fd, const struct pepsal_entry_view *entry, uint64_t now_ns);
/* Out of the live set: nobody else (shutdown's abort, the log) looks at C
 * from now on, so its descriptors may be closed. */
void conn_unlist(struct conn *c);
/* Out of the live set (if still in it) and freed; its descriptors are the
 * caller's. */
void conn_free(struct conn *c);
/* Abort both sockets of C (RST to both peers, wakes its threads). */
void conn_abort_sockets(struct conn *c);
/* Mark every live connection aborted and abort its sockets (shutdown). */
void conns_abort_all(void);
/* Call FN(C, ARG) for every live connection, under the set's lock (FN
 * must not free a connection). */
void conns_for_each(void (*fn)(struct conn *c, void *arg), void *arg);
/* Write the live set to F, one line each; the set's lock is not held
 * while writing, and conn_new (the accept path) never takes it. */
void conns_dump(FILE *f, uint64_t now_ns);

#endif
