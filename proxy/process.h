/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The process around the proxy: signals, paths, the pid file, -d. */
#ifndef PEPSAL_PROXY_PROCESS_H
#define PEPSAL_PROXY_PROCESS_H

#include <stddef.h>

#include "config.h"

/* Block the signals the main loop handles and return a signalfd for them
 * (before any thread exists, so only the main loop sees them); -errno. */
int process_signals_init(void);
/* The directory of our own executable into BUF ("" if unknown). */
void process_self_dir(char *buf, size_t len);
/* -d: make CFG's relative paths absolute, fork into the background
 * (daemon(3)), log to syslog. 0 or -errno, reported. */
int process_daemonize(struct proxy_config *cfg);
/* Write our pid to PATH atomically (write and rename). 0 or -errno. */
int process_write_pid_file(const char *path);

/* Tell the service manager STATE ("READY=1", "MAINPID=N"): sd_notify's
 * protocol, a datagram to $NOTIFY_SOCKET; nothing without one. */
void process_notify(const char *state);

#endif
