#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run every test program given as argument and count its TAP lines.
# GTest binaries run with --tap; shell tests (tests/ns/*.sh) print
# "ok - ..." / "not ok - ..." themselves and exit 77 when the kernel lacks a
# feature. A program that fails without a "not ok" line counts as one failure.
# Ends with the line "N passed, N failed, N skipped".
# RETRY=1 (CI): a namespace test that fails is run once more, and counts as
# its second run; such a test is listed as flaky, with the checks its first
# run failed, in the line before the last. A test broken for good fails
# both runs; one that passes only on its second is reported, never hidden.
set -u
: "${BUILD:?BUILD must name the build directory}"
export BUILD
logdir=$(mktemp -d /tmp/pepsal-tests.XXXXXX)
passed=0 failed=0 skipped=0 flaky=()

# run_one TEST LOG: run it, set p, f, s from its TAP lines and status
run_one() {
	local rc
	case "$1" in
	*.sh) timeout -k 10 900 bash "$1" >"$2" 2>&1 ;;
	*) timeout -k 10 900 "$1" --tap >"$2" 2>&1 ;;
	esac
	rc=$?
	p=$(grep -cE '^ok ' "$2" | tr -d ' ')
	s=$(grep -cE '^ok .*# *(SKIP|skip)' "$2" | tr -d ' ')
	f=$(grep -cE '^not ok ' "$2" | tr -d ' ')
	p=$((p - s))
	if [ "$rc" -eq 77 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		s=$((s + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $(basename "$1") exited with status $rc" >>"$2"
	fi
}

for t in "$@"; do
	name=$(basename "$t")
	log="$logdir/$name.log"
	run_one "$t" "$log"
	if [ "$f" -gt 0 ] && [ "${RETRY:-0}" = 1 ] && [[ $t == *.sh ]]; then
		mv "$log" "$log.first"
		first=$(grep -E '^not ok ' "$log.first" | head -n 3 | tr '\n' ';')
		run_one "$t" "$log"
		if [ "$f" -eq 0 ]; then
			flaky+=("$name (first run: $first see $log.first)")
			echo "    flaky: $name failed its first run, passed its second: $first"
		fi
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
[ ${#flaky[@]} -eq 0 ] || printf 'flaky (passed on a second run): %s\n' "${flaky[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
