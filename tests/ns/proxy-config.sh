#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal refuses a wrong configuration before anything starts (issue 22):
# status 2, one line naming the problem, no table created, nothing bound:
#   - the listening address (-a), checked with the other values;
#   - a --mark that overlaps the routing mark, which now reaches the queuer
#     (--route-mark): a custom one runs a queuer that stays up;
#   - options a pair role has no use for, --pair-* without a role;
#   - a pair key file other users may read; a queuer program that is not
#     there;
#   - --check runs every check and starts nothing; --hold-time 0.1s (as
#     pepsal(8) writes its range) is taken.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_root
[ -x "$BUILD/pepsal" ] && [ -x "$BUILD/pepsal-queuer" ] || skip_all "build pepsal into $BUILD first"
NS=$(ns_new pcfg) || { not_ok "namespace"; finish; }

# refused WANT ARGS...: status 2, WANT in the first line, no table, no listener
refused() {
	local want=$1; shift
	# a pepsal that takes the configuration runs: stopped after 5 s
	nsx "$NS" timeout 5 "$BUILD/pepsal" --shm "$SHM_NAME" "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$? line table=none
	[ ! -e "/dev/shm/${SHM_NAME#/}" ] || table=created
	rm -f "/dev/shm/${SHM_NAME#/}"
	line=$(head -n 1 "$TMP/err")
	if [ $rc -eq 2 ] && grep -q -- "$want" <<<"$line" && [ $table = none ]; then
		ok "pepsal $*: status 2, '$line'"
	else
		not_ok "pepsal $*: status $rc, '$line', expected 2 and '$want', nothing started"
	fi
}

refused "invalid value 'foo' for --address" -a foo
refused "invalid value '198.18.0.300' for --address" --address 198.18.0.300
refused "overlaps the routing mark 0x1/0x1" --mark 0x1/0x1
refused "overlaps the routing mark 0x4/0x4" --mark 0x6/0x6 --route-mark 0x4
refused "invalid value '0' for --mark: the value must not be zero" --mark 0
GW=(--pair-role gateway --pair-listen :5001 --pair-peer 198.18.3.1 --pair-key-file /nonexistent)
refused "--mode does not apply to --pair-role gateway" "${GW[@]}" --mode tproxy
refused "--address does not apply to --pair-role gateway" "${GW[@]}" -a 198.18.4.2
refused "--pair-pool does not apply to --pair-role gateway" "${GW[@]}" --pair-pool 4
refused "--pair-pool needs --pair-role" --pair-pool 4
refused "invalid duration '0.05s' for --hold-time: .*(between 100ms and 1m)" --hold-time 0.05s
refused "the queuer /nonexistent cannot be run" --queuer /nonexistent

# the key file: open to others, refused; 0600, taken
head -c 32 /dev/urandom | base64 >"$TMP/key"
chmod 644 "$TMP/key"
TERM_OPTS=(--pair-role terminal --pair-gateway 198.18.4.2 --pair-key-file "$TMP/key")
refused "the key file $TMP/key is open to other users (mode 0644): chmod 600" "${TERM_OPTS[@]}"
chmod 600 "$TMP/key"
check "--check: a terminal with a key of mode 0600 is valid" \
	nsx "$NS" "$BUILD/pepsal" --shm "$SHM_NAME" "${TERM_OPTS[@]}" --check

# --check: status 0 and one line, nothing created; every problem reported
out=$(nsx "$NS" "$BUILD/pepsal" --shm "$SHM_NAME" --hold-time 0.1s --check 2>&1); rc=$?
check "--check --hold-time 0.1s: status 0, '$out'" \
	test "$rc:$out" = "0:pepsal: the configuration is valid"
check "--check created no table" [ ! -e "/dev/shm/${SHM_NAME#/}" ]
nsx "$NS" "$BUILD/pepsal" --check -c 0 -p 0 -a x >/dev/null 2>"$TMP/err"; rc=$?
check "--check with three bad values: status 2, a line each and one hint ($(wc -l <"$TMP/err") lines)" \
	test "$rc:$(grep -c '^pepsal: invalid value' "$TMP/err"):$(grep -c 'Try ' "$TMP/err")" = 2:3:1

# the routing mark reaches the queuer: --mark 0x1/0x1 apart from a custom
# --route-mark runs a queuer that stays up (it exited 2 at every restart)
nsx "$NS" "$BUILD/pepsal" --shm "$SHM_NAME" --mark 0x1/0x1 --route-mark 0x4 \
	>"$TMP/pepsal.log" 2>&1 &
PEPSAL_PID=$!
on_exit "kill $PEPSAL_PID"
if wait_until 10 role_alive queuer; then
	ok "--mark 0x1/0x1 --route-mark 0x4: the queuer runs"
	qpid=$(queuer_pid)
	check "the queuer was given --routing-mark 0x4/0x4" \
		sh -c "tr '\\0' '\\n' </proc/$qpid/cmdline | grep -A1 -x -- --routing-mark | grep -qx 0x4/0x4"
	check "... and --mark 0x1/0x1" sh -c "tr '\\0' '\\n' </proc/$qpid/cmdline | grep -A1 -x -- --mark | grep -qx 0x1/0x1"
	check "... and was never restarted" [ "$(counter proxy.queuer_restarts)" = 0 ]
else
	not_ok "--mark 0x1/0x1 --route-mark 0x4: the queuer runs"
	sed 's/^/# /' "$TMP/pepsal.log" | tail -n 5
fi
proxy_stop
finish
