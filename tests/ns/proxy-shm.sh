#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal's table: its capacity follows -c (twice the connections served,
# at least 4224, at most the library's 1048576) unless --capacity says otherwise; its segment has mode
# 0600 unless --shm-mode says otherwise; bad --shm-mode values are refused.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_root
[ -x "$BUILD/pepsal" ] && [ -x "$BUILD/pepsal-shm" ] || skip_all "build pepsal and pepsal-shm into $BUILD first"
NS=$(ns_new pp) || { not_ok "namespace created"; finish; }

# run_pepsal ARGS...: start pepsal (no queuer) in NS, wait for its table and
# port, print "capacity mode" of the table, stop it.
run_pepsal() {
	ip netns exec "$NS" "$BUILD/pepsal" --shm "$SHM_NAME" --no-queuer "$@" >>"$TMP/pepsal.log" 2>&1 &
	local pid=$!
	on_exit "kill $pid"
	wait_until 5 listening "$NS" 5000 || { echo "not-started"; kill "$pid"; wait "$pid"; return; }
	local cap mode
	cap=$(stats_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["table"]["capacity"])')
	mode=$(stat -c %a "/dev/shm/${SHM_NAME#/}")
	kill -TERM "$pid"
	wait "$pid"
	echo "$cap $mode"
}

got=$(run_pepsal)
check "default: 4224 entries, mode 600 ($got)" [ "$got" = "4224 600" ]
got=$(run_pepsal -c 3000)
check "-c 3000: 6000 entries, twice -c ($got)" [ "${got% *}" = 6000 ]
got=$(run_pepsal -c 1000000)
# the descriptor limit may lower -c (then the table follows what is served)
served=$(sed -n 's/.*1000000 connections need .* serving at most \([0-9]*\)$/\1/p' "$TMP/pepsal.log" | tail -n1)
want=$((served ? 2 * served : 1000000))
[ "$want" -gt 1048576 ] && want=1048576
[ "$want" -lt 4224 ] && want=4224
check "-c 1000000: twice what is served (${served:-all}), at most 1048576 ($got)" [ "${got% *}" = "$want" ]
got=$(run_pepsal -c 3000 --capacity 100)
check "--capacity 100 overrides -c ($got)" [ "${got% *}" = 100 ]
got=$(run_pepsal --shm-mode 0640)
check "--shm-mode 0640: the segment has mode 640 ($got)" [ "${got#* }" = 640 ]
got=$(umask 077; run_pepsal --shm-mode 644)
check "--shm-mode 644 under umask 077: mode 644 ($got)" [ "${got#* }" = 644 ]

bad() { # bad VALUE: --shm-mode VALUE is refused with status 2 and a message
	"$BUILD/pepsal" --shm "$SHM_NAME" --shm-mode "$1" >/dev/null 2>"$TMP/err"
	local rc=$?
	check "--shm-mode $1: status 2 ($rc), '$(head -n1 "$TMP/err")'" \
		test $rc -eq 2 -a -n "$(grep -- "invalid value '$1' for --shm-mode" "$TMP/err")"
}
bad 0400   # the owner must write
bad 0700   # execute bits
bad 0777
bad 8
bad rw
check "no table was left by the refused ones" [ ! -e "/dev/shm/${SHM_NAME#/}" ]
[ "$FAILS" -eq 0 ] || tail -n 20 "$TMP/pepsal.log" | sed 's/^/# /'
finish
