// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The listener: accepts the connections intercepted for the proxy port,
 * gives each one its entry in the table and hands it to the relay.
 *
 * nfqueue mode: the queuer recorded the SYN; the entry is claimed by the
 * client's endpoint, confirmed by conntrack's SO_ORIGINAL_DST.
 * tproxy mode: no queuer; the listener is transparent and the accepted
 * socket's own address is the original destination. The proxy records the
 * entry itself (as the queuer would, then claims it), so that the table
 * lists every relayed connection in both modes (pepsal-shm, the counters,
 * the byte counts) and the dial's source-port check (dial.c) sees the
 * client connections it must not collide with. Whatever cannot
 * be served (no entry, over the limit, out of resources) is reset at once,
 * counted, and logged with a rate limit: the client sees a failure, never a
 * hang.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "entry.h"
#include "limits.h"
#include "listener.h"
#include "pepsal_log.h"
#include "pepsal_timeline.h"
#include "predial.h"
#include "relay.h"
#include "sockopt.h"
#include "stats.h"

/* SO_ORIGINAL_DST (linux/netfilter_ipv4.h) and IP6T_SO_ORIGINAL_DST
 * (linux/netfilter_ipv6/ip6_tables.h) share the value 80. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#define PEPSAL_IP6T_SO_ORIGINAL_DST 80
#define LISTEN_BACKLOG 4096
#define ACCEPT_BATCH 256
/* and at most this long: each accept starts a thread pair, which on a slow
 * build (TSan) or a starved core can take long enough that 256 of them
 * kept the main loop from its heartbeat past the queuer's --proxy-timeout */
#define ACCEPT_BUDGET_NS 100000000ull

static struct {
	const struct listener_params *p;
	int fds[2];          /* the listening sockets, -1: none */
	/* A spare descriptor, given up to accept-and-reset when the process
	 * is out of descriptors, so a full table never leaves clients hanging. */
	int reserve_fd;
	/* the listeners have the client leg's options, which accepted sockets
	 * inherit (congestion control, buffers, pacing, TCP_NODELAY,
	 * keepalive, TCP_USER_TIMEOUT): not set again per connection */
	bool legs_set;
} lst = { NULL, { -1, -1 }, -1, false };

/* ---- opening ------------------------------------------------------------ */

static int open_one(const struct proxy_config *cfg, int family, const void *addr,
		    char *err, size_t errlen)
{
	static const uint8_t any[16]; /* no address: all of them */
	struct pepsal_endpoint ep;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, rc;

	pepsal_endpoint_set(&ep, family, addr ? addr : any, (uint16_t)cfg->port);
	sl = pepsal_endpoint_to_sockaddr(&ep, &ss);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create an IPv%d socket: %s",
			 family == AF_INET ? 4 : 6, strerror(errno));
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (cfg->mode == MODE_TPROXY &&
	    (family == AF_INET6 ?
	     setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one)) :
	     setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one))) < 0) {
		rc = -errno;
		snprintf(err, errlen, "--mode tproxy: cannot make the IPv%d listener "
			 "transparent (needs CAP_NET_ADMIN): %s", family == AF_INET ? 4 : 6,
			 strerror(errno));
		close(fd);
		return rc;
	}
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (cfg->pair.role == PAIR_ROLE_TERMINAL)
		sock_keep_received_tos(fd, family); /* the pair header carries the DSCP */
	if (cfg->fastopen) {
		int qlen = 256;

		setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen));
	}
	/* options set on the listener are inherited by accepted sockets */
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		char a[INET6_ADDRSTRLEN] = "*";

		rc = -errno;
		if (addr)
			inet_ntop(family, addr, a, sizeof(a));
		snprintf(err, errlen, "cannot listen on %s port %u: %s", a, cfg->port,
			 strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

static int open_all(const struct proxy_config *cfg, int fds[2], char *err, size_t errlen)
{
	unsigned char addr[16];
	int fd;

	if (lst.reserve_fd < 0)
		lst.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (cfg->address) {
		int family = inet_pton(AF_INET, cfg->address, addr) == 1 ? AF_INET :
			     inet_pton(AF_INET6, cfg->address, addr) == 1 ? AF_INET6 : 0;

		if (!family) {
			snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", cfg->address);
			return -EINVAL;
		}
		fd = open_one(cfg, family, addr, err, errlen);
		if (fd < 0)
			return fd;
		fds[0] = fd;
		return 1;
	}
	fd = open_one(cfg, AF_INET, NULL, err, errlen);
	if (fd < 0)
		return fd;
	fds[0] = fd;
	fd = open_one(cfg, AF_INET6, NULL, err, errlen);
	if (fd < 0) {
		pr_warn("IPv6 disabled: %s", err);
		return 1;
	}
	fds[1] = fd;
	return 2;
}

/* The client leg's options on the listeners, once for every connection;
 * false if one was refused (then each connection gets them as before). */
static bool set_legs(void)
{
	char err[160];

	for (int i = 0; i < 2; i++)
		if (lst.fds[i] >= 0 && leg_apply(lst.fds[i], LEG_CLIENT, lst.p->cfg, err, sizeof(err)))
			return false;
	return true;
}

int listener_init(const struct listener_params *p, int fds[2], char *err, size_t errlen)
{
	int n;

	lst.p = p;
	n = open_all(p->cfg, lst.fds, err, errlen);
	if (n < 0)
		return n;
	lst.legs_set = set_legs();
	fds[0] = lst.fds[0];
	fds[1] = lst.fds[1];
	return n;
}

int listener_adopt(const struct listener_params *p, const int fds[2])
{
	lst.p = p;
	lst.fds[0] = fds[0];
	lst.fds[1] = fds[1];
	if (lst.reserve_fd < 0)
		lst.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	lst.legs_set = set_legs(); /* the old process's may have had none */
	return fds[1] >= 0 ? 2 : 1;
}

void listener_fini(void)
{
	for (int i = 0; i < 2; i++) {
		if (lst.fds[i] >= 0)
			close(lst.fds[i]);
		lst.fds[i] = -1;
	}
	if (lst.reserve_fd >= 0)
		close(lst.reserve_fd);
	lst.reserve_fd = -1;
}

/* ---- accepting ----------------------------------------------------------- */

/* The destination conntrack recorded before REDIRECT rewrote it. */
static int original_dst(int fd, int family, struct pepsal_endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int rc = family == AF_INET6 ?
		getsockopt(fd, SOL_IPV6, PEPSAL_IP6T_SO_ORIGINAL_DST, &ss, &sl) :
		getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &sl);

	if (rc < 0)
		return -errno;
	return pepsal_endpoint_from_sockaddr(ep, (struct sockaddr *)&ss, sl);
}

/* Over the limit or stopping: the connection is refused, and its entry
 * freed at once rather than left pending until garbage collection. The
 * limit is -c plus a small overshoot: the queuer stops marking SYNs when
 * the proxy publishes that it is full, and those marked just before are
 * served. */
static bool refuse(const struct pepsal_entry_view *entry, bool claimed)
{
	uint32_t max = lst.p->cfg->max_conns;

	if (relay_stopping())
		goto refused;
	if (relay_active() < max + LIMITS_OVERSHOOT)
		return false;
	stats_count(PC_OVER_LIMIT, 1);
	pr_ratelimited(LOG_WARNING, "connection limit (%u) reached: resetting a new "
		       "connection", max);
refused:
	if (claimed)
		pepsal_table_remove(lst.p->table, entry->slot, entry->gen);
	return true;
}

/* Is DST one of this box's own addresses, on the proxy's port? Then a
 * tproxy-mode dial would come back to the listener: a loop. Only asked
 * when the port matches, so it costs nothing in the common case. */
static bool is_self(const struct pepsal_endpoint *dst)
{
	struct pepsal_endpoint any_port = *dst;
	struct sockaddr_storage ss;
	socklen_t sl;
	bool self;
	int fd;

	if (dst->port != lst.p->cfg->port)
		return false;
	fd = socket(dst->family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return false;
	any_port.port = 0;
	sl = pepsal_endpoint_to_sockaddr(&any_port, &ss);
	self = bind(fd, (struct sockaddr *)&ss, sl) == 0; /* non-transparent: local only */
	close(fd);
	return self;
}

/* nfqueue mode: claim the entry the queuer recorded. Without one (evicted
 * while pending, or recorded by a queuer since replaced), conntrack's
 * original destination still says where the client was going: the
 * connection is served, unlisted if the table is full. Only a connection
 * with no original destination, or one to the proxy's own port, is
 * refused. 0 or -errno. */
static int entry_nfqueue(int fd, const struct pepsal_endpoint *peer,
			 struct pepsal_entry_view *entry, struct pepsal_endpoint *odst)
{
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN] = "unknown";
	bool have_odst = original_dst(fd, peer->family, odst) == 0;
	int rc;

	if (!have_odst)
		odst->family = 0;
	rc = pepsal_table_claim(lst.p->table, peer, have_odst ? odst : NULL,
				pepsal_now_ns(), entry);
	if (rc >= 0)
		return 0;
	stats_count(PC_LOOKUP_MISS, 1);
	if (have_odst && !is_self(odst)) {
		if (entry_record_claim(lst.p->table, peer, odst, entry) < 0)
			entry_unlisted(entry, odst);
		stats_count(PC_MISS_SERVED, 1);
		return 0;
	}
	if (odst->family)
		pepsal_endpoint_format(odst, b);
	pr_ratelimited(LOG_WARNING, "no table entry for the connection from %s "
		       "(original destination %s): resetting it",
		       pepsal_endpoint_format(peer, a), b);
	return -ENOENT;
}

/* tproxy mode: the socket's own address is the original destination;
 * record and claim the entry (as queuer and proxy would). 0 or -errno. */
static int entry_tproxy(int fd, const struct pepsal_endpoint *peer,
			struct pepsal_entry_view *entry, struct pepsal_endpoint *out_dst)
{
	char a[PEPSAL_ENDPOINT_STRLEN], b[PEPSAL_ENDPOINT_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct pepsal_endpoint odst;
	int rc;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	rc = pepsal_endpoint_from_sockaddr(&odst, (struct sockaddr *)&ss, sl);
	if (rc < 0)
		return rc;
	*out_dst = odst;
	if (is_self(&odst)) {
		stats_count(PC_LOOKUP_MISS, 1);
		pr_ratelimited(LOG_WARNING, "connection from %s to the proxy's own port %s: "
			       "resetting it", pepsal_endpoint_format(peer, a),
			       pepsal_endpoint_format(&odst, b));
		return -ELOOP;
	}
	rc = entry_record_claim(lst.p->table, peer, &odst, entry);
	if (rc < 0) {
		pr_ratelimited(LOG_WARNING, "cannot record the connection from %s in the table "
			       "(%s): relaying it unlisted; raise --capacity",
			       pepsal_endpoint_format(peer, a), strerror(-rc));
		entry_unlisted(entry, &odst);
	}
	return 0;
}

static void serve(int fd, const struct sockaddr_storage *ss, socklen_t sl)
{
	struct pepsal_endpoint peer, odst = { 0 };
	struct pepsal_entry_view entry;
	char a[PEPSAL_ENDPOINT_STRLEN];
	int rc, server_fd = -1, tos = 0;

	if (pepsal_endpoint_from_sockaddr(&peer, (const struct sockaddr *)ss, sl) < 0) {
		sock_reset_close(fd);
		return;
	}
	pepsal_tl_mark(TL_ACCEPT, &peer, 0);
	if (lst.p->cfg->mode == MODE_TPROXY) {
		/* nothing to claim: refused before an entry is made */
		rc = refuse(NULL, false) ? -EBUSY : entry_tproxy(fd, &peer, &entry, &odst);
	} else {
		rc = entry_nfqueue(fd, &peer, &entry, &odst);
		if (rc >= 0 && refuse(&entry, true))
			rc = -EBUSY;
	}
	if (rc < 0) {
		sock_reset_close(fd);
		return;
	}
	pepsal_tl_mark(TL_CLAIM, &peer, 0);
	entry.client = peer; /* the dial binds to its address */
	/* a held SYN: its server answered our dial already */
	if (entry.slot != UINT32_MAX)
		server_fd = predial_take(entry.slot, entry.gen, &tos);
	if (server_fd >= 0)
		sock_set_tos(fd, peer.family, tos); /* the client leg keeps the DSCP */
	rc = relay_start_accepted(fd, server_fd, &entry, lst.legs_set);
	if (rc) {
		pr_ratelimited(LOG_WARNING, "cannot relay the connection from %s: %s",
			       pepsal_endpoint_format(&peer, a), strerror(-rc));
		pepsal_table_remove(lst.p->table, entry.slot, entry.gen);
		sock_reset_close(fd);
		return;
	}
	stats_count(PC_ACCEPTED, 1);
}

void listener_accept(int lfd)
{
	/* a bounded batch, so a flood cannot starve the heartbeat and timers
	 * (poll is level-triggered: the rest waits for the next turn) */
	uint64_t until = pepsal_now_ns() + ACCEPT_BUDGET_NS;

	for (int batch = 0; batch < ACCEPT_BATCH; batch++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			serve(fd, &ss, sl);
			if (pepsal_now_ns() >= until)
				return;
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN)
			return;
		stats_count(PC_ACCEPT_ERRORS, 1);
		if ((errno == EMFILE || errno == ENFILE) && lst.reserve_fd >= 0) {
			relay_resources_short();
			pr_ratelimited(LOG_WARNING, "out of file descriptors: resetting new "
				       "connections");
			close(lst.reserve_fd);
			fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0) {
				stats_count(PC_OVER_LIMIT, 1);
				sock_reset_close(fd);
			}
			lst.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			continue;
		}
		pr_ratelimited(LOG_WARNING, "accept: %s", strerror(errno));
		return;
	}
}
