// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * connload: connection-rate load generator, its small server, and an
 * idle-connection holder, for the comparison benchmark (tests/bench/compare.sh).
 *
 *   connload serve --port P [--resp B] [--hold] [--echo]
 *       epoll server. Each connection: read the request, answer B bytes, then
 *       (default) shut down writing and close at the client's EOF, so the
 *       server closes first, as an HTTP server with "Connection: close";
 *       with --hold it answers and keeps the connection open; with --echo
 *       it writes back whatever it reads, for as long as the client likes.
 *   connload rate --dst ADDR[,ADDR...] --port P [--conc C] [--time T] [--req B] [--resp B]
 *       C connections in flight for T: connect (to the addresses in turn:
 *       several spread NFQUEUE --queue-balance, which hashes addresses
 *       only), send B bytes, read the answer
 *       until EOF, close, start the next. Prints one line:
 *       conns=N errors=E secs=S cps=X p50_us=A p99_us=B
 *       where the latency is connect() to the first byte of the answer.
 *   connload hold --dst ADDR --port P --count N [--conc C] [--every D [--rounds R]]
 *       opens N connections, each exchanging one byte, keeps them idle and
 *       prints "held N failed F"; closes them all on SIGTERM/SIGINT. With
 *       --every (the server runs --echo), each connection then sends a
 *       message of --req bytes, its own content, every D (spread over D)
 *       and checks the echo byte for byte; after R rounds each (0: until
 *       SIGTERM) it prints "exchanged X verified V bad B lost L" and exits;
 *       "round R" when every held connection has had R messages echoed.
 * One thread each; non-blocking sockets, one epoll set.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pepsal_opts.h"
#include "pepsal_timeline.h"

#define MAX_EVENTS 256
#define IO_BUF 65536

/* ---- shared helpers -------------------------------------------------------- */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void signals_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Raise the descriptor limit to the hard limit; the caller needs many. */
static void nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

#define MAX_DSTS 64 /* rate, hold: server addresses used in turn */

/* ADDR PORT to a sockaddr; 0 or -EINVAL. */
static int addr_parse(const char *addr, uint32_t port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct addrinfo hints, *res;
	char serv[16];

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(serv, sizeof(serv), "%u", port);
	if (getaddrinfo(addr, serv, &hints, &res) != 0)
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int epoll_add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int epoll_mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/* ---- serve ------------------------------------------------------------------ */

struct serve_cfg {
	uint32_t port;    /* listening port */
	uint64_t resp;    /* bytes of each answer */
	bool hold;        /* keep connections open after answering */
	bool echo;        /* write back what is read, never answer */
};

/* Per-connection state of the server, indexed by descriptor. */
struct sconn {
	uint8_t answered; /* the answer was written */
};

static int serve(const struct serve_cfg *c)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)c->port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct epoll_event evs[MAX_EVENTS];
	static char buf[IO_BUF];
	struct sconn *conns;
	char *resp;
	struct rlimit rl;
	int one = 1, zero = 0, ls, ep;

	nofile_raise();
	getrlimit(RLIMIT_NOFILE, &rl);
	conns = calloc(rl.rlim_cur, sizeof(*conns));
	resp = malloc(c->resp ? c->resp : 1);
	if (!conns || !resp)
		return 1;
	memset(resp, 'r', c->resp ? c->resp : 1);
	ls = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 4096)) {
		fprintf(stderr, "connload: listen on port %u: %s\n", c->port, strerror(errno));
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	epoll_add(ep, ls, EPOLLIN, (uint64_t)ls);
	while (!g_stop) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, 200);

		for (int i = 0; i < n; i++) {
			int fd = (int)evs[i].data.u64;

			if (fd == ls) {
				int cfd;

				while ((cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					if ((rlim_t)cfd >= rl.rlim_cur) {
						close(cfd);
						continue;
					}
					conns[cfd].answered = 0;
					setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					epoll_add(ep, cfd, EPOLLIN | EPOLLRDHUP, (uint64_t)cfd);
				}
				continue;
			}
			ssize_t r;
			bool eof = false;

			while ((r = read(fd, buf, sizeof(buf))) > 0)
				/* small messages: they fit the send buffer */
				if (c->echo && write(fd, buf, (size_t)r) != r)
					eof = true;
			if (r == 0 || (r < 0 && errno != EAGAIN))
				eof = true;
			if (!c->echo && !conns[fd].answered && !eof) {
				/* the answer is small: it fits the send buffer */
				if (write(fd, resp, c->resp) < 0)
					eof = true;
				conns[fd].answered = 1;
				if (!c->hold)
					shutdown(fd, SHUT_WR);
			}
			if (eof)
				close(fd); /* also leaves the epoll set */
		}
	}
	return 0;
}

/* ---- client side: rate and hold ------------------------------------------- */

enum cstate { C_FREE, C_CONNECTING, C_WAITING, C_HELD };

/* One connection of the client. */
struct cconn {
	int fd;             /* socket, -1 when free */
	enum cstate state;  /* where it is */
	uint64_t t0;        /* when connect() was called */
	uint64_t got;       /* answer bytes received */
	bool first;         /* first answer byte seen */
	/* hold --every: the message out, its echo so far */
	uint32_t seq;       /* messages verified */
	uint32_t off;       /* echo bytes of message SEQ checked */
	bool out;           /* message SEQ sent, echo awaited */
	uint64_t next_ns;   /* when to send message SEQ */
	uint32_t laddr;     /* PEPSAL_TIMELINE: our address (network order), port */
	uint16_t lport;
};

struct client_cfg {
	const char *dst;    /* server address */
	uint32_t port;      /* server port */
	uint32_t conc;      /* connections in flight */
	uint64_t time_ns;   /* rate: duration */
	uint64_t timeout_ns;/* a connection slower than this is an error */
	uint64_t req;       /* request bytes */
	uint64_t resp;      /* answer bytes expected (rate: informative) */
	uint32_t count;     /* hold: connections to open */
	uint64_t every_ns;  /* hold: a message per connection this often */
	uint32_t rounds;    /* hold --every: messages per connection (0: no end) */
};

struct client {
	const struct client_cfg *cfg;
	struct sockaddr_storage ss[MAX_DSTS]; /* server addresses, used in turn */
	socklen_t sslen;
	uint32_t nss;
	int ep;                     /* epoll set */
	struct cconn *c;            /* cfg->conc slots */
	char *req;                  /* request bytes */
	uint32_t *lat;              /* latencies, ns (rate) */
	size_t nlat, caplat;
	uint64_t done, errors, started, held;
	uint64_t exchanged, verified, bad, lost; /* hold --every */
};

static void conn_close(struct cconn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	k->state = C_FREE;
}

/* Start a connection in slot I; false if the socket could not be made. */
static bool conn_start(struct client *cl, uint32_t i)
{
	struct cconn *k = &cl->c[i];
	const struct sockaddr_storage *ss = &cl->ss[cl->started % cl->nss];
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0) {
		cl->errors++;
		return false;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	k->fd = fd;
	k->lport = 0;
	k->t0 = now_ns();
	k->got = 0;
	k->first = false;
	k->state = C_CONNECTING;
	cl->started++;
	if (connect(fd, (const struct sockaddr *)ss, cl->sslen) < 0 && errno != EINPROGRESS) {
		cl->errors++;
		conn_close(k);
		return false;
	}
	epoll_add(cl->ep, fd, EPOLLOUT, i);
	if (pepsal_tl_enabled()) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);

		if (getsockname(fd, (struct sockaddr *)&sin, &sl) == 0 && sin.sin_family == AF_INET) {
			k->laddr = sin.sin_addr.s_addr;
			k->lport = ntohs(sin.sin_port);
			pepsal_tl_mark4(TL_CLIENT_CONNECT, k->laddr, k->lport, k->t0);
		}
	}
	return true;
}

static void lat_add(struct client *cl, uint64_t ns)
{
	if (cl->nlat == cl->caplat) {
		size_t cap = cl->caplat ? cl->caplat * 2 : 65536;
		uint32_t *p = realloc(cl->lat, cap * sizeof(*p));

		if (!p)
			return;
		cl->lat = p;
		cl->caplat = cap;
	}
	cl->lat[cl->nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* Byte J of message SEQ of connection I: each its own. */
static char msg_byte(uint32_t i, uint32_t seq, uint32_t j)
{
	return (char)(i * 131u + seq * 17u + j * 7u + (j >> 8));
}

/* Send message K->seq of slot I; false on a short write (then lost). */
static bool echo_send(struct client *cl, uint32_t i)
{
	struct cconn *k = &cl->c[i];
	uint32_t n = (uint32_t)cl->cfg->req;

	for (uint32_t j = 0; j < n; j++)
		cl->req[j] = msg_byte(i, k->seq, j);
	if (write(k->fd, cl->req, n) != (ssize_t)n)
		return false;
	k->out = true;
	k->off = 0;
	cl->exchanged++;
	return true;
}

/* Read and check the echo on held slot I; false: closed or wrong (the
 * caller counts it lost, a wrong byte also as bad). */
static bool echo_read(struct client *cl, uint32_t i)
{
	struct cconn *k = &cl->c[i];
	char buf[4096];
	ssize_t r;

	while ((r = read(k->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t j = 0; j < r; j++) {
			if (!k->out || buf[j] != msg_byte(i, k->seq, k->off)) {
				cl->bad++;
				return false;
			}
			if (++k->off == cl->cfg->req) {
				k->out = false;
				k->seq++;
				k->next_ns += cl->cfg->every_ns;
				cl->verified++;
			}
		}
	}
	return r < 0 && errno == EAGAIN;
}

/* An event on slot I. HOLD: keep the connection once answered. */
static void conn_event(struct client *cl, uint32_t i, uint32_t events, bool hold)
{
	struct cconn *k = &cl->c[i];
	static char buf[IO_BUF];
	ssize_t r;

	if (k->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || (events & EPOLLERR) ||
		    write(k->fd, cl->req, cl->cfg->req) != (ssize_t)cl->cfg->req) {
			cl->errors++;
			conn_close(k);
			return;
		}
		k->state = C_WAITING;
		if (k->lport)
			pepsal_tl_mark4(TL_CLIENT_CONNECTED, k->laddr, k->lport, 0);
		epoll_mod(cl->ep, k->fd, EPOLLIN, i);
		return;
	}
	if (k->state == C_HELD) {
		if (cl->cfg->every_ns && (events & EPOLLIN) && echo_read(cl, i))
			return;
		/* the server or a proxy closed it: lost */
		cl->held--;
		cl->errors++;
		cl->lost++;
		conn_close(k);
		return;
	}
	while ((r = read(k->fd, buf, sizeof(buf))) > 0) {
		if (!k->first) {
			k->first = true;
			if (!hold)
				lat_add(cl, now_ns() - k->t0);
			if (k->lport)
				pepsal_tl_mark4(TL_CLIENT_FIRST_BYTE, k->laddr, k->lport, 0);
		}
		k->got += (uint64_t)r;
	}
	/* with --every the first answer is the request's echo, all of it */
	if (hold && k->first && (!cl->cfg->every_ns || k->got >= cl->cfg->req)) {
		k->state = C_HELD;
		cl->held++;
		epoll_mod(cl->ep, k->fd, cl->cfg->every_ns ? EPOLLIN | EPOLLRDHUP : EPOLLRDHUP, i);
		return;
	}
	if (r == 0 && k->first) { /* answered and closed by the server: done */
		cl->done++;
		conn_close(k);
	} else if (r == 0 || errno != EAGAIN) {
		cl->errors++;
		conn_close(k);
	}
}

static int client_init(struct client *cl, const struct client_cfg *cfg)
{
	char list[MAX_DSTS * 48], *save = NULL;

	memset(cl, 0, sizeof(*cl));
	cl->cfg = cfg;
	snprintf(list, sizeof(list), "%s", cfg->dst);
	for (char *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		socklen_t len;

		if (cl->nss == MAX_DSTS ||
		    addr_parse(a, cfg->port, &cl->ss[cl->nss], &len) < 0 ||
		    (cl->nss && (len != cl->sslen || cl->ss[cl->nss].ss_family !=
				 cl->ss[0].ss_family))) {
			fprintf(stderr, "connload: bad address '%s' (at most %d, one family)\n",
				a, MAX_DSTS);
			return -EINVAL;
		}
		cl->sslen = len;
		cl->nss++;
	}
	if (!cl->nss) {
		fprintf(stderr, "connload: no address in '%s'\n", cfg->dst);
		return -EINVAL;
	}
	nofile_raise();
	cl->ep = epoll_create1(EPOLL_CLOEXEC);
	cl->c = calloc(cfg->conc, sizeof(*cl->c));
	cl->req = malloc(cfg->req ? cfg->req : 1);
	if (cl->ep < 0 || !cl->c || !cl->req)
		return -ENOMEM;
	memset(cl->req, 'q', cfg->req ? cfg->req : 1);
	for (uint32_t i = 0; i < cfg->conc; i++)
		cl->c[i].fd = -1;
	return 0;
}

/* One pass of the event loop; expires slow connections. */
static void client_poll(struct client *cl, bool hold)
{
	struct epoll_event evs[MAX_EVENTS];
	int n = epoll_wait(cl->ep, evs, MAX_EVENTS, 50);
	uint64_t now;

	for (int i = 0; i < n; i++)
		conn_event(cl, (uint32_t)evs[i].data.u64, evs[i].events, hold);
	now = now_ns();
	for (uint32_t i = 0; i < cl->cfg->conc; i++) {
		struct cconn *k = &cl->c[i];

		if (k->state != C_FREE && k->state != C_HELD &&
		    now - k->t0 > cl->cfg->timeout_ns) {
			cl->errors++;
			conn_close(k);
		}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_us(const uint32_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i] / 1000.0;
}

static int rate(const struct client_cfg *cfg)
{
	struct client cl;
	uint64_t t0, end, stop_by;
	bool running = true;

	pepsal_tl_init("client");
	if (client_init(&cl, cfg) < 0)
		return 1;
	t0 = now_ns();
	end = t0 + cfg->time_ns;
	stop_by = end + cfg->timeout_ns;
	for (;;) {
		bool busy = false;

		if (running && (now_ns() >= end || g_stop))
			running = false;
		for (uint32_t i = 0; i < cfg->conc; i++) {
			if (cl.c[i].state == C_FREE) {
				if (running)
					conn_start(&cl, i);
			} else {
				busy = true;
			}
		}
		if (!running && (!busy || now_ns() > stop_by))
			break;
		client_poll(&cl, false);
	}
	qsort(cl.lat, cl.nlat, sizeof(*cl.lat), cmp_u32);
	double secs = (double)(now_ns() - t0) / 1e9;

	printf("conns=%llu errors=%llu secs=%.3f cps=%.1f p50_us=%.1f p99_us=%.1f\n",
	       (unsigned long long)cl.done, (unsigned long long)cl.errors, secs,
	       (double)cl.done / secs, pct_us(cl.lat, cl.nlat, 0.50),
	       pct_us(cl.lat, cl.nlat, 0.99));
	return cl.done ? 0 : 1;
}

/* hold --every: messages on the held connections, each echoed and checked,
 * until every connection did --rounds of them (or SIGTERM). */
static int exchange(struct client *cl)
{
	const struct client_cfg *cfg = cl->cfg;
	uint64_t t0 = now_ns();
	uint32_t n = cfg->count, reported = 0;

	for (uint32_t i = 0; i < n; i++)
		cl->c[i].next_ns = t0 + cfg->every_ns * i / n;
	while (!g_stop) {
		uint64_t now = now_ns();
		uint32_t least = UINT32_MAX;
		bool pending = false;

		for (uint32_t i = 0; i < n; i++) {
			struct cconn *k = &cl->c[i];

			if (k->state == C_HELD && k->seq < least)
				least = k->seq;
			if (k->state != C_HELD || (cfg->rounds && k->seq >= cfg->rounds))
				continue;
			pending = true;
			if (!k->out && now >= k->next_ns && !echo_send(cl, i)) {
				cl->held--;
				cl->lost++;
				conn_close(k);
			}
		}
		if (least != UINT32_MAX && least > reported) {
			/* every held connection has had LEAST messages echoed */
			reported = least;
			printf("round %u\n", reported);
			fflush(stdout);
		}
		if (!pending)
			break;
		client_poll(cl, true);
	}
	printf("exchanged %llu verified %llu bad %llu lost %llu\n",
	       (unsigned long long)cl->exchanged, (unsigned long long)cl->verified,
	       (unsigned long long)cl->bad, (unsigned long long)cl->lost);
	return cl->bad || cl->lost || cl->errors ? 1 : 0;
}

static int hold(const struct client_cfg *hc)
{
	struct client_cfg cfg = *hc;
	struct client cl;
	uint32_t next = 0; /* slots 0..count-1; at most conc setting up */
	int rc = 0;

	cfg.conc = hc->count; /* one slot per connection */
	if (client_init(&cl, &cfg) < 0)
		return 1;
	while (!g_stop) {
		uint32_t inflight = (uint32_t)(cl.started - cl.held - cl.errors);

		while (next < cfg.count && inflight < hc->conc) {
			conn_start(&cl, next++);
			inflight++;
		}
		if (next == cfg.count && inflight == 0)
			break;
		client_poll(&cl, true);
	}
	printf("held %llu failed %llu\n", (unsigned long long)cl.held,
	       (unsigned long long)cl.errors);
	fflush(stdout);
	if (cfg.every_ns) {
		rc = exchange(&cl);
	} else {
		while (!g_stop)
			pause();
	}
	/* the connections go with the process; what client_init allocated is
	 * given back (LeakSanitizer) */
	free(cl.c);
	free(cl.req);
	close(cl.ep);
	return rc;
}

/* ---- main ------------------------------------------------------------------ */

static struct serve_cfg g_serve = { .port = 8080, .resp = 100 };
static struct client_cfg g_client = { .port = 8080, .conc = 16, .time_ns = 3000000000ull,
				      .timeout_ns = 5000000000ull, .req = 64, .resp = 100,
				      .count = 1000 };

static const struct pepsal_opt serve_opts[] = {
	{ "port", 'p', PEPSAL_OPT_U32, &g_serve.port, "PORT", "listening port (default 8080)", 1, 65535, NULL },
	{ "resp", 'r', PEPSAL_OPT_SIZE, &g_serve.resp, "BYTES", "answer size (default 100)", 1, 1 << 20, NULL },
	{ "hold", 0, PEPSAL_OPT_FLAG, &g_serve.hold, NULL, "keep connections open after answering", 0, 0, NULL },
	{ "echo", 0, PEPSAL_OPT_FLAG, &g_serve.echo, NULL, "write back what is read (keeps connections open)", 0, 0, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
};

static const struct pepsal_opt client_opts[] = {
	{ "dst", 'd', PEPSAL_OPT_STRING, &g_client.dst, "ADDR", "server address (IPv4 or IPv6), or several, comma-separated, used in turn", 0, 0, NULL },
	{ "port", 'p', PEPSAL_OPT_U32, &g_client.port, "PORT", "server port (default 8080)", 1, 65535, NULL },
	{ "conc", 'c', PEPSAL_OPT_U32, &g_client.conc, "N", "connections in flight (default 16)", 1, 100000, NULL },
	{ "time", 't', PEPSAL_OPT_DURATION, &g_client.time_ns, "DURATION", "rate: duration (default 3s)", 1000000, 0, NULL },
	{ "timeout", 0, PEPSAL_OPT_DURATION, &g_client.timeout_ns, "DURATION", "a connection slower than this is an error (default 5s)", 1000000, 0, NULL },
	{ "req", 0, PEPSAL_OPT_SIZE, &g_client.req, "BYTES", "request size (default 64)", 1, 1 << 16, NULL },
	{ "resp", 'r', PEPSAL_OPT_SIZE, &g_client.resp, "BYTES", "answer size expected (default 100)", 1, 1 << 20, NULL },
	{ "count", 'n', PEPSAL_OPT_U32, &g_client.count, "N", "hold: connections to open (default 1000)", 1, 1000000, NULL },
	{ "every", 0, PEPSAL_OPT_DURATION, &g_client.every_ns, "DURATION", "hold: then a message per connection this often, echoed and checked (server --echo)", 1000000, 0, NULL },
	{ "rounds", 0, PEPSAL_OPT_U32, &g_client.rounds, "N", "hold --every: messages per connection, then exit (default 0: until SIGTERM)", 0, 1000000, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
};

static int cmd_serve(int argc, char **argv)
{
	int r = pepsal_opts_parse("connload serve", "serve [OPTIONS]", serve_opts, argc, argv);

	if (r < 0)
		return r == -2 ? 0 : 2;
	return serve(&g_serve);
}

static int client_args(const char *prog, int argc, char **argv)
{
	int r = pepsal_opts_parse(prog, "--dst ADDR [OPTIONS]", client_opts, argc, argv);

	if (r < 0)
		return r == -2 ? 0 : 2;
	if (!g_client.dst) {
		fprintf(stderr, "%s: --dst is required\n", prog);
		return 2;
	}
	return -1;
}

static int cmd_rate(int argc, char **argv)
{
	int r = client_args("connload rate", argc, argv);

	return r >= 0 ? r : rate(&g_client);
}

static int cmd_hold(int argc, char **argv)
{
	int r = client_args("connload hold", argc, argv);

	if (r >= 0)
		return r;
	if (g_client.conc > g_client.count)
		g_client.conc = g_client.count;
	return hold(&g_client);
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "serve", cmd_serve, "answer each connection's request, then close (or --hold)" },
	{ "rate", cmd_rate, "connections per second and connect-to-first-byte latency" },
	{ "hold", cmd_hold, "open N connections and keep them idle until SIGTERM" },
};

int main(int argc, char **argv)
{
	signals_setup();
	if (argc >= 2) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "Usage: connload COMMAND [OPTIONS] (COMMAND --help for its options)\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %-6s %s\n", commands[i].name, commands[i].help);
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
