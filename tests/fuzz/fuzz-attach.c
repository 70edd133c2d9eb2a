// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness of attaching to a connection table: the input becomes
 * the whole content of a shared-memory segment, which is attached read-only
 * (as pepsal-shm does) and read through every reader: the header, each
 * entry's snapshot, the named counters, the heartbeats. A segment that
 * passes validation must never send a reader out of bounds, whatever the
 * entries hold.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pepsal_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char name[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pepsal_table_info info;
	struct pepsal_entry_view v;
	struct pepsal_table *t;
	char err[512], cname[PEPSAL_COUNTER_NAME_MAX];
	uint64_t value;
	int fd;

	if (!name[0])
		snprintf(name, sizeof(name), "/pepsal-fuzz-attach-%d", (int)getpid());
	fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		shm_unlink(name);
		return 0;
	}
	close(fd);
	if (pepsal_table_attach(name, true, &t, err, sizeof(err)) == 0) {
		pepsal_table_get_info(t, &info);
		if (info.capacity != pepsal_table_capacity(t) || info.segment_size != size)
			__builtin_trap();
		for (uint32_t i = 0; i < info.capacity; i++)
			if (pepsal_table_snapshot(t, i, &v) == 0 &&
			    (v.slot != i || (v.client.family != AF_INET &&
					     v.client.family != AF_INET6)))
				__builtin_trap();
		for (int i = 0; pepsal_table_counter_get(t, i, cname, &value); i++)
			if (strnlen(cname, sizeof(cname)) == sizeof(cname))
				__builtin_trap();
		for (int r = 0; r < PEPSAL_ROLE_COUNT; r++)
			pepsal_table_role_alive(t, (enum pepsal_role)r, pepsal_now_ns(), 1);
		for (int i = 0; i < PEPSAL_MAX_QUEUES; i++) {
			struct pepsal_queue_view q;

			if (pepsal_table_queue_get(t, i, &q) && q.queue > UINT32_MAX - 1)
				__builtin_trap();
		}
		pepsal_table_detach(t);
	} else if (!err[0]) {
		__builtin_trap(); /* a refusal always says why */
	}
	shm_unlink(name);
	return 0;
}
