#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-iptables' satellite-leg knobs (--initcwnd, --initrwnd, --shape) in
# a namespace of its own:
#   - install copies the routes through the interface into the knob table
#     with the metrics (a route lookup toward a client carries them; the
#     return path's marked lookup still goes local) and shapes the interface
#     with tbf 9e:;
#   - status shows them, install twice equals once, other values converge;
#   - remove restores the exact previous routing and qdiscs, and leaves a
#     foreign qdisc alone (install refuses to replace it and changes nothing);
#   - bad values are refused with exit status 2 and change nothing.
set -eu
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip tc iptables

IPT=$BUILD/pepsal-iptables
[ -x "$IPT" ] || { not_ok "pepsal-iptables built ($IPT)"; finish; }

NS=$(ns_new pk)
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up
ip -n "$NS" addr add 198.18.11.2/24 dev eth0
ip -n "$NS" addr add fd00:11::2/64 dev eth0 nodad
ip -n "$NS" route add 198.18.10.0/24 via 198.18.11.1
ip -n "$NS" -6 route add fd00:10::/64 via fd00:11::1

snapshot() {
	local f
	for f in -4 -6; do
		echo "## ip $f rule"
		ip -n "$NS" "$f" rule show
		echo "## ip $f route"
		ip -n "$NS" "$f" route show table all | grep -v '^\(fe80::\|multicast\|local fe80\|ff00::\)' | sort
	done
	echo "## qdiscs"
	tc -n "$NS" qdisc show
}
same() {
	if diff -u "$2" "$3" >"$TMP/diff"; then ok "$1"
	else not_ok "$1"; sed 's/^/#   /' "$TMP/diff"; fi
}
pi() { nsx "$NS" bash "$IPT" "$@"; }
KNOBS=(-i eth0 --initcwnd 1000 --initrwnd 50 --shape 20m)

snapshot >"$TMP/before"
check "install with the knobs" pi "${KNOBS[@]}" install
get4=$(ip -n "$NS" route get 198.18.10.2)
check "a route toward an IPv4 client carries initcwnd 1000 initrwnd 50 ($(echo $get4))" \
	sh -c "echo '$get4' | grep -q 'initcwnd 1000' && echo '$get4' | grep -q 'initrwnd 50'"
get6=$(ip -n "$NS" -6 route get fd00:10::2)
check "a route toward an IPv6 client carries initcwnd 1000 ($(echo $get6))" \
	sh -c "echo '$get6' | grep -q 'initcwnd 1000'"
check "the return path (mark 0x1) still goes local" \
	sh -c "ip -n $NS route get 198.18.10.2 mark 1 | grep -q '^local'"
check "the server side keeps the main table (no initcwnd)" \
	sh -c "! ip -n $NS route get 198.18.12.2 2>&1 | grep -q initcwnd"
q=$(tc -n "$NS" qdisc show dev eth0 root)
check "eth0 is shaped by tbf 9e: at 20 Mbit/s ($q)" sh -c "echo '$q' | grep -q '^qdisc tbf 9e: root .*rate 20Mbit'"
check "status says installed" sh -c "ip netns exec $NS bash $IPT ${KNOBS[*]} status | grep -qx 'status: installed'"
snapshot >"$TMP/once"
pi "${KNOBS[@]}" install
snapshot >"$TMP/twice"
same "install twice equals once" "$TMP/once" "$TMP/twice"
pi -i eth0 --initcwnd 200 --shape 10m install
check "other values converge (initcwnd 200, 10 Mbit/s)" sh -c \
	"ip -n $NS route get 198.18.10.2 | grep -q 'initcwnd 200' && ! ip -n $NS route get 198.18.10.2 | grep -q initrwnd && tc -n $NS qdisc show dev eth0 root | grep -q 'rate 10Mbit'"
pi -i eth0 install
check "install without knobs drops them" sh -c \
	"! ip -n $NS route get 198.18.10.2 | grep -q initcwnd && ! tc -n $NS qdisc show dev eth0 root | grep -q 'tbf 9e:'"
pi "${KNOBS[@]}" install
check "remove" pi remove
snapshot >"$TMP/after"
same "remove restores the routing and the qdiscs" "$TMP/before" "$TMP/after"

# a qdisc that is not ours
tc -n "$NS" qdisc replace dev eth0 root handle 1: tbf rate 50mbit burst 6000 limit 100000
snapshot >"$TMP/foreign"
rc=0; pi "${KNOBS[@]}" install 2>"$TMP/err" || rc=$?
check "install refuses to replace a foreign root qdisc (exit $rc: $(head -n 1 "$TMP/err"))" test "$rc" -eq 1
snapshot >"$TMP/foreign2"
same "... and changes nothing (rolled back)" "$TMP/foreign" "$TMP/foreign2"
pi remove >/dev/null 2>&1 || true
snapshot >"$TMP/foreign3"
same "remove leaves the foreign qdisc alone" "$TMP/foreign" "$TMP/foreign3"
tc -n "$NS" qdisc del dev eth0 root

# a pair terminal: intercepts on its LAN (eth1), the knobs on the satellite side (--sat-iface)
pi --pair-role terminal -i eth1 --sat-iface eth0 --initcwnd 1000 --shape 20m install
check "pair terminal: the knobs go to --sat-iface eth0, not to -i eth1" sh -c \
	"ip -n $NS route get 198.18.10.2 | grep -q 'initcwnd 1000' && tc -n $NS qdisc show dev eth0 root | grep -q 'tbf 9e:' && ! tc -n $NS qdisc show dev eth1 root | grep -q 'tbf 9e:'"
check "... and it intercepts on -i eth1" sh -c \
	"ip netns exec $NS iptables -w 5 -t mangle -S PEPSAL | grep -q -- '-i eth1 .*NFQUEUE'"
check "... status: installed" sh -c \
	"ip netns exec $NS bash $IPT --pair-role terminal -i eth1 --sat-iface eth0 --initcwnd 1000 --shape 20m status | grep -qx 'status: installed'"
pi remove
# a pair gateway: the return path and the knobs, no interception
pi --pair-role gateway -i eth0 --initcwnd 1000 install
check "pair gateway: no NFQUEUE, TPROXY or REDIRECT rule, the return path's mark" sh -c \
	"ip netns exec $NS iptables-save | grep -q -- '-m socket --transparent' && ! ip netns exec $NS iptables-save | grep -qE 'NFQUEUE|TPROXY|REDIRECT'"
check "... the knobs on -i eth0" sh -c "ip -n $NS route get 198.18.10.2 | grep -q 'initcwnd 1000'"
check "... status: installed" sh -c \
	"ip netns exec $NS bash $IPT --pair-role gateway -i eth0 --initcwnd 1000 status | grep -qx 'status: installed'"
check "... status without options says it is a pair gateway's" sh -c \
	"ip netns exec $NS bash $IPT status | grep -q '^installed with: --pair-role gateway'"
pi remove
snapshot >"$TMP/after-pair"
same "remove after the pair roles restores the routing and the qdiscs" "$TMP/before" "$TMP/after-pair"

for bad in "--initcwnd 0" "--initcwnd x" "--initrwnd 70000" "--shape fast" "--shape 1k" \
	"--shape-limit 100000" "--initcwnd 10 --knob-table 100" "--knob-table 254" \
	"--pair-role both" "--sat-iface eth+ --initcwnd 10"; do
	rc=0
	# shellcheck disable=SC2086
	pi -i eth0 $bad install 2>"$TMP/err" || rc=$?
	check "$bad refused with exit 2 ($(head -n 1 "$TMP/err"))" test "$rc" -eq 2
done
rc=0; pi -i 'eth+' --initcwnd 100 install 2>"$TMP/err" || rc=$?
check "--initcwnd with a wildcard interface refused with exit 2 ($(head -n 1 "$TMP/err"))" test "$rc" -eq 2
rc=0; pi --shape 20m install 2>"$TMP/err" || rc=$?
check "--shape without -i refused with exit 2" test "$rc" -eq 2
snapshot >"$TMP/end"
same "refused options changed nothing" "$TMP/before" "$TMP/end"
finish
