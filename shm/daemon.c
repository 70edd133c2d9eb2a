// SPDX-License-Identifier: GPL-2.0-or-later
/* The signalfd, the pid file (a file replaced whole) and the background
 * of both daemons (pepsal_daemon.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "pepsal_daemon.h"
#include "pepsal_log.h"

int pepsal_signalfd(const int *signals, size_t n)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN); /* splice() cannot take MSG_NOSIGNAL */
	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		sigaddset(&set, signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int pepsal_file_replace(const char *path, void (*fill)(FILE *f, void *ctx), void *ctx)
{
	char tmp[PATH_MAX];
	FILE *f;
	int rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fill(f, ctx);
	if (fflush(f) || ferror(f))
		rc = -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

static void fill_pid(FILE *f, void *ctx)
{
	(void)ctx;
	fprintf(f, "%d\n", (int)getpid());
}

int pepsal_pid_file_write(const char *path)
{
	return pepsal_file_replace(path, fill_pid, NULL);
}

const char *pepsal_absolute_path(const char *path)
{
	char cwd[PATH_MAX], *abs;

	if (!path || path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return path;
	if (asprintf(&abs, "%s/%s", cwd, path) < 0)
		return path;
	return abs;
}

/* ---- the background, with a readiness pipe --------------------------------
 * One byte from the child: 0 ready, 1 failed; nothing (the child died, or
 * exited without a word): 1. */

int pepsal_daemon_start(void)
{
	char status = 1;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int rc = -errno;

		close(p[0]);
		close(p[1]);
		return rc;
	}
	if (pid > 0) {
		close(p[1]);
		while (read(p[0], &status, 1) < 0 && errno == EINTR)
			;
		_exit(status == 0 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		pr_warn("cannot change to /: %s", strerror(errno));
	return p[1];
}

void pepsal_daemon_ready(int fd, bool ok, const char *ident, bool verbose)
{
	char status = ok ? 0 : 1;
	int null;

	if (fd < 0)
		return;
	if (ok) {
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
		pepsal_log_init(ident, true, LOG_DAEMON, verbose);
	}
	if (write(fd, &status, 1) != 1)
		pr_warn("cannot report start-up to the parent: %s", strerror(errno));
	close(fd);
}
