// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-shm: read-only inspector of the connection table.
 *
 *   pepsal-shm [--shm NAME] [--json] [COMMAND [OPTIONS]]
 *
 * It maps the segment read-only and never takes the table's lock: entries
 * are copied under their sequence counters, so a busy or even a dead writer
 * never blocks it. This file reads what comes before the command and hands
 * the rest to the command, which parses its own options: an option a
 * command does not take is an error (status 2), never ignored.
 */
#include <stdio.h>
#include <string.h>

#include "inspect.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct inspect_common *c);
	const char *description;
} commands[] = {
	{ "stats", cmd_stats, "header, heartbeats and counters (the default)" },
	{ "list", cmd_list, "one line per entry: state, client, original destination, age, bytes" },
	{ "watch", cmd_watch, "stats and list with rates, refreshed every --interval" },
	{ "metrics", cmd_metrics, "counters and gauges in the Prometheus text format" },
	{ "serve", cmd_serve, "the metrics over HTTP at --listen, GET /metrics" },
	{ "counters", cmd_counters, "what each counter of pepsal and pepsal-queuer means" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_commands(FILE *f)
{
	fprintf(f, "\nCommands (COMMAND --help: its options):\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].description);
}

int main(int argc, char **argv)
{
	struct inspect_common c = { .shm = PEPSAL_SHM_DEFAULT_NAME };
	bool version = false, given[4];
	const struct pepsal_opt opts[] = {
		{ "shm", 's', PEPSAL_OPT_CUSTOM, &c.shm, "NAME",
		  "shared-memory table to read (default " PEPSAL_SHM_DEFAULT_NAME ")", 0, 0,
		  inspect_parse_shm },
		{ "json", 'j', PEPSAL_OPT_FLAG, &c.json, NULL,
		  "print JSON (stats, list, watch, counters)", 0, 0, NULL },
		{ "version", 'V', PEPSAL_OPT_FLAG, &version, NULL,
		  "print the version and exit", 0, 0, NULL },
		{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
	};
	char *stats_argv[] = { (char *)"stats", NULL };
	const char *cmd;
	int first;

	first = pepsal_opts_parse_given(PROG, "[OPTIONS] [COMMAND [OPTIONS]]", opts, argc, argv,
					given);
	if (first == -2) {
		print_commands(stdout);
		return 0;
	}
	if (first < 0)
		return 2;
	if (version) {
		printf(PROG " %s\n", PEPSAL_VERSION);
		return 0;
	}
	c.shm_given = pepsal_opts_given(opts, given, "shm");
	if (first == argc) /* no command: stats */
		return cmd_stats(1, stats_argv, &c);
	cmd = argv[first];
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].fn(argc - first, argv + first, &c);
	fprintf(stderr, PROG ": unknown command '%s' (stats, list, watch, metrics, serve or "
		"counters; --help lists them)\n", cmd);
	return 2;
}
