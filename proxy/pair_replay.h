/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The gateway's memory of the nonces it accepted: a header is accepted
 * once; its nonce is remembered while its time is inside the window (after
 * that the time check refuses it anyway). Thread-safe.
 */
#ifndef PEPSAL_PROXY_PAIR_REPLAY_H
#define PEPSAL_PROXY_PAIR_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "pair_hdr.h"

struct pair_replay;

/* A cache for headers WINDOW_S seconds either side of now, of at most MAX
 * nonces (full: new headers are refused until some expire). */
struct pair_replay *pair_replay_new(uint64_t window_s, unsigned int max);
void pair_replay_free(struct pair_replay *r);
/* NONCE of a header of TIME_S, seen at NOW_S: 0 new (remembered now),
 * -EEXIST seen already (a replay), -ENOSPC the cache is full. */
int pair_replay_check(struct pair_replay *r, const uint8_t nonce[PAIR_NONCE_LEN],
		      uint64_t time_s, uint64_t now_s);
/* Nonces remembered now. */
unsigned int pair_replay_size(struct pair_replay *r);

#endif
