// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VALUE[/MASK] grammar of netfilter marks, one parser for every
 * program: pepsal's and the queuer's --mark, pepsal's --route-mark and the
 * queuer's --routing-mark (pepsal-iptables, in shell, follows the same
 * rules: tests/ns/iptables-errors.sh).
 *
 * Numbers are decimal or 0x hexadecimal (no octal: "010" is ten, as a
 * reader expects), 32 bits. MASK defaults to VALUE, so only the bits of
 * VALUE are owned. VALUE must be non-zero (a zero mark cannot be told from
 * an unmarked packet: a rule matching it would take every packet) and lie
 * within MASK.
 */
#include <stdio.h>
#include <string.h>

#include "pepsal_opts.h"

/* A 32-bit number at S, decimal or 0x hex, up to END (exclusive). */
static bool mark_number(const char *s, const char *end, uint32_t *out)
{
	uint64_t v = 0;
	int base = 10;

	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (s == end)
		return false;
	for (; s < end; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

bool pepsal_parse_mark(const char *s, struct pepsal_mark *m, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	const char *vend = slash ? slash : s + strlen(s);
	uint32_t v = 0, mask = 0;

	if (!mark_number(s, vend, &v) ||
	    (slash && !mark_number(slash + 1, slash + 1 + strlen(slash + 1), &mask))) {
		snprintf(err, errlen, "expected VALUE or VALUE/MASK, 32-bit numbers in decimal "
			 "or 0x hex (e.g. 0x2/0x2)");
		return false;
	}
	if (!slash)
		mask = v;
	if (!v) {
		snprintf(err, errlen, "the value must not be zero: a zero mark matches every "
			 "unmarked packet");
		return false;
	}
	if (v & ~mask) {
		snprintf(err, errlen, "the value 0x%x sets bits outside the mask 0x%x", v, mask);
		return false;
	}
	m->value = v;
	m->mask = mask;
	return true;
}

bool pepsal_opt_mark(const char *arg, void *dst, char *err, size_t errlen)
{
	return pepsal_parse_mark(arg, dst, err, errlen);
}

int pepsal_mark_format(const struct pepsal_mark *m, char *buf, size_t len)
{
	return snprintf(buf, len, "0x%x/0x%x", m->value, m->mask);
}

bool pepsal_marks_apart(const struct pepsal_mark *mark, const struct pepsal_mark *route,
			char *err, size_t errlen)
{
	if (!(mark->mask & route->mask))
		return true;
	snprintf(err, errlen, "the mark 0x%x/0x%x overlaps the routing mark 0x%x/0x%x of "
		 "the transparent return path: they must use different bits", mark->value,
		 mark->mask, route->value, route->mask);
	return false;
}
