// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The NFQUEUE side of the emulator: one netlink socket bound to both
 * queues, metadata-only copies (the emulator never looks at payloads, so
 * cost per packet does not grow with its size), a long kernel queue and a
 * large socket buffer so a bandwidth-delay product of packets can be held.
 * Configuration is sent with an ACK request so a failed bind fails loudly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "linkem.h"

#define RX_BUF 16384

struct lq {
	struct mnl_socket *nl;  /* NETLINK_NETFILTER socket */
	uint32_t portid;        /* our netlink port id */
	uint32_t seq;           /* sequence number of config messages */
	char buf[RX_BUF];       /* receive buffer */
};

struct drain_ctx {
	lq_packet_cb cb;  /* the caller's per-packet callback */
	void *ctx;         /* its argument */
	int n;             /* packets seen */
};

int lq_open(struct lq **out, uint32_t rcvbuf, char *err, size_t errlen)
{
	struct lq *q = calloc(1, sizeof(*q));
	int one = 1, size = (int)rcvbuf, ret;

	if (!q)
		return -ENOMEM;
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl) {
		ret = -errno;
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		free(q);
		return ret;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		snprintf(err, errlen, "netlink bind: %s", strerror(errno));
		lq_close(q);
		return ret;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	q->seq = 1;
	/* a lost notification must not stop the loop: the batch verdict of a
	 * later packet releases an unseen one too */
	setsockopt(mnl_socket_get_fd(q->nl), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	*out = q;
	return 0;
}

void lq_close(struct lq *q)
{
	if (!q)
		return;
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q);
}

int lq_fd(const struct lq *q)
{
	return mnl_socket_get_fd(q->nl);
}

/* Send a config message and wait for its ACK; 0 or -errno. */
static int send_config(struct lq *q, struct nlmsghdr *nlh)
{
	uint32_t seq = q->seq++;
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(q->nl, q->buf, sizeof(q->buf));
		if (n < 0)
			return -errno;
		/* packets queued meanwhile (rules already in place) are skipped:
		 * the first batch verdict releases them */
		ret = mnl_cb_run(q->buf, (size_t)n, seq, q->portid, NULL, NULL);
		if (ret < 0 && errno == ESRCH)
			continue;
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

int lq_bind(struct lq *q, uint16_t queue, uint32_t maxlen, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	ret = send_config(q, nlh);
	if (ret) {
		snprintf(err, errlen, "bind NFQUEUE %u: %s%s", queue, strerror(-ret),
			 ret == -EBUSY ? " (another program holds it)" : "");
		return ret;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_META, 0);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	/* keep GSO packets whole: the verdict does not need the segments */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
	ret = send_config(q, nlh);
	if (ret)
		snprintf(err, errlen, "configure NFQUEUE %u: %s", queue, strerror(-ret));
	return ret;
}

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct drain_ctx *d = data;
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	struct nfgenmsg *nfg;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	nfg = mnl_nlmsg_get_payload(nlh);
	d->cb(d->ctx, ntohs(nfg->res_id), ntohl(ph->packet_id));
	d->n++;
	return MNL_CB_OK;
}

int lq_drain(struct lq *q, lq_packet_cb cb, void *ctx)
{
	struct drain_ctx d = { cb, ctx, 0 };
	int fd = mnl_socket_get_fd(q->nl);

	for (;;) {
		ssize_t n = recv(fd, q->buf, sizeof(q->buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return d.n;
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return -errno;
		}
		/* errors in ACKs of verdicts are counted by the kernel, not here */
		mnl_cb_run(q->buf, (size_t)n, 0, q->portid, packet_cb, &d);
	}
}

static int send_verdict(struct lq *q, int type, uint16_t queue, uint32_t id, int verdict)
{
	char buf[256];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, type, queue);

	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	for (;;) {
		if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) >= 0)
			return 0;
		if (errno != EINTR && errno != ENOBUFS)
			return -errno;
	}
}

int lq_verdict(struct lq *q, uint16_t queue, uint32_t id, int verdict)
{
	return send_verdict(q, NFQNL_MSG_VERDICT, queue, id, verdict);
}

int lq_accept_upto(struct lq *q, uint16_t queue, uint32_t max_id)
{
	return send_verdict(q, NFQNL_MSG_VERDICT_BATCH, queue, max_id, NF_ACCEPT);
}
