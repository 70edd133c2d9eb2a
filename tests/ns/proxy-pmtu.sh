#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Path MTU through pepsal: a hop with a 1400-byte MTU on each side of the
# router (client ─ hop ─ pepsal ─ hop ─ server). The hops send "fragmentation
# needed" / "packet too big" to whoever sent a larger packet; for pepsal's
# transparent sockets that is an address of the client (upstream leg) or of
# the server (client leg in tproxy mode), so the error reaches pepsal only
# through the return path's ICMP rule. 2 MB uploads and downloads, IPv4 and
# IPv6, directly and through pepsal in the same run; then again in tproxy
# mode. Without the rule no upload through pepsal completes, nor in tproxy
# mode a download (in nfqueue mode conntrack's NAT brings the client leg's
# errors to its REDIRECTed socket).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"

PROXY_TOPO=topo_five proxy_setup || { show_log; exit 1; }
UP=8001 DOWN=8002 DIRECT=100 SIZE=2000000 MTU=1400
direct_port $((UP + DIRECT)) && direct_port $((DOWN + DIRECT)) ||
	{ not_ok "direct ports bypass the interception"; finish; }
for p in $UP $DOWN; do
	m=0
	[ $p = $DOWN ] && m=$SIZE
	bg "$NS_S" "$TMP/srv$p.log" python3 "$TOOLS/tcptool.py" halfclose $p $m
	bg "$NS_S" "$TMP/srv$((p + DIRECT)).log" python3 "$TOOLS/tcptool.py" halfclose $((p + DIRECT)) $m
	wait_until 5 listening "$NS_S" $p && wait_until 5 listening "$NS_S" $((p + DIRECT))
done

# The hops: both directions limited, as a real smaller link would be.
# "mtu lock": a forwarded IPv6 packet honours only a locked route MTU;
# metric 1: ahead of the connected route (IPv6 routes differ by metric).
ip -n "$NS_HS" route replace 198.18.2.0/24 dev eth1 mtu lock $MTU
ip -n "$NS_HS" -6 route add fd00:2::/64 dev eth1 metric 1 mtu lock $MTU
ip -n "$NS_HS" route replace default via $R4S mtu lock $MTU
ip -n "$NS_HS" -6 route replace default via $R6S mtu lock $MTU
ip -n "$NS_HC" route replace 198.18.1.0/24 dev eth0 mtu lock $MTU
ip -n "$NS_HC" -6 route add fd00:1::/64 dev eth0 metric 1 mtu lock $MTU
ip -n "$NS_HC" route replace default via $R4C mtu lock $MTU
ip -n "$NS_HC" -6 route replace default via $R6C mtu lock $MTU

# Each transfer runs between addresses of its own (routes in the client
# pick the source): a path MTU learned once is advertised as a smaller MSS
# in every later SYN between the same addresses, and the hop would never be
# met again.
for n in 1 2 3 4; do
	ip -n "$NS_C" addr add 198.18.1.$((10 + n))/24 dev eth0
	ip -n "$NS_C" addr add fd00:1::$((10 + n))/64 dev eth0 nodad
	ip -n "$NS_S" addr add 198.18.2.$((10 + n))/24 dev eth0
	ip -n "$NS_S" addr add fd00:2::$((10 + n))/64 dev eth0 nodad
	ip -n "$NS_C" route add 198.18.2.$((10 + n))/32 via 198.18.1.1 src 198.18.1.$((10 + n))
	ip -n "$NS_C" -6 route add fd00:2::$((10 + n))/128 via fd00:1::1 src fd00:1::$((10 + n))
done

# transfer S PORT N M: N bytes up, M down, within 8 s (direct: well under 1 s)
transfer() {
	timeout 8 ip netns exec "$NS_C" python3 "$TOOLS/tcptool.py" halfclose "$1" "$2" "$3" "$4" 2>&1 ||
		echo "FAIL (status $?)"
}
# pmtu_held ADDR: the router learned the hop's MTU toward ADDR
pmtu_held() { nsx "$NS_R" ip route get "$1" 2>/dev/null | grep -q "mtu $MTU"; }

for fam in 4 6; do
	n=0
	for dir in download upload; do
		if [ $dir = upload ]; then port=$UP up=$SIZE down=0; else port=$DOWN up=0 down=$SIZE; fi
		for via in direct pepsal; do
			n=$((n + 1))
			if [ $fam = 4 ]; then C=198.18.1.$((10 + n)) S=198.18.2.$((10 + n))
			else C=fd00:1::$((10 + n)) S=fd00:2::$((10 + n)); fi
			a0=$(counter proxy.accepted)
			p=$port
			[ $via = direct ] && p=$((port + DIRECT))
			out=$(transfer $S $p $up $down)
			check "IPv$fam $dir of $SIZE bytes across $MTU-byte hops, $via ($out)" no_fail "$out"
			[ $via = direct ] && continue
			check "... relayed by pepsal" test "$(counter proxy.accepted)" -gt "$a0"
			# what pepsal's sockets learned: the sending leg's path MTU
			if [ $dir = upload ]; then
				check "... pepsal's upstream socket learned the MTU toward the server" pmtu_held $S
			else
				check "... pepsal's client socket learned the MTU toward the client" pmtu_held $C
			fi
		done
	done
done
[ "$FAILS" -eq 0 ] || show_log 30
finish_both_modes
