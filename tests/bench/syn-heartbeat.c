// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * syn-heartbeat: stands in for the proxy's liveness in a table, so the
 * queuer's namespace test and SYN benchmark can see the "proxy up" verdict
 * (marked SYNs) without running a proxy. Claims the proxy role, beats every
 * 200 ms, releases the role on SIGTERM/SIGINT. With --create it makes the
 * table first, as a starting proxy does (the test of a replaced table).
 *   syn-heartbeat --shm NAME [--create]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pepsal_opts.h"
#include "pepsal_table.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	const char *shm = PEPSAL_SHM_DEFAULT_NAME;
	bool create = false;
	const struct pepsal_opt opts[] = {
		{ "shm", 's', PEPSAL_OPT_STRING, &shm, "NAME", "table to beat in", 0, 0, NULL },
		{ "create", 0, PEPSAL_OPT_FLAG, &create, NULL, "create the table", 0, 0, NULL },
		{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
	};
	struct timespec tick = { 0, 200 * 1000 * 1000 };
	struct sigaction sa;
	struct pepsal_table *t;
	char err[256];
	int r;

	r = pepsal_opts_parse("syn-heartbeat", "[--shm NAME] [--create]", opts, argc, argv);
	if (r < 0)
		return r == -2 ? 0 : 2;
	if (create)
		r = pepsal_table_create(shm, 0, 0, &t, err, sizeof(err));
	else
		r = pepsal_table_attach(shm, false, &t, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "syn-heartbeat: %s\n", err);
		return 1;
	}
	r = pepsal_table_claim_role(t, PEPSAL_ROLE_PROXY, getpid(), pepsal_now_ns(),
				    3000000000ull);
	if (r < 0) {
		fprintf(stderr, "syn-heartbeat: cannot claim the proxy role: %s\n", strerror(-r));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop) {
		pepsal_table_heartbeat(t, PEPSAL_ROLE_PROXY, getpid(), pepsal_now_ns());
		nanosleep(&tick, NULL);
	}
	pepsal_table_release_role(t, PEPSAL_ROLE_PROXY, getpid());
	pepsal_table_detach(t);
	return 0;
}
