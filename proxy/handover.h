/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hand-over format: what an old pepsal tells the new one it started
 * (upgrade.c) over a unix socket (SOCK_SEQPACKET), descriptors passed with
 * SCM_RIGHTS. Every message starts with a header carrying the magic and the
 * format version; a reader that does not know the version says so (NAK)
 * and the old process keeps everything.
 *
 *   new -> old  HELLO    its pid and build; sent once it can take over
 *   old -> new  OFFER    listeners (fds), about how many connections, table
 *   new -> old  ACK      the offer is readable, threads are ready
 *               (the old process pauses its connections)
 *   old -> new  BEGIN    how many connections exactly
 *   old -> new  CONNS    a batch of connections with their fds
 *   new -> old  ACK      after each batch (fds in flight stay bounded)
 *   new -> old  READY    everything received, nothing started yet
 *   old -> new  GO       commit: the old closes its copies, the new starts
 *   old -> new  QUEUER_GONE  the old queuer stopped: the new may start one
 *   either      NAK      a reason; the hand-over is off
 */
#ifndef PEPSAL_PROXY_HANDOVER_H
#define PEPSAL_PROXY_HANDOVER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "relay.h"

#define HANDOVER_VERSION 1
#define HANDOVER_MAX_FDS 253    /* SCM_MAX_FD */

enum handover_type {
	HO_HELLO = 1,
	HO_OFFER,
	HO_ACK,
	HO_CONNS,
	HO_READY,
	HO_GO,
	HO_QUEUER_GONE,
	HO_NAK,
	HO_BEGIN,
};

struct handover_hello {
	uint32_t pid;
	char build[32];             /* PEPSAL_VERSION */
};

struct handover_begin {
	uint32_t nconns;            /* in the CONNS batches that follow */
	uint32_t pad;
};

struct handover_offer {
	uint32_t pid;
	uint32_t nlisteners;        /* the fds of the message */
	uint32_t nconns;            /* about how many connections (BEGIN says) */
	char build[32];
	char table[NAME_MAX + 2];
};

/* Send a message of TYPE with LEN bytes of PAYLOAD and NFDS descriptors.
 * 0 or -errno. */
int handover_send(int sock, uint32_t type, const void *payload, size_t len,
		  const int *fds, unsigned int nfds);
/* Send a NAK with a reason (best effort). */
void handover_nak(int sock, const char *reason);
/* Receive a message of type WANT within TIMEOUT_MS: its payload (exactly
 * LEN bytes, or a multiple of LEN for CONNS: *GOT says how many bytes) and
 * up to MAXFDS descriptors (close-on-exec) into FDS, *NFDS of them. 0, or
 * -errno with ERR saying why (-ETIMEDOUT: nothing yet, -ECONNRESET: the
 * peer went away, -EPROTO: NAK or unreadable; descriptors that came with a
 * bad message are closed). */
int handover_recv(int sock, uint32_t want, void *payload, size_t len, size_t *got,
		  int *fds, unsigned int maxfds, unsigned int *nfds, int timeout_ms,
		  char *err, size_t errlen);

/* The connections, in batches of at most HANDOVER_MAX_FDS descriptors,
 * each acknowledged. The sender's descriptors stay its own. */
int handover_send_conns(int sock, const struct relay_conn_state *st, unsigned int n,
			int timeout_ms, char *err, size_t errlen);
/* Receive N connections into ST (descriptors ours; on error none is left
 * open). */
int handover_recv_conns(int sock, struct relay_conn_state *st, unsigned int n,
			int timeout_ms, char *err, size_t errlen);
/* Close the descriptors of N states. */
void handover_close_conns(struct relay_conn_state *st, unsigned int n);

#endif
