#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bulk throughput of the pepsal pair on plain veth (no delay), against a
# single pepsal on the same box in the same run (issue 18's goal: the pair
# at least 0.8x). topo_five: client ─ terminal ─ router ─ gateway ─ server;
# iperf3 downloads and uploads, ROUNDS rounds alternating pair / single,
# medians. As root:  bash tests/bench/pair-veth.sh [ROUNDS] [SECONDS]
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd iptables iperf3 python3
ROUNDS=${1:-5} SECS=${2:-4} PPORT=5001
SRC=$(cd "$(dirname "$0")/../.." && pwd)
topo_five || exit 1
head -c 32 /dev/urandom | base64 >"$TMP/key"
chmod 600 "$TMP/key"
nsx "$NS_HC" bash "$SRC/rules/pepsal-iptables" -i eth0 --pair-role terminal install >/dev/null
nsx "$NS_HS" bash "$SRC/rules/pepsal-iptables" --pair-role gateway install >/dev/null
ip netns exec "$NS_HS" "$BUILD/pepsal" --shm "${SHM_NAME}-g" --pair-role gateway \
	--pair-listen ":$PPORT" --pair-peer "$H4C" --pair-key-file "$TMP/key" ${PAIR_OPTS:-} >"$TMP/g.log" 2>&1 &
on_exit "kill $!"
ip netns exec "$NS_S" iperf3 -s -D -I "$TMP/iperf.pid"
on_exit 'kill $(cat '"$TMP"'/iperf.pid)'
wait_until 5 listening "$NS_HS" $PPORT && wait_until 5 listening "$NS_S" 5201 || exit 1

T_PID=
start() { # start single|pair
	[ -z "$T_PID" ] || { kill "$T_PID"; wait "$T_PID"; }
	local pair=()
	[ "$1" = pair ] && pair=(--pair-role terminal --pair-gateway "$H4S" --pair-key-file "$TMP/key" ${PAIR_OPTS:-})
	ip netns exec "$NS_HC" "$BUILD/pepsal" --shm "${SHM_NAME}-t" ${pair[@]+"${pair[@]}"} \
		>>"$TMP/t.log" 2>&1 &
	T_PID=$!
	wait_until 5 listening "$NS_HC" 5000 && sleep 1 # the queuer, the pool
}
# rate DIR: bits/s of one iperf3 run (DIR -R: download)
rate() {
	ip netns exec "$NS_C" iperf3 -c $S4 -t "$SECS" -J $1 | python3 -c 'import json,sys
print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))'
}
for ((r = 1; r <= ROUNDS; r++)); do
	for m in pair single; do
		start $m
		echo "$m down $(rate -R)" >>"$TMP/results"
		echo "$m up $(rate "")" >>"$TMP/results"
	done
done
kill "$T_PID"; wait "$T_PID"
python3 - "$TMP/results" <<'PY'
import statistics, sys
r = {}
for line in open(sys.argv[1]):
    m, d, v = line.split()
    r.setdefault((m, d), []).append(int(v))
for d in ("down", "up"):
    p, s = statistics.median(r[("pair", d)]), statistics.median(r[("single", d)])
    print(f"{d}: pair {p / 1e9:.2f} Gbit/s, single pepsal {s / 1e9:.2f} Gbit/s, "
          f"ratio {p / s:.2f} (medians of {len(r[('pair', d)])})")
PY
