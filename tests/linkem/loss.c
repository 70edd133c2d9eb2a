// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loss models: independent (Bernoulli) loss and Gilbert-Elliott bursty loss,
 * driven by a seeded xorshift64* generator so runs can be repeated.
 *
 * Gilbert-Elliott: per packet, the chain first moves (good -> bad with
 * probability P, bad -> good with probability R), then the packet is lost
 * with the loss probability of the state it is in. Mean loss is
 * P/(P+R) * LOSS_BAD + R/(P+R) * LOSS_GOOD; mean burst length 1/R packets
 * when LOSS_BAD is 100 %.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkem.h"

void loss_seed(struct loss_model *m, uint64_t seed)
{
	/* splitmix64 spreads small seeds over the whole state */
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	m->rng = z ? z : 1;
	m->bad = false;
}

/* Uniform in [0, 1). */
static double uniform(struct loss_model *m)
{
	uint64_t x = m->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->rng = x;
	return (double)((x * 0x2545f4914f6cdd1dull) >> 11) * 0x1.0p-53;
}

bool loss_next(struct loss_model *m)
{
	bool lost = false;

	if (m->ge) {
		if (m->bad ? uniform(m) < m->ge_r : uniform(m) < m->ge_p)
			m->bad = !m->bad;
		if (uniform(m) < (m->bad ? m->ge_loss_bad : m->ge_loss_good))
			lost = true;
	}
	if (m->p_random > 0 && uniform(m) < m->p_random)
		lost = true;
	return lost;
}

bool loss_parse_percent(const char *s, double *p)
{
	char *end;
	double v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || (*end && strcmp(end, "%") != 0) || !isfinite(v) ||
	    v < 0 || v > 100)
		return false;
	*p = v / 100.0;
	return true;
}

bool loss_parse_ge(const char *s, struct loss_model *m, char *err, size_t errlen)
{
	double v[4] = { 0, 0, 1.0, 0 }; /* P, R, LOSS_BAD 100 %, LOSS_GOOD 0 % */
	char buf[128], *tok, *save = NULL;
	int n = 0;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "too long");
		return false;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == 4) {
			snprintf(err, errlen, "at most four values: P,R,LOSS_BAD,LOSS_GOOD");
			return false;
		}
		if (!loss_parse_percent(tok, &v[n])) {
			snprintf(err, errlen, "'%s' is not a percentage between 0 and 100", tok);
			return false;
		}
		n++;
	}
	if (n < 2) {
		snprintf(err, errlen, "expected P,R[,LOSS_BAD[,LOSS_GOOD]] in percent");
		return false;
	}
	if (v[1] <= 0) {
		snprintf(err, errlen, "R (bad -> good) must be greater than 0");
		return false;
	}
	m->ge = true;
	m->ge_p = v[0];
	m->ge_r = v[1];
	m->ge_loss_bad = v[2];
	m->ge_loss_good = v[3];
	return true;
}
