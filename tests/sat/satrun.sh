# SPDX-License-Identifier: GPL-2.0-or-later
# One satellite scenario for the demo and the benchmark. Source tests/lib.sh
# and tests/sat/satlink.sh first.
#   sat_scenario RATE_MBIT LOSS_PCT [CLIENT_INITRWND]
#                           topology, link (600 ms RTT, 1-BDP buffer), server
#   pep_on / pep_off        pepsal and its rules in the pep namespace, tuned
#   fetch SIZE SERIES       one download by curl in the client; prints seconds
SAT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$SAT/../.." && pwd)
SAT_RTT_MS=${SAT_RTT_MS:-600}
# SAT_RETURN_RATE: Mbit/s of the return link (client to gateway); empty: the
# forward rate. Its buffer is one BDP at its own rate.
SAT_RETURN_RATE=${SAT_RETURN_RATE:-}
HTTP_PORT=8080
PEP_PID=
# The PEP's satellite leg, tuned as a deployment would be (see
# doc/benchmarks.md, measured with tests/sat/tune.sh), with pepsal's and
# pepsal-iptables' own settings: an initial congestion window of 1000
# segments toward the clients (pepsal-iptables --initcwnd: so that only the
# client's window limits the first round trips; with 100 the congestion
# window lagged behind it), the PEP's egress toward the satellite shaped at
# the link rate (pepsal-iptables --shape, PEP_SHAPE=tbf: the modem's buffer
# never overflows), send buffer of at least a BDP, congestion control
# adaptive (cubic on a clean link, bbr while the loss is not congestion).
PEP_INITCWND=${PEP_INITCWND:-1000}
PEP_CC=${PEP_CC:-cubic}
# PEP_CC_MODE fixed|adaptive: pepsal --client-cc-mode (adaptive: PEP_CC on a
# clean link, PEP_CC_LOSSY while the leg loses packets without queueing)
PEP_CC_MODE=${PEP_CC_MODE:-adaptive}
PEP_CC_LOSSY=${PEP_CC_LOSSY:-bbr}
PEP_SNDBUF=${PEP_SNDBUF:-4m}
# PEP_ARGS: more pepsal options (e.g. --accept-first).
PEP_ARGS=${PEP_ARGS:-}
# PEP_SHAPE: what keeps the satellite leg from overflowing the link's buffer,
# on the pep's satellite-facing interface (eth0), at PEP_SHAPE_RATE Mbit/s
# (default: the link rate):
#   none  nothing (the link's 1-BDP buffer takes what the sender bursts)
#   pacing  pepsal --client-pacing (SO_MAX_PACING_RATE on its accepted
#         sockets, TCP's internal pacing: this kernel has no fq qdisc), the
#         rate converted from frames (1514 bytes) to TCP payload (1448 bytes),
#         as the kernel counts payload
#   tbf   pepsal-iptables --shape: a tbf shaper at the rate, a BDP of queue:
#         the PEP's own egress is the bottleneck, TCP small queues hold the
#         excess in the socket, the satellite modem's buffer stays empty
#         (what a PEP integrated with its modem does)
PEP_SHAPE=${PEP_SHAPE:-tbf}
# PEP_TIMESTAMPS 0: no TCP timestamps in the pep namespace (both legs)
PEP_TIMESTAMPS=${PEP_TIMESTAMPS:-1}
# PEP_SSAI: net.ipv4.tcp_slow_start_after_idle in the pep namespace
PEP_SSAI=${PEP_SSAI:-1}
PEP_SHAPE_RATE=${PEP_SHAPE_RATE:-}

sat_scenario() {
	local rate=$1 loss=$2 initrwnd=${3:-} a
	sat_topo || return 1
	SAT_RATE=$rate
	sat_link_shape "$rate" || return 1
	sat_link_start --realtime --delay "$((SAT_RTT_MS / 2))ms" --loss "$loss" || return 1
	[ -z "$initrwnd" ] || sat_client_initrwnd "$initrwnd" || return 1
	nsx "$NS_S" python3 "$SAT/httpd.py" --bind $SAT_S4 --port $HTTP_PORT --max $((10 << 20)) \
		>"$TMP/httpd.log" 2>&1 &
	on_exit "kill $!"
	wait_until 20 listening "$NS_S" $HTTP_PORT || { echo "# httpd did not start" >&2; return 1; }
	# resolve every neighbour now, not during the first measured SYN
	for a in $SAT_S4 $SAT_P4; do nsx "$NS_C" ping -c1 -W3 -q "$a" >/dev/null 2>&1; done
	nsx "$NS_P" ping -c1 -W3 -q $SAT_C4 >/dev/null 2>&1
	return 0
}

# sat_link_shape RATE_MBIT: the link's rates and 1-BDP buffers, forward at
# RATE, return at SAT_RETURN_RATE (default RATE).
sat_link_shape() {
	local up=${SAT_RETURN_RATE:-$1}
	sat_shape "$1" "$(sat_bdp "$1" "$SAT_RTT_MS")" "$up" "$(sat_bdp "$up" "$SAT_RTT_MS")"
}

# sat_client_initrwnd SEGMENTS: the client advertises a large window from
# its first ACK: route initrwnd, and (SAT_CLIENT_RMEM, default 524288) a
# default receive buffer that holds it. On this kernel the initial window is
# min(initrwnd x MSS, the space of the default buffer), and tcp_rmem's 128 KB
# default gives 64 KB whatever initrwnd says.
SAT_CLIENT_RMEM=${SAT_CLIENT_RMEM:-524288}
sat_client_initrwnd() {
	ip -n "$NS_C" route change default via $SAT_TC4 congctl cubic initrwnd "$1" || return 1
	[ "$SAT_CLIENT_RMEM" = 0 ] ||
		nsx "$NS_C" sysctl -qw net.ipv4.tcp_rmem="4096 $SAT_CLIENT_RMEM 6291456"
}

# pep_queue_bound NS: a queuer holds NFQUEUE 0 in NS.
pep_queue_bound() {
	nsx "$1" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk '$1 == 0' | grep -q .
}

# pep_knobs: pepsal-iptables' options of the satellite leg's knobs.
pep_knobs() {
	echo "--initcwnd $PEP_INITCWND"
	sat_shape_knobs "$PEP_SHAPE"
}

# sat_shape_knobs SHAPE [RATE]: with SHAPE tbf, pepsal-iptables' shaper at
# RATE (default PEP_SHAPE_RATE, else the link rate), a BDP of queue.
sat_shape_knobs() {
	[ "$1" = tbf ] || return 0
	awk -v r="${2:-${PEP_SHAPE_RATE:-$SAT_RATE}}" -v t="$SAT_RTT_MS" \
		'BEGIN { printf "--shape %dk --shape-limit %d\n", r * 1000, r * 1e6 / 8 * t / 1000 }'
}

# sat_pacing_rate: the link rate as TCP payload (what SO_MAX_PACING_RATE
# counts), from frames of 1514 bytes carrying 1448.
sat_pacing_rate() {
	awk -v r="${PEP_SHAPE_RATE:-$SAT_RATE}" 'BEGIN { printf "%dk", r * 1e3 * 1448 / 1514 }'
}

# pep_on: the rules and the knobs (pepsal-iptables, SYNs from the satellite
# side), pepsal with its queuer.
pep_on() {
	case "$PEP_SHAPE" in none|pacing|tbf) ;;
	*) echo "# PEP_SHAPE is none, pacing or tbf, not '$PEP_SHAPE'" >&2; return 1 ;;
	esac
	nsx "$NS_P" sysctl -qw net.ipv4.tcp_wmem="4096 65536 16777216" \
		net.ipv4.tcp_rmem="4096 131072 16777216" net.ipv4.tcp_timestamps="$PEP_TIMESTAMPS" \
		net.ipv4.tcp_slow_start_after_idle="$PEP_SSAI"
	# shellcheck disable=SC2046
	nsx "$NS_P" bash "$SRC/rules/pepsal-iptables" -4 -i eth0 $(pep_knobs) install \
		>"$TMP/rules.log" 2>&1 || { cat "$TMP/rules.log" >&2; return 1; }
	on_exit "nsx $NS_P bash $SRC/rules/pepsal-iptables -4 -i eth0 remove"
	local pace=
	[ "$PEP_SHAPE" = pacing ] && pace="--client-pacing $(sat_pacing_rate)"
	# shellcheck disable=SC2086
	pepsal_spawn "$NS_P" pepsal --shm "$SHM_NAME" --client-cc "$PEP_CC" \
		--client-cc-mode "$PEP_CC_MODE" --client-cc-lossy "$PEP_CC_LOSSY" \
		--client-sndbuf "$PEP_SNDBUF" --server-rcvbuf "$PEP_SNDBUF" $pace ${PEP_ARGS:-}
	PEP_PID=$SPAWNED_PID
	wait_until 5 listening "$NS_P" 5000 && wait_until 10 pep_queue_bound "$NS_P" ||
		{ echo "# pepsal did not start:" >&2; tail -n 20 "$TMP/pepsal.log" >&2; return 1; }
}

# pepsal_spawn NS NAME ARGS...: pepsal ARGS in NS, its output appended to
# $TMP/NAME.log; sets SPAWNED_PID (empty if it did not start), killed on exit.
pepsal_spawn() {
	local ns=$1 name=$2
	shift 2
	SPAWNED_PID=
	rm -f "$TMP/$name.pid"
	# ip netns exec forks: the shell it runs writes pepsal's own pid
	nsx "$ns" sh -c 'echo $$ >"$0"; exec "$@"' "$TMP/$name.pid" "$BUILD/pepsal" "$@" \
		>>"$TMP/$name.log" 2>&1 &
	wait_until 5 test -s "$TMP/$name.pid" && SPAWNED_PID=$(cat "$TMP/$name.pid")
	[ -z "$SPAWNED_PID" ] || on_exit "kill $SPAWNED_PID"
}

# pepsal_stop NS PID PORT: pepsal PID stops, and nothing listens on PORT in
# NS any more (the next start must not find the old one there).
pepsal_stop() {
	kill -TERM "$2" 2>/dev/null
	wait_until 10 sh -c "! kill -0 $2" || kill -KILL "$2" 2>/dev/null
	wait_until 5 sh -c "! ip netns exec $1 ss -Hltn 'sport = :$3' | grep -q ."
}

# pep_off: pepsal stops, its rules and knobs go (the pep routes plainly).
pep_off() {
	[ -n "$PEP_PID" ] || return 0
	nsx "$NS_P" bash "$SRC/rules/pepsal-iptables" -4 -i eth0 remove >/dev/null 2>&1
	pepsal_stop "$NS_P" "$PEP_PID" 5000
	PEP_PID=
	nsx "$NS_P" sysctl -qw net.ipv4.tcp_timestamps=1 net.ipv4.tcp_slow_start_after_idle=1
}

# pep_relayed: connections pepsal accepted so far (its table's counter).
pep_relayed() { shm_counter "$SHM_NAME" proxy.accepted; }

# shm_counter SHM NAME: the counter NAME of the pepsal whose table is SHM
# ("?" if there is none).
shm_counter() {
	"$BUILD/pepsal-shm" --shm "$1" --json stats 2>/dev/null | python3 -c 'import json,sys
print(json.load(sys.stdin).get("counters", {}).get(sys.argv[1], 0))' "$2" 2>/dev/null || echo "?"
}

# fetch SIZE SERIES: download SIZE bytes with curl in the client, write the
# bytes-over-time series to SERIES; prints curl's total time in seconds,
# fails if the size is wrong. Metrics are flushed first: no run learns from
# the previous one.
fetch() {
	local size=$1 series=$2 t0 got ns
	for ns in "$NS_C" "$NS_T" "$NS_P" "$NS_S"; do ip -n "$ns" tcp_metrics flush all 2>/dev/null; done
	t0=$(date +%s.%N)
	got=$(nsx "$NS_C" curl -sS --max-time 600 -w '%{stderr}%{time_total}\n' \
		"http://$SAT_S4:$HTTP_PORT/$size" 2>"$TMP/curl.err" |
		python3 "$SAT/tsread.py" "$t0" "$series")
	[ "$got" = "$size" ] || { echo "# fetch $size: got ${got:-nothing}: $(cat "$TMP/curl.err")" >&2; return 1; }
	tail -n 1 "$TMP/curl.err"
}

# upload SIZE: send SIZE bytes with curl -T (HTTP PUT) from the client to the
# server; prints curl's total time in seconds, fails unless the server
# answers that it received them all. Metrics are flushed first.
upload() {
	local size=$1 got ns
	[ "$(stat -c %s "$TMP/upload.bin" 2>/dev/null)" = "$size" ] ||
		head -c "$size" /dev/urandom >"$TMP/upload.bin"
	for ns in "$NS_C" "$NS_T" "$NS_P" "$NS_S"; do ip -n "$ns" tcp_metrics flush all 2>/dev/null; done
	got=$(nsx "$NS_C" curl -sS --max-time 600 -T "$TMP/upload.bin" -w '%{stderr}%{time_total}\n' \
		"http://$SAT_S4:$HTTP_PORT/upload" 2>"$TMP/curl.err")
	[ "$got" = "received $size" ] ||
		{ echo "# upload $size: ${got:-no answer}: $(cat "$TMP/curl.err")" >&2; return 1; }
	tail -n 1 "$TMP/curl.err"
}

# ideal_up SIZE: handshake + 100-continue round trips + SIZE at the return
# link's rate (SAT_RETURN_RATE, default the forward rate), seconds.
ideal_up() {
	awk -v s="$1" -v r="${SAT_RETURN_RATE:-$SAT_RATE}" -v rtt="$SAT_RTT_MS" \
		'BEGIN { printf "%.2f\n", 2 * rtt / 1000 + s * 8 / (r * 1e6) }'
}

# ideal SIZE: 2 RTT (handshake, request) + SIZE at the link rate, seconds.
ideal() {
	awk -v s="$1" -v r="$SAT_RATE" -v rtt="$SAT_RTT_MS" \
		'BEGIN { printf "%.2f\n", 2 * rtt / 1000 + s * 8 / (r * 1e6) }'
}
