// SPDX-License-Identifier: GPL-2.0-or-later
/* The switchover's messages on their TCP connection (migrate_int.h): a
 * header with the magic, the version, the type and the length, then the
 * payload; every wait bounded. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "migrate_int.h"
#include "pepsal_clock.h"
#include "stop.h"

int mw_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int mw_read_all(int fd, void *buf, size_t len, int timeout_ms)
{
	char *p = buf;

	while (len) {
		uint64_t deadline = pepsal_now_ns() + (uint64_t)timeout_ms * 1000000ull;
		short revents;
		ssize_t n;
		int r;

		while ((r = stop_poll(NULL, fd, POLLIN, deadline, &revents)) == -EINTR)
			;
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return r;
		n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int mw_send(int fd, uint32_t type, const void *a, size_t alen, const void *b, size_t blen)
{
	struct msg_hdr h = { MAGIC, MIGRATE_VERSION, type, (uint32_t)(alen + blen) };
	int rc = mw_write_all(fd, &h, sizeof(h));

	if (!rc && alen)
		rc = mw_write_all(fd, a, alen);
	if (!rc && blen)
		rc = mw_write_all(fd, b, blen);
	return rc;
}

int mw_recv(int fd, uint32_t want, char **body, uint32_t *len, char *err, size_t errlen)
{
	struct msg_hdr h;
	char *b;
	int rc = mw_read_all(fd, &h, sizeof(h), STEP_MS);

	*body = NULL;
	if (rc) {
		snprintf(err, errlen, "the other box %s", rc == -ETIMEDOUT ?
			 "did not answer in time" : "went away");
		return rc;
	}
	if (h.magic != MAGIC || h.version != MIGRATE_VERSION || h.len > (1u << 30)) {
		snprintf(err, errlen, "not a pepsal switchover of version %u", MIGRATE_VERSION);
		return -EPROTO;
	}
	b = malloc(h.len + 1);
	if (!b)
		return -ENOMEM;
	if ((rc = mw_read_all(fd, b, h.len, STEP_MS))) {
		free(b);
		snprintf(err, errlen, "the other box went away");
		return rc;
	}
	b[h.len] = '\0';
	if (h.type == M_NAK) {
		snprintf(err, errlen, "the other box refused: %s", b);
		free(b);
		return -EPROTO;
	}
	if (h.type != want) {
		free(b);
		snprintf(err, errlen, "unexpected message %u (expected %u)", h.type, want);
		return -EPROTO;
	}
	*body = b;
	*len = h.len;
	return 0;
}

void mw_nak(int fd, const char *why)
{
	mw_send(fd, M_NAK, why, strlen(why), NULL, 0);
}
