// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The adaptive satellite leg. Relay threads register their client socket
 * (adapt_watch) once the server answered and unregister it before closing
 * it (adapt_unwatch); one monitor thread samples TCP_INFO of every watched
 * socket each tick and applies adapt_decide's verdict with TCP_CONGESTION.
 * The monitor's lock is taken only by relay threads and the monitor, never
 * on the accept path; unwatch returns only once the monitor is done with
 * the descriptor, so it is never used after close.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* the full struct tcp_info */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "adapt.h"
#include "pepsal_log.h"
#include "stats.h"

#define TICK_NS 100000000ull        /* sampling period */
#define PENDING_TICK_NS 10000000ull /* ... of a connection whose switch waits */
#define CLEAR_MIN_NS 5000000000ull  /* loss-free time before going back ... */
#define CLEAR_RTTS 8ull             /* ... and at least this many RTTs ... */
#define CLEAR_SEGS 3000u            /* ... and data segments sent (at 0.1 % loss
				     * 3000 pass without one 5 % of the time) */
#define PATH_HOLD_NS 60000000000ull /* a client's link is lossy for this long
				     * after its last loss without queueing */
#define PATH_SLOTS 1024             /* remembered client addresses */
#define QUEUE_MIN_US 20000u         /* queueing: srtt above min_rtt by max(this, */
#define QUEUE_FRACTION 4u           /* min_rtt / this) */
#define PENDING_RTTS 3ull           /* the longest a switch waits for the
				     * recovery to end, in RTTs */

struct watched {
	int fd;
	uint32_t path;        /* slot of the client's address in paths */
	uint8_t addr[16];     /* the client's address (IPv4 mapped) */
	uint64_t since_ns;    /* watched since (the server answered) */
	struct adapt_state st;
};

/* The last verdict on a client's link, by address (direct-mapped: a
 * collision forgets the older client, which then starts on the base). */
struct path {
	uint8_t addr[16];
	uint64_t lossy_until_ns;
};

static struct {
	const struct adapt_params *p;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	atomic_bool running; /* the monitor runs: watch registers */
	bool stop;
	struct watched *w;    /* dense array of watched sockets */
	int *index;           /* fd -> position in w, -1: not watched */
	int nw, nfd;
	struct path paths[PATH_SLOTS];
	char base[PROXY_CC_NAME_MAX]; /* algorithm of a clean link ("" = the socket's) */
} ad = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- the rules ------------------------------------------------------------- */

static bool queueing(const struct adapt_sample *x)
{
	uint32_t margin = x->min_rtt_us / QUEUE_FRACTION;

	if (margin < QUEUE_MIN_US)
		margin = QUEUE_MIN_US;
	return x->min_rtt_us && x->rtt_us > x->min_rtt_us + margin;
}

enum adapt_action adapt_decide(struct adapt_state *s, const struct adapt_sample *x,
			       uint64_t now_ns)
{
	bool loss = x->total_retrans != s->retrans;
	uint64_t clear = CLEAR_RTTS * x->min_rtt_us * 1000ull;

	s->retrans = x->total_retrans;
	if (loss)
		s->last_loss_ns = now_ns;
	if (loss)
		s->segs_at_loss = x->data_segs_out;
	if (!s->lossy) {
		if (loss && queueing(x))
			s->pending_ns = 0; /* congestion after all */
		else if (loss && !s->pending_ns)
			s->pending_ns = now_ns ? now_ns : 1;
		if (!s->pending_ns)
			return ADAPT_STAY;
		/* wait for the recovery to end: until then cubic's PRR holds
		 * cwnd at the bytes in flight, which on a leg limited by the
		 * client's window is a few dozen segments, and bbr would start
		 * its model (pacing rate, cwnd) from there; after it, or once
		 * PRR has grown cwnd back to ssthresh, cwnd is cubic's ssthresh
		 * (0.7 of the window before). At 1 % loss one recovery follows
		 * another with only moments in between: hence the fast ticks of
		 * a pending connection and the ssthresh test. */
		if (x->ca_state >= TCP_CA_Recovery && !(x->ssthresh && x->cwnd >= x->ssthresh) &&
		    now_ns - s->pending_ns < PENDING_RTTS * x->min_rtt_us * 1000ull)
			return ADAPT_STAY;
		s->pending_ns = 0;
		return ADAPT_TO_LOSSY;
	}
	if (loss)
		/* loss with a standing queue is congestion: the base algorithm's
		 * answer (back off) is the right one */
		return queueing(x) ? ADAPT_CONGESTION : ADAPT_LOSSY_AGAIN;
	if (clear < CLEAR_MIN_NS)
		clear = CLEAR_MIN_NS;
	/* clear: long enough, and enough sent to have seen a loss (an idle
	 * connection is no evidence) */
	return now_ns - s->last_loss_ns >= clear &&
	       x->data_segs_out - s->segs_at_loss >= CLEAR_SEGS ? ADAPT_TO_BASE : ADAPT_STAY;
}

/* ---- the monitor ------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int set_cc(int fd, const char *name)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name,
			  (socklen_t)strlen(name)) ? -errno : 0;
}

static void tick_one(struct watched *w, uint64_t now)
{
	const struct proxy_config *cfg = ad.p->cfg;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	struct adapt_sample x;
	enum adapt_action a;
	const char *to;
	int rc;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(w->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return;
	x = (struct adapt_sample){ .total_retrans = ti.tcpi_total_retrans,
				   .data_segs_out = ti.tcpi_data_segs_out,
				   .rtt_us = ti.tcpi_rtt, .min_rtt_us = ti.tcpi_min_rtt,
				   .ca_state = ti.tcpi_ca_state, .cwnd = ti.tcpi_snd_cwnd,
				   .ssthresh = ti.tcpi_snd_ssthresh };
	a = adapt_decide(&w->st, &x, now);
	if (memcmp(ad.paths[w->path].addr, w->addr, 16) != 0)
		; /* its slot went to another client since */
	else if (a == ADAPT_TO_LOSSY || a == ADAPT_LOSSY_AGAIN)
		ad.paths[w->path].lossy_until_ns = now + PATH_HOLD_NS;
	else if (a != ADAPT_STAY)
		ad.paths[w->path].lossy_until_ns = 0;
	if (a == ADAPT_STAY || a == ADAPT_LOSSY_AGAIN)
		return;
	to = a == ADAPT_TO_LOSSY ? cfg->cc_lossy : ad.base;
	rc = set_cc(w->fd, to);
	if (rc) {
		pr_ratelimited(LOG_WARNING, "cannot switch a client socket to %s: %s", to,
			       strerror(-rc));
		return;
	}
	w->st.lossy = a == ADAPT_TO_LOSSY;
	stats_count(w->st.lossy ? PC_CC_ADAPTED : PC_CC_RESTORED, 1);
	pr_debug("adaptive cc: client socket %d: %s at %.2f s (%" PRIu64 " bytes acked, cwnd %u, "
		 "retransmissions %u, srtt %u us, min_rtt %u us)", w->fd, to,
		 (double)(now - w->since_ns) / 1e9, (uint64_t)ti.tcpi_bytes_acked, ti.tcpi_snd_cwnd,
		 x.total_retrans, x.rtt_us, x.min_rtt_us);
}

static void *monitor(void *arg)
{
	uint64_t next = now_ns(), next_pending = UINT64_MAX;

	(void)arg;
	pthread_mutex_lock(&ad.lock);
	while (!ad.stop) {
		struct timespec ts;
		uint64_t now = now_ns(), wake;
		bool pending = false;

		if (now >= next || now >= next_pending) {
			bool all = now >= next;

			/* every socket each tick; those whose switch waits for the
			 * end of a recovery every PENDING_TICK_NS in between */
			for (int i = 0; i < ad.nw; i++) {
				if (all || ad.w[i].st.pending_ns)
					tick_one(&ad.w[i], now);
				pending |= ad.w[i].st.pending_ns != 0;
			}
			if (all)
				next = now + TICK_NS;
			next_pending = pending ? now + PENDING_TICK_NS : UINT64_MAX;
			continue;
		}
		wake = next < next_pending ? next : next_pending;
		clock_gettime(CLOCK_MONOTONIC, &ts); /* the condition's clock */
		ts.tv_nsec += (long)(wake - now);
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&ad.wake, &ad.lock, &ts);
	}
	pthread_mutex_unlock(&ad.lock);
	return NULL;
}

/* ---- registration ------------------------------------------------------------- */

/* The client's address as 16 bytes (IPv4 as mapped IPv6) and its slot. */
static uint32_t path_of(int fd, uint8_t addr[16])
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	uint32_t h = 2166136261u; /* FNV-1a */

	memset(addr, 0, 16);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			addr[10] = addr[11] = 0xff;
			memcpy(addr + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		} else if (ss.ss_family == AF_INET6) {
			memcpy(addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		}
	}
	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h % PATH_SLOTS;
}

void adapt_watch(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	uint8_t addr[16];
	uint32_t path;
	bool lossy = false;

	if (!atomic_load(&ad.running) || fd < 0)
		return;
	memset(&ti, 0, sizeof(ti));
	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len); /* the handshake's count */
	path = path_of(fd, addr);
	pthread_mutex_lock(&ad.lock);
	if (atomic_load(&ad.running) && fd < ad.nfd && ad.index[fd] < 0 && ad.nw < ad.nfd) {
		struct path *p = &ad.paths[path];
		uint64_t now = now_ns();

		if (memcmp(p->addr, addr, 16) != 0) {
			memcpy(p->addr, addr, 16);
			p->lossy_until_ns = 0;
		}
		/* the client's link lost packets at random lately: start lossy */
		lossy = p->lossy_until_ns > now && set_cc(fd, ad.p->cfg->cc_lossy) == 0;
		ad.w[ad.nw] = (struct watched){ .fd = fd, .path = path, .since_ns = now,
			.st = { .lossy = lossy, .retrans = ti.tcpi_total_retrans,
				.segs_at_loss = ti.tcpi_data_segs_out,
				.last_loss_ns = lossy ? now : 0 } };
		memcpy(ad.w[ad.nw].addr, addr, 16);
		ad.index[fd] = ad.nw++;
	}
	pthread_mutex_unlock(&ad.lock);
	if (lossy) {
		stats_count(PC_CC_STARTED_LOSSY, 1);
		pr_debug("adaptive cc: client socket %d: %s from the start (its link lost packets "
			 "at random in the last %llu s)", fd, ad.p->cfg->cc_lossy,
			 PATH_HOLD_NS / 1000000000ull);
	}
}

void adapt_unwatch(int fd)
{
	int i;

	if (!ad.index || fd < 0 || fd >= ad.nfd)
		return;
	pthread_mutex_lock(&ad.lock);
	i = ad.index[fd];
	if (i >= 0) {
		ad.w[i] = ad.w[--ad.nw];
		ad.index[ad.w[i].fd] = i;
		ad.index[fd] = -1;
	}
	pthread_mutex_unlock(&ad.lock);
}

/* ---- start and stop ------------------------------------------------------------- */

/* The algorithm new sockets get when --client-cc is not given. */
static void default_cc(char *buf)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t len = PROXY_CC_NAME_MAX;

	buf[0] = 0;
	if (fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, buf, &len) < 0)
		buf[0] = 0;
	buf[PROXY_CC_NAME_MAX - 1] = 0;
	if (fd >= 0)
		close(fd);
}

int adapt_init(const struct adapt_params *p)
{
	const struct proxy_config *cfg = p->cfg;
	pthread_condattr_t ca;
	struct rlimit rl;
	int rc;

	ad.p = p;
	if (cfg->cc_mode != CC_MODE_ADAPTIVE)
		return 0;
	snprintf(ad.base, sizeof(ad.base), "%s", cfg->leg[LEG_CLIENT].cc);
	if (!ad.base[0])
		default_cc(ad.base);
	if (!ad.base[0] || strcmp(ad.base, cfg->cc_lossy) == 0) {
		pr_info("adaptive congestion control: the satellite leg already runs %s",
			cfg->cc_lossy);
		return 0;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1u << 24)
		rl.rlim_cur = 1u << 16;
	ad.nfd = (int)rl.rlim_cur;
	ad.w = calloc((size_t)ad.nfd, sizeof(*ad.w));
	ad.index = malloc((size_t)ad.nfd * sizeof(*ad.index));
	if (!ad.w || !ad.index) {
		free(ad.w);
		free(ad.index);
		ad.w = NULL, ad.index = NULL;
		return -ENOMEM;
	}
	memset(ad.index, 0xff, (size_t)ad.nfd * sizeof(*ad.index));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ad.wake, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&ad.thread, NULL, monitor, NULL);
	if (rc)
		return -rc;
	atomic_store(&ad.running, true);
	return 0;
}

void adapt_fini(void)
{
	if (!atomic_load(&ad.running))
		return;
	pthread_mutex_lock(&ad.lock);
	ad.stop = true;
	atomic_store(&ad.running, false);
	for (int i = 0; i < ad.nw; i++)
		ad.index[ad.w[i].fd] = -1;
	ad.nw = 0;
	pthread_cond_signal(&ad.wake);
	pthread_mutex_unlock(&ad.lock);
	pthread_join(ad.thread, NULL);
}
