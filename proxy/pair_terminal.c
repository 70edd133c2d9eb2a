// SPDX-License-Identifier: GPL-2.0-or-later
/* The terminal's upstream leg (pair_terminal.h). */
#include <errno.h>
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

int pair_terminal_dial(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		       const struct pepsal_endpoint *dst, int tos)
{
	char a[PEPSAL_ENDPOINT_STRLEN];
	int fd = pair_pool_take(d->cancel), rc = fd;

	if (tos >= 0)
		tos &= 0xfc; /* the DSCP; ECN is each connection's own */
	if (fd >= 0) {
		if (tos >= 0) /* the satellite's QoS sees the client's DSCP */
			sock_set_tos(fd, d->cfg->pair.gateway.family, tos);
		rc = pair_pool_send_header(fd, term->key, PAIR_KIND_CONN, client, dst, tos);
		if (rc == 0) {
			stats_count(PC_PAIR_USED, 1);
			return fd;
		}
		close(fd);
	}
	if (rc == -ECANCELED)
		return rc;
	pr_ratelimited(LOG_INFO, "no pair connection for %s (%s): dialing directly",
		       pepsal_endpoint_format(client, a),
		       rc == -EHOSTUNREACH ? "the gateway is not answering" : strerror(-rc));
	stats_count(PC_PAIR_FALLBACK_DIRECT, 1);
	return dial_upstream_tos(d, client, dst, tos);
}
