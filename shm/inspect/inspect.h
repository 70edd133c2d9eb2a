/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pepsal-shm, the inspector: its commands, each parsing its own options (as
 * wireguard-tools' commands do), and what they share. No global: main.c
 * hands each command what was given before the command (struct
 * inspect_common), the command parses the rest.
 *
 * Calls go one way, no circle: main.c calls the commands (stats.c, list.c,
 * watch.c, metrics.c, serve.c, counters.c); watch.c also stats.c, serve.c
 * also metrics.c; list.c and watch.c call rows.c (selecting and printing
 * entries, rows.h), serve.c calls http.c (its request reader, http.h);
 * rows.c calls tcpinfo.c; every file may call util.c, which calls none.
 */
#ifndef PEPSAL_INSPECT_H
#define PEPSAL_INSPECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pepsal_opts.h"
#include "pepsal_table.h"

#define PROG "pepsal-shm"
#define HEARTBEAT_FRESH_NS 3000000000ull /* what the queuer calls alive */

/* What may come before the command: pepsal-shm --shm NAME --json list. A
 * command that does not print JSON refuses a --json given there. */
struct inspect_common {
	const char *shm;      /* segment name */
	bool shm_given;       /* --shm came before the command */
	bool json;            /* JSON instead of text */
};

/* A command: ARGV[0] is its name, the rest its options. Returns the exit
 * status (0, 1: the table cannot be read, 2: a bad option). */
int cmd_stats(int argc, char **argv, struct inspect_common *c);
int cmd_list(int argc, char **argv, struct inspect_common *c);
int cmd_watch(int argc, char **argv, struct inspect_common *c);
int cmd_metrics(int argc, char **argv, struct inspect_common *c);
int cmd_serve(int argc, char **argv, struct inspect_common *c);
int cmd_counters(int argc, char **argv, struct inspect_common *c);

/* ---- util.c: what every command uses ----------------------------------- */

/* Parse a command's options (OPTS, its --shm and --json included): 0, or
 * the exit status to return (2 after a bad option, 0 after --help).
 * JSON_OK: the command prints JSON (else a --json before it is refused). */
int inspect_parse(int argc, char **argv, const struct pepsal_opt *opts, const char *synopsis,
		  const struct inspect_common *c, bool json_ok);
/* --shm's parser: a valid segment name (checked before anything is read). */
bool inspect_parse_shm(const char *arg, void *dst, char *err, size_t errlen);
/* Attach C->shm read-only into *T; on failure print why (and, when it is
 * a permission, what to do) and return 1. */
int inspect_attach(const struct inspect_common *c, struct pepsal_table **t);
/* The hint for a segment we may not read ("" for another error). */
const char *inspect_attach_hint(int err);

void shm_json_string(FILE *f, const char *s);
double shm_age_s(uint64_t now, uint64_t then);
/* NAME (a counter name from the segment) with control characters as '?'. */
char *shm_printable(char *name);

/* ---- stats.c: the header, heartbeats and counters (watch prints them too) */

void stats_print_json(FILE *f, struct pepsal_table *t, uint64_t now);
void stats_print_text(struct pepsal_table *t, uint64_t now);

/* ---- metrics.c ------------------------------------------------------------ */

/* Write the Prometheus text exposition of table NAME to F. Attaches and
 * detaches itself; when the table cannot be read, writes pepsal_table_up 0
 * and returns a negative errno with ERR filled. */
int shm_metrics_write(FILE *f, const char *name, char *err, size_t errlen);

#endif
