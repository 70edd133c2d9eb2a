#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: pepsal over an emulated GEO satellite link.
#   client ─ term ─[600 ms RTT, 20 Mbit/s, 1-BDP buffer]─ pep ─ server
# Downloads 100 kB, 1 MB and 10 MB with curl in three columns (median of
# DEMO_RUNS runs, default 3): no PEP (term and pep route plainly), pepsal (a
# single pepsal in pep, term a plain router) and pair (the terminal side of a
# pepsal pair in term, its gateway side in pep, a warm pool of connections
# between them); prints a table and writes a PNG of bytes received over time.
# DEMO_LOSS=1 (percent, per direction) shows a lossy link; there the
# downloads without a PEP run once (they take minutes). DEMO_PAIR=0 leaves
# the pair column out (auto, the default: when pepsal has --pair-role).
# DEMO_RETURN_RATE=2 gives the return link (client to gateway) its own
# rate, Mbit/s, and adds uploads of DEMO_UPLOAD bytes (default then 5 MB;
# any DEMO_UPLOAD adds them) by curl -T to each column.
# Endpoints run cubic; pepsal's satellite leg has an initial window of 1000
# segments and its egress shaped at the link rate (pepsal-iptables
# --initcwnd 1000 --shape), a 4 MB send buffer and the adaptive congestion
# control (cubic, bbr while the link loses packets at random): the settings
# measured by tests/sat/tune.sh and make bench-sat (doc/benchmarks.md). The
# pair's leg: initial windows of 1000 segments both ways (--initcwnd,
# --initrwnd on both ends), both ends shaped at the link rate, bbr
# (satpair.sh).
# Everything it creates lives in namespaces removed on every exit path.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/satlink.sh"
. "$(dirname "$0")/satrun.sh"
. "$(dirname "$0")/satpair.sh"
. "$(dirname "$0")/plot.sh"
set -o pipefail
RUNS=${DEMO_RUNS:-3}
RATE=${DEMO_RATE:-20}
LOSS=${DEMO_LOSS:-0}
OUT=${DEMO_OUT:-$BUILD/demo}
PAIR=${DEMO_PAIR:-auto}
SAT_RETURN_RATE=${DEMO_RETURN_RATE:-}
UPSIZE=${DEMO_UPLOAD:-$([ -n "$SAT_RETURN_RATE" ] && echo 5000000 || echo 0)}
SIZES="100000 1000000 10000000"  # decimal, as the ideal times of the design brief

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (namespaces, iptables)" >&2; exit 2; }
case "$RUNS" in ''|*[!0-9]*|0) echo "demo: DEMO_RUNS must be a positive number" >&2; exit 2 ;; esac
case "$UPSIZE" in ''|*[!0-9]*) echo "demo: DEMO_UPLOAD must be a number of bytes" >&2; exit 2 ;; esac
[ -z "$SAT_RETURN_RATE" ] || [[ "$SAT_RETURN_RATE" =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
	{ echo "demo: DEMO_RETURN_RATE must be Mbit/s, e.g. 2" >&2; exit 2; }
[[ "$LOSS" =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v l="$LOSS" 'BEGIN { exit !(l < 100) }' ||
	{ echo "demo: DEMO_LOSS must be a percentage below 100, e.g. 1 or 0.1" >&2; exit 2; }
NOPEP_RUNS=$RUNS
[ "$LOSS" = 0 ] || NOPEP_RUNS=1
for p in pepsal pepsal-queuer pepsal-shm pepsal-linkem; do
	[ -x "$BUILD/$p" ] || { echo "demo: $BUILD/$p is missing: run make first" >&2; exit 1; }
done
case "$PAIR" in
auto) PAIR=0; "$BUILD/pepsal" --help 2>&1 | grep -q -- --pair-role && PAIR=1 ;;
0|1) ;;
*) echo "demo: DEMO_PAIR is auto, 0 or 1" >&2; exit 2 ;;
esac
[ "$PAIR" = 1 ] || [ "${DEMO_PAIR:-auto}" = 0 ] ||
	echo "demo: this pepsal has no --pair-role: the pair column stays empty" >&2
mkdir -p "$OUT"
rm -f "$OUT"/pair-*.dat

echo "demo: client ─ term ─[${SAT_RTT_MS} ms RTT, ${RATE} Mbit/s${SAT_RETURN_RATE:+ forward, $SAT_RETURN_RATE Mbit/s return}, 1-BDP buffer, ${LOSS} % loss]─ pep ─ server (namespaces *-$ID)"
sat_scenario "$RATE" "$LOSS" || { echo "demo: setting up the link failed" >&2; exit 1; }

# median of the arguments
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# measure MODE N: N downloads of each size; sets T_MODE_SIZE (median) and
# keeps the series of the median run as OUT/MODE-SIZE.dat.
measure() {
	local mode=$1 n=$2 s r t times
	for s in $SIZES; do
		times=()
		for ((r = 1; r <= n; r++)); do
			t=$(fetch "$s" "$TMP/$mode-$s.$r.dat") || return 1
			times+=("$t")
			printf '  %-6s %8s bytes  run %d: %6.2f s\n' "$mode" "$s" "$r" "$t"
		done
		t=$(median "${times[@]}")
		for ((r = 1; r <= n; r++)); do
			[ "${times[r - 1]}" = "$t" ] && { cp "$TMP/$mode-$s.$r.dat" "$OUT/$mode-$s.dat"; break; }
		done
		printf -v "T_${mode}_$s" '%s' "$t"
	done
	printf -v "U_$mode" 'n/a'
	[ "$UPSIZE" -gt 0 ] || return 0
	times=()
	for ((r = 1; r <= n; r++)); do
		t=$(upload "$UPSIZE") || return 1
		times+=("$t")
		printf '  %-6s upload %s bytes run %d: %6.2f s\n' "$mode" "$UPSIZE" "$r" "$t"
	done
	printf -v "U_$mode" '%s' "$(median "${times[@]}")"
}

echo "demo: without a PEP (end to end, cubic)"
measure nopep "$NOPEP_RUNS" || exit 1
echo "demo: with pepsal (initcwnd $PEP_INITCWND, $PEP_CC $PEP_CC_MODE, egress shaped: $PEP_SHAPE, send buffer $PEP_SNDBUF toward the client)"
pep_on || exit 1
measure pep "$RUNS" || exit 1
relayed=$(pep_relayed)
switched=$("$BUILD/pepsal-shm" --shm "$SHM_NAME" --json stats 2>/dev/null | python3 -c 'import json,sys
c = json.load(sys.stdin).get("counters", {})
print("%d switched to %s during a download, %d started on it" % (c.get("proxy.cc_adapted", 0),
      sys.argv[1], c.get("proxy.cc_started_lossy", 0)))' "$PEP_CC_LOSSY" 2>/dev/null || echo "?")
pep_off
for s in $SIZES; do printf -v "T_pair_$s" 'n/a'; done
U_pair=n/a
pair_note="the pair column is empty: $([ "${DEMO_PAIR:-auto}" = 0 ] && echo "DEMO_PAIR=0" ||
	echo "this pepsal has no --pair-role")."
if [ "$PAIR" = 1 ]; then
	echo "demo: with the pepsal pair (terminal in term, gateway in pep, pool of $PAIR_POOL; leg: initcwnd $PAIR_INITCWND initrwnd $PAIR_INITRWND, shaped: $PAIR_SHAPE${PAIR_CC:+, $PAIR_CC})"
	pair_on || exit 1
	measure pair "$RUNS" || exit 1
	pair_note="the pair's terminal carried $(pair_counter pair_used) connections over its pool, $(pair_counter pair_fallback_direct) fell back to a direct dial."
	pair_off
fi

human() { awk -v s="$1" 'BEGIN { if (s < 1e6) printf "%d kB", s / 1e3; else printf "%d MB", s / 1e6 }'; }
# cell T: "T s" or T as it is (n/a); gp SIZE T: goodput; up A B: A / B
cell() { awk -v t="$1" 'BEGIN { if (t + 0 > 0) printf "%5.2f s", t; else printf "%7s", t }'; }
gp() { awk -v s="$1" -v t="$2" 'BEGIN { if (t + 0 > 0) printf "%.2f", s * 8 / t / 1e6; else printf "-" }'; }
up() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2fx", a / b; else printf "-" }'; }
floor1() {
	awk -v s="$1" -v r="$RATE" -v rtt="$SAT_RTT_MS" 'BEGIN { printf "%.2f", rtt / 1000 + s * 8 / (r * 1e6) }'
}
{
	echo
	echo "GEO satellite link: ${SAT_RTT_MS} ms RTT, ${RATE} Mbit/s, 1-BDP buffer, $([ "$LOSS" = 0 ] && echo "no loss" || echo "$LOSS % random loss"); median of $RUNS runs$([ "$NOPEP_RUNS" = "$RUNS" ] || echo " (no PEP: $NOPEP_RUNS)")"
	printf '| %-6s | %-7s | %-7s | %-7s | %-11s | %-22s | %-15s |\n' size "no PEP" pepsal pair \
		"ideal 2/1" "goodput, Mbit/s" "speed-up"
	printf '|--------|---------|---------|---------|-------------|------------------------|-----------------|\n'
	for s in $SIZES; do
		n="T_nopep_$s" p="T_pep_$s" q="T_pair_$s"
		printf '| %-6s | %s | %s | %s | %4.2f / %4.2f | %6s / %6s / %6s | %6s / %6s |\n' \
			"$(human "$s")" "$(cell "${!n}")" "$(cell "${!p}")" "$(cell "${!q}")" \
			"$(ideal "$s")" "$(floor1 "$s")" "$(gp "$s" "${!n}")" "$(gp "$s" "${!p}")" \
			"$(gp "$s" "${!q}")" "$(up "${!n}" "${!p}")" "$(up "${!n}" "${!q}")"
	done
	[ "$UPSIZE" -gt 0 ] && printf '| %-6s | %s | %s | %s | %11s | %6s / %6s / %6s | %6s / %6s |\n' \
		"up $(human "$UPSIZE")" "$(cell "$U_nopep")" "$(cell "$U_pep")" "$(cell "$U_pair")" \
		"$(ideal_up "$UPSIZE")" "$(gp "$UPSIZE" "$U_nopep")" "$(gp "$UPSIZE" "$U_pep")" \
		"$(gp "$UPSIZE" "$U_pair")" "$(up "$U_nopep" "$U_pep")" "$(up "$U_nopep" "$U_pair")"
	echo
	[ "$UPSIZE" -gt 0 ] && echo "up: curl -T of $UPSIZE bytes to the server over the ${SAT_RETURN_RATE:-$RATE} Mbit/s return link; its ideal: 2 RTT + size / return rate."
	echo "time: curl's total (connect + request + body); goodput (no PEP / pepsal / pair) = size / time;"
	echo "ideal 2/1 = 2 RTT (handshake, request) + size / rate, and 1 RTT + size / rate: the pair's"
	echo "floor (the handshake stays on the terminal's side); speed-up of pepsal, of the pair over no PEP."
	echo "pepsal relayed $relayed connections; its satellite leg's congestion control: $switched."
	echo "$pair_note"
} | tee "$OUT/table.md"
if sat_plot "$OUT/sat-demo.png" "bytes received over time: ${SAT_RTT_MS} ms RTT, ${RATE} Mbit/s, loss ${LOSS} % (median runs)" "$OUT"; then
	echo "plot: $OUT/sat-demo.png"
fi
echo "table: $OUT/table.md"
