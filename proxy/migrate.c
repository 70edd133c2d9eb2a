// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The switchover (migrate.h), the giver's side.
 *
 * Giver (SIGUSR1; pepsal-ha switchover has frozen the box first: nothing
 * reaches these sockets any more, what arrives is dropped and will be
 * retransmitted): connect to --ha-peer, HELLO (how many); pause every
 * connection (relay_quiesce, as for an upgrade); for each, both sockets
 * into repair mode and dumped, the bytes of its held pipes read; CONN
 * records, END; the taker says READY once it restored them all (in repair
 * mode, not started); GO; then the giver lets go of its copies: closed in
 * repair mode, a socket sends nothing; the entries leave its table. Any
 * failure before GO: repair mode off without a probe, the pipes' bytes
 * written back, everything resumed here.
 *
 * A half-closed connection moves (a socket whose peer's FIN came, or that
 * sent its own: repair.h). One that cannot (a socket past both FINs, or in
 * a state TCP_REPAIR does not restore) is reset at both ends by the giver after GO and counted
 * (proxy.ha_unmovable). One whose dial was in progress moves undialed: the
 * taker dials. The taker's side is migrate_in.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial.h"
#include "entry.h"
#include "migrate_int.h"
#include "pepsal_daemon.h"
#include "pepsal_log.h"
#include "relay.h"
#include "repair.h"
#include "sockopt.h"
#include "stats.h"

#define PEER_CONNECT_NS 2000000000ull /* the other box answers our SYN within */

static struct {
	const struct migrate_params *p;
} mig;

/* ---- the giver --------------------------------------------------------------- */

struct out_conn {
	struct relay_conn_state *st;
	bool dumped[2], movable;
	char *q[2][2];             /* per socket: outq, inq */
	char *pipe[2];
	uint32_t pipe_len[2];
};

static int peer_connect(char *err, size_t errlen)
{
	const struct proxy_config *cfg = mig.p->cfg;
	struct sockaddr_storage ss;
	socklen_t sl = pepsal_endpoint_to_sockaddr(&cfg->ha_peer, &ss);
	int fd, one = 1, rc;

	fd = socket(cfg->ha_peer.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	setsockopt(fd, SOL_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
		rc = -errno;
	else
		rc = dial_wait_connected(fd, PEER_CONNECT_NS, NULL, NULL);
	if (rc)
		goto fail;
	fcntl(fd, F_SETFL, 0);
	return fd;
fail:
	snprintf(err, errlen, "cannot reach the other box: %s", strerror(-rc));
	if (fd >= 0)
		close(fd);
	return -ENOTCONN;
}

/* Read the bytes a held pipe holds (written back if the move fails). */
static int drain_pipe(const struct relay_pipe *p, char **out, uint32_t *len)
{
	int n = 0;

	*out = NULL;
	*len = 0;
	if (p->fd[0] < 0 || ioctl(p->fd[0], FIONREAD, &n) < 0 || n <= 0)
		return 0;
	*out = malloc((size_t)n);
	if (!*out || read(p->fd[0], *out, (size_t)n) != n) {
		free(*out);
		*out = NULL;
		return -EIO;
	}
	*len = (uint32_t)n;
	return 0;
}

/* Dump one paused connection into O and send it. 0 (sent, or not movable:
 * skipped) or -errno. */
static int send_conn(int sock, struct out_conn *o, char *err, size_t errlen)
{
	const struct relay_conn_state *s = o->st;
	struct m_conn m = { .client = s->client, .dst = s->dst,
			    .bytes = { s->bytes[0], s->bytes[1] }, .age_ns = s->age_ns,
			    .has_server = s->fd[1] >= 0 };
	char why[128];
	size_t total = 0, off = 0;
	char *buf;
	int rc;

	if (s->eof[0] && s->eof[1])
		return 0; /* closing both ways: nothing to move */
	m.eof[0] = s->eof[0];
	m.eof[1] = s->eof[1];
	for (int k = 0; k < 2; k++) {
		if (s->fd[k] < 0)
			continue;
		/* the client socket is reborn with the address the client
		 * talks to: the original destination (under REDIRECT it is
		 * ours here) */
		rc = repair_dump(s->fd[k], k == 0 ? &s->dst : NULL, &m.sock[k], &o->q[k][0],
				 &o->q[k][1], why, sizeof(why));
		if (rc == -ENOTCONN) {
			pr_ratelimited(LOG_INFO, "switchover: a connection's %s socket cannot move: %s",
				       k ? "server" : "client", why);
			/* out of repair mode again: the reset after GO must go out */
			for (int j = 0; j < k; j++)
				if (o->dumped[j]) {
					repair_cancel(s->fd[j]);
					o->dumped[j] = false;
				}
			return 0;
		}
		if (rc) {
			snprintf(err, errlen, "%s socket: %s", k ? "server" : "client", why);
			return rc;
		}
		o->dumped[k] = true;
		/* moved here once already without its FIN: it stays so */
		if (s->fin_in[k == 0 ? PEPSAL_DIR_C2S : PEPSAL_DIR_S2C])
			m.sock[k].fin_in = 1;
		total += m.sock[k].outq_len + m.sock[k].inq_len;
	}
	for (int d = 0; d < 2; d++) {
		if ((rc = drain_pipe(&s->pipe[d], &o->pipe[d], &o->pipe_len[d]))) {
			snprintf(err, errlen, "cannot read a pipe");
			return rc;
		}
		m.pipe_len[d] = o->pipe_len[d];
		total += o->pipe_len[d];
	}
	buf = malloc(total ? total : 1);
	if (!buf)
		return -ENOMEM;
	for (int k = 0; k < 2; k++)
		for (int q = 0; q < 2; q++) {
			uint32_t n = q ? m.sock[k].inq_len : m.sock[k].outq_len;

			if (n)
				memcpy(buf + off, o->q[k][q], n);
			off += n;
		}
	for (int d = 0; d < 2; d++) {
		if (o->pipe_len[d])
			memcpy(buf + off, o->pipe[d], o->pipe_len[d]);
		off += o->pipe_len[d];
	}
	rc = mw_send(sock, M_CONN, &m, sizeof(m), buf, total);
	free(buf);
	if (rc)
		snprintf(err, errlen, "cannot send to the other box: %s", strerror(-rc));
	o->movable = !rc;
	return rc;
}

/* The move failed before GO: everything as it was. */
static void out_undo(struct out_conn *o, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		for (int k = 0; k < 2; k++)
			if (o[i].dumped[k])
				repair_cancel(o[i].st->fd[k]);
		for (int d = 0; d < 2; d++)
			if (o[i].pipe_len[d] &&
			    write(o[i].st->pipe[d].fd[1], o[i].pipe[d], o[i].pipe_len[d]) !=
			    (ssize_t)o[i].pipe_len[d])
				pr_err("switchover: %u bytes in flight lost putting them back",
				       o[i].pipe_len[d]);
	}
}

static void out_free(struct out_conn *o, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		for (int k = 0; k < 2; k++)
			for (int q = 0; q < 2; q++)
				free(o[i].q[k][q]);
		for (int d = 0; d < 2; d++)
			free(o[i].pipe[d]);
	}
	free(o);
}

static void write_one(FILE *f, void *ctx)
{
	(void)ctx;
	fputs("1\n", f);
}

/* --ha-track-file: keepalived gives the addresses up the moment this
 * says 1 (pepsal-ha switchover writes it too, later; it writes 0 again).
 * Replaced whole: keepalived reads it on the rename as on a write. */
static void track_file_set(void)
{
	const char *path = mig.p->cfg->ha_track_file;
	int rc;

	if (path && (rc = pepsal_file_replace(path, write_one, NULL)))
		pr_warn("--ha-track-file %s: %s", path, strerror(-rc));
}

int migrate_out(void)
{
	struct relay_conn_state *st = NULL;
	struct out_conn *o = NULL;
	struct m_hello hello = { .nconns = relay_active() };
	uint64_t t0 = pepsal_now_ns(), t1 = 0, t2, tq = 0, td = 0;
	unsigned int moved = 0, unmovable = 0;
	char err[256] = "", *body;
	uint32_t len;
	int sock, n = 0, rc;

	if (!mig.p || !mig.p->cfg->ha_peer.family) {
		pr_warn("SIGUSR1: no --ha-peer to move the connections to");
		return -EINVAL;
	}
	pr_info("SIGUSR1: moving %u connections to the other box", hello.nconns);
	sock = peer_connect(err, sizeof(err));
	if (sock < 0) {
		rc = sock;
		goto out;
	}
	if ((rc = mw_send(sock, M_HELLO, &hello, sizeof(hello), NULL, 0)) ||
	    (rc = mw_recv(sock, M_ACK, &body, &len, err, sizeof(err))))
		goto out_sock;
	free(body);
	t1 = pepsal_now_ns();
	if ((rc = relay_quiesce(QUIESCE_NS))) {
		snprintf(err, sizeof(err), "some connections did not pause within %llu ms",
			 QUIESCE_NS / 1000000);
		mw_nak(sock, err);
		relay_resume();
		goto out_sock;
	}
	tq = pepsal_now_ns();
	n = relay_export(&st);
	o = n >= 0 ? calloc((size_t)n + 1, sizeof(*o)) : NULL;
	if (!o) {
		rc = n < 0 ? n : -ENOMEM;
		snprintf(err, sizeof(err), "cannot list the connections: %s", strerror(-rc));
		n = 0;
		goto undo;
	}
	for (int i = 0; i < n; i++) {
		o[i].st = &st[i];
		if ((rc = send_conn(sock, &o[i], err, sizeof(err))))
			goto undo;
		moved += o[i].movable;
	}
	td = pepsal_now_ns();
	if ((rc = mw_send(sock, M_END, NULL, 0, NULL, 0)) ||
	    (rc = mw_recv(sock, M_READY, &body, &len, err, sizeof(err))))
		goto undo;
	free(body);
	if ((rc = mw_send(sock, M_GO, NULL, 0, NULL, 0))) {
		snprintf(err, sizeof(err), "cannot send GO: %s", strerror(-rc));
		goto undo;
	}
	/* committed: the moved sockets close in repair mode (silently); the
	 * others get a reset at both ends; no entry stays */
	t2 = pepsal_now_ns();
	for (int i = 0; i < n; i++) {
		if (!o[i].movable) {
			unmovable++;
			sock_abort(st[i].fd[0]);
			sock_abort(st[i].fd[1]);
		}
		pepsal_table_remove(mig.p->table, st[i].slot, st[i].gen);
	}
	relay_release();
	close(sock);
	track_file_set();
	stats_count(PC_HA_SWITCHOVERS, 1);
	stats_count(PC_HA_MOVED_OUT, moved);
	stats_count(PC_HA_UNMOVABLE, unmovable);
	pr_info("switchover: %u connections moved to the other box, %u reset (not "
		"established); paused %.1f ms (pausing %.1f, dumping and sending %.1f, the "
		"other box ready %.1f later)", moved, unmovable,
		(double)(pepsal_now_ns() - t1) / 1e6, (double)(tq - t1) / 1e6,
		(double)(td - tq) / 1e6, (double)(t2 - td) / 1e6);
	out_free(o, (unsigned int)n);
	free(st);
	return (int)moved;
undo:
	mw_nak(sock, err);
	out_undo(o, (unsigned int)n);
	relay_resume();
out_sock:
	close(sock);
out:
	if (o)
		out_free(o, (unsigned int)n);
	free(st);
	stats_count(PC_HA_SWITCHOVERS_FAILED, 1);
	pr_err("switchover failed after %.1f ms: %s; this box keeps serving everything",
	       (double)(pepsal_now_ns() - t0) / 1e6, err);
	return rc;
}

/* ---- start and stop ------------------------------------------------------------- */

int migrate_init(const struct migrate_params *p, char *err, size_t errlen)
{
	mig.p = p;
	return migrate_in_init(p, err, errlen);
}

void migrate_fini(void)
{
	migrate_in_fini();
}
