/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The process around the proxy: signals, paths, -d, the service manager. */
#ifndef PEPSAL_PROXY_PROCESS_H
#define PEPSAL_PROXY_PROCESS_H

#include <stddef.h>

#include "config.h"

/* Block the signals the main loop handles and return a signalfd for them
 * (before any thread exists, so only the main loop sees them); -errno. */
int process_signals_init(void);
/* The directory of our own executable into BUF ("" if unknown). */
void process_self_dir(char *buf, size_t len);
/* -d: make CFG's relative paths absolute and go into the background
 * (pepsal_daemon_start: the parent waits for pepsal_daemon_ready on the
 * descriptor returned, and exits with its status). The descriptor, or
 * -errno, reported. */
int process_daemonize(struct proxy_config *cfg);

/* Tell the service manager STATE ("READY=1", "MAINPID=N"): sd_notify's
 * protocol, a datagram to $NOTIFY_SOCKET; nothing without one. */
void process_notify(const char *state);

#endif
