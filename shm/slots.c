// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The building blocks of the table's entries (slots.h): hashing, the two
 * hash chains, the bitmap of used slots, the FIFO of pending entries and
 * the per-address counts of pending entries.
 *
 * Two hash indexes chain the entries: by client endpoint (address, port),
 * the key of every ordinary lookup, and by flow (client address, original
 * destination), which finds the entry of a connection whose source port NAT
 * remapped on its way to the proxy. Buckets hold slot+1 so that a zeroed
 * segment is an empty index. Chains, the pending list and the address
 * counts are derived data: repair (lock.c) rebuilds them from the entries.
 *
 * The pending list is doubly linked and ordered by the time of the last
 * SYN (a new or refreshed entry goes to the tail, or as far back as its
 * backdated SYN requires), so the oldest pending entry is its head: garbage collection and eviction cost O(1) per entry, never a
 * scan of the table under the lock the proxy needs.
 *
 * Write order, so that repair can tell a complete entry from a torn one:
 * allocate (bitmap bit), seq odd, fields, seq even, link into chains;
 * unlink, seq odd, clear, seq even, free the bit.
 */
#include <errno.h>

#include "slots.h"

/* ---- hashing ------------------------------------------------------------ */

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline uint64_t hash_addr(uint64_t h, uint8_t family, const uint8_t *addr)
{
	uint64_t w[2];

	if (family == AF_INET) {
		uint32_t v4;

		memcpy(&v4, addr, 4);
		return mix64(h ^ v4 ^ ((uint64_t)family << 40));
	}
	memcpy(w, addr, 16);
	return mix64(mix64(h ^ w[0] ^ ((uint64_t)family << 40)) ^ w[1]);
}

uint32_t slots_client_bucket(const struct pepsal_table *t, uint8_t family,
			     const uint8_t *addr, uint16_t port)
{
	uint64_t h = hash_addr(t->hdr->hash_seed[0], family, addr);

	return (uint32_t)mix64(h ^ port) & (t->geo.nbuckets - 1);
}

uint32_t slots_flow_bucket(const struct pepsal_table *t, uint8_t family,
			   const uint8_t *caddr, const uint8_t *daddr, uint16_t dport)
{
	uint64_t h = hash_addr(t->hdr->hash_seed[1], family, caddr);

	h = hash_addr(h, family, daddr);
	return (uint32_t)mix64(h ^ dport) & (t->geo.nbuckets - 1);
}

static uint32_t addr_home(const struct pepsal_table *t, uint8_t family, const uint8_t *addr)
{
	return (uint32_t)hash_addr(t->hdr->hash_seed[0] ^ t->hdr->hash_seed[1], family, addr) &
	       (t->geo.addr_slots - 1);
}

/* ---- bitmap and views ---------------------------------------------------- */

void slots_mark(struct pepsal_table *t, uint32_t i, bool used)
{
	uint64_t bit = 1ull << (i % 64);
	uint64_t w = __atomic_load_n(&t->bitmap[i / 64], __ATOMIC_RELAXED);

	/* only lock holders change the bitmap */
	__atomic_store_n(&t->bitmap[i / 64], used ? w | bit : w & ~bit, __ATOMIC_RELEASE);
}

void slots_to_view(uint32_t slot, const struct pepsal_shm_entry *e,
		   struct pepsal_entry_view *v)
{
	v->slot = slot;
	v->gen = e->gen;
	v->state = (enum pepsal_state)e->state;
	pepsal_endpoint_set(&v->client, e->family, e->client_addr, e->client_port);
	pepsal_endpoint_set(&v->dst, e->family, e->dst_addr, e->dst_port);
	v->syn_ns = e->syn_ns;
	v->last_ns = atomic_load_explicit(&e->last_ns, memory_order_relaxed);
	v->bytes[0] = atomic_load_explicit(&e->bytes[0], memory_order_relaxed);
	v->bytes[1] = atomic_load_explicit(&e->bytes[1], memory_order_relaxed);
}

/* ---- chains -------------------------------------------------------------- */

void slots_link(struct pepsal_table *t, uint32_t slot)
{
	struct pepsal_shm_entry *e = &t->entries[slot];
	uint32_t cb = slots_client_bucket(t, e->family, e->client_addr, e->client_port);
	uint32_t fb = slots_flow_bucket(t, e->family, e->client_addr, e->dst_addr, e->dst_port);

	e->next_client = t->client_index[cb];
	t->client_index[cb] = slot + 1;
	e->next_flow = t->flow_index[fb];
	t->flow_index[fb] = slot + 1;
}

/* Remove SLOT from the chain starting at *HEAD; false if it is not there. */
static bool unlink_from(struct pepsal_table *t, uint32_t *head, uint32_t slot, bool flow)
{
	uint32_t *prev = head;
	uint32_t steps = 0;

	while (*prev && *prev <= t->geo.capacity && steps++ <= t->geo.capacity) {
		struct pepsal_shm_entry *e = &t->entries[*prev - 1];
		uint32_t *next = flow ? &e->next_flow : &e->next_client;

		if (*prev == slot + 1) {
			*prev = *next;
			*next = 0;
			return true;
		}
		prev = next;
	}
	return false;
}

int slots_alloc(struct pepsal_table *t)
{
	uint32_t words = t->geo.bitmap_words;
	uint32_t start = t->hdr->alloc_hint % words;

	for (uint32_t n = 0; n < words; n++) {
		uint32_t w = (start + n) % words;
		uint64_t v = __atomic_load_n(&t->bitmap[w], __ATOMIC_RELAXED);

		if (w == words - 1 && t->geo.capacity % 64)
			v |= ~0ull << (t->geo.capacity % 64); /* past the end */
		if (v != ~0ull) {
			uint32_t slot = w * 64 + (uint32_t)__builtin_ctzll(~v);

			t->hdr->alloc_hint = w;
			slots_mark(t, slot, true);
			atomic_fetch_add(&t->hdr->used, 1);
			return (int)slot;
		}
	}
	return -ENOSPC;
}

bool slots_free(struct pepsal_table *t, uint32_t slot)
{
	struct pepsal_shm_entry *e = &t->entries[slot];
	bool ok;

	if (e->state == PEPSAL_STATE_PENDING)
		slots_pending_del(t, slot);
	ok = unlink_from(t, &t->client_index[slots_client_bucket(t, e->family, e->client_addr,
								 e->client_port)], slot, false);
	ok &= unlink_from(t, &t->flow_index[slots_flow_bucket(t, e->family, e->client_addr,
							      e->dst_addr, e->dst_port)],
			  slot, true);
	write_begin(e);
	e->state = PEPSAL_STATE_FREE;
	e->family = 0;
	e->client_port = e->dst_port = 0;
	memset(e->client_addr, 0, sizeof(e->client_addr));
	memset(e->dst_addr, 0, sizeof(e->dst_addr));
	e->syn_ns = 0;
	atomic_store_explicit(&e->last_ns, 0, memory_order_relaxed);
	atomic_store_explicit(&e->bytes[0], 0, memory_order_relaxed);
	atomic_store_explicit(&e->bytes[1], 0, memory_order_relaxed);
	write_end(e);
	slots_mark(t, slot, false);
	atomic_fetch_sub(&t->hdr->used, 1);
	return ok;
}

/* ---- per-address counts (open addressing, linear probing) ---------------- */

static bool addr_is(const struct pepsal_shm_addr *a, uint8_t family, const uint8_t *addr)
{
	return a->count && a->family == family && memcmp(a->addr, addr, addr_len(family)) == 0;
}

/* The slot holding ADDR, or the free slot where it would go. */
static uint32_t addr_find(const struct pepsal_table *t, uint8_t family, const uint8_t *addr)
{
	uint32_t mask = t->geo.addr_slots - 1, i = addr_home(t, family, addr);

	/* at most one address per entry, and twice as many slots: never full */
	for (uint32_t n = 0; n <= mask; n++, i = (i + 1) & mask)
		if (!t->addrs[i].count || addr_is(&t->addrs[i], family, addr))
			return i;
	return UINT32_MAX;
}

static void addr_inc(struct pepsal_table *t, uint8_t family, const uint8_t *addr)
{
	uint32_t i = addr_find(t, family, addr);
	struct pepsal_shm_addr *a;

	if (i == UINT32_MAX)
		return;
	a = &t->addrs[i];
	if (!a->count) {
		memset(a, 0, sizeof(*a));
		a->family = family;
		memcpy(a->addr, addr, addr_len(family));
	}
	a->count++;
}

/* Backward-shift deletion keeps every probe sequence without holes. */
static void addr_dec(struct pepsal_table *t, uint8_t family, const uint8_t *addr)
{
	uint32_t mask = t->geo.addr_slots - 1, i = addr_find(t, family, addr), j;

	if (i == UINT32_MAX || !t->addrs[i].count || --t->addrs[i].count)
		return;
	for (j = i;;) {
		uint32_t k;

		j = (j + 1) & mask;
		if (!t->addrs[j].count)
			break;
		k = addr_home(t, t->addrs[j].family, t->addrs[j].addr);
		/* leave J where it is if its home lies cyclically in (I, J] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->addrs[i] = t->addrs[j];
		i = j;
	}
	memset(&t->addrs[i], 0, sizeof(t->addrs[i]));
}

uint32_t slots_addr_count(const struct pepsal_table *t, uint8_t family, const uint8_t *addr)
{
	uint32_t i = addr_find(t, family, addr);

	return i == UINT32_MAX ? 0 : t->addrs[i].count;
}

/* ---- the pending FIFO ------------------------------------------------------ */

void slots_pending_add(struct pepsal_table *t, uint32_t slot)
{
	struct pepsal_shm_header *h = t->hdr;
	struct pepsal_shm_entry *e = &t->entries[slot];
	uint32_t prev = h->pending_tail, cap = t->geo.capacity, steps = 0;

	/* after the last entry whose SYN is not younger: the tail itself when
	 * the callers share one clock, a few steps back for a backdated SYN */
	while (prev && prev <= cap && t->entries[prev - 1].syn_ns > e->syn_ns &&
	       steps++ < cap)
		prev = t->entries[prev - 1].prev_pending;
	if (prev > cap)
		prev = 0;
	e->prev_pending = prev;
	e->next_pending = prev ? t->entries[prev - 1].next_pending : h->pending_head;
	if (prev)
		t->entries[prev - 1].next_pending = slot + 1;
	else
		h->pending_head = slot + 1;
	if (e->next_pending && e->next_pending <= cap)
		t->entries[e->next_pending - 1].prev_pending = slot + 1;
	else
		h->pending_tail = slot + 1;
	atomic_store_explicit(&h->pending, atomic_load_explicit(&h->pending,
				memory_order_relaxed) + 1, memory_order_relaxed);
	addr_inc(t, e->family, e->client_addr);
}

void slots_pending_del(struct pepsal_table *t, uint32_t slot)
{
	struct pepsal_shm_header *h = t->hdr;
	struct pepsal_shm_entry *e = &t->entries[slot];
	uint32_t cap = t->geo.capacity;

	if (e->prev_pending && e->prev_pending <= cap)
		t->entries[e->prev_pending - 1].next_pending = e->next_pending;
	else if (h->pending_head == slot + 1)
		h->pending_head = e->next_pending;
	if (e->next_pending && e->next_pending <= cap)
		t->entries[e->next_pending - 1].prev_pending = e->prev_pending;
	else if (h->pending_tail == slot + 1)
		h->pending_tail = e->prev_pending;
	e->next_pending = e->prev_pending = 0;
	if (atomic_load_explicit(&h->pending, memory_order_relaxed))
		atomic_store_explicit(&h->pending, atomic_load_explicit(&h->pending,
					memory_order_relaxed) - 1, memory_order_relaxed);
	addr_dec(t, e->family, e->client_addr);
}

void slots_set_state(struct pepsal_table *t, uint32_t slot, uint8_t state)
{
	struct pepsal_shm_entry *e = &t->entries[slot];
	uint8_t old = e->state;

	if (old == PEPSAL_STATE_PENDING && state != PEPSAL_STATE_PENDING)
		slots_pending_del(t, slot);
	write_begin(e);
	e->state = state;
	write_end(e);
	if (old != PEPSAL_STATE_PENDING && state == PEPSAL_STATE_PENDING)
		slots_pending_add(t, slot);
}

void slots_pending_reset(struct pepsal_table *t)
{
	memset(t->addrs, 0, sizeof(*t->addrs) * t->geo.addr_slots);
	t->hdr->pending_head = t->hdr->pending_tail = 0;
	atomic_store(&t->hdr->pending, 0);
}
