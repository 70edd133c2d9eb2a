#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Compare settings of pepsal's satellite leg on one scenario, in one run:
# every variant downloads every size RUNS times (variants interleaved run by
# run, so load drifts hit them alike); prints the medians and appends every
# run to a CSV.
#   BUILD=$PWD/build bash tests/sat/tune.sh [options] VARIANT...
#     --rate 20 --loss 0 --client std|initrwnd --runs 5
#     --sizes "100000 1000000 10000000" --csv FILE
#   VARIANT: nopep, or LABEL:VAR=VALUE,VAR=VALUE with the PEP_* variables of
#   satrun.sh, e.g.  base:PEP_INITCWND=100  tbf:PEP_INITCWND=1000,PEP_SHAPE=tbf;
#   a LABEL that starts with "pair" runs the pepsal pair with the PAIR_*
#   variables of satpair.sh, e.g.  pair  pair-cubic:PAIR_CC=cubic  pair-cold:PAIR_POOL=0
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/satlink.sh"
. "$(dirname "$0")/satrun.sh"
. "$(dirname "$0")/satpair.sh"
set -o pipefail
RATE=20 LOSS=0 CLIENT=std RUNS=5 SIZES="100000 1000000 10000000" CSV=
while [ $# -gt 0 ]; do
	case "$1" in
	--rate) RATE=$2; shift 2 ;;
	--loss) LOSS=$2; shift 2 ;;
	--client) CLIENT=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--sizes) SIZES=$2; shift 2 ;;
	--csv) CSV=$2; shift 2 ;;
	-h|--help) sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "tune: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "tune: no variant" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "tune: run as root" >&2; exit 2; }
case "$CLIENT" in std) rwnd= ;; initrwnd) rwnd=100 ;; *) echo "tune: std or initrwnd" >&2; exit 2 ;; esac
[ -z "$CSV" ] || [ -s "$CSV" ] ||
	echo "date,rate_mbit,loss_pct,client,variant,settings,size,run,seconds,buffer_drops,loadavg1" >"$CSV"

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# apply VARIANT: set the PEP_* and PAIR_* variables (defaults first), start
# pepsal or the pair
apply() {
	local v=$1 kv
	PEP_INITCWND=100 PEP_CC=cubic PEP_CC_MODE=fixed PEP_CC_LOSSY=bbr PEP_SNDBUF=4m PEP_SHAPE=none PEP_SHAPE_RATE= PEP_TIMESTAMPS=1 PEP_SSAI=1
	PAIR_POOL=16 PAIR_INITCWND=1000 PAIR_INITRWND=1000 PAIR_BUFFER=16777216 PAIR_CC=bbr PAIR_SHAPE=tbf
	[ "$v" = nopep ] && return 0
	[[ "$v" == *:* ]] && IFS=, read -r -a kv <<<"${v#*:}" || kv=()
	for a in "${kv[@]}"; do
		[[ "$a" =~ ^PEP_[A-Z_]+=[^\ ]*$|^PAIR_[A-Z_]+=[^\ ]*$ ]] ||
			{ echo "tune: bad setting $a" >&2; return 1; }
		printf -v "${a%%=*}" '%s' "${a#*=}"
	done
	case $v in pair*) pair_on ;; *) pep_on ;; esac
}

sat_scenario "$RATE" "$LOSS" $rwnd || exit 1
echo "# $(date -u +%FT%TZ) rate $RATE loss $LOSS client $CLIENT runs $RUNS loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A T D
for ((r = 1; r <= RUNS; r++)); do
	for v in "$@"; do
		apply "$v" || exit 1
		for s in $SIZES; do
			d0=$(sat_tbf_drops eth0)
			t=$(fetch "$s" "$TMP/series") || t=nan
			# packets the link's 1-BDP buffer (sat's tbf toward the client) dropped
			d=$(( $(sat_tbf_drops eth0) - d0 ))
			T[$v,$s]+="$t "
			D[$v,$s]+="$d "
			la=$(cut -d' ' -f1 /proc/loadavg)
			printf '  run %d %-28s %8s %7s s  buffer drops %4s  (load %s)\n' "$r" "${v%%:*}" "$s" "$t" "$d" "$la"
			[ -z "$CSV" ] || echo "$(date -u +%FT%TZ),$RATE,$LOSS,$CLIENT,${v%%:*},\"${v#*:}\",$s,$r,$t,$d,$la" >>"$CSV"
		done
		case $v in nopep) ;; pair*) pair_off ;; *) pep_off ;; esac
	done
done
echo "# medians of $RUNS runs, rate $RATE loss $LOSS client $CLIENT, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
for v in "$@"; do
	line=$(printf '%-28s' "${v%%:*}") drops=
	for s in $SIZES; do
		# shellcheck disable=SC2086
		line+=$(printf ' %8s' "$(median ${T[$v,$s]})")
		# shellcheck disable=SC2086
		drops+=" $(median ${D[$v,$s]})"
	done
	echo "$line    drops:$drops  ${v#*:}"
done
