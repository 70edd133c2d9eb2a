// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Liveness of the processes sharing a table: each role (queuer, proxy) is
 * held by one pid that beats once a second. With several NFQUEUEs each
 * queue's queuer also holds a queue slot, claimed by queue number, that
 * carries its own heartbeat and counters; the queuer role's heartbeat is
 * then beaten by all of them (some queuer is alive).
 */
#include <errno.h>
#include <signal.h>

#include "lock.h"

const char *pepsal_role_name(enum pepsal_role role)
{
	return role == PEPSAL_ROLE_QUEUER ? "queuer" : role == PEPSAL_ROLE_PROXY ? "proxy" : "?";
}

void pepsal_table_heartbeat(struct pepsal_table *t, enum pepsal_role role, pid_t pid,
			    uint64_t now_ns)
{
	atomic_store(&t->hdr->heartbeat[role].pid, pid);
	atomic_store(&t->hdr->heartbeat[role].beat_ns, now_ns);
}

/* A beat slightly after NOW_NS is fresh: the holder wrote it after the
 * caller read its clock (seen by the queuer under load). */
static bool beat_fresh(uint64_t beat, uint64_t now_ns, uint64_t fresh_ns)
{
	return (beat > now_ns ? beat - now_ns : now_ns - beat) < fresh_ns;
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int pepsal_table_claim_role(struct pepsal_table *t, enum pepsal_role role, pid_t pid,
			    uint64_t now_ns, uint64_t fresh_ns)
{
	struct pepsal_shm_heartbeat *hb = &t->hdr->heartbeat[role];
	int r = pepsal_table_lock(t);
	pid_t holder;

	if (r)
		return r;
	holder = atomic_load(&hb->pid);
	if (holder && holder != pid && pid_alive(holder) &&
	    beat_fresh(atomic_load(&hb->beat_ns), now_ns, fresh_ns)) {
		r = -EBUSY;
	} else {
		atomic_store(&hb->pid, pid);
		atomic_store(&hb->beat_ns, now_ns);
	}
	pepsal_table_unlock(t);
	return r;
}

void pepsal_table_release_role(struct pepsal_table *t, enum pepsal_role role, pid_t pid)
{
	struct pepsal_shm_heartbeat *hb = &t->hdr->heartbeat[role];
	int32_t expected = pid;

	if (atomic_compare_exchange_strong(&hb->pid, &expected, 0))
		atomic_store(&hb->beat_ns, 0);
}

bool pepsal_table_role_alive(const struct pepsal_table *t, enum pepsal_role role,
			     uint64_t now_ns, uint64_t fresh_ns)
{
	const struct pepsal_shm_heartbeat *hb = &t->hdr->heartbeat[role];
	uint64_t beat = atomic_load(&hb->beat_ns);

	return atomic_load(&hb->pid) != 0 && beat_fresh(beat, now_ns, fresh_ns);
}

/* ---- per-queue slots ----------------------------------------------------- */

static const char *const queue_counter_names[PEPSAL_QUEUE_COUNTERS] = {
	[PEPSAL_QUEUE_PACKETS] = "packets",
	[PEPSAL_QUEUE_SYNS] = "syns",
	[PEPSAL_QUEUE_RECORDED] = "recorded",
	[PEPSAL_QUEUE_MARKED] = "marked",
	[PEPSAL_QUEUE_HELD] = "held",
	[PEPSAL_QUEUE_ENOBUFS] = "enobufs",
};

const char *pepsal_queue_counter_name(enum pepsal_queue_counter c)
{
	return (unsigned int)c < PEPSAL_QUEUE_COUNTERS ? queue_counter_names[c] : "?";
}

int pepsal_table_queue_claim(struct pepsal_table *t, uint32_t queue, pid_t pid,
			     uint64_t now_ns, uint64_t fresh_ns)
{
	struct pepsal_shm_queue *qs = t->hdr->queues, *q = NULL;
	int r = pepsal_table_lock(t);

	if (r)
		return r;
	for (int i = 0; i < PEPSAL_MAX_QUEUES && !q; i++)
		if (atomic_load(&qs[i].queue_plus1) == queue + 1)
			q = &qs[i];
	for (int i = 0; i < PEPSAL_MAX_QUEUES && !q; i++)
		if (!atomic_load(&qs[i].queue_plus1))
			q = &qs[i];
	if (!q) {
		r = -ENOSPC;
	} else if (atomic_load(&q->pid) && atomic_load(&q->pid) != pid &&
		   pid_alive(atomic_load(&q->pid)) &&
		   beat_fresh(atomic_load(&q->beat_ns), now_ns, fresh_ns)) {
		r = -EBUSY;
	} else {
		atomic_store(&q->queue_plus1, queue + 1);
		atomic_store(&q->pid, pid);
		atomic_store(&q->beat_ns, now_ns);
		r = (int)(q - qs);
	}
	pepsal_table_unlock(t);
	return r;
}

void pepsal_table_queue_beat(struct pepsal_table *t, int idx, pid_t pid, uint64_t now_ns)
{
	if (idx < 0 || idx >= PEPSAL_MAX_QUEUES)
		return;
	atomic_store(&t->hdr->queues[idx].pid, pid);
	atomic_store(&t->hdr->queues[idx].beat_ns, now_ns);
}

void pepsal_table_queue_add(struct pepsal_table *t, int idx, enum pepsal_queue_counter c,
			    uint64_t n)
{
	if (idx >= 0 && idx < PEPSAL_MAX_QUEUES && (unsigned int)c < PEPSAL_QUEUE_COUNTERS && n)
		atomic_fetch_add_explicit(&t->hdr->queues[idx].count[c], n,
					  memory_order_relaxed);
}

void pepsal_table_queue_release(struct pepsal_table *t, int idx, pid_t pid)
{
	int32_t expected = pid;

	if (idx >= 0 && idx < PEPSAL_MAX_QUEUES &&
	    atomic_compare_exchange_strong(&t->hdr->queues[idx].pid, &expected, 0))
		atomic_store(&t->hdr->queues[idx].beat_ns, 0);
}

bool pepsal_table_queue_get(const struct pepsal_table *t, int idx,
			    struct pepsal_queue_view *out)
{
	const struct pepsal_shm_queue *q;
	uint32_t qp1;

	if (idx < 0 || idx >= PEPSAL_MAX_QUEUES)
		return false;
	q = &t->hdr->queues[idx];
	qp1 = atomic_load(&q->queue_plus1);
	if (!qp1)
		return false;
	out->queue = qp1 - 1;
	out->pid = atomic_load(&q->pid);
	out->beat_ns = atomic_load(&q->beat_ns);
	for (int c = 0; c < PEPSAL_QUEUE_COUNTERS; c++)
		out->count[c] = atomic_load_explicit(&q->count[c], memory_order_relaxed);
	return true;
}

bool pepsal_table_queue_alive(const struct pepsal_queue_view *q, uint64_t now_ns,
			      uint64_t fresh_ns)
{
	return q->pid != 0 && beat_fresh(q->beat_ns, now_ns, fresh_ns);
}
