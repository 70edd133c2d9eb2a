// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The warm pool (pair_pool.h). The pooled connections are a stack under a
 * lock; the refill thread sleeps on a condition until one is taken, the
 * back-off ends or a second passes (then it drops the pooled connections
 * the gateway closed, so a dead gateway empties the pool quickly).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dial.h"
#include "pair_pool.h"
#include "pepsal_log.h"
#include "sockopt.h"
#include "stats.h"

#define BACKOFF_MIN_NS 100000000ull      /* first retry after a failure */
#define BACKOFF_MAX_NS 10000000000ull    /* retries at most this far apart */
#define CONNECT_TIMEOUT_MAX_NS 4000000000ull /* a silent gateway: fall back soon */
#define SWEEP_NS 1000000000ull
#define PROBE_EVERY_NS 60000000000ull    /* the gateway takes our headers: checked */

static struct {
	const struct pair_pool_params *p;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running;
	struct stop stop;         /* pair_pool_fini began */
	int *fds;                 /* the pool, a stack of n */
	unsigned int n;
	uint64_t backoff_ns;      /* 0: the gateway answered last time */
	uint64_t probed_until;    /* the last probe passed; probe again then */
	_Atomic uint64_t down_until; /* no connection on demand before */
	atomic_bool refused;      /* the last probe was refused: none on demand */
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .stop = STOP_INIT };

/* A new pair connection to the gateway, or -errno. */
static int pair_connect(const struct stop *stop)
{
	const struct proxy_config *cfg = pool.p->cfg;
	uint64_t timeout = cfg->connect_timeout_ns;
	struct sockaddr_storage ss;
	socklen_t sl = pepsal_endpoint_to_sockaddr(&cfg->pair.gateway, &ss);
	char err[160];
	int fd, rc;

	if (timeout > CONNECT_TIMEOUT_MAX_NS)
		timeout = CONNECT_TIMEOUT_MAX_NS;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* before connect: the buffers set the window scale of the SYN */
	if (leg_apply(fd, LEG_PAIR, cfg, err, sizeof(err)))
		pr_ratelimited(LOG_WARNING, "pair socket: %s", err);
	rc = connect(fd, (struct sockaddr *)&ss, sl) < 0 ? -errno : 0;
	if (rc == -EINPROGRESS)
		rc = dial_wait_connected(fd, timeout, stop, NULL);
	if (rc) {
		close(fd);
		stats_count(PC_PAIR_CONNECT_FAILED, 1);
		return rc;
	}
	stats_count(PC_PAIR_POOL_OPENED, 1);
	return fd;
}

int pair_pool_send_header(int fd, const struct pair_key *key, enum pair_kind kind,
			  const struct pepsal_endpoint *client,
			  const struct pepsal_endpoint *dst, int tos)
{
	struct pair_hdr h = { .kind = kind, .client = *client, .dst = *dst, .tos = tos,
			      .time_s = (uint64_t)time(NULL) };
	uint8_t buf[PAIR_HDR_LEN];
	ssize_t n;

	if (getrandom(h.nonce, sizeof(h.nonce), 0) != (ssize_t)sizeof(h.nonce))
		return -EIO;
	pair_hdr_encode(&h, key, buf);
	/* a fresh connection's send buffer always takes it whole */
	n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(buf) ? 0 : -EIO;
}

/* Does the gateway take our headers? 0, -EACCES (it reset or closed the
 * probe: another key, clocks apart), or why the probe could not be made. */
static int probe(void)
{
	const struct proxy_config *cfg = pool.p->cfg;
	struct pepsal_endpoint none = { .family = cfg->pair.gateway.family };
	uint64_t deadline;
	short revents;
	char b = 0;
	int fd, rc;

	fd = pair_connect(&pool.stop);
	if (fd < 0)
		return fd;
	rc = pair_pool_send_header(fd, pool.p->key, PAIR_KIND_PROBE, &none, &none,
				   PAIR_TOS_UNKNOWN);
	/* one round trip, and the gateway's check */
	deadline = pepsal_now_ns() + CONNECT_TIMEOUT_MAX_NS;
	while (!rc && (rc = stop_poll(&pool.stop, fd, POLLIN, deadline, &revents)) == -EINTR)
		rc = 0;
	if (rc >= 0)
		rc = rc == 0 ? -ETIMEDOUT :
		     recv(fd, &b, 1, MSG_DONTWAIT) == 1 && b == PAIR_PROBE_OK ? 0 : -EACCES;
	close(fd);
	return rc;
}

/* Has the gateway closed FD (or sent anything: it never does first)? */
static bool stale(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

/* Under the lock: drop the pooled connections the gateway closed. */
static void sweep(void)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < pool.n; i++) {
		if (stale(pool.fds[i])) {
			close(pool.fds[i]);
			stats_count(PC_PAIR_POOL_STALE, 1);
		} else {
			pool.fds[kept++] = pool.fds[i];
		}
	}
	pool.n = kept;
	stats_set(PC_PAIR_POOL, pool.n);
}

/* The gateway did not answer: retry later, and tell the relay not to wait
 * for it meanwhile. Under the lock. */
static void failed(int rc)
{
	uint64_t now = pepsal_now_ns();

	pool.backoff_ns = pool.backoff_ns ? pool.backoff_ns * 2 : BACKOFF_MIN_NS;
	if (pool.backoff_ns > BACKOFF_MAX_NS)
		pool.backoff_ns = BACKOFF_MAX_NS;
	if (rc == -EACCES)
		pr_ratelimited(LOG_WARNING, "the pair gateway refuses our headers (another key, "
			       "or the clocks more than 30 s apart?): relaying directly, "
			       "probing again in %llu ms",
			       (unsigned long long)(pool.backoff_ns / 1000000));
	else
		pr_ratelimited(LOG_WARNING, "the pair gateway does not answer (%s): relaying "
			       "directly, retrying in %llu ms", strerror(-rc),
			       (unsigned long long)(pool.backoff_ns / 1000000));
	atomic_store(&pool.down_until, now + pool.backoff_ns);
	pool.probed_until = 0; /* it may be another gateway when it answers again */
}

/* Under the lock: close every pooled connection. */
static void drain(void)
{
	for (unsigned int i = 0; i < pool.n; i++)
		close(pool.fds[i]);
	pool.n = 0;
	stats_set(PC_PAIR_POOL, 0);
}

static void answered(void)
{
	pool.backoff_ns = 0;
	atomic_store(&pool.down_until, 0);
}

static void wait_for(uint64_t ns)
{
	cond_wait_until(&pool.cond, &pool.lock, pepsal_now_ns() + ns);
}

static void *refill_thread(void *arg)
{
	unsigned int size = pool.p->cfg->pair.pool;
	uint64_t swept = 0;

	(void)arg;
	pthread_mutex_lock(&pool.lock);
	while (!stop_is_set(&pool.stop)) {
		uint64_t now = pepsal_now_ns(), down = atomic_load(&pool.down_until);
		int fd;

		if (now - swept >= SWEEP_NS) {
			sweep();
			swept = now;
		}
		if (now < down) {
			wait_for(down - now > SWEEP_NS ? SWEEP_NS : down - now);
			continue;
		}
		if (now >= pool.probed_until) {
			pthread_mutex_unlock(&pool.lock);
			fd = probe();
			pthread_mutex_lock(&pool.lock);
			if (fd == -ECANCELED)
				continue;
			atomic_store(&pool.refused, fd == -EACCES);
			if (fd) {
				stats_count(PC_PAIR_PROBE_REFUSED, fd == -EACCES);
				failed(fd);
				drain(); /* no use for them meanwhile */
				continue;
			}
			pool.probed_until = pepsal_now_ns() + PROBE_EVERY_NS;
			answered();
			continue;
		}
		if (pool.n >= size) {
			wait_for(SWEEP_NS);
			continue;
		}
		pthread_mutex_unlock(&pool.lock);
		fd = pair_connect(&pool.stop);
		pthread_mutex_lock(&pool.lock);
		if (fd < 0) {
			if (fd != -ECANCELED)
				failed(fd);
			continue;
		}
		answered();
		pool.fds[pool.n++] = fd;
		stats_set(PC_PAIR_POOL, pool.n);
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

int pair_pool_take(const struct stop *stop)
{
	int fd = -1;

	pthread_mutex_lock(&pool.lock);
	while (pool.n && fd < 0) {
		fd = pool.fds[--pool.n];
		if (stale(fd)) {
			close(fd);
			stats_count(PC_PAIR_POOL_STALE, 1);
			fd = -1;
		}
	}
	stats_set(PC_PAIR_POOL, pool.n);
	pthread_cond_signal(&pool.cond); /* refill */
	pthread_mutex_unlock(&pool.lock);
	if (fd >= 0)
		return fd;
	if (pepsal_now_ns() < atomic_load(&pool.down_until) || atomic_load(&pool.refused))
		return -EHOSTUNREACH;
	stats_count(PC_PAIR_ON_DEMAND, 1);
	fd = pair_connect(stop);
	pthread_mutex_lock(&pool.lock);
	if (fd >= 0)
		answered();
	else if (fd != -ECANCELED)
		failed(fd);
	pthread_cond_signal(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	return fd;
}

int pair_pool_init(const struct pair_pool_params *p)
{
	int rc;

	pool.p = p;
	cond_init_monotonic(&pool.cond); /* wait_for's deadlines */
	if (!p->cfg->pair.pool)
		return 0;
	if ((rc = stop_init(&pool.stop)))
		return rc;
	pool.fds = calloc(p->cfg->pair.pool, sizeof(*pool.fds));
	if (!pool.fds) {
		stop_fini(&pool.stop);
		return -ENOMEM;
	}
	rc = pthread_create(&pool.thread, NULL, refill_thread, NULL);
	if (rc) {
		stop_fini(&pool.stop);
		free(pool.fds);
		pool.fds = NULL;
		return -rc;
	}
	pool.running = true;
	return 0;
}

void pair_pool_fini(void)
{
	if (!pool.running)
		return;
	stop_set(&pool.stop); /* wakes a connect or probe in progress */
	pthread_mutex_lock(&pool.lock);
	pthread_cond_signal(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	pthread_join(pool.thread, NULL);
	pool.running = false;
	stop_fini(&pool.stop);
	drain();
	free(pool.fds);
	pool.fds = NULL;
}
