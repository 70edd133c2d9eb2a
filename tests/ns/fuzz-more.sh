#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal's command line (every option value parser) and the table's attach
# (a segment of random content, read as pepsal-shm reads it) under
# libFuzzer with AddressSanitizer and UBSan, FUZZ_SECONDS each (default 15
# here): no crash, no sanitizer report. Skipped without clang.
. "$(dirname "$0")/../lib.sh"
need_cmd clang
SRC=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-15}

# seeds: argument vectors with every kind of value, and a valid table
mkdir -p "$TMP/seeds-opts" "$TMP/seeds-attach"
printf -- '--client-pacing\00020m\000--upstream-ports\00020000-32767\000-g\0002h' >"$TMP/seeds-opts/1"
printf -- '--pipe-size\00064k\000--mark\0000x2/0x2\000--shm-mode\0000640\000--mode\000tproxy' >"$TMP/seeds-opts/2"
printf -- '--shm\000x\000--client-cc\000reno\000-c\00010\000--idle-timeout\000500ms' >"$TMP/seeds-opts/3"
fixture="/pepsal-fuzz-seed-$ID"
on_exit "rm -f /dev/shm/${fixture#/}"
"$BUILD/tests/shm-fixture" "$fixture" populate >/dev/null 2>&1 &&
	cp "/dev/shm/${fixture#/}" "$TMP/seeds-attach/valid"

for f in opts attach; do
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
rm -f /dev/shm/pepsal-fuzz-attach-* 2>/dev/null
finish
