// SPDX-License-Identifier: GPL-2.0-or-later
/* Entries the proxy records itself (entry.h). */
#include <string.h>

#include "entry.h"

int entry_record_claim(struct pepsal_table *t, const struct pepsal_endpoint *peer,
		       const struct pepsal_endpoint *dst, struct pepsal_entry_view *entry)
{
	uint64_t now = pepsal_now_ns();
	int rc = pepsal_table_record_syn(t, peer, dst, now, NULL);

	return rc < 0 ? rc : pepsal_table_claim(t, peer, dst, now, entry);
}

void entry_unlisted(struct pepsal_entry_view *entry, const struct pepsal_endpoint *dst)
{
	memset(entry, 0, sizeof(*entry));
	entry->slot = UINT32_MAX;
	entry->state = PEPSAL_STATE_ESTABLISHED;
	entry->dst = *dst;
}
