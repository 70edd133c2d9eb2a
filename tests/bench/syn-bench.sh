#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Queuer benchmark (make bench-queuer, as root): SYNs per second that
# pepsal-queuer records, and the latency it adds to a SYN.
# client ─ router (NFQUEUE rule, pepsal-queuer) ─ server; tests/synflood
# sends SYNs from the client namespace and captures them in the server one
# (where a raw-table rule drops them after capture, so nobody answers).
# Each figure is the median of RUNS runs; the same runs without the queue
# (plain forwarding) are the peer: the limit of generator + forwarding.
# QUEUES="1 2" (default): the queuer runs once with one queue, once with two
# (one pepsal-queuer per queue, NFQUEUE --queue-balance 0:1), rounds
# interleaved so both see the same machine; the ratio is recorded SYN/s with
# the most queues over one.
#   RUNS=3 SECONDS_PER_RUN=3 LAT_RATE=2000 QUEUES="1 2" bash tests/bench/syn-bench.sh
# PERF_OUT=FILE records a perf profile of the queuer during the first run
# (FILE.N for N queues); QUEUER_OPTS: more pepsal-queuer options ("--nice 0").
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd iptables
RUNS=${RUNS:-3} SECS=${SECONDS_PER_RUN:-3} LAT_RATE=${LAT_RATE:-2000} QUEUES=${QUEUES:-1 2}
Q=$BUILD/pepsal-queuer FLOOD=$BUILD/tests/synflood HB=$BUILD/tests/syn-heartbeat
for p in "$Q" "$FLOOD" "$HB"; do [ -x "$p" ] || skip_all "missing $p (make first)"; done

topo_three || exit 1
nsx "$NS_S" iptables -t raw -A PREROUTING -p tcp --dport 9 -j DROP
# resolve neighbours first so the first SYNs do not wait for ARP
nsx "$NS_C" ping -c1 -W1 $S4 >/dev/null 2>&1 || true

QPIDS= HBPID=
on_exit 'kill $QPIDS $HBPID'
queuer_up() { # N: queuers on queues 0 to N-1
	local q
	rm -f "/dev/shm/${SHM_NAME#/}"
	for ((q = 0; q < $1; q++)); do
		ip netns exec "$NS_R" "$Q" --shm "$SHM_NAME" --create --capacity 1048576 --queue $q ${QUEUER_OPTS:-} \
			>>"$TMP/queuer.log" 2>&1 &
		QPIDS="$QPIDS $!"
		wait_until 5 eval "nsx $NS_R cat /proc/net/netfilter/nfnetlink_queue | grep -q '^ *$q '" ||
			{ echo "queuer did not start:"; cat "$TMP/queuer.log"; exit 1; }
	done
	QPID=${QPIDS# }; QPID=${QPID%% *}
	"$HB" --shm "$SHM_NAME" & HBPID=$!
	wait_until 5 eval "$BUILD/pepsal-shm --shm $SHM_NAME --json stats | grep -q '\"proxy\":{\"pid\":$HBPID'"
}
queuer_down() {
	kill $HBPID; wait $HBPID 2>/dev/null
	kill $QPIDS; wait $QPIDS 2>/dev/null
	QPIDS= HBPID=
}
rule() { # -A|-D N
	local target="--queue-num 0"
	[ "$2" -gt 1 ] && target="--queue-balance 0:$(($2 - 1))"
	nsx "$NS_R" iptables -t mangle "$1" PREROUTING -p tcp --syn -j NFQUEUE $target --queue-bypass
}
flood() { "$FLOOD" --tx-netns "$NS_C" --rx-netns "$NS_S" "$@"; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A res
# cpu_ticks PID...: user + system clock ticks of those processes so far
cpu_ticks() {
	local p t=0
	for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
	echo $t
}
one_run() { # MODE [N] RUN: direct, or queuer with N queues
	local mode=$1 n=${2:-} i=$3 out key=$1${2:-}
	if [ "$mode" = queuer ]; then rule -A "$n"; queuer_up "$n"; fi
	local perf=
	if [ "$mode" = queuer ] && [ "$i" -eq 0 ] && [ -n "${PERF_OUT:-}" ]; then
		perf record -q -g -o "$PERF_OUT.$n" -p "$QPID" >/dev/null 2>&1 & perf=$!
	fi
	local c0; c0=$(cpu_ticks $QPIDS)
	out=$(flood --duration ${SECS}s ${QPIDS:+--shm $SHM_NAME})
	if [ -n "$perf" ]; then kill -INT $perf; wait $perf; fi
	[ -z "$QPIDS" ] || out="$out queuer_cpu_pct=$(( ($(cpu_ticks $QPIDS) - c0) * 100 / $(getconf CLK_TCK) / SECS ))"
	echo "# $key throughput run $i: $out"
	res[$key.tput]+="$out"$'\n'
	out=$(flood --duration 2s --rate $LAT_RATE --batch 1 ${QPIDS:+--shm $SHM_NAME})
	echo "# $key latency run $i: $out"
	res[$key.lat]+="$out"$'\n'
	if [ "$mode" = queuer ]; then queuer_down; rule -D "$n"; fi
}
for ((i = 0; i < RUNS; i++)); do
	one_run direct "" $i
	for n in $QUEUES; do one_run queuer "$n" $i; done
done

m() { echo -n "${res[$1]}" | while read -r l; do echo "$l" | field "$2"; done | median; }
d_sent=$(m direct.tput sent_pps) d_l50=$(m direct.lat lat_p50_us) d_l99=$(m direct.lat lat_p99_us)
echo "queuer SYN benchmark: $(nproc) CPUs, $(uname -r), runs=$RUNS, median of each figure"
echo "  direct forwarding (peer):  generator sent ${d_sent} SYN/s"
first= last=
for n in $QUEUES; do
	k=queuer$n
	q_sent=$(m $k.tput sent_pps) q_rec=$(m $k.tput stored_pps)
	q_lost=$(m $k.tput lost) q_pk=$(m $k.tput q_packets) q_s=$(m $k.tput sent)
	q_l50=$(m $k.lat lat_p50_us) q_l99=$(m $k.lat lat_p99_us)
	q_lrec=$(m $k.lat q_stored) q_lsent=$(m $k.lat sent) q_cpu=$(m $k.tput queuer_cpu_pct)
	[ -n "$first" ] || first=$q_rec
	last=$q_rec
	cat <<EOT
  pepsal-queuer, $n queue(s): generator sent ${q_sent} SYN/s, queuers recorded ${q_rec} SYN/s
                             queued ${q_pk} of ${q_s} sent (rest bypassed, fail-open), lost ${q_lost}
                             the queuers used ${q_cpu} % of one CPU (sum)
  ratio recorded/direct:     $(awk -v a="$q_rec" -v b="$d_sent" 'BEGIN { printf "%.2f", a / b }')
  latency at ${LAT_RATE} SYN/s:   direct p50 ${d_l50} us p99 ${d_l99} us; queuer p50 ${q_l50} us p99 ${q_l99} us
                             added p50 $((q_l50 - d_l50)) us (recorded ${q_lrec} of ${q_lsent})
EOT
done
set -- $QUEUES
[ $# -lt 2 ] || echo "  recorded SYN/s, $(eval echo \${$#}) queues over $1: $(awk -v a="$last" -v b="$first" 'BEGIN { printf "%.2f", a / b }')"
