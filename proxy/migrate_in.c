// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The switchover, the taker's side (migrate.h; the giver is migrate.c).
 *
 * Taker (--ha-listen, only from --ha-peer's address): for each record the
 * two sockets restored, an entry recorded in its own table, a pipe filled
 * with the bytes in flight, the connection imported unstarted
 * (relay_import); on GO repair mode ends (a window probe each), the unsent
 * bytes are written, the connections start (relay_resume). Any failure:
 * NAK, and what it restored is closed silently (repair mode) and its
 * entries removed.
 *
 * The peers learn the new path from the window probes the taker sends
 * when the addresses have moved; it cannot know when that is, so it sends
 * them for a few seconds after GO (migrate_tick), each round with the
 * relay paused for a moment (a socket in repair mode refuses writes).
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

#include "entry.h"
#include "migrate_int.h"
#include "pepsal_log.h"
#include "relay.h"
#include "repair.h"
#include "sockopt.h"
#include "stats.h"

/* window probes after a switchover came in, ms after GO */
static const unsigned int probe_ms[] = { 50, 150, 300, 500, 800, 1200, 2000, 3000 };
static struct {
	const struct migrate_params *p;
	int lfd;
	/* the taker's probes: the clients of the connections that came in */
	struct pepsal_endpoint *moved;
	unsigned int nmoved, next_probe;
	uint64_t go_ns;
	uint64_t retry_ns;         /* --ha-listen: the next try to open it */
} mig = { .lfd = -1 };

/* ---- the taker ------------------------------------------------------------------ */

struct in_conn {
	int fd[2];                 /* ours until relay_import took them */
	int rfd[2];                /* the same, to leave repair mode at GO */
	struct pepsal_endpoint client;
	char *unsent[2];
	uint32_t unsent_len[2];
	bool fin_out[2];
	uint32_t slot, gen;
	bool listed;
};

/* A pipe holding LEN bytes of BUF, for relay_import. */
static int filled_pipe(const char *buf, uint32_t len, struct relay_pipe *p)
{
	size_t size = mig.p->cfg->pipe_size;

	if (pipe2(p->fd, O_CLOEXEC) < 0)
		return -errno;
	if (size < len)
		size = len;
	if (fcntl(p->fd[1], F_SETPIPE_SZ, (int)size) < 0 ||
	    write(p->fd[1], buf, len) != (ssize_t)len) {
		close(p->fd[0]);
		close(p->fd[1]);
		p->fd[0] = p->fd[1] = -1;
		return -ENOSPC;
	}
	p->size = size;
	return 0;
}

/* One CONN record: restored, recorded, imported. */
static int take_conn(const char *body, uint32_t len, struct in_conn *ic, char *err, size_t errlen)
{
	const struct m_conn *m = (const void *)body;
	const char *q[2][2], *pp[2], *p = body + sizeof(*m);
	struct relay_conn_state st = { .fd = { -1, -1 },
				       .pipe = { RELAY_PIPE_INIT, RELAY_PIPE_INIT } };
	struct pepsal_entry_view entry;
	size_t need = sizeof(*m);
	char why[128];
	int rc;

	if (len < sizeof(*m))
		goto short_msg;
	for (int k = 0; k < 2; k++) {
		if (k && !m->has_server)
			break;
		need += (size_t)m->sock[k].outq_len + m->sock[k].inq_len;
		if (m->sock[k].unsent_len > m->sock[k].outq_len)
			goto short_msg;
	}
	need += (size_t)m->pipe_len[0] + m->pipe_len[1];
	if (need != len)
		goto short_msg;
	for (int k = 0; k < 2; k++) {
		if (k && !m->has_server)
			break;
		q[k][0] = p;
		p += m->sock[k].outq_len;
		q[k][1] = p;
		p += m->sock[k].inq_len;
	}
	for (int d = 0; d < 2; d++) {
		pp[d] = p;
		p += m->pipe_len[d];
	}
	for (int k = 0; k < 2; k++) {
		uint32_t sent;

		if (k && !m->has_server)
			break;
		rc = repair_restore(&m->sock[k], q[k][0], q[k][1], why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "cannot restore a %s socket: %s", k ? "server" : "client",
				 why);
			return rc;
		}
		ic->fd[k] = ic->rfd[k] = st.fd[k] = rc;
		if (leg_apply(rc, k ? LEG_SERVER : LEG_CLIENT, mig.p->cfg, why, sizeof(why)))
			pr_ratelimited(LOG_WARNING, "moved socket: %s", why);
		sent = m->sock[k].outq_len - m->sock[k].unsent_len;
		ic->fin_out[k] = m->sock[k].fin_out;
		if ((ic->unsent_len[k] = m->sock[k].unsent_len)) {
			ic->unsent[k] = malloc(ic->unsent_len[k]);
			if (!ic->unsent[k])
				return -ENOMEM;
			memcpy(ic->unsent[k], q[k][0] + sent, ic->unsent_len[k]);
		}
	}
	for (int d = 0; d < 2; d++)
		if (m->pipe_len[d] && (rc = filled_pipe(pp[d], m->pipe_len[d], &st.pipe[d]))) {
			snprintf(err, errlen, "no pipe for %u bytes in flight", m->pipe_len[d]);
			for (int e = 0; e < d; e++)
				if (st.pipe[e].fd[0] >= 0) {
					close(st.pipe[e].fd[0]);
					close(st.pipe[e].fd[1]);
				}
			return rc;
		}
	if (entry_record_claim(mig.p->table, &m->client, &m->dst, &entry) < 0)
		entry_unlisted(&entry, &m->dst); /* relayed all the same */
	else
		ic->listed = true;
	ic->slot = entry.slot;
	ic->gen = entry.gen;
	st.slot = entry.slot;
	st.gen = entry.gen;
	st.client = ic->client = m->client;
	st.dst = m->dst;
	/* a socket whose peer's FIN came: the direction it feeds ends with
	 * its queue (client: c2s, server: s2c) */
	st.fin_in[PEPSAL_DIR_C2S] = m->sock[0].fin_in;
	st.fin_in[PEPSAL_DIR_S2C] = m->has_server && m->sock[1].fin_in;
	st.eof[0] = m->eof[0];
	st.eof[1] = m->eof[1];
	st.bytes[0] = m->bytes[0];
	st.bytes[1] = m->bytes[1];
	st.age_ns = m->age_ns;
	/* from here the descriptors are the relay's, whatever happens */
	ic->fd[0] = ic->fd[1] = -1;
	if ((rc = relay_import(&st)))
		snprintf(err, errlen, "cannot take a connection: %s", strerror(-rc));
	return rc;
short_msg:
	snprintf(err, errlen, "a connection record of the wrong length");
	return -EPROTO;
}

static bool from_peer(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct pepsal_endpoint ep;

	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	       !pepsal_endpoint_from_sockaddr(&ep, (struct sockaddr *)&ss, sl) &&
	       pepsal_endpoint_same_addr(&ep, &mig.p->cfg->ha_peer);
}

static void in_free(struct in_conn *ic, unsigned int n, bool drop_entries)
{
	for (unsigned int i = 0; i < n; i++) {
		for (int k = 0; k < 2; k++) {
			if (ic[i].fd[k] >= 0)
				close(ic[i].fd[k]); /* repair mode: silent */
			free(ic[i].unsent[k]);
		}
		if (drop_entries && ic[i].listed)
			pepsal_table_remove(mig.p->table, ic[i].slot, ic[i].gen);
	}
	free(ic);
}

void migrate_accept(void)
{
	struct in_conn *ic = NULL;
	struct m_hello hello;
	unsigned int n = 0, cap = 0;
	uint64_t t0, t1 = 0, tr, restoring = 0;
	char err[256] = "", *body = NULL;
	uint32_t len;
	int sock, rc;

	sock = accept4(mig.lfd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		return;
	t0 = pepsal_now_ns();
	if (!from_peer(sock)) {
		pr_warn("switchover: a connection from an address that is not --ha-peer: closed");
		close(sock);
		return;
	}
	if ((rc = mw_recv(sock, M_HELLO, &body, &len, err, sizeof(err))) ||
	    len != sizeof(hello)) {
		free(body);
		goto fail_early;
	}
	memcpy(&hello, body, sizeof(hello));
	free(body);
	relay_expect(hello.nconns);
	if ((rc = mw_send(sock, M_ACK, NULL, 0, NULL, 0)))
		goto fail_early;
	for (;;) {
		struct msg_hdr peekh;

		if ((rc = mw_read_all(sock, &peekh, sizeof(peekh), STEP_MS)))
			break;
		if (peekh.magic != MAGIC || peekh.version != MIGRATE_VERSION ||
		    peekh.len > (1u << 30) || (peekh.type != M_CONN && peekh.type != M_END)) {
			rc = -EPROTO;
			snprintf(err, sizeof(err), "%s", peekh.type == M_NAK ?
				 "the other box called it off" : "an unexpected message");
			break;
		}
		if (peekh.type == M_END)
			break;
		body = malloc(peekh.len ? peekh.len : 1);
		if (!body || (rc = mw_read_all(sock, body, peekh.len, STEP_MS))) {
			rc = body ? rc : -ENOMEM;
			free(body);
			break;
		}
		if (n == cap) {
			struct in_conn *a = realloc(ic, (cap ? 2 * cap : 256) * sizeof(*ic));

			if (!a) {
				free(body);
				rc = -ENOMEM;
				break;
			}
			ic = a;
			cap = cap ? 2 * cap : 256;
		}
		ic[n] = (struct in_conn){ .fd = { -1, -1 }, .rfd = { -1, -1 } };
		tr = pepsal_now_ns();
		rc = take_conn(body, peekh.len, &ic[n++], err, sizeof(err));
		restoring += pepsal_now_ns() - tr;
		free(body);
		if (rc)
			break;
	}
	t1 = pepsal_now_ns();
	if (!rc)
		rc = mw_send(sock, M_READY, NULL, 0, NULL, 0);
	if (!rc)
		rc = mw_recv(sock, M_GO, &body, &len, err, sizeof(err));
	if (rc) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-rc));
		mw_nak(sock, err);
		relay_release();
		relay_expect(0);
		in_free(ic, n, true);
		close(sock);
		stats_count(PC_HA_SWITCHOVERS_FAILED, 1);
		pr_err("switchover from the other box failed: %s; it keeps its connections", err);
		return;
	}
	free(body);
	close(sock);
	/* ours now: out of repair mode (a window probe each), the unsent
	 * bytes queued, then the threads start */
	free(mig.moved);
	mig.moved = calloc(n ? n : 1, sizeof(*mig.moved));
	mig.nmoved = 0;
	for (unsigned int i = 0; i < n; i++) {
		for (int k = 0; k < 2; k++)
			if (ic[i].rfd[k] >= 0 &&
			    (rc = repair_finish(ic[i].rfd[k], ic[i].unsent[k], ic[i].unsent_len[k],
						ic[i].fin_out[k])))
				pr_ratelimited(LOG_WARNING, "a moved socket: %s", strerror(-rc));
		if (mig.moved)
			mig.moved[mig.nmoved++] = ic[i].client;
	}
	relay_resume();
	relay_expect(0);
	stats_count(PC_HA_MOVED_IN, n);
	mig.go_ns = pepsal_now_ns();
	mig.next_probe = 0;
	pr_info("switchover: took %u connections from the other box in %.1f ms (received "
		"and restored in %.1f of which restoring %.1f, GO and started %.1f later)", n,
		(double)(mig.go_ns - t0) / 1e6, (double)(t1 - t0) / 1e6, (double)restoring / 1e6,
		(double)(mig.go_ns - t1) / 1e6);
	in_free(ic, n, false);
	return;
fail_early:
	mw_nak(sock, err[0] ? err : "unreadable");
	close(sock);
	pr_err("switchover from the other box refused: %s", err);
}

/* ---- probes after a switchover came in ------------------------------------------ */

static bool was_moved(const struct pepsal_endpoint *client)
{
	for (unsigned int i = 0; i < mig.nmoved; i++)
		if (pepsal_endpoint_equal(&mig.moved[i], client))
			return true;
	return false;
}

/* One round: the relay paused, a probe on both sockets of each moved
 * connection that is still here, resumed. */
static void probe_round(void)
{
	struct relay_conn_state *st = NULL;
	int n;

	if (relay_quiesce(QUIESCE_NS / 4)) {
		relay_resume();
		return;
	}
	n = relay_export(&st);
	for (int i = 0; i < n; i++) {
		if (!was_moved(&st[i].client))
			continue;
		for (int k = 0; k < 2; k++)
			if (st[i].fd[k] >= 0 && !st[i].eof[k ^ 1])
				repair_probe(st[i].fd[k]);
	}
	relay_resume();
	free(st);
}

static int listen_open(char *err, size_t errlen);

int migrate_tick(uint64_t now_ns)
{
	uint64_t due;
	unsigned int nprobes = sizeof(probe_ms) / sizeof(probe_ms[0]);
	char err[160];

	/* the port was busy at start (an upgrade: the old process still
	 * held it): again every second */
	if (mig.p && mig.p->cfg->ha_listen.port && mig.lfd < 0) {
		if (now_ns >= mig.retry_ns) {
			mig.retry_ns = now_ns + 1000000000ull;
			if (listen_open(err, sizeof(err)) == 0)
				pr_info("--ha-listen: listening now");
		}
		if (!mig.nmoved)
			return 1000;
	}
	if (!mig.nmoved || mig.next_probe >= nprobes)
		return -1;
	due = mig.go_ns + probe_ms[mig.next_probe] * 1000000ull;
	if (now_ns < due)
		return (int)((due - now_ns) / 1000000 + 1);
	probe_round();
	if (++mig.next_probe >= nprobes) {
		free(mig.moved);
		mig.moved = NULL;
		mig.nmoved = 0;
		return -1;
	}
	return (int)probe_ms[mig.next_probe] - (int)probe_ms[mig.next_probe - 1];
}

/* ---- start and stop ------------------------------------------------------------- */

int migrate_in_init(const struct migrate_params *p, char *err, size_t errlen)
{
	int rc;

	mig.p = p;
	if (!p->cfg->ha_listen.port)
		return 0;
	rc = listen_open(err, errlen);
	if (rc == -EADDRINUSE) { /* an upgrade's old process has it: later */
		pr_warn("%s; trying again every second", err);
		mig.retry_ns = pepsal_now_ns() + 1000000000ull;
		return 0;
	}
	return rc;
}

static int listen_open(char *err, size_t errlen)
{
	const struct pepsal_endpoint *l = &mig.p->cfg->ha_listen;
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd, rc;
	if (l->family) {
		sl = pepsal_endpoint_to_sockaddr(l, &ss);
	} else { /* any address, both families */
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

		memset(&ss, 0, sizeof(ss));
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(l->port);
		sl = sizeof(*a6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 4) < 0) {
		rc = -errno;
		snprintf(err, errlen, "--ha-listen: cannot listen on port %u: %s", l->port,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	mig.lfd = fd;
	return 0;
}

void migrate_in_fini(void)
{
	if (mig.lfd >= 0)
		close(mig.lfd);
	mig.lfd = -1;
	free(mig.moved);
	mig.moved = NULL;
	mig.nmoved = 0;
}

int migrate_listen_fd(void)
{
	return mig.lfd;
}
