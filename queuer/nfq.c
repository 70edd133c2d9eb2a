// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NFQUEUE over libmnl with the nfq_nlmsg_* builders.
 *
 * Every configuration message asks for an ACK so a refused bind (queue held
 * by another process, no CAP_NET_ADMIN) is an error at start, not silence.
 * The queue is configured fail-open: when it is full or our socket overflows
 * the kernel accepts the packet without us.
 *
 * Packets are read in bursts; their verdicts are collected and sent in one
 * sendto(): a run of packets with consecutive ids and the same verdict
 * becomes a single NFQNL_MSG_VERDICT_BATCH message.
 *
 * A packet may be held (its verdict given later, out of order). A batch
 * verdict for id N applies to every packet still queued with an id up to N,
 * held ones included, so no batch reaches the smallest held id: past it,
 * verdicts go one message per packet (still in one sendto()).
 *
 * Shutdown is fail-open too: the queue length is set to 0 first, so new
 * packets bypass us, then what is already queued is accepted, and only then
 * the queue is unbound (unbinding drops whatever is still queued).
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/capability.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "nfq.h"
#include "pepsal_clock.h"
#include "pepsal_timeline.h"

#define RECV_BUF_SIZE (256 * 1024)
#define RECV_SLOTS 64             /* netlink datagrams per recvmmsg() */
#define MAX_PENDING 1024          /* verdicts collected before a flush */
#define VERDICT_MSG_MAX 64        /* bytes of one verdict message, aligned */
#define ACK_TIMEOUT_MS 2000
#define MAX_HELD 4096             /* packets whose verdict is deferred */

struct pending_verdict {
	uint32_t id;
	struct queuer_verdict v;
};

struct queuer_nfq {
	struct mnl_socket *nl;
	uint16_t queue;
	uint32_t portid;
	uint32_t seq;
	uint32_t clear_mask;            /* see queuer_nfq_config */
	uint32_t maxlen;                /* the kernel queue's length */
	uint32_t hold_max;              /* packets held at most: the queue's length
					 * less room for a burst of new SYNs */
	uint32_t last_id;               /* the last packet id seen (ids gaps) */
	bool have_last;
	struct queuer_nfq_stats *st;    /* where process() counts, may be NULL */
	struct queuer_nfq_stats own;    /* counts outside process() */
	unsigned int npending;
	struct pending_verdict pending[MAX_PENDING];
	uint32_t later[MAX_PENDING];    /* flush_verdicts' scratch */
	unsigned int nheld;
	struct pending_verdict held[MAX_HELD]; /* id and the packet's mark on arrival */
	char vbuf[MAX_PENDING * VERDICT_MSG_MAX];
	char rbuf[RECV_BUF_SIZE];       /* one big datagram, or RECV_SLOTS slots */
	size_t slot_size;               /* rbuf / RECV_SLOTS, fits one packet message */
	uint64_t read_ns;               /* timeline: when the batch was read */
	int64_t real_to_mono_ns;        /* timeline: CLOCK_MONOTONIC - CLOCK_REALTIME */
	struct mmsghdr msgs[RECV_SLOTS];
	struct iovec iov[RECV_SLOTS];
};

/* ---- verdicts ----------------------------------------------------------- */

static size_t put_verdict(char *buf, uint16_t queue, int type, uint32_t id,
			  const struct queuer_verdict *v)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, type, queue);

	nfq_nlmsg_verdict_put(nlh, (int)id, v->drop ? NF_DROP : NF_ACCEPT);
	if (v->set_mark && !v->drop)
		nfq_nlmsg_verdict_put_mark(nlh, v->mark);
	return NLMSG_ALIGN(nlh->nlmsg_len);
}

static bool same_verdict(const struct queuer_verdict *a, const struct queuer_verdict *b)
{
	return a->drop == b->drop && a->set_mark == b->set_mark &&
	       (!a->set_mark || a->mark == b->mark);
}

/* Packet ids wrap: A before B in the kernel's order. */
static bool id_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* The smallest held id, or false if nothing is held. */
static bool min_held(const struct queuer_nfq *q, uint32_t *min)
{
	if (!q->nheld)
		return false;
	*min = q->held[0].id;
	for (unsigned int i = 1; i < q->nheld; i++)
		if (id_before(q->held[i].id, *min))
			*min = q->held[i].id;
	return true;
}

/* Send the collected verdicts in one message buffer. A batch for id N may
 * only cover packets whose verdicts come before it: it stays below every
 * held id and below every id later in the list (released held packets are
 * appended out of order). */
static void flush_verdicts(struct queuer_nfq *q)
{
	struct queuer_nfq_stats *st = q->st ? q->st : &q->own;
	size_t off = 0;
	unsigned int i = 0;
	uint32_t held = 0, bound;
	bool holding = min_held(q, &held), bounded = holding;

	/* later[k]: the smallest id from k on, held ones included */
	bound = held;
	for (unsigned int k = q->npending; k-- > 0;) {
		if (!bounded || id_before(q->pending[k].id, bound))
			bound = q->pending[k].id;
		bounded = true;
		q->later[k] = bound;
	}
	while (i < q->npending) {
		unsigned int j = i;

		/* extend the run while ids are consecutive and verdicts equal,
		 * and nothing answered later has a smaller id */
		while (j + 1 < q->npending &&
		       q->pending[j + 1].id == q->pending[j].id + 1 &&
		       same_verdict(&q->pending[j + 1].v, &q->pending[i].v) &&
		       (j + 2 < q->npending ? id_before(q->pending[j + 1].id, q->later[j + 2]) :
			!holding || id_before(q->pending[j + 1].id, held)))
			j++;
		if (j > i) {
			off += put_verdict(q->vbuf + off, q->queue, NFQNL_MSG_VERDICT_BATCH,
					   q->pending[j].id, &q->pending[j].v);
			st->batches++;
		} else {
			off += put_verdict(q->vbuf + off, q->queue, NFQNL_MSG_VERDICT,
					   q->pending[i].id, &q->pending[i].v);
		}
		i = j + 1;
	}
	if (off && mnl_socket_sendto(q->nl, q->vbuf, off) < 0 &&
	    mnl_socket_sendto(q->nl, q->vbuf, off) < 0) {
		/* a packet without its verdict would stay queued for good:
		 * keep them for the next flush (the main loop flushes on every
		 * wake-up) unless there is no room for more */
		st->verdict_errors++;
		if (q->npending < MAX_PENDING)
			return;
		st->verdict_errors += q->npending; /* lost: the kernel keeps them */
	}
	q->npending = 0;
}

static void queue_verdict(struct queuer_nfq *q, uint32_t id, struct queuer_verdict v)
{
	if (q->npending == MAX_PENDING)
		flush_verdicts(q);
	q->pending[q->npending].id = id;
	q->pending[q->npending].v = v;
	q->npending++;
}

/* ---- receiving ---------------------------------------------------------- */

/* The verdict while starting and stopping: accept, never redirect (our mark
 * bits are cleared if something upstream had set them). */
static struct queuer_verdict accept_unmarked(void *ctx, const struct queuer_pkt *pkt)
{
	const struct queuer_nfq *q = ctx;

	if (pkt->mark & q->clear_mask)
		return (struct queuer_verdict){ true, pkt->mark & ~q->clear_mask, false, false };
	return (struct queuer_verdict){ false, 0, false, false };
}

/* Handle one packet message. */
static int handle_packet(struct queuer_nfq *q, const struct nlmsghdr *nlh,
			 queuer_pkt_fn fn, void *ctx)
{
	struct queuer_nfq_stats *st = q->st ? q->st : &q->own;
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;
	struct queuer_pkt pkt = { 0 };
	struct queuer_verdict v;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph)) {
		st->bad_messages++; /* no id: nothing we can answer */
		return 0;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	pkt.id = ntohl(ph->packet_id);
	/* ids are consecutive; one skipped went to a socket that was full,
	 * and the kernel accepted it for us (fail-open) */
	if (q->have_last && id_before(q->last_id, pkt.id) && pkt.id - q->last_id < (1u << 30))
		st->lost += pkt.id - q->last_id - 1;
	if (!q->have_last || id_before(q->last_id, pkt.id))
		q->last_id = pkt.id;
	q->have_last = true;
	pkt.hw_protocol = ntohs(ph->hw_protocol);
	if (attr[NFQA_MARK] && mnl_attr_get_payload_len(attr[NFQA_MARK]) >= 4)
		pkt.mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_PAYLOAD]) {
		pkt.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		pkt.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	pkt.wire_len = pkt.len;
	if (q->read_ns) {
		pkt.read_ns = q->read_ns;
		/* realtime, microseconds: the skb's receive stamp */
		if (attr[NFQA_TIMESTAMP] && mnl_attr_get_payload_len(attr[NFQA_TIMESTAMP]) >=
		    sizeof(struct nfqnl_msg_packet_timestamp)) {
			const struct nfqnl_msg_packet_timestamp *ts =
				mnl_attr_get_payload(attr[NFQA_TIMESTAMP]);
			int64_t real = (int64_t)be64toh(ts->sec) * 1000000000 +
				       (int64_t)be64toh(ts->usec) * 1000;

			pkt.queued_ns = (uint64_t)(real + q->real_to_mono_ns);
		}
	}
	/* present only when the copy range cut the packet */
	if (attr[NFQA_CAP_LEN] && mnl_attr_get_payload_len(attr[NFQA_CAP_LEN]) >= 4)
		pkt.wire_len = ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]));
	v = fn(ctx, &pkt);
	if (v.hold && q->nheld < q->hold_max) {
		q->held[q->nheld++] = (struct pending_verdict){ pkt.id,
								 { false, pkt.mark, false, false } };
		return 1;
	}
	v.hold = false; /* the handler asked without room: answer now */
	queue_verdict(q, pkt.id, v);
	return 1;
}

/* One whole message of LEN bytes at NLH? (libmnl's mnl_nlmsg_ok compares
 * the length as an int: a message claiming 2 GiB or more would pass it
 * and send the walk out of the buffer; found by tests/fuzz/fuzz-nfq.c.) */
static bool msg_ok(const struct nlmsghdr *nlh, int len)
{
	return len >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (unsigned int)len;
}

/* Walk one buffer of netlink messages. Returns packets handled; an ACK or
 * error for sequence number WANT_SEQ (if not 0) is stored in *ACK_ERR. */
static int handle_buffer(struct queuer_nfq *q, const char *buf, ssize_t n,
			 queuer_pkt_fn fn, void *ctx, uint32_t want_seq,
			 int *ack_err, bool *acked)
{
	struct queuer_nfq_stats *st = q->st ? q->st : &q->own;
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int len = (int)n, handled = 0;

	for (; msg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
				st->bad_messages++;
			} else if (want_seq && nlh->nlmsg_seq == want_seq) {
				*ack_err = e->error;
				*acked = true;
			} else if (e->error) {
				/* a refused verdict (we never ask ACKs for them) */
				st->verdict_errors++;
			}
		} else if (nlh->nlmsg_type ==
			   ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) {
			handled += handle_packet(q, nlh, fn, ctx);
		} else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
			st->bad_messages++;
		}
	}
	if (len > 0)
		st->bad_messages++; /* trailing bytes that are not a message */
	return handled;
}

/* A datagram larger than its slot (should not happen: slots fit the copy
 * range). A queued packet is never forgotten, or it would stay queued for
 * good: the packet header is the first attribute, so its id is still here. */
static void accept_truncated(struct queuer_nfq *q, const char *buf, size_t len)
{
	const struct nlattr *a = (const struct nlattr *)(buf + NLMSG_HDRLEN +
							  NLMSG_ALIGN(sizeof(struct nfgenmsg)));
	struct queuer_pkt pkt = { 0 };
	const struct nfqnl_msg_packet_hdr *ph;

	(q->st ? q->st : &q->own)->bad_messages++;
	if (len < (size_t)((const char *)a - buf) + NLA_HDRLEN + sizeof(*ph) ||
	    (a->nla_type & NLA_TYPE_MASK) != NFQA_PACKET_HDR)
		return;
	ph = (const void *)((const char *)a + NLA_HDRLEN);
	pkt.id = ntohl(ph->packet_id);
	queue_verdict(q, pkt.id, accept_unmarked(q, &pkt));
}

/* Each packet is its own netlink datagram: recvmmsg() takes up to
 * RECV_SLOTS of them in one system call, and their verdicts leave in one
 * sendto(). Slots are sized for a packet message with the copy range. */
int queuer_nfq_process(struct queuer_nfq *q, queuer_pkt_fn fn, void *ctx,
		       unsigned int max_reads, struct queuer_nfq_stats *st)
{
	int total = 0;
	bool acked = false;
	int ack_err = 0;

	q->st = st;
	for (unsigned int r = 0; r < max_reads; r++) {
		int n;

		for (unsigned int i = 0; i < RECV_SLOTS; i++) {
			q->iov[i] = (struct iovec){ q->rbuf + i * q->slot_size, q->slot_size };
			q->msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &q->iov[i],
							      .msg_iovlen = 1 };
		}
		n = recvmmsg(mnl_socket_get_fd(q->nl), q->msgs, RECV_SLOTS, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) { /* the kernel accepted them for us */
				(st ? st : &q->own)->enobufs++;
				continue;
			}
			total = -errno;
			break;
		}
		if (pepsal_tl_enabled())
			q->read_ns = pepsal_now_ns();
		/* what we read and what we hold filled the kernel queue: new
		 * packets passed it unqueued meanwhile (fail-open) */
		if (q->maxlen && (uint32_t)n + q->nheld >= q->maxlen && st)
			st->full++;
		for (int i = 0; i < n; i++) {
			if (q->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				accept_truncated(q, q->iov[i].iov_base, q->msgs[i].msg_len);
				continue;
			}
			total += handle_buffer(q, q->iov[i].iov_base, q->msgs[i].msg_len,
					       fn, ctx, 0, &ack_err, &acked);
		}
		flush_verdicts(q);
		if (n < RECV_SLOTS)
			break; /* drained */
		if (r + 1 == max_reads && st)
			st->more = true;
	}
	flush_verdicts(q);
	q->st = NULL;
	return total;
}

/* ---- configuration ------------------------------------------------------ */

/* Send NLH with an ACK request and wait for that ACK, accepting (unmarked)
 * any packet that arrives meanwhile. Returns 0 or the kernel's -errno. */
static int send_acked(struct queuer_nfq *q, struct nlmsghdr *nlh)
{
	struct timeval tv = { 0, 200 * 1000 };
	struct timespec start, now;
	uint32_t seq = ++q->seq;
	bool acked = false;
	int err = 0;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!acked) {
		ssize_t n;

		n = recv(mnl_socket_get_fd(q->nl), q->rbuf, sizeof(q->rbuf), 0);
		if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ENOBUFS)
			return -errno;
		if (n > 0) {
			handle_buffer(q, q->rbuf, n, accept_unmarked, q, seq, &err, &acked);
			flush_verdicts(q);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!acked && (now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 > ACK_TIMEOUT_MS)
			return -ETIMEDOUT;
	}
	return err;
}

static int config_cmd(struct queuer_nfq *q, uint8_t cmd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue);

	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, cmd);
	return send_acked(q, nlh);
}

static int config_maxlen(struct queuer_nfq *q, uint32_t maxlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue);

	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	return send_acked(q, nlh);
}

static int config_params(struct queuer_nfq *q, uint32_t copy_range)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue);
	uint32_t flags = htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);

	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)copy_range);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, flags);
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, flags);
	return send_acked(q, nlh);
}

/* Timeline only: the kernel's receive stamps are realtime; a socket that
 * asks for them turns them on for every packet (a static key). */
static void timeline_clocks(struct queuer_nfq *q)
{
	struct timespec r, m;
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)); /* kept open */
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	q->real_to_mono_ns = ((int64_t)m.tv_sec - r.tv_sec) * 1000000000 +
			     ((int64_t)m.tv_nsec - r.tv_nsec);
}

/* CAP_NET_ADMIN in the effective set? Tells the two meanings of EPERM apart. */
static bool have_net_admin(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return geteuid() == 0;
	return data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

int queuer_nfq_open(const struct queuer_nfq_config *cfg, struct queuer_nfq **out,
		    char *err, size_t errlen)
{
	struct queuer_nfq *q;
	int one = 1, ret, rcvbuf = (int)cfg->rcvbuf;

	q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	q->queue = cfg->queue;
	q->slot_size = RECV_BUF_SIZE / RECV_SLOTS;
	if (cfg->copy_range + 512 > q->slot_size) {
		snprintf(err, errlen, "copy range %u too large (at most %zu bytes)",
			 cfg->copy_range, q->slot_size - 512);
		free(q);
		return -EINVAL;
	}
	q->clear_mask = cfg->clear_mask;
	q->maxlen = cfg->maxlen;
	/* held SYNs wait in the kernel queue: a quarter of it stays free for
	 * the SYNs that come meanwhile, or they would all pass end to end */
	q->hold_max = cfg->maxlen - cfg->maxlen / 4;
	if (q->hold_max > MAX_HELD)
		q->hold_max = MAX_HELD;
	if (pepsal_tl_enabled())
		timeline_clocks(q);
	q->seq = (uint32_t)time(NULL);
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl) {
		ret = -errno;
		snprintf(err, errlen, "cannot open a netfilter netlink socket: %s",
			 strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot bind the netlink socket: %s", strerror(errno));
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	/* overflow is handled by fail-open in the kernel: no error to us */
	mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	mnl_socket_setsockopt(q->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (rcvbuf > 0 &&
	    setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUF,
			   &rcvbuf, sizeof(rcvbuf));

	ret = config_cmd(q, NFQNL_CFG_CMD_BIND);
	if (ret == -EPERM && have_net_admin()) {
		snprintf(err, errlen, "NFQUEUE %u is already bound by another process "
			 "(another pepsal-queuer?)", cfg->queue);
		goto fail;
	}
	if (ret == -EPERM) {
		snprintf(err, errlen, "binding NFQUEUE %u needs CAP_NET_ADMIN (run as root)",
			 cfg->queue);
		goto fail;
	}
	if (ret == -EBUSY) {
		snprintf(err, errlen, "NFQUEUE %u is already bound by this process",
			 cfg->queue);
		goto fail;
	}
	if (ret < 0) {
		snprintf(err, errlen, "cannot bind NFQUEUE %u: %s", cfg->queue, strerror(-ret));
		goto fail;
	}
	ret = config_params(q, cfg->copy_range);
	if (ret < 0) {
		snprintf(err, errlen, "cannot set copy range and fail-open on NFQUEUE %u: %s",
			 cfg->queue, strerror(-ret));
		goto fail_unbind;
	}
	ret = config_maxlen(q, cfg->maxlen);
	if (ret < 0) {
		snprintf(err, errlen, "cannot set the length of NFQUEUE %u to %u: %s",
			 cfg->queue, cfg->maxlen, strerror(-ret));
		goto fail_unbind;
	}
	*out = q;
	return 0;

fail_unbind:
	config_cmd(q, NFQNL_CFG_CMD_UNBIND);
fail:
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q);
	return ret;
}

int queuer_nfq_fd(const struct queuer_nfq *q)
{
	return mnl_socket_get_fd(q->nl);
}

bool queuer_nfq_can_hold(const struct queuer_nfq *q)
{
	return q->nheld < q->hold_max;
}

unsigned int queuer_nfq_held(const struct queuer_nfq *q)
{
	return q->nheld;
}

void queuer_nfq_release(struct queuer_nfq *q, uint32_t id, struct queuer_verdict v)
{
	for (unsigned int i = 0; i < q->nheld; i++) {
		if (q->held[i].id != id)
			continue;
		q->held[i] = q->held[--q->nheld];
		v.hold = false;
		queue_verdict(q, id, v);
		return;
	}
}

void queuer_nfq_flush(struct queuer_nfq *q, struct queuer_nfq_stats *st)
{
	q->st = st;
	flush_verdicts(q);
	q->st = NULL;
}

void queuer_nfq_close(struct queuer_nfq *q)
{
	if (!q)
		return;
	/* held packets the caller left: accepted unmarked, never dropped */
	while (q->nheld) {
		struct queuer_pkt pkt = { .id = q->held[0].id, .mark = q->held[0].v.mark };

		queuer_nfq_release(q, pkt.id, accept_unmarked(q, &pkt));
	}
	flush_verdicts(q);
	/* queue length 0: from now on the kernel accepts without asking us */
	config_maxlen(q, 0);
	while (queuer_nfq_process(q, accept_unmarked, q, 64, NULL) > 0)
		;
	config_cmd(q, NFQNL_CFG_CMD_UNBIND);
	mnl_socket_close(q->nl);
	free(q);
}
