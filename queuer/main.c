// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-queuer: reads TCP SYNs from NFQUEUE, records each one (client ->
 * original destination) in the shared connection table and marks it so the
 * nat rule redirects it to the proxy; see decide.c for when it does not.
 *
 * Start-up order matters for fail-open: the table is attached and our role
 * claimed before the queue is bound, so once packets come to us we can
 * handle them; with --daemon the parent exits only when all of that
 * succeeded, so errors reach the terminal and the exit status.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "pepsal_daemon.h"
#include "pepsal_log.h"
#include "pepsal_opts.h"
#include "pepsal_sched.h"
#include "pepsal_timeline.h"
#include "options.h"
#include "queuer.h"

#define PROG QUEUER_PROG
#define READS_PER_WAKEUP 64 /* then look at the timer and signals again */

static struct queuer_options opt;

/* ---- event loop --------------------------------------------------------- */

static int make_timer(void)
{
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* What the main loop reads from its signalfd: SIGHUP is ignored, the
 * others stop. */
static const int loop_signals[] = { SIGTERM, SIGINT, SIGHUP };

/* Runs until SIGTERM/SIGINT (returns 0) or the queue socket fails. */
static int run(struct queuer *qr, struct queuer_nfq *nfq, int timer_fd, int sig_fd,
	       struct pepsal_rt *rt)
{
	struct pollfd pfd[4] = {
		{ queuer_nfq_fd(nfq), POLLIN, 0 },
		{ timer_fd, POLLIN, 0 },
		{ sig_fd, POLLIN, 0 },
		{ -1, POLLIN, 0 },
	};
	pid_t pid = getpid();
	uint64_t woke;
	bool more;

	for (;;) {
		int timeout = queuer_hold_expire(qr, pepsal_now_ns());

		queuer_nfq_flush(nfq, NULL);
		pfd[3].events = queuer_hold_flush(qr) ? POLLIN | POLLOUT : POLLIN;
		pfd[3].fd = queuer_hold_fd(qr);
		if (poll(pfd, 4, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		woke = pepsal_now_ns();
		more = false;
		if (pfd[0].revents) {
			struct queuer_nfq_stats st = { 0 };
			int n = queuer_nfq_process(nfq, queuer_decide, qr, READS_PER_WAKEUP, &st);

			more = st.more;

			if (st.verdict_errors)
				pr_ratelimited(LOG_ERR, "%" PRIu64 " verdicts could not be sent "
					       "or were refused", st.verdict_errors);
			if (st.enobufs)
				pr_ratelimited(LOG_WARNING, "netlink socket overflowed: SYNs "
					       "bypassed the queuer (raise --rcvbuf?)");
			queuer_counters_flush(qr, &st);
			if (n < 0) {
				pr_err("reading NFQUEUE failed: %s", strerror(-n));
				return n;
			}
		}
		if (pfd[3].revents & ~POLLOUT) {
			queuer_hold_input(qr);
			queuer_counters_flush(qr, NULL);
		}
		/* a budget that did not drain the queue (a flood), or more than
		 * the SYN path's share of the CPU: step down from SCHED_FIFO */
		pepsal_rt_wakeup(rt, more, woke);
		if (pfd[1].revents) {
			uint64_t expirations;

			if (read(timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				return -errno;
			queuer_table_follow(qr);
			queuer_counters_flush(qr, NULL); /* the holds' outcomes */
			pepsal_table_heartbeat(qr->table, PEPSAL_ROLE_QUEUER, pid, pepsal_now_ns());
			pepsal_table_queue_beat(qr->table, qr->queue_slot, pid, pepsal_now_ns());
		}
		if (pfd[2].revents) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo != SIGHUP) {
					pr_info("signal %d: stopping", (int)si.ssi_signo);
					return 0;
				}
				pr_info("SIGHUP ignored: the queuer has nothing to reload");
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct queuer qr = { 0 };
	struct pepsal_rt rt;
	struct queuer_nfq *nfq = NULL;
	struct queuer_nfq_config cfg;
	char err[512];
	int r, report_fd = -1, timer_fd = -1, sig_fd = -1, status = 1;

	pepsal_log_init(PROG, false, LOG_DAEMON, false);
	r = queuer_options_parse(&opt, argc, argv);
	if (r < 0)
		return r == -1 ? 0 : 2;
	pepsal_log_init(PROG, false, LOG_DAEMON, opt.verbose);
	r = pepsal_rt_init(&rt, (int)opt.rt_priority, opt.nice);
	if (r < 0)
		pr_warn("cannot set the queuer's priority to %s%u, nice %d (%s; CAP_SYS_NICE, "
			"an RT budget for the cgroup?): on a busy machine SYNs may wait or "
			"bypass it unaccelerated", opt.rt_priority ? "SCHED_FIFO " : "",
			opt.rt_priority, (int)opt.nice, strerror(-r));

	if (opt.daemon) {
		opt.pidfile = pepsal_absolute_path(opt.pidfile); /* the daemon is in / */
		report_fd = pepsal_daemon_start();
		if (report_fd < 0) {
			pr_err("cannot fork: %s", strerror(-report_fd));
			return 1;
		}
	}
	pepsal_tl_init("queuer");
	qr.mark = opt.mark;
	qr.queue = opt.queue;
	qr.proxy_timeout_ns = opt.proxy_timeout_ns;
	qr.address_share = opt.address_share;
	if (queuer_table_open(&qr, opt.shm, opt.create, opt.capacity) < 0)
		goto out;
	if (opt.notify_fd >= 0 &&
	    queuer_hold_init(&qr, opt.notify_fd, opt.hold_ns, opt.hold_max) < 0) {
		pr_err("out of memory for %u held SYNs", opt.hold_max);
		goto out;
	}
	timer_fd = make_timer();
	if (timer_fd < 0) {
		pr_err("cannot create the timer: %s", strerror(errno));
		goto out;
	}
	sig_fd = pepsal_signalfd(loop_signals, sizeof(loop_signals) / sizeof(loop_signals[0]));
	if (sig_fd < 0) {
		pr_err("cannot set up signals: %s", strerror(-sig_fd));
		goto out;
	}
	cfg = (struct queuer_nfq_config){
		.queue = (uint16_t)opt.queue, .maxlen = opt.queue_maxlen,
		.copy_range = opt.copy_range, .rcvbuf = (uint32_t)opt.rcvbuf,
		.clear_mask = opt.mark.mask,
	};
	r = queuer_nfq_open(&cfg, &nfq, err, sizeof(err));
	if (r < 0) {
		pr_err("%s", err);
		goto out;
	}
	qr.nfq = nfq;
	if (qr.hold && (r = queuer_icmp_init()) < 0)
		pr_warn("cannot open raw sockets (%s; CAP_NET_RAW?): a held SYN whose dial an "
			"ICMP error refused passes end to end instead of getting that error at "
			"once", strerror(-r));
	if (opt.pidfile && (r = pepsal_pid_file_write(opt.pidfile)) < 0) {
		pr_err("cannot write pid file %s: %s", opt.pidfile, strerror(-r));
		goto out;
	}
	pr_info("queue %u, table %s, mark 0x%x/0x%x, proxy timeout %" PRIu64 " ms, "
		"%u pending SYNs per client address, %s", opt.queue, pepsal_table_name(qr.table),
		opt.mark.value, opt.mark.mask, opt.proxy_timeout_ns / 1000000,
		qr.address_limit, qr.hold ? "SYNs held until the server answers" :
		"accept-first");
	pepsal_daemon_ready(report_fd, true, PROG, opt.verbose);
	report_fd = -1;

	status = run(&qr, nfq, timer_fd, sig_fd, &rt) < 0 ? 1 : 0;
out:
	pepsal_daemon_ready(report_fd, false, PROG, opt.verbose);
	/* fail-open stop: held SYNs pass unmarked, queued packets are accepted
	 * before the queue goes */
	if (nfq)
		queuer_hold_fini(&qr);
	queuer_nfq_close(nfq);
	if (!nfq)
		queuer_hold_fini(&qr);
	queuer_table_close(&qr);
	queuer_icmp_fini();
	if (opt.pidfile && status == 0)
		unlink(opt.pidfile);
	if (timer_fd >= 0)
		close(timer_fd);
	if (sig_fd >= 0)
		close(sig_fd);
	return status;
}
