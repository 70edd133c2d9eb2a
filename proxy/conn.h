/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One relayed connection, shared by its two relay threads (relay.c), and
 * the set of live connections: for shutdown and the connection log.
 */
#ifndef PEPSAL_PROXY_CONN_H
#define PEPSAL_PROXY_CONN_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "pepsal_endpoint.h"
#include "pepsal_table.h"

struct conn {
	struct conn *prev, *next;     /* the live set (conn.c only) */
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
};

/* A new connection of CLIENT_FD for ENTRY, in the live set (one ref). */
struct conn *conn_new(int client_fd, const struct pepsal_entry_view *entry, uint64_t now_ns);
/* Out of the live set and freed; its descriptors are the caller's. */
void conn_free(struct conn *c);
/* Abort both sockets of C (RST to both peers, wakes its threads). */
void conn_abort_sockets(struct conn *c);
/* Mark every live connection aborted and abort its sockets (shutdown). */
void conns_abort_all(void);
/* Write the live set to F, one line each; the set's lock is not held
 * while writing, and conn_new (the accept path) never takes it. */
void conns_dump(FILE *f, uint64_t now_ns);

#endif
