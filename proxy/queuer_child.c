// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The queuer as a child process, as in the original PEPsal: started after
 * the table exists, restarted with exponential back-off when it dies (each
 * restart logged and counted), stopped on exit. The child gets
 * PR_SET_PDEATHSIG so a proxy killed outright does not leave it bound to
 * the queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pepsal_log.h"
#include "pepsal_table.h"
#include "queuer_child.h"
#include "stats.h"

#define BACKOFF_MIN_NS 500000000ull     /* first restart after 0.5 s */
#define BACKOFF_MAX_NS 30000000000ull   /* at most every 30 s */
#define STABLE_NS 30000000000ull        /* ran this long: back-off resets */
#define STOP_WAIT_NS 3000000000ull

static struct {
	bool enabled;
	bool stopping;            /* queuer_fini: no more restarts */
	bool held;                /* queuer_hold: not started yet */
	char path[PATH_MAX];      /* executable, absolute or looked up in PATH */
	char queue[16];
	char notify_fd[16], hold[32];
	int child_fd;             /* the hold channel's end it inherits, -1: none */
	char *argv[16];
	pid_t pid;                /* running child, 0: none */
	uint64_t started_ns;
	uint64_t next_start_ns;   /* when to (re)start it */
	uint64_t backoff_ns;
	unsigned int starts;
} q;

void queuer_init(const struct proxy_config *cfg, const char *table_name,
		 const char *self_dir, int hold_fd)
{
	int i = 0;

	q.enabled = !cfg->no_queuer;
	if (cfg->queuer_path)
		snprintf(q.path, sizeof(q.path), "%s", cfg->queuer_path);
	else if (self_dir && snprintf(q.path, sizeof(q.path), "%s/pepsal-queuer",
				      self_dir) < (int)sizeof(q.path) &&
		 access(q.path, X_OK) == 0)
		; /* beside our own executable */
	else
		snprintf(q.path, sizeof(q.path), "pepsal-queuer");
	snprintf(q.queue, sizeof(q.queue), "%u", cfg->queue);
	q.argv[i++] = q.path;
	q.argv[i++] = (char *)"--queue";
	q.argv[i++] = q.queue;
	q.argv[i++] = (char *)"--shm";
	q.argv[i++] = (char *)table_name;
	q.argv[i++] = (char *)"--mark";
	q.argv[i++] = (char *)cfg->mark;
	if (cfg->verbose)
		q.argv[i++] = (char *)"-v";
	q.child_fd = hold_fd;
	if (hold_fd >= 0) {
		snprintf(q.notify_fd, sizeof(q.notify_fd), "%d", hold_fd);
		snprintf(q.hold, sizeof(q.hold), "%llums",
			 (unsigned long long)(cfg->hold_ns / 1000000));
		q.argv[i++] = (char *)"--notify-fd";
		q.argv[i++] = q.notify_fd;
		q.argv[i++] = (char *)"--hold-time";
		q.argv[i++] = q.hold;
	}
	q.argv[i] = NULL;
	q.backoff_ns = BACKOFF_MIN_NS;
	q.next_start_ns = 0;
}

static int spawn(uint64_t now_ns)
{
	sigset_t all;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* the proxy blocks its signals for signalfd and ignores SIGPIPE */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		/* the hold channel is the one descriptor it inherits */
		if (q.child_fd >= 0)
			fcntl(q.child_fd, F_SETFD, 0);
		execvp(q.path, q.argv);
		_exit(127);
	}
	q.pid = pid;
	q.started_ns = now_ns;
	if (q.starts++)
		stats_count(PC_QUEUER_RESTARTS, 1);
	pr_info("queuer started: %s (pid %d)", q.path, (int)pid);
	return 0;
}

int queuer_tick(uint64_t now_ns)
{
	int rc;

	if (!q.enabled || q.pid || q.stopping || q.held)
		return -1;
	if (now_ns >= q.next_start_ns) {
		rc = spawn(now_ns);
		if (rc == 0)
			return -1;
		pr_err("cannot start the queuer: %s", strerror(-rc));
		q.next_start_ns = now_ns + q.backoff_ns;
	}
	return (int)((q.next_start_ns - now_ns + 999999) / 1000000);
}

void queuer_reap(uint64_t now_ns)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		char how[64];

		if (pid != q.pid)
			continue;
		q.pid = 0;
		if (WIFEXITED(status))
			snprintf(how, sizeof(how), "exited with status %d%s", WEXITSTATUS(status),
				 WEXITSTATUS(status) == 127 ? " (could not be executed)" : "");
		else
			snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(status));
		if (q.stopping)
			continue;
		if (now_ns - q.started_ns >= STABLE_NS)
			q.backoff_ns = BACKOFF_MIN_NS;
		q.next_start_ns = now_ns + q.backoff_ns;
		pr_warn("queuer (pid %d) %s; restarting it in %.1f s", (int)pid, how,
			(double)q.backoff_ns / 1e9);
		q.backoff_ns = q.backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS :
			       q.backoff_ns * 2;
	}
}

void queuer_hold(bool hold)
{
	q.held = hold;
}

void queuer_fini(void)
{
	uint64_t deadline = pepsal_now_ns() + STOP_WAIT_NS;
	struct timespec ts = { 0, 10000000 };
	int status;

	q.stopping = true;
	if (!q.pid)
		return;
	kill(q.pid, SIGTERM);
	while (waitpid(q.pid, &status, WNOHANG) == 0) {
		if (pepsal_now_ns() >= deadline) {
			pr_warn("queuer (pid %d) ignored SIGTERM: killing it", (int)q.pid);
			kill(q.pid, SIGKILL);
			waitpid(q.pid, &status, 0);
			break;
		}
		nanosleep(&ts, NULL);
	}
	q.pid = 0;
}
