#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The documentation agrees with the programs:
#   - every long option of each program's --help is in the OPTIONS section
#     of its man page, and every option listed there is in --help;
#   - groff (and man, if present) print no warnings for any page;
#   - pepsal.conf and pepsal.conf(5) have a variable for every option of
#     pepsal and for every setting of pepsal-iptables, and document the
#     same variables;
#   - pepsal-start turns the fully uncommented pepsal.conf into options
#     that pepsal has.
set -eu
. "$(dirname "$0")/../lib.sh"
need_cmd groff

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOC=$ROOT/doc

# help_opts PROG: long options of PROG --help, one per line, sorted
# (pepsal-shm: of its --help and of each command's).
help_opts() {
	{
		"$BUILD/$1" --help
		if [ "$1" = pepsal-shm ]; then
			for c in stats list watch metrics serve counters; do "$BUILD/$1" "$c" --help; done
		fi
	} | sed -n 's/^[[:space:]]*\(-.*\)$/\1/p' | sed 's/  .*//' |
		grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u
}
# man_opts PAGE: long options tagged (.TP) in the OPTIONS section.
man_opts() {
	awk '/^\.SH/ { opt = ($2 == "OPTIONS") } opt && tp { print; tp = 0; next } opt && /^\.TP/ { tp = 1 }' "$1" |
		sed 's/\\-/-/g' | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

for prog in pepsal pepsal-queuer pepsal-shm pepsal-iptables pepsal-start; do
	page=$DOC/$prog.8
	if [ ! -x "$BUILD/$prog" ]; then not_ok "$prog built"; continue; fi
	help_opts "$prog" >"$TMP/help"
	man_opts "$page" >"$TMP/man"
	check "$prog: --help lists options" test -s "$TMP/help"
	if diff "$TMP/help" "$TMP/man" >"$TMP/diff"; then
		ok "$prog: the man page's options equal --help's ($(wc -l <"$TMP/help"))"
	else
		not_ok "$prog: the man page's options equal --help's (< help only, > man only)"
		grep '^[<>]' "$TMP/diff" | sed 's/^/#   /'
	fi
done

# pepsal-shm(8)'s COUNTERS: the catalogue's names, kinds and descriptions,
# as pepsal-shm counters prints them (include/pepsal_catalog.h)
if [ -x "$BUILD/pepsal-shm" ]; then
	"$BUILD/pepsal-shm" counters --json >"$TMP/counters.json"
	if python3 - "$TMP/counters.json" "$DOC/pepsal-shm.8" >"$TMP/diff" <<'PY'
import json, re, sys
want = {c["name"]: (c["type"], c["help"]) for c in json.load(open(sys.argv[1]))}
lines = open(sys.argv[2]).read().split("\n")
sec = lines[lines.index(".SH COUNTERS") + 1:]
sec = sec[:next(i for i, l in enumerate(sec) if l.startswith(".SH "))]
have, i = {}, 0
while i < len(sec):
    m = re.match(r'^\.B (\S+)$|^\.BR (\S+) " \(gauge\)"$', sec[i]) if i and sec[i - 1] == ".TP" else None
    if m:
        name, text, i = m.group(1) or m.group(2), [], i + 1
        while i < len(sec) and not sec[i].startswith("."):
            text.append(sec[i]); i += 1
        help_ = " ".join(text).replace("\\-", "-").replace("\\\\", "\\")
        have[name] = ("counter" if m.group(1) else "gauge", help_)
    else:
        i += 1
bad = 0
for n in sorted(set(want) | set(have)):
    if want.get(n) != have.get(n):
        print("#   %s: pepsal-shm counters %s, the man page %s" % (n, want.get(n), have.get(n)))
        bad += 1
sys.exit(1 if bad or not want else 0)
PY
	then
		ok "pepsal-shm(8) COUNTERS: the catalogue's $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$TMP/counters.json") counters, kinds and descriptions"
	else
		not_ok "pepsal-shm(8) COUNTERS agree with 'pepsal-shm counters'"; head -n 20 "$TMP/diff"
	fi
fi

for page in "$DOC"/pepsal.8 "$DOC"/pepsal-queuer.8 "$DOC"/pepsal-shm.8 \
	"$DOC"/pepsal-iptables.8 "$DOC"/pepsal-start.8 "$DOC"/pepsal.conf.5; do
	name=$(basename "$page")
	groff -ww -z -man "$page" >"$TMP/warn" 2>&1 || echo "groff failed" >>"$TMP/warn"
	if [ -s "$TMP/warn" ]; then not_ok "$name: groff -ww is clean"; sed 's/^/#   /' "$TMP/warn"
	else ok "$name: groff -ww is clean"; fi
	if command -v man >/dev/null 2>&1; then
		MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>"$TMP/warn" >/dev/null || echo "man failed" >>"$TMP/warn"
		if [ -s "$TMP/warn" ]; then not_ok "$name: man --warnings is clean"; sed 's/^/#   /' "$TMP/warn"
		else ok "$name: man --warnings is clean"; fi
	fi
done

# ---- pepsal.conf and pepsal.conf(5)
CONF=$ROOT/rules/pepsal.conf
conf_vars() { sed -n 's/^#\{0,1\}\(PEPSAL_[A-Z0-9_]*\)=.*/\1/p' "$CONF" | sort -u; }
man5_vars() { grep -oE '^\.B PEPSAL_[A-Z0-9_]+$' "$DOC/pepsal.conf.5" | sed 's/^\.B //' | sort -u; }
conf_vars >"$TMP/conf"
man5_vars >"$TMP/man5"
if diff "$TMP/conf" "$TMP/man5" >"$TMP/diff"; then
	ok "pepsal.conf and pepsal.conf(5) have the same variables ($(wc -l <"$TMP/conf"))"
else
	not_ok "pepsal.conf and pepsal.conf(5) have the same variables (< conf only, > man only)"
	grep '^[<>]' "$TMP/diff" | sed 's/^/#   /'
fi

# Every option of pepsal is a variable PEPSAL_NAME.
if [ -x "$BUILD/pepsal" ]; then
	missing=
	for o in $(help_opts pepsal); do
		# --handover-fd is set by an upgrade, --check by pepsal-start --check
		case $o in --help | --version | --handover-fd | --check) continue ;; esac
		v=PEPSAL_$(echo "${o#--}" | tr 'a-z-' 'A-Z_')
		grep -qx "$v" "$TMP/conf" || missing="$missing $v"
	done
	check "every option of pepsal has its variable in pepsal.conf${missing:+ (missing:$missing)}" \
		test -z "$missing"
fi

# Every option of pepsal-iptables is a setting with its variable, or is
# known not to be one. A new option must be added to one of the two lists.
declare -A IPT_VAR=(
	[--interface]=PEPSAL_IPT_INTERFACES [--source]=PEPSAL_IPT_SOURCES
	[--destination]=PEPSAL_IPT_DESTINATIONS [--mode]=PEPSAL_MODE [--port]=PEPSAL_PORT
	[--queue]=PEPSAL_QUEUE [--queues]=PEPSAL_QUEUES [--queue-mark]=PEPSAL_MARK
	[--route-mark]=PEPSAL_ROUTE_MARK
	[--table]=PEPSAL_ROUTE_TABLE [--ipv4]=PEPSAL_IPT_FAMILY [--ipv6]=PEPSAL_IPT_FAMILY
	[--backend]=PEPSAL_IPT_BACKEND [--chain]=PEPSAL_IPT_CHAIN
	[--initcwnd]=PEPSAL_IPT_INITCWND [--initrwnd]=PEPSAL_IPT_INITRWND
	[--knob-table]=PEPSAL_IPT_KNOB_TABLE [--shape]=PEPSAL_IPT_SHAPE
	[--shape-limit]=PEPSAL_IPT_SHAPE_LIMIT
	[--pair-role]=PEPSAL_PAIR_ROLE [--sat-iface]=PEPSAL_IPT_SAT_IFACE [--ha-reset]=PEPSAL_IPT_HA_RESET
)
IPT_NOT_SETTINGS=" --mark --config --dry-run --verbose --help --version "
missing=
for o in $(help_opts pepsal-iptables); do
	case $IPT_NOT_SETTINGS in *" $o "*) continue ;; esac
	v=${IPT_VAR[$o]:-}
	if [ -z "$v" ] || ! grep -qx "$v" "$TMP/conf"; then missing="$missing $o${v:+($v)}"; fi
done
check "every setting of pepsal-iptables has its variable in pepsal.conf${missing:+ (missing:$missing)}" \
	test -z "$missing"
# ...and pepsal-iptables reads each of them.
missing=
for v in $(printf '%s\n' "${IPT_VAR[@]}" | sort -u); do
	grep -q "$v" "$BUILD/pepsal-iptables" || missing="$missing $v"
done
check "pepsal-iptables --config reads every variable${missing:+ (not:$missing)}" test -z "$missing"

# pepsal-start: the fully uncommented conf gives options pepsal has (a
# terminal's: the pair's variables need a role, and a single pepsal
# refuses them)
if [ -x "$BUILD/pepsal" ] && [ -x "$BUILD/pepsal-start" ]; then
	head -c 32 /dev/urandom | base64 >"$TMP/key" && chmod 600 "$TMP/key"
	{ sed 's/^#\(PEPSAL_[A-Z0-9_]*=\)/\1/' "$CONF"
	  printf 'PEPSAL_PAIR_ROLE=terminal\nPEPSAL_PAIR_GATEWAY=198.18.4.2\nPEPSAL_PAIR_KEY_FILE=%s\n' "$TMP/key"
	} >"$TMP/all.conf"
	if "$BUILD/pepsal-start" --pepsal "$BUILD/pepsal" -c "$TMP/all.conf" --print >"$TMP/cmd" 2>"$TMP/err"; then
		ok "pepsal-start accepts every variable of pepsal.conf"
	else
		not_ok "pepsal-start accepts every variable of pepsal.conf"; sed 's/^/#   /' "$TMP/err"
	fi
	check "pepsal-start passes values as --name=VALUE" grep -q -- '--max-conns=2112' "$TMP/cmd"
	check "pepsal-start leaves out flags set to no" bash -c "! grep -q -- '--daemon' '$TMP/cmd'"
	check "pepsal-start passes the routing mark to pepsal (shared with pepsal-iptables)" \
		grep -q -- '--route-mark=0x1/0x1' "$TMP/cmd"
	printf 'PEPSAL_PORT=6000\nPEPSAL_KEEPALIVE=yes\nPEPSAL_IPT_INTERFACES=eth0\n' >"$TMP/some.conf"
	"$BUILD/pepsal-start" --pepsal "$BUILD/pepsal" -c "$TMP/some.conf" --print -- -v >"$TMP/cmd"
	check "pepsal-start: variables become options, extra options follow" \
		grep -qxF -- "$BUILD/pepsal --keepalive --port=6000 -v" "$TMP/cmd"
	printf 'PEPSAL_MAX_CONN=10\n' >"$TMP/typo.conf"
	if "$BUILD/pepsal-start" --pepsal "$BUILD/pepsal" -c "$TMP/typo.conf" --print >/dev/null 2>"$TMP/err"; then
		not_ok "pepsal-start refuses a misspelt variable"
	else
		check "pepsal-start refuses a misspelt variable, naming it" grep -q PEPSAL_MAX_CONN "$TMP/err"
	fi
fi

# pepsal.conf(5) names the capabilities the unit keeps (issue 22.10)
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT/rules/pepsal.service")
missing=
for c in $caps; do
	grep -q "^\.BR* ${c}\b" "$DOC/pepsal.conf.5" || missing="$missing $c"
done
check "pepsal.conf(5) names each capability of the unit (${caps})${missing:+, not:$missing}" \
	test -n "$caps" -a -z "$missing"
check "pepsal.conf(5): reload is the unit's (SIGUSR2), not SIGHUP" sh -c \
	"grep -q '^ExecReload=.*-USR2' '$ROOT/rules/pepsal.service' && grep -A2 'systemctl reload pepsal' '$DOC/pepsal.conf.5' | grep -q SIGUSR2 && ! grep -A2 'systemctl reload pepsal' '$DOC/pepsal.conf.5' | grep -q SIGHUP"

# README and doc/*.md: no paragraph starts in the middle of a sentence but
# one that goes on after a code block (issue 22.10: "or `systemctl enable
# --now pepsal` ..." stood alone after the satellite knobs' paragraph)
stray=$(for f in "$ROOT/README.md" "$DOC"/*.md; do
	awk -v f="${f#"$ROOT"/}" '/^```/ { code = !code; prev = last = "```"; next } code { next }
		prev == "" && last != "```" && /^(or|and|but|then|which|so|while|because|with) / {
			print f ":" NR ": " substr($0, 1, 40) }
		{ if ($0 != "") last = $0; prev = $0 }' "$f"
done)
check "README and doc/*.md: no stray fragment${stray:+ ($stray)}" test -z "$stray"

finish
