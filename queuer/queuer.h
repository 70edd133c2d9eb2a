/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The queuer's state and its two halves: decide.c (packet -> table entry
 * and verdict, counters) and main.c (options, setup, event loop). */
#ifndef PEPSAL_QUEUER_H
#define PEPSAL_QUEUER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nfq.h"
#include "parse.h"
#include "pepsal_catalog.h"
#include "pepsal_counters.h"
#include "pepsal_opts.h"
#include "pepsal_table.h"

/* Every outcome the queuer counts: names, kinds and meanings in
 * include/pepsal_catalog.h ("queuer.<name>"). */
enum queuer_counter {
	PEPSAL_QUEUER_COUNTERS(PEPSAL_CATALOG_ENUM)
	QC_COUNT,
};

struct queuer_hold;

struct queuer {
	struct pepsal_table *table;
	struct queuer_nfq *nfq;       /* for the verdicts of held SYNs */
	struct queuer_hold *hold;     /* NULL: accept-first (no --notify-fd) */
	ino_t table_ino;              /* inode of the segment we mapped */
	bool table_gone;              /* its name was removed (warned once) */
	uint32_t queue;               /* our NFQUEUE number */
	int queue_slot;               /* our queue's slot in the table */
	struct pepsal_mark mark;      /* set on recorded SYNs; other bits kept */
	uint64_t proxy_timeout_ns;    /* proxy heartbeat older than this: proxy down */
	uint32_t address_share;       /* one client address: at most 1/N of the table */
	uint32_t address_limit;       /* pending entries per address, from the share */
	struct pepsal_counters counters; /* "queuer.<name>" in the table */
	uint64_t counts[QC_COUNT];    /* not yet added to the table */
};

/* table.c: attach (or with CREATE create) NAME and claim the queuer role;
 * reports its errors. */
int queuer_table_open(struct queuer *qr, const char *name, bool create, uint32_t capacity);
/* Once a second: move to a new segment if NAME was replaced. */
void queuer_table_follow(struct queuer *qr);
/* Flush counters, release the role, detach. */
void queuer_table_close(struct queuer *qr);

/* Pending entries one client address may hold in QR's table (--address-share). */
void queuer_address_limit(struct queuer *qr);
/* Register the counters in the table; warns (once) if some do not fit. */
void queuer_counters_register(struct queuer *qr);
/* Add the local counts to the table and zero them. */
void queuer_counters_flush(struct queuer *qr, const struct queuer_nfq_stats *st);
/* The packet handler given to queuer_nfq_process (CTX is the struct queuer). */
struct queuer_verdict queuer_decide(void *ctx, const struct queuer_pkt *pkt);

/* icmp.c: raw sockets for answering held SYNs with an ICMP error. */
int queuer_icmp_init(void);
void queuer_icmp_fini(void);
int queuer_icmp_send(int family, const uint8_t *pkt, size_t len, const uint8_t *from,
		     uint8_t type, uint8_t code);

/* hold.c: SYNs held until the proxy's dial answered (--notify-fd FD). */
int queuer_hold_init(struct queuer *qr, int fd, uint64_t hold_ns, uint32_t max);
/* The channel to poll for answers, -1: none. */
int queuer_hold_fd(const struct queuer *qr);
/* A SYN of a connection held or decided already: true and *V (a hold or
 * the decided verdict). */
bool queuer_hold_known(struct queuer *qr, const struct queuer_pkt *pkt,
		       const struct queuer_parsed *p, struct queuer_verdict *v);
/* Holding is on and as many SYNs are held as allowed (--hold-max, the
 * kernel queue's room): a new SYN passes unmarked. */
bool queuer_hold_full(struct queuer *qr);
/* Hold the SYN just recorded in SLOT and ask the proxy to dial: false when
 * it cannot be held (then the caller marks it, accept-first). */
bool queuer_hold_start(struct queuer *qr, const struct queuer_pkt *pkt,
		       const struct queuer_parsed *p, int slot, uint64_t now);
/* Send the dial requests of the SYNs held since; true if some wait for the
 * channel to be writable. */
bool queuer_hold_flush(struct queuer *qr);
/* The channel is readable: give the answered SYNs their verdicts. */
void queuer_hold_input(struct queuer *qr);
/* End holds past --hold-time (unmarked), forget old tombstones; returns
 * ms until the next hold ends, or -1. */
int queuer_hold_expire(struct queuer *qr, uint64_t now);
/* Accept every held SYN unmarked (stopping). */
void queuer_hold_release_all(struct queuer *qr);
void queuer_hold_fini(struct queuer *qr);

#endif
