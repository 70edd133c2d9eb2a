#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal as a process: bad options (status 2 and a message), help and
# version, the queuer child (killed: traffic flows unproxied, pepsal restarts
# it), the table (a second pepsal refused, a foreign segment refused, a stale
# one replaced), garbage collection, idle timeout, the connection log and
# SIGHUP, SIGTERM with live connections, daemon mode with a pid file, and
# fail-open when pepsal is killed outright.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_root
[ -x "$BUILD/pepsal" ] || skip_all "build pepsal into $BUILD first"

# ---- options -----------------------------------------------------------------
bad() { # bad EXPECTED-MESSAGE ARGS...: exit status 2 and the message
	local want=$1; shift
	"$BUILD/pepsal" --shm "$SHM_NAME" "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$want" "$TMP/err"; then
		ok "pepsal $*: status 2, '$(head -n1 "$TMP/err")'"
	else
		not_ok "pepsal $*: status $rc, '$(head -n1 "$TMP/err")', expected 2 and '$want'"
	fi
}
bad "invalid value '70000' for --port" -p 70000
bad "invalid value '0' for --max-conns" -c 0
bad "invalid value 'hybla' for --server-cc: not an available congestion control" --server-cc hybla
bad "invalid value 'x' for --client-cc" --client-cc x
bad "invalid duration 'soon' for --gc-interval" -g soon
bad "invalid duration '0' for --pending-lifetime" -t 0
bad "invalid value '3/1' for --mark" --mark 3/1
bad "invalid value '9-2' for --upstream-ports" --upstream-ports 9-2
bad "invalid size '1x' for --server-sndbuf" --server-sndbuf 1x
bad "unknown option '--frobnicate'" --frobnicate
bad "option '-p' needs a value" -p
bad "unexpected argument 'extra'" extra
check "no table was left by the bad invocations" [ ! -e "/dev/shm/${SHM_NAME#/}" ]

"$BUILD/pepsal" -h >"$TMP/help"
check "-h exits 0 and lists every legacy option" \
	sh -c "for o in -d -v -h -f -p -V -a -l -g -t -c -k -n; do grep -q -- \"\$o, --\" '$TMP/help' || exit 1; done"
check "-V prints the version" sh -c "'$BUILD/pepsal' -V | grep -Eq '^pepsal [0-9]+\.[0-9]+'"

# ---- the queuer child ------------------------------------------------------------
cat >"$TMP/queuer" <<EOS
#!/bin/sh
# a stand-in that refuses to start while $TMP/hold exists
[ -e "$TMP/hold" ] && exit 1
exec "$BUILD/pepsal-queuer" "\$@"
EOS
chmod +x "$TMP/queuer"
proxy_setup --queuer "$TMP/queuer" -l "$TMP/conns" --log-interval 1s -g 1s -t 2s \
	--idle-timeout 2s --client-cc reno --server-cc cubic -n --server-sndbuf 1m ||
	{ show_log; exit 1; }
bg "$NS_S" "$TMP/peer.log" python3 "$TOOLS/tcptool.py" serve-peer 7030
bg "$NS_S" "$TMP/echo.log" python3 "$TOOLS/tcptool.py" echo 7031
wait_until 5 listening "$NS_S" 7030 && wait_until 5 listening "$NS_S" 7031

a0=$(counter proxy.accepted)
check "through the queuer: proxied" test "$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get $S4 7030)" = "server $C4"
check "... counted" test "$(counter proxy.accepted)" -eq $((a0 + 1))

touch "$TMP/hold"
qpid=$(queuer_pid)
kill -KILL "$qpid"
check "queuer killed: its restart is logged" wait_until 5 grep -q "queuer (pid $qpid) was killed by signal 9; restarting" "$TMP/pepsal.log"
a1=$(counter proxy.accepted)
out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get $S4 7030 2>&1)
check "queuer down: a new connection still works ($out)" [ "$out" = "server $C4" ]
check "... unproxied (proxy.accepted unchanged)" test "$(counter proxy.accepted)" -eq "$a1"
rm -f "$TMP/hold"
new_queuer() { local p; p=$(queuer_pid) && [ "$p" != "$qpid" ] && [ "$p" != 0 ] && role_alive queuer; }
check "pepsal restarts the queuer (with back-off)" wait_until 15 new_queuer
n=$(counter proxy.queuer_restarts)
check "... counted in proxy.queuer_restarts ($n)" test "$n" -ge 1
check "... and connections are proxied again" \
	test "$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get $S4 7030)" = "server $C4"
n=$(counter proxy.accepted)
check "... counted (proxy.accepted $a1 -> $n)" test "$n" -eq $((a1 + 1))

# ---- the table -------------------------------------------------------------------
nsx "$NS_R" "$BUILD/pepsal" --shm "$SHM_NAME" -p 5001 --no-queuer >"$TMP/second" 2>&1
rc=$?
check "a second pepsal on the same table is refused (status $rc: $(tail -n1 "$TMP/second"))" \
	sh -c "[ $rc -eq 1 ] && grep -q 'another pepsal (pid $PEPSAL_PID) is using the table' '$TMP/second'"
check "... and the table is intact" role_alive proxy

FOREIGN="/pepsal-test-foreign-$ID"
on_exit "rm -f /dev/shm/${FOREIGN#/}"
head -c 100000 /dev/urandom >"/dev/shm/${FOREIGN#/}"
sum=$(sha256sum <"/dev/shm/${FOREIGN#/}")
"$BUILD/pepsal" --shm "$FOREIGN" -p 5002 --no-queuer >"$TMP/foreign" 2>&1
rc=$?
check "a foreign segment is refused (status $rc: $(tail -n1 "$TMP/foreign"))" \
	sh -c "[ $rc -eq 1 ] && grep -q 'not touching it' '$TMP/foreign'"
check "... and left untouched" test "$(sha256sum <"/dev/shm/${FOREIGN#/}")" = "$sum"

# ---- garbage collection: -g 1s -t 2s ----------------------------------------------
slot=$("$BUILD/tests/pepsal-test-record" "$SHM_NAME" 198.18.1.99:1234 198.18.2.2:80)
check "a pending entry nobody claims (slot $slot) ..." test -n "$slot"
check "... is collected after -t" wait_until 6 table_used_is 0
check "... and logged" grep -q "garbage collection: 1 pending entries" "$TMP/pepsal.log"

# ---- idle timeout: 2s ------------------------------------------------------------------
i0=$(counter proxy.idle_timeouts)
out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" expect-reset $S4 7031 5 2>&1)
check "an idle connection is reset after --idle-timeout ($out)" no_fail "$out"
case "$out" in *"after 2."*|*"after 3."*) ok "... not before" ;; *) not_ok "... not before ($out)" ;; esac
i1=$(counter proxy.idle_timeouts)
check "... counted once (proxy.idle_timeouts +$((i1 - i0)))" test "$i1" -eq $((i0 + 1))

# ---- connection log, SIGHUP, SIGTERM with live connections ---------------------------
bg "$NS_C" "$TMP/hold.out" python3 "$TOOLS/tcptool.py" hold $S4 7031 3 "$TMP/go"
wait_until 10 grep -q ready "$TMP/hold.out"
has3() { [ "$(grep -c "^$C4:[0-9]* $S4:7031 ESTABLISHED" "$TMP/conns")" -eq 3 ]; }
check "-l: the connection log lists the 3 live connections" wait_until 5 has3
check "... with a trailer" grep -q "^# 3 connections" "$TMP/conns"
# per-leg options, as the kernel reports them for the relayed sockets
nsx "$NS_R" ss -tnim "dst $S4:7031" >"$TMP/ss.server"
nsx "$NS_R" ss -tnim "src :5000" >"$TMP/ss.client"
check "--server-cc cubic on the 3 server legs" test "$(grep -c ' cubic ' "$TMP/ss.server")" -eq 3
check "--client-cc reno on the 3 client legs" test "$(grep -c ' reno ' "$TMP/ss.client")" -eq 3
check "--server-sndbuf 1m on the 3 server legs" test "$(grep -c 'tb1048576,' "$TMP/ss.server")" -eq 3
rm -f "$TMP/conns"
kill -HUP "$PEPSAL_PID"
check "SIGHUP: logged, the connection log written again at once" \
	wait_until 1 sh -c "grep -q SIGHUP '$TMP/pepsal.log' && [ -e '$TMP/conns' ]"
qpid=$(queuer_pid)
check "SIGTERM with live connections: exit status 0" proxy_stop
touch "$TMP/go"
check "... the live connections were reset, not left hanging" \
	wait_until 5 grep -q "^FAIL: connection 0 closed\|reset\|Errno" "$TMP/hold.out"
check "... the queuer (pid $qpid) was stopped" sh -c "[ -n '$qpid' ] && ! kill -0 '$qpid' 2>/dev/null"
check "... the table was removed" [ ! -e "/dev/shm/${SHM_NAME#/}" ]
check "... the connection log file keeps no temporary" [ ! -e "$TMP/conns.tmp" ]
check "... and lists no connection any more" grep -q "^# 0 connections" "$TMP/conns"

# ---- a stale table (pepsal killed outright) is replaced; fail-open meanwhile --------------
proxy_start || { not_ok "pepsal started again"; show_log; finish; }
qpid=$(queuer_pid)
kill -KILL "$PEPSAL_PID"
wait "$PEPSAL_PID" 2>/dev/null
PEPSAL_PID=
check "pepsal killed: its queuer (pid $qpid) goes too (no stale queue binding)" \
	wait_until 5 sh -c "[ -n '$qpid' ] && ! kill -0 '$qpid' 2>/dev/null"
out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get $S4 7030 2>&1)
check "pepsal down: connections still work, unproxied ($out)" [ "$out" = "server $C4" ]
proxy_start || { not_ok "pepsal started again"; show_log; finish; }
check "the stale table was replaced" grep -q "replacing the stale table" "$TMP/pepsal.log"
check "... and connections are proxied again" \
	test "$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get $S4 7030)" = "server $C4"
proxy_stop

# ---- daemon ---------------------------------------------------------------------------------
# a start that fails after the fork: the parent says so, with the status
(cd "$TMP" && nsx "$NS_R" "$BUILD/pepsal" -d --shm "$SHM_NAME" --no-queuer \
	--pid-file "$TMP/no-such-dir/pepsal.pid" >"$TMP/daemon-fail.out" 2>&1)
rc=$?
check "-d with an unwritable pid file: status 1 (got $rc)" test $rc -eq 1
check "... and the reason on the terminal ($(head -n1 "$TMP/daemon-fail.out"))" \
	grep -q "cannot write the pid file" "$TMP/daemon-fail.out"
(cd "$TMP" && nsx "$NS_R" "$BUILD/pepsal" -d --shm "$SHM_NAME" --no-queuer --pid-file pepsal.pid \
	-l conns.d --log-interval 1s >"$TMP/daemon.out" 2>&1)
check "-d returns with status 0" test $? -eq 0
# the parent returns once the daemon serves: no waiting from here on
check "... its pid file is written when it returns" test -s "$TMP/pepsal.pid"
dpid=$(cat "$TMP/pepsal.pid" 2>/dev/null)
on_exit "kill $dpid"
check "... and runs (pid $dpid)" kill -0 "$dpid"
check "... listening when it returns" listening "$NS_R" 5000
check "... relative -l and --pid-file are kept where they were meant (not in /)" \
	wait_until 5 test -s "$TMP/conns.d"
kill -TERM "$dpid"
check "... SIGTERM stops it and removes the pid file" \
	wait_until 5 sh -c "! kill -0 $dpid 2>/dev/null && [ ! -e '$TMP/pepsal.pid' ]"
# ---- -a and -p ---------------------------------------------------------------------------------
ip netns exec "$NS_R" "$BUILD/pepsal" -a $R6C -p 5003 --shm "$SHM_NAME" --no-queuer >"$TMP/a.log" 2>&1 &
apid=$!
on_exit "kill $apid"
check "-a $R6C -p 5003: listens there" wait_until 5 listening "$NS_R" 5003
check "... and only there" test "$(nsx "$NS_R" ss -Hltn 'sport = :5003' | awk '{print $4}')" = "[$R6C]:5003"
kill -TERM $apid
wait $apid
rc=$?
check "... SIGTERM: status 0 (got $rc: $(tail -n1 "$TMP/a.log"))" test $rc -eq 0
[ "$FAILS" -eq 0 ] || show_log 40
finish
