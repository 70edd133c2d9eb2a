// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Operations on the table's entries: record, claim, look up, change state,
 * remove, collect and the lock-free byte counts and snapshots. Built from
 * slots.c under the lock of lock.c.
 *
 * Hygiene. A pending entry is a SYN the proxy has not accepted yet. It is
 * collected once its last SYN is older than the pending lifetime, oldest
 * first from the pending list; when the table is full one of the oldest
 * pending entries, whatever its age, makes room (counted as an eviction;
 * see eviction_victim): a flood of SYNs that never complete keeps cycling
 * through the pending entries and cannot take the table from the
 * connections that follow it. Established
 * entries are never evicted. pepsal_table_record_syn_limited also caps the
 * pending entries of one client address, so one scanning host cannot fill
 * the table.
 */
#include <errno.h>
#include <stdio.h>

#include "lock.h"
#include "slots.h"

/* The first entry with exactly CLIENT's endpoint and, if given, DST; with
 * PENDING_ONLY only pending ones. Lock held. The slot or -ENOENT. */
static int find_exact(struct pepsal_table *t, const struct pepsal_endpoint *client,
		      const struct pepsal_endpoint *dst, bool pending_only)
{
	FOR_CHAIN(t, t->client_index[slots_client_bucket(t, client->family, client->addr,
							 client->port)], next_client, i, steps) {
		const struct pepsal_shm_entry *e = &t->entries[i - 1];

		if (valid_state(e->state) && (!pending_only || e->state == PEPSAL_STATE_PENDING) &&
		    entry_client_is(e, client) && (!dst || entry_dst_is(e, dst)))
			return (int)i - 1;
	}
	return -ENOENT;
}

static void refresh(struct pepsal_table *t, uint32_t slot, uint64_t now_ns)
{
	struct pepsal_shm_entry *e = &t->entries[slot];

	slots_pending_del(t, slot);
	write_begin(e);
	e->syn_ns = now_ns;
	atomic_store_explicit(&e->last_ns, now_ns, memory_order_relaxed);
	write_end(e);
	slots_pending_add(t, slot); /* the youngest now */
}

#define EVICT_WINDOW 8 /* oldest pending entries looked at for a victim */

/* Of the oldest pending entries, the one whose client address holds the
 * most pending entries (the oldest of those): a flood from a few hundred
 * addresses is evicted before the lone SYN of a client caught in it, and
 * nobody goes more than EVICT_WINDOW places earlier than in strict age
 * order. Returns slot+1, 0 if nothing is pending. */
static uint32_t eviction_victim(const struct pepsal_table *t)
{
	uint32_t best = 0, best_n = 0, i = t->hdr->pending_head;

	for (int k = 0; k < EVICT_WINDOW && i && i <= t->geo.capacity; k++) {
		const struct pepsal_shm_entry *e = &t->entries[i - 1];
		uint32_t n = slots_addr_count(t, e->family, e->client_addr);

		if (n > best_n) {
			best = i;
			best_n = n;
		}
		i = e->next_pending;
	}
	return best ? best : t->hdr->pending_head;
}

/* A free slot, taking a pending entry's if the table is full. */
static int alloc_or_evict(struct pepsal_table *t, enum pepsal_record_how *done)
{
	int slot = slots_alloc(t);
	uint32_t victim;

	if (slot >= 0)
		return slot;
	victim = eviction_victim(t);
	if (!victim || victim > t->geo.capacity) {
		count(&t->hdr->table_full, 1);
		return -ENOSPC;
	}
	table_release(t, victim - 1);
	count(&t->hdr->evictions, 1);
	*done = PEPSAL_RECORD_RECLAIMED;
	return slots_alloc(t);
}

int pepsal_table_record_syn_limited(struct pepsal_table *t,
				    const struct pepsal_endpoint *client,
				    const struct pepsal_endpoint *dst, uint64_t now_ns,
				    uint32_t addr_limit, enum pepsal_record_how *how)
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
		refresh(t, (uint32_t)slot, now_ns);
		count(&h->refreshes, 1);
		done = PEPSAL_RECORD_REFRESHED;
		goto out;
	}
	if (addr_limit && slots_addr_count(t, client->family, client->addr) >= addr_limit) {
		count(&h->address_limited, 1);
		slot = -EDQUOT;
		goto out;
	}
	slot = alloc_or_evict(t, &done);
	if (slot < 0)
		goto out;
	e = &t->entries[slot];
	write_begin(e);
	/* read lock-free by pepsal_table_count_bytes */
	__atomic_store_n(&e->gen, e->gen + 1, __ATOMIC_RELEASE);
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
	slots_link(t, (uint32_t)slot);
	slots_pending_add(t, (uint32_t)slot);
	count(&h->inserts, 1);
out:
	pepsal_table_unlock(t);
	if (slot >= 0 && how)
		*how = done;
	return slot;
}

int pepsal_table_record_syn(struct pepsal_table *t, const struct pepsal_endpoint *client,
			    const struct pepsal_endpoint *dst, uint64_t now_ns,
			    enum pepsal_record_how *how)
{
	return pepsal_table_record_syn_limited(t, client, dst, now_ns, 0, how);
}

int pepsal_table_address_pending(struct pepsal_table *t, const struct pepsal_endpoint *client)
{
	int n, r;

	if (!valid_family(client->family))
		return -EAFNOSUPPORT;
	r = pepsal_table_lock(t);
	if (r)
		return r;
	n = (int)slots_addr_count(t, client->family, client->addr);
	pepsal_table_unlock(t);
	return n;
}
/* Find the entry of PEER (and ORIG_DST if given), lock held. With
 * PENDING_ONLY, only pending entries match. Returns the slot or -ENOENT. */
static int find(struct pepsal_table *t, const struct pepsal_endpoint *peer,
		const struct pepsal_endpoint *orig_dst, bool pending_only)
{
	int best = -ENOENT;
	uint64_t best_syn = 0;

	FOR_CHAIN(t, t->client_index[slots_client_bucket(t, peer->family, peer->addr, peer->port)],
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
	FOR_CHAIN(t, t->flow_index[slots_flow_bucket(t, peer->family, peer->addr, orig_dst->addr,
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
			atomic_store_explicit(&e->last_ns, now_ns, memory_order_relaxed);
			slots_set_state(t, (uint32_t)slot, PEPSAL_STATE_ESTABLISHED);
		}
		if (out)
			slots_to_view((uint32_t)slot, e, out);
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
	int r;

	if (!valid_state((uint8_t)state))
		return -EINVAL;
	r = lock_slot(t, slot, gen);
	if (r)
		return r;
	slots_set_state(t, slot, (uint8_t)state);
	pepsal_table_unlock(t);
	return 0;
}

int pepsal_table_remove(struct pepsal_table *t, uint32_t slot, uint32_t gen)
{
	int r = lock_slot(t, slot, gen);

	if (r == -ETIMEDOUT) /* a holder is stopped: the next locker frees it */
		return table_defer_remove(t, slot, gen);
	if (r)
		return r;
	table_release(t, slot);
	count(&t->hdr->removes, 1);
	pepsal_table_unlock(t);
	return 0;
}

int pepsal_table_gc(struct pepsal_table *t, uint64_t now_ns, uint64_t lifetime_ns)
{
	int n = 0, r = pepsal_table_lock(t);

	if (r)
		return r;
	/* the list is in SYN order: stop at the first entry still young */
	for (uint32_t i; (i = t->hdr->pending_head) && i <= t->geo.capacity &&
	     n < (int)t->geo.capacity;) {
		const struct pepsal_shm_entry *e = &t->entries[i - 1];

		if (now_ns < e->syn_ns || now_ns - e->syn_ns < lifetime_ns)
			break;
		table_release(t, i - 1);
		n++;
	}
	count(&t->hdr->gc_removed, (uint64_t)n);
	pepsal_table_unlock(t);
	return n;
}

static void add_bytes(struct pepsal_table *t, uint32_t slot, const uint32_t *gen,
		      enum pepsal_dir dir, uint64_t n, uint64_t now_ns)
{
	struct pepsal_shm_entry *e;

	if (slot >= t->geo.capacity || (dir != PEPSAL_DIR_C2S && dir != PEPSAL_DIR_S2C))
		return;
	e = &t->entries[slot];
	/* a late count of a removed connection must not land on the entry of
	 * the next one in the slot */
	if (gen && __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE) != *gen)
		return;
	atomic_fetch_add_explicit(&e->bytes[dir], n, memory_order_relaxed);
	atomic_store_explicit(&e->last_ns, now_ns, memory_order_relaxed);
}

void pepsal_table_count_bytes(struct pepsal_table *t, uint32_t slot, uint32_t gen,
			      enum pepsal_dir dir, uint64_t n, uint64_t now_ns)
{
	add_bytes(t, slot, &gen, dir, n, now_ns);
}

void pepsal_table_add_bytes(struct pepsal_table *t, uint32_t slot, enum pepsal_dir dir,
			    uint64_t n, uint64_t now_ns)
{
	add_bytes(t, slot, NULL, dir, n, now_ns);
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
		slots_to_view(slot, &copy, out);
		return 0;
	}
	return -EAGAIN;
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
