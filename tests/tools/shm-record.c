// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-test-record: record a SYN in a pepsal table as the queuer would,
 * for tests that need a pending entry no connection follows (garbage
 * collection).  Usage: pepsal-test-record SHM CLIENT DST [AGE_S]
 * CLIENT and DST as "198.18.1.2:1234" or "[fd00::1]:80"; AGE_S backdates
 * the SYN. Prints the slot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pepsal_table.h"

int main(int argc, char **argv)
{
	struct pepsal_endpoint client, dst;
	enum pepsal_record_how how;
	struct pepsal_table *t;
	char err[256];
	uint64_t now;
	int rc;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: %s SHM CLIENT DST [AGE_S]\n", argv[0]);
		return 2;
	}
	if (!pepsal_endpoint_parse(&client, argv[2]) || !pepsal_endpoint_parse(&dst, argv[3])) {
		fprintf(stderr, "%s: bad endpoint\n", argv[0]);
		return 2;
	}
	rc = pepsal_table_attach(argv[1], false, &t, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 1;
	}
	now = pepsal_now_ns();
	if (argc == 5)
		now -= strtoull(argv[4], NULL, 10) * 1000000000ull;
	rc = pepsal_table_record_syn(t, &client, &dst, now, &how);
	pepsal_table_detach(t);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-rc));
		return 1;
	}
	printf("%d\n", rc);
	return 0;
}
