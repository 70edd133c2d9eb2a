// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The entries of list and watch: the filters' option parsers, selecting
 * (client, destination, ports, state, age), ordering (slot, bytes, age,
 * idle: ties broken by slot, so the order is always the same) and printing
 * them. Output is meant for scripts as much as for eyes: one line per entry,
 * the columns always in the same order, each as wide as its widest value
 * (an IPv4 table is not as wide as an IPv6 one), --json as documents.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"
#include "rows.h"
#include "tcpinfo.h"

/* ---- option parsers --------------------------------------------------- */

bool rows_parse_prefix(const char *arg, void *dst, char *err, size_t errlen)
{
	struct shm_prefix *p = dst;
	char host[64];
	const char *slash = strchr(arg, '/');
	size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
	unsigned long len;
	char *end;

	if (n >= sizeof(host)) {
		snprintf(err, errlen, "expected an IPv4 or IPv6 address, or ADDR/LEN");
		return false;
	}
	memcpy(host, arg, n);
	host[n] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, host, p->addr) == 1) {
		p->family = AF_INET;
		p->len = 32;
	} else if (inet_pton(AF_INET6, host, p->addr) == 1) {
		p->family = AF_INET6;
		p->len = 128;
	} else {
		snprintf(err, errlen, "expected an IPv4 or IPv6 address, or ADDR/LEN");
		return false;
	}
	if (slash) {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len > p->len) {
			snprintf(err, errlen, "the prefix length must be 0 to %u", p->len);
			return false;
		}
		p->len = (uint8_t)len;
	}
	p->set = true;
	return true;
}

bool rows_parse_states(const char *arg, void *dst, char *err, size_t errlen)
{
	static const enum pepsal_state states[] = {
		PEPSAL_STATE_PENDING, PEPSAL_STATE_ESTABLISHED, PEPSAL_STATE_CLOSING,
	};
	unsigned int *mask = dst, m = 0;
	char buf[128], *save = NULL;

	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "too long");
		return false;
	}
	strcpy(buf, arg);
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			if (strcmp(w, pepsal_state_name(states[i])) == 0)
				break;
		if (i == sizeof(states) / sizeof(states[0])) {
			snprintf(err, errlen, "'%s' is not pending, established or closing", w);
			return false;
		}
		m |= 1u << states[i];
	}
	if (!m) {
		snprintf(err, errlen, "expected pending, established or closing");
		return false;
	}
	*mask = m;
	return true;
}

bool rows_parse_sort(const char *arg, void *dst, char *err, size_t errlen)
{
	static const char *const keys[] = {
		[SHM_SORT_SLOT] = "slot", [SHM_SORT_BYTES] = "bytes",
		[SHM_SORT_AGE] = "age", [SHM_SORT_IDLE] = "idle",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(arg, keys[i]) == 0) {
			*(enum shm_sort *)dst = (enum shm_sort)i;
			return true;
		}
	}
	snprintf(err, errlen, "expected slot, bytes, age or idle");
	return false;
}

bool rows_filter_check(const struct rows_filter *f)
{
	if (f->min_age && f->max_age && f->min_age > f->max_age) {
		fprintf(stderr, PROG ": --min-age is larger than --max-age: no entry can match\n");
		return false;
	}
	return true;
}

/* ---- selecting entries ------------------------------------------------ */

static bool prefix_match(const struct shm_prefix *p, const struct pepsal_endpoint *ep)
{
	unsigned int full = p->len / 8, rest = p->len % 8;

	if (!p->set)
		return true;
	if (ep->family != p->family || memcmp(ep->addr, p->addr, full) != 0)
		return false;
	return !rest || ((ep->addr[full] ^ p->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static bool selected(const struct rows_filter *f, const struct pepsal_entry_view *v,
		     uint64_t now)
{
	uint64_t age = v->syn_ns && v->syn_ns <= now ? now - v->syn_ns : 0;

	return prefix_match(&f->client, &v->client) && prefix_match(&f->dst, &v->dst) &&
	       (!f->client_port || v->client.port == f->client_port) &&
	       (!f->dst_port || v->dst.port == f->dst_port) &&
	       (!f->states || (f->states & (1u << v->state))) &&
	       (!f->min_age || age >= f->min_age) && (!f->max_age || age <= f->max_age);
}

static uint64_t total_bytes(const struct row *r)
{
	return r->v.bytes[PEPSAL_DIR_C2S] + r->v.bytes[PEPSAL_DIR_S2C];
}

/* Larger key first; the slot breaks ties, so the order is always the same. */
static int row_cmp(const void *a, const void *b, void *arg)
{
	const struct row *x = a, *y = b;
	enum shm_sort sort = *(const enum shm_sort *)arg;
	uint64_t kx = 0, ky = 0;

	switch (sort) {
	case SHM_SORT_SLOT:
		break;
	case SHM_SORT_BYTES:
		kx = total_bytes(x);
		ky = total_bytes(y);
		break;
	case SHM_SORT_AGE: /* oldest SYN first: smallest timestamp */
		kx = UINT64_MAX - x->v.syn_ns;
		ky = UINT64_MAX - y->v.syn_ns;
		break;
	case SHM_SORT_IDLE:
		kx = UINT64_MAX - x->v.last_ns;
		ky = UINT64_MAX - y->v.last_ns;
		break;
	}
	if (kx != ky)
		return kx > ky ? -1 : 1;
	return x->v.slot < y->v.slot ? -1 : x->v.slot > y->v.slot;
}

int rows_collect(struct pepsal_table *t, const struct rows_filter *f, uint64_t now,
		 struct rows *rows)
{
	struct pepsal_entry_view v;
	enum shm_sort sort = f->sort;

	rows->n = 0;
	rows->skipped = 0;
	for (uint32_t i = 0; i < pepsal_table_capacity(t); i++) {
		int r = pepsal_table_snapshot(t, i, &v);

		if (r == -ENOENT)
			continue;
		if (r) {
			rows->skipped++;
			continue;
		}
		if (!selected(f, &v, now))
			continue;
		if (rows->n == rows->cap) {
			size_t cap = rows->cap ? rows->cap * 2 : 256;
			struct row *nr = realloc(rows->r, cap * sizeof(*nr));

			if (!nr)
				return -ENOMEM;
			rows->r = nr;
			rows->cap = cap;
		}
		rows->r[rows->n++] = (struct row){ .v = v };
	}
	if (sort != SHM_SORT_SLOT)
		qsort_r(rows->r, rows->n, sizeof(*rows->r), row_cmp, &sort);
	return 0;
}

static size_t shown(const struct rows *rows, const struct rows_filter *f)
{
	return f->limit && f->limit < rows->n ? f->limit : rows->n;
}

/* ---- printing --------------------------------------------------------- */

static void rate_json(const struct row *r, enum pepsal_dir d)
{
	if (r->has_rate)
		printf("%.1f", r->rate[d]);
	else
		printf("null");
}

void rows_json(const struct rows *rows, const struct rows_filter *f, uint64_t now, bool rates)
{
	char c[PEPSAL_ENDPOINT_STRLEN], d[PEPSAL_ENDPOINT_STRLEN];
	char ca[PEPSAL_ENDPOINT_STRLEN], da[PEPSAL_ENDPOINT_STRLEN];

	printf("\"entries\":[");
	for (size_t i = 0; i < shown(rows, f); i++) {
		const struct row *r = &rows->r[i];
		const struct pepsal_entry_view *v = &r->v;

		printf("%s{\"slot\":%u,\"state\":\"%s\",\"family\":\"%s\",\"client\":\"%s\","
		       "\"client_addr\":\"%s\",\"client_port\":%u,\"dst\":\"%s\",\"dst_addr\":\"%s\","
		       "\"dst_port\":%u,\"age_s\":%.3f,\"idle_s\":%.3f,\"bytes_c2s\":%" PRIu64
		       ",\"bytes_s2c\":%" PRIu64, i ? "," : "", v->slot,
		       pepsal_state_name(v->state), v->client.family == AF_INET ? "ipv4" : "ipv6",
		       pepsal_endpoint_format(&v->client, c),
		       pepsal_endpoint_format_addr(&v->client, ca), v->client.port,
		       pepsal_endpoint_format(&v->dst, d), pepsal_endpoint_format_addr(&v->dst, da),
		       v->dst.port, shm_age_s(now, v->syn_ns), shm_age_s(now, v->last_ns),
		       v->bytes[PEPSAL_DIR_C2S], v->bytes[PEPSAL_DIR_S2C]);
		if (rates) {
			printf(",\"bytes_c2s_per_s\":");
			rate_json(r, PEPSAL_DIR_C2S);
			printf(",\"bytes_s2c_per_s\":");
			rate_json(r, PEPSAL_DIR_S2C);
		}
		tcpinfo_json(v, shm_age_s(now, v->syn_ns)); /* the client leg (sock_diag) */
		putchar('}');
	}
	printf("],\"matched\":%zu,\"skipped\":%u", rows->n, rows->skipped);
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* Widths of the columns: the header's, or the widest value shown. */
struct widths {
	int client, dst, bytes[2], rate[2];
};

static void measure(const struct rows *rows, const struct rows_filter *f, bool rates,
		    struct widths *w)
{
	char buf[PEPSAL_ENDPOINT_STRLEN + 32];

	*w = (struct widths){ 6, 20, { 9, 9 }, { 7, 7 } };
	for (size_t i = 0; i < shown(rows, f); i++) {
		const struct row *r = &rows->r[i];

		w->client = max_int(w->client, (int)strlen(pepsal_endpoint_format(&r->v.client, buf)));
		w->dst = max_int(w->dst, (int)strlen(pepsal_endpoint_format(&r->v.dst, buf)));
		for (int d = 0; d < 2; d++) {
			w->bytes[d] = max_int(w->bytes[d],
					      snprintf(buf, sizeof(buf), "%" PRIu64, r->v.bytes[d]));
			if (rates && r->has_rate)
				w->rate[d] = max_int(w->rate[d],
						     snprintf(buf, sizeof(buf), "%.0f", r->rate[d]));
		}
	}
}

void rows_text(const struct rows *rows, const struct rows_filter *f, uint64_t now, bool rates)
{
	char c[PEPSAL_ENDPOINT_STRLEN], d[PEPSAL_ENDPOINT_STRLEN];
	struct widths w;

	measure(rows, f, rates, &w);
	printf("%-12s %-*s %-*s %8s %*s %*s", "STATE", w.client, "CLIENT", w.dst,
	       "ORIGINAL DESTINATION", "AGE(s)", w.bytes[0], "BYTES C>S", w.bytes[1], "BYTES S>C");
	if (rates)
		printf(" %*s %*s", w.rate[0], "B/s C>S", w.rate[1], "B/s S>C");
	putchar('\n');
	for (size_t i = 0; i < shown(rows, f); i++) {
		const struct row *r = &rows->r[i];
		const struct pepsal_entry_view *v = &r->v;

		printf("%-12s %-*s %-*s %8.1f %*" PRIu64 " %*" PRIu64,
		       pepsal_state_name(v->state), w.client, pepsal_endpoint_format(&v->client, c),
		       w.dst, pepsal_endpoint_format(&v->dst, d), shm_age_s(now, v->syn_ns),
		       w.bytes[0], v->bytes[PEPSAL_DIR_C2S], w.bytes[1], v->bytes[PEPSAL_DIR_S2C]);
		if (rates && r->has_rate)
			printf(" %*.0f %*.0f", w.rate[0], r->rate[PEPSAL_DIR_C2S], w.rate[1],
			       r->rate[PEPSAL_DIR_S2C]);
		else if (rates)
			printf(" %*s %*s", w.rate[0], "-", w.rate[1], "-");
		putchar('\n');
		tcpinfo_text(v, shm_age_s(now, v->syn_ns));
	}
	if (shown(rows, f) < rows->n)
		printf("(%zu more not shown: --limit %u)\n", rows->n - shown(rows, f), f->limit);
	if (rows->skipped)
		printf("(%u entries skipped: busy or corrupt)\n", rows->skipped);
}
