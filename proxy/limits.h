/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What -c costs in process resources, and keeping -c within them. */
#ifndef PEPSAL_PROXY_LIMITS_H
#define PEPSAL_PROXY_LIMITS_H

#include <stdint.h>

#define LIMITS_FDS_PER_CONN 2   /* two sockets: pipes are pooled (pipes.c) */
#define LIMITS_FDS_PER_PIPE 2
#define LIMITS_PIPES_MAX 256    /* the pool's cap when descriptors allow */
#define LIMITS_PIPES_MIN 16     /* kept even when -c must shrink for it */
#define LIMITS_FDS_RESERVED 64  /* listeners, the table, logs, the queuer's pipe */

/* Connections served beyond -c: SYNs the queuer marked just before the
 * proxy published that it was full are served, not reset (their
 * descriptors come out of the reserve). */
#define LIMITS_OVERSHOOT 8

/* Table entries for MAX_CONNS: every connection served and as many pending
 * entries (SYNs recorded, not yet accepted): twice -c, at least the legacy
 * 4224, at most what the library allows. */
uint32_t limits_default_capacity(uint32_t max_conns);
/* Descriptors MAX_CONNS connections and PIPES pooled pipes hold at most. */
uint64_t limits_fds_needed(uint32_t max_conns, uint32_t pipes);
/* Connections that fit in NOFILE descriptors beside LIMITS_PIPES_MIN
 * pipes (at least 1). */
uint32_t limits_conns_fitting(uint64_t nofile);
#define LIMITS_THREADS_PER_CONN 2  /* the relay's pair */
#define LIMITS_THREADS_RESERVED 16
#define LIMITS_MAPS_PER_CONN 4     /* each thread's stack and its guard page */
#define LIMITS_MAPS_RESERVED 1024  /* code, libraries, heap, the table */

/* Connections that fit in TASKS more threads (the cgroup's pids.max less
 * what it runs, threads-max, pid_max), and in a MAX_MAP_COUNT
 * (vm.max_map_count); at least 1. */
uint32_t limits_conns_by_threads(uint64_t tasks);
uint32_t limits_conns_by_maps(uint64_t max_map_count);
/* Pipes the pool may have beside MAX_CONNS connections in NOFILE
 * descriptors: LIMITS_PIPES_MAX at most, LIMITS_PIPES_MIN at least. */
uint32_t limits_pipes_fitting(uint64_t nofile, uint32_t max_conns);
/* Raise RLIMIT_NOFILE to what *MAX_CONNS needs with LIMITS_PIPES_MAX pipes
 * (beyond the hard limit when CAP_SYS_RESOURCE allows), else as far as
 * allowed; never fatal. Then lower *MAX_CONNS to what the descriptors,
 * threads and mappings allow, with a warning naming the limit, and set
 * *PIPES to the pool's cap. */
void limits_setup(uint32_t *max_conns, uint32_t *pipes);

#endif
