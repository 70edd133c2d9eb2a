// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-linkem: one-way delay and loss for an emulated satellite link.
 *
 * Run it in the namespace between the two ends of the link, with
 *   iptables -A FORWARD -i <client side> -j NFQUEUE --queue-num N     (up)
 *   iptables -A FORWARD -i <gateway side> -j NFQUEUE --queue-num N+1  (down)
 * Every packet is either dropped at once (loss model of its direction) or
 * held and accepted when its delay has passed. A run of due packets leaves
 * with one batch verdict. Rate and buffer belong to tbf on the egress veths.
 * Counters go to stderr on SIGUSR1 and at exit.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <linux/netfilter.h>

#include "linkem.h"
#include "pepsal_opts.h"

#define PROG "pepsal-linkem"
#define UNSET UINT64_MAX

enum { UP, DOWN, NDIR };
static const char *const dir_name[NDIR] = { "up", "down" };

/* One direction of the link. */
struct direction {
	uint16_t queue;        /* NFQUEUE number */
	uint64_t delay_ns;     /* one-way delay */
	struct loss_model loss;
	struct fifo held;      /* packets waiting for their verdict */
	uint64_t rx;           /* packets seen */
	uint64_t lost;         /* dropped by the loss model */
	uint64_t passed;       /* accepted after the delay */
	uint64_t overflow;     /* accepted at once: ring full (should stay 0) */
	uint32_t max_held;     /* most packets held at once */
	uint64_t max_late_ns;  /* worst release later than due */
	uint64_t sum_late_ns;  /* lateness summed over released packets */
	int err;               /* last verdict error, 0 if none */
};

struct linkem {
	struct lq *nfq;
	struct direction dir[NDIR];
};

static volatile sig_atomic_t got_stop, got_usr1;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_stop = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- options ------------------------------------------------------------ */

static struct {
	uint32_t queue;
	uint64_t delay, delay_up, delay_down;
	double loss, loss_up, loss_down;  /* < 0: unset */
	struct loss_model ge, ge_up, ge_down;
	uint64_t seed;
	uint32_t max_held;
	uint64_t rcvbuf;
	bool realtime;
	bool version;
} opt = {
	.queue = 0,
	.delay = 300000000ull, .delay_up = UNSET, .delay_down = UNSET,
	.loss = 0, .loss_up = -1, .loss_down = -1,
	.seed = 1,
	.max_held = 65536,
	.rcvbuf = 16u << 20,
};

static bool parse_loss(const char *arg, void *dst, char *err, size_t errlen)
{
	if (loss_parse_percent(arg, dst))
		return true;
	snprintf(err, errlen, "expected a percentage between 0 and 100 (\"1\", \"0.1\", \"2.5%%\")");
	return false;
}

static bool parse_ge(const char *arg, void *dst, char *err, size_t errlen)
{
	return loss_parse_ge(arg, dst, err, errlen);
}

static const struct pepsal_opt options[] = {
	{ "queue", 'q', PEPSAL_OPT_U32, &opt.queue, "N",
	  "NFQUEUE of the up direction; down is N+1 (default 0)", 0, 65534, NULL },
	{ "delay", 'd', PEPSAL_OPT_DURATION, &opt.delay, "TIME",
	  "one-way delay of both directions (default 300ms)", 0, 60000000000ull, NULL },
	{ "delay-up", 0, PEPSAL_OPT_DURATION, &opt.delay_up, "TIME",
	  "one-way delay of the up direction", 0, 60000000000ull, NULL },
	{ "delay-down", 0, PEPSAL_OPT_DURATION, &opt.delay_down, "TIME",
	  "one-way delay of the down direction", 0, 60000000000ull, NULL },
	{ "loss", 'l', PEPSAL_OPT_CUSTOM, &opt.loss, "PCT",
	  "random loss of each direction, in percent (default 0)", 0, 0, parse_loss },
	{ "loss-up", 0, PEPSAL_OPT_CUSTOM, &opt.loss_up, "PCT",
	  "random loss of the up direction", 0, 0, parse_loss },
	{ "loss-down", 0, PEPSAL_OPT_CUSTOM, &opt.loss_down, "PCT",
	  "random loss of the down direction", 0, 0, parse_loss },
	{ "ge", 0, PEPSAL_OPT_CUSTOM, &opt.ge, "P,R[,B[,G]]",
	  "bursty loss, both directions: P good->bad, R bad->good, loss in "
	  "the bad (100) and good (0) state, percent per packet", 0, 0, parse_ge },
	{ "ge-up", 0, PEPSAL_OPT_CUSTOM, &opt.ge_up, "P,R[,B[,G]]",
	  "Gilbert-Elliott loss of the up direction", 0, 0, parse_ge },
	{ "ge-down", 0, PEPSAL_OPT_CUSTOM, &opt.ge_down, "P,R[,B[,G]]",
	  "Gilbert-Elliott loss of the down direction", 0, 0, parse_ge },
	{ "seed", 's', PEPSAL_OPT_U64, &opt.seed, "N",
	  "seed of the loss models (default 1)", 0, 0, NULL },
	{ "max-held", 0, PEPSAL_OPT_U32, &opt.max_held, "N",
	  "packets held per direction, kernel queue length (default 65536)", 64, 1u << 22, NULL },
	{ "rcvbuf", 0, PEPSAL_OPT_SIZE, &opt.rcvbuf, "SIZE",
	  "netlink receive buffer (default 16m)", 65536, 1u << 30, NULL },
	{ "realtime", 'r', PEPSAL_OPT_FLAG, &opt.realtime, NULL,
	  "run at real-time priority (SCHED_FIFO): on time on a busy machine", 0, 0, NULL },
	{ "version", 'V', PEPSAL_OPT_FLAG, &opt.version, NULL, "print the version and exit", 0, 0,
	  NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
};

static void setup_direction(struct direction *d, int which)
{
	const struct loss_model *ge = which == UP ? &opt.ge_up : &opt.ge_down;
	uint64_t delay = which == UP ? opt.delay_up : opt.delay_down;
	double loss = which == UP ? opt.loss_up : opt.loss_down;

	d->queue = (uint16_t)(opt.queue + (uint32_t)which);
	d->delay_ns = delay == UNSET ? opt.delay : delay;
	d->loss = ge->ge ? *ge : opt.ge;
	d->loss.p_random = loss < 0 ? opt.loss : loss;
	loss_seed(&d->loss, opt.seed * 2 + (uint64_t)which);
}

/* ---- the loop ----------------------------------------------------------- */

static void print_stats(const struct linkem *lk)
{
	for (int i = 0; i < NDIR; i++) {
		const struct direction *d = &lk->dir[i];

		fprintf(stderr, PROG ": %s queue=%u delay_us=%" PRIu64 " rx=%" PRIu64
			" lost=%" PRIu64 " passed=%" PRIu64 " overflow=%" PRIu64
			" held=%u max_held=%u avg_late_us=%" PRIu64 " max_late_us=%" PRIu64 "\n",
			dir_name[i], d->queue, d->delay_ns / 1000, d->rx, d->lost, d->passed,
			d->overflow, d->held.len, d->max_held,
			d->passed ? d->sum_late_ns / d->passed / 1000 : 0, d->max_late_ns / 1000);
	}
	fflush(stderr);
}

static void on_packet(void *ctx, uint16_t queue, uint32_t id)
{
	struct linkem *lk = ctx;
	struct direction *d = NULL;
	int ret;

	for (int i = 0; i < NDIR; i++)
		if (lk->dir[i].queue == queue)
			d = &lk->dir[i];
	if (!d) {
		lq_verdict(lk->nfq, queue, id, NF_ACCEPT);
		return;
	}
	d->rx++;
	if (loss_next(&d->loss)) {
		d->lost++;
		ret = lq_verdict(lk->nfq, queue, id, NF_DROP);
	} else if (fifo_push(&d->held, id, mono_ns() + d->delay_ns) == 0) {
		if (d->held.len > d->max_held)
			d->max_held = d->held.len;
		return;
	} else {
		d->overflow++;
		ret = lq_verdict(lk->nfq, queue, id, NF_ACCEPT);
	}
	if (ret)
		d->err = ret;
}

/* Accept every due packet of every direction; FLUSH: all of them. */
static void release_due(struct linkem *lk, bool flush)
{
	uint64_t now = flush ? UINT64_MAX - 1 : mono_ns();

	for (int i = 0; i < NDIR; i++) {
		struct direction *d = &lk->dir[i];
		uint64_t due = fifo_next(&d->held);
		uint32_t last = 0, n;
		int ret;

		if (due > now)
			continue;
		if (!flush && now - due > d->max_late_ns)
			d->max_late_ns = now - due;
		n = fifo_pop_due(&d->held, now, &last, flush ? &(uint64_t){ 0 } : &d->sum_late_ns);
		d->passed += n;
		ret = lq_accept_upto(lk->nfq, d->queue, last);
		if (ret)
			d->err = ret;
	}
}

static int run(struct linkem *lk, const sigset_t *waitmask)
{
	struct pollfd pfd = { .fd = lq_fd(lk->nfq), .events = POLLIN };

	while (!got_stop) {
		uint64_t next = UINT64_MAX, now;
		struct timespec ts, *tsp = NULL;
		int ret;

		for (int i = 0; i < NDIR; i++) {
			uint64_t t = fifo_next(&lk->dir[i].held);

			if (t < next)
				next = t;
		}
		if (next != UINT64_MAX) {
			now = mono_ns();
			next = next > now ? next - now : 0;
			ts.tv_sec = (time_t)(next / 1000000000ull);
			ts.tv_nsec = (long)(next % 1000000000ull);
			tsp = &ts;
		}
		ret = ppoll(&pfd, 1, tsp, waitmask);
		if (ret < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			return -errno;
		}
		if (ret > 0) {
			ret = lq_drain(lk->nfq, on_packet, lk);
			if (ret < 0) {
				fprintf(stderr, PROG ": netlink receive: %s\n", strerror(-ret));
				return ret;
			}
		}
		release_due(lk, false);
		if (got_usr1) {
			got_usr1 = 0;
			print_stats(lk);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct linkem lk = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, waitmask;
	char err[256];
	int ret, idx;

	idx = pepsal_opts_parse(PROG, "[OPTIONS]", options, argc, argv);
	if (idx == -2)
		return 0;
	if (idx < 0)
		return 2;
	if (opt.version) {
		printf(PROG " %s\n", PEPSAL_VERSION);
		return 0;
	}
	if (idx < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[idx]);
		return 2;
	}
	for (int i = 0; i < NDIR; i++) {
		setup_direction(&lk.dir[i], i);
		if (fifo_init(&lk.dir[i].held, opt.max_held)) {
			fprintf(stderr, PROG ": out of memory\n");
			return 1;
		}
	}

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGUSR1);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	prctl(PR_SET_TIMERSLACK, 1UL); /* wake at the release time, not 50 us later */
	if (opt.realtime) {
		struct sched_param sp = { .sched_priority = 10 };

		if (sched_setscheduler(0, SCHED_FIFO, &sp))
			fprintf(stderr, PROG ": warning: no real-time priority: %s\n",
				strerror(errno));
	}

	ret = lq_open(&lk.nfq, (uint32_t)opt.rcvbuf, err, sizeof(err));
	for (int i = 0; !ret && i < NDIR; i++)
		ret = lq_bind(lk.nfq, lk.dir[i].queue, opt.max_held, err, sizeof(err));
	if (ret) {
		fprintf(stderr, PROG ": %s\n", err);
		lq_close(lk.nfq);
		return 1;
	}
	fprintf(stderr, PROG ": ready: queues %u (up, %" PRIu64 " us) and %u (down, %" PRIu64
		" us)\n", lk.dir[UP].queue, lk.dir[UP].delay_ns / 1000, lk.dir[DOWN].queue,
		lk.dir[DOWN].delay_ns / 1000);

	ret = run(&lk, &waitmask);
	release_due(&lk, true);
	print_stats(&lk);
	for (int i = 0; i < NDIR; i++) {
		if (lk.dir[i].err)
			fprintf(stderr, PROG ": %s: verdict failed: %s\n", dir_name[i],
				strerror(-lk.dir[i].err));
		fifo_free(&lk.dir[i].held);
	}
	lq_close(lk.nfq);
	return ret ? 1 : 0;
}
