// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shm-fixture NAME populate|foreign|truncated|version
 * Builds table segments for the pepsal-shm tests: a populated table with
 * entries in every state and both families, or a broken segment.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../shm/layout.h"
#include "pepsal_table.h"

static int populate(const char *name)
{
	struct pepsal_endpoint c, d;
	struct pepsal_entry_view v;
	struct pepsal_table *t;
	char err[512];
	uint64_t now = pepsal_now_ns();
	int idx;

	if (pepsal_table_create(name, 64, 0, &t, err, sizeof(err))) {
		fprintf(stderr, "shm-fixture: %s\n", err);
		return 1;
	}
	pepsal_endpoint_parse(&c, "198.18.1.2:40001");
	pepsal_endpoint_parse(&d, "198.18.2.2:80");
	pepsal_table_record_syn(t, &c, &d, now, NULL);
	pepsal_endpoint_parse(&c, "198.18.1.2:40002");
	pepsal_table_record_syn(t, &c, &d, now, NULL);
	pepsal_table_claim(t, &c, &d, now, &v);
	pepsal_table_add_bytes(t, v.slot, PEPSAL_DIR_C2S, 123, now);
	pepsal_table_add_bytes(t, v.slot, PEPSAL_DIR_S2C, 456789, now);
	pepsal_endpoint_parse(&c, "[fd00:1::2]:40003");
	pepsal_endpoint_parse(&d, "[fd00:2::2]:443");
	pepsal_table_record_syn(t, &c, &d, now, NULL);
	pepsal_table_claim(t, &c, &d, now, &v);
	pepsal_table_set_state(t, v.slot, v.gen, PEPSAL_STATE_CLOSING);
	pepsal_table_heartbeat(t, PEPSAL_ROLE_PROXY, getpid(), now);
	idx = pepsal_table_counter_register(t, "proxy.accepted");
	pepsal_table_counter_add(t, idx, 2);
	/* names come from the segment: the inspector must escape them */
	idx = pepsal_table_counter_register(t, "odd\"name\\\x01");
	pepsal_table_counter_add(t, idx, 1);
	pepsal_table_detach(t);
	return 0;
}

static int raw(const char *name, const void *buf, size_t len)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
		perror("shm-fixture");
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static char junk[16384]; /* bigger than a header */
	struct pepsal_table *t;
	char err[512];

	if (argc != 3) {
		fprintf(stderr, "usage: shm-fixture NAME populate|foreign|truncated|version\n");
		return 2;
	}
	if (strcmp(argv[2], "populate") == 0)
		return populate(argv[1]);
	if (strcmp(argv[2], "foreign") == 0) {
		memset(junk, 'x', sizeof(junk));
		return raw(argv[1], junk, sizeof(junk));
	}
	if (populate(argv[1]) || pepsal_table_attach(argv[1], false, &t, err, sizeof(err)))
		return 1;
	if (strcmp(argv[2], "version") == 0) {
		t->hdr->version = PEPSAL_TABLE_VERSION + 1;
		pepsal_table_detach(t);
		return 0;
	}
	if (strcmp(argv[2], "truncated") == 0) {
		int fd = shm_open(argv[1], O_RDWR, 0);
		int r = fd < 0 || ftruncate(fd, (off_t)(t->map_size / 2));

		pepsal_table_detach(t);
		return r;
	}
	return 2;
}
