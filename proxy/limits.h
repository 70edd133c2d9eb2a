/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What -c costs in process resources, and keeping -c within them. */
#ifndef PEPSAL_PROXY_LIMITS_H
#define PEPSAL_PROXY_LIMITS_H

#include <stdint.h>

#define LIMITS_FDS_PER_CONN 6   /* two sockets, two pipes */
#define LIMITS_FDS_RESERVED 64  /* listeners, the table, logs, the queuer's pipe */

/* Table entries for MAX_CONNS: every connection served and as many pending
 * entries (SYNs recorded, not yet accepted): twice -c, at least the legacy
 * 4224, at most what the library allows. */
uint32_t limits_default_capacity(uint32_t max_conns);
/* Descriptors MAX_CONNS connections may hold at most. */
uint64_t limits_fds_needed(uint32_t max_conns);
/* Connections that fit in NOFILE descriptors (at least 1). */
uint32_t limits_conns_fitting(uint64_t nofile);
/* Raise RLIMIT_NOFILE to what *MAX_CONNS needs (beyond the hard limit when
 * CAP_SYS_RESOURCE allows), else as far as allowed; never fatal. Then
 * lower *MAX_CONNS to what the descriptors allow, with a warning. */
void limits_setup(uint32_t *max_conns);

#endif
