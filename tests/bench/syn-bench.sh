#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Queuer benchmark (make bench-queuer, as root): SYNs per second that
# pepsal-queuer records, and the latency it adds to a SYN.
# client ─ router (NFQUEUE rule, pepsal-queuer) ─ server; tests/synflood
# sends SYNs from the client namespace and captures them in the server one
# (where a raw-table rule drops them after capture, so nobody answers).
# Each figure is the median of RUNS runs; the same runs without the queue
# (plain forwarding) are the peer: the limit of generator + forwarding.
#   RUNS=3 SECONDS_PER_RUN=3 LAT_RATE=2000 bash tests/bench/syn-bench.sh
# PERF_OUT=FILE records a perf profile of the queuer during the first run.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd iptables
RUNS=${RUNS:-3} SECS=${SECONDS_PER_RUN:-3} LAT_RATE=${LAT_RATE:-2000}
Q=$BUILD/pepsal-queuer FLOOD=$BUILD/tests/synflood HB=$BUILD/tests/syn-heartbeat
for p in "$Q" "$FLOOD" "$HB"; do [ -x "$p" ] || skip_all "missing $p (make first)"; done

topo_three || exit 1
nsx "$NS_S" iptables -t raw -A PREROUTING -p tcp --dport 9 -j DROP
# resolve neighbours first so the first SYNs do not wait for ARP
nsx "$NS_C" ping -c1 -W1 $S4 >/dev/null 2>&1 || true

QPID= HBPID=
on_exit 'kill $QPID $HBPID'
queuer_up() {
	rm -f "/dev/shm/${SHM_NAME#/}"
	ip netns exec "$NS_R" "$Q" --shm "$SHM_NAME" --create --capacity 1048576 \
		>>"$TMP/queuer.log" 2>&1 &
	QPID=$!
	wait_until 5 eval "nsx $NS_R cat /proc/net/netfilter/nfnetlink_queue | grep -q '^ *0 '" ||
		{ echo "queuer did not start:"; cat "$TMP/queuer.log"; exit 1; }
	"$HB" --shm "$SHM_NAME" & HBPID=$!
	wait_until 5 eval "$BUILD/pepsal-shm --shm $SHM_NAME --json stats | grep -q '\"proxy\":{\"pid\":$HBPID'"
}
queuer_down() {
	kill $HBPID; wait $HBPID 2>/dev/null
	kill $QPID; wait $QPID 2>/dev/null
	QPID= HBPID=
}
rule() { nsx "$NS_R" iptables -t mangle "$1" PREROUTING -p tcp --syn -j NFQUEUE --queue-num 0 --queue-bypass; }
flood() { "$FLOOD" --tx-netns "$NS_C" --rx-netns "$NS_S" "$@"; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A res
run_mode() { # MODE: direct | queuer
	local i out
	for ((i = 0; i < RUNS; i++)); do
		if [ "$1" = queuer ]; then queuer_up; fi
		local perf=
		if [ "$1" = queuer ] && [ $i -eq 0 ] && [ -n "${PERF_OUT:-}" ]; then
			perf record -q -g -o "$PERF_OUT" -p $QPID >/dev/null 2>&1 & perf=$!
		fi
		out=$(flood --duration ${SECS}s ${QPID:+--shm $SHM_NAME})
		if [ -n "$perf" ]; then kill -INT $perf; wait $perf; fi
		echo "# $1 throughput run $i: $out"
		res[$1.tput]+="$out"$'\n'
		out=$(flood --duration 2s --rate $LAT_RATE --batch 1 ${QPID:+--shm $SHM_NAME})
		echo "# $1 latency run $i: $out"
		res[$1.lat]+="$out"$'\n'
		if [ "$1" = queuer ]; then queuer_down; fi
	done
}
run_mode direct
rule -A
run_mode queuer
rule -D

m() { echo -n "${res[$1]}" | while read -r l; do echo "$l" | field "$2"; done | median; }
d_sent=$(m direct.tput sent_pps) d_recv=$(m direct.tput received)
q_sent=$(m queuer.tput sent_pps) q_rec=$(m queuer.tput stored_pps)
q_lost=$(m queuer.tput lost) q_pk=$(m queuer.tput q_packets) q_s=$(m queuer.tput sent)
d_l50=$(m direct.lat lat_p50_us) d_l99=$(m direct.lat lat_p99_us)
q_l50=$(m queuer.lat lat_p50_us) q_l99=$(m queuer.lat lat_p99_us)
q_lrec=$(m queuer.lat q_stored) q_lsent=$(m queuer.lat sent)
cat <<EOT
queuer SYN benchmark: $(nproc) CPUs, $(uname -r), runs=$RUNS, median of each figure
  direct forwarding (peer):  generator sent ${d_sent} SYN/s
  through pepsal-queuer:     generator sent ${q_sent} SYN/s, queuer recorded ${q_rec} SYN/s
                             queued ${q_pk} of ${q_s} sent (rest bypassed, fail-open), lost ${q_lost}
  ratio recorded/direct:     $(awk -v a="$q_rec" -v b="$d_sent" 'BEGIN { printf "%.2f", a / b }')
  latency at ${LAT_RATE} SYN/s:   direct p50 ${d_l50} us p99 ${d_l99} us; queuer p50 ${q_l50} us p99 ${q_l99} us
                             added p50 $((q_l50 - d_l50)) us (recorded ${q_lrec} of ${q_lsent})
EOT
