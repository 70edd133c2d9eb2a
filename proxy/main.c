// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal: the proxy process. main owns the order of start-up and shutdown:
 * each module is initialised with what it needs, in dependency order, and
 * finalised in reverse, so nothing outlives what it uses (the relay's
 * threads are stopped before the table is unmapped). Between the two, the
 * main loop accepts, runs the timers and handles signals.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "config.h"
#include "limits.h"
#include "listener.h"
#include "pepsal_log.h"
#include "process.h"
#include "queuer_child.h"
#include "relay.h"
#include "stats.h"
#include "table_owner.h"
#include "timers.h"

#define STOP_WAIT_NS 5000000000ull  /* connections get this long to close */

/* Handle pending signals; returns true when the proxy must stop. */
static bool handle_signals(int sfd, const struct proxy_config *cfg)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			pr_info("signal %d: stopping", (int)si.ssi_signo);
			stop = true;
			break;
		case SIGHUP:
			pr_info("SIGHUP: reopening the logs");
			if (cfg->daemon) {
				closelog();
				pepsal_log_init("pepsal", true, LOG_DAEMON, cfg->verbose);
			}
			timers_conn_log_now();
			break;
		case SIGCHLD:
			queuer_reap(pepsal_now_ns());
			break;
		}
	}
	return stop;
}

static void main_loop(int sfd, const int *lfds, int nl, const struct proxy_config *cfg)
{
	struct pollfd p[3];

	p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (int i = 0; i < nl; i++)
		p[1 + i] = (struct pollfd){ .fd = lfds[i], .events = POLLIN };
	for (;;) {
		uint64_t now = pepsal_now_ns();
		int t1 = timers_run(now), t2 = queuer_tick(now);
		int timeout = t2 >= 0 && t2 < t1 ? t2 : t1;

		if (poll(p, (nfds_t)(1 + nl), timeout) < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			return;
		}
		if ((p[0].revents & POLLIN) && handle_signals(sfd, cfg))
			return;
		for (int i = 0; i < nl; i++)
			if (p[1 + i].revents & POLLIN)
				listener_accept(lfds[i]);
	}
}

int main(int argc, char **argv)
{
	static struct proxy_config cfg;
	struct pepsal_table *table = NULL;
	struct relay_params relay_p;
	struct listener_params listener_p;
	struct timers_params timers_p;
	char dir[PATH_MAX], err[256];
	int lfds[2] = { -1, -1 }, nl, sfd, rc;
	uint32_t pipes_max;
	bool all_closed;

	rc = config_parse(&cfg, argc, argv);
	if (rc < 0)
		return rc == -1 ? 0 : 2;
	pepsal_log_init("pepsal", false, LOG_DAEMON, cfg.verbose);
	/* before the port is open: a SIGTERM from then on is a clean stop */
	sfd = process_signals_init();
	if (sfd < 0) {
		pr_err("cannot set up signals: %s", strerror(-sfd));
		return 1;
	}
	limits_setup(&cfg.max_conns, &pipes_max);
	if (!cfg.capacity)
		cfg.capacity = limits_default_capacity(cfg.max_conns);
	if (cfg.mode == MODE_TPROXY)
		cfg.no_queuer = true; /* TPROXY rules need no queuer */

	if (table_owner_init(&cfg, &table))
		return 1;
	stats_init(table);
	relay_p = (struct relay_params){ .cfg = &cfg, .table = table, .pipes_max = pipes_max };
	relay_init(&relay_p);
	listener_p = (struct listener_params){ .cfg = &cfg, .table = table };
	nl = listener_init(&listener_p, lfds, err, sizeof(err));
	if (nl < 0) {
		pr_err("%s", err);
		goto fail;
	}
	if (cfg.daemon && process_daemonize(&cfg))
		goto fail;
	if (cfg.pid_file && (rc = process_write_pid_file(cfg.pid_file))) {
		pr_err("cannot write the pid file %s: %s", cfg.pid_file, strerror(-rc));
		goto fail;
	}
	if (table_owner_claim(table))
		goto fail;
	process_self_dir(dir, sizeof(dir));
	queuer_init(&cfg, pepsal_table_name(table), dir);
	timers_p = (struct timers_params){ .cfg = &cfg, .table = table };
	timers_init(&timers_p, pepsal_now_ns());
	pr_info("pepsal %s (%s mode) listening on %s port %u (table %s of %u entries, "
		"%u connections at most%s)", PEPSAL_VERSION,
		cfg.mode == MODE_TPROXY ? "tproxy" : "nfqueue",
		cfg.address ? cfg.address : "all addresses", cfg.port,
		pepsal_table_name(table), cfg.capacity, cfg.max_conns,
		cfg.mode == MODE_NFQUEUE && cfg.no_queuer ? ", queuer not started" : "");

	main_loop(sfd, lfds, nl, &cfg);

	listener_fini();
	all_closed = relay_fini(STOP_WAIT_NS);
	timers_conn_log_now(); /* the log does not list connections that are gone */
	queuer_fini();
	if (all_closed)
		stats_fini();
	table_owner_fini(table, all_closed);
	if (cfg.pid_file)
		unlink(cfg.pid_file);
	pr_info("stopped");
	return 0;
fail:
	listener_fini();
	relay_fini(0);
	stats_fini();
	table_owner_fini(table, true);
	return 1;
}
