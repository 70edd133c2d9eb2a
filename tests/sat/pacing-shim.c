// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pacing-shim.so: LD_PRELOAD helper for the GEO tuning runs (tests/sat/tune.sh).
 * It stands in for a pepsal option that does not exist yet (--client-pacing
 * RATE): on every socket pepsal accepts (its satellite leg) it sets
 * SO_MAX_PACING_RATE to $PEPSAL_SHIM_PACING bytes per second. The kernel then
 * paces that socket itself (internal TCP pacing: no fq qdisc needed, and this
 * kernel has none), at min(its own pacing rate, the cap).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

static void cap(int fd)
{
	const char *v = getenv("PEPSAL_SHIM_PACING");
	uint64_t rate;

	if (fd < 0 || !v || !*v)
		return;
	rate = strtoull(v, NULL, 10);
	if (rate)
		setsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &rate, sizeof(rate));
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	static int (*real)(int, struct sockaddr *, socklen_t *, int);
	int c;

	if (!real)
		real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
	c = real(fd, addr, len, flags);
	cap(c);
	return c;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}
