// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-test-room: publish the proxy's room in a pepsal table as the proxy
 * would, for the queuer's tests.  Usage: pepsal-test-room SHM ROOM|none
 * "none" withdraws it (PEPSAL_ROOM_UNPUBLISHED: unlimited).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pepsal_table.h"

int main(int argc, char **argv)
{
	struct pepsal_table *t;
	unsigned long room;
	char err[256], *end = NULL;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SHM ROOM|none\n", argv[0]);
		return 2;
	}
	room = strcmp(argv[2], "none") == 0 ? PEPSAL_ROOM_UNPUBLISHED : strtoul(argv[2], &end, 10);
	if (room != PEPSAL_ROOM_UNPUBLISHED && end && (*end || end == argv[2] || room >= UINT32_MAX)) {
		fprintf(stderr, "%s: invalid room '%s'\n", argv[0], argv[2]);
		return 2;
	}
	rc = pepsal_table_attach(argv[1], false, &t, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 1;
	}
	pepsal_table_set_room(t, (uint32_t)room);
	pepsal_table_detach(t);
	return 0;
}
