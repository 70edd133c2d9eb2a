#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: pepsal over an emulated GEO satellite link.
#   client ─[600 ms RTT, 20 Mbit/s, 1-BDP buffer]─ pep ─ server
# Downloads 100 kB, 1 MB and 10 MB with curl, without and with pepsal
# (median of DEMO_RUNS runs, default 3), prints a table and writes a PNG of
# bytes received over time. DEMO_LOSS=1 (percent, per direction) shows a
# lossy link; there the downloads without a PEP run once (they take minutes).
# Endpoints run cubic; pepsal's satellite leg has an initial window of 1000
# segments and its egress shaped at the link rate (pepsal-iptables
# --initcwnd 1000 --shape), a 4 MB send buffer and the adaptive congestion
# control (cubic, bbr while the link loses packets at random): the settings
# measured by tests/sat/tune.sh and make bench-sat (doc/benchmarks.md).
# Everything it creates lives in namespaces removed on every exit path.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/satlink.sh"
. "$(dirname "$0")/satrun.sh"
. "$(dirname "$0")/plot.sh"
set -o pipefail
RUNS=${DEMO_RUNS:-3}
RATE=${DEMO_RATE:-20}
LOSS=${DEMO_LOSS:-0}
OUT=${DEMO_OUT:-$BUILD/demo}
SIZES="100000 1000000 10000000"  # decimal, as the ideal times of the design brief

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (namespaces, iptables)" >&2; exit 2; }
case "$RUNS" in ''|*[!0-9]*|0) echo "demo: DEMO_RUNS must be a positive number" >&2; exit 2 ;; esac
[[ "$LOSS" =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v l="$LOSS" 'BEGIN { exit !(l < 100) }' ||
	{ echo "demo: DEMO_LOSS must be a percentage below 100, e.g. 1 or 0.1" >&2; exit 2; }
NOPEP_RUNS=$RUNS
[ "$LOSS" = 0 ] || NOPEP_RUNS=1
for p in pepsal pepsal-queuer pepsal-shm pepsal-linkem; do
	[ -x "$BUILD/$p" ] || { echo "demo: $BUILD/$p is missing: run make first" >&2; exit 1; }
done
mkdir -p "$OUT"

echo "demo: client ─[${SAT_RTT_MS} ms RTT, ${RATE} Mbit/s, 1-BDP buffer, ${LOSS} % loss]─ pep ─ server (namespaces *-$ID)"
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

human() { awk -v s="$1" 'BEGIN { if (s < 1e6) printf "%d kB", s / 1e3; else printf "%d MB", s / 1e6 }'; }
gp() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%.2f", s * 8 / t / 1e6 }'; }
{
	echo
	echo "GEO satellite link: ${SAT_RTT_MS} ms RTT, ${RATE} Mbit/s, 1-BDP buffer, $([ "$LOSS" = 0 ] && echo "no loss" || echo "$LOSS % random loss"); median of $RUNS runs$([ "$NOPEP_RUNS" = "$RUNS" ] || echo " (no PEP: $NOPEP_RUNS)")"
	printf '| %-6s | %-7s | %-13s | %-7s | %-13s | %-7s | %-8s |\n' size "no PEP" goodput \
		pepsal goodput ideal speed-up
	printf '|--------|---------|---------------|---------|---------------|---------|----------|\n'
	for s in $SIZES; do
		n="T_nopep_$s" p="T_pep_$s"
		printf '| %-6s | %5.2f s | %6s Mbit/s | %5.2f s | %6s Mbit/s | %5.2f s | %6.2fx  |\n' \
			"$(human "$s")" "${!n}" "$(gp "$s" "${!n}")" "${!p}" "$(gp "$s" "${!p}")" \
			"$(ideal "$s")" "$(awk -v a="${!n}" -v b="${!p}" 'BEGIN { print a / b }')"
	done
	echo
	echo "time: curl's total (connect + request + body); goodput = size / time;"
	echo "ideal = 2 RTT (handshake, request) + size / rate. pepsal relayed $relayed connections;"
	echo "its satellite leg's congestion control: $switched."
} | tee "$OUT/table.md"
if sat_plot "$OUT/sat-demo.png" "bytes received over time: ${SAT_RTT_MS} ms RTT, ${RATE} Mbit/s, loss ${LOSS} % (median runs)" "$OUT"; then
	echo "plot: $OUT/sat-demo.png"
fi
echo "table: $OUT/table.md"
