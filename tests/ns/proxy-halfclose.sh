#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The relay's ends of stream, IPv4 and IPv6: half-close both ways (the
# reply after a client's EOF arrives whole, and the mirror case), and a
# reset on either side resets the other.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"

proxy_setup || { show_log; exit 1; }

N=300000 M=2000000
bg "$NS_S" "$TMP/hc.log" python3 "$TOOLS/tcptool.py" halfclose 7001 $M
bg "$NS_S" "$TMP/mi.log" python3 "$TOOLS/tcptool.py" mirror 7002 $M "$TMP/mirror.out"
bg "$NS_S" "$TMP/rst.log" python3 "$TOOLS/tcptool.py" rst 7003
bg "$NS_S" "$TMP/wr.log" python3 "$TOOLS/tcptool.py" watch-rst 7004 "$TMP/watch.out"
for p in 7001 7002 7003 7004; do
	wait_until 5 listening "$NS_S" $p || { not_ok "server on port $p started"; finish; }
done

lines_in() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

n=0
for S in $S4 $S6; do
	v=IPv4; [ "$S" = "$S6" ] && v=IPv6
	out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" halfclose $S 7001 $N $M 2>&1)
	check "$v: client sends $N bytes and shuts down writing, gets all $M reply bytes ($out)" \
		[ "${out#ok}" != "$out" ]
	out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" mirror $S 7002 $N $M 2>&1)
	n=$((n + 1))
	check "$v: server sends $M bytes and shuts down writing; client gets them and EOF ($out)" \
		[ "${out#ok}" != "$out" ]
	wait_until 5 lines_in "$TMP/mirror.out" $n
	got=$(sed -n "${n}p" "$TMP/mirror.out" 2>/dev/null)
	check "$v: ... then the server gets the client's $N bytes after its own EOF ($got)" \
		[ "${got%% from *}" = "received $N" ]

	out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" expect-reset $S 7003 1 2>&1)
	check "$v: the server resets: the client gets a reset ($out)" no_fail "$out"
	nsx "$NS_C" python3 "$TOOLS/tcptool.py" send-rst $S 7004 1000
	wait_until 5 lines_in "$TMP/watch.out" $n
	got=$(sed -n "${n}p" "$TMP/watch.out" 2>/dev/null)
	check "$v: the client resets: the server gets a reset ($got)" [ "$got" = "reset 1000" ]
done

# a server that resets at once may do so before pepsal's dial has seen its
# connect complete: then it counts as a failed dial, and with the SYN held
# (the default) the client's own SYN goes end to end and meets the server's
# reset itself; either way the client is reset
p=$(counter proxy.predial_failed)
check "every connection went through the proxy, or end to end after a failed held dial" \
	test $(( $(counter proxy.accepted) + p )) -ge 8
r=$(counter proxy.resets) d=$(counter proxy.dial_failed)
check "resets were propagated (proxy.resets $r + proxy.dial_failed $d + proxy.predial_failed $p >= 4)" \
	test $((r + d + p)) -ge 4
check "all connections closed, the table is empty" wait_until 5 table_used_is 0
[ "$FAILS" -eq 0 ] || show_log 30
finish
