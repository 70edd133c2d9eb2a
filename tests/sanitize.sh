#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run tests (tests/run.sh) against a sanitizer build and fail on any report.
#   BUILD=build-tsan SAN=thread  bash tests/sanitize.sh TESTS...
#   BUILD=build-asan SAN=address bash tests/sanitize.sh TESTS...
# Every sanitized program (pepsal, its queuer, pepsal-shm, the test tools)
# writes its reports into a directory per test (log_path), not to the
# test's stderr. After the run each distinct report is printed once, with
# the tests that produced it, and each report counts as one failure in the
# final line "N passed, N failed, N skipped". The sanitizers' exit codes
# are neutral (exitcode=0) so that a test judges behaviour and this script
# judges reports; ASan and UBSan still stop a program at its first error.
set -u
: "${BUILD:?BUILD must name the sanitizer build directory}"
: "${SAN:?SAN must be thread or address}"
case "$SAN" in
thread | address) ;;
*) echo "sanitize.sh: SAN=$SAN: use thread or address" >&2; exit 2 ;;
esac
logs=$(mktemp -d /tmp/pepsal-san.XXXXXX)
out=$(mktemp /tmp/pepsal-san-run.XXXXXX)
trap 'rm -f "$out"' EXIT
passed=0 failed=0 skipped=0

for t in "$@"; do
	name=$(basename "$t")
	mkdir -p "$logs/$name"
	prefix="log_path=$logs/$name/report exitcode=0"
	TSAN_OPTIONS="$prefix halt_on_error=0 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
	ASAN_OPTIONS="$prefix detect_leaks=1 ${ASAN_OPTIONS:-}" \
	UBSAN_OPTIONS="$prefix print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}" \
		bash "$(dirname "$0")/run.sh" "$t" >"$out"
	grep -Ev '^(logs: |[0-9]+ passed, )' "$out"
	if read -r p f s < <(tail -n 1 "$out" | awk '/ passed, .* failed, .* skipped$/ { print $1, $3, $5 }'); then
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	else
		failed=$((failed + 1)) # the runner did not get to its final line
	fi
done

# A report opens with a line of '=' (TSan, ASan, LSan) or is a UBSan
# "runtime error" line and its stack; each ends with a SUMMARY line.
reports=$(cat "$logs"/*/report.* 2>/dev/null | grep -c '^SUMMARY: ')
echo "sanitizer reports ($SAN): $reports, in $logs"
if [ "$reports" -gt 0 ]; then
	echo "distinct reports: count, summary, tests"
	for f in "$logs"/*/report.*; do
		grep '^SUMMARY: ' "$f" | sed "s|\$|	$(basename "$(dirname "$f")")|"
	done | awk -F'\t' '{ n[$1]++; if (index(" " t[$1] " ", " " $2 " ") == 0) t[$1] = t[$1] " " $2 }
		END { for (s in n) printf "%6d %s (%s )\n", n[s], s, t[s] }' | sort -rn
	echo "the first report of each:"
	cat "$logs"/*/report.* | awk '
		/^=+$|^==[0-9]+==ERROR|runtime error:/ { if (!inrep) { buf = ""; inrep = 1 } }
		inrep { buf = buf $0 "\n" }
		/^SUMMARY: / { if (!seen[$0]++) printf "%s\n", buf; inrep = 0 }'
	echo "not ok - $reports sanitizer reports ($SAN)"
fi
echo "$passed passed, $((failed + reports)) failed, $skipped skipped"
[ "$((failed + reports))" -eq 0 ]
