#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --client-pacing / --server-pacing: SO_MAX_PACING_RATE on each leg, as ss
# reports it (max_pacing_rate), and the rate a transfer toward the client
# actually gets; bad rates are refused with status 2.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_cmd ss

for v in 0 5x 1000 -8m 2000g; do
	"$BUILD/pepsal" --shm "$SHM_NAME" --client-pacing "$v" >/dev/null 2>"$TMP/err"
	rc=$?
	check "--client-pacing $v: status 2 ($rc), '$(head -n1 "$TMP/err")'" \
		test $rc -eq 2 -a -n "$(grep -- "invalid value '$v' for --client-pacing" "$TMP/err")"
done

proxy_setup --client-pacing 8m --server-pacing 16m || { show_log; exit 1; }
bg "$NS_S" "$TMP/echo.log" python3 "$TOOLS/tcptool.py" echo 7005
bg "$NS_S" "$TMP/hc.log" python3 "$TOOLS/tcptool.py" halfclose 7001 2000000
wait_until 5 listening "$NS_S" 7005 && wait_until 5 listening "$NS_S" 7001 ||
	{ not_ok "servers started"; finish; }

bg "$NS_C" "$TMP/hold.log" python3 "$TOOLS/tcptool.py" hold $S4 7005 1 "$TMP/go"
wait_until 10 grep -q ready "$TMP/hold.log" || { not_ok "held connection ready"; cat "$TMP/hold.log"; }
# ss_leg FILTER: the info line of the router's socket that FILTER selects
ss_leg() { nsx "$NS_R" ss -Htin state established "$1" | tr -s ' \t\n' ' '; }
c=$(ss_leg "( dst $C4 )")
s=$(ss_leg "( dst $S4 and dport = :7005 )")
echo "# client leg: $c"
echo "# server leg: $s"
# ss prints "pacing_rate RATE/MAX" (MAX: max_pacing_rate)
check "client leg: max_pacing_rate 8 Mbit/s" grep -qE "pacing_rate [0-9]+bps/8000000bps" <<<"$c"
check "server leg: max_pacing_rate 16 Mbit/s" grep -qE "pacing_rate [0-9]+bps/16000000bps" <<<"$s"
touch "$TMP/go"
wait_until 10 grep -q "^ok" "$TMP/hold.log"

# 2 MB toward the client at 8 Mbit/s: about 2 s (unpaced: a few ms on veth)
t0=$(date +%s%N)
out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" halfclose $S4 7001 1000 2000000 2>&1)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "2 MB reach the client through pepsal ($out)" [ "${out#ok}" != "$out" ]
check "... paced: at least 1.6 s at 8 Mbit/s ($ms ms)" test "$ms" -ge 1600
[ "$FAILS" -eq 0 ] || show_log 30
finish
