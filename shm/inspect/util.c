// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What every pepsal-shm command uses: parsing its options against what
 * came before the command, attaching to the table (with a hint when it may
 * not be read), and the JSON and text helpers. Calls nothing of the other
 * files.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "inspect.h"

int inspect_parse(int argc, char **argv, const struct pepsal_opt *opts, const char *synopsis,
		  const struct inspect_common *c, bool json_ok)
{
	char prog[64];
	int r;

	snprintf(prog, sizeof(prog), PROG " %s", argv[0]);
	if (c->json && !json_ok) {
		fprintf(stderr, "%s: --json does not apply: %s prints no JSON\n", prog, argv[0]);
		return 2;
	}
	r = pepsal_opts_parse(prog, synopsis, opts, argc, argv);
	if (r == -2)
		return -1; /* --help: done, status 0 */
	if (r < 0)
		return 2;
	if (r < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help' for more "
			"information.\n", prog, argv[r], prog);
		return 2;
	}
	return 0;
}

bool inspect_parse_shm(const char *arg, void *dst, char *err, size_t errlen)
{
	if (!pepsal_shm_name_valid(arg, err, errlen))
		return false;
	*(const char **)dst = arg;
	return true;
}

const char *inspect_attach_hint(int err)
{
	if (err != -EACCES && err != -EPERM)
		return "";
	return " (the table is pepsal's, mode 0600 by default: run pepsal-shm as root, or "
	       "start pepsal with --shm-mode 0640 and read it as a member of its group)";
}

int inspect_attach(const struct inspect_common *c, struct pepsal_table **t)
{
	char err[512];
	int r = pepsal_table_attach(c->shm, true, t, err, sizeof(err));

	if (!r)
		return 0;
	fprintf(stderr, PROG ": %s%s\n", err, inspect_attach_hint(r));
	return 1;
}

void shm_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f) /* shm bytes may be anything */
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

char *shm_printable(char *name)
{
	for (char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return name;
}

double shm_age_s(uint64_t now, uint64_t then)
{
	return then && then <= now ? (double)(now - then) / 1e9 : 0.0;
}
