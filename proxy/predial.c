// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dials for held SYNs. One thread reads the queuers' requests from their
 * hold channels (one per queuer: an answer must reach the queuer that
 * holds the SYN); each dial runs on a worker thread (workers.c) with the
 * usual transparent dial (dial.c), the client's TOS and a timeout just
 * under the queuer's --hold-time, and its outcome goes back to the queuer.
 * A connected socket waits here, by table slot, for the client connection
 * the queuer then lets through marked; listener.c takes it at accept.
 * Sockets nobody takes within KEEP_NS (the client gave up, the SYN went
 * elsewhere) are reset and counted.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial.h"
#include "pepsal_hold.h"
#include "pepsal_log.h"
#include "predial.h"
#include "sockopt.h"
#include "stats.h"
#include "stop.h"
#include "workers.h"

#define KEEP_NS 10000000000ull     /* an unclaimed upstream socket lives this long */
#define TIMEOUT_MARGIN_NS 200000000ull /* our dial ends before the queuer's hold */
#define STOP_WAIT_NS 2000000000ull
#define POLL_MS 500
#define REQ_BATCH 128              /* requests per datagram at most (the queuer's) */

struct ready {
	int fd;                   /* -1: none */
	uint32_t gen;
	int tos;
	uint64_t until_ns;
};

struct job {
	struct pepsal_hold_req req;
	unsigned int ch;          /* the channel to answer on */
};

static struct {
	const struct predial_params *p;
	struct dial_ctx dial;
	int fd[PEPSAL_MAX_QUEUES];       /* our ends, one channel per queuer */
	int child_fd[PEPSAL_MAX_QUEUES]; /* the queuers' ends */
	unsigned int nch;         /* channels */
	pthread_t thread;
	bool running;
	struct stop stop;         /* predial_fini began */
	struct drain inflight;    /* dials running on workers */
	pthread_mutex_t lock;     /* ready[] */
	struct ready *ready;      /* by slot */
	uint32_t nslots;
	atomic_uint nready;       /* changed under lock, peeked by the reader */
} pd = { .lock = PTHREAD_MUTEX_INITIALIZER, .stop = STOP_INIT };

int predial_child_fd(unsigned int i)
{
	return i < pd.nch ? pd.child_fd[i] : -1;
}

/* Keep FD for SLOT/GEN (an older socket of the slot is dropped). */
static void keep(uint32_t slot, uint32_t gen, int fd, int tos)
{
	int old = -1;

	pthread_mutex_lock(&pd.lock);
	if (slot < pd.nslots && !stop_is_set(&pd.stop)) {
		old = pd.ready[slot].fd;
		if (old < 0)
			pd.nready++;
		pd.ready[slot] = (struct ready){ fd, gen, tos, pepsal_now_ns() + KEEP_NS };
		fd = -1;
	}
	pthread_mutex_unlock(&pd.lock);
	if (old >= 0)
		sock_reset_close(old);
	if (fd >= 0)
		sock_reset_close(fd);
}

int predial_take(uint32_t slot, uint32_t gen, int *tos)
{
	int fd = -1;

	if (!pd.nch || slot >= pd.nslots)
		return -1;
	pthread_mutex_lock(&pd.lock);
	if (pd.ready[slot].fd >= 0 && pd.ready[slot].gen == gen) {
		fd = pd.ready[slot].fd;
		*tos = pd.ready[slot].tos;
		pd.ready[slot].fd = -1;
		pd.nready--;
	}
	pthread_mutex_unlock(&pd.lock);
	return fd;
}

/* Reset the sockets past their time (ALL: every one). */
static void sweep(bool all)
{
	uint64_t now = pepsal_now_ns();

	pthread_mutex_lock(&pd.lock);
	for (uint32_t i = 0; pd.nready && i < pd.nslots; i++) {
		struct ready *r = &pd.ready[i];

		if (r->fd < 0 || (!all && r->until_ns > now))
			continue;
		sock_reset_close(r->fd);
		r->fd = -1;
		pd.nready--;
		if (!all)
			stats_count(PC_PREDIAL_UNCLAIMED, 1);
	}
	pthread_mutex_unlock(&pd.lock);
}

static void answer(const struct pepsal_hold_req *req, unsigned int ch, int err)
{
	struct pepsal_hold_ans a = { req->slot, req->gen, err, 0 };

	/* a full channel: the queuer's hold time answers for us */
	if (send(pd.fd[ch], &a, sizeof(a), MSG_NOSIGNAL) != (ssize_t)sizeof(a))
		pr_ratelimited(LOG_WARNING, "cannot answer the queuer: %s", strerror(errno));
}

static void dial_job(void *arg)
{
	struct job *j = arg;
	const struct pepsal_hold_req *req = &j->req;
	struct dial_ctx d = pd.dial;
	uint64_t hold_ns = (uint64_t)req->timeout_ms * 1000000ull;
	int fd;

	if (hold_ns > 2 * TIMEOUT_MARGIN_NS)
		d.timeout_ns = hold_ns - TIMEOUT_MARGIN_NS;
	if (!d.timeout_ns || d.timeout_ns > pd.p->cfg->connect_timeout_ns)
		d.timeout_ns = pd.p->cfg->connect_timeout_ns;
	fd = (pd.p->upstream ? pd.p->upstream : dial_upstream_tos)(&d, &req->client, &req->dst,
								   req->tos);
	if (fd >= 0) {
		stats_count(PC_PREDIALED, 1);
		keep(req->slot, req->gen, fd, req->tos);
		answer(req, j->ch, 0);
	} else {
		char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];

		stats_count(PC_PREDIAL_FAILED, 1);
		pr_debug("held SYN %s -> %s: the server did not accept (%s), the SYN passes "
			 "end to end", pepsal_endpoint_format(&req->client, a),
			 pepsal_endpoint_format(&req->dst, b), strerror(-fd));
		answer(req, j->ch, fd);
	}
	free(j);
	drain_leave(&pd.inflight);
}

static void serve_request(const struct pepsal_hold_req *req, unsigned int ch)
{
	struct job *j = malloc(sizeof(*j));
	int rc = j ? 0 : -ENOMEM;

	if (j) {
		j->req = *req;
		j->ch = ch;
		drain_enter(&pd.inflight);
		rc = workers_run(dial_job, j);
		if (rc) {
			drain_leave(&pd.inflight);
			free(j);
		}
	}
	if (rc) {
		pr_ratelimited(LOG_WARNING, "cannot dial for a held SYN: %s", strerror(-rc));
		answer(req, ch, rc);
	}
}

static void *reader(void *arg)
{
	struct pollfd p[PEPSAL_MAX_QUEUES];

	(void)arg;
	for (unsigned int c = 0; c < pd.nch; c++)
		p[c] = (struct pollfd){ .fd = pd.fd[c], .events = POLLIN };
	while (!stop_is_set(&pd.stop)) {
		static struct pepsal_hold_req req[REQ_BATCH];
		bool hup = false;
		ssize_t n;

		if (poll(p, pd.nch, POLL_MS) > 0) {
			for (unsigned int c = 0; c < pd.nch; c++) {
				if (!p[c].revents)
					continue;
				while ((n = recv(pd.fd[c], req, sizeof(req), MSG_DONTWAIT)) > 0)
					for (size_t i = 0; i < (size_t)n / sizeof(req[0]) &&
					     !stop_is_set(&pd.stop); i++)
						serve_request(&req[i], c);
				if (n == 0 || (p[c].revents & (POLLHUP | POLLERR)))
					hup = true; /* shut down by predial_fini */
			}
			if (hup)
				break;
		}
		if (pd.nready)
			sweep(false);
	}
	return NULL;
}

/* Close the channels (those of index below N were made). */
static void close_channels(void)
{
	for (unsigned int c = 0; c < pd.nch; c++) {
		close(pd.fd[c]);
		close(pd.child_fd[c]);
	}
	pd.nch = 0;
}

int predial_init(const struct predial_params *p)
{
	int sv[2], rc;

	pd.p = p;
	/* -f: TCP Fast Open carries the client's first data in the upstream
	 * SYN, which a dial made before the client is accepted cannot have */
	if (p->cfg->accept_first || p->cfg->no_queuer || p->cfg->mode != MODE_NFQUEUE ||
	    p->cfg->fastopen)
		return 0;
	pd.nslots = pepsal_table_capacity(p->table);
	pd.ready = malloc((size_t)pd.nslots * sizeof(*pd.ready));
	if (!pd.ready)
		return -ENOMEM;
	for (uint32_t i = 0; i < pd.nslots; i++)
		pd.ready[i].fd = -1;
	drain_init(&pd.inflight);
	rc = stop_init(&pd.stop);
	if (rc)
		goto fail;
	pd.dial = (struct dial_ctx){ .cfg = p->cfg, .table = p->table, .stop = &pd.stop };
	for (uint32_t c = 0; c < p->cfg->queues && c < PEPSAL_MAX_QUEUES; c++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
			rc = -errno;
			goto fail;
		}
		pd.fd[c] = sv[0];
		pd.child_fd[c] = sv[1];
		pd.nch = c + 1;
	}
	rc = -pthread_create(&pd.thread, NULL, reader, NULL);
	if (rc)
		goto fail;
	pd.running = true;
	return 0;
fail:
	close_channels();
	stop_fini(&pd.stop);
	free(pd.ready);
	pd.ready = NULL;
	return rc;
}

void predial_fini(void)
{
	uint64_t deadline = pepsal_now_ns() + STOP_WAIT_NS;
	bool drained;

	if (!pd.running)
		return;
	stop_set(&pd.stop); /* the dials in progress give up at once */
	for (unsigned int c = 0; c < pd.nch; c++)
		shutdown(pd.fd[c], SHUT_RDWR);
	pthread_join(pd.thread, NULL);
	pd.running = false;
	drained = drain_wait(&pd.inflight, deadline);
	sweep(true);
	if (!drained)
		return; /* a dial still holds the channel, ready[] and the stop: leave them */
	close_channels();
	stop_fini(&pd.stop);
	free(pd.ready);
	pd.ready = NULL;
}
