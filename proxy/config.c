// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal's command line: the one option table that parses, checks and
 * prints --help, the parsers of its values, and the defaults.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "pepsal_opts.h"
#include "pepsal_table.h"

#define CC_AVAILABLE "/proc/sys/net/ipv4/tcp_available_congestion_control"

/* ---- value parsers ------------------------------------------------------ */

bool config_parse_shm_name(const char *arg, void *dst, char *err, size_t errlen)
{
	char *buf = dst; /* NAME_MAX + 2 bytes: "/" and the name */

	if (!pepsal_shm_name_valid(arg, err, errlen))
		return false;
	snprintf(buf, NAME_MAX + 2, "%s%s", arg[0] == '/' ? "" : "/", arg);
	return true;
}

/* N queues (1 to PEPSAL_MAX_QUEUES) or "auto": one per CPU we may run on
 * (the affinity mask, as nproc(1) counts them: pepsal-iptables uses nproc,
 * and a service's CPUAffinity= applies to both). */
bool config_parse_queues(const char *arg, void *dst, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	if (strcmp(arg, "auto") == 0) {
		cpu_set_t set;
		long n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) :
			 sysconf(_SC_NPROCESSORS_ONLN);

		v = n < 1 ? 1 : n > PEPSAL_MAX_QUEUES ? PEPSAL_MAX_QUEUES : (unsigned long)n;
	} else {
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-' || v < 1 ||
		    v > PEPSAL_MAX_QUEUES) {
			snprintf(err, errlen, "expected a number of queues from 1 to %d, or auto",
				 PEPSAL_MAX_QUEUES);
			return false;
		}
	}
	*(uint32_t *)dst = (uint32_t)v;
	return true;
}

/* -a: an IPv4 or IPv6 address, kept as given (the listener binds it). */
bool config_parse_address(const char *arg, void *dst, char *err, size_t errlen)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, arg, addr) != 1 && inet_pton(AF_INET6, arg, addr) != 1) {
		snprintf(err, errlen, "expected an IPv4 or IPv6 address (198.18.0.1, fd00::1)");
		return false;
	}
	*(const char **)dst = arg;
	return true;
}

bool config_parse_mode(const char *arg, void *dst, char *err, size_t errlen)
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
bool config_parse_shm_mode(const char *arg, void *dst, char *err, size_t errlen)
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

/* A decimal number of at most 5 digits at *S, moving *S past it; -1 if none. */
static long port_at(const char **s)
{
	long v = 0;
	int n = 0;

	while (**s >= '0' && **s <= '9' && n < 6) {
		v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	return n && n <= 5 ? v : -1;
}

bool config_parse_port_range(const char *arg, void *dst, char *err, size_t errlen)
{
	const char *s = arg;
	long lo, hi = -1;

	if (strcmp(arg, "system") == 0) {
		*(uint32_t *)dst = 0;
		return true;
	}
	lo = port_at(&s);
	if (lo >= 0 && *s == '-') {
		s++;
		hi = port_at(&s);
	}
	if (lo < 1 || hi < 0 || *s || hi > 65535 || lo > hi) {
		snprintf(err, errlen, "expected LO-HI, two ports with LO <= HI (e.g. 20000-32767), or 'system'");
		return false;
	}
	*(uint32_t *)dst = ((uint32_t)hi << 16) | (uint32_t)lo;
	return true;
}

bool config_parse_rate(const char *arg, void *dst, char *err, size_t errlen)
{
	unsigned long long v, mult = 1;
	int end = 0;

	if (arg[0] < '0' || arg[0] > '9' || sscanf(arg, "%llu%n", &v, &end) != 1)
		goto bad;
	switch (arg[end]) {
	case 'k': case 'K': mult = 1000ull; end++; break;
	case 'm': case 'M': mult = 1000000ull; end++; break;
	case 'g': case 'G': mult = 1000000000ull; end++; break;
	}
	if (arg[end] || v == 0 || v > 1000000000000ull / mult || v * mult < 8000)
		goto bad;
	*(uint64_t *)dst = v * mult / 8;
	return true;
bad:
	snprintf(err, errlen, "expected a rate in bits/s from 8k to 1000g, with an optional "
		 "k, m or g suffix (e.g. 20m)");
	return false;
}

static bool cc_available(const char *name)
{
	char line[512], *tok, *save = NULL;
	FILE *f = fopen(CC_AVAILABLE, "re");
	bool found = false;

	if (!f)
		return true; /* cannot tell: let setsockopt decide */
	if (fgets(line, sizeof(line), f))
		for (tok = strtok_r(line, " \n", &save); tok && !found;
		     tok = strtok_r(NULL, " \n", &save))
			found = strcmp(tok, name) == 0;
	fclose(f);
	return found;
}

bool config_parse_cc(const char *arg, void *dst, char *err, size_t errlen)
{
	if (!arg[0] || strlen(arg) >= PROXY_CC_NAME_MAX) {
		snprintf(err, errlen, "congestion control names are 1 to %d characters",
			 PROXY_CC_NAME_MAX - 1);
		return false;
	}
	if (!cc_available(arg)) {
		snprintf(err, errlen, "not an available congestion control (see %s)",
			 CC_AVAILABLE);
		return false;
	}
	snprintf(dst, PROXY_CC_NAME_MAX, "%s", arg);
	return true;
}

bool config_parse_cc_mode(const char *arg, void *dst, char *err, size_t errlen)
{
	if (strcmp(arg, "fixed") == 0)
		*(enum cc_mode *)dst = CC_MODE_FIXED;
	else if (strcmp(arg, "adaptive") == 0)
		*(enum cc_mode *)dst = CC_MODE_ADAPTIVE;
	else {
		snprintf(err, errlen, "expected fixed or adaptive");
		return false;
	}
	return true;
}

/* ---- the option table ------------------------------------------------------ */

static void config_defaults(struct proxy_config *c)
{
	memset(c, 0, sizeof(*c));
	c->port = 5000;
	c->gc_interval_ns = 10 * 1000000000ull;
	c->pending_ns = 120 * 1000000000ull;
	c->max_conns = 2112;
	c->shm_name = PEPSAL_SHM_DEFAULT_NAME;
	c->mark = PEPSAL_DEFAULT_MARK;
	c->route_mark = PEPSAL_DEFAULT_ROUTE_MARK;
	c->queues = 1;
	c->transparent = true;
	c->nodelay = true;
	c->connect_timeout_ns = 10 * 1000000000ull;
	c->hold_ns = 3 * 1000000000ull;
	c->rt_priority = 1;
	c->log_interval_ns = 10 * 1000000000ull;
	c->pipe_size = 1u << 20;
	c->upstream_ports = (32767u << 16) | 20000u;
	c->shm_mode = 0600;
	/* dead peers (a satellite terminal switched off, a handover): an idle
	 * connection is probed after 60 s and given up after 6 probes 20 s
	 * apart (3 minutes); unacknowledged data is given up after 120 s,
	 * 200 round trips of a GEO link and longer than a rain fade */
	c->keepalive = true;
	c->keepalive_idle_ns = 60 * 1000000000ull;
	c->keepalive_interval_ns = 20 * 1000000000ull;
	c->keepalive_count = 6;
	c->user_timeout_ns = 120 * 1000000000ull;
	c->cc_mode = CC_MODE_ADAPTIVE;
	/* the pair leg: a satellite's bandwidth-delay product from the start */
	c->pair.pool = 16;
	c->pair.buffer = 16u << 20;
	snprintf(c->cc_lossy, sizeof(c->cc_lossy), "bbr");
}

const struct pepsal_opt *config_options(struct proxy_config *c)
{
	const struct pepsal_opt options[] = {
	{ "mode", 0, PEPSAL_OPT_CUSTOM, &c->mode, "MODE",
	  "interception: nfqueue, the queuer and REDIRECT, or tproxy, TPROXY rules "
	  "(default nfqueue)",
	  0, 0, config_parse_mode },
	{ "daemon", 'd', PEPSAL_OPT_FLAG, &c->daemon, NULL,
	  "run in the background, log to syslog, write a pid file", 0, 0, NULL },
	{ "verbose", 'v', PEPSAL_OPT_FLAG, &c->verbose, NULL,
	  "log debug messages", 0, 0, NULL },
	{ "fastopen", 'f', PEPSAL_OPT_FLAG, &c->fastopen, NULL,
	  "TCP Fast Open on both legs (enable it in net.ipv4.tcp_fastopen too)", 0, 0, NULL },
	{ "port", 'p', PEPSAL_OPT_U32, &c->port, "PORT",
	  "listening port (default 5000)", 1, 65535, NULL },
	{ "version", 'V', PEPSAL_OPT_FLAG, &c->version, NULL,
	  "print the version and exit", 0, 0, NULL },
	{ "check", 0, PEPSAL_OPT_FLAG, &c->check, NULL,
	  "check the options, the key file and the queuer program, start nothing; "
	  "status 0 if pepsal would start with them", 0, 0, NULL },
	{ "address", 'a', PEPSAL_OPT_CUSTOM, &c->address, "ADDR",
	  "listening address (default: all, IPv4 and IPv6)", 0, 0, config_parse_address },
	{ "logfile", 'l', PEPSAL_OPT_STRING, &c->conn_log, "FILE",
	  "file of the active connections, rewritten periodically", 0, 0, NULL },
	{ "gc-interval", 'g', PEPSAL_OPT_DURATION, &c->gc_interval_ns, "DURATION",
	  "garbage collection of stale pending entries, every (default 10s)", 1, 0, NULL },
	{ "pending-lifetime", 't', PEPSAL_OPT_DURATION, &c->pending_ns, "DURATION",
	  "a pending entry whose last SYN is older than this is garbage (default 2m)", 1, 0, NULL },
	{ "max-conns", 'c', PEPSAL_OPT_U32, &c->max_conns, "N",
	  "maximum relayed connections; more are reset (default 2112)", 1, 1000000, NULL },
	{ "keepalive", 'k', PEPSAL_OPT_FLAG, &c->keepalive, NULL,
	  "TCP keepalive on both legs (the default)", 0, 0, NULL },
	{ "no-keepalive", 0, PEPSAL_OPT_CLEAR, &c->keepalive, NULL,
	  "no TCP keepalive: a vanished idle peer holds its connection", 0, 0, NULL },
	{ "keepalive-idle", 0, PEPSAL_OPT_DURATION, &c->keepalive_idle_ns, "DURATION",
	  "first keepalive probe after this much silence (default 60s)", 1000000000ull,
	  32767 * 1000000000ull, NULL },
	{ "keepalive-interval", 0, PEPSAL_OPT_DURATION, &c->keepalive_interval_ns, "DURATION",
	  "between keepalive probes (default 20s)", 1000000000ull, 32767 * 1000000000ull,
	  NULL },
	{ "keepalive-count", 0, PEPSAL_OPT_U32, &c->keepalive_count, "N",
	  "unanswered probes before the peer is dead (default 6)", 1, 127, NULL },
	{ "user-timeout", 0, PEPSAL_OPT_DURATION, &c->user_timeout_ns, "DURATION",
	  "reset a leg whose sent data stays unacknowledged this long (default 120s, "
	  "0: the kernel's retries)", 0, 2147483ull * 1000000000ull, NULL },
	{ "nodelay", 'n', PEPSAL_OPT_FLAG, &c->nodelay, NULL,
	  "TCP_NODELAY on both legs (the default; accepted for compatibility)", 0, 0, NULL },
	{ "nagle", 0, PEPSAL_OPT_CLEAR, &c->nodelay, NULL,
	  "Nagle on both legs, no TCP_NODELAY (fewer small segments; up to 40 ms "
	  "per request)", 0, 0, NULL },
	{ "shm", 0, PEPSAL_OPT_CUSTOM, c->shm_name_buf, "NAME",
	  "shared-memory table name (default /pepsal)", 0, 0, config_parse_shm_name },
	{ "capacity", 0, PEPSAL_OPT_U32, &c->capacity, "N",
	  "table entries, 16 or more (default: twice -c, at least 4224)",
	  PEPSAL_TABLE_MIN_CAPACITY,
	  PEPSAL_TABLE_MAX_CAPACITY, NULL },
	{ "shm-mode", 0, PEPSAL_OPT_CUSTOM, &c->shm_mode, "MODE",
	  "permissions of the table's segment, octal (default 0600)", 0, 0,
	  config_parse_shm_mode },
	{ "queue", 0, PEPSAL_OPT_U32, &c->queue, "N",
	  "NFQUEUE number the queuer reads (default 0)", 0, 65535, NULL },
	{ "queues", 0, PEPSAL_OPT_CUSTOM, &c->queues, "N",
	  "NFQUEUEs --queue to --queue+N-1, one queuer each (default 1; auto: one per "
	  "CPU it may run on)", 0, 0, config_parse_queues },
	{ "mark", 0, PEPSAL_OPT_CUSTOM, &c->mark, "VALUE[/MASK]",
	  "mark the queuer sets on recorded SYNs (default 0x2/0x2)", 0, 0, pepsal_opt_mark },
	{ "route-mark", 0, PEPSAL_OPT_CUSTOM, &c->route_mark, "VALUE[/MASK]",
	  "routing mark of the transparent return path (pepsal-iptables --route-mark), "
	  "apart from --mark (default 0x1/0x1)", 0, 0, pepsal_opt_mark },
	{ "no-queuer", 0, PEPSAL_OPT_FLAG, &c->no_queuer, NULL,
	  "do not start pepsal-queuer (it runs separately)", 0, 0, NULL },
	{ "accept-first", 0, PEPSAL_OPT_FLAG, &c->accept_first, NULL,
	  "accept clients before their server answered (legacy): refusals and "
	  "unreachable servers become resets", 0, 0, NULL },
	{ "hold-time", 0, PEPSAL_OPT_DURATION, &c->hold_ns, "DURATION",
	  "the queuer holds a SYN while the server is dialed at most this long, "
	  "then lets it through end to end (default 3s)", 100000000ull,
	  60 * 1000000000ull, NULL },
	{ "rt-priority", 0, PEPSAL_OPT_U32, &c->rt_priority, "N",
	  "SCHED_FIFO priority of the SYN path (the queuers, the predial thread), "
	  "0: nice -10 only (default 1)", 0, 99, NULL },
	{ "queuer", 0, PEPSAL_OPT_STRING, &c->queuer_path, "PATH",
	  "queuer executable (default: beside pepsal, else in PATH)", 0, 0, NULL },
	{ "no-transparent", 0, PEPSAL_OPT_CLEAR, &c->transparent, NULL,
	  "dial servers from the proxy's address, not the client's", 0, 0, NULL },
	{ "upstream-ports", 0, PEPSAL_OPT_CUSTOM, &c->upstream_ports, "LO-HI",
	  "source ports of transparent dials, apart from clients' (default 20000-32767)",
	  0, 0, config_parse_port_range },
	{ "connect-timeout", 0, PEPSAL_OPT_DURATION, &c->connect_timeout_ns,
	  "DURATION", "give up dialing a server after (default 10s)", 1, 0, NULL },
	{ "idle-timeout", 0, PEPSAL_OPT_DURATION, &c->idle_timeout_ns, "DURATION",
	  "reset connections idle for this long (default 0: never)", 0, 0, NULL },
	{ "client-cc", 0, PEPSAL_OPT_CUSTOM, c->leg[LEG_CLIENT].cc, "ALGO",
	  "congestion control toward clients", 0, 0, config_parse_cc },
	{ "client-cc-mode", 0, PEPSAL_OPT_CUSTOM, &c->cc_mode, "MODE",
	  "fixed: --client-cc throughout; adaptive: --client-cc-lossy while the client "
	  "leg loses packets without queueing (default adaptive)", 0, 0,
	  config_parse_cc_mode },
	{ "client-cc-lossy", 0, PEPSAL_OPT_CUSTOM, c->cc_lossy, "ALGO",
	  "congestion control of a lossy client leg in adaptive mode (default bbr)", 0, 0,
	  config_parse_cc },
	{ "server-cc", 0, PEPSAL_OPT_CUSTOM, c->leg[LEG_SERVER].cc, "ALGO",
	  "congestion control toward servers", 0, 0, config_parse_cc },
	{ "client-sndbuf", 0, PEPSAL_OPT_SIZE, &c->leg[LEG_CLIENT].sndbuf, "SIZE",
	  "send buffer toward clients (default: system)", 4096, 1u << 30, NULL },
	{ "client-rcvbuf", 0, PEPSAL_OPT_SIZE, &c->leg[LEG_CLIENT].rcvbuf, "SIZE",
	  "receive buffer from clients (default: system)", 4096, 1u << 30, NULL },
	{ "server-sndbuf", 0, PEPSAL_OPT_SIZE, &c->leg[LEG_SERVER].sndbuf, "SIZE",
	  "send buffer toward servers (default: system)", 4096, 1u << 30, NULL },
	{ "server-rcvbuf", 0, PEPSAL_OPT_SIZE, &c->leg[LEG_SERVER].rcvbuf, "SIZE",
	  "receive buffer from servers (default: system)", 4096, 1u << 30, NULL },
	{ "client-pacing", 0, PEPSAL_OPT_CUSTOM, &c->leg[LEG_CLIENT].pacing, "RATE",
	  "pace toward clients at most at RATE bits/s (k, m, g; default: no limit)",
	  0, 0, config_parse_rate },
	{ "server-pacing", 0, PEPSAL_OPT_CUSTOM, &c->leg[LEG_SERVER].pacing, "RATE",
	  "pace toward servers at most at RATE bits/s (default: no limit)", 0, 0,
	  config_parse_rate },
	{ "pipe-size", 0, PEPSAL_OPT_SIZE, &c->pipe_size, "SIZE",
	  "size of each pooled splice pipe (default 1m)", 4096, 1u << 30, NULL },
	{ "log-interval", 0, PEPSAL_OPT_DURATION, &c->log_interval_ns, "DURATION",
	  "rewrite the -l file every (default 10s)", 1, 0, NULL },
	{ "pid-file", 0, PEPSAL_OPT_STRING, &c->pid_file, "FILE",
	  "pid file with -d (default " PROXY_DEFAULT_PID_FILE ")", 0, 0, NULL },
	{ "pair-role", 0, PEPSAL_OPT_CUSTOM, &c->pair.role, "ROLE",
	  "one end of a pepsal pair: terminal (carries connections to the gateway) or "
	  "gateway (dials the servers)", 0, 0, config_parse_pair_role },
	{ "pair-gateway", 0, PEPSAL_OPT_CUSTOM, &c->pair.gateway, "ADDR[:PORT]",
	  "terminal: the gateway pepsal (port 5001 if none is given)", 0, 0,
	  config_parse_pair_gateway },
	{ "pair-pool", 0, PEPSAL_OPT_U32, &c->pair.pool, "N",
	  "terminal: pair connections kept open and ready (default 16)", 0, 100000, NULL },
	{ "pair-hold", 0, PEPSAL_OPT_FLAG, &c->pair.hold, NULL,
	  "terminal: hold each SYN until the gateway's dial answered (true refusals, "
	  "one more satellite round trip per connection)", 0, 0, NULL },
	{ "pair-listen", 0, PEPSAL_OPT_CUSTOM, &c->pair.listen, "[ADDR]:PORT",
	  "gateway: where pair connections are accepted", 0, 0, config_parse_pair_listen },
	{ "pair-peer", 0, PEPSAL_OPT_CUSTOM, &c->pair, "ADDR[/LEN],...",
	  "gateway: terminals allowed to connect (repeatable)", 0, 0, config_parse_pair_peers },
	{ "pair-key-file", 0, PEPSAL_OPT_STRING, &c->pair.key_file, "FILE",
	  "the pair's pre-shared key (16 to 256 bytes)", 0, 0, NULL },
	{ "pair-cc", 0, PEPSAL_OPT_CUSTOM, c->leg[LEG_PAIR].cc, "ALGO",
	  "congestion control of the pair connections", 0, 0, config_parse_cc },
	{ "pair-buffer", 0, PEPSAL_OPT_SIZE, &c->pair.buffer, "SIZE",
	  "send and receive buffers of the pair connections (default 16m)", 4096, 1u << 30,
	  NULL },
	{ "pair-rate", 0, PEPSAL_OPT_CUSTOM, &c->leg[LEG_PAIR].pacing, "RATE",
	  "pace the pair connections at most at RATE bits/s (default: no limit)", 0, 0,
	  config_parse_rate },
	{ "ha-peer", 0, PEPSAL_OPT_CUSTOM, &c->ha_peer, "ADDR[:PORT]",
	  "the other box of two: SIGUSR1 moves every connection there (port 5001 if none "
	  "is given)", 0, 0, config_parse_pair_gateway },
	{ "ha-listen", 0, PEPSAL_OPT_CUSTOM, &c->ha_listen, "[ADDR]:PORT",
	  "take the connections the other box (--ha-peer) moves here", 0, 0,
	  config_parse_pair_listen },
	{ "ha-track-file", 0, PEPSAL_OPT_STRING, &c->ha_track_file, "FILE",
	  "write 1 to FILE when a switchover is done (keepalived's vrrp_track_file)", 0, 0,
	  NULL },
	{ "handover-fd", 0, PEPSAL_OPT_U32, &c->handover_fd, "FD",
	  "take over from the pepsal upgrading through FD (SIGUSR2 sets it)", 3, INT_MAX,
	  NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
	};
	static struct pepsal_opt table[sizeof(options) / sizeof(options[0])];

	_Static_assert(sizeof(options) / sizeof(options[0]) <= CONFIG_MAX_OPTS,
		       "CONFIG_MAX_OPTS holds the table");
	memcpy(table, options, sizeof(options));
	return table;
}

/* Options a role has no use for: given anyway, they are refused, not
 * ignored (a gateway intercepts nothing: no listener, no queuer; without a
 * role there is no pair). */
static const char *const not_on_gateway[] = {
	"mode", "address", "port", "queue", "queues", "mark", "no-queuer", "queuer",
	"accept-first", "hold-time", "pair-gateway", "pair-pool", "pair-hold", NULL,
};
static const char *const not_on_terminal[] = { "pair-listen", "pair-peer", NULL };

static int roles_check(const struct proxy_config *c, const struct pepsal_opt *options,
		       const bool *given)
{
	const char *const *unused = c->pair.role == PAIR_ROLE_GATEWAY ? not_on_gateway :
				    c->pair.role == PAIR_ROLE_TERMINAL ? not_on_terminal : NULL;
	int bad = 0;

	for (size_t i = 0; options[i].name; i++) {
		const char *name = options[i].name;

		if (!given[i])
			continue;
		if (!c->pair.role && strncmp(name, "pair-", 5) == 0 &&
		    strcmp(name, "pair-role") != 0) {
			fprintf(stderr, "pepsal: --%s needs --pair-role\n", name);
			bad++;
		}
		for (size_t u = 0; unused && unused[u]; u++) {
			if (strcmp(name, unused[u]) != 0)
				continue;
			fprintf(stderr, "pepsal: --%s does not apply to --pair-role %s%s\n", name,
				c->pair.role == PAIR_ROLE_GATEWAY ? "gateway" : "terminal",
				c->pair.role == PAIR_ROLE_GATEWAY ?
				" (it intercepts nothing: no listener, no queuer)" : "");
			bad++;
		}
	}
	return bad;
}

int config_parse(struct proxy_config *c, int argc, char **argv)
{
	const struct pepsal_opt *options;
	bool given[CONFIG_MAX_OPTS];
	char err[256];
	int rc;

	config_defaults(c);
	options = config_options(c);
	rc = pepsal_opts_parse_given("pepsal", "[OPTIONS]", options, argc, argv, given);
	if (rc == -2)
		return -1;
	if (rc < 0)
		return -2;
	if (rc < argc) {
		fprintf(stderr, "pepsal: unexpected argument '%s'\n"
			"Try 'pepsal --help' for more information.\n", argv[rc]);
		return -2;
	}
	if (c->shm_name_buf[0])
		c->shm_name = c->shm_name_buf;
	if (c->version) {
		printf("pepsal %s\n", PEPSAL_VERSION);
		return -1;
	}
	if (c->daemon && !c->pid_file)
		c->pid_file = PROXY_DEFAULT_PID_FILE;
	if (roles_check(c, options, given)) {
		fprintf(stderr, "Try 'pepsal --help' for more information.\n");
		return -2;
	}
	if (c->queue + c->queues - 1 > 65535) {
		fprintf(stderr, "pepsal: --queue %u with --queues %u goes past queue 65535\n",
			c->queue, c->queues);
		return -2;
	}
	/* the queuer's mark and the REDIRECT by it: nfqueue mode, not on a gateway */
	if (c->mode == MODE_NFQUEUE && c->pair.role != PAIR_ROLE_GATEWAY &&
	    !pepsal_marks_apart(&c->mark, &c->route_mark, err, sizeof(err))) {
		fprintf(stderr, "pepsal: %s (--mark, --route-mark)\n", err);
		return -2;
	}
	if (!config_pair_check(c, err, sizeof(err))) {
		fprintf(stderr, "pepsal: %s\nTry 'pepsal --help' for more information.\n", err);
		return -2;
	}
	return 0;
}
