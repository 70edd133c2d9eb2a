#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What pepsal does when it cannot relay: the server refuses (the client sees
# an error within 1 s), no table entry (RST, counted, unless conntrack has
# the original destination: then served), and the NAT
# port-remap trap: one client port, two simultaneous connections to two
# servers, each reaching its own.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"

# --accept-first: the legacy set-up (the client is accepted before the dial);
# the held set-up is tested by proxy-hold.sh
proxy_setup --accept-first --connect-timeout 2s || { show_log; exit 1; }
S4B=198.18.2.3 S6B=fd00:2::3
ip -n "$NS_S" addr add $S4B/24 dev eth0
ip -n "$NS_S" addr add $S6B/64 dev eth0 nodad

# ---- the server refuses ---------------------------------------------------
for S in $S4 $S6; do
	d0=$(counter proxy.dial_failed)
	out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" expect-reset $S 7999 1 2>&1)
	check "no server on $S port 7999: the client sees an error within 1 s ($out)" \
		no_fail "$out"
	check "... counted as proxy.dial_failed" test "$(counter proxy.dial_failed)" -gt "$d0"
done

# ---- unreachable server: the dial times out, the client gets a reset --------
nsx "$NS_S" iptables -A INPUT -p tcp --dport 7998 -j DROP
out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" expect-reset $S4 7998 4 2>&1)
check "black-holed server: reset after --connect-timeout 2s ($out)" no_fail "$out"
case "$out" in *"after 1."*|*"after 2."*|*"after 3."*) ok "... not before the timeout" ;;
	*) not_ok "... not before the timeout ($out)" ;; esac

# ---- lookup miss ------------------------------------------------------------
# A connection straight to the proxy port (local destination: never queued)
# has no entry.
m0=$(counter proxy.lookup_miss)
out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" expect-reset $R4C 5000 1 2>&1)
check "no table entry: the client gets a RST ($out)" no_fail "$out"
check "... counted as proxy.lookup_miss" test "$(counter proxy.lookup_miss)" -gt "$m0"
check "... and logged" grep -q "no table entry for the connection from $C4" "$TMP/pepsal.log"

# A marked SYN the queuer never recorded (its entry evicted, or a queuer that
# was replaced): conntrack's original destination says where it goes, so
# it is served, not reset.
bg "$NS_S" "$TMP/miss.log" python3 "$TOOLS/tcptool.py" serve-peer 7031 M
wait_until 5 listening "$NS_S" 7031
for ipt in iptables ip6tables; do
	nsx "$NS_R" $ipt -t mangle -I PREROUTING 1 -p tcp --syn --dport 7031 -j MARK --set-xmark 0x2/0x2
	nsx "$NS_R" $ipt -t mangle -I PREROUTING 2 -p tcp --syn --dport 7031 -j ACCEPT
done
for S in $S4 $S6; do
	src=$C4; [ "$S" = "$S6" ] && src=$C6
	s0=$(counter proxy.miss_served)
	out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get $S 7031 2>&1)
	check "no table entry but an original destination ($S): served, from the client's address ($out)" \
		[ "$out" = "M $src" ]
	check "... counted as proxy.miss_served" test "$(counter proxy.miss_served)" -gt "$s0"
done
check "... and its entry freed" wait_until 5 table_used_is 0

# ---- NAT port remap ---
# Both connections leave the client from port 40123; REDIRECTed to the one
# proxy port they would clash, so conntrack gives the second another source
# port: the proxy sees a port the queuer never recorded.--------------------------------------------------------
bg "$NS_S" "$TMP/a.log" python3 "$TOOLS/tcptool.py" serve-peer 7010 A
bg "$NS_S" "$TMP/b.log" python3 "$TOOLS/tcptool.py" serve-peer 7011 B
wait_until 5 listening "$NS_S" 7010 && wait_until 5 listening "$NS_S" 7011
# both servers on one port need two listeners: A on the first address, B on
# the second, told apart by port-forwarding B's address to 7011 in the server
nsx "$NS_S" iptables -t nat -A PREROUTING -d $S4B -p tcp --dport 7010 -j REDIRECT --to-ports 7011
nsx "$NS_S" ip6tables -t nat -A PREROUTING -d $S6B -p tcp --dport 7010 -j REDIRECT --to-ports 7011
for fam in 4 6; do
	if [ $fam = 4 ]; then src=$C4 a=$S4 b=$S4B; else src=$C6 a=$S6 b=$S6B; fi
	a0=$(counter proxy.accepted)
	out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" samesrc $src 40123 7010 $a $b 2>&1 | tr '\n' ' ')
	check "IPv$fam: one client port, two servers at once, each reaches its own ($out)" \
		[ "$out" = "A $src B $src " ]
	check "IPv$fam: both went through the proxy" test "$(counter proxy.accepted)" -ge $((a0 + 2))
done
remapped() {
	nsx "$NS_R" cat /proc/net/nf_conntrack | grep "sport=40123 dport=7010 " |
		grep -v "dport=40123 " | grep -q .
}
if [ -r /proc/net/nf_conntrack ]; then
	check "the trap was real: conntrack remapped a client port" remapped
fi
check "all connections closed, the table is empty" wait_until 5 table_used_is 0

# ---- SIGTERM while a dial is pending (--connect-timeout 2s) ------------------------
a0=$(counter proxy.accepted)
bg "$NS_C" "$TMP/pending.out" python3 "$TOOLS/tcptool.py" expect-reset $S4 7998 5
accepted_more() { [ "$(counter proxy.accepted)" -gt "$a0" ]; }
wait_until 5 accepted_more
t0=$(date +%s%N)
proxy_stop
rc=$? ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM during a dial: status $rc, exit in $ms ms, before the connect timeout" \
	test $rc -eq 0 -a $ms -lt 1500
check "... the waiting client was reset" wait_until 5 grep -q ConnectionResetError "$TMP/pending.out"
[ "$FAILS" -eq 0 ] || show_log 30
finish
