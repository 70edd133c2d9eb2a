#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Vanished peers: a client whose link goes down while its connection is
# idle is found dead by keepalive, one that vanishes in the middle of a
# download by TCP_USER_TIMEOUT; either way pepsal frees the connection
# (threads, sockets, table entry) and resets the server. Against the same
# case with --no-keepalive --user-timeout 0 in the same run, where the
# connection is still held afterwards. Short timings here (the defaults are
# 60s/20s/6 and 120s).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"

FAST=(--keepalive-idle 1s --keepalive-interval 1s --keepalive-count 2 --user-timeout 3s)
proxy_setup "${FAST[@]}" || { show_log; exit 1; }
head -c $((64 * 1024 * 1024)) /dev/zero >"$TMP/big"
bg "$NS_S" "$TMP/echo.log" python3 "$TOOLS/tcptool.py" echo 7020
bg "$NS_S" "$TMP/http.log" python3 -m http.server --bind 0.0.0.0 --directory "$TMP" 8080
wait_until 5 listening "$NS_S" 7020 && wait_until 5 listening "$NS_S" 8080 ||
	{ not_ok "servers started"; finish; }

client_link() { # up|down: the client's only link
	ip -n "$NS_C" link set eth0 "$1"
	if [ "$1" = up ]; then
		ip -n "$NS_R" link set eth0 up
		ip -n "$NS_C" route replace default via $R4C 2>/dev/null
	fi
}
relaying() { [ "$(counter proxy.active)" -ge 1 ]; }

# idle_case WHAT: one idle echo connection, then the client's link goes down
idle_case() {
	rm -f "$TMP/go"
	bg "$NS_C" "$TMP/hold.out" python3 "$TOOLS/tcptool.py" hold $S4 7020 1 "$TMP/go"
	HOLD_PID=$BG_PID
	wait_until 10 grep -q ready "$TMP/hold.out" && wait_until 5 relaying
}

# ---- keepalive: the idle client vanishes ---------------------------------------
idle_case || { not_ok "an idle connection was set up"; show_log; finish; }
t0=$(date +%s%N)
client_link down
check "keepalive: the vanished idle client's connection is freed (1s + 2 x 1s probes)" \
	wait_until 15 counter_is proxy.active 0
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "... not before the probes could fail ($ms ms >= 2500)" test "$ms" -ge 2500
check "... its table entry too" wait_until 5 table_used_is 0
kill "$HOLD_PID" 2>/dev/null
client_link up

# ---- TCP_USER_TIMEOUT: the client vanishes mid-download --------------------------
bg "$NS_C" "$TMP/curl.out" curl -sS --limit-rate 2M -o /dev/null "http://$S4:8080/big"
CURL_PID=$BG_PID
wait_until 10 relaying || not_ok "the download went through pepsal"
t0=$(date +%s%N)
client_link down
check "user timeout: the client that vanished mid-download is let go" \
	wait_until 20 counter_is proxy.active 0
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "... after the 3 s of unacknowledged data ($ms ms >= 2500)" test "$ms" -ge 2500
r=$(counter proxy.resets)
check "... the server was reset too (proxy.resets $r >= 2)" test "$r" -ge 2
kill "$CURL_PID" 2>/dev/null
client_link up

# ---- the same without the feature: held for good -------------------------------------
proxy_stop
proxy_start --no-keepalive --user-timeout 0 || { not_ok "pepsal restarted"; show_log; finish; }
idle_case || { not_ok "an idle connection was set up (no keepalive)"; show_log; finish; }
client_link down
# a window of 8 s (more than the fast timings above needed) in which the
# connection must NOT be freed
still_held() { ! wait_until 8 counter_is proxy.active 0; }
check "without keepalive the vanished client's connection is still held after 8 s" still_held
kill "$HOLD_PID" 2>/dev/null
client_link up
[ "$FAILS" -eq 0 ] || show_log 30
finish
