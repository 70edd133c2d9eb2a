#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scale: SCALE_N (default 2,000) concurrent connections through pepsal,
# each carrying a small message every half second (three each) whose echo
# it checks byte for byte. While they are quiet they hold their two sockets
# and no pipe (the pool lends pipes for a burst only); after they close, the
# proxy's descriptors and threads are back to what they were (threads: at
# most the parked ones, WORKERS_PARKED_MAX). make bench runs 10,000.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"

N=${SCALE_N:-2000}
# under a sanitizer (tests/sanitize.sh sets SAN) each thread is several
# times slower to start: 300 connections, so the counts are taken once all
# have settled
[ -n "${SAN:-}" ] && N=${SCALE_N:-300}
PARKED_MAX=128   # proxy/workers.h
POOL_MAX=256     # proxy/limits.h: LIMITS_PIPES_MAX
CONNLOAD=$BUILD/tests/connload
[ -x "$CONNLOAD" ] || skip_all "build tests/connload into $BUILD first"

proxy_setup -c $((N + 100)) || { show_log; exit 1; }
bg "$NS_S" "$TMP/serve.log" "$CONNLOAD" serve -p 7030 --echo
wait_until 5 listening "$NS_S" 7030 || { not_ok "echo server started"; finish; }

# fd_count KIND: the proxy's descriptors whose link starts with KIND
fd_count() { find "/proc/$PEPSAL_PID/fd" -mindepth 1 -lname "$1*" 2>/dev/null | wc -l; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$PEPSAL_PID/status"; }
pss_kib() { awk '/^Pss:/ { print $2 }' "/proc/$PEPSAL_PID/smaps_rollup"; }
settled() { # settled SOCKETS THREADS: the proxy is back to these
	[ "$(fd_count socket:)" -eq "$1" ] && [ "$(threads)" -le $(($2 + PARKED_MAX)) ]
}

sock0=$(fd_count socket:) thr0=$(threads) pss0=$(pss_kib)
bg "$NS_C" "$TMP/hold.out" "$CONNLOAD" hold -d $S4 -p 7030 -n "$N" -c 64 --every 500ms --rounds 3 --req 64
hold_pid=$BG_PID
check "$N connections held, each had two messages echoed" wait_until 180 grep -q "^round 2" "$TMP/hold.out"
grep -q "^held $N failed 0" "$TMP/hold.out" || not_ok "all $N held ($(head -n1 "$TMP/hold.out"))"
stats_json >"$TMP/stats-held.json"
socks=$(fd_count socket:) pipes=$(fd_count pipe:) thr=$(threads) pss=$(pss_kib)
echo "# $N connections: $((socks - sock0)) sockets, $pipes pipe ends, threads $thr0 -> $thr," \
	"PSS $pss0 -> $pss KiB ($(((pss - pss0) / N)) KiB/conn)"
check "... all accepted by the proxy ($(counter proxy.accepted))" test "$(counter proxy.accepted)" -eq "$N"
check "... two sockets each in the proxy ($((socks - sock0)))" test $((socks - sock0)) -eq $((2 * N))
# the pipes come from the pool: a few for the bursts in flight, never one
# per connection (each held two before the pool)
check "... pipes from the pool only ($pipes ends, at most $((2 * POOL_MAX + 4)))" \
	test "$pipes" -le $((2 * POOL_MAX + 4))
check "... a thread pair each ($((thr - thr0)) more threads)" test $((thr - thr0)) -ge $((2 * N - PARKED_MAX))

# the third round, then the client closes them all
wait_until 120 grep -q "^exchanged" "$TMP/hold.out"
wait "$hold_pid"
rc=$?
out=$(tail -n1 "$TMP/hold.out")
check "every message's echo verified, status $rc ($out)" test "$rc" -eq 0 -a "$out" = "exchanged $((3 * N)) verified $((3 * N)) bad 0 lost 0"
check "... all relayed by the proxy, no reset" test "$(counter proxy.resets)$(counter proxy.lookup_miss)" = 00
check "after they closed: proxy.active back to 0" wait_until 30 counter_is proxy.active 0
check "... the table empty" wait_until 10 table_used_is 0
check "... the proxy's sockets and threads back to before ($(fd_count socket:) sockets, $(threads) threads)" \
	wait_until 30 settled "$sock0" "$thr0"
check "... pooled pipes within the cap ($(fd_count pipe:) ends)" test "$(fd_count pipe:)" -le $((2 * POOL_MAX + 4))
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("#", {k: v for k, v in d["counters"].items() if v})' "$TMP/stats-held.json"
check "pepsal exits 0 on SIGTERM" proxy_stop
[ "$FAILS" -eq 0 ] || show_log 30
finish
