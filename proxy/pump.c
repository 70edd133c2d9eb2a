// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One direction, burst by burst: wait for the input, take a pipe, splice
 * socket -> pipe -> socket until the input says EAGAIN, give the pipe back
 * empty. Waits are poll() with the idle timeout as the bound, so a quiet
 * poll means "nothing for that long": the connection is idle if the other
 * direction saw nothing either. A pipe that may hold bytes after an error
 * is discarded, never pooled. A pause (the hand-over) is seen at a burst's
 * boundary or in a wait for the output: a pipe with bytes in flight is
 * then kept, out of the pool, for whoever resumes the direction.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <unistd.h>

#include "pipes.h"
#include "pump.h"

#define COPY_BUF (16 * 1024)     /* one read() of a copied burst */
#define SPLICE_FLAGS (SPLICE_F_MOVE | SPLICE_F_NONBLOCK)

enum burst_end { BURST_DRAINED = 0, BURST_EOF = 1 };

/* A quiet poll: -ETIME if the whole connection is idle (not -ETIMEDOUT:
 * that is a socket's own error, keepalive or TCP_USER_TIMEOUT giving up on
 * a vanished peer). */
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

/* The pause asked for: -EINTR, else 0. */
static int paused(const struct pump *p)
{
	return p->pause && atomic_load(p->pause) ? -EINTR : 0;
}

/* Block until FD has EVENTS (or an error or hang-up: the next call tells),
 * or the connection idles out or is aborted; PAUSABLE: or a pause is
 * asked (-EINTR). */
static int wait_io(const struct pump *p, int fd, short events, bool pausable)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ms = p->idle_ns ? (int)(p->idle_ns / 1000000 < 60000 ? p->idle_ns / 1000000 + 1 :
				    60000) : -1;

	for (;;) {
		int n, rc;

		/* checked before blocking too: the signal may have come
		 * before the poll (the pause signals again meanwhile) */
		if (pausable && (rc = paused(p)))
			return rc;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0 && (rc = idle_check(p)))
			return rc;
	}
}

/* Write the N bytes of BUF or of the pipe RFD (BUF NULL) to the output;
 * 0 or -errno (-EINTR: paused, only for a pipe), *LEFT: bytes not
 * written. */
static int push(const struct pump *p, const char *buf, int rfd, size_t n, size_t *left)
{
	int rc = 0;

	while (n > 0) {
		ssize_t m = buf ? write(p->out, buf, n) :
				  splice(rfd, NULL, p->out, NULL, n, SPLICE_FLAGS);

		if (m > 0) {
			n -= (size_t)m;
			buf = buf ? buf + m : NULL;
			account(p, (size_t)m);
		} else if (m < 0 && errno == EINTR) {
			continue;
		} else if (m < 0 && errno == EAGAIN) {
			/* a pipe's bytes may wait out a pause, a buffer's not */
			if ((rc = wait_io(p, p->out, POLLOUT, !buf)))
				break;
		} else {
			rc = m < 0 ? -errno : -EPIPE;
			break;
		}
	}
	*left = n;
	return rc;
}

/* A burst through the pipe PP; *LEFT: bytes left in it after an error or
 * a pause (-EINTR). */
static int burst_splice(const struct pump *p, struct relay_pipe *pp, size_t *left)
{
	*left = 0;
	for (;;) {
		ssize_t n;
		int rc;

		if ((rc = paused(p)))
			return rc; /* between chunks: the pipe is empty */
		n = splice(p->in, NULL, pp->fd[1], NULL, pp->size, SPLICE_FLAGS);
		if (n == 0)
			return BURST_EOF;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* the pipe is empty: EAGAIN is the input's */
			return errno == EAGAIN ? BURST_DRAINED : -errno;
		}
		rc = push(p, NULL, pp->fd[0], (size_t)n, left);
		if (rc)
			return rc;
	}
}

/* A burst copied through user memory; a pause waits for the chunk read to
 * be written out. */
static int burst_copy(const struct pump *p)
{
	char *buf = malloc(COPY_BUF);
	size_t left;
	int rc;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if ((rc = paused(p)))
			break;
		n = read(p->in, buf, COPY_BUF);
		if (n == 0) {
			rc = BURST_EOF;
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = errno == EAGAIN ? BURST_DRAINED : -errno;
			break;
		}
		if ((rc = push(p, buf, -1, (size_t)n, &left)))
			break;
	}
	free(buf);
	return rc;
}

/* Write out the bytes a paused or imported direction left in P->pipe, then
 * give it back (or close it if some may be left). */
static int pump_pending(struct pump *p)
{
	size_t left = 0;
	int rc = 0;

	if (p->pending)
		rc = push(p, NULL, p->pipe->fd[0], p->pending, &left);
	p->pending = left;
	if (rc == -EINTR && left)
		return rc; /* paused again: still held */
	if (left)
		pipe_discard(p->pipe);
	else
		pipe_put(p->pipe);
	p->pipe = NULL;
	p->pending = 0;
	return rc;
}

int pump_run(struct pump *p)
{
	int rc;

	if (p->pipe && (rc = pump_pending(p)))
		return rc;
	for (;;) {
		struct relay_pipe *pp;
		size_t left;
		int inq = 0;

		if (p->fin_in && ioctl(p->in, FIONREAD, &inq) == 0 && inq == 0)
			return 0; /* what came before its FIN is through */
		if ((rc = wait_io(p, p->in, POLLIN, true)))
			return rc;
		pp = p->copy ? NULL : pipe_get();
		if (!pp) {
			rc = burst_copy(p);
		} else {
			uint64_t before = atomic_load(&p->c->bytes[p->dir]);

			rc = burst_splice(p, pp, &left);
			if (rc == -EINTR && left) {
				p->pipe = pp; /* paused with bytes in flight: kept */
				p->pending = left;
				return rc;
			}
			/* readable, yet splice took nothing: urgent data, which
			 * splice() will not step over and read() does */
			if (rc == BURST_DRAINED && atomic_load(&p->c->bytes[p->dir]) == before)
				rc = burst_copy(p);
			if (left)
				pipe_discard(pp);
			else
				pipe_put(pp);
			if ((rc == -EINVAL || rc == -ENOSYS) && !left &&
			    atomic_load(&p->c->bytes[p->dir]) == 0) {
				p->copy = true;
				rc = burst_copy(p);
			}
		}
		if (rc)
			return rc == BURST_EOF ? 0 : rc;
	}
}
