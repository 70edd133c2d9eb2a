// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Packets waiting for their verdict. The delay of a direction is constant,
 * so release times grow with arrival order and a ring (FIFO) per direction
 * is exact: no heap needed, O(1) per packet. NFQUEUE ids grow in the same
 * order, which lets the caller release a run of packets with one batch
 * verdict naming the newest id.
 */
#include <errno.h>
#include <stdlib.h>

#include "linkem.h"

int fifo_init(struct fifo *f, uint32_t cap)
{
	uint32_t c = 1;

	while (c < cap && c < (1u << 30))
		c <<= 1;
	f->slot = calloc(c, sizeof(*f->slot));
	if (!f->slot)
		return -ENOMEM;
	f->cap = c;
	f->head = 0;
	f->len = 0;
	return 0;
}

void fifo_free(struct fifo *f)
{
	free(f->slot);
	f->slot = NULL;
	f->cap = f->len = 0;
}

int fifo_push(struct fifo *f, uint32_t id, uint64_t release_ns)
{
	struct held *h;

	if (f->len == f->cap)
		return -ENOSPC;
	h = &f->slot[(f->head + f->len) & (f->cap - 1)];
	h->id = id;
	h->release_ns = release_ns;
	f->len++;
	return 0;
}

uint32_t fifo_pop_due(struct fifo *f, uint64_t now, uint32_t *last_id, uint64_t *late_ns)
{
	uint32_t n = 0;

	while (f->len) {
		const struct held *h = &f->slot[f->head];

		if (h->release_ns > now)
			break;
		*last_id = h->id;
		*late_ns += now - h->release_ns;
		f->head = (f->head + 1) & (f->cap - 1);
		f->len--;
		n++;
	}
	return n;
}

uint64_t fifo_next(const struct fifo *f)
{
	return f->len ? f->slot[f->head].release_ns : UINT64_MAX;
}
