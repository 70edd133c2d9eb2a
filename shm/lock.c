// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The table's lock and the repair it triggers.
 *
 * Concurrency design. Writers (the queuer recording SYNs, the proxy claiming
 * and removing entries) serialise on one robust, process-shared mutex in the
 * header: with at most a few hundred thousand writes per second the mutex is
 * never the bottleneck, and a robust mutex turns "a writer was SIGKILLed while
 * holding the lock" into EOWNERDEAD for the next locker instead of a deadlock.
 * That locker then repairs the table: entries whose sequence counter is odd
 * were half-written and are dropped; the hash chains, the pending list and
 * the address counts, which are derived data, are rebuilt from the entries
 * and the bitmap.
 *
 * No writer waits longer than LOCK_TIMEOUT_NS. A remove that times out (a
 * holder was stopped, not killed) is not lost: pepsal_table_remove pushes
 * the slot on a lock-free stack and the next locker frees it here.
 *
 * Readers that cannot or should not lock (pepsal-shm maps the segment
 * read-only) use each entry's sequence counter as a seqlock: copy the entry,
 * accept the copy if the counter was even and did not change. Byte counters
 * and last-activity times are atomics that the owning proxy thread updates
 * without the lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "lock.h"
#include "slots.h"

#define LOCK_TIMEOUT_NS 500000000ull /* a writer never waits longer */

static int cmp_syn(const void *a, const void *b, void *arg)
{
	const struct pepsal_table *t = arg;
	uint64_t x = t->entries[*(const uint32_t *)a].syn_ns;
	uint64_t y = t->entries[*(const uint32_t *)b].syn_ns;

	return x < y ? -1 : x > y;
}

/* The pending list in the order of the SYNs; without memory, any order. */
static void rebuild_pending(struct pepsal_table *t)
{
	uint32_t *order = malloc(sizeof(uint32_t) * t->geo.capacity), n = 0;

	slots_pending_reset(t);
	for (uint32_t i = 0; i < t->geo.capacity; i++)
		if (slot_used(t, i) && t->entries[i].state == PEPSAL_STATE_PENDING) {
			if (order)
				order[n++] = i;
			else
				slots_pending_add(t, i);
		}
	if (!order)
		return;
	qsort_r(order, n, sizeof(*order), cmp_syn, t);
	for (uint32_t k = 0; k < n; k++)
		slots_pending_add(t, order[k]);
	free(order);
}

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
			slots_mark(t, i, false);
			continue;
		}
		slots_link(t, i);
		used++;
	}
	/* bits past the capacity in the last word must stay clear */
	if (t->geo.capacity % 64)
		t->bitmap[t->geo.bitmap_words - 1] &= ~(~0ull << (t->geo.capacity % 64));
	atomic_store(&t->hdr->used, used);
	rebuild_pending(t);
}

void table_release(struct pepsal_table *t, uint32_t slot)
{
	if (!slots_free(t, slot)) /* the chains did not hold it: damaged */
		pepsal_table_repair(t);
}

/* Free the slots whose removes were deferred, if they still hold the
 * generation their owner asked to remove. */
static void reap_deferred(struct pepsal_table *t)
{
	uint32_t i = atomic_exchange_explicit(&t->hdr->deferred_head, 0, memory_order_acquire);

	for (uint32_t steps = 0; i && i <= t->geo.capacity && steps <= t->geo.capacity;
	     steps++) {
		struct pepsal_shm_entry *e = &t->entries[i - 1];
		uint64_t d = atomic_load(&e->deferred);
		uint32_t next = e->next_deferred;

		if (slot_used(t, i - 1) && valid_state(e->state) && e->gen == (uint32_t)d) {
			table_release(t, i - 1);
			count(&t->hdr->removes, 1);
		}
		e->next_deferred = 0;
		atomic_store(&e->deferred, 0);
		i = next;
	}
}

int table_defer_remove(struct pepsal_table *t, uint32_t slot, uint32_t gen)
{
	struct pepsal_shm_entry *e = &t->entries[slot];
	uint64_t expected = 0;
	uint32_t head;

	if (!atomic_compare_exchange_strong(&e->deferred, &expected,
					    PEPSAL_DEFERRED_FLAG | gen))
		return 0; /* already on its way */
	head = atomic_load_explicit(&t->hdr->deferred_head, memory_order_relaxed);
	do {
		e->next_deferred = head;
	} while (!atomic_compare_exchange_weak_explicit(&t->hdr->deferred_head, &head, slot + 1,
							 memory_order_release,
							 memory_order_relaxed));
	atomic_fetch_add(&t->hdr->deferred, 1);
	return 0;
}

int pepsal_table_lock(struct pepsal_table *t)
{
	pthread_mutex_t *m = &t->hdr->lock;
	struct timespec ts;
	int r;

	if (t->readonly)
		return -EROFS;
	r = pthread_mutex_trylock(m);
	if (r == EBUSY) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)LOCK_TIMEOUT_NS;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		r = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
	}
	if (r == EOWNERDEAD) {
		/* a holder died mid-operation: make the table whole again */
		pepsal_table_repair(t);
		atomic_fetch_add(&t->hdr->recoveries, 1);
		pthread_mutex_consistent(m);
		r = 0;
	}
	if (!r && atomic_load_explicit(&t->hdr->deferred_head, memory_order_relaxed))
		reap_deferred(t);
	return -r;
}

void pepsal_table_unlock(struct pepsal_table *t)
{
	pthread_mutex_unlock(&t->hdr->lock);
}
