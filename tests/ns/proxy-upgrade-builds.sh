#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Upgrades to other binaries (SIGUSR2 starts whatever is at pepsal's path
# now): one that exits at once and one that cannot take the descriptors
# leave the old process serving everything, with a log line; a build with
# another version string takes over; systemd's protocol (NOTIFY_SOCKET)
# hears MAINPID of each process that serves.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_root
need_cmd make cc

mkdir -p "$TMP/bin"
cp "$BUILD/pepsal" "$BUILD/pepsal-queuer" "$BUILD/pepsal-shm" "$TMP/bin/" ||
	skip_all "build pepsal, pepsal-queuer and pepsal-shm into $BUILD first"
# beside the queuer: pepsal looks for it in its own directory before it
# takes over (check_outside), also when started through a wrapper
cp "$BUILD/pepsal" "$TMP/bin/pepsal.orig"
BUILD=$TMP/bin

# the service manager's end of sd_notify
python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
while True:
    with open(sys.argv[2], "a") as f:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")' "$TMP/notify" "$TMP/notify.log" &
on_exit "kill $!"
wait_until 5 test -S "$TMP/notify" || { not_ok "notify socket"; finish; }
NOTIFY_SOCKET=$TMP/notify proxy_setup || { show_log; exit 1; }

proxy_pid() {
	stats_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["heartbeats"]["proxy"]["pid"])'
}
logged() { grep -q -- "$1" "$TMP/pepsal.log"; }
# install FILE: FILE becomes the binary at pepsal's path (a rename, as a
# package manager does: the running process keeps its own)
install_bin() { cp "$1" "$TMP/bin/pepsal.new" && chmod +x "$TMP/bin/pepsal.new" && mv -f "$TMP/bin/pepsal.new" "$TMP/bin/pepsal"; }

bg "$NS_S" "$TMP/echo.log" python3 "$TOOLS/tcptool.py" echo 7001
wait_until 5 listening "$NS_S" 7001 || { not_ok "echo server"; finish; }
nsx "$NS_C" python3 "$TOOLS/tcptool.py" hold $S4 7001 20 "$TMP/go" >"$TMP/hold.out" 2>&1 &
HOLD=$!
on_exit "kill $HOLD"
wait_until 20 grep -q ready "$TMP/hold.out" || not_ok "20 connections open"
P0=$(proxy_pid)
check "the service manager heard MAINPID=$P0 READY=1" grep -q "^MAINPID=$P0 READY=1" "$TMP/notify.log"

# failed_upgrade WHAT BINARY REASON N: upgrading to BINARY fails with
# "upgrade failed: REASON", the N-th failure counted, the old process serves
failed_upgrade() {
	install_bin "$2"
	kill -USR2 "$P0"
	check "upgrade to $1: logged" \
		wait_until 20 logged "upgrade failed: $3.*keeps serving everything"
	check "... counted (proxy.upgrades_failed $4)" wait_until 5 counter_is proxy.upgrades_failed "$4"
	check "... and the old process still serves" [ "$(proxy_pid)" = "$P0" ]
}

printf '#!/bin/sh\nexit 3\n' >"$TMP/exit3"
failed_upgrade "a binary that exits at once" "$TMP/exit3" ".*exited with status 3" 1
out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" many $S4 7001 10 10000 2>&1)
check "... new connections too ($out)" [ "${out#10/10}" != "$out" ]

# a failure in the middle of the hand-over: the connections were paused
printf '#!/bin/sh\nulimit -n 24\nexec "%s" "$@"\n' "$TMP/bin/pepsal.orig" >"$TMP/fewfds"
failed_upgrade "a process that cannot receive the connections" "$TMP/fewfds" ".*truncated" 2

# ---- another build -------------------------------------------------------------------
V=9.9.$ID-upgrade
if make -s -C "$SRC" BUILD="$TMP/b2" VERSION="$V" "$TMP/b2/pepsal" >"$TMP/make.log" 2>&1; then
	install_bin "$TMP/b2/pepsal"
	kill -USR2 "$P0"
	check "upgrade to pepsal $V: the old process exits" wait_until 30 gone "$P0"
	P1=$(proxy_pid)
	check "... pepsal $V (pid $P1) serves, from the path" \
		sh -c "[ '$P1' != '$P0' ] && '/proc/$P1/exe' -V | grep -qx 'pepsal $V'"
	check "... it took the connections over from 0.1.0" \
		logged "took over 20 connections and 2 listeners from pepsal $("$TMP/bin/pepsal.orig" -V | cut -d' ' -f2) (pid $P0)"
	check "... the service manager heard MAINPID=$P1" wait_until 5 grep -q "^MAINPID=$P1 READY=1" "$TMP/notify.log"
	check "... the queuer runs again" wait_until 10 role_alive queuer
else
	not_ok "build pepsal $V ($(tail -n 3 "$TMP/make.log"))"
fi

# the held connections went through all of it
touch "$TMP/go"
wait $HOLD
check "the 20 connections held across the three attempts all work ($(tail -n1 "$TMP/hold.out"))" \
	grep -q '^ok: 20 connections held and working' "$TMP/hold.out"
check "no connection was reset" test "$(counter proxy.resets)" -eq 0
grep -o 'upgrade failed: .*' "$TMP/pepsal.log" | sed 's/^/# /'
[ "$FAILS" -eq 0 ] || show_log 30
finish
