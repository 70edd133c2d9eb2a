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

# ---- issue 22.5 and 22.9: each command takes its own options, and says so
"$FIX" "$SHM_NAME" populate >/dev/null || not_ok "fixture again"
# refused WORDS ARGS...: status 2, WORDS in the first line, at most a hint after
refused() {
	local words=$1; shift
	"$SHM" "$@" >/dev/null 2>"$TMP/err"
	local rc=$?
	if [ $rc -eq 2 ] && head -n 1 "$TMP/err" | grep -q -- "$words" &&
		{ [ "$(wc -l <"$TMP/err")" -eq 1 ] || sed -n 2p "$TMP/err" | grep -q '^Try '; } &&
		[ "$(wc -l <"$TMP/err")" -le 2 ]; then
		ok "pepsal-shm $*: status 2, '$(head -n 1 "$TMP/err")'"
	else
		not_ok "pepsal-shm $*: status $rc, expected 2 and '$words' in one line: $(head -c 300 "$TMP/err")"
	fi
}
refused "stats: unknown option '--client'" --shm "$SHM_NAME" stats --client 198.18.1.2
refused "metrics: unknown option '--sort'" --shm "$SHM_NAME" metrics --sort bytes
refused "list: unknown option '-i'" --shm "$SHM_NAME" list -i 1s
refused "list: unknown option '--listen'" --shm "$SHM_NAME" list --listen :9752
refused "watch: unknown option '-C'" --shm "$SHM_NAME" watch -C
refused "metrics: --json does not apply" --shm "$SHM_NAME" --json metrics
refused "serve: --json does not apply" --json serve
refused "unknown option '--sort'" --sort bytes list
refused "unknown command 'frobnicate'" frobnicate
refused "invalid value '/a/b' for --shm" -s /a/b
refused "invalid value '/a/b' for --shm" list -s /a/b
refused "invalid value '0' for --count" --shm "$SHM_NAME" watch -n 0
refused "counters: --shm does not apply" --shm "$SHM_NAME" counters
check "--version: status 0, the version" sh -c "'$SHM' --version | grep -Eqx 'pepsal-shm [0-9]+\.[0-9]+\.[0-9]+'"
check "list --help shows list's options only" sh -c \
	"'$SHM' list --help | grep -q -- '--sort KEY' && ! '$SHM' list --help | grep -q -- '--listen'"

# a table only of IPv4 entries fits in 100 columns (list) and 120 (watch)
"$SHM" --shm "$SHM_NAME" list --client 198.18.0.0/15 >"$TMP/list4"
w=$(awk '{ if (length > m) m = length } END { print m }' "$TMP/list4")
check "list of IPv4 entries: $w columns wide, at most 100" \
	sh -c '[ "$1" -le 100 ] && [ "$2" -ge 2 ]' _ "$w" "$(wc -l <"$TMP/list4")"
"$SHM" --shm "$SHM_NAME" watch -n 2 -i 10ms --client 198.18.0.0/15 | grep -E '^(STATE|pending|established|closing) ' >"$TMP/watch4"
w=$(awk '{ if (length > m) m = length } END { print m }' "$TMP/watch4")
check "watch of IPv4 entries: $w columns wide, at most 120" [ "$w" -le 120 ]
check "list keeps its columns with IPv6 entries" \
	sh -c "'$SHM' --shm '$SHM_NAME' list | grep -q '^closing *\[fd00:1::2\]:40003 *\[fd00:2::2\]:443 '"

# a table pepsal keeps to itself (mode 0600): the message says what to do
if command -v setpriv >/dev/null 2>&1; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SHM" --shm "$SHM_NAME" stats >/dev/null 2>"$TMP/err"
	rc=$?
	check "unreadable table: status 1, a hint on root or --shm-mode ($(head -c 200 "$TMP/err"))" \
		sh -c '[ "$1" -eq 1 ] && grep -q "Permission denied.*run pepsal-shm as root, or start pepsal with --shm-mode 0640" "$2"' _ "$rc" "$TMP/err"
fi

# the counters: each once, the gauges as gauges
check "counters --json: every counter once, proxy.active, small_pipes and pair_pool the gauges" \
	json_check 'len(d) == len({c["name"] for c in d}) >= 61 and {c["name"] for c in d if c["type"] == "gauge"} == {"proxy.active", "proxy.small_pipes", "proxy.pair_pool"} and all(c["help"].endswith(".") for c in d)' \
	"$SHM" counters --json
finish
