/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Inside libpepsal: the table's robust lock and its repair (lock.c). */
#ifndef PEPSAL_SHM_LOCK_H
#define PEPSAL_SHM_LOCK_H

#include "layout.h"

/* Take the table's lock (at most 0.5 s of waiting: -ETIMEDOUT), repairing
 * the table if a holder died and freeing the slots of deferred removes. */
int pepsal_table_lock(struct pepsal_table *t);
void pepsal_table_unlock(struct pepsal_table *t);
/* Rebuild indexes, pending list and address counts, drop half-written
 * entries; lock held. */
void pepsal_table_repair(struct pepsal_table *t);
/* Free SLOT (lock held), repairing the chains if they did not hold it. */
void table_release(struct pepsal_table *t, uint32_t slot);
/* Lock-free: have the next lock holder free SLOT if it still has GEN. */
int table_defer_remove(struct pepsal_table *t, uint32_t slot, uint32_t gen);

#endif
