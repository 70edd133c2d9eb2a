#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The pepsal pair (issue 18): client ─ terminal pepsal ─ router ─ gateway
# pepsal ─ server (topo_five: the terminal in the client-side hop, the
# gateway in the server-side hop). The terminal intercepts as usual and
# carries each connection over a warm pair connection to the gateway, which
# dials the server from the client's address. Checked: integrity both ways,
# IPv4 and IPv6; the server sees the client's address; half-close; a refusal
# reaches the client as a reset at once; 200 concurrent connections through
# a pool of 8; a wrong key, a replayed, a truncated and a stale header and an
# unknown peer refused, counted, nothing relayed; the gateway killed: new
# connections succeed by the fallback (a single pepsal at the terminal).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_root
need_cmd iptables ip6tables python3
[ -x "$BUILD/pepsal" ] && [ -x "$BUILD/pepsal-queuer" ] && [ -x "$BUILD/pepsal-shm" ] ||
	skip_all "build pepsal, pepsal-queuer and pepsal-shm into $BUILD first"

topo_five || { not_ok "topology"; finish; }
SHM_T="${SHM_NAME}-t" SHM_G="${SHM_NAME}-g"
PPORT=5001 POOL=8 MANY=200
[ -n "${SAN:-}" ] && MANY=60
GW4=$H4S GW6=$H6S # the gateway's address toward the router
head -c 32 /dev/urandom | base64 >"$TMP/key"
head -c 32 /dev/urandom | base64 >"$TMP/otherkey"
chmod 600 "$TMP/key" "$TMP/otherkey" # pepsal refuses a key open to others
for a in $C4 $S4 $C6 $S6 $GW4 $H4C; do
	nsx "$NS_HC" ping -c1 -W2 -q "$a" >/dev/null 2>&1
	nsx "$NS_HS" ping -c1 -W2 -q "$a" >/dev/null 2>&1
done

# The rules: the terminal intercepts what arrives from the client; the
# gateway only has the return path of its transparent dials.
nsx "$NS_HC" bash "$SRC/rules/pepsal-iptables" -i eth0 --pair-role terminal install \
	>"$TMP/rules-t.log" 2>&1 || { cat "$TMP/rules-t.log"; not_ok "terminal rules"; finish; }
nsx "$NS_HS" bash "$SRC/rules/pepsal-iptables" --pair-role gateway install \
	>"$TMP/rules-g.log" 2>&1 || { cat "$TMP/rules-g.log"; not_ok "gateway rules"; finish; }
check "a gateway's rules intercept nothing (no NFQUEUE, no REDIRECT)" \
	sh -c "! ip netns exec $NS_HS iptables-save | grep -qE 'NFQUEUE|REDIRECT|TPROXY'"

ctr() { # ctr SHM NAME: a counter of that pepsal's table
	"$BUILD/pepsal-shm" --shm "$1" --json stats 2>/dev/null | python3 -c 'import json,sys
d = json.load(sys.stdin); print(d.get("counters", {}).get(sys.argv[1], 0))' "$2" 2>/dev/null || echo 0
}
ctr_ge() { [ "$(ctr "$1" "$2")" -ge "$3" ]; }

GW_PID= TERM_PID=
gateway_start() {
	ip netns exec "$NS_HS" "$BUILD/pepsal" --shm "$SHM_G" --pair-role gateway \
		--pair-listen ":$PPORT" --pair-peer "$H4C,$H6C" --pair-key-file "${1:-$TMP/key}" \
		>>"$TMP/gateway.log" 2>&1 &
	GW_PID=$!
	on_exit "kill $GW_PID"
	wait_until 5 listening "$NS_HS" $PPORT
}
terminal_start() {
	ip netns exec "$NS_HC" "$BUILD/pepsal" --shm "$SHM_T" --pair-role terminal \
		--pair-gateway "$GW4" --pair-pool $POOL --pair-key-file "$TMP/key" "$@" \
		>>"$TMP/terminal.log" 2>&1 &
	TERM_PID=$!
	on_exit "kill $TERM_PID"
	wait_until 5 listening "$NS_HC" 5000 || return 1
	case " $* " in *" tproxy "*) ;; *) wait_until 10 queuer_alive ;; esac
}
queuer_alive() {
	"$BUILD/pepsal-shm" --shm "$SHM_T" --json stats | python3 -c 'import json,sys
sys.exit(0 if json.load(sys.stdin)["heartbeats"]["queuer"]["alive"] else 1)'
}
show_logs() {
	tail -n 15 "$TMP/terminal.log" | sed 's/^/# terminal: /'
	tail -n 15 "$TMP/gateway.log" | sed 's/^/# gateway: /'
}
gateway_start || { show_logs; not_ok "the gateway listens"; finish; }
terminal_start || { show_logs; not_ok "the terminal starts"; finish; }
check "the terminal fills its pool ($POOL)" wait_until 10 ctr_ge "$SHM_T" proxy.pair_pool $POOL

ECHO=7001 PEER=7002 HALF=7003 SRCP=7004 COUNT=7005 WRST=7006 SRST=7007 CLOSED=7009
bg "$NS_S" "$TMP/echo.log" python3 "$TOOLS/tcptool.py" echo $ECHO
bg "$NS_S" "$TMP/peer.log" python3 "$TOOLS/tcptool.py" serve-peer $PEER
bg "$NS_S" "$TMP/half.log" python3 "$TOOLS/tcptool.py" halfclose $HALF 300000
bg "$NS_S" "$TMP/src.log" python3 "$TOOLS/tcptool.py" source $SRCP
bg "$NS_S" "$TMP/count.log" python3 "$TOOLS/tcptool.py" count-echo $COUNT "$TMP/accepted"
bg "$NS_S" "$TMP/wrst.log" python3 "$TOOLS/tcptool.py" watch-rst $WRST "$TMP/rst.out"
bg "$NS_S" "$TMP/srst.log" python3 "$TOOLS/tcptool.py" rst $SRST
for p in $ECHO $PEER $HALF $SRCP $COUNT $WRST $SRST; do wait_until 5 listening "$NS_S" $p; done
touch "$TMP/accepted"

cli() { timeout "${T:-30}" ip netns exec "$NS_C" python3 "$TOOLS/tcptool.py" "$@" 2>&1; }
used0=$(ctr "$SHM_T" proxy.pair_used)

# ---- integrity, both directions, both families
for s in $S4 $S6; do
	out=$(cli fetch "$s" $SRCP 3000000 7)
	check "$s: 3 MB down through the pair, sha256 exact ($out)" grep -q "sha256 .* exact" <<<"$out"
	out=$(cli many "$s" $ECHO 4 500000)
	check "$s: 4 x 500 kB echoed through the pair, verified ($out)" grep -q "^4/4 connections verified" <<<"$out"
	out=$(cli get "$s" $PEER)
	case $s in *:*) want=$C6 ;; *) want=$C4 ;; esac
	check "$s: the server sees the client's address ($out)" test "$out" = "server $want"
	out=$(cli halfclose "$s" $HALF 200000 300000)
	check "$s: half-close crosses the pair (200 kB up, EOF, 300 kB back: $out)" no_fail "$out"
done
used=$(ctr "$SHM_T" proxy.pair_used)
check "those went through the pair (pair_used $used0 -> $used, 14 expected)" test $((used - used0)) -ge 14
check "the gateway relayed them (pair_accepted >= 14)" ctr_ge "$SHM_G" proxy.pair_accepted 14
check "no fallback so far" test "$(ctr "$SHM_T" proxy.pair_fallback_direct)" -eq 0
check "the gateway lists its connections in its own table (pepsal-shm list)" \
	sh -c "T=30 ip netns exec $NS_C python3 $TOOLS/tcptool.py hold $S4 $ECHO 3 $TMP/go-list >$TMP/hold.out 2>&1 &
		for i in \$(seq 500); do grep -q ready $TMP/hold.out && break; sleep 0.02; done
		\"$BUILD/pepsal-shm\" --shm $SHM_G list >$TMP/list.out; touch $TMP/go-list; wait
		[ \$(grep -c '$C4' $TMP/list.out) -ge 3 ]"

# ---- the client's DSCP: on the pair leg both ways, and to the server
# AF11 (DSCP 10, TOS 0x28), counted where each leg's packets arrive
# (the pair leg is IPv4 for clients of both families: the gateway's address)
for ipt in iptables ip6tables; do nsx "$NS_S" $ipt -w 5 -I INPUT -p tcp --dport $ECHO -m dscp --dscp 10; done
nsx "$NS_R" iptables -w 5 -I FORWARD -p tcp --dport $PPORT -m dscp --dscp 10
nsx "$NS_R" iptables -w 5 -I FORWARD -p tcp --sport $PPORT -m dscp --dscp 10
dscp_count() { # NS IPT CHAIN [PORT-MATCH]: packets counted by our DSCP rule
	nsx "$1" "$2" -w 5 -nvxL "$3" | awk -v m="${4:-}" '/DSCP match 0x0a/ && index($0, m) { print $1; exit }'
}
for S in $S4 $S6; do
	ipt=iptables; [ $S = $S6 ] && ipt=ip6tables
	s0=$(dscp_count "$NS_S" $ipt INPUT) u0=$(dscp_count "$NS_R" iptables FORWARD "dpt:$PPORT")
	d0=$(dscp_count "$NS_R" iptables FORWARD "spt:$PPORT")
	out=$(cli connect $S $ECHO 5 0x28)
	check "DSCP 10 to $S: echoed through the pair ($out)" grep -q "^connected" <<<"$out"
	u=$(dscp_count "$NS_R" iptables FORWARD "dpt:$PPORT") d=$(dscp_count "$NS_R" iptables FORWARD "spt:$PPORT")
	check "... the pair leg carries it toward the gateway ($u0 -> $u packets)" test "$u" -gt "$u0"
	check "... and back ($d0 -> $d packets)" test "$d" -gt "$d0"
	check "... the server sees it ($s0 -> $(dscp_count "$NS_S" $ipt INPUT) packets)" \
		test "$(dscp_count "$NS_S" $ipt INPUT)" -gt "$s0"
done

# ---- resets cross the pair as resets, both ways
out=$(cli send-rst $S4 $WRST 5000)
check "the client's reset reaches the server as a reset ($(cat "$TMP/rst.out" 2>/dev/null))" \
	wait_until 5 grep -qx "reset 5000" "$TMP/rst.out"
out=$(cli expect-reset $S4 $SRST 2)
check "the server's reset reaches the client as a reset ($out)" no_fail "$out"

# ---- a refused server: the client gets a reset, at once
out=$(cli expect-reset $S4 $CLOSED 2)
check "a refusal reaches the client as a reset within 2 s ($out)" no_fail "$out"
check "... refused at the gateway's dial (dial_failed)" ctr_ge "$SHM_G" proxy.dial_failed 1

# ---- many at once through a smaller pool
T=120 out=$(cli many $S4 $ECHO $MANY 20000)
check "$MANY concurrent connections through a pool of $POOL ($out)" \
	grep -q "^$MANY/$MANY connections verified" <<<"$out"
check "... most opened on demand or refilled (pair_pool_opened > $MANY)" \
	ctr_ge "$SHM_T" proxy.pair_pool_opened $MANY

# ---- forged, replayed, truncated, stale headers and an unknown peer
hdr() { timeout 20 ip netns exec "${NS_FROM:-$NS_HC}" python3 "$TOOLS/pairhdr.py" "$TMP/key" "$GW4" $PPORT \
	$C4 40001 $S4 $COUNT "$@" 2>&1; }
accepted_is() { test "$(wc -l <"$TMP/accepted")" -eq "$1"; } # connections the server saw
n0=$(wc -l <"$TMP/accepted")
out=$(hdr valid "$TMP/saved")
check "a header made with the key is relayed ($out)" test "$out" = echo
check "... the server saw that connection" wait_until 5 accepted_is $((n0 + 1))
n0=$((n0 + 1))
for m in wrongkey truncated stale replay; do
	case $m in
	wrongkey) c=proxy.pair_refused_auth ;;
	truncated) c=proxy.pair_refused_header ;;
	stale) c=proxy.pair_refused_time ;;
	replay) c=proxy.pair_replay ;;
	esac
	before=$(ctr "$SHM_G" $c)
	saved=()
	[ $m = replay ] && saved=("$TMP/saved") # the valid header above, again
	out=$(hdr $m ${saved[@]+"${saved[@]}"})
	check "$m header: the pair connection is reset ($out)" test "$out" = reset
	check "$m header: counted ($c)" wait_until 5 ctr_ge "$SHM_G" $c $((before + 1))
done
before=$(ctr "$SHM_G" proxy.pair_refused_peer)
out=$(NS_FROM=$NS_R hdr valid)
check "a valid header from an unknown peer is reset ($out)" test "$out" = reset
check "... counted (pair_refused_peer)" wait_until 5 ctr_ge "$SHM_G" proxy.pair_refused_peer $((before + 1))
# a valid header after them: each refused one was reset before this one
# was sent, so a dial made for any of them would reach the server first
out=$(hdr valid)
check "a valid header after them is relayed ($out)" test "$out" = echo
check "nothing of those reached the server: it saw that one only" wait_until 5 accepted_is $((n0 + 1))
check "... and nothing more" accepted_is $((n0 + 1))

# ---- the gateway killed: the terminal falls back to a direct dial
kill -KILL $GW_PID
wait $GW_PID 2>/dev/null
fb0=$(ctr "$SHM_T" proxy.pair_fallback_direct)
ok_all=1
for i in 1 2 3 4 5; do
	out=$(T=15 cli many $S4 $ECHO 2 10000)
	grep -q "^2/2 connections verified" <<<"$out" || { ok_all=0; echo "# round $i: $out"; }
done
out=$(cli get $S6 $PEER)
check "the gateway killed: 10 new connections succeed ($ok_all)" test $ok_all = 1
check "... and IPv6 too, from the client's address ($out)" test "$out" = "server $C6"
check "... by the direct fallback (pair_fallback_direct $fb0 -> $(ctr "$SHM_T" proxy.pair_fallback_direct))" \
	ctr_ge "$SHM_T" proxy.pair_fallback_direct $((fb0 + 11))
check "the pool is empty" test "$(ctr "$SHM_T" proxy.pair_pool)" -eq 0
check "... its connections the gateway closed were found stale (pair_pool_stale)" \
	ctr_ge "$SHM_T" proxy.pair_pool_stale 1

# ---- a gateway with another key: the terminal's probe is refused, it
# relays directly (counted), nothing goes through that gateway
gateway_start "$TMP/otherkey" || not_ok "the gateway restarts with another key"
check "the terminal's probe is refused (pair_probe_refused)" \
	wait_until 30 ctr_ge "$SHM_T" proxy.pair_probe_refused 1
check "... by the gateway (pair_refused_auth)" ctr_ge "$SHM_G" proxy.pair_refused_auth 1
used0=$(ctr "$SHM_T" proxy.pair_used) fb0=$(ctr "$SHM_T" proxy.pair_fallback_direct)
out=$(T=15 cli many $S4 $ECHO 4 10000)
check "another key at the gateway: new connections succeed ($out)" grep -q "^4/4 connections verified" <<<"$out"
check "... by the direct fallback, none through the pair" \
	test "$(ctr "$SHM_T" proxy.pair_fallback_direct)" -ge $((fb0 + 4)) -a "$(ctr "$SHM_T" proxy.pair_used)" -eq "$used0"
check "... the gateway relayed nothing" test "$(ctr "$SHM_G" proxy.pair_accepted)" -eq 0
kill -TERM $GW_PID
wait $GW_PID

# ---- the gateway back: the pool refills, connections use the pair again
gateway_start || not_ok "the gateway restarts"
check "the pool refills after the back-off" wait_until 30 ctr_ge "$SHM_T" proxy.pair_pool $POOL
used0=$(ctr "$SHM_T" proxy.pair_used)
out=$(cli fetch $S4 $SRCP 1000000 3)
check "a connection uses the pair again ($out)" grep -q exact <<<"$out"
check "... counted (pair_used)" ctr_ge "$SHM_T" proxy.pair_used $((used0 + 1))

# ---- both stop cleanly (the pool's and the gateway's threads)
kill -TERM $TERM_PID
wait $TERM_PID; t=$?
check "SIGTERM: the terminal exits with 0 ($t)" test $t = 0

# ---- --pair-hold: the SYN held until the gateway's dial answered; against
# accept-first (the default) over a middle hop of 400 ms RTT: accept-first
# connects at once, the hold costs one round trip and gives true refusals
rtt_connect() { # rtt_connect HOST PORT: the connect's milliseconds ("connected MS")
	cli connect "$1" "$2" 10 | awk '$1 == "connected" { print int($2); exit }'
}
# (pepsal-linkem in the router: 200 ms each way, IPv4: the pair leg's family)
LINKEM_PID=
if [ -x "$BUILD/pepsal-linkem" ]; then
	nsx "$NS_R" sh -c 'echo $$ >"$0.pid"; exec "$@"' "$TMP/linkem.log" \
		"$BUILD/pepsal-linkem" --queue 0 --delay 200ms 2>"$TMP/linkem.log" &
	wait_until 5 grep -q ready "$TMP/linkem.log" && LINKEM_PID=$(cat "$TMP/linkem.log.pid")
fi
if [ -n "$LINKEM_PID" ]; then
	on_exit "kill $LINKEM_PID"
	nsx "$NS_R" iptables -w 5 -A FORWARD -i eth0 -j NFQUEUE --queue-num 0
	nsx "$NS_R" iptables -w 5 -A FORWARD -i eth1 -j NFQUEUE --queue-num 1
else
	not_ok "pepsal-linkem delays the middle hop"
fi
if terminal_start && wait_until 15 ctr_ge "$SHM_T" proxy.pair_pool $POOL; then
	af=$(rtt_connect $S4 $ECHO)
	check "accept-first: the client connects at once over a 400 ms RTT (${af:-?} ms < 200)" test "${af:-9999}" -lt 200
	kill -TERM $TERM_PID; wait $TERM_PID
else
	not_ok "the terminal restarts (accept-first, delayed middle hop)"
fi
if terminal_start --pair-hold && wait_until 15 ctr_ge "$SHM_T" proxy.pair_pool $POOL; then
	hold=$(rtt_connect $S4 $ECHO)
	check "--pair-hold: the client's connect waits one round trip (${hold:-?} ms >= 360)" \
		test "${hold:-0}" -ge 360
	echo "# connect over a 400 ms RTT: accept-first ${af:-?} ms, --pair-hold ${hold:-?} ms"
	out=$(cli connect $S4 $CLOSED 10)
	check "--pair-hold: a refused server is a true refusal ($out)" grep -q "^ConnectionRefusedError" <<<"$out"
	out=$(cli fetch $S6 $SRCP 1000000 9)
	check "--pair-hold: 1 MB down, IPv6, sha256 exact ($out)" grep -q exact <<<"$out"
	check "... the held SYNs went through the pair (proxy.predialed, pair_used)" \
		test "$(ctr "$SHM_T" proxy.predialed)" -ge 2 -a "$(ctr "$SHM_T" proxy.pair_used)" -ge 2
	kill -TERM $TERM_PID; wait $TERM_PID
else
	not_ok "the terminal restarts with --pair-hold"
fi
nsx "$NS_R" iptables -w 5 -D FORWARD -i eth0 -j NFQUEUE --queue-num 0
nsx "$NS_R" iptables -w 5 -D FORWARD -i eth1 -j NFQUEUE --queue-num 1
[ -z "$LINKEM_PID" ] || kill "$LINKEM_PID"

# ---- a terminal in tproxy mode (TPROXY rules, no queuer)
nsx "$NS_HC" bash "$SRC/rules/pepsal-iptables" --mode tproxy -i eth0 --pair-role terminal install \
	>"$TMP/rules-t.log" 2>&1 || { cat "$TMP/rules-t.log"; not_ok "terminal rules, tproxy mode"; }
if terminal_start --mode tproxy && wait_until 10 ctr_ge "$SHM_T" proxy.pair_pool $POOL; then
	used0=$(ctr "$SHM_T" proxy.pair_used)
	for s in $S4 $S6; do
		out=$(cli fetch "$s" $SRCP 1000000 5)
		check "tproxy mode, $s: 1 MB down through the pair, sha256 exact ($out)" grep -q exact <<<"$out"
		out=$(cli get "$s" $PEER)
		case $s in *:*) want=$C6 ;; *) want=$C4 ;; esac
		check "tproxy mode, $s: the server sees the client's address ($out)" test "$out" = "server $want"
	done
	check "tproxy mode: through the pair (pair_used +4)" ctr_ge "$SHM_T" proxy.pair_used $((used0 + 4))
else
	not_ok "the terminal starts in tproxy mode and fills its pool"
fi
kill -TERM $TERM_PID $GW_PID
wait $TERM_PID; t=$?
wait $GW_PID; g=$?
check "SIGTERM: the terminal exits with 0 ($t), the gateway too ($g)" test $t = 0 -a $g = 0

[ "$FAILS" -eq 0 ] || show_logs
finish
