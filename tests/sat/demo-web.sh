#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo-web: a satellite user's day (issue 26). Headless Chromium in the
# client namespace loads a test page (tests/sat/webpage.py: an HTML page and
# 39 objects, style sheets, scripts, images, about 2 MB) from nginx over TLS
# in the server namespace, across the demo's GEO link
#   client ─ term ─[600 ms RTT, 20 Mbit/s, 1-BDP buffer]─ pep ─ server
# with HTTP/1.1 and with HTTP/2, in three columns as make demo: no PEP,
# pepsal (a single pepsal in pep), pair (the pepsal pair, term and pep).
# Each load starts a fresh browser profile (no cache, no TLS session); the
# time is the browser's own, from navigation start to the load event
# (Navigation Timing); every load checks that every object arrived whole.
# Then uploads of DEMO_UPLOAD bytes (default 5 MB; 0: none) by curl -T.
# Prints a table, writes it and a PNG to DEMO_OUT (default $BUILD/demo).
#   DEMO_RUNS=3         loads per column and HTTP version (median)
#   DEMO_RETURN_RATE=2  Mbit/s of the return link (default: the forward rate)
#   DEMO_RATE=20 DEMO_LOSS=0 DEMO_PAIR=auto|0|1 DEMO_UPLOAD=5000000
# Everything it creates lives in namespaces removed on every exit path.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/satlink.sh"
. "$(dirname "$0")/satrun.sh"
. "$(dirname "$0")/satpair.sh"
. "$(dirname "$0")/satweb.sh"
set -o pipefail
RUNS=${DEMO_RUNS:-3}
RATE=${DEMO_RATE:-20}
LOSS=${DEMO_LOSS:-0}
OUT=${DEMO_OUT:-$BUILD/demo}
PAIR=${DEMO_PAIR:-auto}
UPSIZE=${DEMO_UPLOAD:-5000000}
SAT_RETURN_RATE=${DEMO_RETURN_RATE:-}

[ "$(id -u)" -eq 0 ] || { echo "demo-web: run as root (namespaces, iptables)" >&2; exit 2; }
case "$RUNS" in ''|*[!0-9]*|0) echo "demo-web: DEMO_RUNS must be a positive number" >&2; exit 2 ;; esac
case "$UPSIZE" in ''|*[!0-9]*) echo "demo-web: DEMO_UPLOAD must be a number of bytes" >&2; exit 2 ;; esac
[[ "$LOSS" =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v l="$LOSS" 'BEGIN { exit !(l < 100) }' ||
	{ echo "demo-web: DEMO_LOSS must be a percentage below 100" >&2; exit 2; }
[ -z "$SAT_RETURN_RATE" ] || [[ "$SAT_RETURN_RATE" =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
	{ echo "demo-web: DEMO_RETURN_RATE must be Mbit/s, e.g. 2" >&2; exit 2; }
for p in pepsal pepsal-queuer pepsal-shm pepsal-linkem; do
	[ -x "$BUILD/$p" ] || { echo "demo-web: $BUILD/$p is missing: run make first" >&2; exit 1; }
done
command -v chromium >/dev/null 2>&1 || { echo "demo-web: no chromium (make deps installs it)" >&2; exit 1; }
case "$PAIR" in
auto) PAIR=0; "$BUILD/pepsal" --help 2>&1 | grep -q -- --pair-role && PAIR=1 ;;
0|1) ;;
*) echo "demo-web: DEMO_PAIR is auto, 0 or 1" >&2; exit 2 ;;
esac
MODES="nopep pep"
[ "$PAIR" = 1 ] && MODES="nopep pep pair"
mkdir -p "$OUT"

RET=${SAT_RETURN_RATE:-$RATE}
echo "demo-web: client ─ term ─[${SAT_RTT_MS} ms RTT, ${RATE} Mbit/s forward, ${RET} Mbit/s return, 1-BDP buffers, ${LOSS} % loss]─ pep ─ server (namespaces *-$ID)"
sat_scenario "$RATE" "$LOSS" || { echo "demo-web: setting up the link failed" >&2; exit 1; }
web_on || { echo "demo-web: the web server did not start" >&2; exit 1; }
echo "demo-web: the page: $(cat "$TMP/web/page.log"), nginx over TLS (HTTP/2 on :$WEB_PORT_H2, HTTP/1.1 on :$WEB_PORT_H1)"

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# measure MODE: RUNS page loads per HTTP version (interleaved), RUNS uploads;
# sets W_MODE_h1, W_MODE_h2, U_MODE (medians)
measure() {
	local mode=$1 r v t h1=() h2=() up=()
	for ((r = 1; r <= RUNS; r++)); do
		for v in h1 h2; do
			t=$(web_load "$v") || return 1
			printf '  %-6s %s run %d: %6.2f s to the load event, %s objects, %s bytes, all arrived: %s\n' \
				"$mode" "$([ $v = h1 ] && echo HTTP/1.1 || echo HTTP/2  )" "$r" "$t" \
				"$(web_field objects)" "$(web_field bytes)" "$(web_field ok)"
			[ "$v" = h1 ] && h1+=("$t") || h2+=("$t")
		done
	done
	printf -v "W_${mode}_h1" '%s' "$(median "${h1[@]}")"
	printf -v "W_${mode}_h2" '%s' "$(median "${h2[@]}")"
	printf -v "U_$mode" 'n/a'
	[ "$UPSIZE" -gt 0 ] || return 0
	for ((r = 1; r <= RUNS; r++)); do
		t=$(upload "$UPSIZE") || return 1
		printf '  %-6s upload %s bytes run %d: %6.2f s\n' "$mode" "$UPSIZE" "$r" "$t"
		up+=("$t")
	done
	printf -v "U_$mode" '%s' "$(median "${up[@]}")"
}

for mode in nopep pep pair; do printf -v "W_${mode}_h1" 'n/a'; printf -v "W_${mode}_h2" 'n/a'; printf -v "U_$mode" 'n/a'; done
echo "demo-web: without a PEP"
measure nopep || exit 1
echo "demo-web: with pepsal"
pep_on || exit 1
measure pep || exit 1
pep_off
if [ "$PAIR" = 1 ]; then
	echo "demo-web: with the pepsal pair"
	pair_on || exit 1
	measure pair || exit 1
	pair_note="the pair's terminal carried $(pair_counter pair_used) connections over its pool, $(pair_counter pair_fallback_direct) fell back to a direct dial."
	pair_off
else
	pair_note="the pair column is empty: $([ "${DEMO_PAIR:-auto}" = 0 ] && echo "DEMO_PAIR=0" || echo "this pepsal has no --pair-role")."
fi

cell() { awk -v t="$1" 'BEGIN { if (t + 0 > 0) printf "%6.2f s", t; else printf "%8s", t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else printf "-" }'; }
{
	echo
	echo "GEO satellite link: ${SAT_RTT_MS} ms RTT, ${RATE} Mbit/s forward, ${RET} Mbit/s return, 1-BDP buffers, $([ "$LOSS" = 0 ] && echo "no loss" || echo "$LOSS % random loss"); median of $RUNS runs, $(date -u +%F)"
	printf '| %-28s | %-8s | %-8s | %-8s | %-15s |\n' "" "no PEP" pepsal pair "pepsal / pair"
	printf '|------------------------------|----------|----------|----------|-----------------|\n'
	for v in h1 h2; do
		n="W_nopep_$v" p="W_pep_$v" q="W_pair_$v"
		printf '| %-28s | %s | %s | %s | %6s / %6s |\n' \
			"page load, $([ $v = h1 ] && echo HTTP/1.1 || echo HTTP/2)" "$(cell "${!n}")" "$(cell "${!p}")" \
			"$(cell "${!q}")" "$(ratio "${!p}" "${!n}")" "$(ratio "${!q}" "${!n}")"
	done
	if [ "$UPSIZE" -gt 0 ]; then
		printf '| %-28s | %s | %s | %s | %6s / %6s |\n' \
			"upload $(awk -v s="$UPSIZE" 'BEGIN { printf "%g MB", s / 1e6 }') (curl -T)" "$(cell "$U_nopep")" \
			"$(cell "$U_pep")" "$(cell "$U_pair")" "$(ratio "$U_pep" "$U_nopep")" "$(ratio "$U_pair" "$U_nopep")"
	fi
	echo
	echo "page load: navigation start to the load event in headless Chromium, a fresh profile each time"
	echo "($(cat "$TMP/web/page.log"), TLS 1.3); ratios: time against no PEP (lower is faster)."
	[ "$UPSIZE" -gt 0 ] && echo "upload: curl -T's total time; the return link alone needs $(ideal_up "$UPSIZE") s (2 RTT + size / rate)."
	echo "$pair_note"
} | tee "$OUT/web-table.md"

{
	echo "# column HTTP/1.1 HTTP/2"
	for mode in $MODES; do
		h1="W_${mode}_h1" h2="W_${mode}_h2"
		echo "\"$(case $mode in nopep) echo no PEP ;; pep) echo pepsal ;; pair) echo pair ;; esac)\" ${!h1} ${!h2}"
	done
} >"$OUT/web.dat"
if command -v gnuplot >/dev/null 2>&1 && gnuplot <<EOF_GP; then echo "plot: $OUT/sat-demo-web.png"; fi
set terminal pngcairo size 900,480 font ",10" noenhanced
set output "$OUT/sat-demo-web.png"
set title "page load (40 objects, 2 MB, TLS) in headless Chromium: ${SAT_RTT_MS} ms RTT, ${RATE} Mbit/s, loss ${LOSS} % (median of $RUNS)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "seconds to the load event"
set yrange [0:*]
set grid ytics
set key left top
plot "$OUT/web.dat" using 2:xtic(1) title "HTTP/1.1", "" using 3 title "HTTP/2"
EOF_GP
echo "table: $OUT/web-table.md"
