// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal's command line: the one option table that parses, checks and
 * prints --help, its value parsers and the defaults.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pepsal_opts.h"
#include "proxy.h"

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

static bool parse_mode(const char *arg, void *dst, char *err, size_t errlen)
{
	if (strcmp(arg, "nfqueue") == 0)
		*(enum proxy_mode *)dst = MODE_NFQUEUE;
	else if (strcmp(arg, "tproxy") == 0)
		*(enum proxy_mode *)dst = MODE_TPROXY;
	else {
		snprintf(err, errlen, "expected nfqueue or tproxy");
		return false;
	}
	return true;
}

/* Permissions of the segment: octal, owner read-write at least (the
 * proxy and the queuer write it), nothing beyond 0666. */
static bool parse_shm_mode(const char *arg, void *dst, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 8);
	if (errno || end == arg || *end || arg[0] == '-' || v > 0666 || (v & 0600) != 0600) {
		snprintf(err, errlen, "expected octal permissions between 0600 and 0666 "
			 "(e.g. 0640), owner read-write, no execute bits");
		return false;
	}
	*(uint32_t *)dst = (uint32_t)v;
	return true;
}

static const struct pepsal_opt options[] = {
	{ "mode", 0, PEPSAL_OPT_CUSTOM, &g_proxy.cfg.mode, "MODE",
	  "interception: nfqueue (queuer + REDIRECT, default) or tproxy (TPROXY rules)",
	  0, 0, parse_mode },
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
	  "TCP_NODELAY on both legs (the default; accepted for compatibility)", 0, 0, NULL },
	{ "nagle", 0, PEPSAL_OPT_FLAG, &g_proxy.cfg.nodelay, NULL,
	  "Nagle on both legs, no TCP_NODELAY (fewer small segments; up to 40 ms "
	  "per request)", 0, 1, NULL },
	{ "shm", 0, PEPSAL_OPT_CUSTOM, &g_proxy.cfg.shm_name, "NAME",
	  "shared-memory table name (default /pepsal)", 0, 0, parse_shm },
	{ "capacity", 0, PEPSAL_OPT_U32, &g_proxy.cfg.capacity, "N",
	  "table entries (default: twice -c, at least 4224)", PEPSAL_TABLE_MIN_CAPACITY,
	  PEPSAL_TABLE_MAX_CAPACITY, NULL },
	{ "shm-mode", 0, PEPSAL_OPT_CUSTOM, &g_proxy.cfg.shm_mode, "MODE",
	  "permissions of the table's segment, octal (default 0600)", 0, 0, parse_shm_mode },
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
	{ "client-pacing", 0, PEPSAL_OPT_CUSTOM, &g_proxy.cfg.leg[LEG_CLIENT].pacing, "RATE",
	  "pace toward clients at most at RATE bits/s (k, m, g; default: no limit)",
	  0, 0, rate_parse },
	{ "server-pacing", 0, PEPSAL_OPT_CUSTOM, &g_proxy.cfg.leg[LEG_SERVER].pacing, "RATE",
	  "pace toward servers at most at RATE bits/s (default: no limit)", 0, 0, rate_parse },
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
	c->nodelay = true;
	c->connect_timeout_ns = 10 * 1000000000ull;
	c->log_interval_ns = 10 * 1000000000ull;
	c->pipe_size = 1u << 20;
	c->upstream_ports = (32767u << 16) | 20000u;
	c->shm_mode = 0600;
}

int config_parse(int argc, char **argv)
{
	int rc;

	config_defaults(&g_proxy.cfg);
	rc = pepsal_opts_parse("pepsal", "[OPTIONS]", options, argc, argv);
	if (rc == -2)
		return -1;
	if (rc < 0)
		return -2;
	if (rc < argc) {
		fprintf(stderr, "pepsal: unexpected argument '%s'\n"
			"Try 'pepsal --help' for more information.\n", argv[rc]);
		return -2;
	}
	if (g_proxy.cfg.version) {
		printf("pepsal %s\n", PEPSAL_VERSION);
		return -1;
	}
	return 0;
}
