// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal_table_check: verify every invariant of the table (bitmap, chains,
 * states, the pending list and the per-address counts) under the lock.
 * For tests and for pepsal-shm --check; it changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lock.h"
#include "slots.h"

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

/* The pending list: linked both ways, in SYN order, exactly the pending
 * entries; the address counts add up. 0 or -EUCLEAN with ERR. */
static int check_pending(struct pepsal_table *t, uint32_t npending, char *err, size_t errlen)
{
	uint32_t n = 0, prev = 0;
	uint64_t last_syn = 0;

	for (uint32_t i = t->hdr->pending_head; i; i = t->entries[i - 1].next_pending) {
		const struct pepsal_shm_entry *e;

		if (i > t->geo.capacity || ++n > npending) {
			snprintf(err, errlen, "the pending list holds more than the %u pending "
				 "entries", npending);
			return -EUCLEAN;
		}
		e = &t->entries[i - 1];
		if (e->state != PEPSAL_STATE_PENDING || e->prev_pending != prev ||
		    e->syn_ns < last_syn) {
			snprintf(err, errlen, "slot %u is misplaced in the pending list", i - 1);
			return -EUCLEAN;
		}
		if (slots_addr_count(t, e->family, e->client_addr) == 0) {
			snprintf(err, errlen, "slot %u is pending but its address counts none",
				 i - 1);
			return -EUCLEAN;
		}
		prev = i;
		last_syn = e->syn_ns;
	}
	if (n != npending || t->hdr->pending_tail != prev ||
	    atomic_load(&t->hdr->pending) != npending) {
		snprintf(err, errlen, "%u pending entries, %u on the list, header says %u", npending,
			 n, atomic_load(&t->hdr->pending));
		return -EUCLEAN;
	}
	n = 0;
	for (uint32_t a = 0; a < t->geo.addr_slots; a++)
		n += t->addrs[a].count;
	if (n != npending) {
		snprintf(err, errlen, "address counts add up to %u, %u entries pending", n,
			 npending);
		return -EUCLEAN;
	}
	return 0;
}

int pepsal_table_check(struct pepsal_table *t, char *err, size_t errlen)
{
	uint32_t npending = 0;
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
		npending += e->state == PEPSAL_STATE_PENDING;
		if (!valid_state(e->state) || !valid_family(e->family)) {
			snprintf(err, errlen, "slot %u is used but has state %u family %u", i,
				 e->state, e->family);
			goto out;
		}
		nc = chain_count(t, t->client_index[slots_client_bucket(t, e->family, e->client_addr,
								   e->client_port)], i, false, &broken);
		nf = chain_count(t, t->flow_index[slots_flow_bucket(t, e->family, e->client_addr,
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
	r = check_pending(t, npending, err, errlen);
out:
	pepsal_table_unlock(t);
	return r;
}

