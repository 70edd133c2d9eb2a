// SPDX-License-Identifier: GPL-2.0-or-later
/* Signals, paths and daemonizing as pepsal wants them (libpepsal's
 * pepsal_daemon.h does the work); the service manager's notification. */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pepsal_daemon.h"
#include "pepsal_log.h"
#include "process.h"

int process_signals_init(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR2, SIGUSR1 };

	return pepsal_signalfd(sigs, sizeof(sigs) / sizeof(sigs[0]));
}

void process_self_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *d;

	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	d = dirname(buf);
	memmove(buf, d, strlen(d) + 1);
}

int process_daemonize(struct proxy_config *cfg)
{
	int fd;

	/* the daemon works in / */
	cfg->conn_log = pepsal_absolute_path(cfg->conn_log);
	cfg->pid_file = pepsal_absolute_path(cfg->pid_file);
	cfg->ha_track_file = pepsal_absolute_path(cfg->ha_track_file);
	if (cfg->queuer_path && strchr(cfg->queuer_path, '/'))
		cfg->queuer_path = pepsal_absolute_path(cfg->queuer_path);
	fd = pepsal_daemon_start();
	if (fd < 0)
		pr_err("cannot daemonize: %s", strerror(-fd));
	return fd;
}

void process_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || (len = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		pr_warn("cannot notify the service manager: %s", strerror(errno));
	close(fd);
}
