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

#include "adapt.h"
#include "config.h"
#include "limits.h"
#include "pair_gateway.h"
#include "pair_pool.h"
#include "pair_terminal.h"
#include "listener.h"
#include "migrate.h"
#include "pepsal_daemon.h"
#include "pepsal_log.h"
#include "pepsal_timeline.h"
#include "predial.h"
#include "process.h"
#include "queuer_child.h"
#include "relay.h"
#include "stats.h"
#include "table_owner.h"
#include "timers.h"
#include "upgrade.h"

#define STOP_WAIT_NS 5000000000ull  /* connections get this long to close */

/* How the main loop ended. */
enum loop_end { LOOP_ERROR, LOOP_STOP, LOOP_HANDED_OVER };

/* Handle pending signals; returns true when the proxy must stop (*HANDED:
 * because another process took everything over). */
static bool handle_signals(int sfd, const struct proxy_config *cfg, bool *handed)
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
		case SIGUSR1:
			if (!stop)
				migrate_out(); /* logs and counts its outcome */
			break;
		case SIGUSR2:
			if (cfg->pair.role) /* the pool and the gateway's silent connections
					     * are not part of the hand-over */
				pr_warn("SIGUSR2: a pair end does not upgrade in place; restart it");
			else if (!stop && upgrade_run())
				stop = *handed = true;
			break;
		}
	}
	return stop;
}

/* What the options name outside the command line: the pair's key file
 * and the queuer program. Checked before anything starts (the table, the
 * listeners, the queuer), one line per problem; this and config_parse are
 * all that --check does. Returns the number of problems. */
static int check_outside(const struct proxy_config *cfg, struct pair_key *key,
			 const char *self_dir)
{
	char err[PATH_MAX + 256];
	int bad = 0;

	if (cfg->pair.role && pair_key_load(cfg->pair.key_file, key, err, sizeof(err))) {
		fprintf(stderr, "pepsal: %s (--pair-key-file)\n", err);
		bad++;
	}
	if (cfg->mode == MODE_NFQUEUE && !cfg->no_queuer &&
	    queuer_check(cfg, self_dir, err, sizeof(err))) {
		fprintf(stderr, "pepsal: %s\n", err);
		bad++;
	}
	if (cfg->pair.role && cfg->handover_fd) {
		fprintf(stderr, "pepsal: a pair end cannot take over from an upgrade (SIGUSR2): "
			"restart it\n");
		bad++;
	}
	return bad;
}

static enum loop_end main_loop(int sfd, const int *lfds, int nl,
			       const struct proxy_config *cfg)
{
	struct pollfd p[5];
	bool handed = false;

	p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (int i = 0; i < nl; i++)
		p[1 + i] = (struct pollfd){ .fd = lfds[i], .events = POLLIN };
	for (;;) {
		uint64_t now = pepsal_now_ns();
		int t1 = timers_run(now), t2 = queuer_tick(now), t3 = migrate_tick(now);
		int timeout = t2 >= 0 && t2 < t1 ? t2 : t1;

		if (t3 >= 0 && t3 < timeout)
			timeout = t3;

		/* after an upgrade, until the old queuer is gone */
		p[1 + nl] = (struct pollfd){ .fd = upgrade_poll_fd(), .events = POLLIN };
		/* a switchover from the other box of two */
		p[2 + nl] = (struct pollfd){ .fd = migrate_listen_fd(), .events = POLLIN };
		if (poll(p, (nfds_t)(3 + nl), timeout) < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			return LOOP_ERROR;
		}
		if ((p[0].revents & POLLIN) && handle_signals(sfd, cfg, &handed))
			return handed ? LOOP_HANDED_OVER : LOOP_STOP;
		for (int i = 0; i < nl; i++)
			if (p[1 + i].revents & POLLIN)
				listener_accept(lfds[i]);
		if (p[1 + nl].fd >= 0 && p[1 + nl].revents)
			upgrade_poll_event();
		if (p[2 + nl].fd >= 0 && (p[2 + nl].revents & POLLIN))
			migrate_accept();
	}
}

int main(int argc, char **argv)
{
	static struct proxy_config cfg;
	struct pepsal_table *table = NULL;
	struct relay_params relay_p;
	struct listener_params listener_p;
	struct predial_params predial_p;
	int hold_fds[PEPSAL_MAX_QUEUES];
	struct timers_params timers_p;
	struct adapt_params adapt_p;
	struct upgrade_params upgrade_p;
	struct migrate_params migrate_p;
	struct pair_pool_params pool_p;
	struct pair_terminal_params term_p;
	struct pair_gateway_params gw_p;
	static struct pair_key key;
	char dir[PATH_MAX], err[256], note[64];
	int lfds[2] = { -1, -1 }, nl, sfd, rc, ready_fd = -1;
	uint32_t pipes_max;
	bool all_closed, taking_over;
	enum loop_end end;

	rc = config_parse(&cfg, argc, argv);
	if (rc < 0)
		return rc == -1 ? 0 : 2;
	process_self_dir(dir, sizeof(dir));
	if (check_outside(&cfg, &key, dir))
		return 2;
	if (cfg.check) {
		printf("pepsal: the configuration is valid\n");
		return 0;
	}
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

	/* started by an upgrade: the old process's table, listeners and
	 * connections (upgrade.c); it keeps them if anything here fails */
	taking_over = cfg.handover_fd != 0;
	if (taking_over ? table_owner_attach(&cfg, &table) : table_owner_init(&cfg, &table))
		return 1;
	stats_init(table);
	relay_p = (struct relay_params){ .cfg = &cfg, .table = table, .pipes_max = pipes_max,
					 .upstream = cfg.pair.role == PAIR_ROLE_TERMINAL ?
						     pair_terminal_dial : NULL };
	relay_init(&relay_p);
	adapt_p = (struct adapt_params){ .cfg = &cfg };
	if ((rc = adapt_init(&adapt_p)))
		pr_warn("adaptive congestion control is off: %s", strerror(-rc));
	listener_p = (struct listener_params){ .cfg = &cfg, .table = table };
	upgrade_p = (struct upgrade_params){ .cfg = &cfg, .table = table, .argv = argv,
					     .lfds = lfds };
	upgrade_init(&upgrade_p);
	if (taking_over) {
		nl = upgrade_take_over(lfds, err, sizeof(err));
		if (nl < 0) {
			pr_err("cannot take over: %s", err);
			return 1; /* nothing of the old process's is touched */
		}
		nl = listener_adopt(&listener_p, lfds);
		if (cfg.daemon) /* the old one forked already */
			pepsal_log_init("pepsal", true, LOG_DAEMON, cfg.verbose);
	} else if (cfg.pair.role == PAIR_ROLE_GATEWAY) {
		nl = 0; /* a gateway does not intercept: pair connections only */
	} else {
		nl = listener_init(&listener_p, lfds, err, sizeof(err));
		if (nl < 0) {
			pr_err("%s", err);
			goto fail;
		}
	}
	/* the parent returns once we serve (ready_fd), with our status */
	if (!taking_over && cfg.daemon && (ready_fd = process_daemonize(&cfg)) < 0)
		goto fail;
	if (cfg.pid_file && (rc = pepsal_pid_file_write(cfg.pid_file))) {
		pr_err("cannot write the pid file %s: %s", cfg.pid_file, strerror(-rc));
		goto fail;
	}
	if (!taking_over && table_owner_claim(table))
		goto fail;
	pepsal_tl_init("proxy"); /* benchmarks: PEPSAL_TIMELINE */
	/* threads from here on: after the daemon's fork */
	if (cfg.pair.role == PAIR_ROLE_TERMINAL) {
		term_p = (struct pair_terminal_params){ .key = &key };
		pair_terminal_init(&term_p);
		pool_p = (struct pair_pool_params){ .cfg = &cfg, .key = &key };
		if ((rc = pair_pool_init(&pool_p)))
			pr_warn("no warm pair connections (on demand only): %s", strerror(-rc));
	} else if (cfg.pair.role == PAIR_ROLE_GATEWAY) {
		gw_p = (struct pair_gateway_params){ .cfg = &cfg, .table = table, .key = &key };
		if (pair_gateway_init(&gw_p, err, sizeof(err)) < 0) {
			pr_err("%s", err);
			goto fail;
		}
	}
	predial_p = (struct predial_params){ .cfg = &cfg, .table = table,
					     .upstream = cfg.pair.role == PAIR_ROLE_TERMINAL ?
							 pair_terminal_dial_held : NULL };
	if ((rc = predial_init(&predial_p)))
		pr_warn("SYNs will not be held (accept-first): %s", strerror(-rc));
	for (unsigned int i = 0; i < PEPSAL_MAX_QUEUES; i++)
		hold_fds[i] = predial_child_fd(i);
	queuer_init(&cfg, pepsal_table_name(table), dir, hold_fds);
	migrate_p = (struct migrate_params){ .cfg = &cfg, .table = table };
	if (migrate_init(&migrate_p, err, sizeof(err)) < 0) {
		pr_err("%s", err);
		goto fail;
	}
	timers_p = (struct timers_params){ .cfg = &cfg, .table = table };
	timers_init(&timers_p, pepsal_now_ns());
	pepsal_daemon_ready(ready_fd, true, "pepsal", cfg.verbose); /* -d: log to syslog */
	ready_fd = -1;
	if (cfg.pair.role == PAIR_ROLE_GATEWAY) {
		pr_info("pepsal %s pair gateway: pair connections on port %u from %u peer "
			"prefixes (table %s of %u entries, %u connections at most)", PEPSAL_VERSION,
			cfg.pair.listen.port, cfg.pair.npeers, pepsal_table_name(table),
			cfg.capacity, cfg.max_conns);
	} else {
		pr_info("pepsal %s (%s mode) listening on %s port %u (table %s of %u entries, "
			"%u connections at most%s)", PEPSAL_VERSION,
			cfg.mode == MODE_TPROXY ? "tproxy" : "nfqueue",
			cfg.address ? cfg.address : "all addresses", cfg.port,
			pepsal_table_name(table), cfg.capacity, cfg.max_conns,
			cfg.mode == MODE_NFQUEUE && cfg.no_queuer ? ", queuer not started" : "");
	}
	if (cfg.pair.role == PAIR_ROLE_TERMINAL) {
		char a[PEPSAL_ENDPOINT_STRLEN];

		pr_info("pair terminal: carrying connections to the gateway %s (%u warm)",
			pepsal_endpoint_format(&cfg.pair.gateway, a), cfg.pair.pool);
	}
	/* systemd (Type=notify, NotifyAccess=all): after an upgrade we are
	 * the service's main process */
	snprintf(note, sizeof(note), "MAINPID=%d\nREADY=1", (int)getpid());
	process_notify(note);

	end = main_loop(sfd, lfds, nl, &cfg);
	if (end == LOOP_HANDED_OVER) {
		/* the connections, table, role, counters and pid file are the
		 * new process's: close our copies quietly and go */
		listener_fini();
		migrate_fini();
		relay_wait_released(STOP_WAIT_NS);
		pr_info("stopped: the new process serves");
		return 0;
	}

	listener_fini();
	migrate_fini();
	pair_gateway_fini();
	predial_fini();
	all_closed = relay_fini(STOP_WAIT_NS);
	pair_pool_fini();
	adapt_fini();
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
	pepsal_daemon_ready(ready_fd, false, "pepsal", cfg.verbose);
	listener_fini();
	pair_gateway_fini();
	relay_fini(0);
	adapt_fini();
	stats_fini();
	table_owner_fini(table, true);
	return 1;
}
