#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-queuer at its limits, in a router namespace:
#  - bad options are refused with status 2 and a message naming them;
#  - --daemon returns only once the queue is bound, writes --pidfile;
#  - a full table: the oldest pending entry makes room for the new SYN;
#  - one client address holds at most its share (--address-share) of the
#    table: beyond, its SYNs pass unmarked, and other clients are recorded;
#  - SIGTERM under a SYN flood loses no SYN (queue length 0, drain, unbind)
#    and the queuer exits 0.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd iptables curl python3
Q=$BUILD/pepsal-queuer SHM=$BUILD/pepsal-shm HB=$BUILD/tests/syn-heartbeat
FLOOD=$BUILD/tests/synflood
for p in "$Q" "$SHM" "$HB" "$FLOOD"; do [ -x "$p" ] || skip_all "missing $p (make first)"; done

# ---- option errors (no namespace needed: they never get to bind) --------
bad() { # WHAT ARGS...: exit status 2, message names the option
	local what=$1; shift
	out=$("$Q" "$@" 2>&1); rc=$?
	check "refused: $what" [ $rc -eq 2 -a -n "$(echo "$out" | grep -e "$what")" ]
}
bad "--queue" --queue 65536
bad "--queue" -q abc
bad "--mark" --mark 0
bad "--mark" --mark 0x4/0x2
bad "--mark" --mark 0x1          # the routing mark's bit
bad "--mark" --mark 2/zz
bad "--queue-maxlen" --queue-maxlen 0
bad "--copy-range" --copy-range 10
bad "--proxy-timeout" --proxy-timeout 0
bad "--proxy-timeout" --proxy-timeout 3parsecs
bad "--capacity" --capacity 3
bad "--nice" --nice 30
bad "--nice" --nice -x
bad "--shm" --shm a/b
bad "unknown option" --frobnicate
bad "unexpected argument" extra
check "--help exits 0 and lists --mark" eval "'$Q' --help | grep -q -- '--mark VALUE'"

topo_three || { not_ok "topology"; finish; }
PORT=8080
nsx "$NS_R" iptables -t mangle -A PREROUTING -p tcp --syn \
	-j NFQUEUE --queue-num 0 --queue-bypass || skip_all "iptables NFQUEUE unavailable"
nsx "$NS_R" iptables -A FORWARD -p tcp --syn -m mark --mark 0x2/0x2
nsx "$NS_R" iptables -A FORWARD -p tcp --syn -m mark ! --mark 0x2/0x2
nsx "$NS_S" python3 -m http.server --bind $S4 $PORT >"$TMP/http.log" 2>&1 &
wait_until 10 listening "$NS_S" $PORT || { not_ok "server listens"; finish; }
HBPID=
on_exit 'kill $HBPID; [ -f $TMP/q.pid ] && kill -9 $(cat $TMP/q.pid)'

counter() {
	"$SHM" --shm "$SHM_NAME" --json stats |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"].get(sys.argv[1], -1))' "$1"
}
fwd_count() { # marked|unmarked
	local n=1
	[ "$1" = unmarked ] && n=2
	nsx "$NS_R" iptables -L FORWARD -v -n -x | awk -v n=$n 'NR == n + 2 { print $1 }'
}
bound() { nsx "$NS_R" cat /proc/net/netfilter/nfnetlink_queue | grep -q '^ *0 '; }

# ---- --daemon: returns once bound ---------------------------------------
nsx "$NS_R" "$Q" --shm "$SHM_NAME" --create --capacity 16 --address-share 2 -d \
	--pidfile "$TMP/q.pid"
check "--daemon exits 0 after set-up" [ $? -eq 0 ]
check "--daemon: queue bound when the parent returns" bound
check "--pidfile names the running queuer" \
	eval "grep -q pepsal-queuer /proc/\$(cat $TMP/q.pid)/comm"

# ---- one address, its share; a full table: the oldest pending makes room --
"$HB" --shm "$SHM_NAME" & HBPID=$!
wait_until 5 eval "$SHM --shm $SHM_NAME --json stats | grep -q '\"proxy\":{\"pid\":$HBPID'"
fails=0
for ((p = 42000; p < 42010; p++)); do
	nsx "$NS_C" curl -s -o /dev/null -m 5 --local-port $p "http://$S4:$PORT/" ||
		fails=$((fails + 1))
done
check "10 connections from one address all work" [ $fails -eq 0 ]
check "its share: 8 of a 16-entry table recorded (--address-share 2)" \
	[ "$(counter queuer.recorded)" = 8 ]
check "beyond its share: 2 SYNs unmarked, counted" \
	[ "$(fwd_count marked)" = 8 -a "$(counter queuer.unmarked_address_share)" = 2 ]
# other client addresses (added to the client namespace) are not affected:
# the second fills the table, the third's SYN takes the oldest pending slot
nsx "$NS_C" ip addr add 198.18.1.3/24 dev eth0
nsx "$NS_C" ip addr add 198.18.1.4/24 dev eth0
for ((p = 42100; p < 42108; p++)); do
	nsx "$NS_C" curl -s -o /dev/null -m 5 --interface 198.18.1.3 --local-port $p \
		"http://$S4:$PORT/" || fails=$((fails + 1))
done
check "another address: its 8 SYNs recorded and marked, the table is full" \
	[ $fails -eq 0 -a "$(counter queuer.recorded)" = 16 -a "$(fwd_count marked)" = 16 ]
check "full table: a third address still connects" \
	nsx "$NS_C" curl -s -o /dev/null -m 5 --interface 198.18.1.4 --local-port 42200 \
		"http://$S4:$PORT/"
check "full table: the oldest pending entry made room, the SYN was marked" \
	[ "$(counter queuer.reclaimed)" = 1 -a "$(fwd_count marked)" = 17 ]
check "full table: the evicted entry was the oldest" \
	eval "! $SHM --shm $SHM_NAME --json list | grep -q '$C4:42000'"

# ---- SIGTERM under a SYN flood: nothing lost ----------------------------
nsx "$NS_S" iptables -t raw -A PREROUTING -p tcp --dport 9 -j DROP
nsx "$NS_C" ping -c1 -W1 $S4 >/dev/null 2>&1
"$FLOOD" --tx-netns "$NS_C" --rx-netns "$NS_S" --rate 50000 --batch 16 --duration 3s \
	>"$TMP/flood.out" 2>&1 &
FPID=$!
check "the flood reaches the queuer before SIGTERM" \
	wait_until 5 eval '[ "$(counter queuer.packets)" -ge 2000 ]'
qpid=$(cat "$TMP/q.pid")
kill -TERM "$qpid"
check "SIGTERM under load: queuer exits" wait_until 5 eval "! kill -0 $qpid"
check "SIGTERM under load: queue unbound" eval "! bound"
check "SIGTERM under load: pid file removed" [ ! -e "$TMP/q.pid" ]
wait $FPID
echo "# flood: $(cat "$TMP/flood.out")"
check "SIGTERM under load: no SYN lost" grep -q ' lost=0 ' "$TMP/flood.out"
check "SIGTERM under load: SYNs were received" \
	eval "[ \$(sed -n 's/.* received=\([0-9]*\) .*/\1/p' $TMP/flood.out) -ge 50000 ]"
finish
