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
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "pepsal_daemon.h"
#include "pepsal_log.h"
#include "pepsal_opts.h"
#include "queuer.h"

#define PROG "pepsal-queuer"
#define DEFAULT_MARK 0x2u
#define DEFAULT_ROUTING_MARK 0x1u
#define READS_PER_WAKEUP 64 /* then look at the timer and signals again */
/* Every SYN waits for the queuer: starved of CPU (a flood on a busy box),
 * it lets the queue overflow and SYNs bypass it unaccelerated. Being one
 * thread it can never take more than one core. */
#define DEFAULT_NICE (-10)

struct options {
	uint32_t queue;
	const char *shm;
	struct queuer_mark mark;
	struct queuer_mark routing_mark; /* must not overlap the mark */
	uint32_t queue_maxlen;
	uint32_t copy_range;
	uint64_t rcvbuf;
	uint64_t proxy_timeout_ns;
	uint32_t address_share;
	int32_t nice;
	int32_t notify_fd;         /* the hold channel from pepsal, -1: none */
	uint64_t hold_ns;
	uint32_t hold_max;
	bool create;
	uint32_t capacity;
	const char *pidfile;
	bool verbose, daemon, version;
};

/* "VALUE[/MASK]", numbers in C notation (0x2/0x2); MASK defaults to VALUE,
 * so only the bits of VALUE are touched. */
static bool parse_mark(const char *arg, void *dst, char *err, size_t errlen)
{
	struct queuer_mark *m = dst;
	unsigned long long v, mask;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || end == arg || v > UINT32_MAX || (*end && *end != '/') || *arg == '-')
		goto bad;
	mask = v;
	if (*end == '/') {
		const char *ms = end + 1;

		mask = strtoull(ms, &end, 0);
		if (errno || end == ms || *end || mask > UINT32_MAX || *ms == '-')
			goto bad;
	}
	if (!mask || (v & ~mask)) {
		snprintf(err, errlen, "the mask must be non-zero and contain every bit of "
			 "the value");
		return false;
	}
	m->value = (uint32_t)v;
	m->mask = (uint32_t)mask;
	return true;
bad:
	snprintf(err, errlen, "expected VALUE or VALUE/MASK, 32-bit numbers such as 0x2/0x2");
	return false;
}

/* A nice value, -20 to 19. */
static bool parse_nice(const char *arg, void *dst, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < -20 || v > 19) {
		snprintf(err, errlen, "expected a nice value from -20 to 19");
		return false;
	}
	*(int32_t *)dst = (int32_t)v;
	return true;
}

/* An open descriptor number (inherited from pepsal). */
static bool parse_fd(const char *arg, void *dst, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 3 || v > INT32_MAX) {
		snprintf(err, errlen, "expected a descriptor number, 3 or more");
		return false;
	}
	if (fcntl((int)v, F_GETFD) < 0) {
		snprintf(err, errlen, "descriptor %ld is not open", v);
		return false;
	}
	*(int32_t *)dst = (int32_t)v;
	return true;
}

static struct options opt = {
	.queue = 0,
	.shm = PEPSAL_SHM_DEFAULT_NAME,
	.mark = { DEFAULT_MARK, DEFAULT_MARK },
	.routing_mark = { DEFAULT_ROUTING_MARK, DEFAULT_ROUTING_MARK },
	.queue_maxlen = 4096,
	.copy_range = 256,
	.rcvbuf = 8u << 20,
	.proxy_timeout_ns = 3000000000ull,
	.address_share = PEPSAL_DEFAULT_ADDRESS_SHARE,
	.nice = DEFAULT_NICE,
	.notify_fd = -1,
	.hold_ns = 3000000000ull,
	.hold_max = 1024,
	.capacity = PEPSAL_TABLE_DEFAULT_CAPACITY,
};

static const struct pepsal_opt options[] = {
	{ "queue", 'q', PEPSAL_OPT_U32, &opt.queue, "N",
	  "NFQUEUE number to read SYNs from (default 0)", 0, 65535, NULL },
	{ "shm", 's', PEPSAL_OPT_STRING, &opt.shm, "NAME",
	  "shared-memory connection table (default /pepsal)", 0, 0, NULL },
	{ "mark", 'm', PEPSAL_OPT_CUSTOM, &opt.mark, "VALUE[/MASK]",
	  "mark set on recorded SYNs, other bits kept (default 0x2/0x2)", 0, 0, parse_mark },
	{ "routing-mark", 0, PEPSAL_OPT_CUSTOM, &opt.routing_mark, "VALUE[/MASK]",
	  "mark of the transparent return path, must not overlap --mark (default 0x1)",
	  0, 0, parse_mark },
	{ "queue-maxlen", 0, PEPSAL_OPT_U32, &opt.queue_maxlen, "N",
	  "packets the kernel queues for us; beyond, they bypass (default 4096)",
	  1, 1u << 20, NULL },
	{ "copy-range", 0, PEPSAL_OPT_U32, &opt.copy_range, "BYTES",
	  "bytes of each packet copied to us (default 256: IP and TCP headers)",
	  60, 3584, NULL },
	{ "rcvbuf", 0, PEPSAL_OPT_SIZE, &opt.rcvbuf, "SIZE",
	  "netlink receive buffer (default 8m)", 65536, 1u << 30, NULL },
	{ "proxy-timeout", 0, PEPSAL_OPT_DURATION, &opt.proxy_timeout_ns, "DURATION",
	  "proxy heartbeat older than this: SYNs pass unmarked (default 3s)", 1, 0, NULL },
	{ "address-share", 0, PEPSAL_OPT_U32, &opt.address_share, "N",
	  "a client address holds at most 1/N of the table as pending SYNs "
	  "(default 2; 0: no limit)", 0, 65536, NULL },
	{ "nice", 0, PEPSAL_OPT_CUSTOM, &opt.nice, "N",
	  "scheduling priority, so that a busy machine does not starve the SYN path "
	  "(default -10)", 0, 0, parse_nice },
	{ "notify-fd", 0, PEPSAL_OPT_CUSTOM, &opt.notify_fd, "FD",
	  "hold each recorded SYN until the proxy's dial over the channel FD (given by "
	  "pepsal) answered (default: none, accept-first)", 0, 0, parse_fd },
	{ "hold-time", 0, PEPSAL_OPT_DURATION, &opt.hold_ns, "DURATION",
	  "with --notify-fd: a SYN held longer passes unmarked (default 3s)", 1, 0, NULL },
	{ "hold-max", 0, PEPSAL_OPT_U32, &opt.hold_max, "N",
	  "with --notify-fd: connections held at once; beyond, unmarked "
	  "(default 1024)", 1, 2048, NULL },
	{ "create", 0, PEPSAL_OPT_FLAG, &opt.create, NULL,
	  "create the table if it does not exist (standalone use)", 0, 0, NULL },
	{ "capacity", 0, PEPSAL_OPT_U32, &opt.capacity, "N",
	  "entries of a table made by --create (default 4224)",
	  PEPSAL_TABLE_MIN_CAPACITY, PEPSAL_TABLE_MAX_CAPACITY, NULL },
	{ "pidfile", 0, PEPSAL_OPT_STRING, &opt.pidfile, "FILE",
	  "write the process id to FILE", 0, 0, NULL },
	{ "verbose", 'v', PEPSAL_OPT_FLAG, &opt.verbose, NULL,
	  "log every recorded SYN", 0, 0, NULL },
	{ "daemon", 'd', PEPSAL_OPT_FLAG, &opt.daemon, NULL,
	  "run in the background, log to syslog", 0, 0, NULL },
	{ "version", 'V', PEPSAL_OPT_FLAG, &opt.version, NULL,
	  "print the version and exit", 0, 0, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
};

/* ---- start-up ----------------------------------------------------------- */

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
static int run(struct queuer *qr, struct queuer_nfq *nfq, int timer_fd, int sig_fd)
{
	struct pollfd pfd[4] = {
		{ queuer_nfq_fd(nfq), POLLIN, 0 },
		{ timer_fd, POLLIN, 0 },
		{ sig_fd, POLLIN, 0 },
		{ -1, POLLIN, 0 },
	};
	pid_t pid = getpid();

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
		if (pfd[0].revents) {
			struct queuer_nfq_stats st = { 0 };
			int n = queuer_nfq_process(nfq, queuer_decide, qr, READS_PER_WAKEUP, &st);

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
	struct queuer_nfq *nfq = NULL;
	struct queuer_nfq_config cfg;
	char err[512];
	int r, report_fd = -1, timer_fd = -1, sig_fd = -1, status = 1;

	pepsal_log_init(PROG, false, LOG_DAEMON, false);
	r = pepsal_opts_parse(PROG, "[OPTIONS]", options, argc, argv);
	if (r == -2)
		return 0;
	if (r < 0)
		return 2;
	if (r < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n"
			"Try '%s --help' for more information.\n", PROG, argv[r], PROG);
		return 2;
	}
	if (opt.version) {
		printf("%s %s\n", PROG, PEPSAL_VERSION);
		return 0;
	}
	if (opt.mark.mask & opt.routing_mark.mask) {
		fprintf(stderr, "%s: --mark 0x%x/0x%x overlaps the routing mark 0x%x/0x%x of "
			"the transparent return path; choose other bits\n", PROG, opt.mark.value,
			opt.mark.mask, opt.routing_mark.value, opt.routing_mark.mask);
		return 2;
	}
	if (!pepsal_shm_name_valid(opt.shm, err, sizeof(err))) {
		fprintf(stderr, "%s: invalid value '%s' for --shm: %s\n", PROG, opt.shm, err);
		return 2;
	}
	pepsal_log_init(PROG, false, LOG_DAEMON, opt.verbose);
	if (setpriority(PRIO_PROCESS, 0, opt.nice) < 0)
		pr_warn("cannot set the queuer's priority to nice %d (%s; CAP_SYS_NICE?): "
			"on a busy machine SYNs may bypass it unaccelerated", (int)opt.nice,
			strerror(errno));

	if (opt.daemon) {
		opt.pidfile = pepsal_absolute_path(opt.pidfile); /* the daemon is in / */
		report_fd = pepsal_daemon_start();
		if (report_fd < 0) {
			pr_err("cannot fork: %s", strerror(-report_fd));
			return 1;
		}
	}
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

	status = run(&qr, nfq, timer_fd, sig_fd) < 0 ? 1 : 0;
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
	if (opt.pidfile && status == 0)
		unlink(opt.pidfile);
	if (timer_fd >= 0)
		close(timer_fd);
	if (sig_fd >= 0)
		close(sig_fd);
	return status;
}
