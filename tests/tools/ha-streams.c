// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ha-streams: the steady streams of the two-box tests (tests/ns/ha-*.sh),
 * one thread and epoll for a thousand connections, so that the gaps it
 * measures are the network's and not its own (a Python asyncio loop with
 * as many streams was late by up to a second on this machine).
 *
 *   ha-streams server PORT OUT TICK_MS
 *       Both families. Every connection: each 16-byte client message is
 *       echoed; every TICK_MS (0: never) the server sends a tick of its own,
 *       so its side sends too. How each connection ended (eof, short, reset,
 *       error) and when, into OUT (JSON: {"ends": [[kind, time], ...]}) on
 *       SIGTERM.
 *   ha-streams client HOST PORT N INTERVAL_MS OUT STOPFILE
 *       N connections, each sending a numbered 16-byte message every
 *       INTERVAL_MS and checking that it comes back whole and in order; the
 *       server's ticks are counted. Until STOPFILE exists (then a clean
 *       close: our FIN, the server's EOF) or the connection ends. Into OUT
 *       (JSON, a list, one object per connection): "end" (ok, eof, reset,
 *       error ...: the message), "at" (wall clock), "echoed", "ticks", and
 *       "gaps": every gap between two received messages longer than
 *       2 * INTERVAL_MS, as [start, length] (seconds).
 * tests/tools/hatool.py reads both (report).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pepsal_clock.h"

#define MSG 16
#define STEP_MS 5                 /* the timers' resolution */
#define CONNECT_S 30

struct gap {
	double start, len;
};

struct conn {
	int fd;
	bool connected, closing, shut, done;
	bool pollout;             /* EPOLLOUT asked for */
	char in[MSG];
	size_t in_len;
	char *out;                /* pending bytes to write */
	size_t out_len, out_cap;
	uint64_t next_ns;         /* next message (client) or tick (server) */
	uint64_t sent, echoed, ticks;
	double last, at;          /* last message received; the end */
	char end[160];
	struct gap *gaps;
	size_t ngaps, gaps_cap;
};

static volatile sig_atomic_t term;

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	p = realloc(p, c * elem);
	if (!p)
		die("realloc");
	*cap = c;
	return p;
}

static void finish(struct conn *c, const char *end)
{
	if (c->done)
		return;
	snprintf(c->end, sizeof(c->end), "%s", end);
	c->at = wall();
	c->done = true;
	close(c->fd);
	c->fd = -1;
}

/* The connection failed with ERR: "reset", or "error" and what it was */
static void ended(struct conn *c, int err)
{
	char why[140];

	snprintf(why, sizeof(why), "error %s", strerror(err));
	finish(c, err == ECONNRESET ? "reset" : why);
}

/* Write what is pending; false if the connection ended. */
static bool flush(struct conn *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n < 0) {
			ended(c, errno == EPIPE ? ECONNRESET : errno);
			return false;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	return true;
}

static bool queue(struct conn *c, const char *msg)
{
	c->out = grow(c->out, &c->out_cap, c->out_len + MSG, 1);
	memcpy(c->out + c->out_len, msg, MSG);
	c->out_len += MSG;
	return flush(c);
}

/* EPOLLOUT while bytes are pending (and while connecting), not otherwise */
static void want_out(int ep, struct conn *c)
{
	bool want = c->out_len != 0;
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };

	if (c->fd >= 0 && want != c->pollout && epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->pollout = want;
}

/* Read what came; each whole message goes to ON_MSG. Returns 0 (more may
 * come), 1 (EOF: kind in c->end unless set) or -1 (ended). */
static int drain(struct conn *c, bool (*on_msg)(struct conn *, const char *), bool *partial)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			ended(c, errno);
			return -1;
		}
		if (n == 0) {
			*partial = c->in_len != 0;
			return 1;
		}
		for (ssize_t i = 0; i < n;) {
			size_t take = MSG - c->in_len;

			if (take > (size_t)(n - i))
				take = (size_t)(n - i);
			memcpy(c->in + c->in_len, buf + i, take);
			c->in_len += take;
			i += (ssize_t)take;
			if (c->in_len == MSG) {
				c->in_len = 0;
				if (!on_msg(c, c->in))
					return -1;
			}
		}
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static FILE *out_open(const char *out, char *tmp, size_t len)
{
	FILE *f;

	snprintf(tmp, len, "%s.tmp", out);
	f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	return f;
}

static void out_close(FILE *f, const char *tmp, const char *out)
{
	if (fclose(f) || rename(tmp, out))
		die(out);
}

/* ---- server ----------------------------------------------------------------- */

static struct {
	struct conn **c;
	size_t n, cap;
} srv;
static unsigned int tick_ms;

static bool echo_msg(struct conn *c, const char *m)
{
	return queue(c, m);
}

static void on_term(int sig)
{
	(void)sig;
	term = 1;
}

static int server(const char *port, const char *out)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(port)),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct epoll_event evs[256], ev = { .events = EPOLLIN };
	int one = 1, zero = 0, lfd, ep;
	char tmp[4096];
	FILE *f;

	lfd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(lfd, (struct sockaddr *)&a6, sizeof(a6)) || listen(lfd, 4096))
		die("listen");
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	while (!term) {
		int n = epoll_wait(ep, evs, 256, STEP_MS);
		uint64_t now = pepsal_now_ns();

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			bool partial = false;
			int r;

			if (!c) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					c = calloc(1, sizeof(*c));
					if (!c)
						die("calloc");
					c->fd = fd;
					c->connected = true;
					c->next_ns = now + tick_ms * 1000000ull;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					srv.c = grow(srv.c, &srv.cap, srv.n + 1, sizeof(*srv.c));
					srv.c[srv.n++] = c;
					ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (c->done)
				continue;
			if ((evs[i].events & EPOLLOUT) && !flush(c))
				continue;
			r = drain(c, echo_msg, &partial);
			if (r == 1)
				finish(c, partial ? "short" : "eof");
			else if (r == 0)
				want_out(ep, c);
		}
		for (size_t i = 0; tick_ms && i < srv.n; i++) {
			struct conn *c = srv.c[i];
			char m[48];

			if (c->done || now < c->next_ns)
				continue;
			c->next_ns += tick_ms * 1000000ull;
			if (c->next_ns < now)
				c->next_ns = now + tick_ms * 1000000ull;
			snprintf(m, sizeof(m), "T%015llu",
				 (unsigned long long)(c->ticks++ % 1000000000000000ull));
			if (queue(c, m))
				want_out(ep, c);
		}
	}
	f = out_open(out, tmp, sizeof(tmp));
	fputs("{\"ends\": [", f);
	for (size_t i = 0, k = 0; i < srv.n; i++) {
		if (!srv.c[i]->done)
			continue;
		fprintf(f, "%s[", k++ ? ", " : "");
		json_str(f, srv.c[i]->end);
		fprintf(f, ", %.6f]", srv.c[i]->at);
	}
	fputs("]}\n", f);
	out_close(f, tmp, out);
	return 0;
}

/* ---- client ----------------------------------------------------------------- */

static unsigned int interval_ms;
static struct conn *cl;
static unsigned int ncl;

static unsigned int index_of(const struct conn *c)
{
	return (unsigned int)(c - cl);
}

/* The client's message number N of connection I (16 bytes, numbers wrap) */
static void client_msg(char *m, unsigned int i, uint64_t n)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "C%06u%09llu", i % 1000000u, (unsigned long long)(n % 1000000000ull));
	memcpy(m, buf, MSG);
}

static bool check_msg(struct conn *c, const char *m)
{
	char want[MSG];
	double now = wall();

	if (now - c->last > 2.0 * interval_ms / 1000) {
		c->gaps = grow(c->gaps, &c->gaps_cap, c->ngaps + 1, sizeof(*c->gaps));
		c->gaps[c->ngaps++] = (struct gap){ c->last, now - c->last };
	}
	c->last = now;
	if (m[0] == 'T') {
		c->ticks++;
		return true;
	}
	client_msg(want, index_of(c), c->echoed);
	if (memcmp(m, want, MSG)) {
		char why[120];

		snprintf(why, sizeof(why), "error echo %llu came back as %.16s",
			 (unsigned long long)c->echoed, m);
		finish(c, why);
		return false;
	}
	c->echoed++;
	return true;
}

static void send_next(struct conn *c)
{
	char m[MSG];

	client_msg(m, index_of(c), c->sent++);
	queue(c, m);
}

static int client(const char *host, const char *port, const char *out, const char *stopfile)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct epoll_event evs[256];
	uint64_t start = pepsal_now_ns(), next_stop_check = 0;
	unsigned int left = ncl;
	bool stopping = false;
	int ep, one = 1;
	char tmp[4096];
	FILE *f;

	if (getaddrinfo(host, port, &hints, &ai)) {
		fprintf(stderr, "%s: unknown host\n", host);
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	for (unsigned int i = 0; i < ncl; i++) {
		struct conn *c = &cl[i];
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

		snprintf(c->end, sizeof(c->end), "error");
		c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			c->fd = -1;
			finish(c, "connect no socket");
			continue;
		}
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			char why[140];

			snprintf(why, sizeof(why), "connect %s", strerror(errno));
			finish(c, why);
			continue;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
		c->pollout = true;
	}
	freeaddrinfo(ai);
	while (left) {
		int n = epoll_wait(ep, evs, 256, STEP_MS);
		uint64_t now = pepsal_now_ns();

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			bool partial = false;
			int r;

			if (c->done)
				continue;
			if (!c->connected) {
				int err = 0;
				socklen_t el = sizeof(err);

				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err) {
					char why[140];

					snprintf(why, sizeof(why), "connect %s", strerror(err));
					finish(c, why);
					continue;
				}
				c->connected = true;
				c->next_ns = now;
				c->last = wall();  /* the gaps count from here */
				want_out(ep, c);
				continue;
			}
			if ((evs[i].events & EPOLLOUT) && !flush(c))
				continue;
			r = drain(c, check_msg, &partial);
			if (r == 1)
				finish(c, !partial && c->shut ? "ok" : "eof");
			if (!c->done)
				want_out(ep, c);
		}
		if (now >= next_stop_check) {
			next_stop_check = now + 100000000ull;
			if (!stopping && access(stopfile, F_OK) == 0)
				stopping = true;
		}
		left = 0;
		for (unsigned int i = 0; i < ncl; i++) {
			struct conn *c = &cl[i];

			if (c->done)
				continue;
			if (!c->connected) {
				if (now - start > CONNECT_S * 1000000000ull)
					finish(c, "connect timed out");
				else
					left++;
				continue;
			}
			if (stopping)
				c->closing = true;
			else if (now >= c->next_ns) {
				c->next_ns += interval_ms * 1000000ull;
				if (c->next_ns < now)
					c->next_ns = now + interval_ms * 1000000ull;
				send_next(c);
			}
			/* the FIN once everything queued went out */
			if (!c->done && c->closing && !c->shut && !c->out_len &&
			    shutdown(c->fd, SHUT_WR) == 0)
				c->shut = true;
			if (!c->done) {
				left++;
				want_out(ep, c);
			}
		}
	}
	f = out_open(out, tmp, sizeof(tmp));
	fputc('[', f);
	for (unsigned int i = 0; i < ncl; i++) {
		struct conn *c = &cl[i];

		fprintf(f, "%s{\"end\": ", i ? ", " : "");
		json_str(f, c->end);
		fprintf(f, ", \"at\": %.6f, \"echoed\": %llu, \"ticks\": %llu, \"gaps\": [", c->at,
			(unsigned long long)c->echoed, (unsigned long long)c->ticks);
		for (size_t g = 0; g < c->ngaps; g++)
			fprintf(f, "%s[%.6f, %.6f]", g ? ", " : "", c->gaps[g].start, c->gaps[g].len);
		fputs("]}", f);
	}
	fputs("]\n", f);
	out_close(f, tmp, out);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "server")) {
		tick_ms = (unsigned int)atoi(argv[4]);
		return server(argv[2], argv[3]);
	}
	if (argc == 8 && !strcmp(argv[1], "client")) {
		ncl = (unsigned int)atoi(argv[4]);
		interval_ms = (unsigned int)atoi(argv[5]);
		if (!ncl || !interval_ms) {
			fprintf(stderr, "client: N and INTERVAL_MS must be positive\n");
			return 2;
		}
		cl = calloc(ncl, sizeof(*cl));
		if (!cl)
			die("calloc");
		return client(argv[2], argv[3], argv[6], argv[7]);
	}
	fprintf(stderr, "usage: %s server PORT OUT TICK_MS\n"
		"       %s client HOST PORT N INTERVAL_MS OUT STOPFILE\n", argv[0], argv[0]);
	return 2;
}
