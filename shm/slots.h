/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside libpepsal: the building blocks of the table's entries, used by the
 * lock and its repair (lock.c), the operations (entries.c) and the check
 * (check.c). Everything here expects the table's lock held, except what
 * says lock-free. It calls nothing above it.
 */
#ifndef PEPSAL_SHM_SLOTS_H
#define PEPSAL_SHM_SLOTS_H

#include <string.h>
#include <sys/socket.h>

#include "layout.h"

/* Statistics only change with the lock held: a plain load and store is
 * enough and avoids a locked read-modify-write on every lookup. */
static inline void count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

static inline bool valid_family(uint8_t f)
{
	return f == AF_INET || f == AF_INET6;
}

static inline bool valid_state(uint8_t s)
{
	return s >= PEPSAL_STATE_PENDING && s <= PEPSAL_STATE_CLOSING;
}

static inline bool entry_client_is(const struct pepsal_shm_entry *e,
				   const struct pepsal_endpoint *c)
{
	return e->family == c->family && e->client_port == c->port &&
	       memcmp(e->client_addr, c->addr, addr_len(c->family)) == 0;
}

static inline bool entry_dst_is(const struct pepsal_shm_entry *e,
				const struct pepsal_endpoint *d)
{
	return e->family == d->family && e->dst_port == d->port &&
	       memcmp(e->dst_addr, d->addr, addr_len(d->family)) == 0;
}

static inline bool entry_client_addr_is(const struct pepsal_shm_entry *e,
					const struct pepsal_endpoint *c)
{
	return e->family == c->family &&
	       memcmp(e->client_addr, c->addr, addr_len(c->family)) == 0;
}

/* Lock-free read of the bitmap. */
static inline bool slot_used(const struct pepsal_table *t, uint32_t i)
{
	return (__atomic_load_n(&t->bitmap[i / 64], __ATOMIC_ACQUIRE) >> (i % 64)) & 1;
}

/* Only lock holders write entries, so the counter needs no locked RMW. */
static inline void write_begin(struct pepsal_shm_entry *e)
{
	atomic_store_explicit(&e->seq, atomic_load_explicit(&e->seq, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static inline void write_end(struct pepsal_shm_entry *e)
{
	atomic_store_explicit(&e->seq, atomic_load_explicit(&e->seq, memory_order_relaxed) + 1,
			      memory_order_release);
}

/* Walk guard: a chain longer than the table, or a link out of range, means
 * the segment was corrupted; the caller repairs and retries. */
#define FOR_CHAIN(t, head, link, i, steps)                                          \
	for (uint32_t i = (head), steps = 0; i != 0 && i <= (t)->geo.capacity &&    \
	     steps <= (t)->geo.capacity; i = (t)->entries[i - 1].link, steps++)

uint32_t slots_client_bucket(const struct pepsal_table *t, uint8_t family,
			     const uint8_t *addr, uint16_t port);
uint32_t slots_flow_bucket(const struct pepsal_table *t, uint8_t family,
			   const uint8_t *caddr, const uint8_t *daddr, uint16_t dport);
void slots_mark(struct pepsal_table *t, uint32_t i, bool used);
void slots_to_view(uint32_t slot, const struct pepsal_shm_entry *e,
		   struct pepsal_entry_view *v);

/* Put SLOT on both hash chains. */
void slots_link(struct pepsal_table *t, uint32_t slot);
/* A free slot, marked used; -ENOSPC if none. */
int slots_alloc(struct pepsal_table *t);
/* Unlink and clear SLOT and free its bit; false if the chains did not hold
 * it (they are damaged: the caller repairs). */
bool slots_free(struct pepsal_table *t, uint32_t slot);

/* The pending FIFO and the per-address counts follow the state: call these
 * around every change of an entry into or out of PENDING. */
void slots_pending_add(struct pepsal_table *t, uint32_t slot);  /* at the tail */
void slots_pending_del(struct pepsal_table *t, uint32_t slot);
/* Change SLOT's state (seqlock bracket included), keeping list and counts. */
void slots_set_state(struct pepsal_table *t, uint32_t slot, uint8_t state);
/* Pending entries of a client address. */
uint32_t slots_addr_count(const struct pepsal_table *t, uint8_t family, const uint8_t *addr);
/* Forget every address count and the pending list (repair rebuilds them). */
void slots_pending_reset(struct pepsal_table *t);

#endif
