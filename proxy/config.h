/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pepsal's configuration: what the command line sets, and the parsers of
 * its values. config.c fills a struct proxy_config; every other module
 * reads the parts it is given.
 */
#ifndef PEPSAL_PROXY_CONFIG_H
#define PEPSAL_PROXY_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pepsal_endpoint.h"
#include "pepsal_opts.h"

#define PROXY_CC_NAME_MAX 16
#define PROXY_DEFAULT_PID_FILE "/run/pepsal.pid" /* --pid-file with -d */

/* Socket options applied to one leg of every relayed connection. */
struct leg_opts {
	char cc[PROXY_CC_NAME_MAX]; /* congestion control, "" = system default */
	uint64_t sndbuf;            /* SO_SNDBUF, 0 = system default */
	uint64_t rcvbuf;            /* SO_RCVBUF, 0 = system default */
	uint64_t pacing;            /* SO_MAX_PACING_RATE, bytes/s, 0 = none */
};

/* How connections reach the proxy. */
enum proxy_mode {
	MODE_NFQUEUE = 0, /* SYNs recorded by the queuer, REDIRECTed: table lookup */
	MODE_TPROXY,      /* TPROXY: the destination is the socket's own address */
};

/* --client-cc-mode: the satellite leg's congestion control. */
enum cc_mode {
	CC_MODE_FIXED = 0, /* --client-cc for the whole connection */
	CC_MODE_ADAPTIVE,  /* --client-cc, --client-cc-lossy while the loss is not congestion */
};

enum proxy_leg {
	LEG_CLIENT = 0,
	LEG_SERVER,
	LEG_PAIR,       /* a pair connection, between two pepsals (leg[] only) */
};

/* --pair-role: one end of a pepsal pair (pair_*.c), or a single pepsal. */
enum pair_role {
	PAIR_ROLE_NONE = 0,
	PAIR_ROLE_TERMINAL, /* intercepts, carries each connection to the gateway */
	PAIR_ROLE_GATEWAY,  /* accepts pair connections, dials the servers */
};

#define PAIR_PEERS_MAX 32

/* One --pair-peer: an address prefix. */
struct pair_net {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t len;      /* prefix length */
	uint8_t addr[16];
};

/* The pair's options (config_pair.c parses them). */
struct pair_config {
	enum pair_role role;               /* --pair-role */
	struct pepsal_endpoint gateway;    /* --pair-gateway (terminal) */
	struct pepsal_endpoint listen;     /* --pair-listen (gateway), family 0: any */
	struct pair_net peers[PAIR_PEERS_MAX]; /* --pair-peer (gateway) */
	unsigned int npeers;
	const char *key_file;              /* --pair-key-file */
	uint32_t pool;                     /* --pair-pool (terminal) */
	bool hold;                         /* --pair-hold (terminal): SYNs held */
	uint64_t buffer;                   /* --pair-buffer: leg[LEG_PAIR]'s buffers */
};

/* Everything the command line sets. */
struct proxy_config {
	enum proxy_mode mode;     /* --mode */
	bool daemon;              /* -d: background, syslog */
	bool verbose;             /* -v: debug messages */
	bool fastopen;            /* -f: TCP Fast Open on both legs */
	bool version;             /* -V */
	bool check;               /* --check: check the configuration, start nothing */
	bool no_queuer;           /* do not start pepsal-queuer */
	bool accept_first;        /* --accept-first: the queuer does not hold SYNs */
	uint64_t hold_ns;         /* --hold-time: a SYN held longer passes end to end */
	uint32_t rt_priority;     /* --rt-priority: SCHED_FIFO of the SYN path, 0: none */
	bool transparent;         /* dial from the client's address */
	bool keepalive;           /* SO_KEEPALIVE on both legs (default; --no-keepalive) */
	uint64_t keepalive_idle_ns;     /* TCP_KEEPIDLE */
	uint64_t keepalive_interval_ns; /* TCP_KEEPINTVL */
	uint32_t keepalive_count;       /* TCP_KEEPCNT */
	uint64_t user_timeout_ns; /* TCP_USER_TIMEOUT, 0 = the kernel's retries */
	bool nodelay;             /* TCP_NODELAY on both legs (default; --nagle: off) */
	uint32_t port;            /* -p: listening port */
	const char *address;      /* -a: listening address, NULL = any */
	const char *conn_log;     /* -l: file of active connections */
	uint64_t gc_interval_ns;  /* -g */
	uint64_t pending_ns;      /* -t: lifetime of a pending entry */
	uint32_t max_conns;       /* -c */
	const char *shm_name;     /* --shm, points into shm_name_buf or a constant */
	char shm_name_buf[NAME_MAX + 2];
	uint32_t queue;           /* --queue: NFQUEUE number for the queuer */
	uint32_t queues;          /* --queues: queuers, on --queue and the next ones */
	struct pepsal_mark mark;  /* --mark: the queuer's on recorded SYNs */
	struct pepsal_mark route_mark; /* --route-mark: the return path's, apart from it */
	const char *queuer_path;  /* --queuer: the queuer executable */
	const char *pid_file;     /* --pid-file; with -d, PROXY_DEFAULT_PID_FILE if not given */
	uint32_t handover_fd;     /* --handover-fd: started by an upgrade, 0 = not */
	uint32_t capacity;        /* --capacity: table entries, 0 = scaled with -c */
	uint32_t shm_mode;        /* --shm-mode: permissions of the segment */
	uint64_t connect_timeout_ns; /* --connect-timeout */
	uint64_t idle_timeout_ns; /* --idle-timeout, 0 = none */
	uint64_t log_interval_ns; /* --log-interval: rewrite of -l */
	uint64_t pipe_size;       /* --pipe-size: splice chunk */
	uint32_t upstream_ports;  /* --upstream-ports: (hi << 16) | lo, 0 = system */
	struct leg_opts leg[3];   /* indexed by enum proxy_leg */
	struct pair_config pair;  /* --pair-* */
	struct pepsal_endpoint ha_peer;   /* --ha-peer: switchovers go there (family 0: none) */
	struct pepsal_endpoint ha_listen; /* --ha-listen: switchovers come here (port 0: none) */
	const char *ha_track_file; /* --ha-track-file: "1" written once a switchover is done */
	enum cc_mode cc_mode;     /* --client-cc-mode (adapt.c) */
	char cc_lossy[PROXY_CC_NAME_MAX]; /* --client-cc-lossy */
};

/* Parse the command line into CFG (defaults first): >= 0 go on, -1 exit 0
 * (help, version), -2 exit 2 (bad option; the message is printed). */
int config_parse(struct proxy_config *cfg, int argc, char **argv);

#define CONFIG_MAX_OPTS 96 /* entries of the option table, at most */
/* The option table, its destinations in CFG (static storage: valid until
 * the next call). For config_parse and the tests. */
const struct pepsal_opt *config_options(struct proxy_config *cfg);

/* Value parsers of the option table (struct pepsal_opt's parse): true and
 * *DST set, or false with ERR saying what was expected. */
bool config_parse_mode(const char *arg, void *dst, char *err, size_t errlen);
/* an IPv4 or IPv6 address literal, kept as the string given */
bool config_parse_address(const char *arg, void *dst, char *err, size_t errlen);
bool config_parse_shm_name(const char *arg, void *dst, char *err, size_t errlen);
bool config_parse_shm_mode(const char *arg, void *dst, char *err, size_t errlen);
/* N (1 to PEPSAL_MAX_QUEUES) or "auto" (online CPUs) to a uint32_t */
bool config_parse_queues(const char *arg, void *dst, char *err, size_t errlen);
/* "LO-HI" to (HI << 16) | LO, "system" to 0 */
bool config_parse_port_range(const char *arg, void *dst, char *err, size_t errlen);
/* "20m" bits/s (k, m, g: powers of 1000) to bytes/s */
bool config_parse_rate(const char *arg, void *dst, char *err, size_t errlen);
/* "fixed" or "adaptive" to enum cc_mode */
bool config_parse_cc_mode(const char *arg, void *dst, char *err, size_t errlen);
/* an available congestion control name, into a PROXY_CC_NAME_MAX buffer */
bool config_parse_cc(const char *arg, void *dst, char *err, size_t errlen);
/* config_pair.c: "terminal" or "gateway" to enum pair_role */
bool config_parse_pair_role(const char *arg, void *dst, char *err, size_t errlen);
/* ADDR[:PORT], [ADDR6][:PORT] (default port 5001) to a struct pepsal_endpoint */
bool config_parse_pair_gateway(const char *arg, void *dst, char *err, size_t errlen);
/* [ADDR]:PORT or PORT (any address) to a struct pepsal_endpoint */
bool config_parse_pair_listen(const char *arg, void *dst, char *err, size_t errlen);
/* ADDR[/LEN][,...] appended to a struct pair_config's peers */
bool config_parse_pair_peers(const char *arg, void *dst, char *err, size_t errlen);
/* After parsing: the pair options agree with the role (and the role's
 * defaults are set); false with ERR saying what is missing. */
bool config_pair_check(struct proxy_config *c, char *err, size_t errlen);

#endif
