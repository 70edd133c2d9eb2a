#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Readers of what another host or process writes, under libFuzzer with
# AddressSanitizer and UBSan, FUZZ_SECONDS each (default 10 here): the
# request reader of pepsal-shm serve (any client that reaches its port) and
# pepsal-queuer's command line with its value parsers (what pepsal writes
# there, or an operator). No crash, no sanitizer report. Skipped without
# clang.
. "$(dirname "$0")/../lib.sh"
need_cmd clang
SRC=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-10}

# seeds: requests serve answers each way, argument vectors of every kind
mkdir -p "$TMP/seeds-serve" "$TMP/seeds-queuer-opts"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' >"$TMP/seeds-serve/get"
printf 'HEAD /metrics?x=1 HTTP/1.0\n\n' >"$TMP/seeds-serve/head"
printf 'POST / HTTP/1.1\r\n\r\n' >"$TMP/seeds-serve/post"
printf 'GET /nothing HTTP/1.1\r\nA: b\r\n\r\n' >"$TMP/seeds-serve/404"
printf -- '--mark\0000x2/0x2\000--routing-mark\0000x1\000--nice\000-10\000--hold-time\0003s' \
	>"$TMP/seeds-queuer-opts/1"
printf -- '-q\0003\000--shm\000/x\000--rcvbuf\0008m\000--capacity\00016\000--notify-fd\0003' \
	>"$TMP/seeds-queuer-opts/2"

for f in serve queuer-opts; do
	make -C "$SRC" --no-print-directory BUILD="$BUILD" FUZZ_SECONDS="$secs" \
		FUZZ_SEEDS="$TMP/seeds-$f" "fuzz-$f" >"$TMP/fuzz-$f.log" 2>&1
	rc=$?
	grep -E 'stat::number_of_executed_units' "$TMP/fuzz-$f.log" | tail -n 1 | sed "s/^/# $f: /"
	check "$f fuzzed for ${secs} s without a crash or sanitizer report" [ "$rc" -eq 0 ]
	check "$f: the fuzzer really ran (executed units reported)" \
		grep -qE 'stat::number_of_executed_units: +[1-9]' "$TMP/fuzz-$f.log"
	check "$f: no sanitizer report in the log" \
		bash -c '! grep -qE "ERROR: (AddressSanitizer|libFuzzer)|runtime error:" "$0"' "$TMP/fuzz-$f.log"
	[ "$rc" -eq 0 ] || tail -n 30 "$TMP/fuzz-$f.log"
done
finish
