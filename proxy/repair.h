/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A TCP socket's state through TCP_REPAIR (CAP_NET_ADMIN): dumped on one
 * box, restored on another with the same sequence numbers, windows,
 * options, timestamps and queues, so that the peer never notices. An
 * ESTABLISHED socket moves, and one in CLOSE_WAIT (its peer's FIN came):
 * restored ESTABLISHED without the FIN, which the caller remembers (the
 * relay's input ends with what its queue holds); one that sent its FIN
 * (FIN_WAIT1/2) is restored ESTABLISHED and sends it again after its data.
 * Both FINs (LAST_ACK, CLOSING...) do not move.
 */
#ifndef PEPSAL_PROXY_REPAIR_H
#define PEPSAL_PROXY_REPAIR_H

#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pepsal_endpoint.h"

/* What a socket is made of, without its queues' bytes (on the wire of the
 * switchover as it is: both ends are one build, migrate.c's version). */
struct repair_state {
	struct pepsal_endpoint local, remote;
	uint32_t snd_seq;          /* write_seq: after the last byte queued */
	uint32_t rcv_seq;          /* rcv_nxt: after the last byte received */
	uint32_t outq_len;         /* sent and unacknowledged, then unsent */
	uint32_t unsent_len;       /* of which never sent */
	uint32_t inq_len;          /* received, not read yet */
	uint32_t mss;
	uint32_t tsval;            /* TCP_TIMESTAMP: the peer sees no jump */
	uint32_t sndbuf, rcvbuf;   /* SO_SNDBUF/SO_RCVBUF as getsockopt says */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t timestamps, sack, wscale;
	uint8_t fin_in;            /* CLOSE_WAIT: the peer's FIN came (rcv_seq
				    * excludes it; restored ESTABLISHED) */
	uint8_t fin_out;           /* FIN_WAIT1/2: ours was queued (snd_seq and
				    * the queue lengths exclude it; sent again
				    * by repair_finish after the data) */
	uint8_t pad[1];
	struct tcp_repair_window win;
};

/* Put FD in repair mode (it stays so: closing it then sends nothing) and
 * read its state and queues: *OUTQ (outq_len bytes) and *INQ (inq_len),
 * malloc'ed. LOCAL overrides the socket's own address (NULL: its own).
 * 0 or -errno with ERR; on error FD is back out of repair mode. */
int repair_dump(int fd, const struct pepsal_endpoint *local, struct repair_state *st,
		char **outq, char **inq, char *err, size_t errlen);
/* Leave repair mode on a dumped socket that stays here, without a window
 * probe (nothing changed for the peer). */
void repair_cancel(int fd);

/* A new socket in repair mode with ST's state and all of its queues but
 * the unsent part (written by repair_finish), bound transparently to
 * ST->local and connected to ST->remote without a handshake. SNDBUF and
 * RCVBUF: at least what the queues need. The fd, or -errno with ERR. */
int repair_restore(const struct repair_state *st, const char *outq, const char *inq,
		   char *err, size_t errlen);
/* Out of repair mode (a window probe tells the peer we are here), then
 * the unsent bytes queued as any write, then our FIN again if the socket
 * had sent it (FIN). 0 or -errno. */
int repair_finish(int fd, const char *unsent, size_t len, bool fin);
/* Send a window probe on a live restored socket FD that nobody else uses
 * now (the peer answers with an ACK: the path is known again). */
void repair_probe(int fd);

#endif
