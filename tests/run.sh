#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run every test program given as argument and count its TAP lines.
# GTest binaries run with --tap; shell tests (tests/ns/*.sh) print
# "ok - ..." / "not ok - ..." themselves and exit 77 when the kernel lacks a
# feature. A program that fails without a "not ok" line counts as one failure.
# Ends with the line "N passed, N failed, N skipped".
set -u
: "${BUILD:?BUILD must name the build directory}"
export BUILD
logdir=$(mktemp -d /tmp/pepsal-tests.XXXXXX)
passed=0 failed=0 skipped=0

for t in "$@"; do
	name=$(basename "$t")
	log="$logdir/$name.log"
	case "$t" in
	*.sh) timeout -k 10 900 bash "$t" >"$log" 2>&1 ;;
	*) timeout -k 10 900 "$t" --tap >"$log" 2>&1 ;;
	esac
	rc=$?
	p=$(grep -cE '^ok ' "$log" | tr -d ' ')
	s=$(grep -cE '^ok .*# *(SKIP|skip)' "$log" | tr -d ' ')
	f=$(grep -cE '^not ok ' "$log" | tr -d ' ')
	p=$((p - s))
	if [ "$rc" -eq 77 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		s=$((s + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	printf '%-28s %4d passed %4d failed %4d skipped\n' "$name" "$p" "$f" "$s"
	if [ "$f" -gt 0 ]; then
		grep -E '^not ok ' "$log" | sed 's/^/    /'
		echo "    --- last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    | /'
	fi
done
echo "logs: $logdir"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
