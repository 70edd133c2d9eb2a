#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench-sat: the GEO scenario matrix of the design brief.
#   600 ms RTT, 1-BDP buffer; rates x losses x sizes, without a PEP, with
#   pepsal and with the pepsal pair, RUNS runs each; medians, the ideal, a
#   CSV and one PNG per scenario, written to OUT (default doc/sat).
# Options (make bench-sat BENCH_ARGS="..."):
#   --rates "10 20 50"     link rates, Mbit/s
#   --losses "0 0.1 1"     random loss per direction, percent
#   --sizes "100000 1000000 10000000"
#   --runs 5               runs per cell (median)
#   --client std|initrwnd  unmodified client, or route initrwnd 100 on it
#                          (and a 512 KB default receive buffer, without
#                          which this kernel still offers 64 KB)
#   --pep-cc adaptive|auto|cubic|bbr  pepsal's satellite leg: adaptive
#                          (default) = --client-cc-mode adaptive, one
#                          configuration for every row; auto = fixed cubic
#                          without loss, fixed bbr with loss; cubic, bbr fixed
#   --nopep-runs-lossy 1   runs of the no-PEP cells with loss (minutes each)
#   --budget 3600          seconds; cells that would start later are skipped
#   --no-nopep             no no-PEP column (left empty)
#   --modes "nopep pep pair"  the columns to measure (default: all three;
#                          pair only where pepsal has --pair-role)
#   --pair-cc bbr|auto|NAME  the pair leg's congestion control (--pair-cc
#                          on both ends; default bbr, every row); auto:
#                          cubic without loss, bbr with; "" pepsal's default
#   --pep-shape tbf|pacing|none  what keeps the satellite leg within the link
#                          rate (satrun.sh PEP_SHAPE; default tbf)
#   --pep-initcwnd 1000    initial window of the satellite leg, segments
#   --return-rate 2        Mbit/s of the return link (default: the forward rate)
#   --web "h1 h2"          page loads in headless Chromium (tests/sat/satweb.sh:
#                          40 objects, 2 MB, TLS) with HTTP/1.1, HTTP/2; "" none
#   --upload 5000000       uploads of this many bytes (curl -T); 0 none
#   --out DIR
# Runs through pepsal print when its satellite leg switched its congestion
# control (pepsal -v's "adaptive cc" lines: the connection's age, bytes
# acknowledged and cwnd at the switch), also in OUT/sat-bench-switch.csv.
# Long: the full matrix takes about 40 minutes (the no-PEP downloads at 1 %
# loss take minutes each, hence one run of them by default).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/satlink.sh"
. "$(dirname "$0")/satrun.sh"
. "$(dirname "$0")/satpair.sh"
. "$(dirname "$0")/plot.sh"
. "$(dirname "$0")/satweb.sh"
set -o pipefail

RATES="10 20 50" LOSSES="0 0.1 1" SIZES="100000 1000000 10000000" RUNS=5
CLIENT=std CC_MODE=adaptive OUT=$SRC/doc/sat NOPEP_RUNS_LOSSY=1 BUDGET=3600 MODES=
WEB="h1 h2" UPSIZE=5000000
PAIR_CC_MODE=$PAIR_CC
usage() { sed -n '3,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
bad() { echo "bench-sat: $*" >&2; echo "Try '$0 --help'." >&2; exit 2; }
numbers() { [[ "$2" =~ ^[0-9.\ ]+$ ]] || bad "$1 needs numbers, got '$2'"; }
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || case "$1" in -h|--help|--no-nopep) ;; *) bad "option '$1' needs a value" ;; esac
	case "$1" in
	--rates) numbers "$1" "$2"; RATES=$2 ;;
	--losses) numbers "$1" "$2"; LOSSES=$2 ;;
	--sizes) numbers "$1" "$2"; SIZES=$2 ;;
	--runs) [[ "$2" =~ ^[1-9][0-9]*$ ]] || bad "--runs needs a positive number, got '$2'"; RUNS=$2 ;;
	--client) case "$2" in std|initrwnd) CLIENT=$2 ;; *) bad "--client is std or initrwnd, got '$2'" ;; esac ;;
	--pep-cc) case "$2" in adaptive|auto|cubic|bbr) CC_MODE=$2 ;; *) bad "--pep-cc is adaptive, auto, cubic or bbr, got '$2'" ;; esac ;;
	--nopep-runs-lossy) [[ "$2" =~ ^[1-9][0-9]*$ ]] || bad "--nopep-runs-lossy needs a positive number, got '$2'"; NOPEP_RUNS_LOSSY=$2 ;;
	--budget) [[ "$2" =~ ^[1-9][0-9]*$ ]] || bad "--budget needs seconds, got '$2'"; BUDGET=$2 ;;
	--no-nopep) NONOPEP=1; shift; continue ;;
	--modes) [[ "$2" =~ ^((nopep|pep|pair)( |$))+$ ]] || bad "--modes lists nopep, pep, pair, got '$2'"
		MODES=$2 ;;
	--pair-cc) [[ "$2" =~ ^[a-z0-9]*$ ]] || bad "--pair-cc is auto or an algorithm, got '$2'"
		PAIR_CC_MODE=$2 ;;
	--pep-shape) case "$2" in tbf|pacing|none) PEP_SHAPE=$2 ;; *) bad "--pep-shape is tbf, pacing or none, got '$2'" ;; esac ;;
	--pep-initcwnd) [[ "$2" =~ ^[1-9][0-9]*$ ]] || bad "--pep-initcwnd needs a number, got '$2'"; PEP_INITCWND=$2 ;;
	--return-rate) [[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]] || bad "--return-rate needs Mbit/s, got '$2'"
		SAT_RETURN_RATE=$2 ;;
	--web) [[ "$2" =~ ^((h1|h2)( |$))*$ ]] || bad "--web lists h1, h2, got '$2'"; WEB=$2 ;;
	--upload) [[ "$2" =~ ^[0-9]+$ ]] || bad "--upload needs bytes, got '$2'"; UPSIZE=$2 ;;
	--out) OUT=$2 ;;
	-h|--help) usage; exit 0 ;;
	*) bad "unknown option '$1'" ;;
	esac
	shift 2
done
[ "$(id -u)" -eq 0 ] || { echo "bench-sat: run as root" >&2; exit 2; }
if [ -z "$MODES" ]; then
	MODES="nopep pep pair"
	"$BUILD/pepsal" --help 2>&1 | grep -q -- --pair-role ||
		{ MODES="nopep pep"; echo "# this pepsal has no --pair-role: no pair column" >&2; }
fi
[ -z "${NONOPEP:-}" ] || MODES=$(echo " $MODES " | sed 's/ nopep / /; s/^ *//; s/ *$//')
has_mode() { [[ " $MODES " == *" $1 "* ]]; }
mkdir -p "$OUT"
CSV=$OUT/sat-bench-$CLIENT.csv
[ -s "$CSV" ] || echo "date,rate_mbit,loss_pct,client,mode,pep_cc,pep_settings,size,run,seconds,loadavg1" >"$CSV"
# the page loads and uploads: their own CSV (the item instead of a size)
WCSV=$OUT/sat-bench-web.csv
[ -s "$WCSV" ] || echo "date,rate_mbit,return_mbit,loss_pct,mode,item,run,seconds,loadavg1" >"$WCSV"
SCSV=$OUT/sat-bench-switch.csv
[ -s "$SCSV" ] || echo "date,rate_mbit,loss_pct,item,run,seconds,switches" >"$SCSV"
ITEMS=$SIZES
for v in $WEB; do ITEMS="$ITEMS web_$v"; done
[ "$UPSIZE" = 0 ] || ITEMS="$ITEMS up_$UPSIZE"
# -v: pepsal logs each switch of its leg's congestion control
PEP_ARGS="${PEP_ARGS:+$PEP_ARGS }-v"
SETTINGS="initcwnd $PEP_INITCWND shape $PEP_SHAPE sndbuf $PEP_SNDBUF"
PAIR_SETTINGS="pool $PAIR_POOL initcwnd $PAIR_INITCWND initrwnd $PAIR_INITRWND shape $PAIR_SHAPE buffer $PAIR_BUFFER"
T_START=$(date +%s)
echo "# $(date -u +%FT%TZ) return link ${SAT_RETURN_RATE:-= forward} Mbit/s; items: $ITEMS; modes: $MODES; pepsal: $SETTINGS; pair: $PAIR_SETTINGS, cc $PAIR_CC_MODE; loadavg $(cut -d' ' -f1-3 /proc/loadavg)"

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# ratio A B: A / B, "-" unless both are measured
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else printf "-" }'; }
human() { awk -v s="$1" 'BEGIN { if (s < 1e6) printf "%d kB", s / 1e3; else printf "%d MB", s / 1e6 }'; }

sat_topo || exit 1
nsx "$NS_S" python3 "$SAT/httpd.py" --bind $SAT_S4 --port $HTTP_PORT --max 10000000 \
	>"$TMP/httpd.log" 2>&1 &
on_exit "kill $!"
wait_until 20 listening "$NS_S" $HTTP_PORT || { echo "bench-sat: httpd did not start" >&2; exit 1; }
if [ "$CLIENT" = initrwnd ]; then sat_client_initrwnd 100 || exit 1; fi
if [ -n "$WEB" ]; then web_on || { echo "bench-sat: the web server did not start" >&2; exit 1; }; fi

# item_name ITEM: the table's first column for ITEM
item_name() {
	case $1 in
	web_h1) echo "page HTTP/1.1" ;;
	web_h2) echo "page HTTP/2" ;;
	up_*) echo "upload $(human "${1#up_}")" ;;
	*) human "$1" ;;
	esac
}
# item_ideal ITEM: its ideal time ("-" for a page)
item_ideal() {
	case $1 in web_*) echo - ;; up_*) echo "$(ideal_up "${1#up_}") s" ;; *) echo "$(ideal "$1") s" ;; esac
}
# measure_item ITEM SERIES: one run of ITEM; prints seconds
measure_item() {
	case $1 in
	web_*) web_load "${1#web_}" ;;
	up_*) upload "${1#up_}" ;;
	*) fetch "$1" "$2" ;;
	esac
}
# switches_since LINE: the switches pepsal logged after line LINE of its log
switches_since() {
	tail -n +"$(($1 + 1))" "$TMP/pepsal.log" 2>/dev/null | sed -n -E \
		-e 's/.*adaptive cc: client socket [0-9]+: ([a-z0-9]+) at ([0-9.]+) s \(([0-9]+) bytes acked, cwnd ([0-9]+).*/\1 at \2 s (\3 B acked, cwnd \4)/p' \
		-e 's/.*adaptive cc: client socket [0-9]+: ([a-z0-9]+) from the start.*/started on \1 (the link lost packets lately)/p' |
		paste -sd';' -
}

TABLE=$OUT/sat-bench-$CLIENT.md
{
	echo "pepsal: $SETTINGS, cc as noted; pair: $PAIR_SETTINGS, cc as noted; $(date -u +%F), loadavg at start $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| rate | loss | size or item | no PEP | pepsal (cc) | pair (cc) | ideal | speed-up pepsal / pair | buffer drops pepsal / pair |"
	echo "|------|------|------|--------|-------------|-----------|-------|------------------------|----------------------------|"
} >"$TABLE"
for rate in $RATES; do
	for loss in $LOSSES; do
		if [ $(( $(date +%s) - T_START )) -ge "$BUDGET" ]; then
			echo "| $rate Mbit/s | $loss % | skipped: the --budget of $BUDGET s was spent | | | | | | |" | tee -a "$TABLE"
			continue
		fi
		SAT_RATE=$rate
		sat_link_stop
		sat_link_shape "$rate" || exit 1
		sat_link_start --realtime --delay "$((SAT_RTT_MS / 2))ms" --loss "$loss" \
			--seed "$RANDOM" || exit 1
		for a in $SAT_S4 $SAT_P4; do nsx "$NS_C" ping -c1 -W3 -q "$a" >/dev/null 2>&1; done
		PAIR_CC=$PAIR_CC_MODE
		[ "$PAIR_CC_MODE" = auto ] && { [ "$loss" = 0 ] && PAIR_CC=cubic || PAIR_CC=bbr; }
		PEP_CC=$CC_MODE PEP_CC_MODE=fixed
		[ "$CC_MODE" = auto ] && { [ "$loss" = 0 ] && PEP_CC=cubic || PEP_CC=bbr; }
		[ "$CC_MODE" = adaptive ] && PEP_CC=cubic PEP_CC_MODE=adaptive
		dir=$TMP/$rate-$loss
		mkdir -p "$dir"
		for mode in nopep pep pair; do
			for s in $ITEMS; do printf -v "M_${mode}_$s" nan; printf -v "D_${mode}_$s" -; done
			has_mode "$mode" || continue
			[ "$mode" = pep ] && { pep_on || exit 1; }
			[ "$mode" = pair ] && { pair_on || exit 1; }
			runs=$RUNS
			[ "$mode" = nopep ] && [ "$loss" != 0 ] && [ "$NOPEP_RUNS_LOSSY" -lt "$RUNS" ] &&
				runs=$NOPEP_RUNS_LOSSY
			case $mode in
			nopep) cc=, ;;
			pep) cc="$PEP_CC$([ "$PEP_CC_MODE" = adaptive ] && echo +adaptive),$SETTINGS" ;;
			pair) cc="${PAIR_CC:-default},$PAIR_SETTINGS" ;;
			esac
			for s in $ITEMS; do
				times=() drops=()
				for ((r = 1; r <= runs; r++)); do
					d0=$(sat_tbf_drops eth0) l0=$(cat "$TMP/pepsal.log" 2>/dev/null | wc -l)
					t=$(measure_item "$s" "$dir/$mode-$s.$r.dat") || t=nan
					# packets the link's 1-BDP buffer (toward the client) dropped
					d=$(( $(sat_tbf_drops eth0) - d0 ))
					times+=("$t") drops+=("$d")
					la=$(cut -d' ' -f1 /proc/loadavg) sw=
					case $s in
					web_*|up_*) echo "$(date -u +%FT%TZ),$rate,${SAT_RETURN_RATE:-$rate},$loss,$mode,$s,$r,$t,$la" >>"$WCSV" ;;
					*) echo "$(date -u +%FT%TZ),$rate,$loss,$CLIENT,$mode,$cc,$s,$r,$t,$la" >>"$CSV" ;;
					esac
					if [ "$mode" = pep ] && [ "$PEP_CC_MODE" = adaptive ]; then
						sw=$(switches_since "$l0")
						echo "$(date -u +%FT%TZ),$rate,$loss,$s,$r,$t,\"$sw\"" >>"$SCSV"
						sw=", cc: ${sw:-no switch}"
					fi
					printf '  %s Mbit/s %s %% %-5s %13s run %d: %s s, buffer drops %s%s (load %s)\n' "$rate" "$loss" \
						"$mode" "$s" "$r" "$t" "$d" "$sw" "$la"
				done
				printf -v "M_${mode}_$s" '%s' "$(median "${times[@]}")"
				printf -v "D_${mode}_$s" '%s' "$(median "${drops[@]}")"
				m="M_${mode}_$s"
				for ((r = 1; r <= runs; r++)); do
					[ "${times[r - 1]}" = "${!m}" ] && [ -s "$dir/$mode-$s.$r.dat" ] &&
						{ cp "$dir/$mode-$s.$r.dat" "$dir/$mode-$s.dat"; break; }
				done
			done
			[ "$mode" = pep ] && pep_off
			[ "$mode" = pair ] && pair_off
		done
		for s in $ITEMS; do
			n="M_nopep_$s" p="M_pep_$s" q="M_pair_$s" dp="D_pep_$s" dq="D_pair_$s"
			printf '| %s Mbit/s | %s %% | %s | %.2f s | %.2f s (%s) | %.2f s (%s) | %s | %s / %s | %s / %s |\n' \
				"$rate${SAT_RETURN_RATE:+ / $SAT_RETURN_RATE}" "$loss" "$(item_name "$s")" "${!n}" "${!p}" "$CC_MODE" \
				"${!q}" "${PAIR_CC:-default}" "$(item_ideal "$s")" "$(ratio "${!n}" "${!p}")" \
				"$(ratio "${!n}" "${!q}")" "${!dp}" "${!dq}" |
				tee -a "$TABLE"
		done
		[ "$SIZES" = "100000 1000000 10000000" ] &&
			sat_plot "$OUT/sat-$CLIENT-${rate}mbit-loss$loss.png" \
				"$rate Mbit/s, 600 ms RTT, 1-BDP buffer, loss $loss %, client $CLIENT (median runs)" "$dir"
	done
done
echo "bench-sat: $TABLE, $CSV, $WCSV, $SCSV, plots in $OUT"
