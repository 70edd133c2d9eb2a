// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-shm: lookups/s and insert+remove pairs/s of the connection table at
 * 50 % and 90 % load, one thread, medians of 5 runs; a process-local GLib
 * GHashTable over the same keys is measured in the same run as the peer.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pepsal_table.h"

#define RUNS 5
#define LOOKUPS 2000000
#define PAIRS 500000

static struct pepsal_endpoint key(uint32_t i, bool v6)
{
	struct pepsal_endpoint e;
	uint8_t a[16] = { 0xfd, 0, 0, 1 };

	if (v6) {
		memcpy(a + 8, &i, 4);
		pepsal_endpoint_set(&e, AF_INET6, a, (uint16_t)(1024 + i % 60000));
	} else {
		uint8_t a4[4] = { 198, 18, (uint8_t)(i >> 16), (uint8_t)(i >> 8) };

		pepsal_endpoint_set(&e, AF_INET, a4, (uint16_t)(1024 + i % 60000));
	}
	return e;
}

static double now_s(void)
{
	return (double)pepsal_now_ns() / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(double), cmp_double);
	return v[RUNS / 2];
}

static guint ep_hash(gconstpointer p)
{
	const struct pepsal_endpoint *e = p;

	return g_int_hash(e->addr) ^ g_int_hash(e->addr + 12) ^ e->port ^ e->family;
}

static gboolean ep_equal(gconstpointer a, gconstpointer b)
{
	return pepsal_endpoint_equal(a, b);
}

static void bench(uint32_t capacity, unsigned int load_pct)
{
	char name[64], err[512];
	struct pepsal_table *t;
	struct pepsal_endpoint dst, *keys;
	uint32_t n = capacity * load_pct / 100;
	double lk[RUNS], ins[RUNS], gh[RUNS];
	GHashTable *peer = g_hash_table_new(ep_hash, ep_equal);
	GRand *rng = g_rand_new_with_seed(1);
	uint32_t *order = g_new(uint32_t, LOOKUPS);
	volatile int sink = 0;

	snprintf(name, sizeof(name), "/pepsal-bench-%d", (int)getpid());
	pepsal_table_unlink(name);
	if (pepsal_table_create(name, capacity, 0, &t, err, sizeof(err))) {
		fprintf(stderr, "bench-shm: %s\n", err);
		exit(1);
	}
	pepsal_endpoint_parse(&dst, "198.19.0.1:80");
	keys = g_new(struct pepsal_endpoint, n);
	for (uint32_t i = 0; i < n; i++) {
		struct pepsal_endpoint d = dst;

		keys[i] = key(i * 2654435761u, i & 1);
		if (keys[i].family == AF_INET6)
			pepsal_endpoint_parse(&d, "[fd00:2::1]:80");
		if (pepsal_table_record_syn(t, &keys[i], &d, 1, NULL) < 0) {
			fprintf(stderr, "bench-shm: fill failed at %u\n", i);
			exit(1);
		}
		g_hash_table_insert(peer, &keys[i], &keys[i]);
	}
	for (uint32_t i = 0; i < LOOKUPS; i++)
		order[i] = (uint32_t)g_rand_int_range(rng, 0, (gint32)n);

	for (int r = 0; r < RUNS; r++) {
		double t0 = now_s();

		for (uint32_t i = 0; i < LOOKUPS; i++)
			sink += pepsal_table_lookup(t, &keys[order[i]], NULL, NULL);
		lk[r] = LOOKUPS / (now_s() - t0);

		t0 = now_s();
		for (uint32_t i = 0; i < LOOKUPS; i++)
			sink += g_hash_table_lookup(peer, &keys[order[i]]) != NULL;
		gh[r] = LOOKUPS / (now_s() - t0);

		t0 = now_s();
		for (uint32_t i = 0; i < PAIRS; i++) {
			struct pepsal_endpoint c = key(0x80000000u + i, i & 1);
			struct pepsal_endpoint d = dst;
			struct pepsal_entry_view v;

			if (c.family == AF_INET6)
				pepsal_endpoint_parse(&d, "[fd00:2::1]:80");
			pepsal_table_record_syn(t, &c, &d, 2, NULL);
			pepsal_table_claim(t, &c, &d, 2, &v);
			pepsal_table_remove(t, v.slot, v.gen);
		}
		ins[r] = PAIRS / (now_s() - t0);
	}
	printf("| %u | %u %% | %.2f M/s | %.2f M/s | %.2f | %.2f M/s |\n", capacity, load_pct,
	       median(lk) / 1e6, median(gh) / 1e6, median(lk) / median(gh),
	       median(ins) / 1e6);
	(void)sink;
	g_free(order);
	g_free(keys);
	g_rand_free(rng);
	g_hash_table_destroy(peer);
	pepsal_table_detach(t);
	pepsal_table_unlink(name);
}

int main(void)
{
	printf("| capacity | load | table lookups | GHashTable lookups (peer) | ratio | "
	       "insert+claim+remove |\n|---|---|---|---|---|---|\n");
	bench(PEPSAL_TABLE_DEFAULT_CAPACITY, 50);
	bench(PEPSAL_TABLE_DEFAULT_CAPACITY, 90);
	bench(65536, 50);
	bench(65536, 90);
	return 0;
}
