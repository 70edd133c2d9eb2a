#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What limits pepsal's satellite leg: one download through pepsal over the
# demo's link while `ss -ti` samples the PEP's socket toward the client
# every 100 ms (its congestion control and, on bbr, its model: bw, min RTT,
# pacing gain; cwnd, the client's advertised window snd_wnd, bytes in
# flight, rwnd_limited, retransmissions).
#   BUILD=$PWD/build bash tests/sat/ss-probe.sh [SIZE] [RATE] [LOSS] [std|initrwnd]
# The PEP_* variables of satrun.sh choose the settings, e.g.
#   PEP_INITCWND=1000 PEP_SHAPE=pacing bash tests/sat/ss-probe.sh 1000000
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/satlink.sh"
. "$(dirname "$0")/satrun.sh"
SIZE=${1:-1000000} RATE=${2:-20} LOSS=${3:-0} CLIENT=${4:-std}
[[ "$SIZE" =~ ^[0-9]+$ && "$RATE" =~ ^[0-9]+$ && "$LOSS" =~ ^[0-9.]+$ ]] ||
	{ echo "usage: $0 [SIZE] [RATE_MBIT] [LOSS_PCT] [std|initrwnd]" >&2; exit 2; }
case "$CLIENT" in std) rwnd= ;; initrwnd) rwnd=100 ;; *) echo "$0: std or initrwnd" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root" >&2; exit 2; }
sat_scenario "$RATE" "$LOSS" $rwnd || exit 1
pep_on || exit 1
fetch "$SIZE" "$TMP/series" >"$TMP/time" &
fpid=$!
t0=$(date +%s%N)
while kill -0 "$fpid" 2>/dev/null; do
	nsx "$NS_P" ss -tinH state connected "( sport = :5000 )" | tr -s ' \t' ' ' |
		awk -v t="$(( ($(date +%s%N) - t0) / 1000000 ))" 'NR % 2 == 0 {
			line = sprintf("%6d ms", t)
			n = split($0, f, " ")
			for (i = 1; i <= n; i++)
				if (f[i] ~ /^(cubic|bbr|reno)$/ || f[i] ~ /^bbr:/ ||
				    f[i] ~ /^(cwnd|ssthresh|snd_wnd|unacked|retrans|lost|bytes_acked|busy|rwnd_limited|sndbuf_limited|notsent):/)
					line = line " " f[i]
				else if (f[i] ~ /^(pacing_rate|delivery_rate)$/)
					line = line " " f[i] ":" f[i + 1]
			print line }'
	sleep 0.1
done
wait "$fpid"
echo "download of $SIZE bytes: $(cat "$TMP/time") s"
