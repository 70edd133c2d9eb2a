// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-shm list and watch: the entries that pass the filters (client,
 * destination, ports, state, age), in the order asked (slot, bytes, age,
 * idle), or only how many there are; watch adds the byte rate of each entry
 * and of the counters between two refreshes.
 *
 * Output is meant for scripts as much as for eyes: one line per entry with
 * fixed columns, ties in any order broken by slot, --json as documents.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pepsal_opts.h"
#include "pepsal_table.h"
#include "shm-cli.h"
#include "tcpinfo.h"

/* ---- option parsers --------------------------------------------------- */

bool shm_parse_prefix(const char *arg, void *dst, char *err, size_t errlen)
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

bool shm_parse_states(const char *arg, void *dst, char *err, size_t errlen)
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

bool shm_parse_sort(const char *arg, void *dst, char *err, size_t errlen)
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

/* ---- selecting entries ------------------------------------------------ */

struct row {
	struct pepsal_entry_view v;
	bool has_rate;        /* the same connection was seen at the last refresh */
	double rate[2];       /* bytes/s, indexed by enum pepsal_dir */
};

struct rows {
	struct row *r;
	size_t n, cap;
	unsigned int skipped; /* busy or corrupt entries */
};

static bool prefix_match(const struct shm_prefix *p, const struct pepsal_endpoint *ep)
{
	unsigned int full = p->len / 8, rest = p->len % 8;

	if (!p->set)
		return true;
	if (ep->family != p->family || memcmp(ep->addr, p->addr, full) != 0)
		return false;
	return !rest || ((ep->addr[full] ^ p->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static bool selected(const struct pepsal_entry_view *v, uint64_t now)
{
	uint64_t age = v->syn_ns && v->syn_ns <= now ? now - v->syn_ns : 0;

	return prefix_match(&opt.client, &v->client) && prefix_match(&opt.dst, &v->dst) &&
	       (!opt.client_port || v->client.port == opt.client_port) &&
	       (!opt.dst_port || v->dst.port == opt.dst_port) &&
	       (!opt.states || (opt.states & (1u << v->state))) &&
	       (!opt.min_age || age >= opt.min_age) && (!opt.max_age || age <= opt.max_age);
}

static uint64_t total_bytes(const struct row *r)
{
	return r->v.bytes[PEPSAL_DIR_C2S] + r->v.bytes[PEPSAL_DIR_S2C];
}

/* Larger key first; the slot breaks ties, so the order is always the same. */
static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	uint64_t kx = 0, ky = 0;

	switch (opt.sort) {
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

/* Read every entry that passes the filters into ROWS, sorted. */
static int collect(struct pepsal_table *t, uint64_t now, struct rows *rows)
{
	struct pepsal_entry_view v;

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
		if (!selected(&v, now))
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
	if (opt.sort != SHM_SORT_SLOT)
		qsort(rows->r, rows->n, sizeof(*rows->r), row_cmp);
	return 0;
}

static size_t shown(const struct rows *rows)
{
	return opt.limit && opt.limit < rows->n ? opt.limit : rows->n;
}

/* ---- printing --------------------------------------------------------- */

static void rate_json(const struct row *r, enum pepsal_dir d)
{
	if (r->has_rate)
		printf("%.1f", r->rate[d]);
	else
		printf("null");
}

static void rows_json(const struct rows *rows, uint64_t now, bool rates)
{
	char c[PEPSAL_ENDPOINT_STRLEN], d[PEPSAL_ENDPOINT_STRLEN];
	char ca[PEPSAL_ENDPOINT_STRLEN], da[PEPSAL_ENDPOINT_STRLEN];

	printf("\"entries\":[");
	for (size_t i = 0; i < shown(rows); i++) {
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

static void rows_text(const struct rows *rows, uint64_t now, bool rates)
{
	char c[PEPSAL_ENDPOINT_STRLEN], d[PEPSAL_ENDPOINT_STRLEN];

	printf("%-12s %-46s %-46s %8s %14s %14s", "STATE", "CLIENT", "ORIGINAL DESTINATION",
	       "AGE(s)", "BYTES C>S", "BYTES S>C");
	printf(rates ? " %12s %12s\n" : "\n", "B/s C>S", "B/s S>C");
	for (size_t i = 0; i < shown(rows); i++) {
		const struct row *r = &rows->r[i];
		const struct pepsal_entry_view *v = &r->v;

		printf("%-12s %-46s %-46s %8.1f %14" PRIu64 " %14" PRIu64,
		       pepsal_state_name(v->state), pepsal_endpoint_format(&v->client, c),
		       pepsal_endpoint_format(&v->dst, d), shm_age_s(now, v->syn_ns),
		       v->bytes[PEPSAL_DIR_C2S], v->bytes[PEPSAL_DIR_S2C]);
		if (!rates)
			putchar('\n');
		else if (r->has_rate)
			printf(" %12.0f %12.0f\n", r->rate[PEPSAL_DIR_C2S], r->rate[PEPSAL_DIR_S2C]);
		else
			printf(" %12s %12s\n", "-", "-");
		tcpinfo_text(v, shm_age_s(now, v->syn_ns));
	}
	if (shown(rows) < rows->n)
		printf("(%zu more not shown: --limit %u)\n", rows->n - shown(rows), opt.limit);
	if (rows->skipped)
		printf("(%u entries skipped: busy or corrupt)\n", rows->skipped);
}

int shm_cmd_list(struct pepsal_table *t)
{
	uint64_t now = pepsal_now_ns();
	struct rows rows = { 0 };
	int r;

	tcpinfo_refresh();
	r = collect(t, now, &rows);

	if (r) {
		fprintf(stderr, "pepsal-shm: %s\n", strerror(-r));
		free(rows.r);
		return r;
	}
	if (opt.count_only && opt.json) {
		printf("{\"table\":");
		shm_json_string(stdout, pepsal_table_name(t));
		printf(",\"count\":%zu,\"skipped\":%u}\n", rows.n, rows.skipped);
	} else if (opt.count_only)
		printf("%zu\n", rows.n);
	else if (opt.json) {
		printf("{\"table\":");
		shm_json_string(stdout, pepsal_table_name(t));
		putchar(',');
		rows_json(&rows, now, false);
		printf("}\n");
	} else {
		rows_text(&rows, now, false);
	}
	free(rows.r);
	return 0;
}

/* ---- watch -------------------------------------------------------------- */

/* What the last refresh saw, to compute rates. */
struct prev {
	uint64_t at;                  /* 0: no refresh yet */
	uint32_t *gen;                /* per slot: generation + 1, 0 = not seen */
	uint64_t (*bytes)[2];         /* per slot */
	uint64_t counter[PEPSAL_MAX_COUNTERS];
	int ncounters;
	uint64_t inserts;
};

/* Rates of the rows seen at the last refresh too (same slot, same
 * generation); then remember this refresh for the next one. */
static void add_rates(struct pepsal_table *t, struct rows *rows, struct prev *p, uint64_t now,
		      double sum[2])
{
	double dt = p->at ? (double)(now - p->at) / 1e9 : 0;

	sum[0] = sum[1] = 0;
	for (size_t i = 0; i < rows->n; i++) {
		struct row *r = &rows->r[i];
		uint32_t s = r->v.slot;

		r->has_rate = dt > 0 && p->gen[s] == r->v.gen + 1;
		for (int d = 0; d < 2; d++) {
			if (r->has_rate) {
				uint64_t was = p->bytes[s][d];

				r->rate[d] = r->v.bytes[d] > was ?
					     (double)(r->v.bytes[d] - was) / dt : 0.0;
				sum[d] += r->rate[d];
			}
			p->bytes[s][d] = r->v.bytes[d];
		}
	}
	memset(p->gen, 0, pepsal_table_capacity(t) * sizeof(*p->gen));
	for (size_t i = 0; i < rows->n; i++)
		p->gen[rows->r[i].v.slot] = rows->r[i].v.gen + 1;
}

int shm_cmd_watch(struct pepsal_table *t)
{
	bool tty = isatty(STDOUT_FILENO) && !opt.json;
	uint32_t cap = pepsal_table_capacity(t);
	struct prev p = { .gen = calloc(cap, sizeof(*p.gen)),
			  .bytes = calloc(cap, sizeof(*p.bytes)) };
	struct rows rows = { 0 };
	int ret = 0;

	if (!p.gen || !p.bytes) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t n = 0; !opt.count || n < opt.count; n++) {
		struct pepsal_table_info in;
		char name[PEPSAL_COUNTER_NAME_MAX];
		double dt;
		uint64_t now, v;
		double sum[2];

		if (n)
			poll(NULL, 0, (int)(opt.interval / 1000000));
		now = pepsal_now_ns();
		dt = p.at ? (double)(now - p.at) / 1e9 : 0;
		tcpinfo_refresh();
		ret = collect(t, now, &rows);
		if (ret)
			goto out;
		add_rates(t, &rows, &p, now, sum);
		pepsal_table_get_info(t, &in);
		if (tty)
			printf("\033[H\033[2J");
		if (opt.json) {
			printf("{\"stats\":");
			shm_print_stats_json(stdout, t, now);
			printf(",\"rates\":");
			if (!dt) {
				printf("null");
			} else {
				printf("{\"interval_s\":%.3f,\"bytes_c2s_per_s\":%.1f,"
				       "\"bytes_s2c_per_s\":%.1f,\"inserts_per_s\":%.1f,\"counters\":{",
				       dt, sum[0], sum[1], (double)(in.inserts - p.inserts) / dt);
				for (int i = 0; pepsal_table_counter_get(t, i, name, &v); i++) {
					if (i)
						putchar(',');
					shm_json_string(stdout, name);
					printf(":%.1f", i < p.ncounters ?
					       (double)(v - p.counter[i]) / dt : 0.0);
				}
				printf("}}");
			}
			putchar(',');
			rows_json(&rows, now, true);
			printf("}\n");
		} else {
			shm_cmd_stats(t);
			if (dt) {
				printf("  rates over %.1f s: %.0f B/s client to server, %.0f B/s server "
				       "to client, %.1f inserts/s\n", dt, sum[0], sum[1],
				       (double)(in.inserts - p.inserts) / dt);
				for (int i = 0; pepsal_table_counter_get(t, i, name, &v); i++)
					if (i < p.ncounters && v != p.counter[i])
						printf("  %-30s %+.1f/s\n", shm_printable(name),
						       (double)(v - p.counter[i]) / dt);
			}
			putchar('\n');
			rows_text(&rows, now, true);
		}
		fflush(stdout);
		p.at = now;
		p.inserts = in.inserts;
		for (p.ncounters = 0; p.ncounters < PEPSAL_MAX_COUNTERS &&
		     pepsal_table_counter_get(t, p.ncounters, name, &v); p.ncounters++)
			p.counter[p.ncounters] = v;
	}
out:
	if (ret)
		fprintf(stderr, "pepsal-shm: %s\n", strerror(-ret));
	free(rows.r);
	free(p.gen);
	free(p.bytes);
	return ret;
}
