# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of the two-box tests (tests/ns/ha-*.sh), sourced after tests/lib.sh:
# two pepsal boxes with keepalived between a client LAN and a server LAN.
#
#   client ── swc (bridge) ──┬── pa (eth0)   pa (eth1) ──┬── sws (bridge) ── server
#                            └── pb (eth0)   pb (eth1) ──┘
#                                pa eth2 ──── pb eth2  (the sync link)
#
#   client  198.18.1.2/24  fd00:1::2/64   via the client VIP 198.18.1.1 / fd00:1::1
#   pa      198.18.1.11 fd00:1::11 (eth0), 198.18.2.11 fd00:2::11 (eth1),
#           198.18.3.1 fd00:3::1 (eth2)
#   pb      .12 on eth0 and eth1, 198.18.3.2 fd00:3::2 (eth2)
#   server  198.18.2.2/24  fd00:2::2/64   via the server VIP 198.18.2.1 / fd00:2::1
#
#   ha_topo                 the namespaces above (NS_C NS_A NS_B NS_S)
#   ha_box BOX [opts]       rules (pepsal-iptables --ha-reset) and pepsal on BOX
#                           (a or b); ha_peer_opts BOX: its --ha-listen/--ha-peer
#   ha_keepalived BOX       keepalived on BOX with rules/ha/keepalived.conf
#   ha_master               which box holds the VIPs (a, b, "" or "ab")
#   ha_counter BOX NAME     a counter of BOX's table
#   ha_test_start           what both tests need (root, the commands, the
#                           build); HATOOL, STREAMS (HA_STREAMS, 200 on a
#                           sanitizer build) and the download's SIZE
# tcptool, bg, TOOLS and SRC as the proxy's tests have them; STREAMS_TOOL
# the streams' client and server (tests/tools/ha-streams.c)
. "$(dirname "${BASH_SOURCE[0]}")/proxy-env.sh"
STREAMS_TOOL=$BUILD/tests/ha-streams
VIP4C=198.18.1.1 VIP6C=fd00:1::1 VIP4S=198.18.2.1 VIP6S=fd00:2::1
C4=198.18.1.2 C6=fd00:1::2 S4=198.18.2.2 S6=fd00:2::2
SYNC4A=198.18.3.1 SYNC4B=198.18.3.2
declare -A PEPSAL_PIDS=() KA_PIDS=()

ha_test_start() {
	need_root
	need_cmd iptables ip6tables python3 tc keepalived
	[ -x "$BUILD/pepsal" ] && [ -x "$BUILD/pepsal-shm" ] && [ -x "$STREAMS_TOOL" ] ||
		skip_all "build pepsal into $BUILD first"
	HATOOL="$TOOLS/hatool.py"
	STREAMS=${HA_STREAMS:-1000}
	[ -n "${SAN:-}" ] && STREAMS=200
	SIZE=40000000
}

box_ns() { if [ "$1" = a ]; then echo "$NS_A"; else echo "$NS_B"; fi; }
box_shm() { echo "$SHM_NAME-$1"; }
# the config id of BOX in rules/ha/keepalived.conf
box_id() { if [ "$1" = a ]; then echo pep1; else echo pep2; fi; }
on_exit "rm -f /dev/shm/${SHM_NAME#/}-a /dev/shm/${SHM_NAME#/}-b"

# a bridge in namespace NS named br0, up
_bridge() {
	ip -n "$1" link add br0 type bridge && ip -n "$1" link set br0 up
}
# _port NS_SWITCH NS IF: a veth from NS's IF to the switch's bridge
_port() {
	local sw=$1 ns=$2 ifc=$3 p="p$4"
	veth_pair "$sw" "$p" "$ns" "$ifc" || return 1
	ip -n "$sw" link set "$p" master br0
}

ha_topo() {
	NS_C=$(ns_new hc) && NS_A=$(ns_new pa) && NS_B=$(ns_new pb) && NS_S=$(ns_new hs) &&
		NS_SWC=$(ns_new swc) && NS_SWS=$(ns_new sws) || return 1
	_bridge "$NS_SWC" && _bridge "$NS_SWS" || return 1
	_port "$NS_SWC" "$NS_C" eth0 c && _port "$NS_SWC" "$NS_A" eth0 a &&
		_port "$NS_SWC" "$NS_B" eth0 b || return 1
	_port "$NS_SWS" "$NS_S" eth0 s && _port "$NS_SWS" "$NS_A" eth1 a &&
		_port "$NS_SWS" "$NS_B" eth1 b || return 1
	veth_pair "$NS_A" eth2 "$NS_B" eth2 || return 1
	local ns
	for ns in "$NS_C" "$NS_A" "$NS_B" "$NS_S" "$NS_SWC" "$NS_SWS"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	ip -n "$NS_C" addr add $C4/24 dev eth0
	ip -n "$NS_C" addr add $C6/64 dev eth0 nodad
	ip -n "$NS_C" route add default via $VIP4C
	ip -n "$NS_C" -6 route add default via $VIP6C
	ip -n "$NS_S" addr add $S4/24 dev eth0
	ip -n "$NS_S" addr add $S6/64 dev eth0 nodad
	ip -n "$NS_S" route add default via $VIP4S
	ip -n "$NS_S" -6 route add default via $VIP6S
	local b n
	for b in a b; do
		ns=$(box_ns $b)
		n=11; [ $b = b ] && n=12
		ip -n "$ns" addr add 198.18.1.$n/24 dev eth0
		ip -n "$ns" addr add fd00:1::$n/64 dev eth0 nodad
		ip -n "$ns" addr add 198.18.2.$n/24 dev eth1
		ip -n "$ns" addr add fd00:2::$n/64 dev eth1 nodad
		n=1; [ $b = b ] && n=2
		ip -n "$ns" addr add 198.18.3.$n/24 dev eth2
		ip -n "$ns" addr add fd00:3::$n/64 dev eth2 nodad
		nsx "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
		# a VIP that arrives answers at once: no ARP/ND delay on the box
		nsx "$ns" sysctl -qw net.ipv4.conf.all.arp_notify=1
	done
}

ha_stats() { "$BUILD/pepsal-shm" --shm "$(box_shm "$1")" --json stats 2>/dev/null; }
ha_counter() {
	ha_stats "$1" | python3 -c 'import json,sys
d = json.load(sys.stdin); print(d.get("counters", {}).get(sys.argv[1], 0))' "$2" 2>/dev/null || echo 0
}
ha_alive() {
	ha_stats "$1" | python3 -c 'import json,sys
d = json.load(sys.stdin); sys.exit(0 if d["heartbeats"][sys.argv[1]]["alive"] else 1)' "$2"
}

# ha_box BOX [pepsal options]: the rules and pepsal on BOX
ha_box() {
	local b=$1 ns; shift
	ns=$(box_ns "$b")
	nsx "$ns" bash "$SRC/rules/pepsal-iptables" -i eth0 --ha-reset install >"$TMP/rules-$b.log" 2>&1 ||
		{ cat "$TMP/rules-$b.log"; return 1; }
	ha_pepsal "$b" "$@"
}
# ha_peer_opts BOX: the options of BOX's pepsal for a switchover (the sync link)
ha_peer_opts() {
	mkdir -p "$TMP/ka-$1"
	if [ "$1" = a ]; then echo "--ha-listen $SYNC4A:5002 --ha-peer $SYNC4B:5002"
	else echo "--ha-listen $SYNC4B:5002 --ha-peer $SYNC4A:5002"; fi
	echo "--ha-track-file $TMP/ka-$1/pepsal-ha-switchover"
}
ha_pepsal() {
	local b=$1 ns; shift
	ns=$(box_ns "$b")
	ip netns exec "$ns" "$BUILD/pepsal" --shm "$(box_shm "$b")" "$@" >>"$TMP/pepsal-$b.log" 2>&1 &
	PEPSAL_PIDS[$b]=$!
	disown # a box's death kills it: no job message
	on_exit "kill ${PEPSAL_PIDS[$b]}"
	wait_until 5 listening "$ns" 5000 || { echo "# pepsal did not listen on $b"; return 1; }
	wait_until 10 ha_alive "$b" queuer || { echo "# the queuer of $b did not start"; return 1; }
}

# ha_keepalived BOX: keepalived in BOX's namespace, our example configuration
# with the box's config id, its own pid files, in the foreground
ha_keepalived() {
	local b=$1 ns dir
	ns=$(box_ns "$b")
	dir=$TMP/ka-$b
	mkdir -p "$dir"
	sed -e "s|@PEPSAL_HA@|bash $SRC/rules/ha/pepsal-ha|g" \
		-e "s|@HA_OPTS@|--shm $(box_shm "$b") --shm-tool $BUILD/pepsal-shm --run-dir $dir|g" \
		-e "s|@RUN_DIR@|$dir|g" \
		-e "s|^\(\s*timeout\) 2$|\1 10|" -e "s|^\(\s*fall\) 2$|\1 5|" \
		"$SRC/rules/ha/keepalived.conf" >"$dir/keepalived.conf"
	ip netns exec "$ns" keepalived -n -l -D -G -f "$dir/keepalived.conf" -i "$(box_id "$b")" \
		-p "$dir/keepalived.pid" -r "$dir/vrrp.pid" -c "$dir/checkers.pid" \
		-b "$dir/bfd.pid" >"$TMP/keepalived-$b.log" 2>&1 &
	KA_PIDS[$b]=$!
	disown
	on_exit "kill ${KA_PIDS[$b]}"
}

# has_vip BOX: BOX holds both IPv4 VIPs and both IPv6 ones
has_vip() {
	local ns a
	ns=$(box_ns "$1")
	for a in $VIP4C $VIP4S $VIP6C $VIP6S; do
		ip -n "$ns" addr show | grep -q "inet6\? $a/" || return 1
	done
}
has_no_vip() {
	local ns a
	ns=$(box_ns "$1")
	for a in $VIP4C $VIP4S $VIP6C $VIP6S; do
		! ip -n "$ns" addr show | grep -q "inet6\? $a/" || return 1
	done
}
ha_master() {
	local m=
	has_vip a && m=a
	has_vip b && m=${m}b
	echo "$m"
}
master_is() { [ "$(ha_master)" = "$1" ]; }

# ha_kill_box BOX: the box dies: every process in it killed, its links down
ha_kill_box() {
	local ns
	ns=$(box_ns "$1")
	# links first, as at a power cut: nothing the dying sockets send (FIN,
	# RST) leaves the box
	ip -n "$ns" link set eth0 down
	ip -n "$ns" link set eth1 down
	ip -n "$ns" link set eth2 down
	ip netns pids "$ns" | xargs -r kill -9
}

# since T0 T1: T1 - T0 in seconds, 2 decimals; le A B: A <= B (decimals)
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# ha_streams INTERVAL_MS: N=$STREAMS streams to the port 7001 server (half
# IPv4, half IPv6: CL4, CL6, their results $TMP/c4.json and c6.json, they
# stop at $TMP/stop) and the download's link: 20 Mbit/s toward the client
# (16 s for 40 MB); the servers (7001 and those listed in $HA_PORTS) must
# listen first
ha_streams() {
	local p
	for p in 7001 7002 ${HA_PORTS:-}; do
		wait_until 20 listening "$NS_S" $p || { not_ok "server on port $p"; return 1; }
	done
	nsx "$NS_SWC" tc qdisc add dev pc root tbf rate 20mbit burst 64kb latency 100ms
	half=$((STREAMS / 2))
	nsx "$NS_C" bash -c "ulimit -n 8192; exec '$STREAMS_TOOL' client $S4 7001 $half $1 '$TMP/c4.json' '$TMP/stop'" &
	CL4=$!
	nsx "$NS_C" bash -c "ulimit -n 8192; exec '$STREAMS_TOOL' client $S6 7001 $((STREAMS - half)) $1 '$TMP/c6.json' '$TMP/stop'" &
	CL6=$!
	on_exit "kill $CL4 $CL6"
}
active_on() { [ "$(ha_counter "$1" proxy.active)" -ge "$2" ]; }
