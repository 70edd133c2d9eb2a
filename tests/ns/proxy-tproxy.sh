#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal --mode tproxy: the end-to-end tests of proxy-basic.sh and
# proxy-halfclose.sh again with TPROXY rules (pepsal-iptables --mode tproxy)
# and no queuer; then what is particular to the mode: no queuer runs, the
# table lists the relayed connection (pepsal records it itself), and a
# connection to the proxy's own port is reset rather than dialed in a loop.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

# ---- the end-to-end tests in tproxy mode ------------------------------------------
for t in proxy-basic.sh proxy-halfclose.sh; do
	PROXY_MODE=tproxy bash "$HERE/$t" >"$TMP/$t.out" 2>&1
	rc=$?
	sed -n -e 's/^ok - /ok - tproxy: /p' -e 's/^not ok - /not ok - tproxy: /p' \
		-e '/^#/p' "$TMP/$t.out"
	[ "$rc" -eq 77 ] && skip_all "$t skipped: $(grep -m1 SKIP "$TMP/$t.out")"
	grep -q '^ok ' "$TMP/$t.out" || not_ok "tproxy: $t ran (exit status $rc)"
	FAILS=$((FAILS + $(grep -c '^not ok ' "$TMP/$t.out")))
	[ "$rc" -eq 0 ] || [ "$(grep -c '^not ok ' "$TMP/$t.out")" -gt 0 ] ||
		not_ok "tproxy: $t exited with status $rc"
done

# ---- particular to the mode ----------------------------------------------------------
# pepsal.conf's PEPSAL_MODE, shared with pepsal-iptables, reaches pepsal
printf 'PEPSAL_MODE=tproxy\n' >"$TMP/mode.conf"
"$BUILD/pepsal-start" --pepsal "$BUILD/pepsal" -c "$TMP/mode.conf" --print >"$TMP/cmd" 2>&1
check "pepsal-start: PEPSAL_MODE=tproxy becomes --mode=tproxy ($(cat "$TMP/cmd"))" \
	grep -qxF -- "$BUILD/pepsal --mode=tproxy" "$TMP/cmd"

PROXY_MODE=tproxy
proxy_setup || { show_log; exit 1; }

check "no queuer runs (its heartbeat never seen)" [ "$(queuer_pid)" = 0 ]
check "... and no pepsal-queuer process in the router" \
	sh -c "! ip netns pids $NS_R | xargs -r ps -o comm= -p | grep -q pepsal-queuer"

# a held connection: the table lists it, established, with its destination
bg "$NS_S" "$TMP/echo.log" python3 "$TOOLS/tcptool.py" echo 7005
wait_until 5 listening "$NS_S" 7005 || { not_ok "echo server started"; finish; }
bg "$NS_C" "$TMP/hold.log" python3 "$TOOLS/tcptool.py" hold $S4 7005 1 "$TMP/go"
wait_until 10 grep -q ready "$TMP/hold.log" || { not_ok "held connection ready"; cat "$TMP/hold.log"; }
listed() { "$BUILD/pepsal-shm" --shm "$SHM_NAME" list >"$TMP/list" 2>&1 &&
	grep -qi "^established .*$C4:.*$S4:7005" "$TMP/list"; }
check "pepsal-shm list shows the relayed connection, established, to $S4:7005" \
	wait_until 5 listed
sed 's/^/# /' "$TMP/list"
touch "$TMP/go"
check "the held connection passed its checks after the listing" \
	wait_until 10 grep -q "^ok" "$TMP/hold.log"
check "its entry is freed at close" wait_until 5 table_used_is 0

# a connection to the proxy's own port, on the router's own address: the
# socket's address is the router's, so the dial would come back: reset
out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" expect-reset $R4C 5000 2 2>&1)
check "a connection to the router's own port 5000 is reset, not looped ($out)" no_fail "$out"
check "... counted as a miss, nothing relayed" test "$(counter proxy.lookup_miss)" -ge 1 \
	-a "$(counter proxy.active)" -eq 0
check "pepsal exits 0 on SIGTERM" proxy_stop
[ "$FAILS" -eq 0 ] || show_log 30
finish
