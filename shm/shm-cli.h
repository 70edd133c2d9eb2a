/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pepsal-shm's parts: the options every command shares, and the commands
 * each file provides (stats in pepsal-shm.c, list and watch in shm-list.c,
 * metrics in shm-metrics.c, serve in shm-serve.c).
 */
#ifndef PEPSAL_SHM_CLI_H
#define PEPSAL_SHM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pepsal_table.h"

#define HEARTBEAT_FRESH_NS 3000000000ull /* what the queuer calls alive */

/* An address prefix given by --client or --dst. */
struct shm_prefix {
	bool set;
	uint8_t family;       /* AF_INET or AF_INET6 */
	uint8_t len;          /* prefix length in bits */
	uint8_t addr[16];
};

enum shm_sort {
	SHM_SORT_SLOT = 0,    /* table order (the default) */
	SHM_SORT_BYTES,       /* most bytes (both directions) first */
	SHM_SORT_AGE,         /* oldest SYN first */
	SHM_SORT_IDLE,        /* longest idle first */
};

struct shm_cli_opts {
	const char *shm;      /* segment name */
	bool json;            /* JSON instead of text */
	uint64_t interval;    /* watch period, ns */
	uint32_t count;       /* watch iterations, 0 = forever */
	/* list and watch: which entries, in which order */
	struct shm_prefix client, dst;
	uint32_t client_port, dst_port; /* 0: any */
	unsigned int states;  /* bit 1 << enum pepsal_state; 0: any */
	uint64_t min_age, max_age; /* ns since the SYN; 0: no bound */
	enum shm_sort sort;
	uint32_t limit;       /* print at most this many; 0: all */
	bool count_only;      /* print how many match */
	const char *listen;   /* serve: ADDR:PORT */
};
extern struct shm_cli_opts opt;

/* Option parsers of the list filters (PEPSAL_OPT_CUSTOM). */
bool shm_parse_prefix(const char *arg, void *dst, char *err, size_t errlen);
bool shm_parse_states(const char *arg, void *dst, char *err, size_t errlen);
bool shm_parse_sort(const char *arg, void *dst, char *err, size_t errlen);
bool shm_parse_listen(const char *arg, void *dst, char *err, size_t errlen);

void shm_json_string(FILE *f, const char *s);
double shm_age_s(uint64_t now, uint64_t then);
char *shm_printable(char *name);
void shm_print_stats_json(FILE *f, struct pepsal_table *t, uint64_t now);

int shm_cmd_stats(struct pepsal_table *t);
int shm_cmd_list(struct pepsal_table *t);
int shm_cmd_watch(struct pepsal_table *t);

/* Write the Prometheus text exposition of table NAME to F. Attaches and
 * detaches itself; when the table cannot be read, writes pepsal_table_up 0
 * and returns a negative errno with ERR filled. */
int shm_metrics_write(FILE *f, const char *name, char *err, size_t errlen);
/* serve: GET /metrics over HTTP on --listen; returns only on error. */
int shm_cmd_serve(void);

#endif
