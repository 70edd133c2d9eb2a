#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal's command line (every option value parser) and the table's attach
# (a segment of random content, read as pepsal-shm reads it) under
# libFuzzer with AddressSanitizer and UBSan, FUZZ_SECONDS each (default 15
# here): no crash, no sanitizer report. Skipped without clang.
. "$(dirname "$0")/../lib.sh"
need_cmd clang
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

fuzz_run "$secs" opts attach
rm -f /dev/shm/pepsal-fuzz-attach-* 2>/dev/null
finish
