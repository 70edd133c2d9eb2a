// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The gateway (pair_gateway.h). One thread waits (epoll) on the pair
 * listeners and on the pair connections accepted but silent: the
 * terminal's warm pool, kept open until a client needs one. A connection
 * that becomes readable leaves the set and its header is read and checked
 * on a worker thread, with a deadline; then the dial, and the relay.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dial.h"
#include "entry.h"
#include "pair_gateway.h"
#include "pair_replay.h"
#include "pepsal_log.h"
#include "relay.h"
#include "sockopt.h"
#include "stats.h"
#include "stop.h"
#include "workers.h"

#define PAIR_WINDOW_S 30          /* header time within this of ours, either way */
#define REPLAY_MAX (1u << 20)     /* nonces remembered at most */
#define HEADER_DEADLINE_MS 5000   /* the header, once its first byte is in */
#define IDLE_MAX 16384            /* silent pair connections held at most (and -c) */
#define ACCEPT_PAUSE_MS 100       /* out of descriptors: the listeners rest this long */
#define STOP_WAIT_NS 3000000000ull
#define EV_BATCH 64

static struct {
	const struct pair_gateway_params *p;
	struct dial_ctx dial;
	struct pair_replay *replay;
	int lfd[2], epfd;
	int nl;
	pthread_t thread;
	bool running;
	struct stop stop;         /* pair_gateway_fini began: its fd is in the epoll set */
	struct drain inflight;    /* headers being read and dialed on workers */
	pthread_mutex_t lock;     /* idle[] */
	int *idle;                /* silent pair connections, -1: free */
	unsigned int nidle, idle_max;
	bool resting;             /* the listeners are out of the epoll set */
	uint64_t rest_until;      /* ... until then */
} gw = { .lfd = { -1, -1 }, .epfd = -1, .stop = STOP_INIT, .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- the silent connections --------------------------------------------- */

static bool idle_add(int fd)
{
	bool ok = false;

	pthread_mutex_lock(&gw.lock);
	for (unsigned int i = 0; i < gw.idle_max && !ok; i++)
		if (gw.idle[i] < 0) {
			gw.idle[i] = fd;
			gw.nidle++;
			ok = true;
		}
	pthread_mutex_unlock(&gw.lock);
	return ok;
}

static void idle_del(int fd)
{
	pthread_mutex_lock(&gw.lock);
	for (unsigned int i = 0; i < gw.idle_max; i++)
		if (gw.idle[i] == fd) {
			gw.idle[i] = -1;
			gw.nidle--;
			break;
		}
	pthread_mutex_unlock(&gw.lock);
}

/* ---- a header ------------------------------------------------------------- */

static bool peer_allowed(const struct pepsal_endpoint *peer)
{
	const struct pair_config *pc = &gw.p->cfg->pair;

	for (unsigned int i = 0; i < pc->npeers; i++) {
		const struct pair_net *n = &pc->peers[i];
		unsigned int full = n->len / 8, rest = n->len % 8;

		if (n->family != peer->family || memcmp(n->addr, peer->addr, full))
			continue;
		if (rest && ((n->addr[full] ^ peer->addr[full]) & (0xff << (8 - rest))))
			continue;
		return true;
	}
	return false;
}

/* Read the header of FD: its length, short if the peer closed or the
 * deadline passed first; 0 with nothing at all (a pool connection closed). */
static size_t read_header(int fd, uint8_t buf[PAIR_HDR_LEN])
{
	uint64_t deadline = pepsal_now_ns() + HEADER_DEADLINE_MS * 1000000ull;
	size_t got = 0;
	short revents;

	while (got < PAIR_HDR_LEN) {
		ssize_t n = recv(fd, buf + got, PAIR_HDR_LEN - got, MSG_DONTWAIT);
		int rc;

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			break;
		rc = stop_poll(&gw.stop, fd, POLLIN, deadline, &revents);
		if (rc == 0 || (rc < 0 && rc != -EINTR))
			break; /* the deadline, or stopping */
	}
	return got;
}

/* Count and log why FD's header was refused, then reset it. */
static void refuse(int fd, const struct pepsal_endpoint *peer, enum proxy_counter pc,
		   const char *why)
{
	char a[PEPSAL_ENDPOINT_STRLEN];

	stats_count(pc, 1);
	pr_ratelimited(LOG_WARNING, "pair connection from %s refused: %s",
		       pepsal_endpoint_format(peer, a), why);
	sock_reset_close(fd);
}

static enum proxy_counter counter_of(enum pair_hdr_status st)
{
	switch (st) {
	case PAIR_HDR_AUTH: return PC_PAIR_REFUSED_AUTH;
	case PAIR_HDR_TIME: return PC_PAIR_REFUSED_TIME;
	default: return PC_PAIR_REFUSED_HEADER;
	}
}

/* The header checked: dial, record, relay. Consumes FD. */
static void relay_pair(int fd, const struct pair_hdr *h)
{
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];
	struct pepsal_entry_view entry;
	int sfd, rc;

	if (relay_stopping() || relay_active() >= gw.p->cfg->max_conns) {
		stats_count(PC_OVER_LIMIT, 1);
		pr_ratelimited(LOG_WARNING, "connection limit (%u) reached: resetting a pair "
			       "connection", gw.p->cfg->max_conns);
		sock_reset_close(fd);
		return;
	}
	sfd = dial_upstream_tos(&gw.dial, &h->client, &h->dst, h->tos);
	if (sfd < 0) {
		/* the terminal resets its client: a refusal crosses the pair */
		stats_count(PC_DIAL_FAILED, 1);
		pr_ratelimited(LOG_INFO, "connection from %s to %s failed: %s; resetting the "
			       "pair connection", pepsal_endpoint_format(&h->client, a),
			       pepsal_endpoint_format(&h->dst, b), strerror(-sfd));
		sock_reset_close(fd);
		return;
	}
	if (h->kind == PAIR_KIND_CONFIRM && /* the terminal holds the client's SYN */
	    send(fd, &(char){ PAIR_PROBE_OK }, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
		sock_reset_close(sfd);
		sock_reset_close(fd);
		return;
	}
	if (entry_record_claim(gw.p->table, &h->client, &h->dst, &entry) < 0)
		entry_unlisted(&entry, &h->dst);
	entry.client = h->client; /* the dial's source, and what pepsal-shm shows */
	rc = relay_start_dialed(fd, sfd, &entry);
	if (rc) {
		pr_ratelimited(LOG_WARNING, "cannot relay the pair connection of %s: %s",
			       pepsal_endpoint_format(&h->client, a), strerror(-rc));
		pepsal_table_remove(gw.p->table, entry.slot, entry.gen);
		sock_reset_close(fd);
		return;
	}
	stats_count(PC_ACCEPTED, 1);
	stats_count(PC_PAIR_ACCEPTED, 1);
}

static void serve(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct pepsal_endpoint peer = { 0 };
	uint8_t buf[PAIR_HDR_LEN];
	struct pair_hdr h;
	enum pair_hdr_status st;
	uint64_t now_s;
	size_t got;
	int rc;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		pepsal_endpoint_from_sockaddr(&peer, (struct sockaddr *)&ss, sl);
	got = read_header(fd, buf);
	if (got == 0) { /* a pool connection the terminal let go of */
		close(fd);
		return;
	}
	now_s = (uint64_t)time(NULL);
	st = pair_hdr_decode(buf, got, gw.p->key, now_s, PAIR_WINDOW_S, &h);
	if (st != PAIR_HDR_OK) {
		refuse(fd, &peer, counter_of(st), pair_hdr_strerror(st));
		return;
	}
	rc = pair_replay_check(gw.replay, h.nonce, h.time_s, now_s);
	if (rc) {
		refuse(fd, &peer, PC_PAIR_REPLAY, rc == -EEXIST ? "replayed header" :
		       "too many headers in the window");
		return;
	}
	if (h.kind == PAIR_KIND_PROBE) { /* the terminal checks our key and clock */
		if (send(fd, &(char){ PAIR_PROBE_OK }, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
			pr_ratelimited(LOG_INFO, "cannot answer a pair probe: %s", strerror(errno));
		close(fd);
		return;
	}
	if (h.tos >= 0) /* the way back over the satellite keeps the DSCP */
		sock_set_tos(fd, peer.family, h.tos);
	relay_pair(fd, &h);
}

static void serve_job(void *arg)
{
	serve((int)(intptr_t)arg);
	drain_leave(&gw.inflight);
}

/* ---- the thread ------------------------------------------------------------ */

static void rest(bool on)
{
	struct epoll_event ev = { .events = EPOLLIN };

	gw.resting = on;
	gw.rest_until = pepsal_now_ns() + ACCEPT_PAUSE_MS * 1000000ull;
	for (int i = 0; i < gw.nl; i++) {
		ev.data.fd = gw.lfd[i];
		epoll_ctl(gw.epfd, on ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, gw.lfd[i], &ev);
	}
}

static void accept_all(int lfd)
{
	for (int batch = 0; batch < 256; batch++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct pepsal_endpoint peer = { 0 };
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN) {
				/* out of descriptors or memory: the pending connection
				 * stays readable; rest rather than spin on it */
				stats_count(PC_ACCEPT_ERRORS, 1);
				pr_ratelimited(LOG_WARNING, "pair listener: accept: %s",
					       strerror(errno));
				rest(true);
			}
			return;
		}
		if (pepsal_endpoint_from_sockaddr(&peer, (struct sockaddr *)&ss, sl) < 0 ||
		    !peer_allowed(&peer)) {
			refuse(fd, &peer, PC_PAIR_REFUSED_PEER, "not a --pair-peer");
			continue;
		}
		ev.data.fd = fd;
		if (!idle_add(fd)) {
			refuse(fd, &peer, PC_OVER_LIMIT, "too many idle pair connections");
			continue;
		}
		if (epoll_ctl(gw.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			idle_del(fd);
			sock_reset_close(fd);
		}
	}
}

/* A silent connection became readable (its header, or its close). */
static void readable(int fd)
{
	int rc;

	epoll_ctl(gw.epfd, EPOLL_CTL_DEL, fd, NULL);
	idle_del(fd);
	drain_enter(&gw.inflight);
	rc = workers_run(serve_job, (void *)(intptr_t)fd);
	if (rc) {
		drain_leave(&gw.inflight);
		relay_resources_short();
		pr_ratelimited(LOG_WARNING, "cannot start a thread for a pair connection: %s",
			       strerror(-rc));
		sock_reset_close(fd);
	}
}

static void *gateway_thread(void *arg)
{
	struct epoll_event ev[EV_BATCH];

	(void)arg;
	while (!stop_is_set(&gw.stop)) {
		int n = epoll_wait(gw.epfd, ev, EV_BATCH, gw.resting ? ACCEPT_PAUSE_MS : -1);

		if (gw.resting && pepsal_now_ns() >= gw.rest_until)
			rest(false);

		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == gw.stop.fd)
				return NULL;
			if (fd == gw.lfd[0] || fd == gw.lfd[1])
				accept_all(fd);
			else
				readable(fd);
		}
	}
	return NULL;
}

/* ---- start and stop ---------------------------------------------------------- */

static int open_listener(const struct pepsal_endpoint *ep, char *err, size_t errlen)
{
	const struct proxy_config *cfg = gw.p->cfg;
	struct sockaddr_storage ss;
	socklen_t sl = pepsal_endpoint_to_sockaddr(ep, &ss);
	char a[PEPSAL_ENDPOINT_STRLEN], e[160];
	int fd, one = 1, rc;

	fd = socket(ep->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ep->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* inherited by accepted sockets: the window scale of the SYN-ACK */
	if (leg_apply(fd, LEG_PAIR, cfg, e, sizeof(e)))
		pr_warn("pair listener: %s", e);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 4096) < 0)
		goto fail;
	return fd;
fail:
	rc = -errno;
	snprintf(err, errlen, "cannot listen for pair connections on %s: %s",
		 pepsal_endpoint_format(ep, a), strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static int open_listeners(char *err, size_t errlen)
{
	struct pepsal_endpoint ep = gw.p->cfg->pair.listen;
	int fd;

	if (ep.family) {
		fd = open_listener(&ep, err, errlen);
		if (fd < 0)
			return fd;
		gw.lfd[gw.nl++] = fd;
		return 0;
	}
	ep.family = AF_INET;
	fd = open_listener(&ep, err, errlen);
	if (fd < 0)
		return fd;
	gw.lfd[gw.nl++] = fd;
	ep.family = AF_INET6;
	fd = open_listener(&ep, err, errlen);
	if (fd < 0)
		pr_warn("IPv6 pair listener disabled: %s", err);
	else
		gw.lfd[gw.nl++] = fd;
	return 0;
}

static int watch(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(gw.epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int pair_gateway_init(const struct pair_gateway_params *p, char *err, size_t errlen)
{
	int rc;

	gw.p = p;
	gw.dial = (struct dial_ctx){ .cfg = p->cfg, .table = p->table, .stop = &gw.stop };
	drain_init(&gw.inflight);
	gw.idle_max = p->cfg->max_conns < IDLE_MAX ? p->cfg->max_conns : IDLE_MAX;
	gw.idle = malloc(gw.idle_max * sizeof(*gw.idle));
	gw.replay = pair_replay_new(PAIR_WINDOW_S, REPLAY_MAX);
	if (!gw.idle) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < gw.idle_max; i++)
		gw.idle[i] = -1;
	rc = open_listeners(err, errlen);
	if (rc)
		return rc;
	gw.epfd = epoll_create1(EPOLL_CLOEXEC);
	rc = gw.epfd < 0 ? -errno : stop_init(&gw.stop);
	if (!rc)
		rc = watch(gw.stop.fd);
	for (int i = 0; i < gw.nl && !rc; i++)
		rc = watch(gw.lfd[i]);
	if (!rc)
		rc = -pthread_create(&gw.thread, NULL, gateway_thread, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start the pair gateway: %s", strerror(-rc));
		return rc;
	}
	gw.running = true;
	return 0;
}

void pair_gateway_fini(void)
{
	bool drained = true;

	stop_set(&gw.stop); /* the thread, and the headers being read */
	if (gw.running) {
		pthread_join(gw.thread, NULL);
		gw.running = false;
		drained = drain_wait(&gw.inflight, pepsal_now_ns() + STOP_WAIT_NS);
	}
	for (int i = 0; i < gw.nl; i++)
		close(gw.lfd[i]);
	gw.nl = 0;
	for (unsigned int i = 0; gw.idle && i < gw.idle_max; i++)
		if (gw.idle[i] >= 0)
			close(gw.idle[i]);
	if (gw.epfd >= 0)
		close(gw.epfd);
	gw.epfd = -1;
	/* a header still being read holds the replay cache and the stop: keep
	 * them then */
	if (drained) {
		stop_fini(&gw.stop);
		pair_replay_free(gw.replay);
		free(gw.idle);
		gw.replay = NULL;
		gw.idle = NULL;
	}
}
