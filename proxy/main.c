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
#include "pepsal_opts.h"
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

/* ---- options ----------------------------------------------------------- */

static char shm_name_buf[256];

static bool parse_shm(const char *arg, void *dst, char *err, size_t errlen)
{
	snprintf(shm_name_buf, sizeof(shm_name_buf), "%s%s", arg[0] == '/' ? "" : "/", arg);
	if (!pepsal_shm_name_valid(shm_name_buf, err, errlen))
		return false;
	*(const char **)dst = shm_name_buf;
	return true;
}

static bool parse_mark(const char *arg, void *dst, char *err, size_t errlen)
{
	const char *orig = arg;
	unsigned long v, m;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end != '/' || v > UINT32_MAX)
		goto bad;
	arg = end + 1;
	m = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || m > UINT32_MAX || !m || (v & ~m))
		goto bad;
	*(const char **)dst = orig;
	return true;
bad:
	snprintf(err, errlen, "expected VALUE/MASK, two 32-bit numbers, the value "
		 "within a non-zero mask (e.g. 0x2/0x2)");
	return false;
}

static const struct pepsal_opt options[] = {
	{ "daemon", 'd', PEPSAL_OPT_FLAG, &g_proxy.cfg.daemon, NULL,
	  "run in the background, log to syslog, write a pid file", 0, 0, NULL },
	{ "verbose", 'v', PEPSAL_OPT_FLAG, &g_proxy.cfg.verbose, NULL,
	  "log debug messages", 0, 0, NULL },
	{ "fastopen", 'f', PEPSAL_OPT_FLAG, &g_proxy.cfg.fastopen, NULL,
	  "TCP Fast Open on both legs (enable it in net.ipv4.tcp_fastopen too)", 0, 0, NULL },
	{ "port", 'p', PEPSAL_OPT_U32, &g_proxy.cfg.port, "PORT",
	  "listening port (default 5000)", 1, 65535, NULL },
	{ "version", 'V', PEPSAL_OPT_FLAG, &g_proxy.cfg.version, NULL,
	  "print the version and exit", 0, 0, NULL },
	{ "address", 'a', PEPSAL_OPT_STRING, &g_proxy.cfg.address, "ADDR",
	  "listening address (default: all, IPv4 and IPv6)", 0, 0, NULL },
	{ "logfile", 'l', PEPSAL_OPT_STRING, &g_proxy.cfg.conn_log, "FILE",
	  "file of the active connections, rewritten periodically", 0, 0, NULL },
	{ "gc-interval", 'g', PEPSAL_OPT_DURATION, &g_proxy.cfg.gc_interval_ns, "DURATION",
	  "garbage collection of stale pending entries, every (default 15h)", 1, 0, NULL },
	{ "pending-lifetime", 't', PEPSAL_OPT_DURATION, &g_proxy.cfg.pending_ns, "DURATION",
	  "a pending entry older than this is garbage (default 5h)", 1, 0, NULL },
	{ "max-conns", 'c', PEPSAL_OPT_U32, &g_proxy.cfg.max_conns, "N",
	  "maximum relayed connections; more are reset (default 2112)", 1, 1000000, NULL },
	{ "keepalive", 'k', PEPSAL_OPT_FLAG, &g_proxy.cfg.keepalive, NULL,
	  "TCP keepalive on both legs", 0, 0, NULL },
	{ "nodelay", 'n', PEPSAL_OPT_FLAG, &g_proxy.cfg.nodelay, NULL,
	  "TCP_NODELAY (no Nagle) on both legs", 0, 0, NULL },
	{ "shm", 0, PEPSAL_OPT_CUSTOM, &g_proxy.cfg.shm_name, "NAME",
	  "shared-memory table name (default /pepsal)", 0, 0, parse_shm },
	{ "capacity", 0, PEPSAL_OPT_U32, &g_proxy.cfg.capacity, "N",
	  "table entries (default 4224)", PEPSAL_TABLE_MIN_CAPACITY,
	  PEPSAL_TABLE_MAX_CAPACITY, NULL },
	{ "queue", 0, PEPSAL_OPT_U32, &g_proxy.cfg.queue, "N",
	  "NFQUEUE number the queuer reads (default 0)", 0, 65535, NULL },
	{ "mark", 0, PEPSAL_OPT_CUSTOM, &g_proxy.cfg.mark, "VALUE/MASK",
	  "mark the queuer sets on recorded SYNs (default 0x2/0x2)", 0, 0, parse_mark },
	{ "no-queuer", 0, PEPSAL_OPT_FLAG, &g_proxy.cfg.no_queuer, NULL,
	  "do not start pepsal-queuer (it runs separately)", 0, 0, NULL },
	{ "queuer", 0, PEPSAL_OPT_STRING, &g_proxy.cfg.queuer_path, "PATH",
	  "queuer executable (default: beside pepsal, else in PATH)", 0, 0, NULL },
	{ "no-transparent", 0, PEPSAL_OPT_FLAG, &g_proxy.cfg.transparent, NULL,
	  "dial servers from the proxy's address, not the client's", 0, 1, NULL },
	{ "upstream-ports", 0, PEPSAL_OPT_CUSTOM, &g_proxy.cfg.upstream_ports, "LO-HI",
	  "source ports of transparent dials, apart from clients' (default 20000-32767)",
	  0, 0, port_range_parse },
	{ "connect-timeout", 0, PEPSAL_OPT_DURATION, &g_proxy.cfg.connect_timeout_ns,
	  "DURATION", "give up dialing a server after (default 10s)", 1, 0, NULL },
	{ "idle-timeout", 0, PEPSAL_OPT_DURATION, &g_proxy.cfg.idle_timeout_ns, "DURATION",
	  "reset connections idle for this long (default 0: never)", 0, 0, NULL },
	{ "client-cc", 0, PEPSAL_OPT_CUSTOM, g_proxy.cfg.leg[LEG_CLIENT].cc, "ALGO",
	  "congestion control toward clients", 0, 0, cc_parse },
	{ "server-cc", 0, PEPSAL_OPT_CUSTOM, g_proxy.cfg.leg[LEG_SERVER].cc, "ALGO",
	  "congestion control toward servers", 0, 0, cc_parse },
	{ "client-sndbuf", 0, PEPSAL_OPT_SIZE, &g_proxy.cfg.leg[LEG_CLIENT].sndbuf, "SIZE",
	  "send buffer toward clients (default: system)", 4096, 1u << 30, NULL },
	{ "client-rcvbuf", 0, PEPSAL_OPT_SIZE, &g_proxy.cfg.leg[LEG_CLIENT].rcvbuf, "SIZE",
	  "receive buffer from clients (default: system)", 4096, 1u << 30, NULL },
	{ "server-sndbuf", 0, PEPSAL_OPT_SIZE, &g_proxy.cfg.leg[LEG_SERVER].sndbuf, "SIZE",
	  "send buffer toward servers (default: system)", 4096, 1u << 30, NULL },
	{ "server-rcvbuf", 0, PEPSAL_OPT_SIZE, &g_proxy.cfg.leg[LEG_SERVER].rcvbuf, "SIZE",
	  "receive buffer from servers (default: system)", 4096, 1u << 30, NULL },
	{ "pipe-size", 0, PEPSAL_OPT_SIZE, &g_proxy.cfg.pipe_size, "SIZE",
	  "splice chunk (pipe) size per direction (default 1m)", 4096, 1u << 30, NULL },
	{ "log-interval", 0, PEPSAL_OPT_DURATION, &g_proxy.cfg.log_interval_ns, "DURATION",
	  "rewrite the -l file every (default 10s)", 1, 0, NULL },
	{ "pid-file", 0, PEPSAL_OPT_STRING, &g_proxy.cfg.pid_file, "FILE",
	  "pid file with -d (default /run/pepsal.pid)", 0, 0, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
};

static void config_defaults(struct proxy_config *c)
{
	c->port = 5000;
	c->gc_interval_ns = 15 * 3600 * 1000000000ull;
	c->pending_ns = 5 * 3600 * 1000000000ull;
	c->max_conns = 2112;
	c->shm_name = PEPSAL_SHM_DEFAULT_NAME;
	c->mark = "0x2/0x2";
	c->transparent = true;
	c->connect_timeout_ns = 10 * 1000000000ull;
	c->log_interval_ns = 10 * 1000000000ull;
	c->pipe_size = 1u << 20;
	c->upstream_ports = (32767u << 16) | 20000u;
}

/* ---- the table ----------------------------------------------------------- */

/* Create the table; replace a valid one no live proxy holds; refuse the rest. */
static int table_setup(struct proxy_config *c)
{
	char err[256];
	struct pepsal_table *t;
	int rc;

	rc = pepsal_table_create(c->shm_name, c->capacity, 0, &t, err, sizeof(err));
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
		rc = pepsal_table_create(c->shm_name, c->capacity, 0, &t, err, sizeof(err));
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

	config_defaults(&g_proxy.cfg);
	for (int i = 0; i < PC_COUNT; i++)
		g_proxy.counter[i] = -1;
	rc = pepsal_opts_parse("pepsal", "[OPTIONS]", options, argc, argv);
	if (rc == -2)
		return 0;
	if (rc < 0)
		return 2;
	if (rc < argc) {
		fprintf(stderr, "pepsal: unexpected argument '%s'\n"
			"Try 'pepsal --help' for more information.\n", argv[rc]);
		return 2;
	}
	if (g_proxy.cfg.version) {
		printf("pepsal %s\n", PEPSAL_VERSION);
		return 0;
	}
	pepsal_log_init("pepsal", false, LOG_DAEMON, g_proxy.cfg.verbose);
	/* before the port is open: a SIGTERM from then on is a clean stop */
	sfd = signals_setup();
	if (sfd < 0) {
		pr_err("cannot set up signals: %s", strerror(-sfd));
		return 1;
	}
	limits_setup(&g_proxy.cfg);
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
	self_dir(dir, sizeof(dir));
	queuer_init(&g_proxy.cfg, dir);
	timers_init(pepsal_now_ns());
	pr_info("pepsal %s listening on %s port %u (table %s, %u connections at most%s)",
		PEPSAL_VERSION, g_proxy.cfg.address ? g_proxy.cfg.address : "all addresses",
		g_proxy.cfg.port, g_proxy.cfg.shm_name, g_proxy.cfg.max_conns,
		g_proxy.cfg.no_queuer ? ", queuer not started" : "");
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
