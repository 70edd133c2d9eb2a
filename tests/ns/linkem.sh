#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-linkem, the satellite link emulator, is never the bottleneck:
# ping RTT at a 600 ms setting within 2 %, TCP bulk (paced sender) at >= 90 %
# of the set rate at 20 and 50 Mbit/s with a 1-BDP buffer, set loss measured within
# tolerance (random and Gilbert-Elliott bursts), no packet dropped by the
# emulator itself (kernel queue, netlink, its own ring).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../sat/satlink.sh"
need_root
need_cmd iptables tc ping iperf3 ethtool
[ -x "$BUILD/pepsal-linkem" ] || skip_all "no $BUILD/pepsal-linkem (make first)"

# ---- bad options: clear message, exit status 2
"$BUILD/pepsal-linkem" --loss 101 2>"$TMP/err"
check "--loss 101 is refused with status 2" test $? -eq 2
check "... and the message names the option" grep -q -- "--loss" "$TMP/err"
"$BUILD/pepsal-linkem" --ge 5 2>/dev/null
check "--ge without R is refused with status 2" test $? -eq 2
"$BUILD/pepsal-linkem" --delay 3parsecs 2>/dev/null
check "--delay 3parsecs is refused with status 2" test $? -eq 2

sat_topo || { not_ok "topology"; finish; }
# the endpoints' buffers must not limit a 50 Mbit/s x 600 ms transfer
for ns in "$NS_C" "$NS_S"; do
	nsx "$ns" sysctl -qw net.ipv4.tcp_rmem="4096 131072 33554432" \
		net.ipv4.tcp_wmem="4096 16384 33554432"
done

# emulator_clean: no overflow of its ring, no kernel queue drops, no
# verdict errors, releases on time: on average within 1 ms, the worst
# within 30 ms (a scheduling hiccup on this shared machine)
emulator_clean() {
	local d
	[ "$(sat_queue_drops)" = 0 ] || { echo "# kernel queue drops: $(sat_queue_drops)"; return 1; }
	for d in up down; do
		[ "$(sat_link_stat $d overflow)" = 0 ] || { echo "# $d: overflow"; return 1; }
		[ "$(sat_link_stat $d avg_late_us)" -lt 1000 ] || { echo "# $d: late"; return 1; }
		[ "$(sat_link_stat $d max_late_us)" -lt 30000 ] || { echo "# $d: very late"; return 1; }
	done
	! grep -q "verdict failed" "$LINKEM_LOG"
}

# ---- delay: ping at 300 ms each way
sat_shape 20 "$(sat_bdp 20 600)"
sat_link_start --realtime --delay 300ms || { not_ok "pepsal-linkem starts"; finish; }
nsx "$NS_C" ping -n -c 6 -i 0.2 -w 10 $SAT_S4 >"$TMP/ping" 2>&1
read -r min avg max < <(sed -n 's|^rtt [^=]*= \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\)/.*|\1 \2 \3|p' "$TMP/ping")
echo "# ping RTT at 600 ms: min ${min:-?} avg ${avg:-?} max ${max:-?} ms"
check "ping: all 6 replies" grep -q " 6 received" "$TMP/ping"
check "ping RTT within 600 ms +-2 % (min $min, max $max)" \
	awk -v a="${min:-0}" -v b="${max:-0}" 'BEGIN { exit !(a >= 588 && b <= 612) }'

# ---- rate: TCP bulk download, measured after slow start
# The receiving iperf3 runs on the client and the sender on the server, not
# -R: iperf3 3.12 does not apply --fq-rate to a reverse test's sender.
nsx "$NS_C" iperf3 -s -D --pidfile "$TMP/iperf3.pid" >/dev/null 2>&1
on_exit 'kill $(cat '"$TMP"'/iperf3.pid)'
wait_until 5 listening "$NS_C" 5201 || not_ok "iperf3 server listens"

# The question is whether the emulator carries the rate, not how cubic
# recovers from its slow-start overshoot: at 600 ms that recovery alone can
# outlast the run (CI saw 15.5 Mbit/s at 20 with 1,817 drops in the
# bottleneck buffer). So the sender is paced at 97 % of the rate: a link
# that carries the rate delivers all of it, with nothing dropped in the
# 1-BDP buffer (checked); one that cannot shows a low bitrate or drops.
# The sender runs reno: cubic's HyStart leaves slow start at the first RTT
# jitter, and at 600 ms cubic then needs some 10 s more to reach the rate.
ip -n "$NS_S" route change default via $SAT_PS4 congctl reno

# bulk RATE OMIT SECONDS: receiver's bitrate (Mbit/s) after OMIT seconds
bulk() {
	nsx "$NS_S" ip tcp_metrics flush all 2>/dev/null
	nsx "$NS_S" iperf3 -c $SAT_C4 --fq-rate "$(( $1 * 970000 ))" -O "$2" -t "$3" -J \
		2>/dev/null |
		python3 -c 'import json,sys; j=json.load(sys.stdin)
print("%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e6))' 2>/dev/null
}
# bulk_round: both rates, then the emulator's counters; sets GOT_20, GOT_50,
# DROPS_20, DROPS_50; fails if a rate is under 90 %, the bottleneck dropped
# a packet or the emulator was not clean.
bulk_round() {
	local rate got drops ok=0
	for rate in 20 50; do
		sat_shape "$rate" "$(sat_bdp "$rate" 600)"
		drops=$(sat_tbf_drops eth0)
		got=$(bulk "$rate" 8 5)
		drops=$(( $(sat_tbf_drops eth0) - drops ))
		echo "# bulk at $rate Mbit/s, 600 ms RTT, 1-BDP buffer: ${got:-?} Mbit/s" \
			"(bottleneck drops: $drops)"
		printf -v "DROPS_$rate" '%s' "$drops"
		printf -v "GOT_$rate" '%s' "${got:-0}"
		awk -v g="${got:-0}" -v r="$rate" 'BEGIN { exit !(g >= 0.9 * r) }' || ok=1
		[ "$drops" = 0 ] || ok=1
	done
	sat_link_stop
	grep "pepsal-linkem: " "$LINKEM_LOG" | sed 's/^/# /'
	emulator_clean || ok=1
	return $ok
}
# The machine is shared (2 cores, other builds, hypervisor steal time): one
# round disturbed by the neighbours is measured again, once, and said so.
if ! bulk_round; then
	echo "# bulk round 1 disturbed (load $(cut -d' ' -f1-3 /proc/loadavg)): measuring again"
	sat_link_start --realtime --delay 300ms || { not_ok "pepsal-linkem restarts"; finish; }
	bulk_round
fi
for rate in 20 50; do
	got="GOT_$rate"
	check "bulk at $rate Mbit/s >= 90 % of the rate (${!got} Mbit/s)" \
		awk -v g="${!got}" -v r="$rate" 'BEGIN { exit !(g >= 0.9 * r) }'
	drops="DROPS_$rate"
	check "bulk at $rate Mbit/s: the 1-BDP bottleneck buffer dropped nothing" \
		test "${!drops}" = 0
done
check "no packet dropped or late in the emulator during bulk" emulator_clean
# the down delay line holds 300 ms of the paced 48.5 Mbit/s: 1,201 frames
# of 1,514 bytes; a cap on what it may hold shows up as less
check "the emulator held 300 ms of 50 Mbit/s in one direction (max_held >= 1100)" \
	test "$(sat_link_stat down max_held)" -ge 1100

# ---- loss: short delay, many pings; loss on the down direction only
# loss_run ARGS...: restart the emulator with ARGS, ping 3000 times; prints
# "LOSS_PCT MEAN_BURST" measured from the replies' sequence numbers.
loss_run() {
	sat_link_start --realtime --delay 2ms "$@" || return 1
	nsx "$NS_C" ping -n -c 3000 -i 0.002 -W 1 $SAT_S4 2>/dev/null |
		sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' >"$TMP/seqs"
	sat_link_stop
	grep "pepsal-linkem: down" "$LINKEM_LOG" | tail -n 1 | sed 's/^/# /' >&2
	awk -v n=3000 '{ got[$1] = 1 }
		END { lost = 0; runs = 0
			for (i = 1; i <= n; i++) if (!got[i]) { lost++; if (got[i - 1] || i == 1) runs++ }
			printf "%.2f %.2f\n", 100 * lost / n, runs ? lost / runs : 0 }' "$TMP/seqs"
}
sat_shape 20 "$(sat_bdp 20 600)"
read -r pct burst < <(loss_run --loss-down 5 --seed 7)
# On a loaded shared machine ping itself loses a few replies beyond the
# emulator's own count (see the emulator's "lost=" line): measure such a
# disturbed run once more, thresholds unchanged.
if ! awk -v p="${pct:-0}" -v b="${burst:-9}" 'BEGIN { exit !(p >= 3.5 && p <= 6.5 && b <= 1.3) }'; then
	echo "# random loss 5 %: ${pct:-?} %, burst ${burst:-?}: disturbed run, measured once more"
	read -r pct burst < <(loss_run --loss-down 5 --seed 8)
fi
echo "# random loss 5 %: measured ${pct:-?} %, mean burst ${burst:-?} packets"
check "random loss 5 % measured within 3.5..6.5 % (${pct:-?})" \
	awk -v p="${pct:-0}" 'BEGIN { exit !(p >= 3.5 && p <= 6.5) }'
check "random loss comes singly (mean burst ${burst:-?} <= 1.3)" \
	awk -v b="${burst:-9}" 'BEGIN { exit !(b <= 1.3) }'
check "up direction lost nothing (--loss-down only)" test "$(sat_link_stat up lost)" = 0
check "no emulator drops at 5 % loss" emulator_clean
# Gilbert-Elliott: P 1 %, R 20 %: mean loss 1/21 = 4.8 %, mean burst 5
read -r pct burst < <(loss_run --ge-down 1,20 --seed 7)
echo "# Gilbert-Elliott 1,20: measured ${pct:-?} % (mean 4.8), mean burst ${burst:-?} (mean 5)"
check "Gilbert-Elliott loss measured within 2..9 % (${pct:-?})" \
	awk -v p="${pct:-0}" 'BEGIN { exit !(p >= 2 && p <= 9) }'
check "Gilbert-Elliott loss comes in bursts (mean ${burst:-?} >= 3)" \
	awk -v b="${burst:-0}" 'BEGIN { exit !(b >= 3) }'
finish
