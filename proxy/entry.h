/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A table entry made by the proxy itself, for a connection no queuer
 * recorded (tproxy mode, a lookup miss, a pair gateway's connections). */
#ifndef PEPSAL_PROXY_ENTRY_H
#define PEPSAL_PROXY_ENTRY_H

#include "pepsal_table.h"

/* Record and claim an entry for a connection from PEER to DST, as the
 * queuer and the claim would. The slot, or -errno (the table is full). */
int entry_record_claim(struct pepsal_table *t, const struct pepsal_endpoint *peer,
		       const struct pepsal_endpoint *dst, struct pepsal_entry_view *entry);
/* A connection the table cannot hold is relayed all the same, to DST: an
 * entry with no slot counts nothing and frees nothing. */
void entry_unlisted(struct pepsal_entry_view *entry, const struct pepsal_endpoint *dst);

#endif
