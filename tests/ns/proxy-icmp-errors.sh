#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A dial that an ICMP error refuses fails at once, as it does without
# pepsal: the client learns within 50 ms of the same connection made
# directly in the same run, IPv4 and IPv6, nfqueue and tproxy modes.
#   - firewall REJECT: the server's firewall answers the SYN with
#     icmp-admin-prohibited / icmp6-adm-prohibited;
#   - unreachable: a hop beyond the router has a route to nowhere for the
#     destination and answers host (IPv6: no route) unreachable.
# The errors are addressed to the client's address, the source of
# pepsal's transparent dial; without the return path's ICMP rule they are
# routed on to the client, which ignores them, and the client waits for
# --connect-timeout (5 s here).
# IPv6 takes about 1 s here even directly: tcpdump shows the ICMPv6 error
# 0.1 ms after the SYN, yet connect() returns after 1.0 s (the SYN's first
# retransmission time) on this kernel, with or without pepsal.
# In nfqueue mode pepsal has accepted the client before dialing, so the
# client sees a reset where it would see "no route to host" directly.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"

PROXY_TOPO=topo_five proxy_setup --connect-timeout 5s || { show_log; exit 1; }
REJ=7100 DIRECT=100 GONE4=198.18.5.1 GONE6=fd00:5::1 MARGIN_MS=50
direct_port $((REJ + DIRECT)) || { not_ok "a direct port bypasses the interception"; finish; }
for p in $REJ $((REJ + DIRECT)); do
	nsx "$NS_S" iptables -A INPUT -p tcp --dport $p -j REJECT --reject-with icmp-admin-prohibited
	nsx "$NS_S" ip6tables -A INPUT -p tcp --dport $p -j REJECT --reject-with icmp6-adm-prohibited
done
ip -n "$NS_HS" route add unreachable 198.18.5.0/24
ip -n "$NS_HS" -6 route add unreachable fd00:5::/64
# a listener in the server on the port, for the record: the REJECT comes first
bg "$NS_S" "$TMP/srv.log" python3 "$TOOLS/tcptool.py" echo $REJ
wait_until 5 listening "$NS_S" $REJ

# fail_ms URL: curl's exit status and the milliseconds until it gave up
fail_ms() {
	nsx "$NS_C" curl -s -o /dev/null --max-time 12 -w '%{time_total}' "$1" >"$TMP/t" 2>/dev/null
	local rc=$?
	awk -v rc=$rc '{ printf "%d %d\n", rc, $1 * 1000 }' "$TMP/t"
}
# compare WHAT DIRECT-URL PEPSAL-URL [SLACK-MS]
compare() {
	local what=$1 slack=${4:-$MARGIN_MS} d p f0 drc dms prc pms
	read -r drc dms <<<"$(fail_ms "$2")"
	f0=$(( $(counter proxy.dial_failed) + $(counter proxy.predial_failed) ))
	read -r prc pms <<<"$(fail_ms "$3")"
	check "$what: direct, curl fails before any timeout (status $drc, $dms ms)" \
		test "$drc" -ne 0 -a "$drc" -ne 28 -a "$dms" -lt 2000
	check "$what: through pepsal, curl fails within $slack ms of direct (status $prc, $pms ms)" \
		test "$prc" -ne 0 -a "$prc" -ne 28 -a "$pms" -le $((dms + slack))
	check "... pepsal's dial failed (held SYN: its predial)" \
		test $(( $(counter proxy.dial_failed) + $(counter proxy.predial_failed) )) -gt "$f0"
}

compare "IPv4 firewall REJECT (admin prohibited)" \
	"http://$S4:$((REJ + DIRECT))/" "http://$S4:$REJ/"
compare "IPv6 firewall REJECT (admin prohibited)" \
	"http://[$S6]:$((REJ + DIRECT))/" "http://[$S6]:$REJ/"
# With the SYN held (nfqueue mode's default), pepsal's own dial from the
# client's address meets the hop's unreachable route first, and the hop's
# ICMP rate limit toward that address (net.ipv4.icmp_ratelimit, 1 s) would
# swallow the error about the client's own SYN were it let through: the
# client got it after a SYN retransmission or three (7.1 s). The queuer
# answers the held SYN with the dial's ICMP error itself (same type, code
# and sender; issue 28): within 100 ms of direct. Accept-first and tproxy
# reset the client at once instead.
icmp_answers() { [ "$PROXY_MODE" = nfqueue ] && counter queuer.hold_icmp || echo 0; }
i0=$(icmp_answers)
compare "IPv4 route to nowhere (host unreachable)" \
	"http://$GONE4:$((REJ + DIRECT))/" "http://$GONE4:$REJ/" 100
i1=$(icmp_answers)
compare "IPv6 route to nowhere (no route)" \
	"http://[$GONE6]:$((REJ + DIRECT))/" "http://[$GONE6]:$REJ/" 100
i2=$(icmp_answers)
if [ "$PROXY_MODE" = nfqueue ]; then
	check "... the queuer answered the held IPv4 SYN with the ICMP error (queuer.hold_icmp $i0 -> $i1)" \
		test "$i1" -gt "$i0"
	check "... and the held IPv6 SYN with the ICMPv6 error (queuer.hold_icmp $i1 -> $i2)" \
		test "$i2" -gt "$i1"
fi
[ "$FAILS" -eq 0 ] || show_log 30
finish_both_modes
