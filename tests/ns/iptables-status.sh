#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-iptables status and remove, as a new user meets them:
#   - status without options describes what is installed, whatever options
#     install was given (nfqueue and tproxy, filters, port, marks, table,
#     one family), and still finds what is missing;
#   - status with options (or --config) compares with those exactly;
#   - on the nft backend, remove leaves the nft tables as they were before
#     install: the mangle and nat tables iptables-nft created for us go,
#     a table that holds someone else's rule stays with it.
set -eu
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip iptables-nft ip6tables-nft nft
IPT=$BUILD/pepsal-iptables
[ -x "$IPT" ] || { not_ok "pepsal-iptables built ($IPT)"; finish; }

NS=$(ns_new pis)
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up
pi() { nsx "$NS" "$IPT" -b nft "$@"; }
# status_of ARGS...: run status, keep its output in $TMP/status, set rc
status_of() { pi "$@" status >"$TMP/status" 2>&1 && rc=0 || rc=$?; }

# ---- status without options
status_of
check "nothing installed: status without options exits 3 and says so" bash -c "[ $rc -eq 3 ] && grep -q '^status: not installed' '$TMP/status'"

pi -i eth0 -s 198.18.0.0/15,fd00::/8 install
status_of
check "after install -i eth0 -s ...: status without options exits 0" [ "$rc" -eq 0 ]
check "...says installed" grep -qx 'status: installed' "$TMP/status"
check "...describes the options read from the rules" \
	grep -qx 'installed with: --mode nfqueue -i eth0 -s 198.18.0.0/15 -s fd00::/8 -q 0 --queue-mark 0x2/0x2 -p 5000 --route-mark 0x1/0x1 -t 100' "$TMP/status"
check "...and shows the counters" grep -q 'pkts.*bytes' "$TMP/status"
status_of -i eth1 -s 198.18.0.0/15,fd00::/8
check "status with other options: exit 3, the exact comparison" \
	bash -c "[ $rc -eq 3 ] && grep -q '^unexpected: IPv4 mangle rule' '$TMP/status'"
status_of -i eth0 -s 198.18.0.0/15,fd00::/8
check "status with the same options: exit 0" [ "$rc" -eq 0 ]
ip -n "$NS" -6 route del local default dev lo table 100
status_of
check "a route deleted: status without options exits 3 and names it" \
	bash -c "[ $rc -eq 3 ] && grep -q '^missing: IPv6 route local default dev lo table 100' '$TMP/status'"
pi remove

pi -4 -m tproxy -i eth0 -i eth1 -d 198.18.2.0/24 -p 6000 --route-mark 0x4 -t 101 install
status_of
check "tproxy, IPv4 only, other port, mark and table: status without options exits 0" [ "$rc" -eq 0 ]
check "...and reads them back" \
	grep -qx 'installed with: -4 --mode tproxy -i eth0 -i eth1 -d 198.18.2.0/24 -p 6000 --route-mark 0x4/0x4 -t 101' "$TMP/status"
pi -4 remove

cat >"$TMP/pepsal.conf" <<'CONF'
PEPSAL_IPT_INTERFACES="eth1"
PEPSAL_PORT=5555
CONF
pi -i eth0 install
status_of --config "$TMP/pepsal.conf"
check "status --config compares with the conf (eth1, 5555 against eth0, 5000): exit 3" [ "$rc" -eq 3 ]
pi remove

# ---- remove and the nft tables
nsx "$NS" nft list tables >"$TMP/before"
check "no nft table before install" [ ! -s "$TMP/before" ]
for mode in nfqueue tproxy; do
	pi -m "$mode" -i eth0 install
	nsx "$NS" nft list tables >"$TMP/during"
	check "$mode: install created the mangle tables" grep -qx 'table ip6 mangle' "$TMP/during"
	pi remove
	nsx "$NS" nft list tables >"$TMP/after"
	if diff -u "$TMP/before" "$TMP/after" >"$TMP/diff"; then ok "$mode: remove leaves the nft tables as before install"
	else not_ok "$mode: remove leaves the nft tables as before install"; sed 's/^/#   /' "$TMP/diff"; fi
done

# A nat table with someone else's rule stays, with the rule.
nsx "$NS" iptables-nft -t nat -A POSTROUTING -o eth1 -j MASQUERADE
pi -i eth0 install
pi remove
check "a table with another rule stays" bash -c "ip netns exec $NS nft list tables | grep -qx 'table ip nat'"
check "...with its rule" nsx "$NS" iptables-nft -t nat -C POSTROUTING -o eth1 -j MASQUERADE
check "...and the tables only we used are gone" bash -c "! ip netns exec $NS nft list tables | grep -q 'mangle\|ip6 nat'"
nsx "$NS" iptables-nft -t nat -D POSTROUTING -o eth1 -j MASQUERADE
# A table that existed with a chain of its own stays too.
nsx "$NS" nft add table ip mangle
nsx "$NS" nft add chain ip mangle other
pi -4 -i eth0 install
pi -4 remove
check "a mangle table with another chain stays" bash -c "ip netns exec $NS nft list chain ip mangle other >/dev/null"
check "remove twice: nothing to remove, no error" bash -c "ip netns exec $NS $IPT -b nft remove 2>&1 | grep -q 'nothing to remove'"
finish
