#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The stall of an upgrade (doc/benchmarks.md): CONNS echo connections held
# open through pepsal plus one steady stream (gap-probe, a 64-byte echo
# every millisecond), then UPS upgrades (SIGUSR2) a few seconds apart. The
# peer, in the same run: the same probe through the same pepsal for the same
# time without an upgrade. Prints the longest gap of each and the pause each
# old process logged. As root:
#   BUILD=$PWD/build bash tests/bench/upgrade-stall.sh   (CONNS=1000 UPS=5)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
CONNS=${CONNS:-1000} UPS=${UPS:-5}
[ -x "$BUILD/tests/gap-probe" ] || skip_all "build $BUILD/tests/gap-probe first (make)"
proxy_setup || { show_log; exit 1; }
bg "$NS_S" "$TMP/echo.log" bash -c "ulimit -n 8192; exec python3 '$TOOLS/tcptool.py' echo 7001"
wait_until 5 listening "$NS_S" 7001 || exit 1
proxy_pid() { stats_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["heartbeats"]["proxy"]["pid"])'; }
nsx "$NS_C" bash -c "ulimit -n 8192; exec python3 '$TOOLS/tcptool.py' hold $S4 7001 $CONNS '$TMP/go'" \
	>"$TMP/hold.out" 2>&1 &
HOLD=$!
wait_until 120 grep -q ready "$TMP/hold.out" || { echo "# $CONNS connections did not open"; exit 1; }

# probe DURATION_S [upgrades]: one probe run, UPS upgrades spread over it
probe() {
	rm -f "$TMP/stop"
	nsx "$NS_C" "$BUILD/tests/gap-probe" $S4 7001 1000 "$TMP/stop" >"$TMP/probe.out" 2>&1 &
	local p=$! t0 i old
	t0=$(date +%s)
	sleep 1
	if [ "${2:-}" ]; then
		for i in $(seq "$UPS"); do
			old=$(proxy_pid)
			kill -USR2 "$old"
			wait_until 30 gone "$old"
			sleep 1
		done
	fi
	while [ $(( $(date +%s) - t0 )) -lt "$1" ]; do sleep 0.2; done
	touch "$TMP/stop"
	wait $p
	cat "$TMP/probe.out"
}
echo "$(date -u +%F) $CONNS connections held, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "with $UPS upgrades: $(probe $((UPS * 2 + 3)) up)"
echo "no upgrade (peer):  $(probe $((UPS * 2 + 3)))"
grep -o 'paused .*\|received in .*' "$TMP/pepsal.log"
touch "$TMP/go"
wait $HOLD
tail -n1 "$TMP/hold.out"
echo "proxy.resets $(counter proxy.resets), proxy.upgrades $(counter proxy.upgrades)"
