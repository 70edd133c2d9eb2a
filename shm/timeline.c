// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The set-up timeline (pepsal_timeline.h). Stamps go into one array by an
 * atomic index, from any thread; the array is mapped only when
 * PEPSAL_TIMELINE is set, and its pages are touched only as it fills. The
 * file has one line per stamp: "STAGE ADDR PORT NS", ADDR the client's
 * IPv4 address (an IPv6 client: its last 4 bytes) in hex.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pepsal_clock.h"
#include "pepsal_timeline.h"

#define TL_MAX (4u << 20) /* stamps kept; the rest are dropped */

struct stamp {
	uint64_t ns;
	uint32_t addr;
	uint16_t port;
	uint16_t stage;
};

static const char *const stage_names[TL_COUNT] = {
	"syn_queued", "queuer_read", "req_sent", "req_read", "dial_start", "dial_done",
	"answer_sent", "answer_read", "verdict", "accept", "claim", "relay_start",
	"client_connect", "client_connected", "client_first_byte",
};

static struct {
	bool on;
	char path[512];
	struct stamp *v;
	atomic_uint n;
	atomic_bool written;
} tl;

static void at_exit(void)
{
	pepsal_tl_write();
}

void pepsal_tl_init(const char *role)
{
	const char *dir = getenv("PEPSAL_TIMELINE");
	void *p;

	if (!dir || !*dir || tl.on)
		return;
	p = mmap(NULL, TL_MAX * sizeof(struct stamp), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return;
	tl.v = p;
	snprintf(tl.path, sizeof(tl.path), "%s/timeline.%s.%d", dir, role, (int)getpid());
	tl.on = true;
	atexit(at_exit);
}

bool pepsal_tl_enabled(void)
{
	return tl.on;
}

void pepsal_tl_mark4(enum pepsal_tl_stage stage, uint32_t addr_be, uint16_t port,
		     uint64_t ns)
{
	unsigned int i;

	if (!tl.on)
		return;
	i = atomic_fetch_add_explicit(&tl.n, 1, memory_order_relaxed);
	if (i >= TL_MAX)
		return;
	tl.v[i] = (struct stamp){ ns ? ns : pepsal_now_ns(), addr_be, port, (uint16_t)stage };
}

void pepsal_tl_mark(enum pepsal_tl_stage stage, const struct pepsal_endpoint *client,
		    uint64_t ns)
{
	uint32_t a;

	if (!tl.on)
		return;
	memcpy(&a, client->addr + (client->family == AF_INET ? 0 : 12), 4);
	pepsal_tl_mark4(stage, a, client->port, ns);
}

void pepsal_tl_write(void)
{
	unsigned int n;
	FILE *f;

	if (!tl.on || atomic_exchange(&tl.written, true))
		return;
	n = atomic_load(&tl.n);
	if (n > TL_MAX)
		n = TL_MAX;
	f = fopen(tl.path, "we");
	if (!f)
		return;
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *b = (const uint8_t *)&tl.v[i].addr;

		fprintf(f, "%s %02x%02x%02x%02x %u %llu\n", stage_names[tl.v[i].stage], b[0], b[1],
			b[2], b[3], tl.v[i].port, (unsigned long long)tl.v[i].ns);
	}
	fclose(f);
}
