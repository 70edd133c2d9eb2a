#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench: pepsal against its peers, client ─ pep ─ server over veth, no
# delay, all designs measured in one run, in turn, round after round (the
# order rotates every round, so drift of the shared machine hits all alike).
#
# Designs (BENCH_DESIGNS, default all of them):
#   direct          no proxy: the pep namespace only routes
#   pepsal-nfqueue  pepsal, SYNs through NFQUEUE + REDIRECT (pepsal-iptables),
#                   each SYN held until the server answered (the default)
#   pepsal-acceptfirst  the same with --accept-first (the legacy set-up)
#   pepsal-tproxy   pepsal --mode tproxy (pepsal-iptables --mode tproxy)
#   pepsal-nfqueue2 (not by default) pepsal-nfqueue with --queues 2 on both
#                   pepsal and pepsal-iptables: two queuers; give BENCH_DSTS
#                   so that the address hash spreads the SYNs over both
#   haproxy         HAProxy, full transparent mode (bind ... transparent,
#                   source 0.0.0.0 usesrc clientip), the same TPROXY rules
#   socat           socat fork relays behind REDIRECT rules (one per port)
# Metrics per design and round (names as in results.csv):
#   bulk{1,4,8}_gbps          iperf3, 1/4/8 streams, client -> server
#   cpu{1,4,8}_s_per_gb       CPU seconds (user+system, the proxy's processes
#                             and their children) per GB relayed in that test
#   cps, cps_p99_us           connections/s with BENCH_CONC in flight, each one
#                             64-byte request and 100-byte answer (connload);
#                             its connect-to-first-byte p99 under that load
#   cps_wide, cps_wide_p99_us the same with BENCH_CONC_WIDE (256) in flight
#   lat_p50_us, lat_p99_us    connect-to-first-byte latency, one in flight
#   rr{100,4k}_rps,           keep-alive request/response: wrk, BENCH_CONC
#   rr{100,4k}_p99_us         connections, GETs of a 100-byte / 4 KiB object
#                             from nginx; requests/s and the p99 latency
#   pss_kib_per_conn,         user-space memory per idle connection: PSS and
#   rss_kib_per_conn          RSS of the proxy's processes with BENCH_IDLE idle
#                             connections minus without, divided
# Besides (first round only, into setup.md): what a client sees when it
# connects to a refusing, an ICMP-rejecting and a black-holed destination
# (tests/tools/tcptool.py connect): the outcome and its time.
# Variables: BENCH_QUICK=1 (one short round into $BUILD/bench, doc untouched),
# BENCH_ROUNDS, BENCH_DESIGNS, BENCH_IPERF_TIME, BENCH_RATE_TIME, BENCH_CONC, BENCH_CONC_WIDE,
# BENCH_RR_TIME, BENCH_IDLE, BENCH_SOCAT_IDLE, BENCH_OUT (results directory),
# BENCH_MEASURE (groups to run, default "bulk conns rr idle setup"; "cost": system
# calls and context switches per connection, perf stat), BENCH_PIN (1: the
# proxy on core 1, load generators and servers on core 0), BENCH_DSTS (N > 1: the
# connection-rate tests connect to N server addresses in turn, not one: NFQUEUE
# --queue-balance hashes addresses, not ports; not for socat, whose rules name one),
# BENCH_DOC (1: write the section of doc/benchmarks.md), BENCH_PLUGINS (files
# defining more designs: see "Adding a design" in doc/benchmarks.md).
# BENCH_TIMELINE=1: the connection-rate tests also record the set-up timeline
# (PEPSAL_TIMELINE, include/pepsal_timeline.h: every stage of every
# connection, client, queuer and proxy) and the scheduler's run-queue wait
# of the proxy's threads (/proc/PID/task/*/schedstat, by thread name); with
# BENCH_SCHED=1 also `perf sched record` for the per-wake-up run-queue delay
# of the queuer and the predial thread (p50, p99). tests/bench/timeline-report.py
# turns $OUT/timeline into timeline.md.
# Scale (once, after the rounds; tests/bench/scale-report.py): for each of
# BENCH_SCALE_DESIGNS (default direct pepsal-nfqueue haproxy) and each count
# of BENCH_SCALE (default 1000 3000 and BENCH_IDLE; quick: BENCH_IDLE), that
# many connections idle, then each echoing a small message every second:
# the proxy's PSS, RSS and threads, and the machine's MemAvailable, Slab,
# KernelStack and PageTables, before and with them (scale.csv, two plots,
# the section "Scale" of doc/benchmarks.md; BENCH_SCALE=0: none).
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_DIR=$SRC/tests/bench
CONNLOAD=$BUILD/tests/connload

need_root
need_cmd iptables ip6tables iperf3 python3 ss nginx wrk
[ -x "$BUILD/pepsal" ] && [ -x "$CONNLOAD" ] || skip_all "build pepsal and tests/connload into $BUILD first"

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	ROUNDS=${BENCH_ROUNDS:-1} IPERF_T=${BENCH_IPERF_TIME:-1} RATE_T=${BENCH_RATE_TIME:-1}
	RR_T=${BENCH_RR_TIME:-1}
	IDLE_N=${BENCH_IDLE:-300} OUT=${BENCH_OUT:-$BUILD/bench} DOC=${BENCH_DOC:-0}
else
	ROUNDS=${BENCH_ROUNDS:-5} IPERF_T=${BENCH_IPERF_TIME:-5} RATE_T=${BENCH_RATE_TIME:-3}
	RR_T=${BENCH_RR_TIME:-3}
	IDLE_N=${BENCH_IDLE:-3000} OUT=${BENCH_OUT:-$SRC/doc/bench} DOC=${BENCH_DOC:-1}
fi
# BENCH_PIN=1: the proxy (and its children) on core 1, the load generators and
# servers on core 0
if [ "${BENCH_PIN:-0}" = 1 ]; then
	PIN_PROXY=(taskset -c 1) PIN_LOAD=(taskset -c 0)
else
	PIN_PROXY=() PIN_LOAD=()
fi
CONC=${BENCH_CONC:-32}
CONC_WIDE=${BENCH_CONC_WIDE:-256}
SOCAT_IDLE_N=${BENCH_SOCAT_IDLE:-$((IDLE_N < 1000 ? IDLE_N : 1000))}
DESIGNS=${BENCH_DESIGNS:-direct pepsal-nfqueue pepsal-acceptfirst pepsal-tproxy haproxy socat}
MEASURE=" ${BENCH_MEASURE:-bulk conns rr idle setup} "
mkdir -p "$OUT"
RAW=$OUT/raw.csv
LOG=$OUT/compare.log
: >"$LOG"
# the proxies' own logs stay in the build directory, out of doc/
PLOGS=$BUILD/bench-logs
mkdir -p "$PLOGS"
rm -f "$PLOGS"/pepsal.log "$PLOGS"/pepsal-tproxy.log "$PLOGS"/haproxy.log "$PLOGS"/socat.log
say() { echo "bench: $*" | tee -a "$LOG" >&2; }

# ---- topology ----------------------------------------------------------------
# client ─ pep ─ server (tests/lib.sh), IPv4; wide port ranges, no learned
# metrics, neighbours resolved before any measurement.
topo_three || { say "cannot build the namespaces"; exit 1; }
# The pep namespace's own ports (the proxies' dials) start above the proxies'
# listening ports (5000, 5002, 15201, 18080-18082), so no dial holds one.
for ns in "$NS_C" "$NS_R" "$NS_S"; do
	nsx "$ns" sysctl -qw net.ipv4.ip_local_port_range="20000 65000" \
		net.ipv4.tcp_no_metrics_save=1 net.core.somaxconn=8192 \
		net.ipv4.tcp_max_syn_backlog=8192
done
# Clients take Linux's usual ephemeral range, apart from pepsal's transparent
# dials (--upstream-ports, 20000-32767): a client port that a dial holds
# would match the dial's conntrack entry, and its SYN would be retried 1 s
# later. pepsal skips the ports of client connections it knows of; a port
# the client picks after the dial cannot be known in advance.
nsx "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="32768 65000"
# BENCH_DISJOINT_PORTS=1 (diagnostic): the pep namespace picks its own ports
# (the transparent dials' fresh source ports) below the clients' range
if [ "${BENCH_DISJOINT_PORTS:-0}" = 1 ]; then
	nsx "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="33000 65000"
	nsx "$NS_R" sysctl -qw net.ipv4.ip_local_port_range="1024 32999"
fi
for a in $C4 $S4; do nsx "$NS_R" ping -c1 -W2 -q "$a" >/dev/null 2>&1; done
nsx "$NS_C" ping -c1 -W2 -q $S4 >/dev/null 2>&1
# BENCH_DSTS: the server's extra addresses for the connection-rate tests
RATE_DST=$S4
for ((i = 1; i < ${BENCH_DSTS:-1}; i++)); do
	ip -n "$NS_S" addr add 198.18.2.$((99 + i))/24 dev eth0
	RATE_DST=$RATE_DST,198.18.2.$((99 + i))
done

# Servers: iperf3, connload (answer and close), connload --hold (idle),
# nginx (keep-alive request/response), connload --echo (the scale phase).
PORT_IPERF=5201 PORT_RATE=8080 PORT_HOLD=8081 PORT_HTTP=8082 PORT_ECHO=8083
ip netns exec "$NS_S" ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} iperf3 -s -p $PORT_IPERF >"$TMP/iperf3-s.log" 2>&1 &
on_exit "kill $!"
ip netns exec "$NS_S" ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} "$CONNLOAD" serve -p $PORT_RATE >"$TMP/serve.log" 2>&1 &
on_exit "kill $!"
ip netns exec "$NS_S" ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} "$CONNLOAD" serve -p $PORT_HOLD --hold >"$TMP/hold-s.log" 2>&1 &
on_exit "kill $!"
nginx_conf "$TMP" $PORT_HTTP
head -c 100 /dev/zero | tr '\0' x >"$TMP/www/100"
head -c 4096 /dev/zero | tr '\0' x >"$TMP/www/4k"
ip netns exec "$NS_S" ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} nginx -p "$TMP/nginx" -c "$TMP/nginx.conf" -g 'daemon off;' >"$TMP/nginx.log" 2>&1 &
on_exit "kill $!"
ip netns exec "$NS_S" ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} "$CONNLOAD" serve -p $PORT_ECHO --echo >"$TMP/echo-s.log" 2>&1 &
on_exit "kill $!"
for p in $PORT_IPERF $PORT_RATE $PORT_HOLD $PORT_HTTP $PORT_ECHO; do
	wait_until 5 listening "$NS_S" $p || { say "server on port $p did not start"; exit 1; }
done

# ---- process accounting --------------------------------------------------------
# PROXY_PIDS: the design's main processes; their children count as well.
PROXY_PIDS=
tree_pids() { descendants $PROXY_PIDS; }
descendants() {
	local p
	for p in "$@"; do
		[ -d /proc/$p ] || continue
		echo "$p"
		descendants $(pgrep -P "$p")
	done
}
# cpu_ticks: utime+stime+cutime+cstime of the processes, in clock ticks.
cpu_ticks() {
	local p sum=0 f
	for p in $(tree_pids); do
		f=$(sed 's/^.*) //' /proc/$p/stat 2>/dev/null) || continue
		set -- $f
		# after "pid (comm) ": state=$1 ... utime=${12} stime=${13} cutime=${14} cstime=${15}
		sum=$((sum + ${12} + ${13} + ${14} + ${15}))
	done
	echo $sum
}
# mem_kib: "PSS RSS" of the processes, KiB.
mem_kib() {
	local p pss=0 rss=0 a b
	for p in $(tree_pids); do
		read -r a b < <(awk '/^Pss:/ { p = $2 } /^Rss:/ { r = $2 } END { print p + 0, r + 0 }' \
			/proc/$p/smaps_rollup 2>/dev/null) || continue
		pss=$((pss + a)) rss=$((rss + b))
	done
	echo "$pss $rss"
}
HZ=$(getconf CLK_TCK)

# ---- designs -------------------------------------------------------------------
# Each design NAME has design_NAME_start (sets PROXY_PIDS; returns 1 if it
# cannot run, 2 if not available here) and design_NAME_stop.
RULES=(bash "$SRC/rules/pepsal-iptables" -i eth0 -4)
rules_on() { nsx "$NS_R" "${RULES[@]}" "$@" install >>"$LOG" 2>&1; }
rules_off() { nsx "$NS_R" "${RULES[@]}" "$@" remove >>"$LOG" 2>&1; }
# TL_ENV: the timeline's environment for the design now started (BENCH_TIMELINE)
TL_ENV=() TL_RUN=
bg_start() { # bg_start LOG CMD...: in the pep namespace; sets BG
	local log=$1; shift
	# ip netns exec, not nsx: $! is then the program itself, not a subshell
	ip netns exec "$NS_R" ${TL_ENV[@]+env "${TL_ENV[@]}"} ${PIN_PROXY[@]+"${PIN_PROXY[@]}"} "$@" >>"$log" 2>&1 &
	BG=$!
	on_exit "kill $BG"
}
bg_stop() { # bg_stop PID...: SIGTERM, wait, SIGKILL what remains
	local p
	for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
	for p in "$@"; do
		wait_until 10 bash -c "! kill -0 $p" || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	true
}

design_direct_start() { PROXY_PIDS=; }
design_direct_stop() { :; }

PEPSAL_OPTS=(--shm "$SHM_NAME" -c 100000 --capacity 16384)
design_pepsal-nfqueue_start() {
	rules_on || return 1
	bg_start "$PLOGS/pepsal.log" "$BUILD/pepsal" "${PEPSAL_OPTS[@]}"
	PROXY_PIDS=$BG
	wait_until 5 listening "$NS_R" 5000 || return 1
	# the queuer is alive once its heartbeat is in the table
	wait_until 10 bash -c "'$BUILD/pepsal-shm' --shm '$SHM_NAME' --json stats |
		python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"heartbeats\"][\"queuer\"][\"alive\"] else 1)'"
}
design_pepsal-nfqueue_stop() { bg_stop $PROXY_PIDS; rules_off; }
design_pepsal-nfqueue2_start() {
	"$BUILD/pepsal" --help 2>/dev/null | grep -q -- '--queues' || return 2
	RULES+=(--queues 2) PEPSAL_OPTS+=(--queues 2)
	design_pepsal-nfqueue_start
	local rc=$?
	unset 'RULES[-1]' 'RULES[-1]' 'PEPSAL_OPTS[-1]' 'PEPSAL_OPTS[-1]'
	return $rc
}
design_pepsal-nfqueue2_stop() {
	RULES+=(--queues 2)
	design_pepsal-nfqueue_stop
	unset 'RULES[-1]' 'RULES[-1]'
}
design_pepsal-acceptfirst_start() {
	"$BUILD/pepsal" --help 2>/dev/null | grep -q -- '--accept-first' || return 2
	PEPSAL_OPTS+=(--accept-first)
	design_pepsal-nfqueue_start
	local rc=$?
	unset 'PEPSAL_OPTS[-1]'
	return $rc
}
design_pepsal-acceptfirst_stop() { design_pepsal-nfqueue_stop; }

design_pepsal-tproxy_start() {
	"$BUILD/pepsal" --help 2>/dev/null | grep -q -- '--mode' || return 2
	rules_on --mode tproxy || return 1
	bg_start "$PLOGS/pepsal-tproxy.log" "$BUILD/pepsal" "${PEPSAL_OPTS[@]}" --mode tproxy
	PROXY_PIDS=$BG
	wait_until 5 listening "$NS_R" 5000
}
design_pepsal-tproxy_stop() { bg_stop $PROXY_PIDS; rules_off --mode tproxy; }

design_haproxy_start() {
	command -v haproxy >/dev/null || return 2
	# maxconn: HAProxy wants about 2.5 descriptors per connection within
	# RLIMIT_NOFILE (it refuses to start otherwise)
	local maxconn=$(( ($(ulimit -Hn) - 1000) * 2 / 5 ))
	cat >"$TMP/haproxy.cfg" <<-EOF
	global
	    maxconn $maxconn
	defaults
	    mode tcp
	    option splice-auto
	    maxconn $maxconn
	    timeout connect 5s
	    timeout client 120s
	    timeout server 120s
	frontend fe
	    bind 0.0.0.0:5002 transparent
	    default_backend be
	backend be
	    source 0.0.0.0 usesrc clientip
	    server orig 0.0.0.0
	EOF
	rules_on --mode tproxy --port 5002 || return 1
	bg_start "$PLOGS/haproxy.log" haproxy -db -f "$TMP/haproxy.cfg"
	PROXY_PIDS=$BG
	wait_until 5 listening "$NS_R" 5002
}
design_haproxy_stop() { bg_stop $PROXY_PIDS; rules_off --mode tproxy --port 5002; }

# socat: a fixed destination per port, behind REDIRECT (it cannot learn the
# original destination); its own rules, no socket match.
SOCAT_PORTS="$PORT_IPERF $PORT_RATE $PORT_HOLD $PORT_HTTP"
socat_rules() { # socat_rules -A|-D
	local p
	for p in $SOCAT_PORTS; do
		nsx "$NS_R" iptables -w 5 -t nat "$1" PREROUTING -i eth0 -p tcp -d $S4 --dport $p \
			-m comment --comment pepsal-bench -j REDIRECT --to-ports $((p + 10000)) || return 1
	done
}
design_socat_start() {
	command -v socat >/dev/null || return 2
	local p
	PROXY_PIDS=
	for p in $SOCAT_PORTS; do
		bg_start "$PLOGS/socat.log" socat TCP4-LISTEN:$((p + 10000)),fork,reuseaddr,backlog=4096 TCP4:$S4:$p
		PROXY_PIDS="$PROXY_PIDS $BG"
	done
	for p in $SOCAT_PORTS; do wait_until 5 listening "$NS_R" $((p + 10000)) || return 1; done
	socat_rules -A
}
design_socat_stop() {
	socat_rules -D
	local kids
	kids=$(tree_pids)
	bg_stop $kids
}

for f in ${BENCH_PLUGINS:-}; do . "$f"; done

# design_stop NAME: stop the design, then drop the TIME-WAIT sockets it left
# in the pep namespace. A transparent proxy's sockets bear the client's and
# server's addresses (HAProxy's and pepsal-tproxy's client side: server:port
# <- client:port, closed first by the proxy); for 60 s TCP early demux finds
# one for the next design's forwarded packet of that 4-tuple (clients reuse
# their ports) and ip_forward drops a packet with a socket: direct after
# HAProxy completed 0 of 32 connections in flight. ss -K destroys them (and
# any still closing: no TCP socket there outlives its design).
pep_socks() { nsx "$NS_R" ss -Htan | wc -l; }
design_stop() {
	"design_${1}_stop"
	nsx "$NS_R" ss -K -tan >/dev/null 2>&1
	[ "$(pep_socks)" -eq 0 ] ||
		say "$1: $(pep_socks) TCP sockets left in the pep namespace (ss -K failed): the next design may lose connections"
}

# ---- measurements ------------------------------------------------------------------
ROUND= DESIGN=
record() { echo "$ROUND,$DESIGN,$1,$2" >>"$RAW"; }

# quiet: no TCP connection established in any namespace (previous test over).
quiet() {
	local ns
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		[ -z "$(nsx "$ns" ss -Htn state established)" ] || return 1
	done
}

measure_bulk() {
	local p c0 c1 j
	for p in 1 4 8; do
		c0=$(cpu_ticks)
		j=$(nsx "$NS_C" ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} timeout $((IPERF_T + 20)) iperf3 -c $S4 -p $PORT_IPERF -t "$IPERF_T" -P $p -J 2>>"$LOG")
		c1=$(cpu_ticks)
		read -r bps bytes < <(python3 -c 'import json,sys
d = json.load(sys.stdin)["end"]["sum_received"]; print(d["bits_per_second"], d["bytes"])' <<<"$j" 2>/dev/null) ||
			{ say "$DESIGN: iperf3 -P $p failed: $(grep -o '"error":.*' <<<"$j")"; continue; }
		record bulk${p}_gbps "$(python3 -c "print(f'{$bps / 1e9:.3f}')")"
		[ -n "$PROXY_PIDS" ] &&
			record cpu${p}_s_per_gb "$(python3 -c "print(f'{($c1 - $c0) / $HZ / ($bytes / 1e9):.3f}')")"
		wait_until 10 quiet
	done
}

# connload rate output to metric records: PREFIX cps p50 p99
rate_record() {
	local out=$1 what=$2 cps p50 p99
	cps=$(sed -n 's/.* cps=\([^ ]*\).*/\1/p' <<<"$out")
	p50=$(sed -n 's/.* p50_us=\([^ ]*\).*/\1/p' <<<"$out")
	p99=$(sed -n 's/.* p99_us=\([^ ]*\).*/\1/p' <<<"$out")
	[ -n "$cps" ] || { say "$DESIGN: connload failed: $out"; return; }
	# connections that failed (timed out or reset) are not counted in cps,
	# they make it low: say so rather than record a quiet low figure
	sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$out" | grep -qx 0 ||
		say "$DESIGN: connload ($what): FAILED CONNECTIONS: $out"
	if [ "$what" = load ]; then
		record cps "$cps"; record cps_p99_us "$p99"
	elif [ "$what" = wide ]; then
		record cps_wide "$cps"; record cps_wide_p99_us "$p99"
	else
		record lat_p50_us "$p50"; record lat_p99_us "$p99"
	fi
}

# diag WHAT: kernel counters of the pep and client namespaces into the log
# (absolute values; nstat -s keeps no history)
diag() {
	local ns
	for ns in "$NS_C" "$NS_R"; do
		echo "$DESIGN $1 ${ns%%-*}: $(nsx "$ns" nstat -asz TcpExtListenOverflows TcpExtListenDrops \
			TcpExtTCPSynRetrans TcpRetransSegs TcpAttemptFails TcpEstabResets 2>/dev/null |
			awk '!/^#/ { printf "%s=%s ", $1, $2 }')$(nsx "$ns" cat /proc/net/stat/nf_conntrack 2>/dev/null | python3 -c 'import sys
rows = [l.split() for l in sys.stdin]
for i, h in enumerate(rows[0] if rows else []):
    if h in ("clashres", "invalid", "insert_failed", "drop", "early_drop"):
        print(f"ct.{h}={sum(int(r[i], 16) for r in rows[1:])}", end=" ")')"
	done >>"$LOG"
	case $DESIGN in pepsal-*)
		"$BUILD/pepsal-shm" --shm "$SHM_NAME" --json stats 2>/dev/null | python3 -c 'import json,sys
d = json.load(sys.stdin).get("counters", {}); print(sys.argv[1], " ".join(f"{k}={v}" for k, v in sorted(d.items()) if v))' \
			"$DESIGN $1 counters:" >>"$LOG" 2>&1 ;;
	esac
}

# sched_snap FILE: "comm wait_ns slices" of every thread of the design
# (/proc/PID/task/TID/schedstat: time on the CPU, time waiting on a run
# queue, timeslices), for the run-queue wait per wake-up by thread name
sched_snap() {
	local p t
	for p in $(tree_pids); do
		for t in /proc/$p/task/*; do
			read -r _ w n <"$t/schedstat" 2>/dev/null || continue
			echo "$(tr ' ' _ <"$t/comm" 2>/dev/null) ${t##*/} $w $n"
		done
	done >"$1"
}
# rate_run CONC: one connload rate test; with BENCH_TIMELINE its stamps and
# the scheduler's figures go to $TL_RUN/c$CONC
rate_run() {
	local conc=$1 dir= perf_pid= env=()
	if [ -n "$TL_RUN" ]; then
		dir=$TL_RUN/c$conc
		mkdir -p "$dir"
		env=(env PEPSAL_TIMELINE="$dir")
		nsx "$NS_C" nstat -asz TcpExtTCPSynRetrans | awk '/SynRetrans/ { print $2 }' >"$dir/synretrans0"
		sched_snap "$dir/sched0"
		if [ "${BENCH_SCHED:-0}" = 1 ] && command -v perf >/dev/null; then
			unshare -m sh -c 'mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
				exec perf sched record -a -o "$1" >/dev/null 2>&1' sh "$dir/perf.data" &
			perf_pid=$!
			sleep 1 # perf is recording (its start is not measured)
		fi
	fi
	nsx "$NS_C" ${env[@]+"${env[@]}"} ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} "$CONNLOAD" rate -d $RATE_DST -p $PORT_RATE -c "$conc" -t "${RATE_T}s" 2>&1
	if [ -n "$dir" ]; then
		sched_snap "$dir/sched1"
		nsx "$NS_C" nstat -asz TcpExtTCPSynRetrans | awk '/SynRetrans/ { print $2 }' >"$dir/synretrans1"
		if [ -n "$perf_pid" ]; then
			kill -INT $perf_pid 2>/dev/null
			wait $perf_pid 2>/dev/null
			perf sched timehist -i "$dir/perf.data" 2>/dev/null |
				awk 'NR > 3 && ($3 ~ /^pepsal/) { print $3, $5 }' >"$dir/schdelay"
			rm -f "$dir/perf.data"
		fi
	fi
}
# the client's SYN retransmissions during one connload run (its namespace's
# TcpExtTCPSynRetrans): a SYN nobody answered within the client's 1 s timer
synretrans() { nsx "$NS_C" nstat -asz TcpExtTCPSynRetrans | awk '/SynRetrans/ { print $2 + 0 }'; }

measure_conns() {
	local out s0
	diag "before connload"
	out=$(rate_run "$CONC")
	echo "$DESIGN load: $out" >>"$LOG"
	rate_record "$out" load
	wait_until 10 quiet
	s0=$(synretrans)
	out=$(rate_run "$CONC_WIDE")
	record cps_wide_synretrans $(( $(synretrans) - s0 ))
	echo "$DESIGN load $CONC_WIDE: $out" >>"$LOG"
	rate_record "$out" wide
	wait_until 10 quiet
	out=$(nsx "$NS_C" ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} "$CONNLOAD" rate -d $RATE_DST -p $PORT_RATE -c 1 -t "${RATE_T}s" 2>&1)
	echo "$DESIGN one in flight: $out" >>"$LOG"
	rate_record "$out" latency
	wait_until 10 quiet
	diag "after connload"
}

# cost: system calls and context switches of the proxy's processes per
# connection (perf stat on their threads, after a warm-up that starts the
# threads the relay parks), BENCH_CONC in flight
measure_cost() {
	[ -n "$PROXY_PIDS" ] && command -v perf >/dev/null || return 0
	local out pids n
	nsx "$NS_C" ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} "$CONNLOAD" rate -d $RATE_DST -p $PORT_RATE -c "$CONC" -t 1s >/dev/null 2>&1
	wait_until 10 quiet
	pids=$(tree_pids | paste -sd,)
	unshare -m sh -c 'mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
		exec perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$1" -o "$2" -- sleep "$3"' \
		sh "$pids" "$TMP/perfstat" $((RATE_T + 1)) &
	local pp=$!
	sleep 0.5
	out=$(nsx "$NS_C" ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} "$CONNLOAD" rate -d $RATE_DST -p $PORT_RATE -c "$CONC" -t "${RATE_T}s" 2>&1)
	wait $pp
	n=$(sed -n 's/^conns=\([0-9]*\).*/\1/p' <<<"$out")
	echo "$DESIGN cost: $out; $(tr '\n' ' ' <"$TMP/perfstat")" >>"$LOG"
	[ "${n:-0}" -gt 0 ] || return 0
	record syscalls_per_conn "$(awk -F, -v n="$n" '/sys_enter/ { printf "%.1f", $1 / n }' "$TMP/perfstat")"
	record cs_per_conn "$(awk -F, -v n="$n" '/context-switches/ { printf "%.2f", $1 / n }' "$TMP/perfstat")"
	wait_until 10 quiet
}

# keep-alive request/response: wrk, BENCH_CONC connections on 2 threads,
# each connection one request at a time
measure_rr() {
	local obj out rps p99
	for obj in 100 4k; do
		out=$(nsx "$NS_C" timeout $((RR_T + 20)) wrk -t 2 -c "$CONC" -d "${RR_T}s" --latency \
			"http://$S4:$PORT_HTTP/$obj" 2>&1)
		echo "$DESIGN rr $obj: $(tr '\n' ' ' <<<"$out")" >>"$LOG"
		rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
		# "99%  1.23ms": to microseconds
		p99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
			f = u == "us" ? 1 : u == "ms" ? 1000 : u == "s" ? 1000000 : 0
			if (f) printf "%.0f\n", v * f }' <<<"$out")
		if [ -z "$rps" ] || [ -z "$p99" ] || grep -q "Non-2xx\|Socket errors" <<<"$out"; then
			say "$DESIGN: wrk /$obj failed or saw errors: $(grep -E 'Non-2xx|Socket errors|rror' <<<"$out" | head -2)"
		fi
		[ -n "$rps" ] && record rr${obj}_rps "$rps"
		[ -n "$p99" ] && record rr${obj}_p99_us "$p99"
		wait_until 10 quiet
	done
}

measure_idle() {
	[ -n "$PROXY_PIDS" ] || return 0
	local n=$IDLE_N m0 m1 held hp
	[ "$DESIGN" = socat ] && n=$SOCAT_IDLE_N
	m0=$(mem_kib)
	ip netns exec "$NS_C" ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} "$CONNLOAD" hold -d $S4 -p $PORT_HOLD -n "$n" -c 256 --timeout 3s \
		>"$TMP/hold.out" 2>&1 &
	hp=$!
	if wait_until 120 grep -q '^held' "$TMP/hold.out"; then
		sleep 1 # let the proxy settle (threads parked, pools filled)
		m1=$(mem_kib)
		held=$(awk '/^held/ { print $2 }' "$TMP/hold.out")
		echo "$DESIGN idle: $(cat "$TMP/hold.out"); mem before $m0, after $m1 (PSS RSS KiB)" >>"$LOG"
		if [ "$held" -gt 0 ]; then
			set -- $m0 $m1
			record idle_conns "$held"
			record pss_kib_per_conn "$(python3 -c "print(f'{($3 - $1) / $held:.2f}')")"
			record rss_kib_per_conn "$(python3 -c "print(f'{($4 - $2) / $held:.2f}')")"
		fi
		[ "$held" -eq "$n" ] || { say "$DESIGN: only $held of $n idle connections held"; diag "idle"; }
	else
		say "$DESIGN: idle connections not set up in 120 s"
	fi
	kill -TERM $hp 2>/dev/null
	wait $hp 2>/dev/null
	wait_until 20 quiet || {
		say "$DESIGN: connections still established after the idle test"
		for ns in "$NS_C" "$NS_R" "$NS_S"; do
			echo "$ns:"; nsx "$ns" ss -Htnp state established | head -5
		done >>"$LOG"
	}
}

# What a client sees at connect: a closed port (the server's RST), an ICMP
# host-unreachable (5 s timeout for both), a black hole (2 s). One line per case in
# setup.csv: design,case,outcome,ms.
SETUP_CSV=$OUT/setup.csv
PORT_CLOSED=7999 PORT_ICMP=7997 PORT_BLACK=7998
nsx "$NS_S" iptables -A INPUT -p tcp --dport $PORT_ICMP -j REJECT --reject-with icmp-host-unreachable
nsx "$NS_S" iptables -A INPUT -p tcp --dport $PORT_BLACK -j DROP
measure_setup() {
	[ "$ROUND" = 1 ] || return 0
	local c p t out
	for c in refused:$PORT_CLOSED:5 icmp:$PORT_ICMP:5 blackhole:$PORT_BLACK:2; do
		p=${c#*:} t=${c##*:} p=${p%:*}
		out=$(nsx "$NS_C" python3 "$SRC/tests/tools/tcptool.py" connect $S4 "$p" "$t" 2>&1 | tail -1)
		echo "$DESIGN,${c%%:*},${out% *},${out##* }" >>"$SETUP_CSV"
	done
	wait_until 10 quiet
}

# ---- scale: memory and threads against connections --------------------------------
# meminfo_kib: "MemAvailable Slab KernelStack PageTables" of the machine, KiB
meminfo_kib() {
	awk '/^MemAvailable:/ { a = $2 } /^Slab:/ { s = $2 } /^KernelStack:/ { k = $2 }
		/^PageTables:/ { p = $2 } END { print a, s, k, p }' /proc/meminfo
}
threads_of() {
	local p n=0 t
	for p in $(tree_pids); do
		t=$(awk '/^Threads:/ { print $2 }' /proc/$p/status 2>/dev/null) && n=$((n + t))
	done
	echo $n
}
# slab_bytes: "cache bytes" of every slab cache (objects x object size)
slab_bytes() { awk 'NR > 2 { print $1, $3 * $4 }' /proc/slabinfo 2>/dev/null; }
# scale_point N PHASE: N connections, idle or echoing, one line of scale.csv
scale_point() {
	local n=$1 phase=$2 m0 m1 k0 k1 t1 held hp args=(-p $PORT_HOLD) ready='^held'
	[ "$phase" = active ] && args=(-p $PORT_ECHO --every 1s --req 64) ready='^round 2'
	m0=$(mem_kib) k0=$(meminfo_kib)
	slab_bytes >"$TMP/slab0"
	# a design that stops accepting (HAProxy's maxconn) leaves connections
	# unanswered: they fail after --timeout, 256 at a time
	ip netns exec "$NS_C" ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} "$CONNLOAD" hold -d $S4 "${args[@]}" -n "$n" -c 256 --timeout 3s \
		>"$TMP/scale.out" 2>&1 &
	hp=$!
	if wait_until 300 grep -q "$ready" "$TMP/scale.out"; then
		sleep 2 # settle: threads parked, pools filled, a couple of messages more
		m1=$(mem_kib) k1=$(meminfo_kib) t1=$(threads_of)
		slab_bytes >"$TMP/slab1"
		held=$(awk '/^held/ { print $2 }' "$TMP/scale.out")
		set -- $m0 $m1 $k0 $k1
		echo "$DESIGN,$n,$phase,$held,$(($3 - $1)),$(($4 - $2)),$t1,$(($5 - $9)),$((${10} - $6)),$((${11} - $7)),$((${12} - $8))" >>"$OUT/scale.csv"
		echo "$DESIGN scale $n $phase: $(head -n1 "$TMP/scale.out"); threads $t1; slab growth (KiB):" \
			"$(awk 'NR == FNR { a[$1] = $2; next } { d = ($2 - a[$1]) / 1024; if (d > 256) printf "%s=%.0f ", $1, d }' \
				"$TMP/slab0" "$TMP/slab1")" >>"$LOG"
		[ "$held" -eq "$n" ] || say "$DESIGN: scale $n $phase: only $held held"
	else
		say "$DESIGN: scale $n $phase: not set up in 300 s ($(head -n1 "$TMP/scale.out"))"
	fi
	kill -TERM $hp 2>/dev/null
	wait $hp 2>/dev/null
	# active: every echo checked byte for byte ("exchanged X verified V bad B lost L")
	[ "$phase" = active ] && echo "$DESIGN scale $n $phase: $(tail -n1 "$TMP/scale.out")" >>"$LOG"
	wait_until 60 quiet || say "$DESIGN: connections still established after scale $n $phase"
}
run_scale() {
	local steps d n phase
	if [ "$QUICK" = 1 ]; then steps=${BENCH_SCALE:-$IDLE_N}; else steps=${BENCH_SCALE:-1000 3000 $IDLE_N}; fi
	[ "$steps" = 0 ] && return 0
	steps=$(tr ' ' '\n' <<<"$steps" | sort -nu | tr '\n' ' ')
	echo "design,conns,phase,held,pss_kib,rss_kib,threads,memavail_drop_kib,slab_kib,kstack_kib,pagetables_kib" >"$OUT/scale.csv"
	for d in ${BENCH_SCALE_DESIGNS:-direct pepsal-nfqueue haproxy}; do
		case " ${ALL[*]} " in *" $d "*) ;; *) continue ;; esac
		[ -z "${UNAVAILABLE[$d]:-}" ] || continue
		DESIGN=$d
		say "scale: $d (${steps}connections; load $(cut -d' ' -f1 /proc/loadavg))"
		# a fresh proxy for every point: no thread, arena or pool of the
		# previous one counted as already there
		for n in $steps; do
			for phase in idle active; do
				PROXY_PIDS=
				"design_${d}_start" ||
					{ say "$d: scale: did not start"; design_stop "$d" >/dev/null 2>&1; continue; }
				scale_point "$n" $phase
				design_stop "$d"
				wait_until 10 quiet
			done
		done
	done
}

# ---- the run ----------------------------------------------------------------------
echo "round,design,metric,value" >"$RAW"
echo "design,case,outcome,ms" >"$SETUP_CSV"
read -r -a ALL <<<"$DESIGNS"
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "designs: ${ALL[*]}; $ROUNDS round(s); iperf3 ${IPERF_T}s, connload ${RATE_T}s, idle $IDLE_N (socat $SOCAT_IDLE_N); load $LOAD_BEFORE"
declare -A UNAVAILABLE=()
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	n=${#ALL[@]}
	for ((k = 0; k < n; k++)); do
		DESIGN=${ALL[$(((k + ROUND - 1) % n))]}
		[ -z "${UNAVAILABLE[$DESIGN]:-}" ] || continue
		PROXY_PIDS= TL_RUN= TL_ENV=()
		if [ "${BENCH_TIMELINE:-0}" = 1 ]; then
			TL_RUN=$OUT/timeline/$DESIGN.r$ROUND
			rm -rf "$TL_RUN"; mkdir -p "$TL_RUN"
			TL_ENV=(PEPSAL_TIMELINE="$TL_RUN")
		fi
		"design_${DESIGN}_start"
		rc=$?
		if [ $rc -eq 2 ]; then
			say "$DESIGN: not available here, skipped"
			UNAVAILABLE[$DESIGN]=1
			continue
		elif [ $rc -ne 0 ]; then
			say "$DESIGN: round $ROUND: did not start (see $LOG)"
			design_stop "$DESIGN" >/dev/null 2>&1
			continue
		fi
		say "round $ROUND/$ROUNDS: $DESIGN (load $(cut -d' ' -f1 /proc/loadavg))"
		case $MEASURE in *" bulk "*) measure_bulk ;; esac
		case $MEASURE in *" conns "*) measure_conns ;; esac
		case $MEASURE in *" cost "*) measure_cost ;; esac
		case $MEASURE in *" rr "*) measure_rr ;; esac
		case $MEASURE in *" idle "*) measure_idle ;; esac
		case $MEASURE in *" setup "*) measure_setup ;; esac
		design_stop "$DESIGN"
		TL_ENV=() TL_RUN=
		wait_until 10 quiet
	done
done
run_scale
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -----------------------------------------------------------------------------
REPORT_ARGS=(--raw "$RAW" --out "$OUT" --designs "${ALL[*]}"
	--unavailable "${!UNAVAILABLE[*]}" --date "$START_DATE"
	--load "$LOAD_BEFORE -> $LOAD_AFTER" --rounds "$ROUNDS"
	--params "iperf3 ${IPERF_T} s per test; connload ${RATE_T} s, $CONC (and $CONC_WIDE) in flight; wrk ${RR_T} s, $CONC connections; $IDLE_N idle connections (socat $SOCAT_IDLE_N)"
	--command "make bench${BENCH_QUICK:+ BENCH_QUICK=$BENCH_QUICK}${BENCH_ROUNDS:+ BENCH_ROUNDS=$BENCH_ROUNDS}")
[ "$DOC" = 1 ] && REPORT_ARGS+=(--doc "$SRC/doc/benchmarks.md")
python3 "$BENCH_DIR/compare-report.py" "${REPORT_ARGS[@]}" || exit 1
python3 - "$SETUP_CSV" >"$OUT/setup.md" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cases = [("refused", "closed port (RST)"), ("icmp", "ICMP host unreachable (5 s timeout)"),
         ("blackhole", "black hole (2 s timeout)")]
designs = list(dict.fromkeys(r["design"] for r in rows))
print("| destination | " + " | ".join(designs) + " |")
print("|---|" + "---|" * len(designs))
for c, label in cases:
    cell = {r["design"]: f'{r["outcome"]} ({float(r["ms"]):.0f} ms)' for r in rows if r["case"] == c}
    print(f"| {label} | " + " | ".join(cell.get(d, "-") for d in designs) + " |")
PY
say "set-up outcomes: $OUT/setup.md"
if [ -s "$OUT/scale.csv" ]; then
	SCALE_ARGS=(--csv "$OUT/scale.csv" --out "$OUT" --date "$START_DATE"
		--command "make bench${BENCH_IDLE:+ BENCH_IDLE=$BENCH_IDLE}${BENCH_QUICK:+ BENCH_QUICK=$BENCH_QUICK}")
	[ "$DOC" = 1 ] && SCALE_ARGS+=(--doc "$SRC/doc/benchmarks.md")
	python3 "$BENCH_DIR/scale-report.py" "${SCALE_ARGS[@]}" || exit 1
fi
if [ "${BENCH_TIMELINE:-0}" = 1 ]; then
	python3 "$BENCH_DIR/timeline-report.py" "$OUT/timeline" >"$OUT/timeline.md" &&
		say "set-up timeline: $OUT/timeline.md"
fi
say "results: $OUT/results.csv (raw: $RAW, log: $LOG)"
