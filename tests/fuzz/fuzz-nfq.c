// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness of the queuer's netlink buffer handling
 * (queuer/nfq.c): the input is a netlink datagram as the kernel would
 * deliver it, walked by handle_buffer (packet messages, errors and ACKs,
 * anything else), also as a truncated datagram (accept_truncated), then
 * the verdicts collected are put into messages (flush_verdicts). Its first
 * 4 bytes are the sequence number of an ACK awaited (0: none). The packet
 * handler reads every byte of each packet it is given (ASan sees a packet
 * that leaves the buffer) and holds some of them, so that the verdict
 * batches meet held ids. The verdict messages never reach a socket: this
 * file's mnl_socket_sendto takes them instead, and checks that no batch
 * verdict reaches a held id or an id answered after it (a batch for id N
 * is the verdict of every queued id up to N). The kernel numbers a queue's
 * packets in the order it sends them (++id_sequence under the queue's
 * lock), so the batch checks apply to inputs whose ids increase within a
 * window, as a real queue's do; others are still walked, for memory safety.
 */
#include "../../queuer/nfq.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct queuer_nfq *q;
static const char *buf_lo, *buf_hi; /* the buffer being walked */
static unsigned int packets;
static uint32_t first_id, last_id;
static bool ids_real; /* increasing ids, closer than a queue could ever hold */

#define ID_WINDOW (1u << 24)

static struct queuer_verdict handler(void *ctx, const struct queuer_pkt *pkt)
{
	const char *d = (const char *)pkt->data;
	unsigned int sum = 0;

	(void)ctx;
	if (packets && (!id_before(last_id, pkt->id) || pkt->id - first_id >= ID_WINDOW))
		ids_real = false;
	if (!packets)
		first_id = pkt->id;
	last_id = pkt->id;
	packets++;
	if (pkt->len && (d < buf_lo || d + pkt->len > buf_hi))
		__builtin_trap(); /* a payload outside the datagram */
	for (size_t i = 0; i < pkt->len; i++)
		sum += pkt->data[i];
	/* some held (the verdict later), some marked, some not */
	return (struct queuer_verdict){ .set_mark = sum & 1, .mark = sum,
					.hold = (sum & 6) == 6 && queuer_nfq_can_hold(q) };
}

/* The verdict id of one message of ours. */
static uint32_t verdict_id(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFQA_VERDICT_HDR) {
			const struct nfqnl_msg_verdict_hdr *vh = mnl_attr_get_payload(a);

			return ntohl(vh->id);
		}
	__builtin_trap(); /* a verdict without its header */
}

/* Instead of libmnl's: what flush_verdicts would send. */
ssize_t mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz)
{
	const struct nlmsghdr *nlh = req, *later;
	int len = (int)siz;

	(void)nl;
	for (; msg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		uint16_t type = nlh->nlmsg_type & 0xff;
		uint32_t id = verdict_id(nlh);
		int rest = len;

		if (type != NFQNL_MSG_VERDICT && type != NFQNL_MSG_VERDICT_BATCH)
			__builtin_trap();
		if (type != NFQNL_MSG_VERDICT_BATCH || !ids_real)
			continue;
		for (unsigned int i = 0; i < q->nheld; i++)
			if (!id_before(id, q->held[i].id))
				__builtin_trap(); /* the batch would answer a held packet */
		later = mnl_nlmsg_next(nlh, &rest);
		for (; msg_ok(later, rest); later = mnl_nlmsg_next(later, &rest))
			if (!id_before(id, verdict_id(later)))
				__builtin_trap(); /* ... or one answered after it */
	}
	if (len != 0)
		__builtin_trap(); /* bytes that are no message */
	return (ssize_t)siz;
}

/* Each run starts with nothing pending or held. */
static void reset(void)
{
	q->npending = 0;
	q->nheld = 0;
	q->st = NULL;
	memset(&q->own, 0, sizeof(q->own));
}

_Static_assert(RECV_BUF_SIZE / RECV_SLOTS % 4 == 0, "a slot holds its datagram's padding");

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t want_seq = 0;
	bool acked = false;
	int ack_err = 0, handled;
	size_t n;

	if (!q) {
		q = calloc(1, sizeof(*q));
		if (!q)
			abort();
		q->slot_size = RECV_BUF_SIZE / RECV_SLOTS;
		q->clear_mask = 0x2;
	}
	reset();
	if (size >= 4) {
		memcpy(&want_seq, data, 4);
		data += 4;
		size -= 4;
	}
	/* in the socket's own buffer, aligned as the kernel's datagrams are */
	n = size < sizeof(q->rbuf) ? size : sizeof(q->rbuf);
	memcpy(q->rbuf, data, n);
	buf_lo = q->rbuf;
	/* libmnl parses a message's attributes up to its aligned end
	 * (mnl_nlmsg_get_payload_tail): a datagram that ends unaligned (the
	 * kernel pads each message) may have its last attribute read up to 3
	 * bytes past it, which its slot always holds (slots are multiples of 4) */
	buf_hi = q->rbuf + MNL_ALIGN(n);
	packets = 0;
	ids_real = true;
	handled = handle_buffer(q, q->rbuf, (ssize_t)n, handler, NULL, want_seq, &ack_err, &acked);
	if (handled < 0 || (unsigned int)handled != packets)
		__builtin_trap();
	if (acked && !want_seq)
		__builtin_trap(); /* an ACK nobody waited for */
	if (q->npending > MAX_PENDING || q->nheld > MAX_HELD)
		__builtin_trap();
	/* some held ones answered, out of order, then everything sent */
	for (unsigned int i = 0; i < q->nheld; i += 2)
		queuer_nfq_release(q, q->held[i].id, (struct queuer_verdict){ true, 1, false });
	flush_verdicts(q);
	if (q->npending)
		__builtin_trap();
	/* the same bytes as a datagram cut short by its slot */
	accept_truncated(q, q->rbuf, n);
	flush_verdicts(q);
	return 0;
}
