#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-queuer in a router namespace: real NFQUEUE rule, real clients (curl)
# and servers (python3 http.server), IPv4 and IPv6.
#  - without a proxy heartbeat SYNs pass unmarked and nothing is recorded;
#  - with one, every SYN is recorded with the right client and original
#    destination, and marked;
#  - a proxy that publishes no room: SYNs pass unmarked, not recorded;
#  - SIGKILLed, the queuer fails open (new connections still work), and
#    restarted it records again with the earlier entries intact;
#  - a second queuer on the same table or queue is refused clearly;
#  - when the table is replaced (a proxy starting anew), it follows;
#  - SIGTERM stops it cleanly and releases its role.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd iptables ip6tables curl python3
Q=$BUILD/pepsal-queuer SHM=$BUILD/pepsal-shm HB=$BUILD/tests/syn-heartbeat
ROOM=$BUILD/tests/pepsal-test-room
[ -x "$Q" ] && [ -x "$SHM" ] && [ -x "$HB" ] && [ -x "$ROOM" ] || skip_all "build first (missing programs in $BUILD)"

topo_three || { not_ok "topology"; finish; }
PORT=8080
for ipt in iptables ip6tables; do
	nsx "$NS_R" $ipt -t mangle -A PREROUTING -p tcp --syn \
		-j NFQUEUE --queue-num 0 --queue-bypass || skip_all "$ipt NFQUEUE unavailable"
	# counters: forwarded SYNs with and without the queuer's mark
	nsx "$NS_R" $ipt -A FORWARD -p tcp --syn -m mark --mark 0x2/0x2
	nsx "$NS_R" $ipt -A FORWARD -p tcp --syn -m mark ! --mark 0x2/0x2
done
nsx "$NS_S" python3 -m http.server --bind $S4 $PORT >"$TMP/http4.log" 2>&1 &
nsx "$NS_S" python3 -m http.server --bind $S6 $PORT >"$TMP/http6.log" 2>&1 &
wait_until 10 eval "[ \$(nsx $NS_S ss -Hltn 'sport = :$PORT' | wc -l) -ge 2 ]" ||
	{ not_ok "servers listen"; finish; }

QPID= HBPID=
start_queuer() {
	# not through nsx: $! must be the queuer itself (ip netns exec execs it)
	ip netns exec "$NS_R" "$Q" --shm "$SHM_NAME" "$@" >>"$TMP/queuer.log" 2>&1 &
	QPID=$!
	# bound once the queue appears in the router's nfnetlink_queue list
	wait_until 5 eval "nsx $NS_R cat /proc/net/netfilter/nfnetlink_queue | grep -q '^ *0 '"
}
on_exit 'kill -9 $QPID $HBPID'

# fetch FAMILY CLIENT_PORT: one HTTP request from the client namespace
fetch() {
	local url=http://$S4:$PORT/
	[ "$1" = 6 ] && url="http://[$S6]:$PORT/"
	nsx "$NS_C" curl -s -o /dev/null -m 5 --local-port "$2" "$url"
}
# has_entry CLIENT DST: pepsal-shm lists that entry
has_entry() {
	"$SHM" --shm "$SHM_NAME" --json list | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(e["client"] == sys.argv[1] and e["dst"] == sys.argv[2]
	for e in d["entries"]) else 1)' "$1" "$2"
}
counter() {
	"$SHM" --shm "$SHM_NAME" --json stats |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"].get(sys.argv[1], -1))' "$1"
}
# fwd_count v4|v6 marked|unmarked: the FORWARD counter rule's packets
fwd_count() {
	local ipt=iptables n=1
	[ "$1" = v6 ] && ipt=ip6tables
	[ "$2" = unmarked ] && n=2
	nsx "$NS_R" $ipt -L FORWARD -v -n -x | awk -v n=$n 'NR == n + 2 { print $1 }'
}

# ---- proxy down: unmarked, nothing recorded --------------------------------
start_queuer --create
check "queuer binds queue 0" [ $? -eq 0 ]
check "IPv4 connection through the queuer" fetch 4 41000
check "IPv6 connection through the queuer" fetch 6 41001
check "no proxy heartbeat: no SYN marked (IPv4)" [ "$(fwd_count v4 marked)" = 0 ]
check "no proxy heartbeat: no SYN marked (IPv6)" [ "$(fwd_count v6 marked)" = 0 ]
check "no proxy heartbeat: SYNs forwarded unmarked" \
	[ "$(fwd_count v4 unmarked)" -ge 1 -a "$(fwd_count v6 unmarked)" -ge 1 ]
check "counter queuer.unmarked_proxy_down" \
	wait_until 3 eval '[ "$(counter queuer.unmarked_proxy_down)" -ge 2 ]'
check "no proxy heartbeat: nothing recorded" \
	eval '[ "$(counter queuer.recorded)" = 0 ] && ! has_entry "$C4:41000" "$S4:$PORT"'

# ---- proxy up: SYNs recorded and marked ------------------------------------
"$HB" --shm "$SHM_NAME" &
HBPID=$!
wait_until 5 eval "$SHM --shm $SHM_NAME --json stats | grep -q '\"proxy\":{\"pid\":$HBPID'"
check "proxy heartbeat: IPv4 connection" fetch 4 41002
check "proxy heartbeat: IPv6 connection" fetch 6 41003
check "IPv4 entry: client and original destination" \
	has_entry "$C4:41002" "$S4:$PORT"
check "IPv6 entry: client and original destination" \
	has_entry "[$C6]:41003" "[$S6]:$PORT"
check "proxy heartbeat: IPv4 SYN marked" [ "$(fwd_count v4 marked)" -ge 1 ]
check "proxy heartbeat: IPv6 SYN marked" [ "$(fwd_count v6 marked)" -ge 1 ]
check "counter queuer.marked" wait_until 3 eval '[ "$(counter queuer.marked)" -ge 2 ]'
check "counter queuer.recorded" [ "$(counter queuer.recorded)" -ge 2 ]

# ---- the proxy publishes no room: unmarked, not recorded -------------------
"$ROOM" "$SHM_NAME" 0
marked=$(fwd_count v4 marked)
check "proxy full: connection still works" fetch 4 41020
check "proxy full: SYN not marked" [ "$(fwd_count v4 marked)" = "$marked" ]
check "proxy full: not recorded" eval '! has_entry "$C4:41020" "$S4:$PORT"'
check "proxy full: counted as queuer.unmarked_proxy_full" \
	wait_until 3 eval '[ "$(counter queuer.unmarked_proxy_full)" -ge 1 ]'
"$ROOM" "$SHM_NAME" 5
check "room again: connection marked" \
	eval 'fetch 4 41021 && [ "$(fwd_count v4 marked)" -gt "$marked" ]'
"$ROOM" "$SHM_NAME" none

# ---- a second queuer is refused -----------------------------------------
out=$(nsx "$NS_R" "$Q" --shm "$SHM_NAME" 2>&1); rc=$?
check "second queuer on the same table refused" \
	[ $rc -ne 0 -a -n "$(echo "$out" | grep 'another queuer')" ]
out=$(nsx "$NS_R" "$Q" --shm "$SHM_NAME-other" --create 2>&1); rc=$?
check "second queuer on the same queue refused" \
	[ $rc -ne 0 -a -n "$(echo "$out" | grep 'already bound by another process')" ]
rm -f "/dev/shm/${SHM_NAME#/}-other"

# ---- fail-open: SIGKILL -------------------------------------------------
recorded=$(counter queuer.recorded)
kill -9 $QPID; wait $QPID 2>/dev/null
check "SIGKILL: queue 0 unbound" \
	wait_until 5 eval "! nsx $NS_R cat /proc/net/netfilter/nfnetlink_queue | grep -q '^ *0 '"
check "queuer dead: IPv4 connection still works" fetch 4 41004
check "queuer dead: IPv6 connection still works" fetch 6 41005
check "queuer dead: nothing recorded" [ "$(counter queuer.recorded)" = "$recorded" ]

# ---- restart: records again, earlier entries intact ---------------------
start_queuer
check "queuer restarts on the existing table" [ $? -eq 0 ]
check "after restart: IPv4 connection" fetch 4 41006
check "after restart: IPv6 connection" fetch 6 41007
check "after restart: new IPv4 entry" has_entry "$C4:41006" "$S4:$PORT"
check "after restart: new IPv6 entry" has_entry "[$C6]:41007" "[$S6]:$PORT"
check "after restart: earlier entries intact" \
	eval "has_entry $C4:41002 $S4:$PORT && has_entry [$C6]:41003 [$S6]:$PORT"
kill $HBPID; wait $HBPID 2>/dev/null

# ---- the table is replaced (a starting proxy does so): the queuer follows --
rm -f "/dev/shm/${SHM_NAME#/}"
"$HB" --shm "$SHM_NAME" --create &
HBPID=$!
check "replaced table: the queuer claims its role in the new one" \
	wait_until 5 eval "$SHM --shm $SHM_NAME --json stats | grep -q '\"queuer\":{\"pid\":$QPID'"
marked=$(fwd_count v4 marked)
check "replaced table: IPv4 connection" fetch 4 41010
check "replaced table: entry recorded in the new table" has_entry "$C4:41010" "$S4:$PORT"
check "replaced table: SYN marked (proxy heartbeat in the new table)" \
	[ "$(fwd_count v4 marked)" -gt "$marked" ]
kill $HBPID; wait $HBPID 2>/dev/null

# ---- SIGTERM: clean stop, role released ---------------------------------
kill -TERM $QPID; wait $QPID; rc=$?
check "SIGTERM: exit status 0" [ $rc -eq 0 ]
check "SIGTERM: queuer role released" \
	eval "$SHM --shm $SHM_NAME --json stats | grep -q '\"queuer\":{\"pid\":0'"
check "queuer stopped: connection still works" fetch 4 41008
[ "$FAILS" -eq 0 ] || sed 's/^/# queuer: /' "$TMP/queuer.log"
finish
