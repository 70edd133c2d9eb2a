#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Source ports of transparent dials: taken from --upstream-ports, skipping a
# port whose 4-tuple (client address, port, destination) a client
# connection in the table holds; with the range used up, any port.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"

proxy_setup --upstream-ports 30000-30001 || { show_log; exit 1; }
bg "$NS_S" "$TMP/echo.log" python3 "$TOOLS/tcptool.py" echo 7005
wait_until 5 listening "$NS_S" 7005 || { not_ok "echo server started"; finish; }

# a client connection from C4:30000 to S4:7005 the table knows (pending, as
# the queuer records it): no dial may take that 4-tuple
"$BUILD/tests/pepsal-test-record" "$SHM_NAME" "$C4:30000" "$S4:7005" >/dev/null ||
	{ not_ok "entry recorded"; finish; }

# peer_ports: the client ports the server sees on 7005, one per line
peer_ports() {
	nsx "$NS_S" ss -Htn state established "( sport = :7005 )" |
		awk '{ print $NF }' | sed 's/.*://' | sort -n
}
bg "$NS_C" "$TMP/hold.log" python3 "$TOOLS/tcptool.py" hold $S4 7005 2 "$TMP/go"
check "two connections held through pepsal" wait_until 10 grep -q ready "$TMP/hold.log"
ports=$(peer_ports | tr '\n' ' ')
check "the server sees two connections from the client ($ports)" \
	test "$(peer_ports | wc -l)" -eq 2
check "no dial took port 30000, held by a client connection in the table ($ports)" \
	sh -c "! echo '$ports' | grep -qw 30000"
check "one dial took 30001, the free port of the range ($ports)" \
	sh -c "echo '$ports' | grep -qw 30001"
check "the other, with the range used up, took a port outside it ($ports)" \
	sh -c "echo '$ports' | tr ' ' '\n' | grep -v -w -e 30000 -e 30001 | grep -q ."
touch "$TMP/go"
check "both kept working" wait_until 10 grep -q "^ok: 2 connections" "$TMP/hold.log"
check "no dial failed" test "$(counter proxy.dial_failed)" -eq 0
[ "$FAILS" -eq 0 ] || show_log 30
finish
