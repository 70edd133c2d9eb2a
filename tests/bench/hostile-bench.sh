#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scans and floods against the real pepsal (make bench-hostile, as root); the
# goals of doc/benchmarks.md, section "Scans and floods":
#  - scan: SCAN SYNs (100,000) from one client address to a closed port at
#    the generator's top rate; 1 s after it ended, N connections from another
#    client: how many succeed, how many the proxy relayed (accelerated);
#  - flood: spoofed SYNs at FLOOD_RATE (60,000/s asked, so that at least
#    50,000 are sent) from 200 addresses, one after the other, for FLOOD_SECS
#    (198.19.1.10-209: routed by the router to the client's side, whose
#    kernel drops the SYN-ACKs, as behind a satellite terminal),
#    to port 9 (every marked SYN goes to the proxy's listener whatever its
#    port, and the generator's capture must not count the second client's
#    SYNs); meanwhile a second client connects again and again: how many
#    succeed, how many were accelerated.
# client ─ router (pepsal, its queuer, pepsal-iptables rules) ─ server.
# Prints one line per scenario. Run it with BUILD=another build to measure a
# peer (the tree before) in the same session.
#   N=200 SCAN=100000 FLOOD_RATE=60000 FLOOD_SECS=20 bash tests/bench/hostile-bench.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
N=${N:-200} SCAN=${SCAN:-100000} FLOOD_RATE=${FLOOD_RATE:-60000} FLOOD_SECS=${FLOOD_SECS:-20}
FLOOD=$BUILD/tests/synflood PORT=8080 CLIENT2=198.18.1.3
[ -x "$FLOOD" ] || skip_all "missing $FLOOD (make first)"

proxy_setup || { show_log; exit 1; }
nsx "$NS_S" python3 -m http.server --bind $S4 $PORT >"$TMP/http.log" 2>&1 &
on_exit "kill $!"
wait_until 10 listening "$NS_S" $PORT || { echo "server did not start"; exit 1; }
nsx "$NS_C" ip addr add $CLIENT2/24 dev eth0
fetch() { nsx "$NS_C" curl -s -o /dev/null -m 10 --interface $CLIENT2 "http://$S4:$PORT/"; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

# connections COUNT|until:FILE: sequential fetches; sets OK, TRIED, ACC
connections() {
	local a0 stop=
	a0=$(counter proxy.accepted) OK=0 TRIED=0
	case $1 in until:*) stop=${1#until:} ;; esac
	while if [ -n "$stop" ]; then [ ! -e "$stop" ]; else [ $TRIED -lt "$1" ]; fi; do
		fetch && OK=$((OK + 1))
		TRIED=$((TRIED + 1))
	done
	wait_until 5 eval "[ \$(counter proxy.accepted) -ge \$((a0 + OK)) ]"
	ACC=$(( $(counter proxy.accepted) - a0 ))
}

# ---- scan ------------------------------------------------------------------
"$FLOOD" --tx-netns "$NS_C" --rx-netns "$NS_S" --src $C4 --sources 1 --dport 9 \
	--count "$SCAN" >"$TMP/scan.out" 2>&1
sleep 1 # the scenario: connections start 1 s after the scan
connections "$N"
echo "scan: $(field sent <"$TMP/scan.out") SYNs at $(field sent_pps <"$TMP/scan.out") SYN/s;" \
	"1 s later $OK of $TRIED connections succeeded, $ACC accelerated" \
	"($(awk -v a=$ACC -v n=$TRIED 'BEGIN { printf "%.1f", 100 * a / n }') %)"
"$BUILD/pepsal-shm" --shm "$SHM_NAME" stats | grep -E '^ *(queuer|proxy)\.' | tr -s ' \n' ' ' |
	sed 's/^/  counters: /'; echo

# ---- flood (a fresh proxy and table) ----------------------------------------
proxy_stop
proxy_start || { show_log; exit 1; }
nsx "$NS_R" ip route add 198.19.0.0/16 via $C4
rm -f "$TMP/flood.done"
( "$FLOOD" --tx-netns "$NS_C" --rx-netns "$NS_S" --src 198.19.1.10 --sources 200 \
	--spread --dport 9 --rate "$FLOOD_RATE" --duration "${FLOOD_SECS}s" >"$TMP/flood.out" 2>&1
  touch "$TMP/flood.done" ) &
FPID=$!
wait_until 10 eval '[ "$(counter queuer.syns)" -ge 10000 ]'
connections "until:$TMP/flood.done"
wait $FPID
echo "flood: $(field sent <"$TMP/flood.out") spoofed SYNs at $(field sent_pps <"$TMP/flood.out")" \
	"SYN/s from 200 addresses; meanwhile $OK of $TRIED connections succeeded, $ACC accelerated" \
	"($(awk -v a=$ACC -v n=$TRIED 'BEGIN { printf "%.1f", 100 * a / n }') %)"
"$BUILD/pepsal-shm" --shm "$SHM_NAME" stats | grep -E '^ *(queuer|proxy)\.|evictions|used' |
	tr -s ' \n' ' ' | sed 's/^/  counters: /'; echo
