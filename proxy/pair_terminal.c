// SPDX-License-Identifier: GPL-2.0-or-later
/* The terminal's upstream leg (pair_terminal.h). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
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

/* Write the header for CLIENT -> DST on the fresh pair connection FD. */
static int send_header(int fd, const struct pepsal_endpoint *client,
		       const struct pepsal_endpoint *dst, int tos)
{
	struct pair_hdr h = { .client = *client, .dst = *dst, .tos = tos,
			      .time_s = (uint64_t)time(NULL) };
	uint8_t buf[PAIR_HDR_LEN];
	ssize_t n;

	if (getrandom(h.nonce, sizeof(h.nonce), 0) != (ssize_t)sizeof(h.nonce))
		return -EIO;
	pair_hdr_encode(&h, term->key, buf);
	/* a fresh connection's send buffer always takes it whole */
	n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(buf) ? 0 : -EIO;
}

int pair_terminal_dial(const struct dial_ctx *d, const struct pepsal_endpoint *client,
		       const struct pepsal_endpoint *dst, int tos)
{
	char a[PEPSAL_ENDPOINT_STRLEN];
	int fd = pair_pool_take(d->cancel), rc = fd;

	if (fd >= 0) {
		if (tos >= 0) /* the satellite's QoS sees the client's DSCP */
			sock_set_tos(fd, d->cfg->pair.gateway.family, tos);
		rc = send_header(fd, client, dst, tos);
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
