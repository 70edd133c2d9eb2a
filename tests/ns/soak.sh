#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Soak: pepsal under mixed real traffic for SOAK_SECONDS (default 60; "make
# soak" runs 600), IPv4 and IPv6, client ─ router(pepsal) ─ server:
#   short connections (curl, small file, sha256), long rate-limited
#   downloads (curl, sha256), batches of echo connections (each verified),
#   half-closes both ways, resets both ways;
#   a scan every SOAK_SECONDS/10 (at least 20 s; 20,000 SYN/s for 1 s from
#   one host to a closed port), one spoofed SYN flood burst (50,000 SYN/s
#   for 2 s from 100 addresses), the queuer killed every SOAK_SECONDS/5
#   (pepsal restarts it; meanwhile SYNs pass unmarked, end to end: success),
#   SIGHUP every SOAK_SECONDS/6.
# Then: every run of every client succeeded with every byte exact; pepsal
# still runs and restarted each killed queuer; once idle, no connection is
# active and the table is empty (-t 10s -g 2s: the scans' pending entries
# expire within the run); pepsal's threads, descriptors and RSS are back to
# their baseline. The baseline is taken after a warm-up (a round of every
# client); the tolerance is what parked relay threads may keep: at most 128
# of them (proxy/workers.c), each with at most one pipe (2 descriptors,
# + 2 for the -l file being rewritten), each with its stack and malloc
# arena (128 kB per thread parked since the baseline), + SOAK_RSS_SLACK_KB
# (default 4096) of RSS.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_root
need_cmd curl python3 sha256sum
SOAK=${SOAK_SECONDS:-60}
RSS_SLACK=${SOAK_RSS_SLACK_KB:-4096}
case "$SOAK" in '' | *[!0-9]*) echo "soak: SOAK_SECONDS=$SOAK: a number of seconds" >&2; exit 2 ;; esac
[ "$SOAK" -ge 30 ] || { echo "soak: SOAK_SECONDS=$SOAK: at least 30" >&2; exit 2; }
FLOOD=$BUILD/tests/synflood
[ -x "$FLOOD" ] || skip_all "missing $FLOOD (make first)"
PARKED_MAX=128
SCAN4=198.18.1.3 FLOOD4=198.18.1.100

proxy_setup -g 2s -t 10s -l "$TMP/conns" || { show_log; exit 1; }
PID=$PEPSAL_PID
# the scanning host answers the proxy's SYN-ACKs with resets, as a real one would
ip -n "$NS_C" addr add $SCAN4/24 dev eth0

threads() { ls "/proc/$PID/task" | wc -l; }
fds() { ls "/proc/$PID/fd" | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }
T_START=$(threads) F_START=$(fds)

# ---- servers -------------------------------------------------------------------
mkdir -p "$TMP/www"
head -c 4096 /dev/urandom >"$TMP/www/small"
head -c $((24 << 20)) /dev/urandom >"$TMP/www/big"
SUM_SMALL=$(sha256sum <"$TMP/www/small" | cut -d' ' -f1)
SUM_BIG=$(sha256sum <"$TMP/www/big" | cut -d' ' -f1)
HALF_N=300000 HALF_M=100000 RST_N=1000
bg "$NS_S" "$TMP/http.log" python3 -m http.server --bind :: --directory "$TMP/www" 8080
bg "$NS_S" "$TMP/echo.log" python3 "$TOOLS/tcptool.py" echo 7001
bg "$NS_S" "$TMP/half.log" python3 "$TOOLS/tcptool.py" halfclose 7002 $HALF_M
bg "$NS_S" "$TMP/mirror.log" python3 "$TOOLS/tcptool.py" mirror 7003 $HALF_M "$TMP/mirror.out"
bg "$NS_S" "$TMP/watch.log" python3 "$TOOLS/tcptool.py" watch-rst 7004 "$TMP/watch.out"
bg "$NS_S" "$TMP/rst.log" python3 "$TOOLS/tcptool.py" rst 7005
for p in 8080 7001 7002 7003 7004 7005; do
	wait_until 30 listening "$NS_S" $p || { not_ok "server on port $p"; finish; }
done

# ---- clients: one run each, status 0 when every check passed ------------------
c() { nsx "$NS_C" "$@"; }
fetch() { # URL SHA256 [curl options]
	local url=$1 want=$2 got
	shift 2
	got=$(c curl -sS --max-time 60 --connect-timeout 10 "$@" "$url" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || { echo "$url: sha256 $got, expected $want"; return 1; }
}
short4() { fetch "http://$S4:8080/small" "$SUM_SMALL"; }
short6() { fetch "http://[$S6]:8080/small" "$SUM_SMALL"; }
long4() { fetch "http://$S4:8080/big" "$SUM_BIG" --limit-rate 3M; }
long6() { fetch "http://[$S6]:8080/big" "$SUM_BIG" --limit-rate 3M; }
echo4() { c python3 "$TOOLS/tcptool.py" many $S4 7001 10 200000; }
echo6() { c python3 "$TOOLS/tcptool.py" many $S6 7001 10 200000; }
half4() { c python3 "$TOOLS/tcptool.py" halfclose $S4 7002 $HALF_N $HALF_M; }
mirror6() { c python3 "$TOOLS/tcptool.py" mirror $S6 7003 $HALF_N $HALF_M; }
sendrst4() { c python3 "$TOOLS/tcptool.py" send-rst $S4 7004 $RST_N; }
gotrst6() { local out; out=$(c python3 "$TOOLS/tcptool.py" expect-reset $S6 7005 5 2>&1); echo "$out"; no_fail "$out"; }
CLIENTS="short4 short6 long4 long6 echo4 echo6 half4 mirror6 sendrst4 gotrst6"
# connections and bytes (both ways) per run, for the figures
declare -A CONNS=([echo4]=10 [echo6]=10)
declare -A BYTES=([short4]=4096 [short6]=4096 [long4]=$((24 << 20)) [long6]=$((24 << 20))
	[echo4]=4000000 [echo6]=4000000 [half4]=$((HALF_N + HALF_M)) [mirror6]=$((HALF_N + HALF_M))
	[sendrst4]=$RST_N [gotrst6]=0)

# loop CLIENT: run it until $END, one result line per run in $TMP/res.CLIENT
loop() {
	local out
	while [ "$(date +%s)" -lt "$END" ]; do
		if out=$("$1" 2>&1); then
			echo ok >>"$TMP/res.$1"
		else
			echo "FAIL $(date +%T) $out" | tr '\n' ' ' | head -c 400 >>"$TMP/res.$1"
			echo >>"$TMP/res.$1"
		fi
	done
}
# lines FILE [REGEX]: how many lines (that match), 0 without the file
lines() { awk -v re="${2:-.}" '$0 ~ re { n++ } END { print n + 0 }' "$1" 2>/dev/null || echo 0; }
runs() { lines "$TMP/res.$1"; }
fails() { lines "$TMP/res.$1" '^FAIL'; }
idle() { counter_is proxy.active 0; }

# ---- warm-up and baseline ----------------------------------------------------------
for cl in $CLIENTS; do
	out=$($cl 2>&1) || not_ok "warm-up: $cl ($out)"
done
check "warm-up: pepsal idle again" wait_until 30 idle
check "warm-up: the table empty again" wait_until 30 table_used_is 0
T0=$(threads) F0=$(fds) R0=$(rss_kb)
echo "# baseline after the warm-up: $T0 threads, $F0 descriptors, RSS $R0 kB" \
	"(at start: $T_START threads, $F_START descriptors)"
A0=$(counter proxy.accepted)
M0=$(lines "$TMP/mirror.out") W0=$(lines "$TMP/watch.out") # the warm-up's

# ---- the soak ----------------------------------------------------------------------
START=$(date +%s)
END=$((START + SOAK))
pids=()
for cl in $CLIENTS; do
	loop "$cl" &
	pids+=($!)
done
on_exit "kill ${pids[*]}"
SCAN_EVERY=$((SOAK / 10 > 20 ? SOAK / 10 : 20))
KILL_EVERY=$((SOAK / 5)) HUP_EVERY=$((SOAK / 6)) FLOOD_AT=$((SOAK / 2))
scans=0 scan_syns=0 kills=0 restarted=0 hups=0 hups_logged=0 flood_syns=-1
next_scan=$((SCAN_EVERY / 2)) next_kill=$KILL_EVERY next_hup=$HUP_EVERY

hup_logged() { [ "$(lines "$TMP/pepsal.log" 'SIGHUP: reopening the logs')" -ge "$1" ]; }
new_queuer() { local p; p=$(queuer_pid) && [ "$p" != "$1" ] && [ "$p" != 0 ] && role_alive queuer; }
syns() { sed -n 's/.*received=\([0-9]*\).*/\1/p' "$1"; }
# flood SRC SOURCES RATE DURATION DPORT LOG: raw SYNs from the client side,
# captured as they reach the router
flood() {
	"$FLOOD" --tx-netns "$NS_C" --rx-netns "$NS_R" --rx-if eth0 --src "$1" --sources "$2" \
		--dst $S4 --rate "$3" --duration "$4" --dport "$5" >"$6" 2>&1
}

while :; do
	t=$(($(date +%s) - START))
	[ "$t" -lt "$SOAK" ] || break
	# the SIGHUP first: it takes a moment, while a kill may wait 20 s for the
	# restart and a scan comes due every 20 s; last, it would never get a turn
	# on a loaded machine
	if [ "$t" -ge "$next_hup" ]; then
		kill -HUP "$PID" && hups=$((hups + 1))
		# one at a time: two pending SIGHUPs are one signal
		wait_until 5 hup_logged $hups && hups_logged=$((hups_logged + 1))
		next_hup=$((t + HUP_EVERY))
	elif [ "$t" -ge "$next_scan" ] && [ "$t" -lt $((SOAK - 5)) ]; then
		flood $SCAN4 1 20000 1s 9 "$TMP/scan.log" && scans=$((scans + 1)) &&
			scan_syns=$((scan_syns + $(syns "$TMP/scan.log")))
		next_scan=$((t + SCAN_EVERY))
	elif [ "$flood_syns" -lt 0 ] && [ "$t" -ge "$FLOOD_AT" ]; then
		flood $FLOOD4 100 50000 2s 80 "$TMP/flood.log" && flood_syns=$(syns "$TMP/flood.log")
		[ "$flood_syns" -ge 0 ] 2>/dev/null || { flood_syns=0; cat "$TMP/flood.log"; }
	elif [ "$t" -ge "$next_kill" ] && [ "$t" -lt $((SOAK - 5)) ]; then
		q=$(queuer_pid)
		if [ "${q:-0}" -gt 1 ] 2>/dev/null && [ "$(cat "/proc/$q/comm" 2>/dev/null)" = pepsal-queuer ]; then
			kill -KILL "$q" && kills=$((kills + 1))
			wait_until 20 new_queuer "$q" && restarted=$((restarted + 1))
		else
			echo "# no queuer to kill at ${t}s (heartbeat pid '$q')"
		fi
		next_kill=$((t + KILL_EVERY))
	else
		sleep 1 # the schedule's clock, not a synchronisation
	fi
done
# the clients finish their last run (bounded by their own timeouts)
check "every client loop ended" wait_until 90 sh -c "! kill -0 ${pids[*]} 2>/dev/null"
ELAPSED=$(($(date +%s) - START))

# ---- verdicts --------------------------------------------------------------------------
total=0 legit=0 bytes=0
for cl in $CLIENTS; do
	r=$(runs "$cl") f=$(fails "$cl")
	total=$((total + r)) bytes=$((bytes + r * ${BYTES[$cl]}))
	legit=$((legit + r * ${CONNS[$cl]:-1}))
	check "$cl: $r runs, $f failed" [ "$r" -gt 0 -a "$f" -eq 0 ]
	[ "$f" -eq 0 ] || grep '^FAIL' "$TMP/res.$cl" | head -n 3 | sed 's/^/#   /'
done
# count_is FILE REGEX N: N lines of FILE match
count_is() { [ "$(lines "$1" "$2")" -eq "$3" ]; }
n=$(runs mirror6)
wait_until 10 count_is "$TMP/mirror.out" "^received $HALF_N from " $((M0 + n))
m=$(($(lines "$TMP/mirror.out" "^received $HALF_N from ") - M0))
check "mirror: the server got all $HALF_N bytes after its EOF, every run ($m of $n)" [ "$m" -eq "$n" ]
n=$(runs sendrst4)
wait_until 10 count_is "$TMP/watch.out" "^reset $RST_N\$" $((W0 + n))
w=$(($(lines "$TMP/watch.out" "^reset $RST_N\$") - W0))
check "send-rst: the server read $RST_N bytes, then the reset, every run ($w of $n)" [ "$w" -eq "$n" ]
check "$scans scans ($scan_syns SYNs) and a flood burst ($flood_syns SYNs) were sent" \
	[ "$scans" -ge 1 -a "$scan_syns" -gt 0 -a "$flood_syns" -gt 0 ]
check "the queuer was killed $kills times and restarted each time ($restarted)" \
	[ "$kills" -ge 1 -a "$restarted" -eq "$kills" ]
check "$hups SIGHUPs, each logged ($hups_logged)" [ "$hups" -ge 1 -a "$hups_logged" -eq "$hups" ]
check "pepsal (pid $PID) still runs" kill -0 "$PID"
check "idle: no active connection" wait_until 30 idle
check "... no entry left in the table (pending ones expired)" wait_until 30 table_used_is 0
"$BUILD/pepsal-shm" --shm "$SHM_NAME" list | tail -n +2 | head -n 5 | sed "s/^/# left: /"

T1=$(threads) F1=$(fds) R1=$(rss_kb)
parked=$((T1 - T_START))
check "threads back to the baseline: $T1 (baseline $T0, at start $T_START; at most $PARKED_MAX parked)" \
	[ "$parked" -le "$PARKED_MAX" ]
check "descriptors back to the baseline: $F1 (baseline $F0, at start $F_START; a pipe per parked thread at most)" \
	[ "$F1" -le $((F_START + 2 * parked + 2)) ]
more=$((T1 > T0 ? T1 - T0 : 0))
check "RSS back to the baseline: $R1 kB (baseline $R0 kB; + 128 kB per thread parked since, + $RSS_SLACK kB)" \
	[ "$R1" -le $((R0 + 128 * more + RSS_SLACK)) ]
acc=$(($(counter proxy.accepted) - A0))
echo "# soak ${SOAK}s (ran ${ELAPSED}s): $total client runs, $legit legitimate connections," \
	"$((bytes / 1000000)) MB checked, $acc accelerated; $scans scans ($scan_syns SYNs), flood $flood_syns SYNs," \
	"$kills queuer kills, $hups SIGHUPs; queuer.table_full $(counter queuer.table_full)"
echo "# pepsal: threads $T_START start, $T0 baseline, $T1 end; descriptors $F_START, $F0, $F1;" \
	"RSS $R0 kB baseline, $R1 kB end"
proxy_stop
check "pepsal exits 0 at SIGTERM" [ $? -eq 0 ]
[ "$FAILS" -eq 0 ] || show_log 30
finish
