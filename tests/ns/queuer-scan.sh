#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A port scan does not switch acceleration off (the short version of the
# goal in doc/benchmarks.md, section "Scans and floods"): one client address
# sends SYNs to a closed port for 1 s at the generator's top rate through the
# real pepsal; right after, connections from another client are all relayed
# by the proxy. Before, the scan's pending entries filled the table for the
# pending lifetime (hours) and every later SYN passed unaccelerated.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
FLOOD=$BUILD/tests/synflood
[ -x "$FLOOD" ] || skip_all "missing $FLOOD (make first)"
PORT=8080 N=20 CLIENT2=198.18.1.3

proxy_setup || { show_log; exit 1; }
nsx "$NS_S" python3 -m http.server --bind $S4 $PORT >"$TMP/http.log" 2>&1 &
on_exit "kill $!"
wait_until 10 listening "$NS_S" $PORT || { not_ok "server listens"; finish; }
nsx "$NS_C" ip addr add $CLIENT2/24 dev eth0
fetch() { nsx "$NS_C" curl -s -o /dev/null -m 10 --interface $CLIENT2 "http://$S4:$PORT/"; }
check "before the scan: a connection is accelerated" \
	eval 'a=$(counter proxy.accepted); fetch && wait_until 5 eval "[ \$(counter proxy.accepted) -gt $a ]"'

# ---- the scan: one address ($C4), a closed port, as fast as it goes, 1 s ----
"$FLOOD" --tx-netns "$NS_C" --rx-netns "$NS_S" --src $C4 --sources 1 --dport 9 \
	--duration 1s >"$TMP/scan.out" 2>&1
sent=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' "$TMP/scan.out")
echo "# scan: $(cat "$TMP/scan.out")"
cap=$("$BUILD/pepsal-shm" --shm "$SHM_NAME" --json stats |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["table"]["capacity"])')
check "the scan sent more SYNs than the table has entries (${sent:-0} > $cap)" \
	[ "${sent:-0}" -gt "$cap" ]
# its pending entries are bounded by its share of the table, and with the
# SYNs held (the default) by --hold-max first: the rest pass unmarked
contained=$(( $(counter queuer.unmarked_address_share) + $(counter queuer.hold_full) ))
check "the scanner was held to its share, the rest passed unmarked ($contained)" \
	[ "$contained" -gt 0 ]

# ---- right after: another client, every connection accelerated -----------
a0=$(counter proxy.accepted) ok=0
for ((i = 0; i < N; i++)); do fetch && ok=$((ok + 1)); done
check "after the scan: $N of $N connections succeed ($ok)" [ $ok -eq $N ]
check "after the scan: all $N relayed by the proxy" \
	wait_until 5 eval '[ $(( $(counter proxy.accepted) - a0 )) -eq $N ]'
echo "# accepted $(( $(counter proxy.accepted) - a0 )) of $N;" \
	"queuer: $("$BUILD/pepsal-shm" --shm "$SHM_NAME" stats | grep -E 'queuer\.(recorded|marked|unmarked|reclaimed)' | tr -s ' \n' ' ')"
[ "$FAILS" -eq 0 ] || show_log
finish
