/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay: one pair of threads per connection, one per direction, as in
 * the original PEPsal. It owns the connections it is given from accept to
 * close, and the threads (workers.c) they run on.
 */
#ifndef PEPSAL_PROXY_RELAY_H
#define PEPSAL_PROXY_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "pepsal_table.h"

struct relay_params {
	const struct proxy_config *cfg;  /* legs, timeouts, -c, pipes */
	struct pepsal_table *table;      /* entries of the connections */
	unsigned int pipes_max;          /* splice pipes at most, busy or idle */
};

/* P is kept by pointer. */
void relay_init(const struct relay_params *p);
/* Take over an accepted client socket whose entry is claimed: start the
 * thread pair (dial, then relay). 0 or -errno (then the caller resets the
 * client and frees the entry). */
int relay_start(int client_fd, const struct pepsal_entry_view *entry);
/* Connections held now. */
unsigned int relay_active(void);
/* relay_fini has begun: no new connection is wanted. */
bool relay_stopping(void);
/* Stop: abort every connection, wait at most WAIT_NS for their threads to
 * let go of them. True if none is left (the table may go), false if some
 * thread still holds one (leave the table mapped until exit). */
bool relay_fini(uint64_t wait_ns);

#endif
