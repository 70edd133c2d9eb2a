// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-test-lockhold NAME: attach to the table NAME, take its writers'
 * lock, then stop (SIGSTOP) holding it, as a writer descheduled or stopped
 * in a debugger would. On SIGCONT it unlocks, detaches and exits 0. For the
 * tests of what pepsal does when the table's lock times out.
 */
#include <signal.h>
#include <stdio.h>

#include "../../shm/lock.h"
#include "pepsal_table.h"

int main(int argc, char **argv)
{
	struct pepsal_table *t;
	char err[512];
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pepsal-test-lockhold NAME\n");
		return 2;
	}
	if (pepsal_table_attach(argv[1], false, &t, err, sizeof(err))) {
		fprintf(stderr, "pepsal-test-lockhold: %s\n", err);
		return 1;
	}
	rc = pepsal_table_lock(t);
	if (rc) {
		fprintf(stderr, "pepsal-test-lockhold: cannot lock: %d\n", rc);
		return 1;
	}
	printf("locked\n");
	fflush(stdout);
	raise(SIGSTOP);
	pepsal_table_unlock(t);
	pepsal_table_detach(t);
	return 0;
}
