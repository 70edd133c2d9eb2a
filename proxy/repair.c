// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TCP_REPAIR (repair.h). Dump: repair mode on, the queue lengths (SIOCOUTQ,
 * SIOCOUTQNSD, SIOCINQ), each queue's sequence (TCP_QUEUE_SEQ) and bytes
 * (MSG_PEEK with TCP_REPAIR_QUEUE), MSS, window scales, timestamp and
 * SACK options, the timestamp clock, the windows (TCP_REPAIR_WINDOW).
 * Restore, in the order the kernel wants it: repair mode, the queues'
 * first sequence numbers, bind and connect (no handshake in repair mode),
 * the options, the timestamp, the receive queue, the part of the send
 * queue that was sent (it stays "in flight": acknowledged or retransmitted
 * as on the old box), the windows. The unsent part is written after repair
 * mode ends, so it goes out as new data. The buffers are set to at least
 * what the queues hold (SO_*BUFFORCE: CAP_NET_ADMIN), which turns their
 * autotuning off for that socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "migrate_int.h" /* mw_write_all */
#include "repair.h"

#ifndef TCP_REPAIR_OFF_NO_WP
#define TCP_REPAIR_OFF_NO_WP -1
#endif
#define TCPI_OPT_TS 1
#define TCPI_OPT_SACK 2
#define TCPI_OPT_WSCALE 4

static int set_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v)) < 0 ? -errno : 0;
}

static int get_int(int fd, int level, int name, uint32_t *v)
{
	int x;
	socklen_t len = sizeof(x);

	if (getsockopt(fd, level, name, &x, &len) < 0)
		return -errno;
	*v = (uint32_t)x;
	return 0;
}

/* PEEK LEN bytes of the queue Q (in repair mode) into a malloc'ed *OUT. */
static int peek_queue(int fd, int q, uint32_t len, char **out)
{
	char *buf;
	int rc;

	*out = NULL;
	if ((rc = set_int(fd, SOL_TCP, TCP_REPAIR_QUEUE, q)))
		return rc;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	while (len) {
		/* one peek takes the whole queue, across its segments */
		ssize_t n = recv(fd, buf, len, MSG_PEEK | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)len) {
			rc = n < 0 ? -errno : -EIO;
			free(buf);
			return rc;
		}
		break;
	}
	*out = buf;
	return 0;
}

static int queue_seq(int fd, int q, uint32_t *seq)
{
	int rc = set_int(fd, SOL_TCP, TCP_REPAIR_QUEUE, q);

	return rc ? rc : get_int(fd, SOL_TCP, TCP_QUEUE_SEQ, seq);
}

static int queue_len(int fd, unsigned long req, uint32_t *len)
{
	int v;

	if (ioctl(fd, req, &v) < 0)
		return -errno;
	*len = (uint32_t)v;
	return 0;
}

static int endpoint_of(int fd, bool peer, struct pepsal_endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
		    getsockname(fd, (struct sockaddr *)&ss, &len)) < 0)
		return -errno;
	return pepsal_endpoint_from_sockaddr(ep, (struct sockaddr *)&ss, len) ? -EAFNOSUPPORT : 0;
}

int repair_dump(int fd, const struct pepsal_endpoint *local, struct repair_state *st,
		char **outq, char **inq, char *err, size_t errlen)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	const char *what = "TCP_REPAIR";
	int rc;

	memset(st, 0, sizeof(*st));
	*outq = *inq = NULL;
	if ((rc = set_int(fd, SOL_TCP, TCP_REPAIR, 1)))
		goto fail_off;
	what = "TCP_INFO";
	if (getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &len) < 0) {
		rc = -errno;
		goto fail;
	}
	if (ti.tcpi_state != TCP_ESTABLISHED && ti.tcpi_state != TCP_CLOSE_WAIT &&
	    ti.tcpi_state != TCP_FIN_WAIT1 && ti.tcpi_state != TCP_FIN_WAIT2) {
		snprintf(err, errlen, "not established (TCP state %u)", ti.tcpi_state);
		repair_cancel(fd);
		return -ENOTCONN;
	}
	what = "its addresses";
	if ((rc = endpoint_of(fd, true, &st->remote)))
		goto fail;
	if (local)
		st->local = *local;
	else if ((rc = endpoint_of(fd, false, &st->local)))
		goto fail;
	what = "the queue lengths";
	if ((rc = queue_len(fd, SIOCOUTQ, &st->outq_len)) ||
	    (rc = queue_len(fd, SIOCOUTQNSD, &st->unsent_len)) ||
	    (rc = queue_len(fd, SIOCINQ, &st->inq_len)))
		goto fail;
	what = "the sequence numbers";
	if ((rc = queue_seq(fd, TCP_RECV_QUEUE, &st->rcv_seq)) ||
	    (rc = queue_seq(fd, TCP_SEND_QUEUE, &st->snd_seq)))
		goto fail;
	if (ti.tcpi_state == TCP_CLOSE_WAIT) {
		st->fin_in = 1;
		st->rcv_seq--; /* the FIN's sequence number */
	}
	if (ti.tcpi_state == TCP_FIN_WAIT1 || ti.tcpi_state == TCP_FIN_WAIT2) {
		/* the FIN counts one in write_seq, and in the queue lengths
		 * while it is unacknowledged (unsent: behind the data) */
		st->fin_out = 1;
		st->snd_seq--;
		if (ti.tcpi_state == TCP_FIN_WAIT1 && st->outq_len) {
			st->outq_len--;
			if (st->unsent_len)
				st->unsent_len--;
		}
	}
	what = "the queues";
	if ((rc = peek_queue(fd, TCP_SEND_QUEUE, st->outq_len, outq)) ||
	    (rc = peek_queue(fd, TCP_RECV_QUEUE, st->inq_len, inq)))
		goto fail;
	what = "the options";
	st->timestamps = !!(ti.tcpi_options & TCPI_OPT_TS);
	st->sack = !!(ti.tcpi_options & TCPI_OPT_SACK);
	st->wscale = !!(ti.tcpi_options & TCPI_OPT_WSCALE);
	st->snd_wscale = ti.tcpi_snd_wscale;
	st->rcv_wscale = ti.tcpi_rcv_wscale;
	if ((rc = get_int(fd, SOL_TCP, TCP_MAXSEG, &st->mss)) ||
	    (st->timestamps && (rc = get_int(fd, SOL_TCP, TCP_TIMESTAMP, &st->tsval))) ||
	    (rc = get_int(fd, SOL_SOCKET, SO_SNDBUF, &st->sndbuf)) ||
	    (rc = get_int(fd, SOL_SOCKET, SO_RCVBUF, &st->rcvbuf)))
		goto fail;
	what = "the windows";
	len = sizeof(st->win);
	if (getsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, &st->win, &len) < 0) {
		rc = -errno;
		goto fail;
	}
	/* without the FIN, the window's left edge may not be past it */
	if (st->fin_in && (int32_t)(st->win.rcv_wup - st->rcv_seq) > 0)
		st->win.rcv_wup = st->rcv_seq;
	return 0;
fail:
	free(*outq);
	free(*inq);
	*outq = *inq = NULL;
	repair_cancel(fd);
fail_off:
	snprintf(err, errlen, "%s: %s", what, strerror(-rc));
	return rc;
}

void repair_cancel(int fd)
{
	set_int(fd, SOL_TCP, TCP_REPAIR, TCP_REPAIR_OFF_NO_WP);
}

/* Write LEN bytes of BUF into the queue Q of a socket in repair mode. */
static int fill_queue(int fd, int q, const char *buf, size_t len)
{
	int rc = set_int(fd, SOL_TCP, TCP_REPAIR_QUEUE, q);

	return rc ? rc : mw_write_all(fd, buf, len);
}

static int make_transparent(int fd, int family)
{
	if (family == AF_INET6)
		return set_int(fd, SOL_IPV6, IPV6_TRANSPARENT, 1);
	return set_int(fd, SOL_IP, IP_TRANSPARENT, 1);
}

int repair_restore(const struct repair_state *st, const char *outq, const char *inq,
		   char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct tcp_repair_opt opts[4];
	uint32_t sent = st->outq_len - st->unsent_len;
	socklen_t sl;
	const char *what = "socket";
	int fd, rc = 0, n = 0;

	fd = socket(st->remote.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	what = "TCP_REPAIR";
	if ((rc = set_int(fd, SOL_TCP, TCP_REPAIR, 1)))
		goto fail;
	what = "transparent";
	if ((rc = make_transparent(fd, st->local.family)) ||
	    (rc = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)))
		goto fail;
	/* the kernel reports the doubled value it keeps: half is what it
	 * takes; never below what the queues hold */
	what = "the buffers";
	if ((rc = set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE,
			  (int)(st->sndbuf / 2 > st->outq_len ? st->sndbuf / 2 : st->outq_len))) ||
	    (rc = set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE,
			  (int)(st->rcvbuf / 2 > st->inq_len ? st->rcvbuf / 2 : st->inq_len))))
		goto fail;
	what = "the sequence numbers";
	if ((rc = set_int(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE)) ||
	    (rc = set_int(fd, SOL_TCP, TCP_QUEUE_SEQ, (int)(st->snd_seq - st->outq_len))) ||
	    (rc = set_int(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE)) ||
	    (rc = set_int(fd, SOL_TCP, TCP_QUEUE_SEQ, (int)(st->rcv_seq - st->inq_len))))
		goto fail;
	what = "bind";
	sl = pepsal_endpoint_to_sockaddr(&st->local, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		rc = -errno;
		goto fail;
	}
	what = "connect";
	sl = pepsal_endpoint_to_sockaddr(&st->remote, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		rc = -errno;
		goto fail;
	}
	what = "the options";
	opts[n++] = (struct tcp_repair_opt){ TCPOPT_MAXSEG, st->mss };
	if (st->wscale)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_WINDOW,
						     st->snd_wscale | (uint32_t)st->rcv_wscale << 16 };
	if (st->timestamps)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	if (st->sack)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERMITTED, 0 };
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_OPTIONS, opts, (socklen_t)(n * sizeof(opts[0]))) < 0) {
		rc = -errno;
		goto fail;
	}
	if (st->timestamps && (rc = set_int(fd, SOL_TCP, TCP_TIMESTAMP, (int)st->tsval)))
		goto fail;
	what = "the queues";
	if ((rc = fill_queue(fd, TCP_RECV_QUEUE, inq, st->inq_len)) ||
	    (rc = fill_queue(fd, TCP_SEND_QUEUE, outq, sent)))
		goto fail;
	/* the windows as they were; refused (an edge the kernel finds
	 * inconsistent), the socket keeps the ones connect() gave it and
	 * learns the peer's from its next segment */
	setsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, &st->win, sizeof(st->win));
	return fd;
fail:
	snprintf(err, errlen, "%s: %s", what, strerror(-rc));
	if (fd >= 0)
		close(fd); /* in repair mode, or never connected: silent */
	return rc;
}

int repair_finish(int fd, const char *unsent, size_t len, bool fin)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int rc = set_int(fd, SOL_TCP, TCP_REPAIR, 0);

	/* the buffer held all of it on the old box: it fits, or soon does */
	while (!rc && len) {
		ssize_t n = send(fd, unsent, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			unsent += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			if (poll(&p, 1, 1000) == 0)
				rc = -ETIMEDOUT;
		} else if (!(n < 0 && errno == EINTR)) {
			rc = n < 0 ? -errno : -EIO;
		}
	}
	if (!rc && fin && shutdown(fd, SHUT_WR) < 0)
		rc = -errno;
	return rc;
}

void repair_probe(int fd)
{
	if (set_int(fd, SOL_TCP, TCP_REPAIR, 1) == 0)
		set_int(fd, SOL_TCP, TCP_REPAIR, 0);
}
