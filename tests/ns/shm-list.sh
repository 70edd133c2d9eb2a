#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-shm list as an operator uses conntrack -L: filters by client,
# destination, ports, state and age; sorting by bytes, age and idle time
# with ties broken by slot; -C counts; --limit; watch shows the byte rate of
# each entry and of the counters. The table is shm-crowd's six entries:
#   40001 198.18.1.2  -> 198.18.2.2:80     established  90 s  1000/5000000
#   40002 198.18.1.2  -> 198.18.2.2:443    established  10 s  200/20000
#   40003 198.18.1.3  -> 198.18.2.3:80     pending       2 s
#   40004 198.18.4.9  -> 198.18.2.2:80     closing      60 s  50/60
#   40005 fd00:1::2   -> [fd00:2::2]:443   established  30 s  9000000/1
#   40006 fd00:1::3   -> [fd00:2::2]:80    pending       1 s
. "$(dirname "$0")/../lib.sh"
need_cmd python3
SHM="$BUILD/pepsal-shm"
CROWD="$BUILD/tests/shm-crowd"
"$CROWD" "$SHM_NAME" build || { not_ok "shm-crowd build"; finish; }

# ports CMD...: the client ports of the entries listed, in order, by JSON
ports() {
	"$SHM" --shm "$SHM_NAME" list --json "$@" |
		python3 -c 'import json,sys; print(" ".join(str(e["client_port"]) for e in json.load(sys.stdin)["entries"]))'
}
# expect WHAT "PORTS" OPTIONS...: list with OPTIONS shows exactly PORTS, in order
expect() {
	local what=$1 want=$2 have; shift 2
	have=$(ports "$@" 2>&1)
	if [ "$have" = "$want" ]; then ok "$what"
	else not_ok "$what: got '$have', want '$want'"; fi
}

expect "no filter: every entry, in slot order" "40001 40002 40003 40004 40005 40006"
expect "--client ADDR" "40001 40002" --client 198.18.1.2
expect "--client PREFIX" "40001 40002 40003" --client 198.18.1.0/24
expect "--client with a prefix that is not a byte boundary" "40004" --client 198.18.4.8/29
expect "--client IPv6 prefix" "40005 40006" --client fd00:1::/64
expect "--client-port" "40002" --client 198.18.1.2 --client-port 40002
expect "--dst and --port" "40005" --dst fd00:2::/64 --port 443
expect "--port alone, both families" "40002 40005" -p 443
expect "--state" "40001 40002 40005" --state established
expect "--state list" "40003 40004 40006" -S pending,closing
# The ages move on while the test runs: a fresh table before each age
# check, so that a loaded machine has seconds of margin, not milliseconds.
fresh() { rm -f "/dev/shm/${SHM_NAME#/}"; "$CROWD" "$SHM_NAME" build; }
fresh && expect "--min-age" "40001 40004 40005" --min-age 20s
fresh && expect "--max-age" "40003 40006" --max-age 6s
fresh && expect "--min-age and --max-age" "40004 40005" --min-age 20s --max-age 70s
expect "--sort bytes: most bytes first" "40005 40001 40002 40004 40003 40006" --sort bytes
expect "--sort age: oldest first" "40001 40004 40005 40002 40003 40006" --sort age
expect "--sort idle: longest idle first" "40001 40004 40005 40002 40003 40006" --sort idle
expect "--sort bytes --limit 2: the top two" "40005 40001" --sort bytes --limit 2
expect "filters and sort together" "40001 40004" --dst 198.18.2.2 --port 80 --sort bytes

count() { "$SHM" --shm "$SHM_NAME" list "$@"; }
check "-C prints the number of entries" [ "$(count -C)" = 6 ]
check "-C with filters" [ "$(count -C --state established --client 198.18.0.0/15)" = 2 ]
check "-C --json" [ "$(count -C --json --port 80)" = "{\"table\":\"$SHM_NAME\",\"count\":4,\"skipped\":0}" ]
check "--json reports how many matched beside the entries shown" \
	bash -c "'$SHM' --shm '$SHM_NAME' list --json --limit 1 | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d[\"matched\"]==6 and len(d[\"entries\"])==1 else 1)'"
"$SHM" --shm "$SHM_NAME" list --sort bytes --limit 2 >"$TMP/text"
check "text: the header is unchanged" \
	bash -c "head -1 '$TMP/text' | grep -qx 'STATE *CLIENT *ORIGINAL DESTINATION *AGE(s) *BYTES C>S *BYTES S>C'"
check "text: one line per entry, in order, then what --limit left out" \
	bash -c "sed -n '2p' '$TMP/text' | grep -q '^established  \[fd00:1::2\]:40005 .* 9000000  *1\$' &&
		sed -n '3p' '$TMP/text' | grep -q '^established  198.18.1.2:40001 ' &&
		sed -n '4p' '$TMP/text' | grep -qx '(4 more not shown: --limit 2)'"

# ---- bad values: exit 2, the option named
bad() {
	local what=$1; shift
	"$SHM" --shm "$SHM_NAME" list "$@" >/dev/null 2>"$TMP/err"
	local rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$what" "$TMP/err"; then ok "bad value: $* (exit 2, names $what)"
	else not_ok "bad value: $* (exit $rc: $(cat "$TMP/err"))"; fi
}
bad --client --client 198.18.300.1
bad --client --client 198.18.0.0/33
bad --dst --dst fd00::/129
bad --state --state listening
bad --sort --sort size
bad --port --port 70000
bad --min-age --min-age 10s --max-age 5s

# ---- watch: rates
"$CROWD" "$SHM_NAME" pump 198.18.1.2:40002 100000 &
PUMP=$!
on_exit "kill $PUMP"
wait_until 10 bash -c "'$SHM' --shm '$SHM_NAME' stats | grep -q crowd.pumped"
"$SHM" --shm "$SHM_NAME" watch --json --count 3 --interval 500ms --client 198.18.1.2 >"$TMP/watch"
kill "$PUMP"
check "watch --json: three documents" [ "$(wc -l <"$TMP/watch")" = 3 ]
# The pump adds 1000 bytes C>S and 2000 S>C every 10 ms (100 kB/s asked):
# on a loaded machine it runs late, never early, so the rate is at most
# 100 kB/s plus rounding and more than nothing.
check "watch: no rate at the first refresh, a rate for the pumped entry after" python3 - "$TMP/watch" <<'PY'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
first, last = docs[0], docs[-1]
e = {x["client_port"]: x for x in last["entries"]}
ok = (first["rates"] is None and first["entries"][0]["bytes_c2s_per_s"] is None
      and 0 < e[40002]["bytes_c2s_per_s"] <= 110000
      and e[40002]["bytes_s2c_per_s"] > e[40002]["bytes_c2s_per_s"]
      and e[40001]["bytes_c2s_per_s"] == 0 and e[40001]["bytes_s2c_per_s"] == 0
      and 0 < last["rates"]["bytes_c2s_per_s"] <= 110000
      and last["rates"]["counters"]["crowd.pumped"] > 0
      and sorted(e) == [40001, 40002])
if not ok:
    print("# " + json.dumps(last))
sys.exit(0 if ok else 1)
PY
"$CROWD" "$SHM_NAME" pump 198.18.1.2:40002 100000 &
PUMP=$!
on_exit "kill $PUMP"
wait_until 10 bash -c "'$SHM' --shm '$SHM_NAME' stats | grep -q crowd.pumped"
"$SHM" --shm "$SHM_NAME" watch --count 2 --interval 300ms --port 443 >"$TMP/watch.txt"
kill "$PUMP"
check "watch text: a rate column and the total rates" \
	bash -c "grep -q 'B/s C>S *B/s S>C\$' '$TMP/watch.txt' && grep -q 'rates over 0\.[0-9] s: [1-9][0-9]* B/s client to server' '$TMP/watch.txt' &&
		grep -q '^  crowd.pumped *+[1-9]' '$TMP/watch.txt' &&
		grep -Eq '^established  198\.18\.1\.2:40002 .* [1-9][0-9]+ +[1-9][0-9]+\$' '$TMP/watch.txt'"
finish
