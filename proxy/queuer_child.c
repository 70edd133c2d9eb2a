// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The queuer as a child process, as in the original PEPsal: started after
 * the table exists, restarted with exponential back-off when it dies (each
 * restart logged and counted), stopped on exit. The child gets
 * PR_SET_PDEATHSIG so a proxy killed outright does not leave it bound to
 * the queue. With --queues N there are N children, one per NFQUEUE (each
 * with its own hold channel), each restarted on its own: a dead one's
 * queue bypasses (fail-open) until it is back, the others go on.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pepsal_log.h"
#include "pepsal_table.h"
#include "queuer_child.h"
#include "stats.h"
#include "stop.h"

#define BACKOFF_MIN_NS 500000000ull     /* first restart after 0.5 s */
#define BACKOFF_MAX_NS 30000000000ull   /* at most every 30 s */
#define STABLE_NS 30000000000ull        /* ran this long: back-off resets */
#define STOP_WAIT_NS 3000000000ull

struct child {
	char queue[16];
	char notify_fd[16];
	char rt[16];
	int hold_fd;              /* the hold channel's end it inherits, -1: none */
	char *argv[20];
	pid_t pid;                /* running child, 0: none */
	uint64_t started_ns;
	uint64_t next_start_ns;   /* when to (re)start it */
	uint64_t backoff_ns;
	unsigned int starts;
};

static struct {
	bool enabled;
	bool stopping;            /* queuer_fini: no more restarts */
	bool held;                /* queuer_hold: not started yet */
	char path[PATH_MAX];      /* executable, absolute or looked up in PATH */
	char hold[32];
	char mark[24], route_mark[24]; /* VALUE/MASK, as --mark and --routing-mark */
	unsigned int n;           /* children */
	struct child c[PEPSAL_MAX_QUEUES];
} q;

static void child_init(struct child *ch, const struct proxy_config *cfg,
		       const char *table_name, uint32_t queue, int hold_fd)
{
	int i = 0;

	snprintf(ch->queue, sizeof(ch->queue), "%u", queue);
	ch->argv[i++] = q.path;
	ch->argv[i++] = (char *)"--queue";
	ch->argv[i++] = ch->queue;
	ch->argv[i++] = (char *)"--shm";
	ch->argv[i++] = (char *)table_name;
	ch->argv[i++] = (char *)"--mark";
	ch->argv[i++] = q.mark;
	ch->argv[i++] = (char *)"--routing-mark";
	ch->argv[i++] = q.route_mark;
	if (cfg->verbose)
		ch->argv[i++] = (char *)"-v";
	snprintf(ch->rt, sizeof(ch->rt), "%u", cfg->rt_priority);
	ch->argv[i++] = (char *)"--rt-priority";
	ch->argv[i++] = ch->rt;
	ch->hold_fd = hold_fd;
	if (hold_fd >= 0) {
		snprintf(ch->notify_fd, sizeof(ch->notify_fd), "%d", hold_fd);
		ch->argv[i++] = (char *)"--notify-fd";
		ch->argv[i++] = ch->notify_fd;
		ch->argv[i++] = (char *)"--hold-time";
		ch->argv[i++] = q.hold;
	}
	ch->argv[i] = NULL;
	ch->backoff_ns = BACKOFF_MIN_NS;
	ch->next_start_ns = 0;
}

/* The queuer executable into BUF: --queuer, else beside our own, else
 * "pepsal-queuer" for execvp to find in PATH. */
static void queuer_path(const struct proxy_config *cfg, const char *self_dir, char *buf,
			size_t len)
{
	if (cfg->queuer_path)
		snprintf(buf, len, "%s", cfg->queuer_path);
	else if (self_dir && snprintf(buf, len, "%s/pepsal-queuer", self_dir) < (int)len &&
		 access(buf, X_OK) == 0)
		; /* beside our own executable */
	else
		snprintf(buf, len, "pepsal-queuer");
}

int queuer_check(const struct proxy_config *cfg, const char *self_dir, char *err,
		 size_t errlen)
{
	char path[PATH_MAX], dirs[4096], *dir, *save = NULL;
	const char *env = getenv("PATH");

	queuer_path(cfg, self_dir, path, sizeof(path));
	if (strchr(path, '/')) {
		int e;

		if (access(path, X_OK) == 0)
			return 0;
		e = errno;
		snprintf(err, errlen, "the queuer %s cannot be run: %s%s", path, strerror(e),
			 cfg->queuer_path ? " (--queuer)" : "");
		return -e;
	}
	snprintf(dirs, sizeof(dirs), "%s", env ? env : "/usr/local/sbin:/usr/sbin:/sbin:"
		 "/usr/local/bin:/usr/bin:/bin");
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char cand[PATH_MAX];

		if (snprintf(cand, sizeof(cand), "%s/%s", dir, path) < (int)sizeof(cand) &&
		    access(cand, X_OK) == 0)
			return 0;
	}
	snprintf(err, errlen, "the queuer %s is neither beside pepsal nor in PATH (--queuer "
		 "PATH, or --no-queuer if it runs on its own)", path);
	return -ENOENT;
}

void queuer_init(const struct proxy_config *cfg, const char *table_name,
		 const char *self_dir, const int *hold_fds)
{
	q.enabled = !cfg->no_queuer;
	queuer_path(cfg, self_dir, q.path, sizeof(q.path));
	snprintf(q.hold, sizeof(q.hold), "%llums", (unsigned long long)(cfg->hold_ns / 1000000));
	pepsal_mark_format(&cfg->mark, q.mark, sizeof(q.mark));
	pepsal_mark_format(&cfg->route_mark, q.route_mark, sizeof(q.route_mark));
	q.n = cfg->queues < PEPSAL_MAX_QUEUES ? cfg->queues : PEPSAL_MAX_QUEUES;
	for (unsigned int i = 0; i < q.n; i++)
		child_init(&q.c[i], cfg, table_name, cfg->queue + i, hold_fds[i]);
}

static int spawn(struct child *ch, uint64_t now_ns)
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
		/* its hold channel is the one descriptor it inherits */
		if (ch->hold_fd >= 0)
			fcntl(ch->hold_fd, F_SETFD, 0);
		execvp(q.path, ch->argv);
		_exit(127);
	}
	ch->pid = pid;
	ch->started_ns = now_ns;
	if (ch->starts++)
		stats_count(PC_QUEUER_RESTARTS, 1);
	pr_info("queuer started: %s --queue %s (pid %d)", q.path, ch->queue, (int)pid);
	return 0;
}

int queuer_tick(uint64_t now_ns)
{
	int ms = -1;

	if (!q.enabled || q.stopping || q.held)
		return -1;
	for (unsigned int i = 0; i < q.n; i++) {
		struct child *ch = &q.c[i];
		int rc, wait;

		if (ch->pid)
			continue;
		if (now_ns >= ch->next_start_ns) {
			rc = spawn(ch, now_ns);
			if (rc == 0)
				continue;
			pr_err("cannot start the queuer of queue %s: %s", ch->queue, strerror(-rc));
			ch->next_start_ns = now_ns + ch->backoff_ns;
		}
		wait = (int)((ch->next_start_ns - now_ns + 999999) / 1000000);
		if (ms < 0 || wait < ms)
			ms = wait;
	}
	return ms;
}

static struct child *child_of(pid_t pid)
{
	for (unsigned int i = 0; i < q.n; i++)
		if (q.c[i].pid == pid)
			return &q.c[i];
	return NULL;
}

void queuer_reap(uint64_t now_ns)
{
	struct child *ch;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		char how[64];

		if (!(ch = child_of(pid)))
			continue;
		ch->pid = 0;
		if (WIFEXITED(status))
			snprintf(how, sizeof(how), "exited with status %d%s", WEXITSTATUS(status),
				 WEXITSTATUS(status) == 127 ? " (could not be executed)" : "");
		else
			snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(status));
		if (q.stopping)
			continue;
		if (now_ns - ch->started_ns >= STABLE_NS)
			ch->backoff_ns = BACKOFF_MIN_NS;
		ch->next_start_ns = now_ns + ch->backoff_ns;
		pr_warn("queuer (pid %d) %s; restarting it in %.1f s (queue %s)", (int)pid, how,
			(double)ch->backoff_ns / 1e9, ch->queue);
		ch->backoff_ns = ch->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS :
				 ch->backoff_ns * 2;
	}
}

void queuer_hold(bool hold)
{
	q.held = hold;
}

void queuer_fini(void)
{
	pid_t pids[PEPSAL_MAX_QUEUES];

	q.stopping = true;
	for (unsigned int i = 0; i < q.n; i++) {
		pids[i] = q.c[i].pid;
		if (pids[i])
			kill(pids[i], SIGTERM);
	}
	/* a queuer accepts what is queued before it unbinds: fail-open */
	children_wait(pids, NULL, q.n, pepsal_now_ns() + STOP_WAIT_NS);
	for (unsigned int i = 0; i < q.n; i++) {
		struct child *ch = &q.c[i];

		if (ch->pid && pids[i]) {
			pr_warn("queuer (pid %d) ignored SIGTERM: killing it", (int)ch->pid);
			kill(ch->pid, SIGKILL);
			waitpid(ch->pid, NULL, 0);
		}
		ch->pid = 0;
	}
}
