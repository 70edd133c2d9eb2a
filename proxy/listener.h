/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The listening sockets and what happens to each accepted connection. */
#ifndef PEPSAL_PROXY_LISTENER_H
#define PEPSAL_PROXY_LISTENER_H

#include <stddef.h>

#include "config.h"
#include "pepsal_table.h"

struct listener_params {
	const struct proxy_config *cfg;  /* mode, address, port, -c */
	struct pepsal_table *table;      /* entries to claim (or record in tproxy mode) */
};

/* Open the listening sockets (v4 and v6, or the family of -a) into FDS;
 * returns how many (at least 1) or a negative errno with ERR filled. P is
 * kept by pointer. */
int listener_init(const struct listener_params *p, int fds[2], char *err, size_t errlen);
/* Take over listening sockets FDS another process opened (an upgrade);
 * returns how many. */
int listener_adopt(const struct listener_params *p, const int fds[2]);
/* Accept what is pending on FD (a bounded batch) and start a connection
 * for each. */
void listener_accept(int fd);
/* Close the listening sockets. */
void listener_fini(void);

#endif
