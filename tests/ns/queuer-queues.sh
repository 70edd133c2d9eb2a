#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal --queues 2 with pepsal-iptables --queues 2 (NFQUEUE --queue-balance):
# two queuer children, one per queue, each with its own slot in the table;
# SYNs to many server addresses spread over both queues (the kernel hashes
# the addresses), and the connections through each are accelerated (marked,
# held while the proxy dials over that queuer's own channel, relayed).
# Killing one queuer leaves every connection working (its queue bypasses)
# and pepsal restarts it; an upgrade (SIGUSR2) hands both queues to the new
# process's queuers; --queues auto follows pepsal's CPU affinity. Bad values
# of --queues exit 2.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_root

# ---- options -----------------------------------------------------------------
for v in 0 65 x 2x -1; do
	"$BUILD/pepsal" --shm "$SHM_NAME" --queues "$v" >/dev/null 2>"$TMP/err"
	rc=$?
	check "pepsal --queues $v: status 2 ($rc), '$(head -n1 "$TMP/err")'" \
		eval "[ $rc -eq 2 ] && grep -q -- '--queues' '$TMP/err'"
done
"$BUILD/pepsal" --shm "$SHM_NAME" --queue 65535 --queues 2 >/dev/null 2>"$TMP/err"
rc=$?
check "pepsal --queue 65535 --queues 2: status 2 ($rc), '$(head -n1 "$TMP/err")'" \
	eval "[ $rc -eq 2 ] && grep -q 'past queue 65535' '$TMP/err'"
for v in 0 65 x; do
	bash "$SRC/rules/pepsal-iptables" -n --queues "$v" install >/dev/null 2>"$TMP/err"
	rc=$?
	check "pepsal-iptables --queues $v: status 2 ($rc)" \
		eval "[ $rc -eq 2 ] && grep -q -- '--queues' '$TMP/err'"
done
check "no table was left by the bad invocations" [ ! -e "/dev/shm/${SHM_NAME#/}" ]

# ---- two queues --------------------------------------------------------------
NADDR=24
PROXY_IPT_OPTS="--queues 2" proxy_setup --queues 2 || { show_log; finish; }
for ((i = 0; i < NADDR; i++)); do ip -n "$NS_S" addr add 198.18.2.$((100 + i))/24 dev eth0; done
bg "$NS_S" "$TMP/server.log" python3 "$TOOLS/tcptool.py" serve-peer 7001
wait_until 5 listening "$NS_S" 7001 || { not_ok "server"; finish; }

nsx "$NS_R" iptables -t mangle -S PEPSAL >"$TMP/rules"
check "the rule spreads SYNs over queues 0 and 1" grep -q -- '--queue-balance 0:1 --queue-bypass' "$TMP/rules"
nsx "$NS_R" bash "$SRC/rules/pepsal-iptables" status >"$TMP/status" 2>&1
check "pepsal-iptables status reads --queues 2 from the rules" grep -q -- '-q 0 --queues 2 ' "$TMP/status"
nsx "$NS_R" bash "$SRC/rules/pepsal-iptables" -i eth0 --queues 2 status >"$TMP/status" 2>&1
check "pepsal-iptables --queues 2 status: installed" grep -q '^status: installed' "$TMP/status"

# qfield QUEUE FIELD: a field of that queue's slot (pepsal-shm --json stats)
qfield() {
	stats_json | python3 -c 'import json,sys
for q in json.load(sys.stdin)["queues"]:
    if q["queue"] == int(sys.argv[1]): print(q[sys.argv[2]]); break
else: print(0)' "$1" "$2" 2>/dev/null || echo 0
}
alive() { [ "$(qfield "$1" alive)" = True ]; }
# bound QUEUE: a queuer reads it (it claims its slot, alive, before it binds)
bound() { nsx "$NS_R" cat /proc/net/netfilter/nfnetlink_queue | grep -q "^ *$1 "; }
check "queue 0 has a live queuer" wait_until 10 eval "alive 0 && bound 0"
check "queue 1 has a live queuer" wait_until 10 eval "alive 1 && bound 1"
pid0=$(qfield 0 pid) pid1=$(qfield 1 pid)
check "two queuer processes ($pid0, $pid1), children of pepsal" \
	eval "[ $pid0 -ne $pid1 ] && [ \"\$(ps -o ppid= -p $pid0)\" -eq $PEPSAL_PID ] && [ \"\$(ps -o ppid= -p $pid1)\" -eq $PEPSAL_PID ]"

# round N: one connection to each server address; all must answer.
round() {
	local i out fails=0
	for ((i = 0; i < NADDR; i++)); do
		out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get 198.18.2.$((100 + i)) 7001 2>&1)
		[ "$out" = "server $C4" ] || { fails=$((fails + 1)); echo "# 198.18.2.$((100 + i)): '$out'"; }
	done
	[ $fails -eq 0 ]
}
m0=$(qfield 0 marked) m1=$(qfield 1 marked) acc=$(counter proxy.accepted)
check "$NADDR connections, one to each server address, all answered" round
marked_grew() { [ "$(qfield 0 marked)" -gt "$m0" ] && [ "$(qfield 1 marked)" -gt "$m1" ]; }
check "both queues marked SYNs (queue 0: $m0 -> $(qfield 0 marked), queue 1: $m1 -> $(qfield 1 marked))" \
	wait_until 5 marked_grew
a0=$(qfield 0 marked) a1=$(qfield 1 marked)
check "each queue's SYNs were held and dialed over its own channel (held $(qfield 0 held), $(qfield 1 held))" \
	eval "[ $(qfield 0 held) -gt 0 ] && [ $(qfield 1 held) -gt 0 ]"
accepted_all() { [ "$(counter proxy.accepted)" -ge $((acc + NADDR)) ]; }
check "the proxy relayed all $NADDR ($acc -> $(counter proxy.accepted))" wait_until 5 accepted_all
syns=$(counter queuer.syns) qs=$(($(qfield 0 syns) + $(qfield 1 syns)))
check "queuer.syns ($syns) is the sum over the queues ($qs)" test "$syns" -eq "$qs"
"$BUILD/pepsal-shm" --shm "$SHM_NAME" stats >"$TMP/stats.txt"
check "pepsal-shm stats shows a line per queue" \
	eval "grep -q '^  queue 0 .*pid $pid0 .* marked $a0' '$TMP/stats.txt' && grep -q '^  queue 1 .*pid $pid1 .* marked $a1' '$TMP/stats.txt'"
"$BUILD/pepsal-shm" --shm "$SHM_NAME" metrics >"$TMP/metrics"
check "pepsal-shm metrics has each queue" \
	eval "grep -q '^pepsal_queue_alive{queue=\"1\"} 1' '$TMP/metrics' && grep -q '^pepsal_queue_marked_total{queue=\"0\"} $a0' '$TMP/metrics'"

# ---- one queuer killed: fail-open for its queue, then restarted ------------
restarts=$(counter proxy.queuer_restarts)
kill -KILL "$pid1"
check "queue 1's queuer killed: every connection still works" round
restarted() { alive 1 && [ "$(qfield 1 pid)" != "$pid1" ] && bound 1; }
check "queue 1's queuer is restarted (pid $pid1 -> $(qfield 1 pid))" wait_until 10 restarted
check "... counted in proxy.queuer_restarts" test "$(counter proxy.queuer_restarts)" -gt "$restarts"
check "queue 0's queuer was left alone (pid $pid0)" test "$(qfield 0 pid)" = "$pid0"
check "... its restart is logged" grep -q "queuer (pid $pid1) was killed by signal 9; restarting it in .* (queue 1)" "$TMP/pepsal.log"
b1=$(qfield 1 marked) new1=$(qfield 1 pid)
check "after the restart: every connection works" round
check "after the restart: queue 1 marks again ($b1 -> $(qfield 1 marked))" \
	eval "[ $(qfield 1 marked) -gt $b1 ]"

# ---- an upgrade (SIGUSR2): the new process starts its two queuers ----------
proxy_pid() { stats_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["heartbeats"]["proxy"]["pid"])'; }
kill -USR2 "$PEPSAL_PID"
check "upgrade: the old pepsal ($PEPSAL_PID) exits" wait_until 30 gone "$PEPSAL_PID"
check "... and its queuers ($pid0, $new1) with it" wait_until 5 eval "gone $pid0 && gone $new1"
newp=$(proxy_pid)
on_exit "kill $newp"
PEPSAL_PID=$newp
upgraded() { alive 0 && alive 1 && bound 0 && bound 1 && [ "$(qfield 0 pid)" != "$pid0" ] && [ "$(qfield 1 pid)" != "$new1" ]; }
check "... the new one ($newp) runs a queuer per queue" wait_until 15 upgraded
u0=$(qfield 0 marked) u1=$(qfield 1 marked) q0=$(qfield 0 pid) q1=$(qfield 1 pid)
check "after the upgrade: every connection works" round
check "after the upgrade: both queues mark ($u0 -> $(qfield 0 marked), $u1 -> $(qfield 1 marked))" \
	eval "[ $(qfield 0 marked) -gt $u0 ] && [ $(qfield 1 marked) -gt $u1 ]"

check "SIGTERM: pepsal exits" proxy_stop
check "... and both queuers are stopped ($q0, $q1)" wait_until 5 eval "gone $q0 && gone $q1"

# --queues auto: one queuer per CPU pepsal may run on (its affinity)
nqueues() { stats_json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["queues"]))' 2>/dev/null || echo 0; }
PIN=(taskset -c "$(cut -d, -f1 <<<"$(taskset -pc $$ | sed 's/.*: //; s/-.*//')")")
ip netns exec "$NS_R" "${PIN[@]}" "$BUILD/pepsal" --shm "$SHM_NAME" --queues auto >>"$TMP/pepsal.log" 2>&1 &
PEPSAL_PID=$!
on_exit "kill $PEPSAL_PID"
check "--queues auto confined to one CPU: one queuer" wait_until 10 eval '[ "$(nqueues)" -eq 1 ] && alive 0'
proxy_stop
want=$(nproc); [ "$want" -le 64 ] || want=64
proxy_start --queues auto || show_log
check "--queues auto: one queuer per CPU ($want)" wait_until 10 eval '[ "$(nqueues)" -eq $want ]'
proxy_stop
finish
