/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pepsal-queuer as child processes, one per NFQUEUE: started, restarted
 * with back-off, stopped. */
#ifndef PEPSAL_PROXY_QUEUER_CHILD_H
#define PEPSAL_PROXY_QUEUER_CHILD_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* One child per queue (CFG's --queue, --queues). TABLE_NAME: the segment
 * the children are told to use; SELF_DIR: where to look for pepsal-queuer
 * first; HOLD_FDS[i]: the hold channel child i inherits (--notify-fd), -1:
 * none (accept-first). Nothing starts unless CFG wants a queuer. */
void queuer_init(const struct proxy_config *cfg, const char *table_name,
		 const char *self_dir, const int *hold_fds);
/* The queuer program queuer_init would start can be run: 0, or a negative
 * errno with ERR saying what is wrong (checked before anything starts). */
int queuer_check(const struct proxy_config *cfg, const char *self_dir, char *err,
		 size_t errlen);
/* Start it if it is due; returns ms until the next restart attempt or -1. */
int queuer_tick(uint64_t now_ns);
/* Reap a dead child (SIGCHLD); schedules the restart. */
void queuer_reap(uint64_t now_ns);
/* HOLD: do not start the child until called again with false (an upgrade:
 * the old process's queuer still holds the queue). */
void queuer_hold(bool hold);
/* Stop the child (SIGTERM, then SIGKILL) and restart it no more. */
void queuer_fini(void);

#endif
