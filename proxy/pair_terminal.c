// SPDX-License-Identifier: GPL-2.0-or-later
/* The terminal's upstream leg (pair_terminal.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pair_pool.h"
#include "pair_terminal.h"
#include "pepsal_log.h"
#include "sockopt.h"
#include "stats.h"

static const struct pair_terminal_params *term;

void pair_terminal_init(const struct pair_terminal_params *p)
{
	term = p;
}

/* The confirmation of a held SYN's dial on FD, within TIMEOUT_NS. */
static int confirmed(int fd, uint64_t timeout_ns)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b = 0;
	int n = poll(&p, 1, (int)(timeout_ns / 1000000));

	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	n = (int)recv(fd, &b, 1, MSG_DONTWAIT);
	return n == 1 && b == PAIR_PROBE_OK ? 0 : -ECONNREFUSED; /* reset: refused */
}

static int pair_dial(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		     const struct pepsal_endpoint *dst, int tos, bool held)
{
	char a[PEPSAL_ENDPOINT_STRLEN];
	int fd = pair_pool_take(d->stop), rc = fd;

	if (tos >= 0)
		tos &= 0xfc; /* the DSCP; ECN is each connection's own */
	if (fd >= 0) {
		if (tos >= 0) /* the satellite's QoS sees the client's DSCP */
			sock_set_tos(fd, d->cfg->pair.gateway.family, tos);
		rc = pair_pool_send_header(fd, term->key, held ? PAIR_KIND_CONFIRM : PAIR_KIND_CONN,
					   client, dst, tos);
		if (rc == 0 && held)
			rc = confirmed(fd, d->timeout_ns ? d->timeout_ns :
				       d->cfg->connect_timeout_ns);
		if (rc == 0) {
			stats_count(PC_PAIR_USED, 1);
			return fd;
		}
		close(fd);
		if (held) /* the gateway answered for the server: no direct dial */
			return rc;
	}
	if (rc == -ECANCELED)
		return rc;
	pr_ratelimited(LOG_INFO, "no pair connection for %s (%s): dialing directly",
		       pepsal_endpoint_format(client, a),
		       rc == -EHOSTUNREACH ? "the gateway is not answering" : strerror(-rc));
	stats_count(PC_PAIR_FALLBACK_DIRECT, 1);
	return dial_upstream_tos(d, client, dst, tos);
}

int pair_terminal_dial(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		       const struct pepsal_endpoint *dst, int tos)
{
	return pair_dial(d, client, dst, tos, false);
}

int pair_terminal_dial_held(const struct dial_ctx *d, const struct pepsal_endpoint *client,
			    const struct pepsal_endpoint *dst, int tos)
{
	return pair_dial(d, client, dst, tos, true);
}
