/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The satellite leg adapts to the link (--client-cc-mode adaptive): a
 * monitor thread reads TCP_INFO of every watched client socket and, when
 * it loses packets without queueing (the loss is not congestion), switches
 * the live socket to the lossy-link congestion control (TCP_CONGESTION)
 * once the loss recovery it started has ended (so that the new algorithm
 * starts from cubic's ssthresh, not from the few segments in flight), and back when the loss clears or turns out to be congestion. The verdict
 * is remembered per client address for a while: a new connection to a
 * client whose link lost packets at random starts on the lossy algorithm.
 * The rules and their figures are in pepsal(8).
 */
#ifndef PEPSAL_PROXY_ADAPT_H
#define PEPSAL_PROXY_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct adapt_params {
	const struct proxy_config *cfg; /* cc_mode, leg[LEG_CLIENT].cc, cc_lossy */
};

/* P is kept by pointer. Starts the monitor in adaptive mode; 0 or -errno. */
int adapt_init(const struct adapt_params *p);
/* Stop the monitor; watch and unwatch stay safe (and do nothing). */
void adapt_fini(void);
/* Watch the client socket FD (called by its relay thread); no-op in fixed mode. */
void adapt_watch(int fd);
/* Forget FD before it is closed; after this the monitor no longer uses it. */
void adapt_unwatch(int fd);

/* One connection's evidence and the decision of a tick (pure, for tests). */
struct adapt_state {
	bool lossy;            /* on the lossy-link algorithm now */
	uint32_t retrans;      /* tcpi_total_retrans at the last tick */
	uint32_t segs_at_loss; /* tcpi_data_segs_out at the last loss */
	uint64_t last_loss_ns; /* last tick that saw new retransmissions */
	uint64_t pending_ns;   /* random loss seen at this time, the switch waits
				* for the recovery it started to end; 0: none */
};

struct adapt_sample {
	uint32_t total_retrans; /* tcpi_total_retrans */
	uint32_t data_segs_out; /* tcpi_data_segs_out */
	uint32_t rtt_us;        /* tcpi_rtt: smoothed RTT */
	uint32_t min_rtt_us;    /* tcpi_min_rtt */
	uint8_t ca_state;       /* tcpi_ca_state: TCP_CA_Open ... TCP_CA_Loss */
	uint32_t cwnd;          /* tcpi_snd_cwnd */
	uint32_t ssthresh;      /* tcpi_snd_ssthresh */
};

enum adapt_action {
	ADAPT_STAY = 0,
	ADAPT_TO_LOSSY,     /* loss without queueing */
	ADAPT_LOSSY_AGAIN,  /* on the lossy algorithm, loss without queueing again */
	ADAPT_TO_BASE,      /* the loss cleared */
	ADAPT_CONGESTION,   /* loss with queueing: back to the base algorithm */
};

/* The rules: what to do with S's connection at NOW_NS, given sample X;
 * updates S's evidence (not S->lossy: the caller sets it once the switch
 * succeeded). */
enum adapt_action adapt_decide(struct adapt_state *s, const struct adapt_sample *x,
			       uint64_t now_ns);

#endif
