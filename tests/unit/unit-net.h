/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Socket helpers of the proxy's unit tests. unit_net_private() moves the
 * test into a network namespace of its own with only its loopback up (as
 * root; otherwise the test uses the loopback it has), so the tests never
 * see or disturb the machine's network.
 */
#ifndef PEPSAL_UNIT_NET_H
#define PEPSAL_UNIT_NET_H

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static inline void unit_net_private(void)
{
	struct ifreq ifr = { 0 };
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

/* A TCP listener on 127.0.0.1, its port in *PORT. */
static inline int unit_listen(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A connected TCP pair over loopback: FDS[0] the connecting side, FDS[1]
 * the accepted one. 0 or -1. */
static inline int unit_tcp_pair(int fds[2])
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	uint16_t port;
	int l = unit_listen(&port);

	if (l < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(l);
		return -1;
	}
	fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	return fds[1] < 0 ? -1 : 0;
}

#endif
