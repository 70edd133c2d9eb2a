// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal: the proxy process. Options, the table, the queuer child, signals
 * and the main loop (accepting and the timers); the relay threads do the
 * rest (relay.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "pepsal_log.h"
#include "proxy.h"

#define FRESH_NS 3000000000ull      /* a heartbeat younger than this is alive */
#define FDS_PER_CONN 6              /* two sockets, two pipes */
#define FDS_RESERVED 64
#define STOP_WAIT_NS 5000000000ull

struct proxy g_proxy;

static const char *const counter_names[PC_COUNT] = {
	[PC_ACCEPTED] = "proxy.accepted",
	[PC_LOOKUP_MISS] = "proxy.lookup_miss",
	[PC_DIAL_FAILED] = "proxy.dial_failed",
	[PC_OVER_LIMIT] = "proxy.over_limit",
	[PC_ACTIVE] = "proxy.active",
	[PC_CLOSED] = "proxy.closed",
	[PC_RESETS] = "proxy.resets",
	[PC_IDLE_TIMEOUTS] = "proxy.idle_timeouts",
	[PC_ACCEPT_ERRORS] = "proxy.accept_errors",
	[PC_QUEUER_RESTARTS] = "proxy.queuer_restarts",
};

void proxy_count(enum proxy_counter c, uint64_t n)
{
	int idx = g_proxy.counter[c];

	if (idx < 0 || !g_proxy.table)
		return;
	if (c == PC_ACTIVE)
		pepsal_table_counter_set(g_proxy.table, idx, atomic_load(&g_proxy.active));
	else
		pepsal_table_counter_add(g_proxy.table, idx, n);
}

/* ---- the table ----------------------------------------------------------- */

/* Room for every connection served and as many pending entries (SYNs
 * recorded, not yet accepted): twice -c, at least the legacy 4224, at most
 * what the library allows. */
static uint32_t default_capacity(uint32_t max_conns)
{
	uint64_t want = 2ull * max_conns;

	if (want < PEPSAL_TABLE_DEFAULT_CAPACITY)
		want = PEPSAL_TABLE_DEFAULT_CAPACITY;
	return want > PEPSAL_TABLE_MAX_CAPACITY ? PEPSAL_TABLE_MAX_CAPACITY : (uint32_t)want;
}

/* Create the table; replace a valid one no live proxy holds; refuse the rest. */
static int table_setup(struct proxy_config *c)
{
	char err[256];
	struct pepsal_table *t;
	int rc;

	rc = pepsal_table_create(c->shm_name, c->capacity, (mode_t)c->shm_mode, &t, err, sizeof(err));
	if (rc == -EEXIST) {
		struct pepsal_table_info info;

		rc = pepsal_table_attach(c->shm_name, false, &t, err, sizeof(err));
		if (rc) {
			pr_err("%s; not touching it (remove it yourself if it is stale)", err);
			return rc;
		}
		/* the library's rule: held if its pid lives and beat recently */
		pepsal_table_get_info(t, &info);
		if (pepsal_table_claim_role(t, PEPSAL_ROLE_PROXY, getpid(), pepsal_now_ns(),
					    FRESH_NS) == -EBUSY) {
			pr_err("another pepsal (pid %d) is using the table %s",
			       (int)info.heartbeat[PEPSAL_ROLE_PROXY].pid, c->shm_name);
			pepsal_table_detach(t);
			return -EBUSY;
		}
		pepsal_table_release_role(t, PEPSAL_ROLE_PROXY, getpid());
		pr_info("replacing the stale table %s", c->shm_name);
		pepsal_table_detach(t);
		pepsal_table_unlink(c->shm_name);
		rc = pepsal_table_create(c->shm_name, c->capacity, (mode_t)c->shm_mode, &t, err, sizeof(err));
	}
	if (rc) {
		pr_err("%s", err);
		return rc;
	}
	g_proxy.table = t;
	pepsal_table_set_pending_lifetime(t, c->pending_ns);
	for (int i = 0; i < PC_COUNT; i++)
		g_proxy.counter[i] = pepsal_table_counter_register(t, counter_names[i]);
	return 0;
}

/* ---- limits ---------------------------------------------------------------- */

/* Raise RLIMIT_NOFILE to what -c needs (beyond the hard limit when
 * CAP_SYS_RESOURCE allows), else as far as allowed; never fatal. Then keep
 * -c within what the descriptors allow. */
static void limits_setup(struct proxy_config *c)
{
	uint64_t want = (uint64_t)c->max_conns * FDS_PER_CONN + FDS_RESERVED, fit;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < want) {
		struct rlimit up = { .rlim_cur = want, .rlim_max = want };

		if (rl.rlim_max >= want)
			up.rlim_max = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &up) < 0) {
			up = (struct rlimit){ .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
			if (setrlimit(RLIMIT_NOFILE, &up) < 0)
				pr_warn("cannot raise the descriptor limit: %s", strerror(errno));
		}
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	fit = rl.rlim_cur > FDS_RESERVED ? (rl.rlim_cur - FDS_RESERVED) / FDS_PER_CONN : 1;
	if (c->max_conns > fit) {
		pr_warn("%u connections need up to %llu descriptors and the limit is %llu: "
			"serving at most %llu", c->max_conns, (unsigned long long)want,
			(unsigned long long)rl.rlim_cur, (unsigned long long)fit);
		c->max_conns = (uint32_t)(fit ? fit : 1);
	}
}

/* ---- process ------------------------------------------------------------- */

/* -d changes to /: make a relative path absolute first (NULL stays NULL). */
static const char *absolute(const char *path)
{
	static char bufs[3][PATH_MAX];
	static int used;
	char cwd[PATH_MAX];

	if (!path || path[0] == '/' || used == 3 || !getcwd(cwd, sizeof(cwd)))
		return path;
	if (snprintf(bufs[used], PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX)
		return path;
	return bufs[used++];
}

static int write_pid_file(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) || rename(tmp, path) < 0) {
		int rc = -errno;

		unlink(tmp);
		return rc;
	}
	return 0;
}

static int signals_setup(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN); /* splice() cannot take MSG_NOSIGNAL */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	/* blocked before any thread exists, so only the main loop sees them */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void self_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *d;

	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	d = dirname(buf);
	memmove(buf, d, strlen(d) + 1);
}

/* Handle pending signals; returns true when the proxy must stop. */
static bool handle_signals(int sfd)
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
			if (g_proxy.cfg.daemon) {
				closelog();
				pepsal_log_init("pepsal", true, LOG_DAEMON, g_proxy.cfg.verbose);
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

static void main_loop(int sfd, const int *lfds, int nl)
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
		if ((p[0].revents & POLLIN) && handle_signals(sfd))
			return;
		for (int i = 0; i < nl; i++)
			if (p[1 + i].revents & POLLIN)
				listener_accept(lfds[i]);
	}
}

/* Stop accepting, reset what is still relayed, stop the queuer. */
static void shutdown_all(const int *lfds, int nl)
{
	uint64_t deadline = pepsal_now_ns() + STOP_WAIT_NS;
	struct timespec ts = { 0, 5000000 };

	atomic_store(&g_proxy.stopping, true);
	for (int i = 0; i < nl; i++)
		close(lfds[i]);
	conns_abort_all();
	while (atomic_load(&g_proxy.active) && pepsal_now_ns() < deadline)
		nanosleep(&ts, NULL);
	if (atomic_load(&g_proxy.active))
		pr_warn("%u connections did not close in time", atomic_load(&g_proxy.active));
	timers_conn_log_now(); /* the log does not list connections that are gone */
	queuer_stop();
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX], err[256];
	int lfds[2] = { -1, -1 }, nl, sfd, rc;

	for (int i = 0; i < PC_COUNT; i++)
		g_proxy.counter[i] = -1;
	rc = config_parse(argc, argv);
	if (rc < 0)
		return rc == -1 ? 0 : 2;
	pepsal_log_init("pepsal", false, LOG_DAEMON, g_proxy.cfg.verbose);
	/* before the port is open: a SIGTERM from then on is a clean stop */
	sfd = signals_setup();
	if (sfd < 0) {
		pr_err("cannot set up signals: %s", strerror(-sfd));
		return 1;
	}
	limits_setup(&g_proxy.cfg);
	if (!g_proxy.cfg.capacity)
		g_proxy.cfg.capacity = default_capacity(g_proxy.cfg.max_conns);
	if (table_setup(&g_proxy.cfg))
		return 1;
	nl = listener_open(&g_proxy.cfg, lfds, err, sizeof(err));
	if (nl < 0) {
		pr_err("%s", err);
		goto fail;
	}
	if (g_proxy.cfg.daemon) {
		g_proxy.cfg.conn_log = absolute(g_proxy.cfg.conn_log);
		g_proxy.cfg.pid_file = absolute(g_proxy.cfg.pid_file);
		if (g_proxy.cfg.queuer_path && strchr(g_proxy.cfg.queuer_path, '/'))
			g_proxy.cfg.queuer_path = absolute(g_proxy.cfg.queuer_path);
		if (daemon(0, 0) < 0) {
			pr_err("cannot daemonize: %s", strerror(errno));
			goto fail;
		}
		pepsal_log_init("pepsal", true, LOG_DAEMON, g_proxy.cfg.verbose);
		if (!g_proxy.cfg.pid_file)
			g_proxy.cfg.pid_file = "/run/pepsal.pid";
	}
	if (g_proxy.cfg.pid_file && (rc = write_pid_file(g_proxy.cfg.pid_file))) {
		pr_err("cannot write the pid file %s: %s", g_proxy.cfg.pid_file, strerror(-rc));
		goto fail;
	}
	rc = pepsal_table_claim_role(g_proxy.table, PEPSAL_ROLE_PROXY, getpid(),
				     pepsal_now_ns(), FRESH_NS);
	if (rc) {
		pr_err("another pepsal holds the table %s", g_proxy.cfg.shm_name);
		goto fail;
	}
	if (g_proxy.cfg.mode == MODE_TPROXY)
		g_proxy.cfg.no_queuer = true; /* TPROXY rules need no queuer */
	self_dir(dir, sizeof(dir));
	queuer_init(&g_proxy.cfg, dir);
	timers_init(pepsal_now_ns());
	pr_info("pepsal %s (%s mode) listening on %s port %u (table %s of %u entries, "
		"%u connections at most%s)", PEPSAL_VERSION,
		g_proxy.cfg.mode == MODE_TPROXY ? "tproxy" : "nfqueue",
		g_proxy.cfg.address ? g_proxy.cfg.address : "all addresses",
		g_proxy.cfg.port, g_proxy.cfg.shm_name, g_proxy.cfg.capacity,
		g_proxy.cfg.max_conns,
		g_proxy.cfg.mode == MODE_NFQUEUE && g_proxy.cfg.no_queuer ?
		", queuer not started" : "");
	main_loop(sfd, lfds, nl);
	shutdown_all(lfds, nl);
	pepsal_table_release_role(g_proxy.table, PEPSAL_ROLE_PROXY, getpid());
	pepsal_table_detach(g_proxy.table);
	pepsal_table_unlink(g_proxy.cfg.shm_name);
	if (g_proxy.cfg.pid_file)
		unlink(g_proxy.cfg.pid_file);
	pr_info("stopped");
	return 0;
fail:
	pepsal_table_detach(g_proxy.table);
	pepsal_table_unlink(g_proxy.cfg.shm_name);
	return 1;
}
