#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Upgrading pepsal in place (SIGUSR2) without breaking a connection: a
# rate-limited download and 1,000 echo connections, each verifying its data,
# across 5 upgrades in a row (all complete, sha256 exact, 0 resets), a
# client opening connections in a loop across them (none refused or reset),
# and a connection half-closed each way before an upgrade that finishes
# after it. The download is 120 MB (360 MB under a sanitizer, where each
# upgrade takes seconds) through a 20 Mbit/s tbf (48 s), which
# is lifted once the upgrades are done: it spans them however long a loaded
# 2-core machine takes, and ends soon after them.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_root
need_cmd tc

# pepsal runs from a copy the upgrade tests may replace
mkdir -p "$TMP/bin"
cp "$BUILD/pepsal" "$BUILD/pepsal-queuer" "$BUILD/pepsal-shm" "$TMP/bin/" ||
	skip_all "build pepsal, pepsal-queuer and pepsal-shm into $BUILD first"
BUILD=$TMP/bin
proxy_setup || { show_log; exit 1; }

proxy_pid() {
	stats_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["heartbeats"]["proxy"]["pid"])'
}
# upgrade: SIGUSR2 to the serving pepsal; true once another pid serves, the
# old one exited and the new one's queuer runs
upgrade() {
	local old new
	old=$(proxy_pid)
	kill -USR2 "$old" || return 1
	wait_until 30 gone "$old" || { echo "# pid $old did not exit"; return 1; }
	new=$(proxy_pid)
	[ "$new" != "$old" ] && kill -0 "$new" || { echo "# no new pid serves ($new)"; return 1; }
	wait_until 10 role_alive queuer || { echo "# no queuer after the upgrade"; return 1; }
}

bg "$NS_S" "$TMP/echo.log" bash -c "ulimit -n 8192; exec python3 '$TOOLS/tcptool.py' echo 7001"
bg "$NS_S" "$TMP/src.log" python3 "$TOOLS/tcptool.py" source 7002
bg "$NS_S" "$TMP/hw.log" python3 "$TOOLS/tcptool.py" halfclose-wait 7003 300000 "$TMP/go-hc"
bg "$NS_S" "$TMP/mi.log" python3 "$TOOLS/tcptool.py" mirror 7004 300000 "$TMP/mirror.out"
bg "$NS_S" "$TMP/sp.log" python3 "$TOOLS/tcptool.py" serve-peer 7005 slow
for p in 7001 7002 7003 7004 7005; do
	wait_until 20 listening "$NS_S" $p || { not_ok "server on port $p started"; finish; }
done
# the download's leg toward the client: 20 Mbit/s, 48 s for the download
nsx "$NS_R" tc qdisc add dev eth0 root tbf rate 20mbit burst 64kb latency 100ms

# ---- half-close before an upgrade, finished after it -----------------------
nsx "$NS_C" python3 "$TOOLS/tcptool.py" halfclose $S4 7003 200000 300000 >"$TMP/hc.out" 2>&1 &
HC=$!
nsx "$NS_C" python3 "$TOOLS/tcptool.py" mirror-wait $S6 7004 200000 300000 "$TMP/go-mi" \
	>"$TMP/mw.out" 2>&1 &
MW=$!
# and one whose dial is still waiting for the server (its SYNs dropped)
nsx "$NS_S" iptables -I INPUT -p tcp --dport 7005 --syn -j DROP
# (30 s to connect: the SYN a client sends 15 s on still comes after a slow
# upgrade and the rule's removal)
nsx "$NS_C" python3 "$TOOLS/tcptool.py" get $S4 7005 30 >"$TMP/slow.out" 2>&1 &
SLOW=$!
fin_seen() { nsx "$NS_S" ss -Htn state close-wait '( sport = :7003 )' | grep -q .; }
dialing() { nsx "$NS_R" ss -Htn state syn-sent '( dport = :7005 )' | grep -q .; }
wait_until 10 fin_seen && wait_until 10 grep -q eof "$TMP/mw.out" ||
	not_ok "both half-closes happened before the upgrade"
wait_until 10 dialing || not_ok "a dial waits for the server before the upgrade"
check "upgrade with two half-closed connections and one still dialing" upgrade
nsx "$NS_S" iptables -D INPUT -p tcp --dport 7005 --syn -j DROP
wait $SLOW
check "the connection still dialing at the upgrade was dialed by the new process ($(cat "$TMP/slow.out"))" \
	grep -q "^slow $C4" "$TMP/slow.out"
touch "$TMP/go-hc" "$TMP/go-mi"
wait $HC
check "client half-closed before the upgrade: the reply came whole after it ($(cat "$TMP/hc.out"))" \
	grep -q '^ok' "$TMP/hc.out"
wait $MW
wait_until 10 test -s "$TMP/mirror.out"
check "server half-closed before the upgrade: the client's bytes reached it after it ($(cat "$TMP/mirror.out"))" \
	sh -c "grep -q '^ok' '$TMP/mw.out' && grep -q '^received 200000 ' '$TMP/mirror.out'"

# ---- 5 upgrades in a row under load ---------------------------------------------
SIZE=120000000
# under a sanitizer (tests/sanitize.sh sets SAN) every thread runs several
# times slower: 200 streams instead of 1,000 keep the upgrades' timing
STREAMS=1000
[ -n "${SAN:-}" ] && STREAMS=200
# and each upgrade takes seconds there: five outlast 48 s of download
[ -n "${SAN:-}" ] && SIZE=360000000
nsx "$NS_C" bash -c "ulimit -n 8192; exec python3 '$TOOLS/tcptool.py' stream $S4 7001 $STREAMS '$TMP/stop' 200" \
	>"$TMP/stream.out" 2>&1 &
STREAM=$!
nsx "$NS_C" python3 "$TOOLS/tcptool.py" stream $S6 7001 1 "$TMP/stop" 2 >"$TMP/probe.out" 2>&1 &
PROBE=$!
nsx "$NS_C" python3 "$TOOLS/tcptool.py" connect-loop $S4 7001 "$TMP/stop" >"$TMP/loop.out" 2>&1 &
LOOP=$!
on_exit "kill $STREAM $PROBE $LOOP"
active_at_least() { [ "$(counter proxy.active)" -ge "$1" ]; }
wait_until 60 active_at_least $((STREAMS + 1)) || not_ok "$STREAMS connections open ($(counter proxy.active))"
nsx "$NS_C" python3 "$TOOLS/tcptool.py" fetch $S4 7002 $SIZE 5 >"$TMP/fetch.out" 2>&1 &
FETCH=$!
on_exit "kill $FETCH"
wait_until 10 active_at_least $((STREAMS + 2))
u0=$(counter proxy.upgrades) ok_ups=0
for i in 1 2 3 4 5; do
	upgrade && ok_ups=$((ok_ups + 1))
done
check "5 upgrades in a row, each by a new process ($ok_ups done)" [ $ok_ups -eq 5 ]
check "proxy.upgrades counted them" [ "$(counter proxy.upgrades)" -eq $((u0 + 5)) ]
check "the download was still running after the last upgrade" kill -0 $FETCH
nsx "$NS_R" tc qdisc del dev eth0 root # the rest at full speed
touch "$TMP/stop"
wait $LOOP
check "new connections in a loop across the upgrades: none refused or reset ($(cat "$TMP/loop.out"))" \
	grep -q '^\([0-9]*\)/\1 connections served' "$TMP/loop.out"
wait $FETCH
check "the download spanning the upgrades is complete ($(cat "$TMP/fetch.out"))" \
	grep -q "^ok: $SIZE bytes, sha256 .* exact" "$TMP/fetch.out"
wait $STREAM
check "$STREAMS connections streaming across the upgrades: all verified, 0 resets ($(cat "$TMP/stream.out"))" \
	grep -q "^$STREAMS/$STREAMS connections verified, .*, 0 resets\$" "$TMP/stream.out"
wait $PROBE
echo "# probe at 2 ms: $(cat "$TMP/probe.out")"
grep -o 'handed .*' "$TMP/pepsal.log" | sed 's/^/# /'
check "no connection was reset (proxy.resets $(counter proxy.resets))" \
	test "$(counter proxy.resets)" -eq 0
# (a SYN in flight during an upgrade may leave a pending entry behind, as a
# SYN that never completes does: garbage collection takes it after -t)
none_relayed() {
	[ "$("$BUILD/pepsal-shm" --shm "$SHM_NAME" list --state established,closing -C)" = 0 ]
}
if wait_until 10 none_relayed; then
	ok "every entry went with its connection: none established or closing is left"
else
	not_ok "every entry went with its connection: none established or closing is left"
	"$BUILD/pepsal-shm" --shm "$SHM_NAME" list | sed 's/^/# /'
fi
[ "$FAILS" -eq 0 ] || show_log 40
finish
