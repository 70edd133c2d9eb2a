/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The process plumbing both daemons share (pepsal and pepsal-queuer): the
 * signals their main loop reads from a signalfd, the pid file, and going
 * into the background with a readiness pipe, so that the parent returns
 * only once the daemon serves, with its status.
 */
#ifndef PEPSAL_DAEMON_H
#define PEPSAL_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Block the N signals of SIGNALS and return a signalfd (non-blocking,
 * close-on-exec) that reads them; SIGPIPE is ignored. Call it before any
 * thread exists, so that only the main loop sees them. fd or -errno. */
int pepsal_signalfd(const int *signals, size_t n);

/* Replace PATH whole: FILL(f, CTX) writes PATH.tmp, which is then renamed
 * over PATH, so a reader sees the old file or the whole new one, never a
 * part (the pid file, pepsal's connection log). 0 or -errno. */
int pepsal_file_replace(const char *path, void (*fill)(FILE *f, void *ctx), void *ctx);

/* Write our pid to PATH by pepsal_file_replace. 0 or -errno. */
int pepsal_pid_file_write(const char *path);

/* Go into the background: fork; the parent waits until the child calls
 * pepsal_daemon_ready and exits with the status it reports (1 if the child
 * ends first). The child, in a new session with / as its working
 * directory, gets the descriptor to report on (close-on-exec); it keeps
 * stderr until it is ready, so that start-up errors reach the terminal.
 * Before any thread exists. Returns that descriptor, or -errno (no fork:
 * still in the foreground). */
int pepsal_daemon_start(void);
/* PATH made absolute against the working directory, for a path used after
 * pepsal_daemon_start (NULL stays NULL; on failure PATH itself). The
 * result lives as long as the process. */
const char *pepsal_absolute_path(const char *path);

/* The child's start-up is over: OK, stdin, stdout and stderr go to
 * /dev/null, the log to syslog as IDENT, and the parent exits 0; else the
 * parent exits 1. FD < 0 (not in the background): nothing. FD is closed. */
void pepsal_daemon_ready(int fd, bool ok, const char *ident, bool verbose);

#endif
