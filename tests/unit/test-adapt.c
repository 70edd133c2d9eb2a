// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the adaptive satellite leg's rules (proxy/adapt.c's
 * adapt_decide): a 600 ms GEO path unless said otherwise. */
#include <glib.h>

#include "../../proxy/adapt.h"

#define MS 1000000ull
#define S 1000000000ull

static struct adapt_sample sample(uint32_t retrans, uint32_t segs, uint32_t rtt_ms,
				  uint32_t min_rtt_ms)
{
	return (struct adapt_sample){ .total_retrans = retrans, .data_segs_out = segs,
				      .rtt_us = rtt_ms * 1000, .min_rtt_us = min_rtt_ms * 1000 };
}

static void test_clean_link_stays(void)
{
	struct adapt_state st = { 0 };

	for (uint32_t i = 1; i <= 100; i++) {
		struct adapt_sample x = sample(0, i * 100, 600 + i % 50, 600);

		g_assert_cmpint(adapt_decide(&st, &x, i * 100 * MS), ==, ADAPT_STAY);
	}
}

/* Loss while the RTT stays near its minimum: not congestion. */
static void test_random_loss_switches(void)
{
	struct adapt_state st = { 0 };
	struct adapt_sample x = sample(0, 100, 600, 600);

	g_assert_cmpint(adapt_decide(&st, &x, 100 * MS), ==, ADAPT_STAY);
	x = sample(1, 200, 640, 600); /* within max(150 ms, 20 ms) */
	g_assert_cmpint(adapt_decide(&st, &x, 200 * MS), ==, ADAPT_TO_LOSSY);
}

/* The switch waits for the recovery the loss started to end (cwnd back
 * at ssthresh, not at the bytes in flight), at most 3 RTT. */
static void test_switch_after_recovery(void)
{
	struct adapt_state st = { 0 };
	struct adapt_sample x = sample(1, 100, 600, 600);

	x.ca_state = 3; /* TCP_CA_Recovery */
	g_assert_cmpint(adapt_decide(&st, &x, 1 * S), ==, ADAPT_STAY);
	x = sample(2, 150, 610, 600);
	x.ca_state = 3; /* another loss in the same recovery */
	g_assert_cmpint(adapt_decide(&st, &x, 1 * S + 600 * MS), ==, ADAPT_STAY);
	x = sample(2, 200, 610, 600); /* recovered: Open */
	g_assert_cmpint(adapt_decide(&st, &x, 2 * S), ==, ADAPT_TO_LOSSY);
	/* still in recovery, but PRR has brought cwnd back to ssthresh */
	st = (struct adapt_state){ 0 };
	x = sample(1, 100, 600, 600);
	x.ca_state = 3, x.cwnd = 60, x.ssthresh = 700;
	g_assert_cmpint(adapt_decide(&st, &x, 1 * S), ==, ADAPT_STAY);
	x.cwnd = 700;
	g_assert_cmpint(adapt_decide(&st, &x, 1 * S + 500 * MS), ==, ADAPT_TO_LOSSY);
	/* a recovery that lasts: the switch comes 3 RTT after the loss anyway */
	st = (struct adapt_state){ 0 };
	x = sample(1, 100, 600, 600);
	x.ca_state = 3;
	g_assert_cmpint(adapt_decide(&st, &x, 10 * S), ==, ADAPT_STAY);
	x.ca_state = 4; /* TCP_CA_Loss: a retransmission timeout */
	g_assert_cmpint(adapt_decide(&st, &x, 11 * S + 700 * MS), ==, ADAPT_STAY);
	g_assert_cmpint(adapt_decide(&st, &x, 11 * S + 800 * MS), ==, ADAPT_TO_LOSSY);
	/* a queue built up meanwhile: congestion, no switch */
	st = (struct adapt_state){ 0 };
	x = sample(1, 100, 600, 600);
	x.ca_state = 3;
	g_assert_cmpint(adapt_decide(&st, &x, 1 * S), ==, ADAPT_STAY);
	x = sample(2, 300, 900, 600);
	g_assert_cmpint(adapt_decide(&st, &x, 2 * S), ==, ADAPT_STAY);
	x = sample(2, 400, 600, 600);
	g_assert_cmpint(adapt_decide(&st, &x, 3 * S), ==, ADAPT_STAY);
}

/* Loss with a standing queue is congestion: no switch, or back. */
static void test_congestion(void)
{
	struct adapt_state st = { 0 };
	struct adapt_sample x = sample(3, 100, 900, 600); /* 300 ms of queue */

	g_assert_cmpint(adapt_decide(&st, &x, 100 * MS), ==, ADAPT_STAY);
	st.lossy = true;
	x = sample(4, 200, 900, 600);
	g_assert_cmpint(adapt_decide(&st, &x, 200 * MS), ==, ADAPT_CONGESTION);
	/* a short path: 20 ms of margin at least */
	st = (struct adapt_state){ 0 };
	x = sample(1, 100, 29, 10);
	g_assert_cmpint(adapt_decide(&st, &x, 100 * MS), ==, ADAPT_TO_LOSSY);
	st = (struct adapt_state){ 0 };
	x = sample(1, 100, 31, 10);
	g_assert_cmpint(adapt_decide(&st, &x, 100 * MS), ==, ADAPT_STAY);
}

/* Back to the base once the loss cleared: 5 s (or 8 RTT) and 3000 data
 * segments without a retransmission; an idle connection stays. */
static void test_clears(void)
{
	struct adapt_state st = { .lossy = true, .retrans = 5, .segs_at_loss = 1000,
				  .last_loss_ns = 1 * S };
	struct adapt_sample x = sample(6, 1000, 600, 600);

	g_assert_cmpint(adapt_decide(&st, &x, 2 * S), ==, ADAPT_LOSSY_AGAIN);
	x = sample(6, 3999, 600, 600);
	g_assert_cmpint(adapt_decide(&st, &x, 7 * S + 1), ==, ADAPT_STAY); /* 2999 segments */
	x = sample(6, 1000 + 4000, 600, 600);
	g_assert_cmpint(adapt_decide(&st, &x, 6 * S), ==, ADAPT_STAY);     /* 4 s */
	g_assert_cmpint(adapt_decide(&st, &x, 7 * S), ==, ADAPT_TO_BASE);
	/* idle: no segments sent, no loss, for minutes */
	st = (struct adapt_state){ .lossy = true, .retrans = 5, .segs_at_loss = 100,
				   .last_loss_ns = 1 * S };
	x = sample(5, 100, 600, 600);
	g_assert_cmpint(adapt_decide(&st, &x, 300 * S), ==, ADAPT_STAY);
	/* a long RTT needs 8 of them: 2 s RTT, 16 s */
	st = (struct adapt_state){ .lossy = true, .last_loss_ns = 1 * S };
	x = sample(0, 10000, 2000, 2000);
	g_assert_cmpint(adapt_decide(&st, &x, 16 * S), ==, ADAPT_STAY);
	g_assert_cmpint(adapt_decide(&st, &x, 17 * S), ==, ADAPT_TO_BASE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/adapt/clean-link-stays", test_clean_link_stays);
	g_test_add_func("/adapt/random-loss-switches", test_random_loss_switches);
	g_test_add_func("/adapt/switch-after-recovery", test_switch_after_recovery);
	g_test_add_func("/adapt/congestion", test_congestion);
	g_test_add_func("/adapt/clears", test_clears);
	return g_test_run();
}
