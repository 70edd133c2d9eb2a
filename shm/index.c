// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Entries of the connection table: record, claim, look up, remove, collect,
 * repair and check.
 *
 * Two hash indexes chain the entries: by client endpoint (address, port),
 * the key of every ordinary lookup, and by flow (client address, original
 * destination), which finds the entry of a connection whose source port NAT
 * remapped on its way to the proxy. Buckets hold slot+1 so that a zeroed
 * segment is an empty index. Chains are derived data: repair rebuilds them
 * from the entries, so a writer that dies between two stores loses nothing.
 *
 * Write order, so that repair can tell a complete entry from a torn one:
 * allocate (bitmap bit), seq odd, fields, seq even, link into chains;
 * unlink, seq odd, clear, seq even, free the bit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "layout.h"

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

static inline uint32_t client_bucket(const struct pepsal_table *t, uint8_t family,
				     const uint8_t *addr, uint16_t port)
{
	uint64_t h = hash_addr(t->hdr->hash_seed[0], family, addr);

	return (uint32_t)mix64(h ^ port) & (t->geo.nbuckets - 1);
}

static inline uint32_t flow_bucket(const struct pepsal_table *t, uint8_t family,
				   const uint8_t *caddr, const uint8_t *daddr,
				   uint16_t dport)
{
	uint64_t h = hash_addr(t->hdr->hash_seed[1], family, caddr);

	h = hash_addr(h, family, daddr);
	return (uint32_t)mix64(h ^ dport) & (t->geo.nbuckets - 1);
}

/* Statistics only change with the lock held: a plain load and store is
 * enough and avoids a locked read-modify-write on every lookup. */
static inline void count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* ---- entry helpers ------------------------------------------------------ */

static size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

static bool entry_client_is(const struct pepsal_shm_entry *e,
			    const struct pepsal_endpoint *c)
{
	return e->family == c->family && e->client_port == c->port &&
	       memcmp(e->client_addr, c->addr, addr_len(c->family)) == 0;
}

static bool entry_dst_is(const struct pepsal_shm_entry *e, const struct pepsal_endpoint *d)
{
	return e->family == d->family && e->dst_port == d->port &&
	       memcmp(e->dst_addr, d->addr, addr_len(d->family)) == 0;
}

static bool entry_client_addr_is(const struct pepsal_shm_entry *e,
				 const struct pepsal_endpoint *c)
{
	return e->family == c->family &&
	       memcmp(e->client_addr, c->addr, addr_len(c->family)) == 0;
}

static bool valid_family(uint8_t f)
{
	return f == AF_INET || f == AF_INET6;
}

static bool valid_state(uint8_t s)
{
	return s >= PEPSAL_STATE_PENDING && s <= PEPSAL_STATE_CLOSING;
}

static bool slot_used(const struct pepsal_table *t, uint32_t i)
{
	return (__atomic_load_n(&t->bitmap[i / 64], __ATOMIC_ACQUIRE) >> (i % 64)) & 1;
}

static void slot_mark(struct pepsal_table *t, uint32_t i, bool used)
{
	uint64_t bit = 1ull << (i % 64);

	uint64_t w = __atomic_load_n(&t->bitmap[i / 64], __ATOMIC_RELAXED);

	/* only lock holders change the bitmap */
	__atomic_store_n(&t->bitmap[i / 64], used ? w | bit : w & ~bit, __ATOMIC_RELEASE);
}

/* Only lock holders write entries, so the counter needs no locked RMW. */
static void write_begin(struct pepsal_shm_entry *e)
{
	atomic_store_explicit(&e->seq, atomic_load_explicit(&e->seq, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void write_end(struct pepsal_shm_entry *e)
{
	atomic_store_explicit(&e->seq, atomic_load_explicit(&e->seq, memory_order_relaxed) + 1,
			      memory_order_release);
}

static void to_view(uint32_t slot, const struct pepsal_shm_entry *e,
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

/* ---- chains (lock held) ----------------------------------------------------- */

/* Walk guard: a chain longer than the table, or a link out of range, means
 * the segment was corrupted; the caller repairs and retries. */
#define FOR_CHAIN(t, head, link, i, steps)                                          \
	for (uint32_t i = (head), steps = 0; i != 0 && i <= (t)->geo.capacity &&    \
	     steps <= (t)->geo.capacity; i = (t)->entries[i - 1].link, steps++)

static void link_entry(struct pepsal_table *t, uint32_t slot)
{
	struct pepsal_shm_entry *e = &t->entries[slot];
	uint32_t cb = client_bucket(t, e->family, e->client_addr, e->client_port);
	uint32_t fb = flow_bucket(t, e->family, e->client_addr, e->dst_addr, e->dst_port);

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

static void free_slot(struct pepsal_table *t, uint32_t slot)
{
	struct pepsal_shm_entry *e = &t->entries[slot];
	bool ok;

	ok = unlink_from(t, &t->client_index[client_bucket(t, e->family, e->client_addr,
							   e->client_port)], slot, false);
	ok &= unlink_from(t, &t->flow_index[flow_bucket(t, e->family, e->client_addr,
							e->dst_addr, e->dst_port)], slot, true);
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
	slot_mark(t, slot, false);
	atomic_fetch_sub(&t->hdr->used, 1);
	if (!ok) /* the chains did not hold it: they are damaged */
		pepsal_table_repair(t);
}

static int alloc_slot(struct pepsal_table *t)
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
			slot_mark(t, slot, true);
			atomic_fetch_add(&t->hdr->used, 1);
			return (int)slot;
		}
	}
	return -ENOSPC;
}

static bool pending_expired(const struct pepsal_shm_entry *e, uint64_t now,
			    uint64_t lifetime)
{
	return now >= e->syn_ns && now - e->syn_ns >= lifetime;
}

/* The oldest pending entry whose SYN is older than LIFETIME, or -ENOENT. */
static int oldest_stale_pending(struct pepsal_table *t, uint64_t now, uint64_t lifetime)
{
	int best = -ENOENT;
	uint64_t best_syn = UINT64_MAX;

	for (uint32_t i = 0; i < t->geo.capacity; i++) {
		struct pepsal_shm_entry *e = &t->entries[i];

		if (slot_used(t, i) && e->state == PEPSAL_STATE_PENDING &&
		    pending_expired(e, now, lifetime) && e->syn_ns < best_syn) {
			best = (int)i;
			best_syn = e->syn_ns;
		}
	}
	return best;
}

/* ---- operations ------------------------------------------------------------ */

/* The first entry with exactly CLIENT's endpoint and, if given, DST; with
 * PENDING_ONLY only pending ones. Lock held. The slot or -ENOENT. */
static int find_exact(struct pepsal_table *t, const struct pepsal_endpoint *client,
		      const struct pepsal_endpoint *dst, bool pending_only)
{
	FOR_CHAIN(t, t->client_index[client_bucket(t, client->family, client->addr,
						   client->port)], next_client, i, steps) {
		const struct pepsal_shm_entry *e = &t->entries[i - 1];

		if (valid_state(e->state) && (!pending_only || e->state == PEPSAL_STATE_PENDING) &&
		    entry_client_is(e, client) && (!dst || entry_dst_is(e, dst)))
			return (int)i - 1;
	}
	return -ENOENT;
}

int pepsal_table_record_syn(struct pepsal_table *t, const struct pepsal_endpoint *client,
			    const struct pepsal_endpoint *dst, uint64_t now_ns,
			    enum pepsal_record_how *how)
{
	struct pepsal_shm_header *h = t->hdr;
	struct pepsal_shm_entry *e;
	enum pepsal_record_how done = PEPSAL_RECORD_INSERTED;
	int slot, r;

	if (!valid_family(client->family) || client->family != dst->family)
		return -EAFNOSUPPORT;
	r = pepsal_table_lock(t);
	if (r)
		return r;
	slot = find_exact(t, client, dst, true);
	if (slot >= 0) {
		e = &t->entries[slot];
		write_begin(e);
		e->syn_ns = now_ns;
		atomic_store_explicit(&e->last_ns, now_ns, memory_order_relaxed);
		write_end(e);
		count(&h->refreshes, 1);
		done = PEPSAL_RECORD_REFRESHED;
		goto out;
	}
	slot = alloc_slot(t);
	if (slot < 0) {
		int victim = oldest_stale_pending(t, now_ns, atomic_load(&h->pending_lifetime_ns));

		if (victim < 0) {
			count(&h->table_full, 1);
			slot = -ENOSPC;
			goto out;
		}
		free_slot(t, (uint32_t)victim);
		count(&h->evictions, 1);
		done = PEPSAL_RECORD_RECLAIMED;
		slot = alloc_slot(t);
	}
	e = &t->entries[slot];
	write_begin(e);
	e->gen++;
	e->family = client->family;
	e->client_port = client->port;
	e->dst_port = dst->port;
	memcpy(e->client_addr, client->addr, sizeof(e->client_addr));
	memcpy(e->dst_addr, dst->addr, sizeof(e->dst_addr));
	e->syn_ns = now_ns;
	atomic_store_explicit(&e->last_ns, now_ns, memory_order_relaxed);
	atomic_store_explicit(&e->bytes[0], 0, memory_order_relaxed);
	atomic_store_explicit(&e->bytes[1], 0, memory_order_relaxed);
	e->state = PEPSAL_STATE_PENDING;
	write_end(e);
	link_entry(t, (uint32_t)slot);
	count(&h->inserts, 1);
out:
	pepsal_table_unlock(t);
	if (slot >= 0 && how)
		*how = done;
	return slot;
}

/* Find the entry of PEER (and ORIG_DST if given), lock held. With
 * PENDING_ONLY, only pending entries match. Returns the slot or -ENOENT. */
static int find(struct pepsal_table *t, const struct pepsal_endpoint *peer,
		const struct pepsal_endpoint *orig_dst, bool pending_only)
{
	int best = -ENOENT;
	uint64_t best_syn = 0;

	FOR_CHAIN(t, t->client_index[client_bucket(t, peer->family, peer->addr, peer->port)],
		  next_client, i, steps) {
		struct pepsal_shm_entry *e = &t->entries[i - 1];

		if (!valid_state(e->state) || (pending_only && e->state != PEPSAL_STATE_PENDING) ||
		    !entry_client_is(e, peer) || (orig_dst && !entry_dst_is(e, orig_dst)))
			continue;
		/* several destinations from one port: the latest SYN wins */
		if (best < 0 || e->syn_ns > best_syn) {
			best = (int)i - 1;
			best_syn = e->syn_ns;
		}
	}
	if (best >= 0 || !orig_dst)
		return best;
	/* NAT gave the connection another source port on its way to us: take
	 * the oldest entry from the same client address to the same place */
	FOR_CHAIN(t, t->flow_index[flow_bucket(t, peer->family, peer->addr, orig_dst->addr,
					       orig_dst->port)], next_flow, i, steps) {
		struct pepsal_shm_entry *e = &t->entries[i - 1];

		if (!valid_state(e->state) || (pending_only && e->state != PEPSAL_STATE_PENDING) ||
		    !entry_client_addr_is(e, peer) || !entry_dst_is(e, orig_dst))
			continue;
		if (best < 0 || e->syn_ns < best_syn) {
			best = (int)i - 1;
			best_syn = e->syn_ns;
		}
	}
	return best;
}

static int lookup_common(struct pepsal_table *t, const struct pepsal_endpoint *peer,
			 const struct pepsal_endpoint *orig_dst, uint64_t now_ns, bool claim,
			 struct pepsal_entry_view *out)
{
	struct pepsal_shm_header *h = t->hdr;
	int slot, r;

	if (!valid_family(peer->family) || (orig_dst && orig_dst->family != peer->family))
		return -EAFNOSUPPORT;
	r = pepsal_table_lock(t);
	if (r)
		return r;
	count(&h->lookups, 1);
	slot = find(t, peer, orig_dst, claim);
	if (slot < 0) {
		count(&h->misses, 1);
	} else {
		struct pepsal_shm_entry *e = &t->entries[slot];

		count(&h->hits, 1);
		if (claim) {
			write_begin(e);
			e->state = PEPSAL_STATE_ESTABLISHED;
			atomic_store_explicit(&e->last_ns, now_ns, memory_order_relaxed);
			write_end(e);
		}
		if (out)
			to_view((uint32_t)slot, e, out);
	}
	pepsal_table_unlock(t);
	return slot;
}

int pepsal_table_claim(struct pepsal_table *t, const struct pepsal_endpoint *peer,
		       const struct pepsal_endpoint *orig_dst, uint64_t now_ns,
		       struct pepsal_entry_view *out)
{
	return lookup_common(t, peer, orig_dst, now_ns, true, out);
}

int pepsal_table_lookup(struct pepsal_table *t, const struct pepsal_endpoint *client,
			const struct pepsal_endpoint *dst, struct pepsal_entry_view *out)
{
	return lookup_common(t, client, dst, 0, false, out);
}

int pepsal_table_holds(struct pepsal_table *t, const struct pepsal_endpoint *client,
		       const struct pepsal_endpoint *dst)
{
	int found, r;

	if (!valid_family(client->family))
		return -EAFNOSUPPORT;
	r = pepsal_table_lock(t);
	if (r)
		return r;
	found = find_exact(t, client, dst, false) >= 0;
	pepsal_table_unlock(t);
	return found;
}

/* Lock and check that SLOT is allocated with generation GEN. */
static int lock_slot(struct pepsal_table *t, uint32_t slot, uint32_t gen)
{
	int r;

	if (slot >= t->geo.capacity)
		return -EINVAL;
	r = pepsal_table_lock(t);
	if (r)
		return r;
	if (!slot_used(t, slot) || t->entries[slot].gen != gen ||
	    !valid_state(t->entries[slot].state)) {
		pepsal_table_unlock(t);
		return -ESTALE;
	}
	return 0;
}

int pepsal_table_set_state(struct pepsal_table *t, uint32_t slot, uint32_t gen,
			   enum pepsal_state state)
{
	struct pepsal_shm_entry *e;
	int r;

	if (!valid_state((uint8_t)state))
		return -EINVAL;
	r = lock_slot(t, slot, gen);
	if (r)
		return r;
	e = &t->entries[slot];
	write_begin(e);
	e->state = (uint8_t)state;
	write_end(e);
	pepsal_table_unlock(t);
	return 0;
}

int pepsal_table_remove(struct pepsal_table *t, uint32_t slot, uint32_t gen)
{
	int r = lock_slot(t, slot, gen);

	if (r)
		return r;
	free_slot(t, slot);
	count(&t->hdr->removes, 1);
	pepsal_table_unlock(t);
	return 0;
}

int pepsal_table_gc(struct pepsal_table *t, uint64_t now_ns, uint64_t lifetime_ns)
{
	int n = 0, r = pepsal_table_lock(t);

	if (r)
		return r;
	for (uint32_t i = 0; i < t->geo.capacity; i++) {
		struct pepsal_shm_entry *e = &t->entries[i];

		if (slot_used(t, i) && e->state == PEPSAL_STATE_PENDING &&
		    pending_expired(e, now_ns, lifetime_ns)) {
			free_slot(t, i);
			n++;
		}
	}
	count(&t->hdr->gc_removed, (uint64_t)n);
	pepsal_table_unlock(t);
	return n;
}

void pepsal_table_add_bytes(struct pepsal_table *t, uint32_t slot, enum pepsal_dir dir,
			    uint64_t n, uint64_t now_ns)
{
	struct pepsal_shm_entry *e;

	if (slot >= t->geo.capacity || (dir != PEPSAL_DIR_C2S && dir != PEPSAL_DIR_S2C))
		return;
	e = &t->entries[slot];
	atomic_fetch_add_explicit(&e->bytes[dir], n, memory_order_relaxed);
	atomic_store_explicit(&e->last_ns, now_ns, memory_order_relaxed);
}

int pepsal_table_snapshot(const struct pepsal_table *t, uint32_t slot,
			  struct pepsal_entry_view *out)
{
	const struct pepsal_shm_entry *e;
	struct pepsal_shm_entry copy;

	if (slot >= t->geo.capacity)
		return -EINVAL;
	e = &t->entries[slot];
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire);

		if (s1 & 1)
			continue;
		memcpy(&copy, (const void *)e, sizeof(copy));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&e->seq, memory_order_relaxed) != s1)
			continue;
		if (copy.state == PEPSAL_STATE_FREE)
			return -ENOENT;
		if (!valid_state(copy.state) || !valid_family(copy.family))
			return -EUCLEAN;
		to_view(slot, &copy, out);
		return 0;
	}
	return -EAGAIN;
}

/* ---- repair and check ---------------------------------------------------- */

void pepsal_table_repair(struct pepsal_table *t)
{
	uint32_t used = 0;

	memset(t->client_index, 0, 4ull * t->geo.nbuckets);
	memset(t->flow_index, 0, 4ull * t->geo.nbuckets);
	for (uint32_t i = 0; i < t->geo.capacity; i++) {
		struct pepsal_shm_entry *e = &t->entries[i];
		uint32_t seq = atomic_load(&e->seq);
		bool keep = slot_used(t, i) && !(seq & 1) && valid_state(e->state) &&
			    valid_family(e->family);

		if (!keep) {
			if (seq & 1)
				atomic_store(&e->seq, seq + 1);
			if (e->state != PEPSAL_STATE_FREE) {
				write_begin(e);
				e->state = PEPSAL_STATE_FREE;
				write_end(e);
			}
			slot_mark(t, i, false);
			continue;
		}
		link_entry(t, i);
		used++;
	}
	/* bits past the capacity in the last word must stay clear */
	if (t->geo.capacity % 64)
		t->bitmap[t->geo.bitmap_words - 1] &= ~(~0ull << (t->geo.capacity % 64));
	atomic_store(&t->hdr->used, used);
}

/* Is SLOT reachable exactly once from HEAD? */
static int chain_count(struct pepsal_table *t, uint32_t head, uint32_t slot, bool flow,
		       bool *broken)
{
	int n = 0;
	uint32_t steps = 0;

	for (uint32_t i = head; i; steps++) {
		if (i > t->geo.capacity || steps > t->geo.capacity) {
			*broken = true;
			return n;
		}
		if (i == slot + 1)
			n++;
		i = flow ? t->entries[i - 1].next_flow : t->entries[i - 1].next_client;
	}
	return n;
}

int pepsal_table_check(struct pepsal_table *t, char *err, size_t errlen)
{
	uint32_t used = 0, linked = 0;
	int r = pepsal_table_lock(t);

	if (r) {
		snprintf(err, errlen, "cannot lock %s: %s", t->name, strerror(-r));
		return r;
	}
	r = -EUCLEAN;
	for (uint32_t i = 0; i < t->geo.capacity; i++) {
		struct pepsal_shm_entry *e = &t->entries[i];
		bool broken = false;
		int nc, nf;

		if (atomic_load(&e->seq) & 1) {
			snprintf(err, errlen, "slot %u is half-written (odd sequence)", i);
			goto out;
		}
		if (!slot_used(t, i)) {
			if (e->state != PEPSAL_STATE_FREE) {
				snprintf(err, errlen, "slot %u is free in the bitmap but in state %u",
					 i, e->state);
				goto out;
			}
			continue;
		}
		used++;
		if (!valid_state(e->state) || !valid_family(e->family)) {
			snprintf(err, errlen, "slot %u is used but has state %u family %u", i,
				 e->state, e->family);
			goto out;
		}
		nc = chain_count(t, t->client_index[client_bucket(t, e->family, e->client_addr,
								   e->client_port)], i, false, &broken);
		nf = chain_count(t, t->flow_index[flow_bucket(t, e->family, e->client_addr,
							      e->dst_addr, e->dst_port)], i, true,
				 &broken);
		if (broken || nc != 1 || nf != 1) {
			snprintf(err, errlen, "slot %u is linked %d/%d times in its chains%s", i,
				 nc, nf, broken ? " (a chain is broken)" : "");
			goto out;
		}
	}
	for (uint32_t b = 0; b < t->geo.nbuckets; b++)
		for (uint32_t i = t->client_index[b]; i; i = t->entries[i - 1].next_client) {
			if (i > t->geo.capacity || !slot_used(t, i - 1) || ++linked > used) {
				snprintf(err, errlen, "client chain %u holds a free or bad slot", b);
				goto out;
			}
		}
	if (linked != used || used != atomic_load(&t->hdr->used)) {
		snprintf(err, errlen, "%u slots used, %u linked, header says %u", used, linked,
			 atomic_load(&t->hdr->used));
		goto out;
	}
	r = 0;
out:
	pepsal_table_unlock(t);
	return r;
}

const char *pepsal_state_name(enum pepsal_state s)
{
	switch (s) {
	case PEPSAL_STATE_FREE: return "free";
	case PEPSAL_STATE_PENDING: return "pending";
	case PEPSAL_STATE_ESTABLISHED: return "established";
	case PEPSAL_STATE_CLOSING: return "closing";
	}
	return "corrupt";
}
