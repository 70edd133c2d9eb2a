/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NFQUEUE over libmnl: bind a queue with acknowledged configuration, receive
 * packets in batches and answer each with ACCEPT, with or without a mark. */
#ifndef PEPSAL_QUEUER_NFQ_H
#define PEPSAL_QUEUER_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct queuer_nfq_config {
	uint16_t queue;       /* NFQUEUE number */
	uint32_t maxlen;      /* kernel queue length; past it packets bypass (fail-open) */
	uint32_t copy_range;  /* bytes of each packet copied to us */
	uint32_t rcvbuf;      /* netlink socket receive buffer, bytes */
	uint32_t clear_mask;  /* mark bits cleared on packets we accept unasked */
};

/* One queued packet, as the handler sees it. */
struct queuer_pkt {
	uint32_t id;
	uint16_t hw_protocol;  /* ETH_P_IP / ETH_P_IPV6, host order */
	const uint8_t *data;   /* network-layer packet, LEN bytes captured */
	size_t len;
	size_t wire_len;       /* length on the wire */
	uint32_t mark;         /* skb mark on arrival (0 if none) */
	uint64_t queued_ns;    /* timeline only: when the kernel queued it (monotonic) */
	uint64_t read_ns;      /* timeline only: when we read it */
};

/* The handler's answer: ACCEPT (DROP only for a SYN answered otherwise); SET_MARK replaces the mark by MARK.
 * HOLD: no verdict now; the caller gives it later with queuer_nfq_release
 * (only after queuer_nfq_can_hold said yes). */
struct queuer_verdict {
	bool set_mark;
	uint32_t mark;
	bool hold;
	bool drop;   /* NF_DROP: only a held SYN answered with an ICMP error */
};

/* What went wrong inside the netlink layer, for the caller's counters. */
struct queuer_nfq_stats {
	uint64_t enobufs;         /* the socket overflowed: packets bypassed us */
	uint64_t verdict_errors;  /* a verdict could not be sent or was refused */
	uint64_t bad_messages;    /* netlink messages we could not use */
	uint64_t batches;         /* verdict batch messages sent */
	uint64_t full;            /* reads that found the queue at its length */
	uint64_t lost;            /* packets that bypassed us: gaps in the ids (our
				   * socket overflowed; the kernel accepted them) */
	bool more;                /* process() stopped at MAX_READS, not drained */
};

typedef struct queuer_verdict (*queuer_pkt_fn)(void *ctx, const struct queuer_pkt *pkt);

struct queuer_nfq;

/* Open the netlink socket, bind CFG->queue and configure it (copy range,
 * queue length, fail-open and GSO flags), each step acknowledged. */
int queuer_nfq_open(const struct queuer_nfq_config *cfg, struct queuer_nfq **out,
		    char *err, size_t errlen);
int queuer_nfq_fd(const struct queuer_nfq *q);
/* Read what is pending (at most MAX_READS socket reads, without blocking),
 * call FN for every packet and send the verdicts. Returns the number of
 * packets handled, or a negative errno when the socket is unusable. */
int queuer_nfq_process(struct queuer_nfq *q, queuer_pkt_fn fn, void *ctx,
		       unsigned int max_reads, struct queuer_nfq_stats *st);
/* Room for one more held packet? */
bool queuer_nfq_can_hold(const struct queuer_nfq *q);
/* Give the verdict of the held packet ID (sent by the next flush). */
void queuer_nfq_release(struct queuer_nfq *q, uint32_t id, struct queuer_verdict v);
/* Send the verdicts collected so far (after releases outside process()). */
void queuer_nfq_flush(struct queuer_nfq *q, struct queuer_nfq_stats *st);
/* Packets held now. */
unsigned int queuer_nfq_held(const struct queuer_nfq *q);

/* Unbind the queue and close the socket; packets still queued, and held
 * ones the caller did not release, are accepted unmarked first. */
void queuer_nfq_close(struct queuer_nfq *q);

#endif
