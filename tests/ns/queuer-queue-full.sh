#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel queue's fail-open (issue 28): a queue that is full lets a new
# SYN through end to end at once (NFQA_CFG_F_FAIL_OPEN), never drops it, and
# the queuer counts what it saw (queuer.queue_full). The queuer runs with
# --queue-maxlen 8 (pepsal --queuer: a wrapper) and is stopped (SIGSTOP), so
# 8 SYNs fill the queue; a ninth connects directly to the server while they
# wait, then the queuer goes on and takes the 8; every client connects.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"

MAXLEN=8
cat >"$TMP/queuer" <<Q
#!/bin/sh
exec "$BUILD/pepsal-queuer" "\$@" --queue-maxlen $MAXLEN
Q
chmod +x "$TMP/queuer"
proxy_setup --queuer "$TMP/queuer" || { show_log; exit 1; }
bg "$NS_S" "$TMP/echo.log" python3 "$TOOLS/tcptool.py" echo 8081
wait_until 10 listening "$NS_S" 8081 || { not_ok "the echo server listens"; finish; }
check "a connection through pepsal while the queue is free" \
	eval '[ "$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" connect $S4 8081 5 | cut -d" " -f1)" = connected ]'
QPID=$(pgrep -P "$PEPSAL_PID" -x pepsal-queuer)
[ -n "$QPID" ] || { not_ok "the queuer runs"; finish; }
on_exit "kill -CONT $QPID"
queued() { nsx "$NS_R" awk '$1 == 0 { print $3 }' /proc/net/netfilter/nfnetlink_queue; }
acc0=$(counter proxy.accepted) full0=$(counter queuer.queue_full) held0=$(counter queuer.held)

kill -STOP "$QPID"
for i in $(seq $MAXLEN); do
	nsx "$NS_C" python3 "$TOOLS/tcptool.py" connect $S4 8081 30 >"$TMP/held.$i" 2>&1 &
	on_exit "kill $!"
done
# (eight Pythons start slowly on a loaded machine: a generous deadline)
check "$MAXLEN SYNs fill the kernel queue of $MAXLEN while the queuer is stopped" \
	wait_until 30 eval '[ "$(queued)" = $MAXLEN ]'
out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" connect $S4 8081 2)
ms=${out#* } ms=${ms%.*}
check "one more connects within 500 ms, end to end, the queue being full ('$out')" \
	test "${out% *}" = connected -a "${ms:-9999}" -lt 500
check "... not through pepsal (proxy.accepted $(counter proxy.accepted), was $acc0)" \
	test "$(counter proxy.accepted)" -eq "$acc0"
check "... and the queue still holds the $MAXLEN" test "$(queued)" = $MAXLEN

kill -CONT "$QPID"
check "the queuer counts the full queue it found (queuer.queue_full $full0 ->)" \
	wait_until 5 eval '[ "$(counter queuer.queue_full)" -gt '"$full0"' ]'
# a quarter of the queue stays free of held SYNs: 6 held, 2 passed on.
# (The clients' SYN retransmissions after 1 s bypass the full queue and
# connect end to end; a queued SYN let through after that finds their
# conntrack entry: its client is served end to end either way.)
check "the queuer then takes the $MAXLEN queued SYNs: $((MAXLEN - MAXLEN / 4)) held, the rest passed on (hold_full)" \
	wait_until 10 eval '[ $(( $(counter queuer.held) - held0 )) -eq $((MAXLEN - MAXLEN / 4)) ] &&
		[ $(( $(counter queuer.held) - held0 + $(counter queuer.hold_full) )) -ge $MAXLEN ]'
wait_until 30 eval '[ "$(cat "$TMP"/held.* | grep -c "^connected ")" = $MAXLEN ]'
check "... each connected and echoed ($(cat "$TMP"/held.* | cut -d' ' -f1 | sort | uniq -c | tr '\n' ' '))" \
	test "$(cat "$TMP"/held.* | grep -c '^connected ')" = $MAXLEN
check "pepsal-shm metrics exports it (pepsal_queuer_queue_full_total) and the ICMP answers' counter" \
	eval '"$BUILD/pepsal-shm" --shm "$SHM_NAME" metrics | grep -q "^pepsal_queuer_queue_full_total [1-9]" &&
		"$BUILD/pepsal-shm" --shm "$SHM_NAME" metrics | grep -q "^pepsal_queuer_hold_icmp_total 0"'
check "no packet bypassed the queuer by a socket overflow (queuer.enobufs $(counter queuer.enobufs))" \
	test "$(counter queuer.enobufs)" = 0
[ "$FAILS" -eq 0 ] || { show_log 40; stats_json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"counters\"])"; }
finish
