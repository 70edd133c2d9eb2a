/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pepsal, the proxy: what its modules share. main.c owns the configuration
 * and the process; listener.c accepts; dial.c connects upstream; relay.c
 * moves the bytes with a pair of threads; conn.c keeps the set of live
 * connections; timers.c the periodic work; queuer_child.c the queuer.
 */
#ifndef PEPSAL_PROXY_H
#define PEPSAL_PROXY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "pepsal_endpoint.h"
#include "pepsal_table.h"

#define PROXY_CC_NAME_MAX 16

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

/* Everything the command line sets. */
struct proxy_config {
	enum proxy_mode mode;     /* --mode */
	bool daemon;              /* -d: background, syslog */
	bool verbose;             /* -v: debug messages */
	bool fastopen;            /* -f: TCP Fast Open on both legs */
	bool version;             /* -V */
	bool no_queuer;           /* do not start pepsal-queuer */
	bool transparent;         /* dial from the client's address */
	bool keepalive;           /* -k: SO_KEEPALIVE on both legs */
	bool nodelay;             /* TCP_NODELAY on both legs (default; --nagle: off) */
	uint32_t port;            /* -p: listening port */
	const char *address;      /* -a: listening address, NULL = any */
	const char *conn_log;     /* -l: file of active connections */
	uint64_t gc_interval_ns;  /* -g */
	uint64_t pending_ns;      /* -t: lifetime of a pending entry */
	uint32_t max_conns;       /* -c */
	const char *shm_name;     /* --shm */
	uint32_t queue;           /* --queue: NFQUEUE number for the queuer */
	const char *mark;         /* --mark VALUE/MASK for the queuer */
	const char *queuer_path;  /* --queuer: the queuer executable */
	const char *pid_file;     /* --pid-file */
	uint32_t capacity;        /* --capacity: table entries, 0 = scaled with -c */
	uint32_t shm_mode;        /* --shm-mode: permissions of the segment */
	uint64_t connect_timeout_ns; /* --connect-timeout */
	uint64_t idle_timeout_ns; /* --idle-timeout, 0 = none */
	uint64_t log_interval_ns; /* --log-interval: rewrite of -l */
	uint64_t pipe_size;       /* --pipe-size: splice chunk */
	uint32_t upstream_ports;  /* --upstream-ports: (hi << 16) | lo, 0 = system */
	struct leg_opts leg[2];   /* indexed by enum proxy_leg */
};

enum proxy_leg {
	LEG_CLIENT = 0,
	LEG_SERVER,
};

/* Counter indexes in the table ("proxy.<name>"). */
enum proxy_counter {
	PC_ACCEPTED = 0,
	PC_LOOKUP_MISS,
	PC_DIAL_FAILED,
	PC_OVER_LIMIT,
	PC_ACTIVE,
	PC_CLOSED,
	PC_RESETS,
	PC_IDLE_TIMEOUTS,
	PC_ACCEPT_ERRORS,
	PC_QUEUER_RESTARTS,
	PC_COUNT,
};

/* Process-wide state shared by the threads. */
struct proxy {
	struct proxy_config cfg;
	struct pepsal_table *table;
	int counter[PC_COUNT];    /* table counter index, <0: not registered */
	atomic_uint active;       /* connections currently held */
	atomic_bool stopping;     /* SIGTERM seen: no new work */
};

extern struct proxy g_proxy;

/* ---- config.c ---- */
/* Parse the command line into g_proxy.cfg: >= 0 go on, -1 exit 0 (help,
 * version), -2 exit 2 (bad option; the message is printed). */
int config_parse(int argc, char **argv);

void proxy_count(enum proxy_counter c, uint64_t n);

/* ---- listener.c ---- */
/* Open the listening sockets (v4 and v6, or the family of -a); returns how
 * many (at least 1) or a negative errno with ERR filled. */
int listener_open(const struct proxy_config *cfg, int fds[2], char *err, size_t errlen);
/* Accept everything pending on FD and start a connection for each. */
void listener_accept(int fd);

/* ---- sockopt.c ---- */
/* Apply the leg's options (cc, buffers, nodelay, keepalive) to FD. */
int leg_apply(int fd, enum proxy_leg leg, const struct proxy_config *cfg,
	      char *err, size_t errlen);
/* "LO-HI" to (HI << 16) | LO (option parser). */
bool port_range_parse(const char *arg, void *dst, char *err, size_t errlen);
/* "20m" bits/s (k, m, g: powers of 1000) to bytes/s (option parser). */
bool rate_parse(const char *arg, void *dst, char *err, size_t errlen);
/* Is NAME an available congestion control? (option parser) */
bool cc_parse(const char *arg, void *dst, char *err, size_t errlen);
/* Close FD so that the peer gets a RST. */
void sock_reset_close(int fd);
/* Abort a socket other threads may block on: RST to the peer, wakes them. */
void sock_abort(int fd);

/* ---- dial.c ---- */
/* Connect to DST, from CLIENT's address if transparent; non-blocking with
 * the configured timeout. Returns the connected (blocking) fd or -errno. */
int dial_upstream(const struct pepsal_endpoint *client,
		  const struct pepsal_endpoint *dst, const struct proxy_config *cfg);

/* ---- relay.c ---- */
/* One relayed connection: shared by its two threads and the connection list. */
struct conn {
	struct conn *prev, *next;     /* the list of live connections (conn.c) */
	_Atomic int fd[2];            /* indexed by enum proxy_leg; -1: none yet */
	struct pepsal_endpoint client; /* the client as the proxy sees it */
	struct pepsal_endpoint dst;   /* original destination */
	uint32_t slot, gen;           /* its table entry */
	atomic_int refs;              /* threads still using it */
	atomic_bool aborted;          /* reset: both sides were aborted */
	atomic_uint dirs_done;        /* directions that saw EOF */
	_Atomic uint64_t bytes[2];    /* indexed by enum pepsal_dir */
	_Atomic uint64_t last_ns;     /* last activity, for --idle-timeout */
	uint64_t start_ns;            /* accept time */
};
/* Take over an accepted client socket whose entry is claimed: start the
 * thread pair (dial, then relay). 0 or -errno (then the caller resets). */
int relay_start(int client_fd, const struct pepsal_entry_view *entry);

/* A relay thread parks (workers.c): keep its pipe or not; woken again;
 * exits. */
void relay_thread_park(void);
void relay_thread_unpark(void);
void relay_thread_exit(void);

/* ---- workers.c ---- */
/* Run FN(ARG) on a parked relay thread, or a new one. 0 or -errno. */
int workers_run(void (*fn)(void *), void *arg);

/* ---- conn.c: the set of live connections ---- */
void conns_register(struct conn *c);
void conns_unregister(struct conn *c);
/* Abort every live connection (shutdown). */
void conns_abort_all(void);
/* Write the list of live connections to F (one line each). */
void conns_dump(FILE *f);

/* ---- timers.c ---- */
void timers_init(uint64_t now_ns);
/* Run what is due; returns milliseconds until the next deadline. */
int timers_run(uint64_t now_ns);
/* Rewrite the connection log at once (SIGHUP). */
void timers_conn_log_now(void);

/* ---- queuer_child.c ---- */
void queuer_init(const struct proxy_config *cfg, const char *self_dir);
/* Start it if it is due; returns ms until the next restart attempt or -1. */
int queuer_tick(uint64_t now_ns);
/* Reap a dead child (SIGCHLD); schedules the restart. */
void queuer_reap(uint64_t now_ns);
void queuer_stop(void);

#endif
