#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The rules of pepsal-iptables move real traffic (client - router - server):
#   - nfqueue mode with nobody reading the queue: connections still reach
#     the server (fail-open, --queue-bypass) and the SYN rule counted them;
#     connections to the router itself are not queued;
#   - tproxy mode: a connection to the server lands on a transparent
#     listener in the router, which sees the original destination, IPv4
#     and IPv6; after remove it reaches the server again.
# (The end-to-end tests of the proxy, tests/ns/proxy*.sh, run pepsal itself
# behind these rules.)
set -eu
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip iptables ip6tables python3

IPT=$BUILD/pepsal-iptables
[ -x "$IPT" ] || { not_ok "pepsal-iptables built ($IPT)"; finish; }
topo_three

# A tiny server: answers each connection with "NAME LOCAL-ADDR LOCAL-PORT"
# (the address the connection was made to). With transparent=1 it listens
# with IP_TRANSPARENT, as a TPROXY listener must.
cat >"$TMP/srv.py" <<'EOF'
import socket, sys, threading
name, port, transparent = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
if transparent:
    s.setsockopt(socket.IPPROTO_IPV6, 75, 1)  # IPV6_TRANSPARENT
    s.setsockopt(socket.SOL_IP, 19, 1)     # IP_TRANSPARENT
s.bind(("::", port)); s.listen(64)
while True:
    c, _ = s.accept()
    a = c.getsockname()
    host = a[0][7:] if a[0].startswith("::ffff:") else a[0]
    c.sendall(("%s %s %d\n" % (name, host, a[1])).encode()); c.close()
EOF
cat >"$TMP/get.py" <<'EOF'
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
print(c.makefile().readline().strip())
EOF
serve() { # serve NS NAME PORT TRANSPARENT (its errors in the output)
	ip netns exec "$1" python3 "$TMP/srv.py" "$2" "$3" "$4" >"$TMP/$2.log" 2>&1 &
	on_exit "kill $!"
	wait_until 5 listening "$1" "$3" || { sed 's/^/# /' "$TMP/$2.log"; return 1; }
}
get() { nsx "$NS_C" python3 "$TMP/get.py" "$@" 2>/dev/null || echo "failed"; }
# syn_packets F: packets counted by the SYN rule (the last rule of PEPSAL).
syn_packets() {
	local c=iptables
	[ "$1" = 6 ] && c=ip6tables
	nsx "$NS_R" "$c" -t mangle -L PEPSAL -v -n -x | awk '/NFQUEUE|TPROXY/ { n += $1 } END { print n + 0 }'
}

check "server listens" serve "$NS_S" server 7000 0
check "router listens" serve "$NS_R" router 7001 0

# ---- nfqueue, nobody on the queue
check "nfqueue: install" nsx "$NS_R" "$IPT" -i eth0 install
for f in 4 6; do
	if [ $f = 4 ]; then s=$S4 r=$R4C; else s=$S6 r=$R6C; fi
	n0=$(syn_packets $f)
	got=$(get "$s" 7000)
	check "nfqueue IPv$f: no queuer, the connection still reaches the server ($got)" \
		[ "$got" = "server $s 7000" ]
	n1=$(syn_packets $f)
	check "nfqueue IPv$f: the SYN went through the NFQUEUE rule ($n0 -> $n1)" [ "$n1" -gt "$n0" ]
	got=$(get "$r" 7001)
	n2=$(syn_packets $f)
	check "nfqueue IPv$f: a connection to the router itself is not queued ($got; $n1 -> $n2)" \
		[ "$got" = "router $r 7001" ] && [ "$n2" -eq "$n1" ]
done

# ---- tproxy: a transparent listener on the proxy port gets the connection
check "tproxy listener" serve "$NS_R" tproxy 5000 1
check "tproxy: install (replaces the nfqueue rules)" nsx "$NS_R" "$IPT" -m tproxy -i eth0 install
check "tproxy: no nat chain left from nfqueue mode" \
	bash -c "! ip netns exec $NS_R iptables -t nat -S PEPSAL >/dev/null 2>&1"
for f in 4 6; do
	if [ $f = 4 ]; then s=$S4; else s=$S6; fi
	got=$(get "$s" 7000)
	check "tproxy IPv$f: the router's listener got it, original destination kept ($got)" \
		[ "$got" = "tproxy $s 7000" ]
done
check "tproxy: remove" nsx "$NS_R" "$IPT" remove
for f in 4 6; do
	if [ $f = 4 ]; then s=$S4; else s=$S6; fi
	got=$(get "$s" 7000)
	check "after remove IPv$f: the server again ($got)" [ "$got" = "server $s 7000" ]
done

finish
