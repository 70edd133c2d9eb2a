# SPDX-License-Identifier: GPL-2.0-or-later
# The emulated GEO satellite topology, shared by tests/ns/linkem*.sh, the demo
# and the benchmark. Source tests/lib.sh first, then this file.
#
#   client ─ term ─[ sat: pepsal-linkem delay+loss, tbf rate+buffer ]─ pep ─ server
#
#   client eth0 198.18.9.2/24                    default via 198.18.9.1
#   term   eth0 198.18.9.1/24 (client side)      eth1 198.18.10.2/24 (satellite leg)
#   sat    eth0 198.18.10.1/24 (terminal side)   eth1 198.18.11.1/24 (gateway side)
#   pep    eth0 198.18.11.2/24 (satellite leg)   eth1 198.18.12.1/24 (server leg)
#   server eth0 198.18.12.2/24                   default via 198.18.12.1
#
# term is the satellite terminal: a plain router, or the terminal side of a
# pepsal pair (satrun.sh pair_on) whose gateway side runs in pep; pep is a
# plain router or the single pepsal. So every column of the demo crosses the
# same hops.
# The link: NFQUEUE $SAT_QUEUE (up: packets entering sat on eth0) and
# $SAT_QUEUE+1 (down: entering on eth1) in sat's FORWARD chain, held by
# pepsal-linkem for the one-way delay; tbf on sat's eth1 (up) and eth0 (down)
# gives the rate and the bottleneck buffer. Offloads are off on every veth.

SAT_C4=198.18.9.2 SAT_TC4=198.18.9.1 SAT_T4=198.18.10.2 SAT_SC4=198.18.10.1 SAT_SP4=198.18.11.1
SAT_P4=198.18.11.2 SAT_PS4=198.18.12.1 SAT_S4=198.18.12.2
SAT_QUEUE=${SAT_QUEUE:-0}
LINKEM_PID=
LINKEM_LOG=

# sat_topo: create the five namespaces; sets NS_C NS_T NS_SAT NS_P NS_S.
# term and pep forward like plain routers until a pepsal is started there.
sat_topo() {
	NS_C=$(ns_new sc) && NS_T=$(ns_new st) && NS_SAT=$(ns_new sl) && NS_P=$(ns_new sp) &&
		NS_S=$(ns_new ss) || return 1
	veth_pair "$NS_C" eth0 "$NS_T" eth0 || return 1
	veth_pair "$NS_T" eth1 "$NS_SAT" eth0 || return 1
	veth_pair "$NS_SAT" eth1 "$NS_P" eth0 || return 1
	veth_pair "$NS_P" eth1 "$NS_S" eth0 || return 1
	ip -n "$NS_C" addr add $SAT_C4/24 dev eth0
	ip -n "$NS_T" addr add $SAT_TC4/24 dev eth0
	ip -n "$NS_T" addr add $SAT_T4/24 dev eth1
	ip -n "$NS_SAT" addr add $SAT_SC4/24 dev eth0
	ip -n "$NS_SAT" addr add $SAT_SP4/24 dev eth1
	ip -n "$NS_P" addr add $SAT_P4/24 dev eth0
	ip -n "$NS_P" addr add $SAT_PS4/24 dev eth1
	ip -n "$NS_S" addr add $SAT_S4/24 dev eth0
	# endpoints run cubic, set per route (sysctl is refused in a namespace)
	ip -n "$NS_C" route add default via $SAT_TC4 congctl cubic
	ip -n "$NS_S" route add default via $SAT_PS4 congctl cubic
	# term routes the two far subnets, not a default: pepsal-iptables copies
	# the routes through the satellite interface into its knob table, which
	# is looked up before main, and a copied default would take the client
	# subnet's replies too (the pair's terminal sends its SYN-ACKs to eth1)
	ip -n "$NS_T" route add 198.18.11.0/24 via $SAT_SC4
	ip -n "$NS_T" route add 198.18.12.0/24 via $SAT_SC4
	ip -n "$NS_SAT" route add 198.18.12.0/24 via $SAT_P4
	ip -n "$NS_SAT" route add 198.18.9.0/24 via $SAT_T4
	ip -n "$NS_P" route add 198.18.10.0/24 via $SAT_SP4
	ip -n "$NS_P" route add 198.18.9.0/24 via $SAT_SP4
	local ns
	for ns in "$NS_C" "$NS_T" "$NS_SAT" "$NS_P" "$NS_S"; do
		nsx "$ns" sysctl -qw net.ipv4.tcp_no_metrics_save=1
	done
	for ns in "$NS_T" "$NS_SAT" "$NS_P"; do
		nsx "$ns" sysctl -qw net.ipv4.ip_forward=1
	done
}

# sat_shape RATE_MBIT BUFFER_BYTES [UP_RATE_MBIT [UP_BUFFER_BYTES]]: tbf on
# both egress veths of sat: eth0 toward the terminal (the forward link, RATE),
# eth1 toward the gateway (the return link, UP_RATE, default RATE; its buffer
# default BUFFER). The burst is about 1 ms of the rate (at least two frames).
sat_shape() {
	local rate=$1 limit=$2 up=${3:-$1} uplimit=${4:-$2} r l dev burst
	for dev in eth0 eth1; do
		r=$rate l=$limit
		[ "$dev" = eth1 ] && r=$up l=$uplimit
		burst=$(awk -v r="$r" 'BEGIN { b = int(r * 1e6 / 8 / 1000); print b < 3028 ? 3028 : b }')
		tc -n "$NS_SAT" qdisc replace dev "$dev" root tbf rate "${r}mbit" \
			burst "$burst" limit "$l" || return 1
	done
}

# sat_bdp RATE_MBIT RTT_MS: the bandwidth-delay product in bytes (RATE may
# have decimals: 0.5).
sat_bdp() { awk -v r="$1" -v t="$2" 'BEGIN { printf "%d\n", r * 1e6 / 8 * t / 1000 }'; }

# sat_link_start ARGS...: start pepsal-linkem in sat with ARGS (delay, loss),
# wait until it holds its queues, then queue FORWARD to it.
sat_link_start() {
	LINKEM_LOG="$TMP/linkem.$((${LINKEM_N:-0} + 1)).log"
	LINKEM_N=$((${LINKEM_N:-0} + 1))
	# ip netns exec forks: the shell it runs writes the emulator's own pid
	nsx "$NS_SAT" sh -c 'echo $$ >"$0.pid"; exec "$@"' "$LINKEM_LOG" \
		"$BUILD/pepsal-linkem" --queue "$SAT_QUEUE" "$@" 2>"$LINKEM_LOG" &
	if ! wait_until 5 grep -q ready "$LINKEM_LOG"; then
		echo "# pepsal-linkem did not start:" >&2
		sed 's/^/#   /' "$LINKEM_LOG" >&2
		return 1
	fi
	LINKEM_PID=$(cat "$LINKEM_LOG.pid")
	on_exit "kill $LINKEM_PID"
	if ! nsx "$NS_SAT" iptables -C FORWARD -i eth0 -j NFQUEUE --queue-num "$SAT_QUEUE" \
		2>/dev/null; then
		nsx "$NS_SAT" iptables -A FORWARD -i eth0 -j NFQUEUE --queue-num "$SAT_QUEUE"
		nsx "$NS_SAT" iptables -A FORWARD -i eth1 -j NFQUEUE --queue-num $((SAT_QUEUE + 1))
	fi
}

# sat_link_stop: stop pepsal-linkem; its counters stay in $LINKEM_LOG.
sat_link_stop() {
	[ -n "$LINKEM_PID" ] || return 0
	kill -TERM "$LINKEM_PID" 2>/dev/null
	wait_until 5 sh -c "! kill -0 $LINKEM_PID"
	LINKEM_PID=
}

# sat_link_stat DIR FIELD: a counter from the last stats line of DIR (up/down)
# in $LINKEM_LOG (written at exit, or on SIGUSR1).
sat_link_stat() {
	grep "pepsal-linkem: $1 " "$LINKEM_LOG" | tail -n 1 | tr ' ' '\n' |
		sed -n "s/^$2=//p"
}

# sat_queue_drops: packets the kernel dropped on the emulator's queues
# (queue full, or user space too slow), summed over both directions.
sat_queue_drops() {
	nsx "$NS_SAT" cat /proc/net/netfilter/nfnetlink_queue |
		awk -v a="$SAT_QUEUE" -v b=$((SAT_QUEUE + 1)) \
			'$1 == a || $1 == b { d += $6 + $7 } END { print d + 0 }'
}

# sat_tbf_drops DEV: packets the bottleneck buffer (tbf) dropped on DEV.
sat_tbf_drops() {
	tc -n "$NS_SAT" -s qdisc show dev "$1" | sed -n 's/.*dropped \([0-9]*\).*/\1/p' | head -n 1
}
