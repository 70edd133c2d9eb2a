// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dials for held SYNs, driven by one event loop. One thread reads the
 * queuers' requests from their hold channels (one per queuer: an answer
 * must reach the queuer that holds the SYN), starts each dial itself with
 * a non-blocking connect (dial.c: transparent, the client's TOS, a source
 * port no client connection holds) and waits for the server's answers
 * with the channels in the same epoll set: a held SYN costs this thread's
 * wake-ups and no hand-off to another thread (issue 28: the worker the
 * dial used to run on waited behind the relay threads). The outcomes of
 * one wake-up leave in one datagram per channel. When an ICMP or ICMPv6
 * error refused a dial, the answer carries its type, code and sender, so
 * that the queuer can answer the held SYN with the same error at once.
 *
 * The thread runs SCHED_FIFO (--rt-priority) and handles at most
 * MAX_EVENTS events per wake-up (pepsal_sched.h: a saturated one steps it
 * down). A relay hook that dials by itself (a pair terminal's pool) still
 * runs on a worker, as it blocks.
 *
 * A connected socket waits here, by table slot, for the client connection
 * the queuer then lets through marked; listener.c takes it at accept.
 * Sockets nobody takes within KEEP_NS (the client gave up, the SYN went
 * elsewhere) are reset and counted.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial.h"
#include "pepsal_hold.h"
#include "pepsal_log.h"
#include "pepsal_sched.h"
#include "pepsal_timeline.h"
#include "predial.h"
#include "sockopt.h"
#include "stats.h"
#include "stop.h"
#include "workers.h"

#define KEEP_NS 10000000000ull     /* an unclaimed upstream socket lives this long */
#define TIMEOUT_MARGIN_NS 200000000ull /* our dial ends before the queuer's hold */
#define STOP_WAIT_NS 2000000000ull
#define SWEEP_MS 500               /* unclaimed sockets are looked at this often */
#define REQ_BATCH 128              /* requests per datagram at most (the queuer's) */
#define ANS_BATCH 128              /* answers per datagram */
#define MAX_EVENTS 64              /* per wake-up: the budget */

struct ready {
	int fd;                   /* -1: none */
	uint32_t gen;
	int tos;
	uint64_t until_ns;
};

/* A dial in progress (or a job on a worker, with the upstream hook). */
struct job {
	struct pepsal_hold_req req;
	unsigned int ch;          /* the channel to answer on */
	int fd;
	uint64_t deadline_ns;
	struct job *prev, *next;  /* dials in start order: the same hold time,
				   * so the head's deadline comes first */
};

struct answers {
	unsigned int n;
	struct pepsal_hold_ans a[ANS_BATCH];
};

static struct {
	const struct predial_params *p;
	struct dial_ctx dial;
	int fd[PEPSAL_MAX_QUEUES];       /* our ends, one channel per queuer */
	int child_fd[PEPSAL_MAX_QUEUES]; /* the queuers' ends */
	unsigned int nch;         /* channels */
	int ep;                   /* the loop's epoll set */
	pthread_t thread;
	bool running;
	struct stop stop;         /* predial_fini began */
	struct drain inflight;    /* dials running on workers (the hook) */
	struct job *head, *tail;  /* dials in progress, the loop's own */
	struct answers out[PEPSAL_MAX_QUEUES]; /* the loop's, sent per wake-up */
	pthread_mutex_t lock;     /* ready[] */
	struct ready *ready;      /* by slot */
	uint32_t nslots;
	atomic_uint nready;       /* changed under lock, peeked by the loop */
} pd = { .lock = PTHREAD_MUTEX_INITIALIZER, .ep = -1, .stop = STOP_INIT };

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

static struct pepsal_hold_ans make_answer(const struct pepsal_hold_req *req, int err,
					  const struct sock_icmp *icmp)
{
	struct pepsal_hold_ans a = { .slot = req->slot, .gen = req->gen, .err = err };

	if (icmp) {
		a.icmp_family = icmp->family;
		a.icmp_type = icmp->type;
		a.icmp_code = icmp->code;
		memcpy(a.icmp_from, icmp->from, sizeof(a.icmp_from));
	}
	return a;
}

/* Send answers to channel CH now; a full channel: the queuer's hold time
 * answers for us. */
static void send_answers(unsigned int ch, const struct pepsal_hold_ans *a, unsigned int n)
{
	if (n && send(pd.fd[ch], a, n * sizeof(*a), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		pr_ratelimited(LOG_WARNING, "cannot answer the queuer: %s", strerror(errno));
}

/* The loop's answer, sent with the others of this wake-up. */
static void answer(const struct pepsal_hold_req *req, unsigned int ch, int err,
		   const struct sock_icmp *icmp)
{
	struct answers *o = &pd.out[ch];

	if (o->n == ANS_BATCH) {
		send_answers(ch, o->a, o->n);
		o->n = 0;
	}
	o->a[o->n++] = make_answer(req, err, icmp);
	pepsal_tl_mark(TL_ANSWER_SENT, &req->client, 0);
}

static void flush_answers(void)
{
	for (unsigned int c = 0; c < pd.nch; c++) {
		send_answers(c, pd.out[c].a, pd.out[c].n);
		pd.out[c].n = 0;
	}
}

/* The dial's timeout: just under the queuer's hold, at most --connect-timeout. */
static uint64_t dial_timeout(const struct pepsal_hold_req *req)
{
	uint64_t hold_ns = (uint64_t)req->timeout_ms * 1000000ull, t = 0;

	if (hold_ns > 2 * TIMEOUT_MARGIN_NS)
		t = hold_ns - TIMEOUT_MARGIN_NS;
	if (!t || t > pd.p->cfg->connect_timeout_ns)
		t = pd.p->cfg->connect_timeout_ns;
	return t;
}

static void count_outcome(const struct pepsal_hold_req *req, int err)
{
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];

	if (!err) {
		stats_count(PC_PREDIALED, 1);
		return;
	}
	stats_count(PC_PREDIAL_FAILED, 1);
	pr_debug("held SYN %s -> %s: the server did not accept (%s), the SYN passes "
		 "end to end", pepsal_endpoint_format(&req->client, a),
		 pepsal_endpoint_format(&req->dst, b), strerror(-err));
}

/* ---- the blocking hook, on a worker ------------------------------------ */

static void hook_job(void *arg)
{
	struct job *j = arg;
	struct dial_ctx d = pd.dial;
	struct pepsal_hold_ans a;
	int fd;

	d.timeout_ns = dial_timeout(&j->req);
	fd = pd.p->upstream(&d, &j->req.client, &j->req.dst, j->req.tos);
	count_outcome(&j->req, fd < 0 ? fd : 0);
	if (fd >= 0)
		keep(j->req.slot, j->req.gen, fd, j->req.tos);
	a = make_answer(&j->req, fd < 0 ? fd : 0, NULL);
	send_answers(j->ch, &a, 1);
	free(j);
	drain_leave(&pd.inflight);
}

/* ---- the event loop's dials -------------------------------------------- */

static void list_unlink(struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		pd.head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		pd.tail = j->prev;
}

/* The dial J ended with ERR (0: connected): answer, keep its socket or
 * close it, free J. */
static void dial_end(struct job *j, int err)
{
	struct sock_icmp icmp, *ip = NULL;

	/* EPOLLONESHOT: an fd in the set is disabled after its event and
	 * leaves the set when the relay closes it (no EPOLL_CTL_DEL) */
	if (err && j->fd >= 0 && sock_icmp_error(j->fd, &icmp) == 0)
		ip = &icmp;
	count_outcome(&j->req, err);
	if (!err) {
		/* established: ICMP errors are soft again (RFC 1122) */
		sock_recverr(j->fd, j->req.dst.family, false);
		pepsal_tl_mark(TL_DIAL_DONE, &j->req.client, 0);
		keep(j->req.slot, j->req.gen, j->fd, j->req.tos);
	} else if (j->fd >= 0) {
		close(j->fd);
	}
	answer(&j->req, j->ch, err, ip);
	free(j);
}

static void serve_request(const struct pepsal_hold_req *req, unsigned int ch)
{
	struct job *j = malloc(sizeof(*j));
	int rc;

	pepsal_tl_mark(TL_REQ_READ, &req->client, 0);
	if (!j) {
		answer(req, ch, -ENOMEM, NULL);
		return;
	}
	*j = (struct job){ .req = *req, .ch = ch, .fd = -1 };
	if (pd.p->upstream) { /* blocks: on a worker */
		drain_enter(&pd.inflight);
		rc = workers_run(hook_job, j);
		if (rc) {
			drain_leave(&pd.inflight);
			free(j);
			pr_ratelimited(LOG_WARNING, "cannot dial for a held SYN: %s", strerror(-rc));
			answer(req, ch, rc, NULL);
		}
		return;
	}
	rc = dial_start_tos(&pd.dial, &req->client, &req->dst, req->tos, &j->fd);
	if (rc != -EINPROGRESS) {
		dial_end(j, rc);
		return;
	}
	j->deadline_ns = pepsal_now_ns() + dial_timeout(req);
	if (epoll_ctl(pd.ep, EPOLL_CTL_ADD, j->fd,
		      &(struct epoll_event){ .events = EPOLLOUT | EPOLLONESHOT,
				       .data.ptr = j }) < 0) {
		dial_end(j, -errno);
		return;
	}
	j->prev = pd.tail;
	if (pd.tail)
		pd.tail->next = j;
	else
		pd.head = j;
	pd.tail = j;
}

/* A dial's socket is writable or failed. */
static void dial_event(struct job *j, uint32_t events)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	list_unlink(j);
	if (events & (EPOLLERR | EPOLLHUP)) {
		if (getsockopt(j->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		dial_end(j, soerr ? -soerr : -ECONNREFUSED);
		return;
	}
	dial_end(j, 0);
}

/* Dials past their deadline: timed out. Returns ms until the next one. */
static int expire(uint64_t now)
{
	while (pd.head && pd.head->deadline_ns <= now) {
		struct job *j = pd.head;

		list_unlink(j);
		dial_end(j, -ETIMEDOUT);
	}
	if (!pd.head)
		return SWEEP_MS;
	return (int)((pd.head->deadline_ns - now) / 1000000 + 1);
}

/* Read channel C; false when it is closed (predial_fini). */
static bool read_channel(unsigned int c)
{
	static struct pepsal_hold_req req[REQ_BATCH];
	ssize_t n;

	while ((n = recv(pd.fd[c], req, sizeof(req), MSG_DONTWAIT)) > 0)
		for (size_t i = 0; i < (size_t)n / sizeof(req[0]) &&
		     !stop_is_set(&pd.stop); i++)
			serve_request(&req[i], c);
	return n < 0 && (errno == EAGAIN || errno == EINTR);
}

static void *loop(void *arg)
{
	struct epoll_event ev[MAX_EVENTS];
	uint64_t next_sweep = pepsal_now_ns() + SWEEP_MS * 1000000ull;
	struct pepsal_rt rt;
	bool open = true;
	int rc;

	(void)arg;
	pthread_setname_np(pthread_self(), "pepsal-predial");
	rc = pepsal_rt_init(&rt, (int)pd.p->cfg->rt_priority, -10);
	if (rc && pd.p->cfg->rt_priority)
		pr_warn("the predial thread runs without SCHED_FIFO %u (%s): held SYNs may wait "
			"behind relay threads (CAP_SYS_NICE, an RT budget for pepsal's cgroup)",
			pd.p->cfg->rt_priority, strerror(-rc));
	while (open && !stop_is_set(&pd.stop)) {
		uint64_t now = pepsal_now_ns();
		int n, timeout = expire(now);

		flush_answers(); /* the timeouts' */
		n = epoll_wait(pd.ep, ev, MAX_EVENTS, timeout);
		now = pepsal_now_ns();
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u64 < PEPSAL_MAX_QUEUES)
				open &= read_channel((unsigned int)ev[i].data.u64) &&
					!(ev[i].events & (EPOLLHUP | EPOLLERR));
			else
				dial_event(ev[i].data.ptr, ev[i].events);
		}
		flush_answers();
		pepsal_rt_wakeup(&rt, n == MAX_EVENTS, now);
		if (atomic_load(&pd.nready) && (now = pepsal_now_ns()) >= next_sweep) {
			sweep(false);
			next_sweep = now + SWEEP_MS * 1000000ull;
		}
	}
	/* stopping: the dials in progress end unanswered (the queuer lets
	 * their SYNs through as the channel closes) */
	while (pd.head) {
		struct job *j = pd.head;

		list_unlink(j);
		close(j->fd);
		free(j);
	}
	return NULL;
}

/* Close the channels and the epoll set. */
static void close_channels(void)
{
	for (unsigned int c = 0; c < pd.nch; c++) {
		close(pd.fd[c]);
		close(pd.child_fd[c]);
	}
	pd.nch = 0;
	if (pd.ep >= 0)
		close(pd.ep);
	pd.ep = -1;
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
	pd.dial = (struct dial_ctx){ .cfg = p->cfg, .table = p->table, .stop = &pd.stop,
				     .recverr = true };
	pd.ep = epoll_create1(EPOLL_CLOEXEC);
	if (pd.ep < 0) {
		rc = -errno;
		goto fail;
	}
	for (uint32_t c = 0; c < p->cfg->queues && c < PEPSAL_MAX_QUEUES; c++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
			rc = -errno;
			goto fail;
		}
		pd.fd[c] = sv[0];
		pd.child_fd[c] = sv[1];
		pd.nch = c + 1;
		if (epoll_ctl(pd.ep, EPOLL_CTL_ADD, sv[0],
			      &(struct epoll_event){ .events = EPOLLIN, .data.u64 = c }) < 0) {
			rc = -errno;
			goto fail;
		}
	}
	rc = -pthread_create(&pd.thread, NULL, loop, NULL);
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
	stop_set(&pd.stop); /* the hook's dials in progress give up at once */
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
