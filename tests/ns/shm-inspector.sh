#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-shm against populated and broken segments: JSON parsed by a real
# parser, exit status 1 and a clear message for a missing, foreign,
# truncated or other-version segment, exit status 2 for bad usage.
. "$(dirname "$0")/../lib.sh"
need_cmd python3
SHM="$BUILD/pepsal-shm"
FIX="$BUILD/tests/shm-fixture"

"$FIX" "$SHM_NAME" populate || { not_ok "fixture"; finish; }

# json_check CMD... : stdout is JSON and the python expression on it holds
json_check() {
	local expr=$1; shift
	"$@" >"$TMP/out.json" && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($expr) else 1)" "$TMP/out.json"
}

check "stats --json parses, counts 3 used slots and the proxy heartbeat" \
	json_check 'd["table"]["used"] == 3 and d["table"]["capacity"] == 64 and d["heartbeats"]["proxy"]["pid"] > 0 and d["counters"]["proxy.accepted"] == 2' \
	"$SHM" --shm "$SHM_NAME" stats --json
check "counter names from the segment are escaped" \
	json_check '"odd\"name\\\u0001" in d["counters"]' "$SHM" --shm "$SHM_NAME" --json stats
check "list --json has every state and family with bytes" \
	json_check 'sorted(e["state"] for e in d["entries"]) == ["closing","established","pending"] and any(e["client"] == "[fd00:1::2]:40003" and e["dst"] == "[fd00:2::2]:443" for e in d["entries"]) and any(e["bytes_s2c"] == 456789 and e["dst_port"] == 80 for e in d["entries"])' \
	"$SHM" --shm "$SHM_NAME" list --json
check "watch --json --count 2 prints two documents" \
	bash -c '"$0" --shm "$1" watch --json --count 2 --interval 10ms | python3 -c "import json,sys; l=[json.loads(x) for x in sys.stdin]; sys.exit(0 if len(l)==2 and len(l[1][\"entries\"])==3 else 1)"' "$SHM" "$SHM_NAME"
check "list text shows the established entry with its bytes" \
	bash -c '"$0" --shm "$1" list | grep -q "established.*198.18.1.2:40002.*198.18.2.2:80.*456789"' "$SHM" "$SHM_NAME"

# expect_fail STATUS WORDS CMD...: exit STATUS and stderr mentions WORDS
expect_fail() {
	local want=$1 words=$2; shift 2
	"$@" >/dev/null 2>"$TMP/err"
	local rc=$?
	[ "$rc" -eq "$want" ] && grep -q -- "$words" "$TMP/err"
}
check "missing segment: exit 1, names it" expect_fail 1 "$SHM_NAME-none does not exist" "$SHM" --shm "$SHM_NAME-none" stats
for kind in foreign:"not a pepsal" truncated:"truncated" version:"version"; do
	"$FIX" "$SHM_NAME" "${kind%%:*}" 2>/dev/null || { rm -f "/dev/shm/${SHM_NAME#/}"; "$FIX" "$SHM_NAME" "${kind%%:*}"; }
	check "${kind%%:*} segment: exit 1 with a clear message" expect_fail 1 "${kind#*:}" "$SHM" --shm "$SHM_NAME" list --json
	rm -f "/dev/shm/${SHM_NAME#/}"
done
check "unknown command: exit 2" expect_fail 2 "unknown command" "$SHM" --shm "$SHM_NAME" frobnicate
check "bad option value: exit 2" expect_fail 2 "interval" "$SHM" --interval soon watch
check "extra argument: exit 2" expect_fail 2 "unexpected argument" "$SHM" list extra
finish
