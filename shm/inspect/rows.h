/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The entries list and watch show: which (the filters: client, destination,
 * ports, state, age), in which order (slot, bytes, age, idle), how many
 * (--limit), and how they are printed (text columns as wide as the widest
 * value shown, or JSON).
 */
#ifndef PEPSAL_INSPECT_ROWS_H
#define PEPSAL_INSPECT_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pepsal_opts.h"
#include "pepsal_table.h"

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

/* The options of list and watch that select and order entries. */
struct rows_filter {
	struct shm_prefix client, dst;
	uint32_t client_port, dst_port; /* 0: any */
	unsigned int states;  /* bit 1 << enum pepsal_state; 0: any */
	uint64_t min_age, max_age; /* ns since the SYN; 0: no bound */
	enum shm_sort sort;
	uint32_t limit;       /* print at most this many; 0: all */
};

/* The option table entries of a struct rows_filter F, for list's and
 * watch's tables. */
#define ROWS_FILTER_OPTS(f) \
	{ "client", 'c', PEPSAL_OPT_CUSTOM, &(f)->client, "ADDR[/LEN]", \
	  "only clients in this address or prefix", 0, 0, rows_parse_prefix }, \
	{ "client-port", 0, PEPSAL_OPT_U32, &(f)->client_port, "PORT", \
	  "only this client port", 1, 65535, NULL }, \
	{ "dst", 'd', PEPSAL_OPT_CUSTOM, &(f)->dst, "ADDR[/LEN]", \
	  "only original destinations in this address or prefix", 0, 0, rows_parse_prefix }, \
	{ "port", 'p', PEPSAL_OPT_U32, &(f)->dst_port, "PORT", \
	  "only this destination port", 1, 65535, NULL }, \
	{ "state", 'S', PEPSAL_OPT_CUSTOM, &(f)->states, "STATE[,STATE]", \
	  "only pending, established or closing entries", 0, 0, rows_parse_states }, \
	{ "min-age", 0, PEPSAL_OPT_DURATION, &(f)->min_age, "DURATION", \
	  "only entries whose SYN is at least this old", 0, 0, NULL }, \
	{ "max-age", 0, PEPSAL_OPT_DURATION, &(f)->max_age, "DURATION", \
	  "only entries whose SYN is at most this old", 0, 0, NULL }, \
	{ "sort", 'o', PEPSAL_OPT_CUSTOM, &(f)->sort, "KEY", \
	  "order by slot (default), bytes, age or idle (largest first)", 0, 0, \
	  rows_parse_sort }, \
	{ "limit", 0, PEPSAL_OPT_U32, &(f)->limit, "N", \
	  "print the first N entries only", 1, 0, NULL }

bool rows_parse_prefix(const char *arg, void *dst, char *err, size_t errlen);
bool rows_parse_states(const char *arg, void *dst, char *err, size_t errlen);
bool rows_parse_sort(const char *arg, void *dst, char *err, size_t errlen);
/* The filters can match something (--min-age not above --max-age): else
 * false, the reason printed. */
bool rows_filter_check(const struct rows_filter *f);

struct row {
	struct pepsal_entry_view v;
	bool has_rate;        /* the same connection was seen at the last refresh */
	double rate[2];       /* bytes/s, indexed by enum pepsal_dir */
};

struct rows {
	struct row *r;
	size_t n, cap;
	unsigned int skipped; /* busy or corrupt entries */
};

/* Read every entry of T that passes F into ROWS, in F's order: 0 or -ENOMEM. */
int rows_collect(struct pepsal_table *t, const struct rows_filter *f, uint64_t now,
		 struct rows *rows);
/* "entries":[...],"matched":N,"skipped":N (RATES: with each entry's rates). */
void rows_json(const struct rows *rows, const struct rows_filter *f, uint64_t now, bool rates);
/* The header, a line per entry shown (and its client leg), what --limit
 * left out and how many were skipped. */
void rows_text(const struct rows *rows, const struct rows_filter *f, uint64_t now, bool rates);

#endif
