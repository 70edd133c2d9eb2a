#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A writer of the table stopped (SIGSTOP) while holding its lock, longer
# than the lock's 0.5 s timeout: a connection that closes meanwhile cannot
# free its entry at once, and pepsal frees it once the lock is free again
# (the table defers the removal to the lock's next holder) instead of
# losing the slot until a restart.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"

proxy_setup || { show_log; exit 1; }
bg "$NS_S" "$TMP/echo.log" python3 "$TOOLS/tcptool.py" echo 7020
wait_until 5 listening "$NS_S" 7020 || { not_ok "echo server started"; finish; }

bg "$NS_C" "$TMP/hold.out" python3 "$TOOLS/tcptool.py" hold $S4 7020 1 "$TMP/go"
HOLD_PID=$BG_PID
wait_until 10 grep -q ready "$TMP/hold.out" || { not_ok "a connection is held"; show_log; finish; }
check "its entry is in the table" table_used_is 1

"$BUILD/tests/pepsal-test-lockhold" "$SHM_NAME" >"$TMP/lock.out" 2>&1 &
LOCK_PID=$!
on_exit "kill -CONT $LOCK_PID; kill $LOCK_PID"
stopped() { [ "$(awk '{ print $3 }' "/proc/$LOCK_PID/stat" 2>/dev/null)" = T ]; }
check "a writer holds the table's lock, stopped" wait_until 5 stopped
c0=$(counter proxy.closed)
touch "$TMP/go"
wait "$HOLD_PID"
closed() { [ "$(counter proxy.closed)" -gt "$c0" ]; }
check "the connection closed while the lock was held" wait_until 10 closed
check "... its entry could not be freed yet" table_used_is 1
kill -CONT "$LOCK_PID"
check "the writer let go of the lock" wait_until 5 sh -c "! kill -0 $LOCK_PID 2>/dev/null"
check "then the entry is freed (deferred to the lock's next holder: GC every -g)" \
	wait_until 15 table_used_is 0
deferred=$(stats_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["table"]["deferred"])')
check "... counted as a deferred removal ($deferred)" test "$deferred" -ge 1
check "pepsal is still serving" \
	sh -c "ip netns exec $NS_C python3 $TOOLS/tcptool.py hold $S4 7020 1 /dev/null | grep -q ^ok"
[ "$FAILS" -eq 0 ] || show_log 30
finish
