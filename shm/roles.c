// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Liveness of the processes sharing a table: each role (queuer, proxy) is
 * held by one pid that beats once a second.
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
