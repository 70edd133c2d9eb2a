/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pepsal-linkem: a satellite link emulator for tests. Packets forwarded
 * through its namespace are queued to user space by NFQUEUE (one queue per
 * direction); it drops some by a loss model and holds the verdict of the
 * rest for the one-way delay. Rate and bottleneck buffer are tbf qdiscs on
 * the egress veths (set up by tests/sat/satlink.sh).
 */
#ifndef PEPSAL_LINKEM_H
#define PEPSAL_LINKEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- loss.c: random numbers and loss models ---------------------------- */

/* Gilbert-Elliott: a two-state Markov chain evaluated once per packet. */
struct loss_model {
	double p_random;   /* Bernoulli loss probability (0: none) */
	bool ge;           /* Gilbert-Elliott model enabled */
	double ge_p;       /* P(good -> bad) per packet */
	double ge_r;       /* P(bad -> good) per packet */
	double ge_loss_bad;  /* loss probability in the bad state */
	double ge_loss_good; /* loss probability in the good state */
	bool bad;          /* current state of the chain */
	uint64_t rng;      /* xorshift64* state, never 0 */
};

void loss_seed(struct loss_model *m, uint64_t seed);
/* True if the next packet is lost. */
bool loss_next(struct loss_model *m);
/* Parse "PCT" (0..100, decimals allowed) into a probability. */
bool loss_parse_percent(const char *s, double *p);
/* Parse "P,R[,LOSS_BAD[,LOSS_GOOD]]" (percentages) into M's GE fields. */
bool loss_parse_ge(const char *s, struct loss_model *m, char *err, size_t errlen);

/* ---- fifo.c: packets waiting for their release time -------------------- */

struct held {
	uint32_t id;          /* NFQUEUE packet id */
	uint64_t release_ns;  /* CLOCK_MONOTONIC time of the ACCEPT verdict */
};

struct fifo {
	struct held *slot;  /* ring of CAP entries */
	uint32_t cap;       /* power of two */
	uint32_t head;      /* next to release */
	uint32_t len;       /* entries held */
};

int fifo_init(struct fifo *f, uint32_t cap);
void fifo_free(struct fifo *f);
/* 0, or -ENOSPC when full. */
int fifo_push(struct fifo *f, uint32_t id, uint64_t release_ns);
/* Pop every entry due at NOW; returns how many, *LAST_ID the newest popped,
 * adds how late each was (NOW - release time) to *LATE_NS. */
uint32_t fifo_pop_due(struct fifo *f, uint64_t now, uint32_t *last_id, uint64_t *late_ns);
/* Release time of the oldest entry, or UINT64_MAX when empty. */
uint64_t fifo_next(const struct fifo *f);

/* ---- nfq.c: the NFQUEUE netlink socket ---------------------------------- */

struct lq;
/* Called for every queued packet: QUEUE is its queue number. */
typedef void (*lq_packet_cb)(void *ctx, uint16_t queue, uint32_t id);

int lq_open(struct lq **out, uint32_t rcvbuf, char *err, size_t errlen);
void lq_close(struct lq *q);
int lq_fd(const struct lq *q);
/* Bind QUEUE with metadata-only copies and a queue length of MAXLEN. */
int lq_bind(struct lq *q, uint16_t queue, uint32_t maxlen, char *err, size_t errlen);
/* Read every pending message without blocking; calls CB per packet.
 * Returns the number of packets, or a negative errno. */
int lq_drain(struct lq *q, lq_packet_cb cb, void *ctx);
/* Verdict on one packet (NF_ACCEPT or NF_DROP). */
int lq_verdict(struct lq *q, uint16_t queue, uint32_t id, int verdict);
/* ACCEPT every packet of QUEUE up to and including MAX_ID. */
int lq_accept_upto(struct lq *q, uint16_t queue, uint32_t max_id);

#endif
