// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The hand-over format (handover.h): headers, descriptors over SCM_RIGHTS
 * (received close-on-exec, a truncated control message is an error, never
 * a silent loss) and the connection records. Both ends run on one host from
 * builds that agree on HANDOVER_VERSION, so records are native-endian; a
 * change of the record layout is a change of the version.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handover.h"

#define MAGIC "PEPSALHO"
#define MAX_PAYLOAD (64 * 1024)
#define FDS_PER_CONN 6            /* 2 sockets, 2 pipes of 2 ends */
#define CONNS_PER_BATCH (HANDOVER_MAX_FDS / FDS_PER_CONN)
/* Batches sent before their ACK is awaited: descriptors in flight count
 * against the sender's RLIMIT_NOFILE (ETOOMANYREFS), so they stay below
 * half of it; and each wait for the receiver costs a scheduling round. */
static unsigned int window(void)
{
	struct rlimit rl;
	rlim_t w;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1;
	w = rl.rlim_cur / 2 / HANDOVER_MAX_FDS;
	return w < 1 ? 1 : w > 1024 ? 1024 : (unsigned int)w;
}

struct header {
	char magic[8];
	uint32_t version;
	uint32_t type;
	uint32_t len;                  /* payload bytes after the header */
	uint32_t pad;
};

/* One connection on the wire; its fds follow in the message's order:
 * client, server (unless still to dial), then for each direction with a
 * pipe its read and write ends. */
struct wire_conn {
	uint32_t slot, gen;
	uint64_t bytes[2];
	uint64_t age_ns;
	struct pepsal_endpoint client, dst;
	uint32_t pipe_size[2];
	uint8_t eof[2];
	uint8_t has_pipe[2];
	uint8_t has_server;            /* 0: still to dial */
	uint8_t fin_in[2];             /* its input's FIN came (a socket moved from the
					* other box of two, relay.h); in what was
					* padding, 0 from older builds: the version
					* stays */
	uint8_t pad[1];
};

_Static_assert(sizeof(struct pepsal_endpoint) == 20, "endpoint layout is in the format");
_Static_assert(sizeof(struct wire_conn) == 88, "a connection's record is in the format");

/* One message of NIOV pieces with NFDS descriptors attached (the fuzz
 * harness, tests/fuzz/fuzz-handover.c, sends its raw inputs by it too). */
static int send_msg(int sock, struct iovec *iov, size_t niov, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(HANDOVER_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = niov };

	if (nfds > HANDOVER_MAX_FDS)
		return -EMSGSIZE;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.buf;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	for (;;) {
		if (sendmsg(sock, &m, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int handover_send(int sock, uint32_t type, const void *payload, size_t len,
		  const int *fds, unsigned int nfds)
{
	struct header h = { .version = HANDOVER_VERSION, .type = type, .len = (uint32_t)len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, len } };

	if (len > MAX_PAYLOAD)
		return -EMSGSIZE;
	memcpy(h.magic, MAGIC, sizeof(h.magic));
	return send_msg(sock, iov, len ? 2 : 1, fds, nfds);
}

void handover_nak(int sock, const char *reason)
{
	handover_send(sock, HO_NAK, reason, strlen(reason) + 1, NULL, 0);
}

static void close_fds(const int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
}

static const char *type_name(uint32_t t)
{
	static const char *const names[] = { "?", "HELLO", "OFFER", "ACK", "CONNS", "READY",
					     "GO", "QUEUER_GONE", "NAK", "BEGIN" };

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

int handover_recv(int sock, uint32_t want, void *payload, size_t len, size_t *got,
		  int *fds, unsigned int maxfds, unsigned int *nfds, int timeout_ms,
		  char *err, size_t errlen)
{
	static char buf[sizeof(struct header) + MAX_PAYLOAD];
	union {
		char buf[CMSG_SPACE(HANDOVER_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	unsigned int n = 0;
	struct header h;
	ssize_t r;
	int rc;

	*nfds = 0;
	rc = poll(&pfd, 1, timeout_ms);
	if (rc == 0) {
		snprintf(err, errlen, "no %s within %d ms", type_name(want), timeout_ms);
		return -ETIMEDOUT;
	}
	do
		r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | (rc < 0 ? 0 : MSG_DONTWAIT));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		rc = errno == ECONNRESET ? -ECONNRESET : -errno;
		snprintf(err, errlen, "the other process went away (%s)", strerror(errno));
		return rc;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		unsigned int k = (unsigned int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int *in = (int *)CMSG_DATA(cm);

		for (unsigned int i = 0; i < k; i++) {
			if (n < maxfds)
				fds[n++] = in[i];
			else
				close(in[i]);
		}
		if (k > maxfds) {
			snprintf(err, errlen, "%u descriptors in a %s, at most %u expected", k,
				 type_name(want), maxfds);
			goto bad;
		}
	}
	if (r == 0) { /* the end of the socket, or an empty message: never ours */
		snprintf(err, errlen, "the other process went away (end of the socket)");
		close_fds(fds, n);
		return -ECONNRESET;
	}
	if (m.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
		snprintf(err, errlen, "a hand-over message was truncated (%s): out of "
			 "descriptors (RLIMIT_NOFILE)?", m.msg_flags & MSG_CTRUNC ?
			 "descriptors" : "data");
		goto bad;
	}
	if ((size_t)r < sizeof(h) || memcmp(buf, MAGIC, 8)) {
		snprintf(err, errlen, "not a pepsal hand-over message");
		goto bad;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.version != HANDOVER_VERSION) {
		snprintf(err, errlen, "hand-over format version %u, this build reads version %u",
			 h.version, HANDOVER_VERSION);
		goto bad;
	}
	if (h.len != (size_t)r - sizeof(h)) {
		snprintf(err, errlen, "a %s message of the wrong length", type_name(h.type));
		goto bad;
	}
	if (h.type == HO_NAK) {
		buf[r - 1 >= (ssize_t)sizeof(h) ? r - 1 : (ssize_t)sizeof(h) - 1] = '\0';
		snprintf(err, errlen, "refused: %s", h.len ? buf + sizeof(h) : "no reason");
		goto bad;
	}
	if (h.type != want || (want == HO_CONNS ? !len || h.len % len || h.len > MAX_PAYLOAD :
			       h.len != len)) {
		snprintf(err, errlen, "expected %s, got %s of %u bytes", type_name(want),
			 type_name(h.type), h.len);
		goto bad;
	}
	if (h.len) /* PAYLOAD may be NULL for an empty message */
		memcpy(payload, buf + sizeof(h), h.len);
	if (got)
		*got = h.len;
	*nfds = n;
	return 0;
bad:
	close_fds(fds, n);
	return -EPROTO;
}

/* ---- connections ------------------------------------------------------------ */

static unsigned int conn_fds(const struct relay_conn_state *s, int *out)
{
	unsigned int n = 0;

	out[n++] = s->fd[0];
	if (s->fd[1] >= 0)
		out[n++] = s->fd[1];
	for (int d = 0; d < 2; d++)
		if (s->pipe[d].fd[0] >= 0) {
			out[n++] = s->pipe[d].fd[0];
			out[n++] = s->pipe[d].fd[1];
		}
	return n;
}

int handover_send_conns(int sock, const struct relay_conn_state *st, unsigned int n,
			int timeout_ms, char *err, size_t errlen)
{
	static struct wire_conn w[CONNS_PER_BATCH];
	int fds[HANDOVER_MAX_FDS];
	unsigned int unacked = 0, none, max = window();
	int rc;

	for (unsigned int i = 0; i < n; i += CONNS_PER_BATCH) {
		unsigned int k = n - i < CONNS_PER_BATCH ? n - i : CONNS_PER_BATCH, nf = 0;

		for (unsigned int j = 0; j < k; j++) {
			const struct relay_conn_state *s = &st[i + j];

			w[j] = (struct wire_conn){
				.slot = s->slot, .gen = s->gen,
				.bytes = { s->bytes[0], s->bytes[1] }, .age_ns = s->age_ns,
				.client = s->client, .dst = s->dst,
				.pipe_size = { (uint32_t)s->pipe[0].size, (uint32_t)s->pipe[1].size },
				.eof = { s->eof[0], s->eof[1] },
				.has_pipe = { s->pipe[0].fd[0] >= 0, s->pipe[1].fd[0] >= 0 },
				.has_server = s->fd[1] >= 0,
				.fin_in = { s->fin_in[0], s->fin_in[1] },
			};
			nf += conn_fds(s, fds + nf);
		}
		rc = handover_send(sock, HO_CONNS, w, k * sizeof(w[0]), fds, nf);
		if (rc) {
			snprintf(err, errlen, "cannot send connections: %s", strerror(-rc));
			return rc;
		}
		if (++unacked < max)
			continue;
		rc = handover_recv(sock, HO_ACK, NULL, 0, NULL, NULL, 0, &none, timeout_ms,
				   err, errlen);
		if (rc)
			return rc;
		unacked--;
	}
	for (; unacked; unacked--) {
		rc = handover_recv(sock, HO_ACK, NULL, 0, NULL, NULL, 0, &none, timeout_ms,
				   err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

void handover_close_conns(struct relay_conn_state *st, unsigned int n)
{
	int fds[FDS_PER_CONN];

	for (unsigned int i = 0; i < n; i++)
		close_fds(fds, conn_fds(&st[i], fds));
}

int handover_recv_conns(int sock, struct relay_conn_state *st, unsigned int n,
			int timeout_ms, char *err, size_t errlen)
{
	static struct wire_conn w[CONNS_PER_BATCH];
	int fds[HANDOVER_MAX_FDS];
	unsigned int done = 0;

	while (done < n) {
		unsigned int nf, k, used = 0, want = 0;
		size_t got;
		int rc = handover_recv(sock, HO_CONNS, w, sizeof(w[0]), &got, fds,
				       HANDOVER_MAX_FDS, &nf, timeout_ms, err, errlen);

		if (rc)
			goto fail;
		k = (unsigned int)(got / sizeof(w[0]));
		for (unsigned int j = 0; j < k; j++)
			want += 1 + (w[j].has_server != 0) + 2 * (w[j].has_pipe[0] != 0) +
				2 * (w[j].has_pipe[1] != 0);
		if (k > n - done || want != nf) {
			snprintf(err, errlen, "a batch of %u connections with %u descriptors "
				 "(%u expected)", k, nf, want);
			close_fds(fds, nf);
			rc = -EPROTO;
			goto fail;
		}
		for (unsigned int j = 0; j < k; j++) {
			struct relay_conn_state *s = &st[done + j];

			*s = (struct relay_conn_state){
				.fd = { fds[used], w[j].has_server ? fds[used + 1] : -1 },
				.pipe = { RELAY_PIPE_INIT, RELAY_PIPE_INIT },
				.eof = { w[j].eof[0], w[j].eof[1] },
				.fin_in = { w[j].fin_in[0] != 0, w[j].fin_in[1] != 0 },
				.bytes = { w[j].bytes[0], w[j].bytes[1] },
				.slot = w[j].slot, .gen = w[j].gen,
				.client = w[j].client, .dst = w[j].dst, .age_ns = w[j].age_ns,
			};
			used += w[j].has_server ? 2 : 1;
			for (int d = 0; d < 2; d++) {
				if (!w[j].has_pipe[d])
					continue;
				s->pipe[d].fd[0] = fds[used++];
				s->pipe[d].fd[1] = fds[used++];
				s->pipe[d].size = w[j].pipe_size[d];
			}
		}
		done += k;
		rc = handover_send(sock, HO_ACK, NULL, 0, NULL, 0);
		if (rc) {
			snprintf(err, errlen, "cannot acknowledge: %s", strerror(-rc));
			goto fail;
		}
		continue;
fail:
		handover_close_conns(st, done);
		return rc;
	}
	return 0;
}
