// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The upstream leg: a non-blocking connect to the original destination,
 * bounded by --connect-timeout. Transparent by default: IP_TRANSPARENT and a
 * bind to the client's own address (port 0: a fresh port, because the
 * client's own address:port toward the same server clashes with the
 * client's conntrack entry under REDIRECT and never leaves the box).
 *
 * The fresh port is taken from --upstream-ports, a range the clients' own
 * stacks do not use for their ephemeral ports (Linux: 32768-60999, others:
 * 49152-65535): the upstream connection has the client's address, so were
 * the proxy to pick port P while the client later opens its own connection
 * from P to the same server, the client's SYN would match the proxy's
 * conntrack entry and never be redirected; the client would hang in
 * SYN-SENT. (Seen with 1,000 connections from one client.)
 *
 * Within the range, a port is also skipped when the table holds a
 * connection from the client's address and that port to the same
 * destination: the 4-tuple of a client connection conntrack already tracks
 * (a client whose ephemeral ports overlap the range). One hash lookup
 * under the table's lock, no socket spent on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial.h"
#include "pepsal_log.h"
#include "pepsal_timeline.h"
#include "sockopt.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#define DIAL_PORT_TRIES 16

static int make_transparent(int fd, int family)
{
	int one = 1;

	if (family == AF_INET6) {
		if (setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one)) == 0)
			return 0;
		/* without CAP_NET_ADMIN: a foreign bind still works locally */
		return setsockopt(fd, SOL_IPV6, IPV6_FREEBIND, &one, sizeof(one)) ? -errno : 0;
	}
	if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) == 0)
		return 0;
	return setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one)) ? -errno : 0;
}

int dial_wait_connected(int fd, uint64_t timeout_ns, const struct stop *stop,
			const atomic_bool *pause)
{
	uint64_t deadline = pepsal_now_ns() + timeout_ns;
	int soerr = 0, n;
	socklen_t len = sizeof(soerr);
	short revents = 0;

	/* a pause signals the thread out of its wait (EINTR): look at the flag */
	do {
		if (pause && atomic_load(pause))
			return -ECANCELED;
		n = stop_poll(stop, fd, POLLOUT, deadline, &revents);
	} while (n == -EINTR);
	if (n == 0)
		return -ETIMEDOUT;
	if (n < 0)
		return n; /* -ECANCELED: stopped */
	if (!(revents & (POLLERR | POLLHUP)))
		return 0; /* writable, no error: connected (no SO_ERROR call) */
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	return soerr ? -soerr : -ECONNREFUSED;
}

/* Next port of --upstream-ports to try; starts anywhere in the range. */
static _Atomic uint32_t next_port;

static uint16_t pick_port(uint32_t range)
{
	uint32_t lo = range & 0xffff, n = (range >> 16) - lo + 1;

	if (!atomic_load_explicit(&next_port, memory_order_relaxed))
		atomic_store(&next_port, (uint32_t)getpid() * 2654435761u);
	return (uint16_t)(lo + atomic_fetch_add(&next_port, 1) % n);
}

/* Is CLIENT's address with PORT, toward DST, a client connection of the
 * table? (Then conntrack tracks that 4-tuple already.) */
static bool port_held(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		      uint16_t port, const struct pepsal_endpoint *dst)
{
	struct pepsal_endpoint from = *client;

	from.port = port;
	return d->table && pepsal_table_holds(d->table, &from, dst) == 1;
}

uint16_t dial_choose_port(const struct dial_ctx *d, uint32_t range,
			  const struct pepsal_endpoint *client,
			  const struct pepsal_endpoint *dst)
{
	for (int i = 0; i < DIAL_PORT_TRIES; i++) {
		uint16_t port = pick_port(range);

		if (!port_held(d, client, port, dst))
			return port;
	}
	return 0;
}

/* Start one connect with source port PORT (0: the kernel's choice): 0 and
 * *FD connected, -EINPROGRESS and *FD connecting, or -errno (no socket
 * left); -EADDRNOTAVAIL: that 4-tuple is taken. */
static int dial_begin(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		      const struct pepsal_endpoint *dst, uint16_t port, int tos, int *out)
{
	const struct proxy_config *cfg = d->cfg;
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[160];
	int fd, rc, one = 1;

	fd = socket(dst->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	rc = leg_apply(fd, LEG_SERVER, cfg, err, sizeof(err));
	if (rc) {
		pr_ratelimited(LOG_WARNING, "upstream socket: %s", err);
		rc = 0; /* an option is not worth failing the connection */
	}
	if (cfg->fastopen)
		setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one));
	if (tos >= 0)
		sock_set_tos(fd, dst->family, tos);
	if (d->recverr) /* the ICMP error that refuses the SYN, with its sender */
		sock_recverr(fd, dst->family, true);
	if (cfg->transparent && client->family == dst->family) {
		struct pepsal_endpoint from = *client;

		rc = make_transparent(fd, dst->family);
		if (rc)
			goto fail;
		from.port = port;
		if (port) /* several upstream sockets share a port, to other servers */
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		else    /* choose the port at connect time, by the full 4-tuple */
			setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		sl = pepsal_endpoint_to_sockaddr(&from, &ss);
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
			rc = -errno;
			goto fail;
		}
	}
	sl = pepsal_endpoint_to_sockaddr(dst, &ss);
	pepsal_tl_mark(TL_DIAL_START, client, 0);
	*out = fd;
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
		return 0;
	if (errno == EINPROGRESS)
		return -EINPROGRESS;
	rc = -errno;
fail:
	*out = -1;
	close(fd);
	return rc;
}

int dial_start_tos(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		   const struct pepsal_endpoint *dst, int tos, int *fd)
{
	uint32_t range = d->cfg->transparent ? d->cfg->upstream_ports : 0;
	int rc = -EADDRNOTAVAIL;

	/* a port in the range whose 4-tuple nobody holds, until one is free
	 * (-EADDRNOTAVAIL: an upstream socket of ours has it already) */
	for (int i = 0; i < DIAL_PORT_TRIES && range && rc == -EADDRNOTAVAIL; i++) {
		uint16_t port = dial_choose_port(d, range, client, dst);

		if (!port)
			break;
		rc = dial_begin(d, client, dst, port, tos, fd);
	}
	if (rc == -EADDRNOTAVAIL) /* no range, or it is crowded: any port */
		rc = dial_begin(d, client, dst, 0, tos, fd);
	return rc;
}

int dial_upstream(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		  const struct pepsal_endpoint *dst)
{
	return dial_upstream_tos(d, client, dst, -1);
}

int dial_upstream_tos(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		      const struct pepsal_endpoint *dst, int tos)
{
	int fd = -1, rc = dial_start_tos(d, client, dst, tos, &fd);

	if (rc == -EINPROGRESS)
		rc = dial_wait_connected(fd, d->timeout_ns ? d->timeout_ns :
					 d->cfg->connect_timeout_ns, d->stop, d->pause);
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	pepsal_tl_mark(TL_DIAL_DONE, client, 0);
	return fd; /* non-blocking, as the relay's pump wants it */
}
