// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Holding SYNs until the server has answered (pepsal --notify-fd): the
 * queuer records a SYN as before, keeps its verdict back and asks the
 * proxy, over the hold channel (include/pepsal_hold.h), to dial the
 * original destination. The proxy's answer decides the verdict:
 *   connected -> marked: REDIRECTed, the proxy accepts it over the
 *                connection it already has;
 *   anything else (refused, ICMP error, timeout) -> unmarked, end to end,
 *                and the pending entry freed: the client sees what it would
 *                see without a PEP.
 * A hold longer than --hold-time ends unmarked as well.
 *
 * A held connection is keyed by client, destination and ISN: the client's
 * retransmissions join it and get the same verdict (one dial per
 * connection). Once decided, the record stays as a tombstone for
 * TOMB_NS so that later retransmissions get the same answer at once.
 * Bounded: --hold-max connections held at once (beyond, accept-first); per
 * client address, held SYNs are pending entries and --address-share bounds
 * them. Fail-open: a proxy that goes away (the channel closes), a queuer
 * that stops, a full channel: every held SYN is accepted unmarked.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pepsal_hold.h"
#include "pepsal_log.h"
#include "pepsal_timeline.h"
#include "queuer.h"

#define HOLD_IDS 8                   /* packets (retransmissions) per connection */
#define TOMB_NS 30000000000ull       /* decided records answer retransmissions */
#define ANS_BATCH 128                /* answers per datagram at most (the proxy's) */
#define REQ_BATCH 128                /* requests per datagram (net.unix.max_dgram_qlen
				      * is 10 by default: a burst needs batches) */

#define NIL UINT32_MAX
#define SYN_QUOTE 120                /* bytes of the SYN kept for an ICMP answer */

/* A held connection, or a decided one kept as a tombstone. Each record is
 * on one list (free, held in start order, tombstones in decision order: the
 * hold time and the tombstone's life are constant, so the heads are the
 * oldest) and, unless free, in its key's hash chain; a held one also in its
 * slot's chain (the proxy's answers name the slot). */
struct hold_rec {
	bool decided, marked;
	uint8_t icmp_type, icmp_code;  /* decided by an ICMP error: answered with it */
	uint8_t icmp_family;           /* 0: no ICMP answer */
	uint8_t icmp_from[16];
	uint16_t syn_len;
	uint8_t syn[SYN_QUOTE];        /* the first SYN, quoted by the ICMP answer */
	struct pepsal_endpoint client, dst;
	uint32_t isn, slot, gen;
	uint64_t until_ns;           /* held: the hold's end; decided: the tombstone's */
	uint32_t prev, next;         /* its list */
	uint32_t key_next, slot_next; /* its hash chains */
	unsigned int nids;
	uint32_t ids[HOLD_IDS];
	uint32_t marks[HOLD_IDS];    /* each packet's mark on arrival */
};

struct rec_list {
	uint32_t head, tail;
};

struct queuer_hold {
	int fd;                      /* the channel, -1: closed */
	uint64_t hold_ns;
	uint32_t max;                /* connections held at once */
	uint32_t nheld;
	uint32_t nrecs;              /* 2 * max: held ones and tombstones */
	uint32_t mask;               /* hash buckets - 1 */
	uint32_t nout;               /* requests not sent yet */
	struct pepsal_hold_req *out; /* max of them */
	struct rec_list free, held, tomb;
	uint32_t *key_bucket, *slot_bucket;
	struct hold_rec *recs;
};

/* ---- the lists and hash chains -------------------------------------------- */

static void list_push(struct queuer_hold *h, struct rec_list *l, uint32_t i)
{
	h->recs[i].prev = l->tail;
	h->recs[i].next = NIL;
	if (l->tail != NIL)
		h->recs[l->tail].next = i;
	else
		l->head = i;
	l->tail = i;
}

static void list_remove(struct queuer_hold *h, struct rec_list *l, uint32_t i)
{
	struct hold_rec *r = &h->recs[i];

	if (r->prev != NIL)
		h->recs[r->prev].next = r->next;
	else
		l->head = r->next;
	if (r->next != NIL)
		h->recs[r->next].prev = r->prev;
	else
		l->tail = r->prev;
}

static uint32_t key_hash(const struct queuer_hold *h, const struct pepsal_endpoint *client,
			 const struct pepsal_endpoint *dst, uint32_t isn)
{
	uint32_t x = 2166136261u;

	for (int i = 0; i < 16; i++)
		x = (x ^ client->addr[i]) * 16777619u;
	x = (x ^ client->port) * 16777619u;
	x = (x ^ dst->port) * 16777619u;
	x = (x ^ isn) * 16777619u;
	return (x ^ (x >> 15)) & h->mask;
}

static uint32_t slot_hash(const struct queuer_hold *h, uint32_t slot)
{
	return (slot * 2654435761u >> 7) & h->mask;
}

/* Unlink I from the chain starting at *HEAD, linked through its field at
 * offset LINK (key_next or slot_next). */
static void chain_remove(struct queuer_hold *h, uint32_t *head, uint32_t i, size_t link)
{
	for (uint32_t *p = head; *p != NIL;
	     p = (uint32_t *)((char *)&h->recs[*p] + link)) {
		if (*p == i) {
			*p = *(uint32_t *)((char *)&h->recs[i] + link);
			return;
		}
	}
}

static void key_unlink(struct queuer_hold *h, uint32_t i)
{
	struct hold_rec *r = &h->recs[i];

	chain_remove(h, &h->key_bucket[key_hash(h, &r->client, &r->dst, r->isn)], i,
		     offsetof(struct hold_rec, key_next));
}

static void slot_unlink(struct queuer_hold *h, uint32_t i)
{
	chain_remove(h, &h->slot_bucket[slot_hash(h, h->recs[i].slot)], i,
		     offsetof(struct hold_rec, slot_next));
}

/* ---- set-up ------------------------------------------------------------------ */

int queuer_hold_init(struct queuer *qr, int fd, uint64_t hold_ns, uint32_t max)
{
	struct queuer_hold *h = calloc(1, sizeof(*h));
	uint32_t nb = 1;

	if (!h)
		return -ENOMEM;
	h->nrecs = 2 * max;
	while (nb < h->nrecs)
		nb <<= 1;
	h->mask = nb - 1;
	h->out = calloc(max, sizeof(*h->out));
	h->recs = calloc(h->nrecs, sizeof(*h->recs));
	h->key_bucket = malloc(nb * sizeof(uint32_t));
	h->slot_bucket = malloc(nb * sizeof(uint32_t));
	if (!h->out || !h->recs || !h->key_bucket || !h->slot_bucket) {
		free(h->out);
		free(h->recs);
		free(h->key_bucket);
		free(h->slot_bucket);
		free(h);
		return -ENOMEM;
	}
	memset(h->key_bucket, 0xff, nb * sizeof(uint32_t));
	memset(h->slot_bucket, 0xff, nb * sizeof(uint32_t));
	h->free = h->held = h->tomb = (struct rec_list){ NIL, NIL };
	for (uint32_t i = 0; i < h->nrecs; i++)
		list_push(h, &h->free, i);
	h->fd = fd;
	h->hold_ns = hold_ns;
	h->max = max;
	qr->hold = h;
	return 0;
}

int queuer_hold_fd(const struct queuer *qr)
{
	return qr->hold ? qr->hold->fd : -1;
}

static struct queuer_verdict marked_verdict(const struct queuer *qr, uint32_t mark)
{
	return (struct queuer_verdict){ true, (mark & ~qr->mark.mask) | qr->mark.value, false, false };
}

static struct queuer_verdict unmarked_verdict(const struct queuer *qr, uint32_t mark)
{
	if (mark & qr->mark.mask)
		return (struct queuer_verdict){ true, mark & ~qr->mark.mask, false, false };
	return (struct queuer_verdict){ false, 0, false, false };
}

/* The verdict of a packet of R; a record decided by an ICMP error drops
 * it and answers the client with that error. */
static struct queuer_verdict rec_verdict(struct queuer *qr, const struct hold_rec *r,
					 uint32_t mark)
{
	if (r->icmp_family) {
		int rc = queuer_icmp_send(r->client.family, r->syn, r->syn_len, r->icmp_from,
					  r->icmp_type, r->icmp_code);

		if (rc == 0) {
			qr->counts[QC_HOLD_ICMP]++;
			return (struct queuer_verdict){ .drop = true };
		}
		pr_ratelimited(LOG_WARNING, "cannot answer a held SYN with its ICMP error (%s): "
			       "it passes end to end", strerror(-rc));
	}
	return r->marked ? marked_verdict(qr, mark) : unmarked_verdict(qr, mark);
}

/* Give every packet of the held record I its verdict and make it a
 * tombstone; unmarked frees the pending entry. */
static void decide(struct queuer *qr, uint32_t i, bool marked, uint64_t now)
{
	/* an ICMP answer only for a refused dial */
	if (marked)
		qr->hold->recs[i].icmp_family = 0;
	struct queuer_hold *h = qr->hold;
	struct hold_rec *r = &h->recs[i];

	list_remove(h, &h->held, i);
	slot_unlink(h, i);
	list_push(h, &h->tomb, i);
	r->decided = true;
	r->marked = marked;
	r->until_ns = now + TOMB_NS;
	h->nheld--;
	if (!marked)
		pepsal_table_remove(qr->table, r->slot, r->gen);
	qr->counts[marked ? QC_MARKED : QC_HOLD_UNMARKED]++;
	pepsal_tl_mark(TL_VERDICT, &r->client, 0);
	for (unsigned int k = 0; k < r->nids; k++)
		queuer_nfq_release(qr->nfq, r->ids[k], rec_verdict(qr, r, r->marks[k]));
	r->nids = 0;
}

static struct hold_rec *find(struct queuer_hold *h, const struct queuer_parsed *p)
{
	for (uint32_t i = h->key_bucket[key_hash(h, &p->client, &p->dst, p->isn)]; i != NIL;
	     i = h->recs[i].key_next) {
		struct hold_rec *r = &h->recs[i];

		if (r->isn == p->isn && pepsal_endpoint_equal(&r->client, &p->client) &&
		    pepsal_endpoint_equal(&r->dst, &p->dst))
			return r;
	}
	return NULL;
}

bool queuer_hold_known(struct queuer *qr, const struct queuer_pkt *pkt,
		       const struct queuer_parsed *p, struct queuer_verdict *v)
{
	struct queuer_hold *h = qr->hold;
	struct hold_rec *r;

	if (!h || h->fd < 0 || !(r = find(h, p)))
		return false;
	qr->counts[QC_HOLD_RETRANSMITS]++;
	if (r->decided) {
		*v = rec_verdict(qr, r, pkt->mark);
		if (r->marked)
			qr->counts[QC_MARKED]++;
		return true;
	}
	if (r->nids < HOLD_IDS && queuer_nfq_can_hold(qr->nfq)) {
		r->ids[r->nids] = pkt->id;
		r->marks[r->nids++] = pkt->mark;
		*v = (struct queuer_verdict){ false, 0, true, false };
		return true;
	}
	*v = unmarked_verdict(qr, pkt->mark); /* a retransmission storm: end to end */
	return true;
}

/* A free record: an unused one, else the oldest tombstone's. NIL: none. */
static uint32_t alloc_rec(struct queuer_hold *h)
{
	uint32_t i = h->free.head;

	if (i != NIL) {
		list_remove(h, &h->free, i);
		return i;
	}
	i = h->tomb.head;
	if (i != NIL) {
		list_remove(h, &h->tomb, i);
		key_unlink(h, i);
	}
	return i;
}

bool queuer_hold_full(struct queuer *qr)
{
	struct queuer_hold *h = qr->hold;

	return h && h->fd >= 0 &&
	       (h->nheld >= h->max || h->nout >= h->max || !queuer_nfq_can_hold(qr->nfq) ||
		(h->free.head == NIL && h->tomb.head == NIL));
}

bool queuer_hold_start(struct queuer *qr, const struct queuer_pkt *pkt,
		       const struct queuer_parsed *p, int slot, uint64_t now)
{
	struct queuer_hold *h = qr->hold;
	struct pepsal_entry_view e;
	struct pepsal_hold_req req;
	struct hold_rec *r;
	uint32_t i;

	if (!h || h->fd < 0)
		return false;
	if (queuer_hold_full(qr))
		return false; /* decide.c asked first: not reached */
	if (pepsal_table_snapshot(qr->table, (uint32_t)slot, &e) < 0 &&
	    pepsal_table_snapshot(qr->table, (uint32_t)slot, &e) < 0)
		return false;
	memset(&req, 0, sizeof(req));
	req.slot = (uint32_t)slot;
	req.gen = e.gen;
	req.client = p->client;
	req.dst = p->dst;
	req.tos = p->tos;
	req.timeout_ms = (uint32_t)(h->hold_ns / 1000000);
	h->out[h->nout++] = req; /* sent by queuer_hold_flush */
	i = alloc_rec(h);
	r = &h->recs[i];
	memset(r, 0, sizeof(*r));
	r->client = p->client;
	r->dst = p->dst;
	r->isn = p->isn;
	r->slot = req.slot;
	r->gen = req.gen;
	r->until_ns = now + h->hold_ns;
	r->ids[0] = pkt->id;
	r->marks[0] = pkt->mark;
	r->nids = 1;
	r->syn_len = (uint16_t)(pkt->len < SYN_QUOTE ? pkt->len : SYN_QUOTE);
	memcpy(r->syn, pkt->data, r->syn_len);
	r->key_next = h->key_bucket[key_hash(h, &r->client, &r->dst, r->isn)];
	h->key_bucket[key_hash(h, &r->client, &r->dst, r->isn)] = i;
	r->slot_next = h->slot_bucket[slot_hash(h, r->slot)];
	h->slot_bucket[slot_hash(h, r->slot)] = i;
	list_push(h, &h->held, i);
	h->nheld++;
	qr->counts[QC_HELD]++;
	return true;
}

/* The channel is gone: every held SYN passes unmarked, no new holds. */
static void channel_gone(struct queuer *qr, const char *why)
{
	struct queuer_hold *h = qr->hold;

	pr_warn("the hold channel to the proxy %s: held SYNs pass unmarked, new ones are "
		"no longer held", why);
	queuer_hold_release_all(qr);
	close(h->fd);
	h->fd = -1;
	h->nout = 0;
}

bool queuer_hold_flush(struct queuer *qr)
{
	struct queuer_hold *h = qr->hold;
	uint32_t sent = 0;

	if (!h || h->fd < 0)
		return false;
	while (sent < h->nout) {
		uint32_t n = h->nout - sent < REQ_BATCH ? h->nout - sent : REQ_BATCH;
		ssize_t w = send(h->fd, h->out + sent, n * sizeof(*h->out),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR || errno == ENOBUFS))
			break; /* the proxy is busy: again when writable */
		if (w < 0) {
			channel_gone(qr, strerror(errno));
			return false;
		}
		if (pepsal_tl_enabled())
			for (uint32_t k = 0; k < n; k++)
				pepsal_tl_mark(TL_REQ_SENT, &h->out[sent + k].client, 0);
		sent += n;
	}
	memmove(h->out, h->out + sent, (h->nout - sent) * sizeof(*h->out));
	h->nout -= sent;
	return h->nout > 0;
}

/* One answer of the proxy. */
static void take_answer(struct queuer *qr, const struct pepsal_hold_ans *a, uint64_t now)
{
	struct queuer_hold *h = qr->hold;

	for (uint32_t i = h->slot_bucket[slot_hash(h, a->slot)]; i != NIL;
	     i = h->recs[i].slot_next) {
		struct hold_rec *r = &h->recs[i];

		if (r->slot != a->slot || r->gen != a->gen)
			continue;
		pepsal_tl_mark(TL_ANSWER_READ, &r->client, 0);
		if (a->err == 0)
			qr->counts[QC_HOLD_CONNECTED]++;
		else if (a->err == -ECONNREFUSED)
			qr->counts[QC_HOLD_REFUSED]++;
		else
			qr->counts[QC_HOLD_FAILED]++;
		/* an ICMP error from a sender of the client's family (ICMP
		 * type 3 / ICMPv6 type 1: destination unreachable) */
		r->icmp_family = 0;
		if (a->err && a->icmp_family == r->client.family &&
		    a->icmp_type == (r->client.family == AF_INET ? 3 : 1)) {
			r->icmp_family = a->icmp_family;
			r->icmp_type = a->icmp_type;
			r->icmp_code = a->icmp_code;
			memcpy(r->icmp_from, a->icmp_from, sizeof(r->icmp_from));
		}
		decide(qr, i, a->err == 0, now);
		return;
	}
}

/* The proxy's answers; false when the channel is gone. */
static bool read_answers(struct queuer *qr, uint64_t now)
{
	struct queuer_hold *h = qr->hold;
	static struct pepsal_hold_ans a[ANS_BATCH];
	ssize_t n;

	while ((n = recv(h->fd, a, sizeof(a), MSG_DONTWAIT)) != 0) {
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == PEPSAL_HOLD_ANS_V1_SIZE) { /* the first layout: no ICMP details */
			struct pepsal_hold_ans one = { 0 };

			memcpy(&one, a, PEPSAL_HOLD_ANS_V1_SIZE);
			take_answer(qr, &one, now);
			continue;
		}
		if (n % sizeof(a[0]))
			continue;
		for (size_t k = 0; k < (size_t)n / sizeof(a[0]); k++)
			take_answer(qr, &a[k], now);
	}
	return false;
}

void queuer_hold_release_all(struct queuer *qr)
{
	struct queuer_hold *h = qr->hold;
	uint64_t now = pepsal_now_ns();

	if (!h)
		return;
	while (h->held.head != NIL)
		decide(qr, h->held.head, false, now);
}

void queuer_hold_input(struct queuer *qr)
{
	struct queuer_hold *h = qr->hold;

	if (!h || h->fd < 0 || read_answers(qr, pepsal_now_ns()))
		return;
	channel_gone(qr, "was closed");
}

int queuer_hold_expire(struct queuer *qr, uint64_t now)
{
	struct queuer_hold *h = qr->hold;
	uint32_t i;

	if (!h)
		return -1;
	while ((i = h->held.head) != NIL && h->recs[i].until_ns <= now) {
		qr->counts[QC_HOLD_EXPIRED]++;
		decide(qr, i, false, now);
	}
	while ((i = h->tomb.head) != NIL && h->recs[i].until_ns <= now) {
		list_remove(h, &h->tomb, i);
		key_unlink(h, i);
		list_push(h, &h->free, i);
	}
	i = h->held.head;
	return i == NIL ? -1 : (int)((h->recs[i].until_ns - now + 999999) / 1000000);
}

void queuer_hold_fini(struct queuer *qr)
{
	if (!qr->hold)
		return;
	queuer_hold_release_all(qr);
	if (qr->hold->fd >= 0)
		close(qr->hold->fd);
	free(qr->hold->out);
	free(qr->hold->recs);
	free(qr->hold->key_bucket);
	free(qr->hold->slot_bucket);
	free(qr->hold);
	qr->hold = NULL;
}
