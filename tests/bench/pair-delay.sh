#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The pepsal pair across a 600 ms RTT middle hop (pepsal-linkem in the
# router, 300 ms each way, no rate limit, no loss): topo_five, terminal in the
# client-side hop, gateway in the server-side hop, both with initcwnd and
# initrwnd 1000 on their satellite side. Times ROUNDS fetches of each SIZE
# (tcptool fetch, sha256 checked; the time includes starting python, about
# 0.1 s), one per line: "SIZE MS". A sanity check of one satellite round trip
# per request, not the issue's goal conditions (those are make bench-sat's).
# As root:  bash tests/bench/pair-delay.sh [ROUNDS] [SIZE...]
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd iptables python3
ROUNDS=${1:-5}; shift || true
SIZES=${*:-100000 1000000 10000000}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
KNOBS=(--initcwnd 1000 --initrwnd 1000)
topo_five || exit 1
head -c 32 /dev/urandom | base64 >"$TMP/key"
chmod 600 "$TMP/key"
nsx "$NS_HC" bash "$SRC/rules/pepsal-iptables" -i eth0 --pair-role terminal --sat-iface eth1 \
	"${KNOBS[@]}" install >/dev/null || exit 1
nsx "$NS_HS" bash "$SRC/rules/pepsal-iptables" --pair-role gateway -i eth0 "${KNOBS[@]}" \
	install >/dev/null || exit 1
ip netns exec "$NS_HS" "$BUILD/pepsal" --shm "${SHM_NAME}-g" --pair-role gateway \
	--pair-listen :5001 --pair-peer "$H4C" --pair-key-file "$TMP/key" >"$TMP/g.log" 2>&1 &
G_PID=$!
on_exit "kill $G_PID"
ip netns exec "$NS_S" python3 "$SRC/tests/tools/tcptool.py" source 7004 >/dev/null 2>&1 &
on_exit "kill $!"
nsx "$NS_R" sh -c 'echo $$ >"$0.pid"; exec "$@"' "$TMP/linkem.log" "$BUILD/pepsal-linkem" \
	--queue 0 --delay 300ms 2>"$TMP/linkem.log" &
wait_until 5 grep -q ready "$TMP/linkem.log" || exit 1
on_exit "kill $(cat "$TMP/linkem.log.pid")"
nsx "$NS_R" iptables -w 5 -A FORWARD -i eth0 -j NFQUEUE --queue-num 0
nsx "$NS_R" iptables -w 5 -A FORWARD -i eth1 -j NFQUEUE --queue-num 1
ip netns exec "$NS_HC" "$BUILD/pepsal" --shm "${SHM_NAME}-t" --pair-role terminal \
	--pair-gateway "$H4S" --pair-key-file "$TMP/key" >"$TMP/t.log" 2>&1 &
T_PID=$!
on_exit "kill $T_PID"
wait_until 5 listening "$NS_S" 7004 || exit 1
pool_full() { "$BUILD/pepsal-shm" --shm "${SHM_NAME}-t" stats | grep -q 'proxy.pair_pool  *16$'; }
wait_until 20 pool_full || echo "# the pool is not full"
fetches() { # fetches LABEL
	local size r t0
	for size in $SIZES; do
		for ((r = 1; r <= ROUNDS; r++)); do
			t0=$(date +%s%N)
			ip netns exec "$NS_C" python3 "$SRC/tests/tools/tcptool.py" fetch $S4 7004 \
				"$size" "$r" >/dev/null || echo "# FAIL"
			echo "$1 $size $(( ($(date +%s%N) - t0) / 1000000 ))" | tee -a "$TMP/results"
		done
	done
}
fetches pair
"$BUILD/pepsal-shm" --shm "${SHM_NAME}-t" stats | grep -E 'pair_used|pair_fallback'
kill "$T_PID" "$G_PID"; wait "$T_PID" "$G_PID" 2>/dev/null
# the single pepsal: intercepting in the gateway's hop
nsx "$NS_HS" bash "$SRC/rules/pepsal-iptables" -i eth0 "${KNOBS[@]}" install >/dev/null || exit 1
ip netns exec "$NS_HS" "$BUILD/pepsal" --shm "${SHM_NAME}-s" >"$TMP/s.log" 2>&1 &
S_PID=$!
on_exit "kill $S_PID"
wait_until 5 listening "$NS_HS" 5000 && sleep 1
fetches single
"$BUILD/pepsal-shm" --shm "${SHM_NAME}-s" stats | grep -E 'proxy.accepted'
kill "$S_PID"; wait "$S_PID" 2>/dev/null
python3 - "$TMP/results" <<'PY'
import statistics, sys
r = {}
for line in open(sys.argv[1]):
    m, size, ms = line.split()
    r.setdefault((m, int(size)), []).append(int(ms))
for size in sorted({s for _, s in r}):
    p, s = statistics.median(r[("pair", size)]), statistics.median(r[("single", size)])
    print(f"{size} bytes: pair {p / 1000:.3f} s, single pepsal {s / 1000:.3f} s, ratio {p / s:.2f}")
PY
