// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The relay: one pair of threads per connection, one per direction, as in
 * the original PEPsal. The first thread dials the server, starts the second
 * and then relays client to server; the second relays server to client.
 *
 * Each direction moves bytes socket -> pipe -> socket with splice() in
 * chunks as large as its pipe, and falls back to read()/write() where
 * splice is refused. EOF on the input: everything read has already been
 * written (each chunk is drained before the next read), so the output is
 * shut down for writing at once and the other direction carries on. An
 * error on either side aborts both sockets (RST to both peers, wakes the
 * other thread). The last thread out frees the table entry and the sockets.
 * The threads come from workers.c, which reuses those of ended connections.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "pepsal_log.h"
#include "proxy.h"

#define FALLBACK_BUF (64 * 1024)

static int leg_of_input(enum pepsal_dir dir)
{
	return dir == PEPSAL_DIR_C2S ? LEG_CLIENT : LEG_SERVER;
}

/* ---- idle timeout ------------------------------------------------------ */

static void set_timeouts(int fd, uint64_t ns)
{
	struct timeval tv = { .tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_usec = (suseconds_t)(ns % 1000000000ull / 1000) };

	if (!ns)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A socket timed out (EAGAIN): -ETIMEDOUT if the whole connection is idle. */
static int idle_check(struct conn *c)
{
	uint64_t idle = g_proxy.cfg.idle_timeout_ns;

	if (atomic_load(&c->aborted))
		return -ECONNABORTED;
	if (idle && pepsal_now_ns() - atomic_load(&c->last_ns) >= idle)
		return -ETIMEDOUT;
	return 0;
}

static void account(struct conn *c, enum pepsal_dir dir, size_t n)
{
	uint64_t now = pepsal_now_ns();

	atomic_fetch_add(&c->bytes[dir], n);
	atomic_store(&c->last_ns, now);
	pepsal_table_add_bytes(g_proxy.table, c->slot, dir, n, now);
}

/* Block until IN is readable (or closed, or the connection idles out). */
static int wait_readable(struct conn *c, int in)
{
	uint64_t idle = g_proxy.cfg.idle_timeout_ns;
	struct pollfd p = { .fd = in, .events = POLLIN };

	int ms = idle ? (int)(idle / 1000000 < 60000 ? idle / 1000000 + 1 : 60000) : -1;

	for (;;) {
		int n = poll(&p, 1, ms);

		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0 && idle_check(c))
			return idle_check(c);
	}
}

/* ---- the thread's pipe ---------------------------------------------------- */

/* Each relay thread keeps its splice pipe from one connection to the next
 * (workers.c reuses threads), so a connection costs no pipe2() and no
 * F_SETPIPE_SZ. A pipe is kept only empty: after an error that may have
 * left bytes in it, it is closed. A parked thread keeps its pipe only
 * while the descriptors budgeted for the connections not served now
 * (two pipes each, see FDS_PER_CONN) cover it. */
static __thread int tl_pipe[2] = { -1, -1 };
static __thread size_t tl_chunk;
static __thread bool tl_parked_pipe;  /* counted in pipes_parked */
static atomic_uint pipes_parked;

static void pipe_drop(void)
{
	if (tl_pipe[0] < 0)
		return;
	close(tl_pipe[0]);
	close(tl_pipe[1]);
	tl_pipe[0] = tl_pipe[1] = -1;
}

/* The thread's pipe, made if needed; false if none can be made. */
static bool pipe_get(void)
{
	int sz;

	if (tl_pipe[0] >= 0)
		return true;
	if (pipe2(tl_pipe, O_CLOEXEC) < 0) {
		tl_pipe[0] = tl_pipe[1] = -1;
		return false;
	}
	tl_chunk = (size_t)g_proxy.cfg.pipe_size;
	if (fcntl(tl_pipe[1], F_SETPIPE_SZ, (int)tl_chunk) < 0) {
		sz = fcntl(tl_pipe[1], F_GETPIPE_SZ);
		tl_chunk = sz > 0 ? (size_t)sz : 65536;
	}
	return true;
}

void relay_thread_park(void)
{
	unsigned int active = atomic_load(&g_proxy.active), max = g_proxy.cfg.max_conns;
	unsigned int budget = active < max ? 2 * (max - active) : 0;

	if (tl_pipe[0] < 0)
		return;
	if (atomic_fetch_add(&pipes_parked, 1) < budget) {
		tl_parked_pipe = true;
		return;
	}
	atomic_fetch_sub(&pipes_parked, 1);
	pipe_drop();
}

void relay_thread_unpark(void)
{
	if (tl_parked_pipe)
		atomic_fetch_sub(&pipes_parked, 1);
	tl_parked_pipe = false;
}

void relay_thread_exit(void)
{
	relay_thread_unpark();
	pipe_drop();
}

/* ---- one direction ----------------------------------------------------- */

/* read()/write() copy, for sockets splice refuses. */
static int pump_copy(struct conn *c, enum pepsal_dir dir, int in, int out)
{
	char *buf = malloc(FALLBACK_BUF);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(in, buf, FALLBACK_BUF), off = 0;

		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !(rc = idle_check(c)))
				continue;
			rc = rc ? rc : -errno;
			break;
		}
		while (off < n) {
			ssize_t m = write(out, buf + off, (size_t)(n - off));

			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0 && errno == EAGAIN && !(rc = idle_check(c)))
				continue;
			if (m < 0) {
				rc = rc ? rc : -errno;
				goto out;
			}
			off += m;
			account(c, dir, (size_t)m);
		}
	}
out:
	free(buf);
	return rc;
}

/* Relay one direction until EOF (0) or an error (-errno). */
static int pump(struct conn *c, enum pepsal_dir dir)
{
	int in = atomic_load(&c->fd[leg_of_input(dir)]);
	int out = atomic_load(&c->fd[leg_of_input(dir) ^ 1]);
	int rc;

	/* an idle connection takes no new pipe */
	if (tl_pipe[0] < 0) {
		rc = wait_readable(c, in);
		if (rc)
			return rc;
		if (!pipe_get())
			return pump_copy(c, dir, in, out);
	}
	for (;;) {
		ssize_t n = splice(in, NULL, tl_pipe[1], NULL, tl_chunk, SPLICE_F_MOVE), left;

		if (n == 0)
			return 0; /* the pipe is empty: kept */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !(rc = idle_check(c)))
				continue;
			if (!rc && (errno == EINVAL || errno == ENOSYS) &&
			    atomic_load(&c->bytes[dir]) == 0)
				return pump_copy(c, dir, in, out);
			return rc ? rc : -errno; /* nothing entered the pipe */
		}
		for (left = n; left > 0;) {
			ssize_t m = splice(tl_pipe[0], NULL, out, NULL, (size_t)left, SPLICE_F_MOVE);

			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0 && errno == EAGAIN && !(rc = idle_check(c)))
				continue;
			if (m <= 0) {
				rc = rc ? rc : (m < 0 ? -errno : -EPIPE);
				pipe_drop(); /* it may hold what was not written */
				return rc;
			}
			left -= m;
			account(c, dir, (size_t)m);
		}
	}
}

/* ---- the connection's life -------------------------------------------- */

static void conn_abort(struct conn *c)
{
	if (atomic_exchange(&c->aborted, true))
		return;
	proxy_count(PC_RESETS, 1);
	sock_abort(atomic_load(&c->fd[LEG_CLIENT]));
	sock_abort(atomic_load(&c->fd[LEG_SERVER]));
}

static void conn_put(struct conn *c)
{
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];
	int fd;

	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	pepsal_table_remove(g_proxy.table, c->slot, c->gen);
	conns_unregister(c);
	for (int leg = LEG_CLIENT; leg <= LEG_SERVER; leg++) {
		fd = atomic_load(&c->fd[leg]);
		if (fd < 0)
			continue;
		if (atomic_load(&c->aborted))
			sock_reset_close(fd);
		else
			close(fd);
	}
	pr_debug("closed %s -> %s: %llu bytes up, %llu down%s",
		 pepsal_endpoint_format(&c->client, a), pepsal_endpoint_format(&c->dst, b),
		 (unsigned long long)atomic_load(&c->bytes[PEPSAL_DIR_C2S]),
		 (unsigned long long)atomic_load(&c->bytes[PEPSAL_DIR_S2C]),
		 atomic_load(&c->aborted) ? " (reset)" : "");
	free(c);
	atomic_fetch_sub(&g_proxy.active, 1);
	proxy_count(PC_ACTIVE, 0);
	proxy_count(PC_CLOSED, 1);
}

static void relay_dir(struct conn *c, enum pepsal_dir dir)
{
	int rc = pump(c, dir);

	if (rc == 0 && !atomic_load(&c->aborted)) {
		/* EOF: pass it on, the other direction goes on */
		shutdown(atomic_load(&c->fd[leg_of_input(dir) ^ 1]), SHUT_WR);
		if (atomic_fetch_add(&c->dirs_done, 1) == 0)
			pepsal_table_set_state(g_proxy.table, c->slot, c->gen,
					       PEPSAL_STATE_CLOSING);
	} else if (rc) {
		if (rc == -ETIMEDOUT)
			proxy_count(PC_IDLE_TIMEOUTS, 1);
		conn_abort(c);
	}
}

static void s2c_thread(void *arg)
{
	relay_dir(arg, PEPSAL_DIR_S2C);
	conn_put(arg);
}

static void c2s_thread(void *arg)
{
	struct conn *c = arg;
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];
	int fd, rc;

	fd = dial_upstream(&c->client, &c->dst, &g_proxy.cfg);
	if (fd < 0) {
		proxy_count(PC_DIAL_FAILED, 1);
		pr_ratelimited(LOG_INFO, "connection from %s to %s failed: %s; resetting the client",
			       pepsal_endpoint_format(&c->client, a),
			       pepsal_endpoint_format(&c->dst, b), strerror(-fd));
		atomic_store(&c->aborted, true);
		conn_put(c);
		return;
	}
	atomic_store(&c->fd[LEG_SERVER], fd);
	if (atomic_load(&g_proxy.stopping)) {
		conn_abort(c);
		conn_put(c);
		return;
	}
	set_timeouts(fd, g_proxy.cfg.idle_timeout_ns);
	atomic_store(&c->last_ns, pepsal_now_ns());
	pr_debug("relaying %s -> %s", pepsal_endpoint_format(&c->client, a),
		 pepsal_endpoint_format(&c->dst, b));
	atomic_fetch_add(&c->refs, 1);
	rc = workers_run(s2c_thread, c);
	if (rc) {
		pr_ratelimited(LOG_WARNING, "cannot start a relay thread: %s", strerror(-rc));
		atomic_fetch_sub(&c->refs, 1);
		conn_abort(c);
		conn_put(c);
		return;
	}
	relay_dir(c, PEPSAL_DIR_C2S);
	conn_put(c);
}

int relay_start(int client_fd, const struct pepsal_entry_view *entry)
{
	struct conn *c = calloc(1, sizeof(*c));
	char err[160];
	int rc;

	if (!c)
		return -ENOMEM;
	if (leg_apply(client_fd, LEG_CLIENT, &g_proxy.cfg, err, sizeof(err)))
		pr_ratelimited(LOG_WARNING, "client socket: %s", err);
	set_timeouts(client_fd, g_proxy.cfg.idle_timeout_ns);
	atomic_store(&c->fd[LEG_CLIENT], client_fd);
	atomic_store(&c->fd[LEG_SERVER], -1);
	c->client = entry->client;
	c->dst = entry->dst;
	c->slot = entry->slot;
	c->gen = entry->gen;
	c->start_ns = pepsal_now_ns();
	atomic_store(&c->last_ns, c->start_ns);
	atomic_store(&c->refs, 1);
	atomic_fetch_add(&g_proxy.active, 1);
	proxy_count(PC_ACTIVE, 0);
	conns_register(c);
	rc = workers_run(c2s_thread, c);
	if (rc) {
		/* the caller resets the client and frees the entry */
		conns_unregister(c);
		atomic_fetch_sub(&g_proxy.active, 1);
		proxy_count(PC_ACTIVE, 0);
		free(c);
	}
	return rc;
}
