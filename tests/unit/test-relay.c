// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the relay's state machine (proxy/relay.c, pump.c): bytes
 * both ways, half-close in either direction, a reset on either side, a
 * failed dial, the idle timeout and the shutdown abort, on real TCP sockets
 * over the loopback of a private network namespace (unit-net.h). Each case:
 * client <-> [relay] <-> server, the relay's entry in a real table.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../proxy/conn.h"
#include "../../proxy/pipes.h"
#include "../../proxy/relay.h"
#include "../../proxy/stats.h"
#include "unit-net.h"

#define WAIT_MS 5000

static char shm_name[64], err[256];
static struct pepsal_table *table;
static struct proxy_config cfg;
static struct relay_params params;

/* A relayed connection under test. */
struct rig {
	int client, server, listener;
	uint32_t slot, gen;
};

static struct pepsal_endpoint sock_ep(int fd, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct pepsal_endpoint e;

	if (peer)
		g_assert_cmpint(getpeername(fd, (struct sockaddr *)&ss, &sl), ==, 0);
	else
		g_assert_cmpint(getsockname(fd, (struct sockaddr *)&ss, &sl), ==, 0);
	g_assert_cmpint(pepsal_endpoint_from_sockaddr(&e, (struct sockaddr *)&ss, sl), ==, 0);
	return e;
}

/* Start a relayed connection; SERVER_UP false: nobody listens at the
 * destination (the dial fails). */
static void rig_start(struct rig *r, bool server_up)
{
	struct pepsal_entry_view entry;
	struct pepsal_endpoint client, dst;
	int pair[2] = { -1, -1 };
	uint16_t port = 0;

	r->listener = unit_listen(&port);
	g_assert_cmpint(r->listener, >=, 0);
	dst = sock_ep(r->listener, false);
	if (!server_up) {
		close(r->listener);
		r->listener = -1;
	}
	g_assert_cmpint(unit_tcp_pair(pair), ==, 0);
	r->client = pair[0];
	client = sock_ep(pair[1], true);
	g_assert_cmpint(pepsal_table_record_syn(table, &client, &dst, pepsal_now_ns(), NULL), >=, 0);
	g_assert_cmpint(pepsal_table_claim(table, &client, &dst, pepsal_now_ns(), &entry), >=, 0);
	r->slot = entry.slot;
	r->gen = entry.gen;
	g_assert_cmpint(relay_start(pair[1], &entry), ==, 0);
	r->server = -1;
	if (server_up) {
		struct pollfd p = { .fd = r->listener, .events = POLLIN };

		g_assert_cmpint(poll(&p, 1, WAIT_MS), ==, 1);
		r->server = accept4(r->listener, NULL, NULL, SOCK_CLOEXEC);
		g_assert_cmpint(r->server, >=, 0);
	}
}

static void rig_close(struct rig *r)
{
	if (r->client >= 0)
		close(r->client);
	if (r->server >= 0)
		close(r->server);
	if (r->listener >= 0)
		close(r->listener);
}

/* Read from FD until N bytes, EOF or an error, waiting at most WAIT_MS for
 * each piece. Returns bytes read, or -errno if an error came first. */
static ssize_t read_n(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t m;

		if (poll(&p, 1, WAIT_MS) != 1)
			return -ETIMEDOUT;
		m = read(fd, buf + got, n - got);
		if (m < 0)
			return -errno;
		if (m == 0)
			break;
		got += (size_t)m;
	}
	return (ssize_t)got;
}

static void write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t m = write(fd, buf, n);

		g_assert_cmpint(m, >, 0);
		buf += m;
		n -= (size_t)m;
	}
}

/* N bytes of OUT from the client to the server and back, checked. */
static void both_ways(const struct rig *r, const char *out, char *in, size_t n)
{
	write_all(r->client, out, n);
	g_assert_cmpint(read_n(r->server, in, n), ==, (ssize_t)n);
	g_assert_true(memcmp(in, out, n) == 0);
	write_all(r->server, out, n);
	g_assert_cmpint(read_n(r->client, in, n), ==, (ssize_t)n);
	g_assert_true(memcmp(in, out, n) == 0);
}

/* Poll (1 ms steps, WAIT_MS at most) until the relay holds nothing. */
static bool relay_idle(void)
{
	for (int i = 0; i < WAIT_MS; i++) {
		struct pepsal_table_info info;

		pepsal_table_get_info(table, &info);
		if (relay_active() == 0 && info.used == 0)
			return true;
		usleep(1000);
	}
	return false;
}

static uint64_t counter(const char *name)
{
	char n[PEPSAL_COUNTER_NAME_MAX];
	uint64_t v;

	for (int i = 0; pepsal_table_counter_get(table, i, n, &v); i++)
		if (strcmp(n, name) == 0)
			return v;
	return 0;
}

/* ---- cases ------------------------------------------------------------------ */

static void test_both_ways(void)
{
	size_t n = 3 << 20;
	char *out = malloc(n), *in = malloc(n);
	struct pepsal_entry_view v;
	struct rig r;

	for (size_t i = 0; i < n; i++)
		out[i] = (char)(i * 7 + i / 4096);
	rig_start(&r, true);
	both_ways(&r, out, in, n);
	/* the entry counts the bytes (the relay counts a chunk just after
	 * writing it: the peer may read it first) */
	for (int i = 0; i < WAIT_MS; i++) {
		g_assert_cmpint(pepsal_table_snapshot(table, r.slot, &v), ==, 0);
		if (v.bytes[PEPSAL_DIR_C2S] == n && v.bytes[PEPSAL_DIR_S2C] == n)
			break;
		usleep(1000);
	}
	g_assert_cmpuint(v.bytes[PEPSAL_DIR_C2S], ==, n);
	g_assert_cmpuint(v.bytes[PEPSAL_DIR_S2C], ==, n);
	rig_close(&r);
	g_assert_true(relay_idle());
	free(out);
	free(in);
}

/* The client shuts down writing: the server sees EOF, its reply still
 * reaches the client, then the client sees EOF. */
static void test_client_half_close(void)
{
	struct pepsal_entry_view v;
	char buf[64];
	struct rig r;

	rig_start(&r, true);
	write_all(r.client, "request", 7);
	shutdown(r.client, SHUT_WR);
	g_assert_cmpint(read_n(r.server, buf, sizeof(buf)), ==, 7); /* then EOF */
	/* the entry says so (just after the EOF was passed on) */
	for (int i = 0; i < WAIT_MS; i++) {
		g_assert_cmpint(pepsal_table_snapshot(table, r.slot, &v), ==, 0);
		if (v.state == PEPSAL_STATE_CLOSING)
			break;
		usleep(1000);
	}
	g_assert_cmpint(v.state, ==, PEPSAL_STATE_CLOSING);
	write_all(r.server, "reply", 5);
	close(r.server);
	r.server = -1;
	g_assert_cmpint(read_n(r.client, buf, sizeof(buf)), ==, 5);
	g_assert_true(memcmp(buf, "reply", 5) == 0);
	rig_close(&r);
	g_assert_true(relay_idle());
}

/* The mirror case: the server shuts down first, the client's data after
 * its EOF still reaches the server. */
static void test_server_half_close(void)
{
	char buf[64];
	struct rig r;

	rig_start(&r, true);
	write_all(r.server, "banner", 6);
	shutdown(r.server, SHUT_WR);
	g_assert_cmpint(read_n(r.client, buf, sizeof(buf)), ==, 6);
	write_all(r.client, "late", 4);
	close(r.client);
	r.client = -1;
	g_assert_cmpint(read_n(r.server, buf, sizeof(buf)), ==, 4);
	rig_close(&r);
	g_assert_true(relay_idle());
}

static void reset_close(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void test_resets(void)
{
	/* a server that resets at once may do so before the dial saw its
	 * connect complete: then it counts as a failed dial, the client is
	 * reset all the same */
	uint64_t resets = counter("proxy.resets") + counter("proxy.dial_failed");
	char buf[16];
	struct rig r;

	/* the server resets: the client is reset */
	rig_start(&r, true);
	reset_close(r.server);
	r.server = -1;
	g_assert_cmpint(read_n(r.client, buf, sizeof(buf)), ==, -ECONNRESET);
	rig_close(&r);
	g_assert_true(relay_idle());
	/* the client resets: the server is reset */
	rig_start(&r, true);
	reset_close(r.client);
	r.client = -1;
	g_assert_cmpint(read_n(r.server, buf, sizeof(buf)), ==, -ECONNRESET);
	rig_close(&r);
	g_assert_true(relay_idle());
	g_assert_cmpuint(counter("proxy.resets") + counter("proxy.dial_failed"), ==, resets + 2);
}

static void test_dial_fails(void)
{
	uint64_t failed = counter("proxy.dial_failed");
	char buf[16];
	struct rig r;

	rig_start(&r, false);
	g_assert_cmpint(read_n(r.client, buf, sizeof(buf)), ==, -ECONNRESET);
	rig_close(&r);
	g_assert_true(relay_idle());
	g_assert_cmpuint(counter("proxy.dial_failed"), ==, failed + 1);
}

static void test_idle_timeout(void)
{
	uint64_t idle = counter("proxy.idle_timeouts"), t0;
	char buf[16];
	struct rig r;

	cfg.idle_timeout_ns = 300000000ull;
	rig_start(&r, true);
	t0 = pepsal_now_ns();
	write_all(r.client, "x", 1);
	g_assert_cmpint(read_n(r.server, buf, 1), ==, 1);
	/* then nothing: both sides are reset after about 300 ms of silence */
	g_assert_cmpint(read_n(r.client, buf, sizeof(buf)), ==, -ECONNRESET);
	g_assert_cmpuint(pepsal_now_ns() - t0, >=, 250000000ull);
	g_assert_cmpint(read_n(r.server, buf, sizeof(buf)), ==, -ECONNRESET);
	rig_close(&r);
	g_assert_true(relay_idle());
	g_assert_cmpuint(counter("proxy.idle_timeouts"), >, idle);
	cfg.idle_timeout_ns = 0;
}

/* Pipes in use: taken for a burst, not given back yet. */
static unsigned int pipes_busy(void)
{
	struct pipes_stats s;

	pipes_stats(&s);
	return s.total - s.idle;
}

/* A pause while the server reads nothing: the direction waits for its
 * full output with bytes in a pooled pipe; that pipe is kept out of the
 * pool with the connection and, on resume, written out first (every byte,
 * in order) and given back empty. */
static void test_pause_keeps_pipe(void)
{
	size_t cap = 64 << 20, n = 0, got = 0;
	char *out = malloc(cap), *in = malloc(cap);
	struct rig r;
	int i;

	for (size_t k = 0; k < cap; k++)
		out[k] = (char)(k * 7 + k / 4096);
	rig_start(&r, true);
	g_assert_cmpint(fcntl(r.client, F_SETFL, O_NONBLOCK), ==, 0);
	/* until the client, the relay and the server's buffers are full */
	for (;;) {
		struct pollfd p = { .fd = r.client, .events = POLLOUT };
		ssize_t m;

		if (poll(&p, 1, 500) != 1)
			break; /* nothing moved for 0.5 s: the relay waits for the server */
		m = write(r.client, out + n, cap - n);
		if (m < 0 && errno == EAGAIN)
			continue;
		g_assert_cmpint(m, >, 0);
		n += (size_t)m;
		g_assert_cmpuint(n, <, cap);
	}
	g_assert_cmpint(relay_quiesce(2000000000ull), ==, 0);
	g_assert_cmpuint(pipes_busy(), ==, 1); /* the held one */
	relay_resume();
	while (got < n) {
		ssize_t m = read_n(r.server, in + got, n - got);

		g_assert_cmpint(m, >, 0);
		got += (size_t)m;
	}
	g_assert_true(memcmp(in, out, n) == 0);
	for (i = 0; i < WAIT_MS && pipes_busy(); i++)
		usleep(1000);
	g_assert_cmpuint(pipes_busy(), ==, 0);
	rig_close(&r);
	g_assert_true(relay_idle());
	free(out);
	free(in);
}

/* Quiet connections that carried data hold no pipe: each burst gave its
 * pipe back empty to the pool, which made no more than it needed. */
static void test_idle_holds_no_pipe(void)
{
	struct rig r[4];
	struct pipes_stats s;
	char buf[8];
	int i;

	for (i = 0; i < 4; i++) {
		rig_start(&r[i], true);
		write_all(r[i].client, "ping", 4);
		g_assert_cmpint(read_n(r[i].server, buf, 4), ==, 4);
		write_all(r[i].server, "pong", 4);
		g_assert_cmpint(read_n(r[i].client, buf, 4), ==, 4);
	}
	for (i = 0; i < WAIT_MS && pipes_busy(); i++)
		usleep(1000);
	pipes_stats(&s);
	g_assert_cmpuint(s.total - s.idle, ==, 0);
	g_assert_cmpuint(s.total, >=, 1);
	g_assert_cmpuint(s.total, <=, s.max);
	g_assert_cmpuint(relay_active(), ==, 4);
	for (i = 0; i < 4; i++)
		rig_close(&r[i]);
	g_assert_true(relay_idle());
}

/* No pipe to be had (the cap reached): bursts are copied, bytes intact. */
static void test_no_pipe_copies(void)
{
	size_t n = 1 << 20;
	char *out = malloc(n), *in = malloc(n);
	struct pipes_stats s0, s1;
	struct rig r;

	for (size_t i = 0; i < n; i++)
		out[i] = (char)(i * 13 + i / 1000);
	pipes_init(65536, 0);
	pipes_stats(&s0);
	rig_start(&r, true);
	both_ways(&r, out, in, n);
	pipes_stats(&s1);
	g_assert_cmpuint(s1.denied, >, s0.denied);
	g_assert_cmpuint(s1.total, ==, 0);
	rig_close(&r);
	g_assert_true(relay_idle());
	pipes_init(65536, params.pipes_max);
	free(out);
	free(in);
}

/* Urgent data: the input polls readable while splice() takes nothing at
 * the urgent byte. The relay steps over it (read() drops it, as it is not
 * inline) instead of spinning; the bytes after it arrive. (With the FIN
 * already in, splice() says 0 at the mark and the rest is taken for EOF, as
 * before the pool: not covered.) */
static void test_urgent_byte(void)
{
	char buf[16];
	struct rig r;

	rig_start(&r, true);
	write_all(r.client, "ab", 2);
	g_assert_cmpint(send(r.client, "X", 1, MSG_OOB), ==, 1);
	write_all(r.client, "cd", 2);
	g_assert_cmpint(read_n(r.server, buf, 4), ==, 4);
	g_assert_true(memcmp(buf, "abcd", 4) == 0);
	rig_close(&r);
	g_assert_true(relay_idle());
}

/* Last: relay_fini aborts what is relayed and reports that all ended. */
static void test_fini_aborts(void)
{
	char buf[16];
	struct rig r;

	rig_start(&r, true);
	write_all(r.client, "abc", 3);
	g_assert_cmpint(read_n(r.server, buf, 3), ==, 3);
	g_assert_cmpuint(relay_active(), ==, 1);
	g_assert_true(relay_fini(5000000000ull));
	g_assert_true(relay_stopping());
	g_assert_cmpint(read_n(r.client, buf, sizeof(buf)), ==, -ECONNRESET);
	g_assert_cmpint(read_n(r.server, buf, sizeof(buf)), ==, -ECONNRESET);
	g_assert_cmpuint(relay_active(), ==, 0);
	rig_close(&r);
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	unit_net_private();
	snprintf(shm_name, sizeof(shm_name), "/pepsal-unit-relay-%d", (int)getpid());
	pepsal_table_unlink(shm_name);
	if (pepsal_table_create(shm_name, 64, 0, &table, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	cfg = (struct proxy_config){ .transparent = false, .max_conns = 16,
				     .connect_timeout_ns = 2000000000ull, .pipe_size = 65536 };
	params = (struct relay_params){ .cfg = &cfg, .table = table, .pipes_max = 8 };
	stats_init(table);
	relay_init(&params);
	g_test_add_func("/relay/both-ways", test_both_ways);
	g_test_add_func("/relay/client-half-close", test_client_half_close);
	g_test_add_func("/relay/server-half-close", test_server_half_close);
	g_test_add_func("/relay/resets", test_resets);
	g_test_add_func("/relay/dial-fails", test_dial_fails);
	g_test_add_func("/relay/idle-timeout", test_idle_timeout);
	g_test_add_func("/relay/idle-holds-no-pipe", test_idle_holds_no_pipe);
	g_test_add_func("/relay/pause-keeps-pipe", test_pause_keeps_pipe);
	g_test_add_func("/relay/no-pipe-copies", test_no_pipe_copies);
	g_test_add_func("/relay/urgent-byte", test_urgent_byte);
	g_test_add_func("/relay/fini-aborts", test_fini_aborts);
	rc = g_test_run();
	pepsal_table_detach(table);
	pepsal_table_unlink(shm_name);
	return rc;
}
