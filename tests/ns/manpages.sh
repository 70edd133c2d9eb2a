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

# help_opts PROG: long options of PROG --help, one per line, sorted.
help_opts() {
	"$BUILD/$1" --help | sed -n 's/^[[:space:]]*\(-.*\)$/\1/p' | sed 's/  .*//' |
		grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u
}
# man_opts PAGE: long options tagged (.TP) in the OPTIONS section.
man_opts() {
	awk '/^\.SH/ { opt = ($2 == "OPTIONS") } opt && tp { print; tp = 0; next } opt && /^\.TP/ { tp = 1 }' "$1" |
		sed 's/\\-/-/g' | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

for prog in pepsal pepsal-queuer pepsal-shm pepsal-iptables; do
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

for page in "$DOC"/pepsal.8 "$DOC"/pepsal-queuer.8 "$DOC"/pepsal-shm.8 \
	"$DOC"/pepsal-iptables.8 "$DOC"/pepsal.conf.5; do
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
		case $o in --help | --version | --handover-fd) continue ;; esac # set by an upgrade
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

# pepsal-start: the fully uncommented conf gives options pepsal has.
if [ -x "$BUILD/pepsal" ] && [ -x "$BUILD/pepsal-start" ]; then
	sed 's/^#\(PEPSAL_[A-Z0-9_]*=\)/\1/' "$CONF" >"$TMP/all.conf"
	if "$BUILD/pepsal-start" --pepsal "$BUILD/pepsal" -c "$TMP/all.conf" --print >"$TMP/cmd" 2>"$TMP/err"; then
		ok "pepsal-start accepts every variable of pepsal.conf"
	else
		not_ok "pepsal-start accepts every variable of pepsal.conf"; sed 's/^/#   /' "$TMP/err"
	fi
	check "pepsal-start passes values as --name=VALUE" grep -q -- '--max-conns=2112' "$TMP/cmd"
	check "pepsal-start leaves out flags set to no" bash -c "! grep -q -- '--daemon' '$TMP/cmd'"
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

finish
