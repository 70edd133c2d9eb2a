#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# -f: TCP Fast Open on both legs. The first connection gets the cookies,
# the next ones carry data in their SYN: the router (client leg) and the
# server (server leg, TCP_FASTOPEN_CONNECT) both count passive TFO opens.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"

need_root
need_cmd nstat curl
topo_three || exit 1
for ns in "$NS_C" "$NS_R" "$NS_S"; do nsx "$ns" sysctl -qw net.ipv4.tcp_fastopen=3; done
for a in $C4 $S4; do nsx "$NS_R" ping -c1 -W2 -q "$a" >/dev/null 2>&1; done
proxy_rules || exit 1
proxy_start -f || { show_log; exit 1; }
echo hello >"$TMP/index.txt"
bg "$NS_S" "$TMP/http.log" python3 -c '
import http.server, socket, socketserver, sys, os
os.chdir(sys.argv[1])
class S(http.server.ThreadingHTTPServer):
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
        super().server_bind()
S(("0.0.0.0", 8080), http.server.SimpleHTTPRequestHandler).serve_forever()' "$TMP"
wait_until 5 listening "$NS_S" 8080 || { not_ok "server started"; finish; }

tfo() { nsx "$1" nstat -az TcpExtTCPFastOpenPassive | awk '/TCPFastOpenPassive/ { print $2 }'; }
r0=$(tfo "$NS_R") s0=$(tfo "$NS_S") a0=$(counter proxy.accepted)
for i in 1 2 3; do
	out=$(nsx "$NS_C" curl -sS --tcp-fastopen --max-time 5 "http://$S4:8080/index.txt")
	[ "$out" = hello ] || break
done
check "three requests through pepsal -f with curl --tcp-fastopen" test "$out" = hello
check "... all proxied" test "$(counter proxy.accepted)" -ge $((a0 + 3))
r1=$(tfo "$NS_R") s1=$(tfo "$NS_S")
check "client leg: the router accepted Fast Open SYNs ($r0 -> $r1)" test "$r1" -gt "$r0"
check "server leg: the server accepted Fast Open SYNs from pepsal ($s0 -> $s1)" test "$s1" -gt "$s0"
[ "$FAILS" -eq 0 ] || show_log 20
finish
