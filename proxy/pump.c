// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One direction: socket -> pipe -> socket with splice() in chunks as large
 * as the pipe, falling back to read()/write() where splice is refused. The
 * sockets are blocking with SO_RCVTIMEO/SO_SNDTIMEO set to the idle timeout,
 * so EAGAIN means "nothing for that long": the connection is idle if the
 * other direction saw nothing either.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "pump.h"

#define FALLBACK_BUF (64 * 1024)

/* A socket timed out (EAGAIN): -ETIME if the whole connection is idle
 * (not -ETIMEDOUT: that is a socket's own error, keepalive or
 * TCP_USER_TIMEOUT giving up on a vanished peer). */
static int idle_check(const struct pump *p)
{
	if (atomic_load(&p->c->aborted))
		return -ECONNABORTED;
	if (p->idle_ns && pepsal_now_ns() - atomic_load(&p->c->last_ns) >= p->idle_ns)
		return -ETIME;
	return 0;
}

static void account(const struct pump *p, size_t n)
{
	uint64_t now = pepsal_now_ns();

	atomic_fetch_add(&p->c->bytes[p->dir], n);
	atomic_store(&p->c->last_ns, now);
	if (p->table)
		pepsal_table_count_bytes(p->table, p->c->slot, p->c->gen, p->dir, n, now);
}

/* Interrupted by a signal: the pause asked for, or -EINTR's retry (0). */
static int paused(const struct pump *p)
{
	return p->pause && atomic_load(p->pause) ? -EINTR : 0;
}

/* Block until IN is readable (or closed, or the connection idles out). */
static int wait_readable(const struct pump *p)
{
	struct pollfd pfd = { .fd = p->in, .events = POLLIN };
	int ms = p->idle_ns ? (int)(p->idle_ns / 1000000 < 60000 ? p->idle_ns / 1000000 + 1 :
				    60000) : -1;

	for (;;) {
		int n = poll(&pfd, 1, ms), rc;

		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n < 0 && (rc = paused(p)))
			return rc;
		if (n == 0 && (rc = idle_check(p)))
			return rc;
	}
}

/* read()/write() copy, for sockets splice refuses. */
static int pump_copy(const struct pump *p)
{
	char *buf = malloc(FALLBACK_BUF);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(p->in, buf, FALLBACK_BUF), off = 0;

		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR && !(rc = paused(p)))
				continue;
			if (rc)
				break;
			if (errno == EAGAIN && !(rc = idle_check(p)))
				continue;
			rc = rc ? rc : -errno;
			break;
		}
		while (off < n) {
			ssize_t m = write(p->out, buf + off, (size_t)(n - off));

			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0 && errno == EAGAIN && !(rc = idle_check(p)))
				continue;
			if (m < 0) {
				rc = rc ? rc : -errno;
				goto out;
			}
			off += m;
			account(p, (size_t)m);
		}
	}
out:
	free(buf);
	return rc;
}

/* Write the N bytes in the pipe to the output; 0 or -errno (then the pipe
 * may still hold bytes and is dropped). */
static int drain(const struct pump *p, ssize_t n)
{
	while (n > 0) {
		ssize_t m = splice(p->pipe->fd[0], NULL, p->out, NULL, (size_t)n, SPLICE_F_MOVE);
		int rc = 0;

		if (m < 0 && errno == EINTR && !(rc = paused(p)))
			continue;
		if (rc)
			return rc; /* paused: what is left stays in the pipe */
		if (m < 0 && errno == EAGAIN && !(rc = idle_check(p)))
			continue;
		if (m <= 0) {
			rc = rc ? rc : (m < 0 ? -errno : -EPIPE);
			pipe_drop(p->pipe);
			return rc;
		}
		n -= m;
		account(p, (size_t)m);
	}
	return 0;
}

int pump_run(const struct pump *p)
{
	int rc;

	if ((rc = paused(p)) || (p->pending && (rc = drain(p, (ssize_t)p->pending))))
		return rc;
	/* an idle connection takes no new pipe */
	if (p->pipe->fd[0] < 0) {
		rc = wait_readable(p);
		if (rc)
			return rc;
		if (!pipe_ready(p->pipe))
			return pump_copy(p);
	}
	for (;;) {
		ssize_t n;

		if ((rc = paused(p)))
			return rc; /* between chunks: the pipe is empty */
		n = splice(p->in, NULL, p->pipe->fd[1], NULL, p->pipe->size, SPLICE_F_MOVE);
		if (n == 0)
			return 0; /* the pipe is empty: kept */
		if (n < 0) {
			rc = 0;
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !(rc = idle_check(p)))
				continue;
			if (rc)
				return rc;
			if ((errno == EINVAL || errno == ENOSYS) &&
			    atomic_load(&p->c->bytes[p->dir]) == 0)
				return pump_copy(p);
			return -errno; /* nothing entered the pipe */
		}
		rc = drain(p, n);
		if (rc)
			return rc;
	}
}
