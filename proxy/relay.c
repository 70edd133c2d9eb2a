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
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "pepsal_log.h"
#include "proxy.h"

#define RELAY_STACK_SIZE (64 * 1024)
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
	size_t chunk = (size_t)g_proxy.cfg.pipe_size;
	int p[2] = { -1, -1 }, rc;

	/* an idle connection holds no pipe */
	rc = wait_readable(c, in);
	if (rc)
		return rc;
	if (pipe2(p, O_CLOEXEC) < 0)
		return pump_copy(c, dir, in, out);
	if (fcntl(p[1], F_SETPIPE_SZ, (int)chunk) < 0) {
		int sz = fcntl(p[1], F_GETPIPE_SZ);

		chunk = sz > 0 ? (size_t)sz : 65536;
	}
	for (;;) {
		ssize_t n = splice(in, NULL, p[1], NULL, chunk, SPLICE_F_MOVE), left;

		if (n == 0) {
			rc = 0;
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !(rc = idle_check(c)))
				continue;
			if (!rc && (errno == EINVAL || errno == ENOSYS) &&
			    atomic_load(&c->bytes[dir]) == 0) {
				close(p[0]);
				close(p[1]);
				return pump_copy(c, dir, in, out);
			}
			rc = rc ? rc : -errno;
			break;
		}
		for (left = n; left > 0;) {
			ssize_t m = splice(p[0], NULL, out, NULL, (size_t)left, SPLICE_F_MOVE);

			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0 && errno == EAGAIN && !(rc = idle_check(c)))
				continue;
			if (m <= 0) {
				rc = rc ? rc : (m < 0 ? -errno : -EPIPE);
				goto done;
			}
			left -= m;
			account(c, dir, (size_t)m);
		}
	}
done:
	close(p[0]);
	close(p[1]);
	return rc;
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

static void *s2c_thread(void *arg)
{
	relay_dir(arg, PEPSAL_DIR_S2C);
	conn_put(arg);
	return NULL;
}

static int spawn(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, RELAY_STACK_SIZE);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return -rc;
}

static void *c2s_thread(void *arg)
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
		return NULL;
	}
	atomic_store(&c->fd[LEG_SERVER], fd);
	if (atomic_load(&g_proxy.stopping)) {
		conn_abort(c);
		conn_put(c);
		return NULL;
	}
	set_timeouts(fd, g_proxy.cfg.idle_timeout_ns);
	atomic_store(&c->last_ns, pepsal_now_ns());
	pr_debug("relaying %s -> %s", pepsal_endpoint_format(&c->client, a),
		 pepsal_endpoint_format(&c->dst, b));
	atomic_fetch_add(&c->refs, 1);
	rc = spawn(s2c_thread, c);
	if (rc) {
		pr_ratelimited(LOG_WARNING, "cannot start a relay thread: %s", strerror(-rc));
		atomic_fetch_sub(&c->refs, 1);
		conn_abort(c);
		conn_put(c);
		return NULL;
	}
	relay_dir(c, PEPSAL_DIR_C2S);
	conn_put(c);
	return NULL;
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
	rc = spawn(c2s_thread, c);
	if (rc) {
		/* the caller resets the client and frees the entry */
		conns_unregister(c);
		atomic_fetch_sub(&g_proxy.active, 1);
		proxy_count(PC_ACTIVE, 0);
		free(c);
	}
	return rc;
}
