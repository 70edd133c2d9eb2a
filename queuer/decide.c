// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One packet in, one verdict out. The verdict is always ACCEPT; only the
 * mark differs. A SYN is recorded in the table and marked (and so
 * redirected to the proxy) only when the proxy's heartbeat is fresh, the
 * proxy has room (pepsal_table_room_ok), its client address holds less
 * than its share of the table, and the record succeeded: any other case
 * leaves it unmarked, routed end to end, unaccelerated but alive, and
 * records nothing that would take a slot from a connection the proxy can
 * serve.
 */
#include <errno.h>
#include <string.h>

#include "parse.h"
#include "pepsal_log.h"
#include "pepsal_timeline.h"
#include "queuer.h"

static const char *const counter_names[QC_COUNT] = {
	PEPSAL_QUEUER_COUNTERS(PEPSAL_CATALOG_NAME)
};

void queuer_address_limit(struct queuer *qr)
{
	uint32_t cap = pepsal_table_capacity(qr->table);

	qr->address_limit = qr->address_share ? cap / qr->address_share : 0;
	if (qr->address_share && !qr->address_limit)
		qr->address_limit = 1;
}

void queuer_counters_register(struct queuer *qr)
{
	if (pepsal_counters_init(&qr->counters, qr->table, counter_names, QC_COUNT))
		pr_warn("table %s has no room for some queuer counters: they will not be shown",
			pepsal_table_name(qr->table));
}

/* Our queue's own counters (the named ones are the sum over every queue). */
static void queue_flush(struct queuer *qr)
{
	static const struct { enum pepsal_queue_counter q; enum queuer_counter a, b; } map[] = {
		{ PEPSAL_QUEUE_PACKETS, QC_PACKETS, QC_COUNT },
		{ PEPSAL_QUEUE_SYNS, QC_SYNS, QC_COUNT },
		{ PEPSAL_QUEUE_RECORDED, QC_RECORDED, QC_REFRESHED },
		{ PEPSAL_QUEUE_MARKED, QC_MARKED, QC_COUNT },
		{ PEPSAL_QUEUE_HELD, QC_HELD, QC_COUNT },
		{ PEPSAL_QUEUE_ENOBUFS, QC_ENOBUFS, QC_COUNT },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		pepsal_table_queue_add(qr->table, qr->queue_slot, map[i].q, qr->counts[map[i].a] +
				       (map[i].b < QC_COUNT ? qr->counts[map[i].b] : 0));
}

void queuer_counters_flush(struct queuer *qr, const struct queuer_nfq_stats *st)
{
	if (st) {
		qr->counts[QC_ENOBUFS] += st->enobufs;
		qr->counts[QC_VERDICT_ERRORS] += st->verdict_errors;
		qr->counts[QC_BAD_MESSAGES] += st->bad_messages;
		qr->counts[QC_VERDICT_BATCHES] += st->batches;
		qr->counts[QC_ENOBUFS] += st->lost;
		qr->counts[QC_QUEUE_FULL] += st->full;
	}
	queue_flush(qr);
	pepsal_counters_flush(&qr->counters, qr->counts);
}

/* ACCEPT without our mark bits (clearing them if something set them). */
static struct queuer_verdict unmarked(const struct queuer *qr, const struct queuer_pkt *pkt)
{
	if (pkt->mark & qr->mark.mask)
		return (struct queuer_verdict){ true, pkt->mark & ~qr->mark.mask, false, false };
	return (struct queuer_verdict){ false, 0, false, false };
}

static void count_parse_failure(struct queuer *qr, enum queuer_parse_result r,
				const struct queuer_parsed *p)
{
	switch (r) {
	case QP_NOT_SYN:
		qr->counts[QC_NOT_SYN]++;
		return;
	case QP_NOT_TCP:
		qr->counts[QC_NOT_TCP]++;
		return;
	case QP_FRAGMENT:
		qr->counts[QC_FRAGMENTS]++;
		return;
	default:
		qr->counts[QC_MALFORMED]++;
		pr_ratelimited(LOG_WARNING, "malformed packet accepted unmarked: %s", p->why);
		return;
	}
}

struct queuer_verdict queuer_decide(void *ctx, const struct queuer_pkt *pkt)
{
	struct queuer *qr = ctx;
	enum pepsal_record_how how = PEPSAL_RECORD_INSERTED;
	struct queuer_parsed p;
	enum queuer_parse_result r;
	struct queuer_verdict v;
	uint64_t now;
	int slot;

	qr->counts[QC_PACKETS]++;
	r = queuer_parse(pkt->data, pkt->data ? pkt->len : 0, pkt->wire_len, &p);
	if (r != QP_SYN) {
		count_parse_failure(qr, r, &p);
		return unmarked(qr, pkt);
	}
	qr->counts[QC_SYNS]++;
	if (pkt->read_ns) {
		if (pkt->queued_ns)
			pepsal_tl_mark(TL_SYN_QUEUED, &p.client, pkt->queued_ns);
		pepsal_tl_mark(TL_QUEUER_READ, &p.client, pkt->read_ns);
	}
	if (queuer_hold_known(qr, pkt, &p, &v))
		return v; /* a retransmission: the same answer */
	now = pepsal_now_ns();
	if (!pepsal_table_role_alive(qr->table, PEPSAL_ROLE_PROXY, now, qr->proxy_timeout_ns)) {
		qr->counts[QC_UNMARKED_PROXY_DOWN]++;
		return unmarked(qr, pkt);
	}
	if (!pepsal_table_room_ok(qr->table)) {
		qr->counts[QC_UNMARKED_PROXY_FULL]++;
		return unmarked(qr, pkt);
	}
	if (queuer_hold_full(qr)) {
		/* as many SYNs held as allowed: the rest go end to end, seeing
		 * exactly what they would without a PEP, until holds end */
		qr->counts[QC_HOLD_FULL]++;
		pr_ratelimited(LOG_WARNING, "as many SYNs held as --hold-max allows: new "
			       "ones pass unaccelerated until their servers answer");
		return unmarked(qr, pkt);
	}
	slot = pepsal_table_record_syn_limited(qr->table, &p.client, &p.dst, now,
					       qr->address_limit, &how);
	if (slot < 0) {
		char c[PEPSAL_ENDPOINT_STRLEN], d[PEPSAL_ENDPOINT_STRLEN];

		if (slot == -EDQUOT) {
			qr->counts[QC_UNMARKED_ADDRESS_SHARE]++;
			pr_ratelimited(LOG_WARNING, "client %s holds its share of table %s "
				       "(%u pending SYNs, a scan?): SYN to %s passes "
				       "unaccelerated", pepsal_endpoint_format(&p.client, c),
				       pepsal_table_name(qr->table), qr->address_limit,
				       pepsal_endpoint_format(&p.dst, d));
		} else if (slot == -ENOSPC) {
			qr->counts[QC_TABLE_FULL]++;
			pr_ratelimited(LOG_WARNING, "table %s is full: SYN %s -> %s passes "
				       "unaccelerated", pepsal_table_name(qr->table),
				       pepsal_endpoint_format(&p.client, c),
				       pepsal_endpoint_format(&p.dst, d));
		} else {
			qr->counts[QC_RECORD_ERRORS]++;
			pr_ratelimited(LOG_ERR, "cannot record SYN %s -> %s: %s",
				       pepsal_endpoint_format(&p.client, c),
				       pepsal_endpoint_format(&p.dst, d), strerror(-slot));
		}
		return unmarked(qr, pkt);
	}
	if (how == PEPSAL_RECORD_REFRESHED) {
		qr->counts[QC_REFRESHED]++;
	} else {
		qr->counts[QC_RECORDED]++;
		if (how == PEPSAL_RECORD_RECLAIMED)
			qr->counts[QC_RECLAIMED]++;
	}
	if (queuer_hold_start(qr, pkt, &p, slot, now))
		return (struct queuer_verdict){ false, 0, true, false };
	qr->counts[QC_MARKED]++;
	pepsal_tl_mark(TL_VERDICT, &p.client, 0);
	if (pepsal_log_verbose()) {
		char c[PEPSAL_ENDPOINT_STRLEN], d[PEPSAL_ENDPOINT_STRLEN];

		pr_debug("SYN %s -> %s recorded in slot %d, marked",
			 pepsal_endpoint_format(&p.client, c), pepsal_endpoint_format(&p.dst, d),
			 slot);
	}
	return (struct queuer_verdict){ true, (pkt->mark & ~qr->mark.mask) | qr->mark.value, false, false };
}
