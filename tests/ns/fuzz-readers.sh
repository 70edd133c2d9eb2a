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

fuzz_run "$secs" serve queuer-opts
finish
