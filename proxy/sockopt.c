// SPDX-License-Identifier: GPL-2.0-or-later
/* Per-leg socket options and the two ways of ending a socket with a RST. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <linux/errqueue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockopt.h"

/* ---- leg options ------------------------------------------------------- */

static int setopt_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v)) ? -errno : 0;
}

/* A buffer size as given (the kernel doubles what it is told, so half is
 * asked), beyond net.core.[rw]mem_max when CAP_NET_ADMIN allows. */
static int set_buf(int fd, int force_name, int name, uint64_t bytes)
{
	int half = (int)(bytes / 2);

	if (setopt_int(fd, SOL_SOCKET, force_name, half) == 0)
		return 0;
	return setopt_int(fd, SOL_SOCKET, name, half);
}

int leg_apply(int fd, enum proxy_leg leg, const struct proxy_config *cfg,
	      char *err, size_t errlen)
{
	const struct leg_opts *lo = &cfg->leg[leg];
	const char *what = NULL;
	int rc = 0;

	if (lo->cc[0] && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, lo->cc,
				    (socklen_t)strlen(lo->cc)) < 0) {
		rc = -errno;
		what = "TCP_CONGESTION";
	} else if (lo->sndbuf && (rc = set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, lo->sndbuf))) {
		what = "SO_SNDBUF";
	} else if (lo->rcvbuf && (rc = set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, lo->rcvbuf))) {
		what = "SO_RCVBUF";
	} else if (lo->pacing && setsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &lo->pacing,
					    sizeof(lo->pacing)) < 0) {
		rc = -errno;
		what = "SO_MAX_PACING_RATE";
	} else if (cfg->nodelay && (rc = setopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1))) {
		what = "TCP_NODELAY";
	} else if (cfg->keepalive && (rc = setopt_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1))) {
		what = "SO_KEEPALIVE";
	} else if (cfg->keepalive && cfg->keepalive_idle_ns &&
		   (rc = setopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE,
				    (int)(cfg->keepalive_idle_ns / 1000000000ull)))) {
		what = "TCP_KEEPIDLE";
	} else if (cfg->keepalive && cfg->keepalive_interval_ns &&
		   (rc = setopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL,
				    (int)(cfg->keepalive_interval_ns / 1000000000ull)))) {
		what = "TCP_KEEPINTVL";
	} else if (cfg->keepalive && cfg->keepalive_count &&
		   (rc = setopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT, (int)cfg->keepalive_count))) {
		what = "TCP_KEEPCNT";
	} else if (cfg->user_timeout_ns &&
		   (rc = setopt_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
				    (int)(cfg->user_timeout_ns / 1000000ull)))) {
		what = "TCP_USER_TIMEOUT";
	}
	if (rc)
		snprintf(err, errlen, "%s on the %s leg: %s", what,
			 leg == LEG_CLIENT ? "client" : leg == LEG_SERVER ? "server" : "pair",
			 strerror(-rc));
	return rc;
}

/* ---- resets ------------------------------------------------------------ */

void sock_set_tos(int fd, int family, int tos)
{
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	else
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
}

void sock_keep_received_tos(int fd, int family)
{
	if (family == AF_INET6)
		setopt_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
	else
		setopt_int(fd, IPPROTO_IP, IP_RECVTOS, 1);
}

/* TCP keeps the options of the packets it received (IPv4: of the handshake's
 * last packet; IPv6: of the SYN, then of the latest that differed), given
 * as control messages by IP_PKTOPTIONS / IPV6_2292PKTOPTIONS. */
int sock_received_tos(int fd, int family)
{
	union { char buf[256]; struct cmsghdr align; } u;
	socklen_t len = sizeof(u.buf);
	struct msghdr m = { .msg_control = u.buf };
	int rc = family == AF_INET6 ?
		getsockopt(fd, IPPROTO_IPV6, IPV6_2292PKTOPTIONS, u.buf, &len) :
		getsockopt(fd, IPPROTO_IP, IP_PKTOPTIONS, u.buf, &len);

	if (rc < 0)
		return -1;
	m.msg_controllen = len;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		int v;

		if (family == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
			return *(unsigned char *)CMSG_DATA(c);
		if (family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_TCLASS) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v & 0xff;
		}
	}
	return -1;
}

void sock_recverr(int fd, int family, bool on)
{
	if (family == AF_INET6)
		setopt_int(fd, IPPROTO_IPV6, IPV6_RECVERR, on);
	else
		setopt_int(fd, IPPROTO_IP, IP_RECVERR, on);
}

int sock_icmp_error(int fd, struct sock_icmp *out)
{
	union { char buf[512]; struct cmsghdr align; } u;
	char data[64];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };

	if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return -ENOENT;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		const struct sock_extended_err *ee = (const void *)CMSG_DATA(c);
		const struct sockaddr *from;

		if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
		      (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)))
			continue;
		if (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6)
			continue;
		from = SO_EE_OFFENDER(ee);
		memset(out, 0, sizeof(*out));
		out->type = ee->ee_type;
		out->code = ee->ee_code;
		if (from->sa_family == AF_INET) {
			out->family = AF_INET;
			memcpy(out->from, &((const struct sockaddr_in *)from)->sin_addr, 4);
		} else if (from->sa_family == AF_INET6) {
			out->family = AF_INET6;
			memcpy(out->from, &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
		} else {
			continue; /* no sender: nothing faithful to answer with */
		}
		return 0;
	}
	return -ENOENT;
}

void sock_reset_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/*
 * connect(AF_UNSPEC) on a TCP socket is tcp_disconnect(): it sends a RST
 * when the state calls for one, drops what is queued and wakes every thread
 * sleeping on the socket with an error. Unlike close() it is safe while
 * another thread is inside a call on the same descriptor.
 */
void sock_abort(int fd)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };

	if (fd >= 0 && connect(fd, &sa, sizeof(sa)) < 0)
		shutdown(fd, SHUT_RDWR);
}
