#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-iptables refuses bad input with a clear message and leaves nothing
# half-installed: unknown interface, iptables or ip missing from PATH, not
# root, bad values (exit status 2), and a failure in the middle of install
# (rolled back).
set -eu
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip iptables-nft ip6tables-nft setpriv

IPT=$BUILD/pepsal-iptables
[ -x "$IPT" ] || { not_ok "pepsal-iptables built ($IPT)"; finish; }

NS=$(ns_new pe)
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up
nsx "$NS" iptables-nft -t mangle -A PREROUTING -p udp -j MARK --set-mark 0x10

snapshot() {
	local f t
	for f in iptables-nft ip6tables-nft iptables-legacy ip6tables-legacy; do
		for t in mangle nat; do nsx "$NS" "$f" -w 5 -t "$t" -S 2>/dev/null; done
	done
	ip -n "$NS" -4 rule show; ip -n "$NS" -6 rule show
	# (link-local addresses come and go on their own: not ours)
	ip -n "$NS" -4 route show table all
	ip -n "$NS" -6 route show table all | grep -v 'fe80::' || true
}
snapshot >"$TMP/before"
unchanged() { snapshot >"$TMP/now"; cmp -s "$TMP/before" "$TMP/now"; }

# refused WHAT STATUS PATTERN CMD...: CMD exits with STATUS (any non-zero
# when STATUS is "fail"), says PATTERN on stderr, and changes nothing.
refused() {
	local what=$1 want=$2 pat=$3 rc
	shift 3
	"$@" >"$TMP/out" 2>"$TMP/err" && rc=0 || rc=$?
	if [ "$want" = fail ]; then
		check "$what: exit status not 0 ($rc)" [ "$rc" -ne 0 ]
	else
		check "$what: exit status $want ($rc)" [ "$rc" -eq "$want" ]
	fi
	if grep -qE -- "$pat" "$TMP/err"; then ok "$what: message"
	else not_ok "$what: message /$pat/"; sed 's/^/#   /' "$TMP/err"; fi
	if unchanged; then ok "$what: nothing changed"; else not_ok "$what: nothing changed"; diff "$TMP/before" "$TMP/now" | sed "s/^/#   /"; fi
}

refused "unknown interface" 1 "unknown interface 'nosuch0'" \
	nsx "$NS" "$IPT" -b nft -i eth0 -i nosuch0 install

# A PATH holding everything but iptables (or ip).
mkpath() { # mkpath DIR EXCLUDE-REGEX
	mkdir -p "$1"
	local d f
	for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
		[ -d "$d" ] || continue
		for f in "$d"/*; do
			f=${f##*/}
			[[ $f =~ $2 ]] && continue
			[ -e "$1/$f" ] || [ -L "$1/$f" ] || ln -s "$d/$f" "$1/$f"
		done
	done
}
mkpath "$TMP/noipt" '^(ip6?tables|xtables)'
mkpath "$TMP/noip" '^ip$'
refused "PATH without iptables" 1 "iptables not found in PATH" \
	nsx "$NS" env PATH="$TMP/noipt" bash "$IPT" install
refused "PATH without iptables, backend legacy" 1 "iptables.* not found in PATH" \
	nsx "$NS" env PATH="$TMP/noipt" bash "$IPT" -b legacy install
refused "PATH without ip" 1 "ip not found in PATH" \
	nsx "$NS" env PATH="$TMP/noip" bash "$IPT" install

cp "$IPT" "$TMP/pepsal-iptables" && chmod 755 "$TMP" "$TMP/pepsal-iptables"
refused "not root" 1 "needs root" \
	nsx "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$TMP/pepsal-iptables" -b nft install
refused "root without CAP_NET_ADMIN" 1 "needs root" \
	nsx "$NS" setpriv --inh-caps=-all --bounding-set=-net_admin \
	"$TMP/pepsal-iptables" -b nft install

refused "port 70000" 2 "--port: '70000'" nsx "$NS" "$IPT" -p 70000 install
refused "unknown mode" 2 "--mode: 'foo'" nsx "$NS" "$IPT" -m foo install
refused "overlapping marks" 2 "overlap" nsx "$NS" "$IPT" --queue-mark 0x3 install
refused "zero mark" 2 "zero" nsx "$NS" "$IPT" --route-mark 0/0x1 install
refused "system routing table" 2 "system table" nsx "$NS" "$IPT" -t 254 install
refused "bad source" 2 "--source: '1.2.3.400'" nsx "$NS" "$IPT" -s 1.2.3.400 install
refused "IPv4-only filter with IPv6 on" 2 "every --source is IPv4" \
	nsx "$NS" "$IPT" -s 198.18.0.0/15 install
refused "unknown option" 2 "unknown option '--frobnicate'" nsx "$NS" "$IPT" --frobnicate install
refused "no command" 2 "no command" nsx "$NS" "$IPT"
refused "unknown command" 2 "unknown command 'instal'" nsx "$NS" "$IPT" instal
refused "unreadable config" 2 "cannot read config" nsx "$NS" "$IPT" -c "$TMP/nosuch.conf" install

# issue 22.1, 22.2: a configuration file read in part, or with a misspelt
# variable, installed the default rules on every interface and exit 0
mkdir "$TMP/conf.d"
printf 'PEPSAL_IPT_INTERFACES=eth0\nif then\n' >"$TMP/syntax.conf"
printf 'PEPSAL_IPT_INTERFACES=eth0\nfalse\n' >"$TMP/last.conf"
printf 'PEPSAL_IPT_INTERFACE=eth0\n' >"$TMP/typo.conf"
printf 'PEPSAL_ROUTE_TABEL=100\nPEPSAL_IPT_INTERFACE=eth0\n' >"$TMP/typo2.conf"
refused "config is a directory" 2 "conf.d: not a regular file" nsx "$NS" "$IPT" -c "$TMP/conf.d" install
refused "config with a syntax error" 2 "cannot read config file .*syntax.conf" \
	nsx "$NS" "$IPT" -c "$TMP/syntax.conf" install
refused "config whose last command fails" 2 "cannot read config file .*last.conf" \
	nsx "$NS" "$IPT" -c "$TMP/last.conf" install
refused "misspelt PEPSAL_IPT_INTERFACES" 2 "PEPSAL_IPT_INTERFACE is not a variable" \
	nsx "$NS" "$IPT" -c "$TMP/typo.conf" install
refused "two misspelt variables: both named" 2 "PEPSAL_IPT_INTERFACE is not" \
	nsx "$NS" "$IPT" -c "$TMP/typo2.conf" install
check "two misspelt variables: a line each" grep -q "PEPSAL_ROUTE_TABEL is not" "$TMP/err"
printf 'PEPSAL_PORT=0\nPEPSAL_IPT_FAMILY=x\nPEPSAL_MARK=0x1\n' >"$TMP/values.conf"
refused "bad values from the file: each names its variable" 2 "values.conf: PEPSAL_PORT: '0' is not a port" \
	nsx "$NS" "$IPT" -c "$TMP/values.conf" install
check "... every problem on a line of its own (3 and the hint)" \
	sh -c '[ "$(grep -c "values.conf: PEPSAL_" "$1")" = 3 ] && [ "$(wc -l <"$1")" = 4 ]' _ "$TMP/err"
refused "a value given on the command line: the option named" 2 "^pepsal-iptables: --port: '0'" \
	nsx "$NS" "$IPT" -c "$TMP/values.conf" -p 0 install

# check: no privilege, nothing read of the kernel; 0 or 2 with the lines
check "check: a valid configuration, as nobody: status 0" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$TMP/pepsal-iptables" -i eth0 --mark 010 --route-mark 0x1 check
refused "check: bad values, status 2" 2 "--queues: 'many'" nsx "$NS" "$IPT" --queues many check
check "check: pepsal-iptables' marks are pepsal's (010 is ten, 0xa, not octal)" \
	sh -c "ip netns exec $NS '$IPT' -n --mark 010 --route-mark 0x1 install | grep -q -- '--mark 0xa/0xa -j REDIRECT'"

# A failure after part of the work is done: the rules and the ip rule go in,
# then the route cannot be added (lo is down). Everything is rolled back.
ip -n "$NS" link set lo down
snapshot >"$TMP/before"  # (lo down removes its routes: compare with that)
refused "route refused midway" 1 "rolled back|nothing was changed" \
	nsx "$NS" "$IPT" -b nft -i eth0 install
check "route refused midway: the rules were added, then rolled back" \
	grep -q "rolling back" "$TMP/err"
ip -n "$NS" link set lo up

finish
