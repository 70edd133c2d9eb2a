// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the shared-memory connection table (GLib GTest). */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../shm/layout.h"
#include "../../shm/lock.h"
#include "pepsal_table.h"

#define SEC 1000000000ull

static char shm_name[64];
static char err[512];

static struct pepsal_table *fresh_table(uint32_t capacity)
{
	struct pepsal_table *t = NULL;

	pepsal_table_unlink(shm_name);
	g_assert_cmpint(pepsal_table_create(shm_name, capacity, 0, &t, err, sizeof(err)), ==, 0);
	return t;
}

static void done(struct pepsal_table *t)
{
	g_assert_cmpint(pepsal_table_check(t, err, sizeof(err)), ==, 0);
	pepsal_table_detach(t);
	pepsal_table_unlink(shm_name);
}

static struct pepsal_endpoint ep4(uint32_t host, uint16_t port)
{
	struct pepsal_endpoint e;
	uint8_t a[4] = { 198, 18, (uint8_t)(host >> 8), (uint8_t)host };

	pepsal_endpoint_set(&e, AF_INET, a, port);
	return e;
}

static struct pepsal_endpoint ep6(uint32_t host, uint16_t port)
{
	struct pepsal_endpoint e;
	uint8_t a[16] = { 0xfd, 0, 0, 1 };

	memcpy(a + 12, &host, 4);
	pepsal_endpoint_set(&e, AF_INET6, a, port);
	return e;
}

/* ---- basic operations ---------------------------------------------------- */

static void test_create_attach(void)
{
	struct pepsal_table *t = fresh_table(0), *u = NULL;
	struct pepsal_table_info info;

	g_assert_cmpuint(pepsal_table_capacity(t), ==, PEPSAL_TABLE_DEFAULT_CAPACITY);
	g_assert_cmpint(pepsal_table_create(shm_name, 0, 0, &u, err, sizeof(err)), ==, -EEXIST);
	g_assert_cmpint(pepsal_table_attach(shm_name, true, &u, err, sizeof(err)), ==, 0);
	pepsal_table_get_info(u, &info);
	g_assert_cmpuint(info.capacity, ==, PEPSAL_TABLE_DEFAULT_CAPACITY);
	g_assert_cmpuint(info.version, ==, PEPSAL_TABLE_VERSION);
	/* a read-only attachment cannot write (a valid SYN, so that the
	 * refusal comes from the lock, not from the argument check) */
	struct pepsal_endpoint rc = ep4(1, 1), rd = ep4(2, 80);

	g_assert_cmpint(pepsal_table_record_syn(u, &rc, &rd, 1, NULL), ==, -EROFS);
	g_assert_cmpint(pepsal_table_lookup(u, &rc, NULL, NULL), ==, -EROFS);
	pepsal_table_detach(u);
	done(t);
	g_assert_cmpint(pepsal_table_attach(shm_name, true, &u, err, sizeof(err)), ==, -ENOENT);
	g_assert_nonnull(strstr(err, shm_name));
	g_assert_cmpint(pepsal_table_create("/a/b", 0, 0, &u, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(pepsal_table_create(shm_name, 3, 0, &u, err, sizeof(err)), ==, -EINVAL);
}

static void roundtrip(struct pepsal_endpoint c, struct pepsal_endpoint d)
{
	struct pepsal_table *t = fresh_table(64);
	struct pepsal_entry_view v;
	enum pepsal_record_how how;
	int slot, again;

	slot = pepsal_table_record_syn(t, &c, &d, 5 * SEC, &how);
	g_assert_cmpint(slot, >=, 0);
	g_assert_cmpint(how, ==, PEPSAL_RECORD_INSERTED);
	g_assert_cmpint(pepsal_table_lookup(t, &c, NULL, &v), ==, slot);
	g_assert_true(pepsal_endpoint_equal(&v.client, &c));
	g_assert_true(pepsal_endpoint_equal(&v.dst, &d));
	g_assert_cmpint(v.state, ==, PEPSAL_STATE_PENDING);
	g_assert_cmpuint(v.syn_ns, ==, 5 * SEC);

	/* a retransmitted SYN refreshes the same entry */
	again = pepsal_table_record_syn(t, &c, &d, 6 * SEC, &how);
	g_assert_cmpint(again, ==, slot);
	g_assert_cmpint(how, ==, PEPSAL_RECORD_REFRESHED);
	g_assert_cmpint(pepsal_table_snapshot(t, (uint32_t)slot, &v), ==, 0);
	g_assert_cmpuint(v.syn_ns, ==, 6 * SEC);

	g_assert_cmpint(pepsal_table_holds(t, &c, &d), ==, 1);
	g_assert_cmpint(pepsal_table_holds(t, &c, NULL), ==, 1);

	/* another port of the same host is another key */
	struct pepsal_endpoint c2 = c;

	c2.port++;
	g_assert_cmpint(pepsal_table_lookup(t, &c2, NULL, NULL), ==, -ENOENT);
	g_assert_cmpint(pepsal_table_holds(t, &c2, NULL), ==, 0);
	g_assert_cmpint(pepsal_table_holds(t, &c, &c2), ==, 0);
	g_assert_cmpint(pepsal_table_claim(t, &c, &d, 7 * SEC, &v), ==, slot);
	g_assert_cmpint(v.state, ==, PEPSAL_STATE_ESTABLISHED);
	/* established: not claimable twice, still found by lookup */
	g_assert_cmpint(pepsal_table_claim(t, &c, &d, 7 * SEC, NULL), ==, -ENOENT);
	g_assert_cmpint(pepsal_table_lookup(t, &c, &d, NULL), ==, slot);

	pepsal_table_add_bytes(t, (uint32_t)slot, PEPSAL_DIR_C2S, 100, 8 * SEC);
	pepsal_table_add_bytes(t, (uint32_t)slot, PEPSAL_DIR_S2C, 5000, 9 * SEC);
	g_assert_cmpint(pepsal_table_snapshot(t, (uint32_t)slot, &v), ==, 0);
	g_assert_cmpuint(v.bytes[PEPSAL_DIR_C2S], ==, 100);
	g_assert_cmpuint(v.bytes[PEPSAL_DIR_S2C], ==, 5000);
	g_assert_cmpuint(v.last_ns, ==, 9 * SEC);
	g_assert_cmpint(pepsal_table_set_state(t, (uint32_t)slot, v.gen,
					       PEPSAL_STATE_CLOSING), ==, 0);

	g_assert_cmpint(pepsal_table_remove(t, (uint32_t)slot, v.gen + 1), ==, -ESTALE);
	g_assert_cmpint(pepsal_table_remove(t, (uint32_t)slot, v.gen), ==, 0);
	g_assert_cmpint(pepsal_table_remove(t, (uint32_t)slot, v.gen), ==, -ESTALE);
	g_assert_cmpint(pepsal_table_lookup(t, &c, NULL, NULL), ==, -ENOENT);
	g_assert_cmpint(pepsal_table_holds(t, &c, NULL), ==, 0);
	g_assert_cmpint(pepsal_table_snapshot(t, (uint32_t)slot, &v), ==, -ENOENT);
	done(t);
}

static void test_ipv4(void)
{
	roundtrip(ep4(0x0102, 40000), ep4(0x0202, 80));
}

static void test_ipv6(void)
{
	roundtrip(ep6(2, 40000), ep6(0x200, 443));
}

static void test_families_distinct(void)
{
	struct pepsal_table *t = fresh_table(64);
	struct pepsal_endpoint c4 = ep4(1, 1000), d4 = ep4(2, 80);
	struct pepsal_endpoint c6 = ep6(1, 1000), d6 = ep6(2, 80);
	struct pepsal_entry_view v;

	/* the same address bytes and port in two families are two keys */
	memcpy(c6.addr, c4.addr, 4);
	memset(c6.addr + 4, 0, 12);
	g_assert_cmpint(pepsal_table_record_syn(t, &c4, &d4, 1, NULL), >=, 0);
	g_assert_cmpint(pepsal_table_lookup(t, &c6, NULL, NULL), ==, -ENOENT);
	g_assert_cmpint(pepsal_table_record_syn(t, &c6, &d6, 1, NULL), >=, 0);
	g_assert_cmpint(pepsal_table_lookup(t, &c6, NULL, &v), >=, 0);
	g_assert_cmpint(v.dst.family, ==, AF_INET6);
	/* mixed families are refused */
	g_assert_cmpint(pepsal_table_record_syn(t, &c4, &d6, 1, NULL), ==, -EAFNOSUPPORT);
	done(t);
}

/* One client port toward two servers; NAT gave the second another port. */
static void test_port_remap(void)
{
	struct pepsal_table *t = fresh_table(64);
	struct pepsal_endpoint c = ep4(1, 40000), s1 = ep4(0x201, 80), s2 = ep4(0x202, 80);
	struct pepsal_endpoint seen2 = c;
	struct pepsal_entry_view v;
	int e1, e2;

	e1 = pepsal_table_record_syn(t, &c, &s1, 1 * SEC, NULL);
	e2 = pepsal_table_record_syn(t, &c, &s2, 2 * SEC, NULL);
	g_assert_cmpint(e1, !=, e2);
	seen2.port = 1024;
	/* the remapped connection is accepted first */
	g_assert_cmpint(pepsal_table_claim(t, &seen2, &s2, 3 * SEC, &v), ==, e2);
	g_assert_true(pepsal_endpoint_equal(&v.dst, &s2));
	g_assert_cmpuint(v.client.port, ==, 40000);
	/* the other one still finds its own entry, not the established one */
	g_assert_cmpint(pepsal_table_claim(t, &c, &s1, 3 * SEC, &v), ==, e1);
	g_assert_true(pepsal_endpoint_equal(&v.dst, &s1));
	/* an unknown destination is a miss, not the other connection's entry */
	g_assert_cmpint(pepsal_table_claim(t, &seen2, &s1, 3 * SEC, NULL), ==, -ENOENT);
	done(t);
}

/* ---- a full table ----------------------------------------------------------- */

/* Record N SYNs from HOST, ports PORT0..., to D at NOW (+1 ns each), with
 * ADDR_LIMIT (0: none); each must succeed. */
static void fill(struct pepsal_table *t, uint32_t host, uint16_t port0, uint16_t n,
		 const struct pepsal_endpoint *d, uint64_t now, uint32_t addr_limit)
{
	for (uint16_t i = 0; i < n; i++) {
		struct pepsal_endpoint c = ep4(host, (uint16_t)(port0 + i));

		g_assert_cmpint(pepsal_table_record_syn_limited(t, &c, d, now + i, addr_limit,
								NULL), >=, 0);
	}
}

static void test_full_table(void)
{
	struct pepsal_table *t = fresh_table(32);
	struct pepsal_endpoint d = ep4(0x200, 80), extra = ep4(0x100, 9);
	struct pepsal_table_info info;
	enum pepsal_record_how how;
	struct pepsal_entry_view v;
	int slot;

	fill(t, 1, 1000, 32, &d, SEC, 0);
	/* the first SYN retransmitted: now the youngest */
	g_assert_cmpint(pepsal_table_record_syn(t, &(struct pepsal_endpoint){ 0 }, &d, 1, NULL),
			==, -EAFNOSUPPORT);
	struct pepsal_endpoint oldest = ep4(1, 1000), second = ep4(1, 1001);

	g_assert_cmpint(pepsal_table_record_syn(t, &oldest, &d, 40 * SEC, &how), >=, 0);
	g_assert_cmpint(how, ==, PEPSAL_RECORD_REFRESHED);
	/* full: the oldest pending entry makes room, whatever its age */
	slot = pepsal_table_record_syn(t, &extra, &d, 41 * SEC, &how);
	g_assert_cmpint(slot, >=, 0);
	g_assert_cmpint(how, ==, PEPSAL_RECORD_RECLAIMED);
	g_assert_cmpint(pepsal_table_lookup(t, &second, NULL, NULL), ==, -ENOENT);
	g_assert_cmpint(pepsal_table_lookup(t, &oldest, NULL, NULL), >=, 0);
	pepsal_table_get_info(t, &info);
	g_assert_cmpuint(info.evictions, ==, 1);
	g_assert_cmpuint(info.table_full, ==, 0);
	g_assert_cmpuint(info.pending, ==, 32);
	g_assert_cmpint(pepsal_table_check(t, err, sizeof(err)), ==, 0);

	/* established entries are never reclaimed, however old */
	for (uint16_t i = 0; i < 32; i++) {
		struct pepsal_endpoint c = ep4(1, (uint16_t)(1000 + i));

		if (i != 1)
			g_assert_cmpint(pepsal_table_claim(t, &c, &d, 100 * SEC, &v), >=, 0);
	}
	g_assert_cmpint(pepsal_table_claim(t, &extra, &d, 100 * SEC, &v), >=, 0);
	g_assert_cmpint(pepsal_table_record_syn(t, &(struct pepsal_endpoint){ .family = AF_INET,
		.port = 7 }, &d, 1000 * SEC, NULL), ==, -ENOSPC);
	pepsal_table_get_info(t, &info);
	g_assert_cmpuint(info.table_full, ==, 1);
	g_assert_cmpuint(info.pending, ==, 0);
	for (uint16_t i = 0; i < 32; i++) {
		struct pepsal_endpoint c = ep4(1, (uint16_t)(1000 + i));

		if (i == 1)
			continue;
		g_assert_cmpint(pepsal_table_lookup(t, &c, &d, &v), >=, 0);
		g_assert_cmpint(v.state, ==, PEPSAL_STATE_ESTABLISHED);
	}
	done(t);
}

/* A full table evicts from the heaviest address among the oldest entries. */
static void test_evict_heaviest(void)
{
	struct pepsal_table *t = fresh_table(16);
	struct pepsal_endpoint d = ep4(0x200, 80), lone = ep4(7, 700);
	struct pepsal_entry_view v;

	/* the lone client's SYN is the oldest; a flood of 3 addresses follows */
	g_assert_cmpint(pepsal_table_record_syn(t, &lone, &d, SEC, NULL), >=, 0);
	for (uint16_t i = 0; i < 15; i++) {
		struct pepsal_endpoint c = ep4((uint32_t)(10 + i % 3), (uint16_t)(100 + i));

		g_assert_cmpint(pepsal_table_record_syn(t, &c, &d, 2 * SEC + i, NULL), >=, 0);
	}
	/* 30 more flood SYNs: each takes a flood entry, never the lone one */
	for (uint16_t i = 0; i < 30; i++) {
		struct pepsal_endpoint c = ep4((uint32_t)(10 + i % 3), (uint16_t)(200 + i));
		enum pepsal_record_how how;

		g_assert_cmpint(pepsal_table_record_syn(t, &c, &d, 3 * SEC + i, &how), >=, 0);
		g_assert_cmpint(how, ==, PEPSAL_RECORD_RECLAIMED);
		g_assert_cmpint(pepsal_table_lookup(t, &lone, NULL, NULL), >=, 0);
	}
	g_assert_cmpint(pepsal_table_claim(t, &lone, &d, 4 * SEC, &v), >=, 0);
	done(t);
}

/* One client address holds at most its share; others are not affected. */
static void test_address_limit(void)
{
	struct pepsal_table *t = fresh_table(64);
	struct pepsal_endpoint d = ep4(0x200, 80), other = ep4(2, 5000);
	struct pepsal_table_info info;
	struct pepsal_entry_view v;

	fill(t, 1, 100, 8, &d, SEC, 8);
	struct pepsal_endpoint ninth = ep4(1, 200), first = ep4(1, 100);

	g_assert_cmpint(pepsal_table_address_pending(t, &ninth), ==, 8);
	g_assert_cmpint(pepsal_table_record_syn_limited(t, &ninth, &d, SEC, 8, NULL), ==, -EDQUOT);
	/* a retransmission of a recorded SYN still refreshes */
	g_assert_cmpint(pepsal_table_record_syn_limited(t, &first, &d, 2 * SEC, 8, NULL), >=, 0);
	g_assert_cmpint(pepsal_table_record_syn_limited(t, &other, &d, SEC, 8, NULL), >=, 0);
	/* a claimed entry no longer counts against its address */
	g_assert_cmpint(pepsal_table_claim(t, &first, &d, 3 * SEC, &v), >=, 0);
	g_assert_cmpint(pepsal_table_address_pending(t, &first), ==, 7);
	g_assert_cmpint(pepsal_table_record_syn_limited(t, &ninth, &d, SEC, 8, NULL), >=, 0);
	pepsal_table_get_info(t, &info);
	g_assert_cmpuint(info.address_limited, ==, 1);
	/* without a limit (the proxy's own records) nothing is refused */
	fill(t, 1, 300, 8, &d, SEC, 0);
	g_assert_cmpint(pepsal_table_address_pending(t, &first), ==, 16);
	g_assert_cmpint(pepsal_table_check(t, err, sizeof(err)), ==, 0);
	/* the counts follow removes and collection */
	g_assert_cmpint(pepsal_table_gc(t, 1000 * SEC, 10 * SEC), ==, 17);
	g_assert_cmpint(pepsal_table_address_pending(t, &first), ==, 0);
	g_assert_cmpint(pepsal_table_remove(t, v.slot, v.gen), ==, 0);
	done(t);
}

/* The room the proxy publishes, and the bound on what is marked after it. */
static void test_room(void)
{
	struct pepsal_table *t = fresh_table(64);
	struct pepsal_endpoint d = ep4(0x200, 80);
	struct pepsal_entry_view v;

	g_assert_cmpuint(pepsal_table_room(t), ==, PEPSAL_ROOM_UNPUBLISHED);
	g_assert_true(pepsal_table_room_ok(t));
	pepsal_table_set_room(t, 0);
	g_assert_false(pepsal_table_room_ok(t));
	pepsal_table_set_room(t, 3);
	for (uint16_t p = 0; p < 3; p++) {
		struct pepsal_endpoint c = ep4(1, (uint16_t)(100 + p));

		g_assert_true(pepsal_table_room_ok(t));
		g_assert_cmpint(pepsal_table_record_syn(t, &c, &d, SEC, NULL), >=, 0);
	}
	/* three SYNs on their way for a room of three: no more */
	g_assert_false(pepsal_table_room_ok(t));
	/* the proxy took one and republishes its room */
	struct pepsal_endpoint c0 = ep4(1, 100);

	g_assert_cmpint(pepsal_table_claim(t, &c0, &d, SEC, &v), >=, 0);
	pepsal_table_set_room(t, 2);
	g_assert_true(pepsal_table_room_ok(t));
	g_assert_cmpuint(pepsal_table_room(t), ==, 2);
	done(t);
}

/* A remove that times out on the lock (holder stopped) is not a leak. */
static void test_remove_stopped_holder(void)
{
	struct pepsal_table *t = fresh_table(64);
	struct pepsal_endpoint c = ep4(1, 100), d = ep4(0x200, 80);
	struct pepsal_table_info info;
	struct pepsal_entry_view v;
	int ready[2], status;
	char b;
	pid_t pid;

	g_assert_cmpint(pepsal_table_record_syn(t, &c, &d, SEC, NULL), >=, 0);
	g_assert_cmpint(pepsal_table_claim(t, &c, &d, SEC, &v), >=, 0);
	g_assert_cmpint(pipe(ready), ==, 0);
	pid = fork();
	if (pid == 0) { /* take the lock, say so, and get stopped holding it */
		if (pepsal_table_lock(t) == 0 && write(ready[1], "x", 1) == 1)
			raise(SIGSTOP);
		pepsal_table_unlock(t);
		_exit(0);
	}
	g_assert_cmpint(read(ready[0], &b, 1), ==, 1);
	g_assert_cmpint(waitpid(pid, &status, WUNTRACED), ==, pid);
	g_assert_true(WIFSTOPPED(status));
	/* the lock stays busy past its timeout: deferred, not lost */
	g_assert_cmpint(pepsal_table_remove(t, v.slot, v.gen), ==, 0);
	pepsal_table_get_info(t, &info);
	g_assert_cmpuint(info.deferred, ==, 1);
	g_assert_cmpuint(info.used, ==, 1);
	kill(pid, SIGCONT);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	/* the next lock holder frees it */
	g_assert_cmpint(pepsal_table_lookup(t, &c, NULL, NULL), ==, -ENOENT);
	pepsal_table_get_info(t, &info);
	g_assert_cmpuint(info.used, ==, 0);
	g_assert_cmpuint(info.removes, ==, 1);
	close(ready[0]);
	close(ready[1]);
	done(t);
}

/* Late byte counts of a removed connection do not land on the next one. */
static void test_count_bytes_gen(void)
{
	struct pepsal_table *t = fresh_table(16);
	struct pepsal_endpoint c = ep4(1, 100), c2 = ep4(1, 101), d = ep4(0x200, 80);
	struct pepsal_entry_view v, w;

	pepsal_table_record_syn(t, &c, &d, SEC, NULL);
	g_assert_cmpint(pepsal_table_claim(t, &c, &d, SEC, &v), >=, 0);
	pepsal_table_count_bytes(t, v.slot, v.gen, PEPSAL_DIR_C2S, 10, 2 * SEC);
	g_assert_cmpint(pepsal_table_snapshot(t, v.slot, &w), ==, 0);
	g_assert_cmpuint(w.bytes[PEPSAL_DIR_C2S], ==, 10);
	g_assert_cmpint(pepsal_table_remove(t, v.slot, v.gen), ==, 0);
	g_assert_cmpint(pepsal_table_record_syn(t, &c2, &d, SEC, NULL), ==, (int)v.slot);
	pepsal_table_count_bytes(t, v.slot, v.gen, PEPSAL_DIR_C2S, 99, 3 * SEC);
	g_assert_cmpint(pepsal_table_snapshot(t, v.slot, &w), ==, 0);
	g_assert_cmpuint(w.gen, !=, v.gen);
	g_assert_cmpuint(w.bytes[PEPSAL_DIR_C2S], ==, 0);
	done(t);
}

static void test_gc(void)
{
	struct pepsal_table *t = fresh_table(64);
	struct pepsal_endpoint d = ep4(0x200, 80);
	struct pepsal_endpoint old = ep4(1, 1), young = ep4(1, 2), est = ep4(1, 3);

	pepsal_table_record_syn(t, &old, &d, 1 * SEC, NULL);
	pepsal_table_record_syn(t, &est, &d, 1 * SEC, NULL);
	pepsal_table_record_syn(t, &young, &d, 50 * SEC, NULL);
	g_assert_cmpint(pepsal_table_claim(t, &est, &d, 1 * SEC, NULL), >=, 0);
	g_assert_cmpint(pepsal_table_gc(t, 60 * SEC, 30 * SEC), ==, 1);
	g_assert_cmpint(pepsal_table_lookup(t, &old, NULL, NULL), ==, -ENOENT);
	g_assert_cmpint(pepsal_table_lookup(t, &young, NULL, NULL), >=, 0);
	g_assert_cmpint(pepsal_table_lookup(t, &est, NULL, NULL), >=, 0);
	done(t);
}

/* ---- random operations against a model ------------------------------------ */

struct model_entry {
	struct pepsal_endpoint c, d;
	int slot;
	uint32_t gen;
	uint64_t syn;
	bool established;
};

/* The oldest pending model entry from C's address to D, as claim picks
 * when NAT remapped the port. */
static guint model_remap_match(GArray *model, const struct pepsal_endpoint *c,
			       const struct pepsal_endpoint *d)
{
	guint best = G_MAXUINT;

	for (guint k = 0; k < model->len; k++) {
		struct model_entry *o = &g_array_index(model, struct model_entry, k);

		if (!o->established && pepsal_endpoint_same_addr(&o->c, c) &&
		    pepsal_endpoint_equal(&o->d, d) &&
		    (best == G_MAXUINT ||
		     o->syn < g_array_index(model, struct model_entry, best).syn))
			best = k;
	}
	return best;
}

static gint cmp_model_syn(gconstpointer a, gconstpointer b, gpointer model)
{
	uint64_t x = g_array_index((GArray *)model, struct model_entry, *(const guint *)a).syn;
	uint64_t y = g_array_index((GArray *)model, struct model_entry, *(const guint *)b).syn;

	return x < y ? -1 : x > y;
}

/* The pending model entry the table evicts when full: of the 8 oldest
 * pending ones, the one whose address holds the most pending entries. */
static guint model_oldest_pending(GArray *model)
{
	GArray *pend = g_array_new(FALSE, FALSE, sizeof(guint));
	guint best = G_MAXUINT, best_n = 0;

	for (guint k = 0; k < model->len; k++)
		if (!g_array_index(model, struct model_entry, k).established)
			g_array_append_val(pend, k);
	g_array_sort_with_data(pend, cmp_model_syn, model);
	for (guint w = 0; w < pend->len && w < 8; w++) {
		guint k = g_array_index(pend, guint, w), n = 0;
		struct model_entry *o = &g_array_index(model, struct model_entry, k);

		for (guint j = 0; j < pend->len; j++)
			n += pepsal_endpoint_same_addr(&g_array_index(model, struct model_entry,
					g_array_index(pend, guint, j)).c, &o->c);
		if (n > best_n) {
			best = k;
			best_n = n;
		}
	}
	g_array_free(pend, TRUE);
	return best;
}

static void test_random_model(void)
{
	struct pepsal_table *t = fresh_table(256);
	GRand *rng = g_rand_new_with_seed(20261122);
	GArray *model = g_array_new(FALSE, TRUE, sizeof(struct model_entry));
	struct pepsal_entry_view v;

	for (int op = 0; op < 200000; op++) {
		uint32_t r = g_rand_int_range(rng, 0, 100);
		bool v6 = g_rand_boolean(rng);
		uint16_t port = (uint16_t)g_rand_int_range(rng, 1, 400);
		struct pepsal_endpoint c = v6 ? ep6(7, port) : ep4(7, port);
		struct pepsal_endpoint d = v6 ? ep6(0x300 + port % 3, 80) : ep4(0x300 + port % 3, 80);
		guint i, found = G_MAXUINT;

		for (i = 0; i < model->len; i++) {
			struct model_entry *m = &g_array_index(model, struct model_entry, i);

			if (pepsal_endpoint_equal(&m->c, &c) && pepsal_endpoint_equal(&m->d, &d) &&
			    !m->established)
				found = i;
		}
		if (r < 50) {
			int slot = pepsal_table_record_syn(t, &c, &d, (uint64_t)op, NULL);

			if (found != G_MAXUINT) {
				g_assert_cmpint(slot, ==, g_array_index(model, struct model_entry,
									 found).slot);
				g_array_index(model, struct model_entry, found).syn = (uint64_t)op;
			} else if (model->len < 256 || model_oldest_pending(model) != G_MAXUINT) {
				struct model_entry m = { c, d, slot, 0, (uint64_t)op, false };

				/* full: the oldest pending entry made room */
				if (model->len == 256) {
					guint o = model_oldest_pending(model);

					g_assert_cmpint(slot, ==, g_array_index(model,
							struct model_entry, o).slot);
					g_array_remove_index_fast(model, o);
				}
				g_assert_cmpint(slot, >=, 0);
				pepsal_table_snapshot(t, (uint32_t)slot, &v);
				m.gen = v.gen;
				g_array_append_val(model, m);
			} else {
				g_assert_cmpint(slot, ==, -ENOSPC);
			}
		} else if (r < 75) {
			int slot = pepsal_table_claim(t, &c, &d, (uint64_t)op, &v);

			/* no exact match: the table takes the oldest pending entry
			 * from the same address to the same destination (NAT remap) */
			if (found == G_MAXUINT)
				found = model_remap_match(model, &c, &d);

			if (found == G_MAXUINT) {
				g_assert_cmpint(slot, ==, -ENOENT);
			} else {
				g_assert_cmpint(slot, ==, g_array_index(model, struct model_entry,
									 found).slot);
				g_array_index(model, struct model_entry, found).established = true;
			}
		} else if (model->len) {
			guint k = (guint)g_rand_int_range(rng, 0, (gint32)model->len);
			struct model_entry *m = &g_array_index(model, struct model_entry, k);

			g_assert_cmpint(pepsal_table_remove(t, (uint32_t)m->slot, m->gen), ==, 0);
			g_array_remove_index_fast(model, k);
		}
		if (op % 5000 == 0) {
			struct pepsal_table_info info;

			g_assert_cmpint(pepsal_table_check(t, err, sizeof(err)), ==, 0);
			pepsal_table_get_info(t, &info);
			g_assert_cmpuint(info.used, ==, model->len);
			for (i = 0; i < model->len; i++) {
				struct model_entry *m = &g_array_index(model, struct model_entry, i);

				g_assert_cmpint(pepsal_table_snapshot(t, (uint32_t)m->slot, &v), ==, 0);
				g_assert_true(pepsal_endpoint_equal(&v.client, &m->c));
				g_assert_true(pepsal_endpoint_equal(&v.dst, &m->d));
				g_assert_cmpint(v.state, ==, m->established ?
						PEPSAL_STATE_ESTABLISHED : PEPSAL_STATE_PENDING);
			}
		}
	}
	g_array_free(model, TRUE);
	g_rand_free(rng);
	done(t);
}

/* ---- several processes ---------------------------------------------------- */

/* N record/claim/remove cycles (N < 0: until killed) as HOST; once the
 * first cycle is done, a byte on READY_FD (-1: none). */
static void churn(const char *name, uint32_t host, int n, int ready_fd)
{
	struct pepsal_table *t;
	struct pepsal_endpoint d = ep4(0x200, 80);
	struct pepsal_entry_view v;

	if (pepsal_table_attach(name, false, &t, err, sizeof(err)))
		_exit(3);
	for (int i = 0; n < 0 || i < n; i++) {
		struct pepsal_endpoint c = (i & 1) ? ep6(host, (uint16_t)(i % 50000 + 1)) :
						     ep4(host, (uint16_t)(i % 50000 + 1));

		d.family = c.family;
		if (pepsal_table_record_syn(t, &c, &d, (uint64_t)i, NULL) < 0)
			_exit(4);
		if (pepsal_table_claim(t, &c, &d, (uint64_t)i, &v) < 0)
			_exit(5);
		if (i % 4 != 3 && pepsal_table_remove(t, v.slot, v.gen) < 0)
			_exit(6);
		if (i % 4 == 3 && pepsal_table_gc(t, 0, UINT64_MAX) < 0)
			_exit(7);
		if (i % 4 == 3 && pepsal_table_remove(t, v.slot, v.gen) < 0)
			_exit(8);
		if (i == 0 && ready_fd >= 0 && write(ready_fd, "r", 1) != 1)
			_exit(9);
	}
	pepsal_table_detach(t);
	_exit(0);
}

static void test_two_processes(void)
{
	struct pepsal_table *t = fresh_table(1024);
	struct pepsal_table_info info;
	pid_t a, b;
	int st;

	a = fork();
	if (a == 0)
		churn(shm_name, 1, 20000, -1);
	b = fork();
	if (b == 0)
		churn(shm_name, 2, 20000, -1);
	g_assert_cmpint(waitpid(a, &st, 0), ==, a);
	g_assert_true(WIFEXITED(st));
	g_assert_cmpint(WEXITSTATUS(st), ==, 0);
	g_assert_cmpint(waitpid(b, &st, 0), ==, b);
	g_assert_true(WIFEXITED(st));
	g_assert_cmpint(WEXITSTATUS(st), ==, 0);
	pepsal_table_get_info(t, &info);
	g_assert_cmpuint(info.inserts, ==, 40000);
	g_assert_cmpuint(info.hits, ==, 40000);
	g_assert_cmpuint(info.used, ==, 0);
	done(t);
}

static void test_sigkill_writer(void)
{
	struct pepsal_table *t = fresh_table(4096);
	struct pepsal_endpoint c = ep4(9, 9), d = ep4(0x200, 80);
	struct pepsal_table_info info;
	GRand *rng = g_rand_new_with_seed(42);
	int kills = 300;

	for (int k = 0; k < kills; k++) {
		int ready[2], st;
		pid_t pid;
		char b;

		g_assert_cmpint(pipe(ready), ==, 0);
		pid = fork();
		if (pid == 0) {
			close(ready[0]);
			churn(shm_name, (uint32_t)(100 + k), -1, ready[1]);
		}
		close(ready[1]);
		/* attached and churning: a kill now is a kill of a writer */
		g_assert_cmpint(read(ready[0], &b, 1), ==, 1);
		close(ready[0]);
		/* random moment: the child spends most of its time holding the lock */
		g_usleep((gulong)g_rand_int_range(rng, 100, 3000));
		kill(pid, SIGKILL);
		g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
		g_assert_true(WIFSIGNALED(st));
		if (pepsal_table_check(t, err, sizeof(err)))
			g_error("after kill %d: %s", k, err);
		/* usable: a new entry goes in and comes out */
		c.port = (uint16_t)(k + 1);
		g_assert_cmpint(pepsal_table_record_syn(t, &c, &d, 1, NULL), >=, 0);
		g_assert_cmpint(pepsal_table_lookup(t, &c, &d, NULL), >=, 0);
	}
	pepsal_table_get_info(t, &info);
	g_test_message("%d kills, %" G_GUINT64_FORMAT " recoveries", kills, info.recoveries);
	g_assert_cmpuint(info.recoveries, >, 0);
	g_rand_free(rng);
	done(t);
}

/* ---- corrupt, foreign and truncated segments -------------------------------- */

static void write_raw(const void *buf, size_t len)
{
	int fd;

	pepsal_table_unlink(shm_name);
	fd = shm_open(shm_name, O_RDWR | O_CREAT, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, buf, len), ==, (ssize_t)len);
	close(fd);
}

static void expect_attach_error(int expected, const char *words)
{
	struct pepsal_table *u = NULL;

	g_assert_cmpint(pepsal_table_attach(shm_name, true, &u, err, sizeof(err)), ==, expected);
	g_assert_nonnull(strstr(err, shm_name));
	g_assert_nonnull(strstr(err, words));
}

/* Create a valid table, change it with FN, and return its bytes. */
static GBytes *mutated_table(void (*fn)(struct pepsal_shm_header *h))
{
	struct pepsal_table *t = fresh_table(64);
	GBytes *b;

	if (fn)
		fn(t->hdr);
	b = g_bytes_new(t->hdr, t->map_size);
	pepsal_table_detach(t);
	return b;
}

static void bump_version(struct pepsal_shm_header *h) { h->version++; }
static void bad_capacity(struct pepsal_shm_header *h) { h->capacity = 0xffffffffu; }
static void bad_offset(struct pepsal_shm_header *h) { h->entries_offset += 64; }
static void bad_entry_size(struct pepsal_shm_header *h) { h->entry_size = 64; }

/* A valid table changed by FN must be refused with EXPECTED and WORDS. */
static void expect_mutation_rejected(void (*fn)(struct pepsal_shm_header *h), int expected,
				     const char *words)
{
	GBytes *b = mutated_table(fn);
	gsize len;
	const guint8 *p = g_bytes_get_data(b, &len);

	write_raw(p, len);
	expect_attach_error(expected, words);
	g_bytes_unref(b);
}

static void test_bad_segments(void)
{
	guint8 junk[16384]; /* bigger than a header: refused for its magic */
	GBytes *b;
	gsize len;
	const guint8 *p;

	G_STATIC_ASSERT(sizeof(junk) > sizeof(struct pepsal_shm_header));
	memset(junk, 0x5a, sizeof(junk));
	write_raw(junk, sizeof(junk));
	expect_attach_error(-EPROTO, "not a pepsal");
	write_raw(junk, 10);
	expect_attach_error(-EUCLEAN, "truncated");
	write_raw(junk, 0);
	expect_attach_error(-EUCLEAN, "truncated");

	expect_mutation_rejected(bump_version, -EPROTO, "version");
	expect_mutation_rejected(bad_capacity, -EUCLEAN, "capacity");
	expect_mutation_rejected(bad_offset, -EUCLEAN, "corrupt header");
	expect_mutation_rejected(bad_entry_size, -EUCLEAN, "entry size");

	/* a valid table cut short */
	b = mutated_table(NULL);
	p = g_bytes_get_data(b, &len);
	write_raw(p, len - 128);
	expect_attach_error(-EUCLEAN, "truncated");
	write_raw(p, len);
	{
		struct pepsal_table *u = NULL;

		g_assert_cmpint(pepsal_table_attach(shm_name, true, &u, err, sizeof(err)), ==, 0);
		pepsal_table_detach(u);
	}
	g_bytes_unref(b);
	pepsal_table_unlink(shm_name);
}

/* Garbage in the entries and indexes: readers stay in bounds, the lock
 * holder detects it, and repair makes the table usable again. */
static void test_corrupt_entries(void)
{
	struct pepsal_table *t = fresh_table(64);
	struct pepsal_endpoint c = ep4(1, 1), d = ep4(2, 2);
	struct pepsal_entry_view v;
	GRand *rng = g_rand_new_with_seed(7);

	for (uint16_t i = 0; i < 40; i++) {
		c.port = i;
		pepsal_table_record_syn(t, &c, &d, 1, NULL);
	}
	for (size_t i = 0; i < 64 * sizeof(struct pepsal_shm_entry) / 4; i++)
		if (g_rand_int_range(rng, 0, 4) == 0)
			((uint32_t *)t->entries)[i] = g_rand_int(rng);
	for (uint32_t b = 0; b < t->geo.nbuckets; b++)
		if (g_rand_int_range(rng, 0, 3) == 0)
			t->client_index[b] = g_rand_int(rng);
	for (uint32_t i = 0; i < 64; i++)
		pepsal_table_snapshot(t, i, &v); /* any result, but no crash */
	for (uint16_t i = 0; i < 40; i++) {
		c.port = i;
		pepsal_table_lookup(t, &c, NULL, &v);
	}
	g_assert_cmpint(pepsal_table_check(t, err, sizeof(err)), ==, -EUCLEAN);
	g_assert_cmpint(pepsal_table_lock(t), ==, 0);
	pepsal_table_repair(t);
	pepsal_table_unlock(t);
	g_assert_cmpint(pepsal_table_check(t, err, sizeof(err)), ==, 0);
	c.port = 999;
	pepsal_table_gc(t, 10, 0);
	g_assert_cmpint(pepsal_table_record_syn(t, &c, &d, 1, NULL), >=, 0);
	g_assert_cmpint(pepsal_table_lookup(t, &c, &d, NULL), >=, 0);
	g_rand_free(rng);
	done(t);
}

/* ---- heartbeats and counters ------------------------------------------------ */

static void test_roles(void)
{
	struct pepsal_table *t = fresh_table(64);
	pid_t me = getpid(), parent = getppid();

	g_assert_false(pepsal_table_role_alive(t, PEPSAL_ROLE_PROXY, 10 * SEC, 3 * SEC));
	g_assert_cmpint(pepsal_table_claim_role(t, PEPSAL_ROLE_PROXY, parent, 10 * SEC,
						3 * SEC), ==, 0);
	g_assert_true(pepsal_table_role_alive(t, PEPSAL_ROLE_PROXY, 11 * SEC, 3 * SEC));
	/* a live holder that beat recently keeps the role */
	g_assert_cmpint(pepsal_table_claim_role(t, PEPSAL_ROLE_PROXY, me, 11 * SEC, 3 * SEC),
			==, -EBUSY);
	/* a stale one loses it */
	g_assert_false(pepsal_table_role_alive(t, PEPSAL_ROLE_PROXY, 14 * SEC, 3 * SEC));
	g_assert_cmpint(pepsal_table_claim_role(t, PEPSAL_ROLE_PROXY, me, 14 * SEC, 3 * SEC),
			==, 0);
	pepsal_table_heartbeat(t, PEPSAL_ROLE_PROXY, me, 20 * SEC);
	g_assert_true(pepsal_table_role_alive(t, PEPSAL_ROLE_PROXY, 21 * SEC, 3 * SEC));
	pepsal_table_release_role(t, PEPSAL_ROLE_PROXY, me);
	g_assert_false(pepsal_table_role_alive(t, PEPSAL_ROLE_PROXY, 21 * SEC, 3 * SEC));
	/* the queuer's role is independent */
	g_assert_false(pepsal_table_role_alive(t, PEPSAL_ROLE_QUEUER, 21 * SEC, 3 * SEC));
	done(t);
}

static void test_queues(void)
{
	struct pepsal_table *t = fresh_table(64);
	pid_t me = getpid(), parent = getppid();
	struct pepsal_queue_view q;
	int a, b;

	g_assert_false(pepsal_table_queue_get(t, 0, &q));
	a = pepsal_table_queue_claim(t, 7, parent, 10 * SEC, 3 * SEC);
	b = pepsal_table_queue_claim(t, 8, me, 10 * SEC, 3 * SEC);
	g_assert_cmpint(a, >=, 0);
	g_assert_cmpint(b, >=, 0);
	g_assert_cmpint(a, !=, b);
	/* a live holder of the same queue that beat recently keeps it */
	g_assert_cmpint(pepsal_table_queue_claim(t, 7, me, 11 * SEC, 3 * SEC), ==, -EBUSY);
	pepsal_table_queue_add(t, a, PEPSAL_QUEUE_SYNS, 5);
	pepsal_table_queue_add(t, a, PEPSAL_QUEUE_SYNS, 2);
	g_assert_true(pepsal_table_queue_get(t, a, &q));
	g_assert_cmpuint(q.queue, ==, 7);
	g_assert_cmpint(q.pid, ==, parent);
	g_assert_cmpuint(q.count[PEPSAL_QUEUE_SYNS], ==, 7);
	g_assert_true(pepsal_table_queue_alive(&q, 11 * SEC, 3 * SEC));
	g_assert_false(pepsal_table_queue_alive(&q, 14 * SEC, 3 * SEC));
	/* released (or stale), its successor gets the same slot and counters */
	pepsal_table_queue_release(t, a, parent);
	g_assert_true(pepsal_table_queue_get(t, a, &q));
	g_assert_cmpint(q.pid, ==, 0);
	g_assert_cmpint(pepsal_table_queue_claim(t, 7, me, 12 * SEC, 3 * SEC), ==, a);
	g_assert_true(pepsal_table_queue_get(t, a, &q));
	g_assert_cmpuint(q.count[PEPSAL_QUEUE_SYNS], ==, 7);
	for (int i = 2; i < PEPSAL_MAX_QUEUES; i++)
		g_assert_cmpint(pepsal_table_queue_claim(t, 100 + i, me, 12 * SEC, 3 * SEC), >=, 0);
	g_assert_cmpint(pepsal_table_queue_claim(t, 99, me, 12 * SEC, 3 * SEC), ==, -ENOSPC);
	g_assert_cmpint(pepsal_table_queue_claim(t, 8, me, 12 * SEC, 3 * SEC), ==, b);
	done(t);
}

static void test_counters(void)
{
	struct pepsal_table *t = fresh_table(64);
	char name[PEPSAL_COUNTER_NAME_MAX], buf[40];
	uint64_t v;
	int a, b;

	a = pepsal_table_counter_register(t, "queuer.syns");
	b = pepsal_table_counter_register(t, "proxy.accepted");
	g_assert_cmpint(a, >=, 0);
	g_assert_cmpint(b, !=, a);
	g_assert_cmpint(pepsal_table_counter_register(t, "queuer.syns"), ==, a);
	pepsal_table_counter_add(t, a, 5);
	pepsal_table_counter_add(t, a, 2);
	g_assert_true(pepsal_table_counter_get(t, a, name, &v));
	g_assert_cmpstr(name, ==, "queuer.syns");
	g_assert_cmpuint(v, ==, 7);
	for (int i = 2; i < PEPSAL_MAX_COUNTERS; i++) {
		snprintf(buf, sizeof(buf), "c%d", i);
		g_assert_cmpint(pepsal_table_counter_register(t, buf), ==, i);
	}
	g_assert_cmpint(pepsal_table_counter_register(t, "one.too.many"), ==, -ENOSPC);
	g_assert_false(pepsal_table_counter_get(t, PEPSAL_MAX_COUNTERS, name, &v));
	done(t);
}

/* A failed assertion aborts: the segment goes with it (only the test
 * process itself, not the writers it forks and kills). */
static pid_t main_pid;

static void unlink_on_abort(int sig)
{
	if (getpid() == main_pid)
		shm_unlink(shm_name);
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	main_pid = getpid();
	snprintf(shm_name, sizeof(shm_name), "/pepsal-unit-%d", (int)main_pid);
	signal(SIGABRT, unlink_on_abort);
	g_test_add_func("/table/create-attach", test_create_attach);
	g_test_add_func("/table/ipv4", test_ipv4);
	g_test_add_func("/table/ipv6", test_ipv6);
	g_test_add_func("/table/families-distinct", test_families_distinct);
	g_test_add_func("/table/port-remap", test_port_remap);
	g_test_add_func("/table/full", test_full_table);
	g_test_add_func("/table/gc", test_gc);
	g_test_add_func("/table/address-limit", test_address_limit);
	g_test_add_func("/table/evict-heaviest", test_evict_heaviest);
	g_test_add_func("/table/room", test_room);
	g_test_add_func("/table/remove-stopped-holder", test_remove_stopped_holder);
	g_test_add_func("/table/count-bytes-gen", test_count_bytes_gen);
	g_test_add_func("/table/random-model", test_random_model);
	g_test_add_func("/table/two-processes", test_two_processes);
	g_test_add_func("/table/sigkill-writer", test_sigkill_writer);
	g_test_add_func("/table/bad-segments", test_bad_segments);
	g_test_add_func("/table/corrupt-entries", test_corrupt_entries);
	g_test_add_func("/table/roles", test_roles);
	g_test_add_func("/table/counters", test_counters);
	g_test_add_func("/table/queues", test_queues);
	rc = g_test_run();
	pepsal_table_unlink(shm_name);
	return rc;
}
