#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal end to end, IPv4 and IPv6: curl downloads 50 MB through the proxy
# (sha256 matches, the table's counters show the proxy relayed it), and the
# server sees the client's own address (transparent dial).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"

proxy_setup -v || { show_log; exit 1; }

# ---- servers ------------------------------------------------------------
head -c $((50 * 1024 * 1024)) /dev/urandom >"$TMP/big"
want=$(sha256sum <"$TMP/big" | cut -d' ' -f1)
bg "$NS_S" "$TMP/http.log" python3 -m http.server --bind :: --directory "$TMP" 8080
bg "$NS_S" "$TMP/peer.log" python3 "$TOOLS/tcptool.py" serve-peer 7000
wait_until 5 listening "$NS_S" 8080 && wait_until 5 listening "$NS_S" 7000 ||
	{ not_ok "servers started"; finish; }

# ---- IPv4 ---------------------------------------------------------------
a0=$(counter proxy.accepted)
got=$(nsx "$NS_C" curl -sS --max-time 60 "http://$S4:8080/big" | sha256sum | cut -d' ' -f1)
check "IPv4: 50 MB through pepsal, sha256 matches" [ "$got" = "$want" ]
a1=$(counter proxy.accepted)
check "IPv4: the proxy accepted the connection (proxy.accepted $a0 -> $a1)" [ "$a1" -gt "$a0" ]

peer=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get $S4 7000)
check "IPv4: the server sees the client's address ($peer)" [ "$peer" = "server $C4" ]
a2=$(counter proxy.accepted)
check "IPv4: that connection went through the proxy too" [ "$a2" -gt "$a1" ]

# ---- IPv6 ---------------------------------------------------------------
got=$(nsx "$NS_C" curl -sS --max-time 60 "http://[$S6]:8080/big" | sha256sum | cut -d' ' -f1)
check "IPv6: 50 MB through pepsal, sha256 matches" [ "$got" = "$want" ]
a3=$(counter proxy.accepted)
check "IPv6: the proxy accepted the connection (proxy.accepted $a2 -> $a3)" [ "$a3" -gt "$a2" ]

peer=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get $S6 7000)
check "IPv6: the server sees the client's address ($peer)" [ "$peer" = "server $C6" ]

# ---- bookkeeping ----------------------------------------------------------
check "every relayed connection was closed and freed" wait_until 5 counter_is proxy.active 0
check "no lookup miss, no dial failure" \
	test "$(counter proxy.lookup_miss)" -eq 0 -a "$(counter proxy.dial_failed)" -eq 0
check "the table holds no entry after the connections closed" wait_until 5 table_used_is 0
check "pepsal exits 0 on SIGTERM" proxy_stop
check "pepsal removed its table at exit" [ ! -e "/dev/shm/${SHM_NAME#/}" ]
# ---- --no-transparent: the server sees the proxy ---------------------------------
proxy_start --no-transparent || { not_ok "pepsal started again"; show_log; finish; }
a0=$(counter proxy.accepted)
peer=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get $S4 7000)
check "--no-transparent, IPv4: the server sees the router's address ($peer)" [ "$peer" = "server $R4S" ]
peer=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get $S6 7000)
check "--no-transparent, IPv6: the server sees the router's address ($peer)" [ "$peer" = "server $R6S" ]
check "... both proxied" test "$(counter proxy.accepted)" -eq $((a0 + 2))
[ "$FAILS" -eq 0 ] || show_log 30
finish
