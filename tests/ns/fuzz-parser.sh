#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The queuer's packet parser under libFuzzer with AddressSanitizer and UBSan
# for a bounded time (FUZZ_SECONDS, default 30 here; `make fuzz` alone runs
# 60 s): no crash, no sanitizer report. Skipped without clang.
. "$(dirname "$0")/../lib.sh"
need_cmd clang
SRC=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-30}

make -C "$SRC" --no-print-directory BUILD="$BUILD" FUZZ_SECONDS="$secs" fuzz >"$TMP/fuzz.log" 2>&1
rc=$?
grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$TMP/fuzz.log" | tail -n 2 | sed 's/^/# /'
check "parser fuzzed for ${secs} s without a crash or sanitizer report" [ "$rc" -eq 0 ]
check "the fuzzer really ran (executed units reported)" grep -qE 'stat::number_of_executed_units: +[1-9]' "$TMP/fuzz.log"
check "no sanitizer report in the log" bash -c '! grep -qE "ERROR: (AddressSanitizer|libFuzzer)|runtime error:" "$0"' "$TMP/fuzz.log"
[ "$FAILS" -eq 0 ] || tail -n 30 "$TMP/fuzz.log"
finish
