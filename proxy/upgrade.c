// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The upgrade, both sides (upgrade.h, the messages in handover.h).
 *
 * Old process: start the new one (fork, exec of /proc/self/exe's target
 * read again now, so a binary replaced on disk is the one started), wait
 * for its HELLO, pause every connection (relay_quiesce: no byte in flight
 * is lost, a pipe holding some is handed over with them), send listeners
 * and connections, and on READY send GO and let go of its copies. Any
 * failure before GO: resume everything here, kill the new process, log.
 * The listeners are not accepted on from the pause to GO: SYNs wait in
 * their accept queue, which the new process inherits with the socket.
 *
 * The queuer is not handed over (it is the old process's child, bound to
 * the queue; two cannot bind it): after GO the old one stops it fail-open
 * (SYNs bypass the queue meanwhile and go end to end) and says
 * QUEUER_GONE, then the new process starts its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handover.h"
#include "listener.h"
#include "pepsal_log.h"
#include "process.h"
#include "queuer_child.h"
#include "relay.h"
#include "stats.h"
#include "stop.h"
#include "upgrade.h"

#define HELLO_WAIT_MS 10000   /* exec, load, attach the table on a busy box */
#define STEP_WAIT_MS 5000
#define QUIESCE_NS 2000000000ull
#define SLICE_MS 500          /* the heartbeat goes on while we wait */
#define CHILD_END_WAIT_NS 1000000000ull /* a failed new process: then killed */

static struct {
	const struct upgrade_params *p;
	int queuer_sock;          /* new process: until QUEUER_GONE */
} up = { NULL, -1 };

void upgrade_init(const struct upgrade_params *p)
{
	up.p = p;
}

/* ---- the old process ---------------------------------------------------- */

/* Our executable's path as it is now ("... (deleted)" when it was replaced:
 * the path is what we start again). */
static int self_exe(char *buf, size_t len)
{
	static const char deleted[] = " (deleted)";
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	size_t dl = sizeof(deleted) - 1;

	if (n <= 0)
		return -errno;
	buf[n] = '\0';
	if ((size_t)n > dl && strcmp(buf + n - dl, deleted) == 0)
		buf[n - dl] = '\0';
	return 0;
}

/* Our argv without a --handover-fd of our own, plus the new one. */
static char **child_argv(int fd)
{
	static char num[16];
	char **argv = up.p->argv, **out;
	int n = 0, k = 0;

	while (argv[n])
		n++;
	out = calloc((size_t)n + 3, sizeof(*out));
	if (!out)
		return NULL;
	for (int i = 0; i < n; i++) {
		if (strcmp(argv[i], "--handover-fd") == 0) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "--handover-fd=", 14) == 0)
			continue;
		out[k++] = argv[i];
	}
	snprintf(num, sizeof(num), "%d", fd);
	out[k++] = (char *)"--handover-fd";
	out[k++] = num;
	out[k] = NULL;
	return out;
}

static pid_t spawn(const char *path, int *sock, char *err, size_t errlen)
{
	char **argv;
	sigset_t none;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	argv = child_argv(sv[1]);
	sigemptyset(&none);
	pid = argv ? fork() : -1;
	if (pid == 0) {
		/* only async-signal-safe calls until exec: we have threads */
		sigprocmask(SIG_SETMASK, &none, NULL);
		fcntl(sv[1], F_SETFD, 0);
		execv(path, argv);
		_exit(127);
	}
	free(argv);
	close(sv[1]);
	if (pid < 0) {
		snprintf(err, errlen, "cannot start the new process: %s", strerror(errno));
		close(sv[0]);
		return -1;
	}
	*sock = sv[0];
	return pid;
}

/* handover_recv in slices, the heartbeat kept fresh in between. */
static int recv_beating(int sock, uint32_t want, void *payload, size_t len, int wait_ms,
			char *err, size_t errlen)
{
	unsigned int nfds;
	int rc;

	for (int waited = 0;; waited += SLICE_MS) {
		pepsal_table_heartbeat(up.p->table, PEPSAL_ROLE_PROXY, getpid(), pepsal_now_ns());
		rc = handover_recv(sock, want, payload, len, NULL, NULL, 0, &nfds,
				   wait_ms - waited < SLICE_MS ? wait_ms - waited : SLICE_MS,
				   err, errlen);
		if (rc != -ETIMEDOUT || waited + SLICE_MS >= wait_ms)
			return rc;
	}
}

/* How the new process ended, for the log (killed if still there after a
 * second: it may be closing its descriptors on its way out). */
static void child_end(pid_t pid, char *how, size_t len)
{
	int status = 0;

	if (children_wait(&pid, &status, 1, pepsal_now_ns() + CHILD_END_WAIT_NS)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(how, len, "killed");
	} else if (WIFEXITED(status)) {
		snprintf(how, len, "exited with status %d%s", WEXITSTATUS(status),
			 WEXITSTATUS(status) == 127 ? " (could not be executed)" : "");
	} else if (WIFSIGNALED(status)) {
		snprintf(how, len, "was killed by signal %d", WTERMSIG(status));
	} else {
		snprintf(how, len, "ended");
	}
}

/* Pause, send everything, commit. 0 (committed) or -errno with ERR; on
 * error everything is resumed here. */
static int hand_over(int sock, pid_t pid, char *err, size_t errlen)
{
	struct handover_offer offer = { .pid = (uint32_t)getpid() };
	struct relay_conn_state *st = NULL;
	struct handover_begin begin = { 0 };
	uint64_t t0, t1, t2;
	int lfds[2], nl = 0, n, rc;

	for (int i = 0; i < 2; i++)
		if (up.p->lfds[i] >= 0)
			lfds[nl++] = up.p->lfds[i];
	offer.nlisteners = (uint32_t)nl;
	offer.nconns = relay_active();
	snprintf(offer.build, sizeof(offer.build), "%s", PEPSAL_VERSION);
	snprintf(offer.table, sizeof(offer.table), "%s", pepsal_table_name(up.p->table));
	rc = handover_send(sock, HO_OFFER, &offer, sizeof(offer), lfds, (unsigned int)nl);
	if (rc) {
		snprintf(err, errlen, "cannot send the offer: %s", strerror(-rc));
		goto resume;
	}
	rc = recv_beating(sock, HO_ACK, NULL, 0, HELLO_WAIT_MS, err, errlen);
	if (rc)
		goto resume;
	t0 = pepsal_now_ns();
	rc = relay_quiesce(QUIESCE_NS);
	t1 = pepsal_now_ns();
	if (rc) {
		snprintf(err, errlen, "some connections did not pause within %llu ms",
			 QUIESCE_NS / 1000000);
		goto resume;
	}
	n = relay_export(&st);
	if (n < 0) {
		rc = n;
		snprintf(err, errlen, "cannot list the connections: %s", strerror(-rc));
		goto resume;
	}
	begin.nconns = (uint32_t)n;
	rc = handover_send(sock, HO_BEGIN, &begin, sizeof(begin), NULL, 0);
	if (rc)
		snprintf(err, errlen, "cannot send the count: %s", strerror(-rc));
	else
		rc = handover_send_conns(sock, st, (unsigned int)n, STEP_WAIT_MS, err, errlen);
	t2 = pepsal_now_ns();
	if (!rc)
		rc = recv_beating(sock, HO_READY, NULL, 0, STEP_WAIT_MS, err, errlen);
	if (!rc && (rc = handover_send(sock, HO_GO, NULL, 0, NULL, 0)))
		snprintf(err, errlen, "cannot send GO: %s", strerror(-rc));
	if (rc)
		goto resume;
	/* committed: from here on the counters and entries are the new one's */
	stats_fini();
	relay_release();
	free(st);
	pr_info("handed %d connections and %d listeners over to pid %d: paused %.1f ms "
		"(pausing %.1f, sending %.1f, the new one ready %.1f)", n, nl, (int)pid,
		(double)(pepsal_now_ns() - t0) / 1e6, (double)(t1 - t0) / 1e6,
		(double)(t2 - t1) / 1e6, (double)(pepsal_now_ns() - t2) / 1e6);
	return 0;
resume:
	handover_nak(sock, err);
	relay_resume();
	free(st);
	return rc;
}

bool upgrade_run(void)
{
	struct handover_hello hello;
	char path[PATH_MAX], err[256], how[80];
	int sock = -1, rc;
	pid_t pid;

	if (up.queuer_sock >= 0) {
		pr_warn("SIGUSR2: the last upgrade is still finishing; try again");
		return false;
	}
	rc = self_exe(path, sizeof(path));
	if (rc) {
		pr_err("upgrade: cannot find our own executable: %s; still serving", strerror(-rc));
		stats_count(PC_UPGRADES_FAILED, 1);
		return false;
	}
	pr_info("SIGUSR2: upgrading to %s", path);
	pid = spawn(path, &sock, err, sizeof(err));
	if (pid < 0) {
		pr_err("upgrade: %s; still serving", err);
		stats_count(PC_UPGRADES_FAILED, 1);
		return false;
	}
	rc = recv_beating(sock, HO_HELLO, &hello, sizeof(hello), HELLO_WAIT_MS, err, sizeof(err));
	if (!rc) {
		hello.build[sizeof(hello.build) - 1] = '\0';
		pr_info("upgrade: pepsal %s (pid %d) is ready to take over", hello.build, (int)pid);
		rc = hand_over(sock, pid, err, sizeof(err));
	}
	if (rc) {
		close(sock);
		child_end(pid, how, sizeof(how));
		pr_err("upgrade failed: %s; the new process (pid %d) %s; this pepsal (pid %d) "
		       "keeps serving everything", err, (int)pid, how, (int)getpid());
		stats_count(PC_UPGRADES_FAILED, 1);
		return false;
	}
	/* fail-open: our queuer stops (SYNs bypass), then the new one starts its own */
	queuer_fini();
	handover_send(sock, HO_QUEUER_GONE, NULL, 0, NULL, 0);
	close(sock);
	return true;
}

/* ---- the new process ------------------------------------------------------ */

int upgrade_take_over(int lfds[2], char *err, size_t errlen)
{
	const struct proxy_config *cfg = up.p->cfg;
	struct handover_hello hello = { .pid = (uint32_t)getpid() };
	struct handover_offer offer;
	struct handover_begin begin;
	struct relay_conn_state *st = NULL;
	uint64_t t[4];
	int sock = (int)cfg->handover_fd, fds[2], rc;
	unsigned int nl = 0, none;

	fcntl(sock, F_SETFD, FD_CLOEXEC);
	snprintf(hello.build, sizeof(hello.build), "%s", PEPSAL_VERSION);
	rc = handover_send(sock, HO_HELLO, &hello, sizeof(hello), NULL, 0);
	if (rc) {
		snprintf(err, errlen, "--handover-fd %u: %s", cfg->handover_fd, strerror(-rc));
		goto out;
	}
	rc = handover_recv(sock, HO_OFFER, &offer, sizeof(offer), NULL, fds, 2, &nl,
			   HELLO_WAIT_MS, err, errlen);
	if (rc)
		goto out;
	offer.table[sizeof(offer.table) - 1] = '\0';
	offer.build[sizeof(offer.build) - 1] = '\0';
	if (strcmp(offer.table, pepsal_table_name(up.p->table)) || nl != offer.nlisteners || !nl) {
		snprintf(err, errlen, "the old process serves table %s with %u listeners, "
			 "we have %s and got %u", offer.table, offer.nlisteners,
			 pepsal_table_name(up.p->table), nl);
		rc = -EPROTO;
		goto nak;
	}
	relay_expect(offer.nconns);
	rc = handover_send(sock, HO_ACK, NULL, 0, NULL, 0);
	if (!rc)
		rc = handover_recv(sock, HO_BEGIN, &begin, sizeof(begin), NULL, NULL, 0, &none,
				   STEP_WAIT_MS, err, errlen);
	if (rc)
		goto nak;
	offer.nconns = begin.nconns;
	t[0] = pepsal_now_ns();
	st = calloc(offer.nconns ? offer.nconns : 1, sizeof(*st));
	if (!st) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory for %u connections", offer.nconns);
		goto nak;
	}
	rc = handover_recv_conns(sock, st, offer.nconns, STEP_WAIT_MS, err, errlen);
	if (rc)
		goto nak;
	t[1] = pepsal_now_ns();
	/* ready to start, threads waiting (relay_expect): GO only starts them */
	for (unsigned int i = 0; i < offer.nconns; i++) {
		int r = relay_import(&st[i]);

		if (r && !rc) {
			rc = r;
			snprintf(err, errlen, "cannot start connection %u of %u: %s", i + 1,
				 offer.nconns, strerror(-r));
		}
	}
	relay_expect(0);
	t[2] = pepsal_now_ns();
	if (rc)
		handover_nak(sock, err);
	else
		rc = handover_send(sock, HO_READY, NULL, 0, NULL, 0);
	if (!rc)
		rc = handover_recv(sock, HO_GO, NULL, 0, NULL, NULL, 0, &none, STEP_WAIT_MS,
				   err, errlen);
	if (rc) {
		stats_fini(); /* the counters stay the old process's */
		relay_release();
		relay_wait_released(STEP_WAIT_MS * 1000000ull);
		goto out_fds;
	}
	t[3] = pepsal_now_ns();
	/* ours now: the role first, so the queuer keeps marking SYNs */
	pepsal_table_heartbeat(up.p->table, PEPSAL_ROLE_PROXY, getpid(), pepsal_now_ns());
	relay_resume();
	stats_count(PC_UPGRADES, 1);
	nl = offer.nlisteners;
	lfds[0] = fds[0];
	lfds[1] = nl > 1 ? fds[1] : -1;
	pr_info("took over %u connections and %u listeners from pepsal %s (pid %u): "
		"received in %.1f ms, ready in %.1f, GO after %.1f, started in %.1f",
		offer.nconns, nl, offer.build, offer.pid, (double)(t[1] - t[0]) / 1e6,
		(double)(t[2] - t[1]) / 1e6, (double)(t[3] - t[2]) / 1e6,
		(double)(pepsal_now_ns() - t[3]) / 1e6);
	free(st);
	up.queuer_sock = sock;
	queuer_hold(true);
	return (int)nl;
nak:
	handover_nak(sock, err);
out_fds:
	for (unsigned int i = 0; i < nl && i < 2; i++)
		close(fds[i]);
out:
	free(st);
	close(sock);
	return rc;
}

int upgrade_poll_fd(void)
{
	return up.queuer_sock;
}

void upgrade_poll_event(void)
{
	char err[128];
	unsigned int n;
	int rc = handover_recv(up.queuer_sock, HO_QUEUER_GONE, NULL, 0, NULL, NULL, 0, &n, 0,
			       err, sizeof(err));

	if (rc == -ETIMEDOUT)
		return;
	if (rc)
		pr_info("old process: %s; starting our queuer", err);
	close(up.queuer_sock);
	up.queuer_sock = -1;
	queuer_hold(false);
}
