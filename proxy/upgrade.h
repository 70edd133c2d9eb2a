/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Upgrading in place (SIGUSR2): the running pepsal starts the binary found
 * at its own path again, with its own options and --handover-fd, and hands
 * it the listeners and every live connection (handover.h). Until the new
 * process has everything and says so, the old one keeps it all; if the new
 * one cannot read the format, fails to start or dies, the old one goes on
 * serving and says why.
 */
#ifndef PEPSAL_PROXY_UPGRADE_H
#define PEPSAL_PROXY_UPGRADE_H

#include <stdbool.h>

#include "config.h"
#include "pepsal_table.h"

struct upgrade_params {
	const struct proxy_config *cfg;
	struct pepsal_table *table;
	char **argv;                 /* main's, to start the new process with */
	const int *lfds;             /* the listeners (2, -1: none) */
};

/* P is kept by pointer. */
void upgrade_init(const struct upgrade_params *p);

/* The old process, on SIGUSR2: true if everything is the new process's
 * now (the caller stops without touching connections, table or pid file),
 * false if this process goes on serving (the reason is logged). */
bool upgrade_run(void);

/* The new process (--handover-fd): receive the listeners into LFDS and the
 * connections, and start them. Returns how many listeners, or -errno with
 * ERR filled (the old process keeps serving). */
int upgrade_take_over(int lfds[2], char *err, size_t errlen);
/* The hand-over socket while the old process's queuer still runs (-1:
 * none); when it is readable, upgrade_poll_event lets ours start. */
int upgrade_poll_fd(void);
void upgrade_poll_event(void);

#endif
