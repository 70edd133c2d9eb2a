#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench-stop: how long pepsal takes from SIGTERM to its exit (measured
# on a pidfd), in three cases, STOP_ROUNDS times each (default 5), medians:
#   conns     STOP_CONNS (default 500) relayed connections, echoing
#   held      STOP_DIALS (default 20) held SYNs whose dials wait for a server
#             that drops SYNs (the default nfqueue mode: predial.c)
#   dialing   the same with --accept-first: the relay's own dials (relay.c)
# The exit includes the queuer child's (it accepts what is queued before it
# unbinds). As root; figures in doc/benchmarks.md (Stopping).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_root
ROUNDS=${STOP_ROUNDS:-5}
CONNS=${STOP_CONNS:-500}
DIALS=${STOP_DIALS:-20}
ECHO=7001 SILENT=7009

proxy_setup || { echo "# pepsal did not start"; exit 1; }
proxy_stop
bg "$NS_S" "$TMP/echo.log" bash -c "ulimit -n 8192; exec python3 '$TOOLS/tcptool.py' echo $ECHO"
wait_until 10 listening "$NS_S" $ECHO || { echo "# no echo server"; exit 1; }
nsx "$NS_S" iptables -I INPUT -p tcp --dport $SILENT --syn -j DROP

# stop_ms: SIGTERM to pepsal, milliseconds until it is gone
stop_ms() {
	local pid=$PEPSAL_PID
	PEPSAL_PID=
	python3 - "$pid" <<'EOF'
import os, select, signal, sys, time
pid = int(sys.argv[1])
fd = os.pidfd_open(pid)
t0 = time.monotonic()
os.kill(pid, signal.SIGTERM)
select.select([fd], [], [], 30)
print("%.1f" % ((time.monotonic() - t0) * 1000))
EOF
	wait "$pid" 2>/dev/null
}
active_at_least() { [ "$(counter proxy.active)" -ge "$1" ]; }
syn_sent() { [ "$(nsx "$NS_R" ss -Htn state syn-sent "( dport = :$SILENT )" | wc -l)" -ge "$1" ]; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A runs
for ((r = 1; r <= ROUNDS; r++)); do
	for case in ${STOP_CASES:-conns held dialing}; do
		opts=()
		[ $case = dialing ] && opts=(--accept-first)
		proxy_start ${opts[@]+"${opts[@]}"} || { echo "# pepsal did not start"; exit 1; }
		rm -f "$TMP/stop"
		clients=()
		if [ $case = conns ]; then
			nsx "$NS_C" bash -c "ulimit -n 8192; exec python3 '$TOOLS/tcptool.py' stream $S4 $ECHO $CONNS '$TMP/stop' 200" \
				>/dev/null 2>&1 &
			clients+=($!)
			wait_until 60 active_at_least "$CONNS" || echo "# $case: $(counter proxy.active) of $CONNS open"
		else
			# DIALS connections from one process, open until the stop file
			nsx "$NS_C" python3 -c 'import os, socket, sys, time
socks = [socket.socket() for _ in range(int(sys.argv[3]))]
for s in socks:
    s.setblocking(False)
    s.connect_ex((sys.argv[1], int(sys.argv[2])))
while not os.path.exists(sys.argv[4]):
    time.sleep(0.05)' $S4 $SILENT "$DIALS" "$TMP/stop" >/dev/null 2>&1 &
			clients+=($!)
			wait_until 20 syn_sent "$DIALS" ||
				echo "# $case: $(nsx "$NS_R" ss -Htn state syn-sent "( dport = :$SILENT )" | wc -l) of $DIALS dials waiting"
		fi
		ms=$(stop_ms)
		runs[$case]+=" $ms"
		echo "# round $r, $case: $ms ms"
		touch "$TMP/stop"
		kill "${clients[@]}" 2>/dev/null
		wait "${clients[@]}" 2>/dev/null
	done
done
for case in ${STOP_CASES:-conns held dialing}; do
	echo "stop-time: $case: median $(echo "${runs[$case]}" | median) ms (${runs[$case]# })"
done
[ -z "${STOP_LOG:-}" ] || cp "$TMP/pepsal.log" "$STOP_LOG"
