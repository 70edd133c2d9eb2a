/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the switchover (migrate.c the giver, migrate_in.c the taker): the
 * messages between the two boxes and how they travel (migrate_wire.c).
 * Both boxes run one build: records are native-endian, a change of them is
 * a change of MIGRATE_VERSION.
 */
#ifndef PEPSAL_PROXY_MIGRATE_INT_H
#define PEPSAL_PROXY_MIGRATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "migrate.h"
#include "pepsal_endpoint.h"
#include "repair.h"

#define MAGIC 0x50484131u      /* "PHA1" */
#define MIGRATE_VERSION 1
#define STEP_MS 10000          /* each answer of the other box */
#define QUIESCE_NS 2000000000ull /* every direction paused within */

enum { M_HELLO = 1, M_ACK, M_CONN, M_END, M_READY, M_GO, M_NAK };

struct msg_hdr {
	uint32_t magic, version, type, len;
};

struct m_hello {
	uint32_t nconns;
	uint32_t pad;
};

/* One connection; its bytes follow: sock[0] outq, inq, sock[1] outq,
 * inq, pipe[0], pipe[1]. */
struct m_conn {
	struct pepsal_endpoint client, dst;
	uint64_t bytes[2], age_ns;
	uint32_t pipe_len[2];
	uint8_t has_server;
	uint8_t eof[2];            /* per direction: its EOF was passed on */
	uint8_t pad[5];
	struct repair_state sock[2];
};

int mw_write_all(int fd, const void *buf, size_t len);
/* LEN bytes within TIMEOUT_MS of each other; -ETIMEDOUT, -ECONNRESET */
int mw_read_all(int fd, void *buf, size_t len, int timeout_ms);
/* One message: the header, then A and B (either may be empty). */
int mw_send(int fd, uint32_t type, const void *a, size_t alen, const void *b, size_t blen);
/* A message of type WANT into a malloc'ed *BODY (*LEN bytes); a NAK's
 * reason, or what went wrong, into ERR. */
int mw_recv(int fd, uint32_t want, char **body, uint32_t *len, char *err, size_t errlen);
void mw_nak(int fd, const char *why);

/* migrate_in.c: the taker's side, started by migrate_init */
int migrate_in_init(const struct migrate_params *p, char *err, size_t errlen);
void migrate_in_fini(void);

#endif
