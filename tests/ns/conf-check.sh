#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-start checks a whole pepsal.conf for both programs before it runs
# anything (issue 22.8 and its Deliver): --check says "valid", or one line
# per problem with status 2; --print and the unit's ExecStart refuse the
# same file the same way, so under pepsal.service (RestartPreventExitStatus=2)
# a wrong configuration fails once and changes nothing in the kernel.
set -eu
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip iptables-nft setpriv

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
START=$BUILD/pepsal-start
for p in pepsal pepsal-queuer pepsal-iptables pepsal-start pepsal-shm; do
	[ -x "$BUILD/$p" ] || { not_ok "$p built"; finish; }
done
SHM=/pepsal-confcheck-$ID
on_exit "rm -f /dev/shm$SHM"
# as the unit runs it, with the programs of this build
start() { "$START" --pepsal "$BUILD/pepsal" "$@"; }

# conf NAME LINE...: $TMP/NAME.conf, the shipped file with LINEs added
conf() {
	local f=$TMP/$1.conf
	shift
	cp "$ROOT/rules/pepsal.conf" "$f"
	printf '%s\n' "PEPSAL_SHM=$SHM" "$@" >>"$f"
	echo "$f"
}

# rejects WHAT FILE PATTERN...: --check exits 2 with nothing on stdout, and
# on stderr each PATTERN exactly once, nothing else but the summary
rejects() {
	local what=$1 f=$2 rc n pat
	shift 2
	start -c "$f" --check >"$TMP/out" 2>"$TMP/err" && rc=0 || rc=$?
	check "$what: status 2 ($rc)" [ "$rc" = 2 ]
	check "$what: nothing on stdout" test ! -s "$TMP/out"
	for pat in "$@"; do
		n=$(grep -cE -- "$pat" "$TMP/err" || true)
		if [ "$n" = 1 ]; then ok "$what: said once: $pat"
		else not_ok "$what: said once ($n times): $pat"; sed 's/^/#   /' "$TMP/err"; fi
	done
	n=$(wc -l <"$TMP/err")
	if [ "$n" = $(($# + 1)) ]; then ok "$what: one line per problem, and the summary"
	else not_ok "$what: one line per problem, and the summary ($n lines)"; sed 's/^/#   /' "$TMP/err"; fi
	check "$what: the summary counts them" grep -q ": $# problem(s); nothing was started" "$TMP/err"
}

# ---- a valid file: status 0, checked without privilege
good=$(conf good)
chmod 644 "$good"
chmod o+x "$TMP" # nobody reads it
check "the shipped pepsal.conf is valid, checked as nobody" \
	sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		'$START' --pepsal '$BUILD/pepsal' -c '$good' --check | grep -qxF 'pepsal-start: $good: the configuration is valid'"
check "--version: the project's" sh -c "'$START' --version | grep -Eqx 'pepsal-start [0-9]+\.[0-9]+\.[0-9]+'"
start --frobnicate >/dev/null 2>"$TMP/err" && rc=0 || rc=$?
check "an unknown option of its own: status 2 ($rc), one line and the hint" \
	sh -c '[ "$1" = 2 ] && grep -q "unknown option .--frobnicate." "$2" && [ "$(wc -l <"$2")" = 2 ]' _ "$rc" "$TMP/err"

# ---- names: each kind of wrong one, all in one file, each on its line
f=$(conf names PEPSAL_MAXCONNS=4 PEPSAL_IPT_INTERFACE=eth0 PEPSAL_HANDOVER_FD=3 PEPSAL_KEEPALIVE=maybe)
rejects "wrong names" "$f" \
	"PEPSAL_MAXCONNS: pepsal has no option --maxconns" \
	"pepsal-iptables: .*PEPSAL_IPT_INTERFACE is not a variable" \
	"PEPSAL_HANDOVER_FD is not a setting" \
	"PEPSAL_KEEPALIVE='maybe': say yes or no"

# ---- values, pepsal's and pepsal-iptables'; a shared variable said once
f=$(conf values PEPSAL_MAX_CONNS=0 PEPSAL_PORT=0 PEPSAL_IPT_FAMILY=x PEPSAL_HOLD_TIME=0.1s)
rejects "wrong values" "$f" \
	"^pepsal: .*'0' for --max-conns.*\(.*values.conf: PEPSAL_MAX_CONNS\)$" \
	"PEPSAL_PORT" \
	"^pepsal-iptables: .*PEPSAL_IPT_FAMILY: 'x'"

# ---- combinations: the marks apart (both programs check it: said once),
# an option the role has no use for
f=$(conf marks PEPSAL_MARK=0x1)
rejects "the mark on the routing mark's bit" "$f" "overlaps the routing mark.*PEPSAL_MARK"
f=$(conf role PEPSAL_PAIR_ROLE=gateway PEPSAL_PAIR_LISTEN=:7000 PEPSAL_PAIR_PEER=198.18.0.0/15 \
	PEPSAL_MODE=tproxy \
	"PEPSAL_PAIR_KEY_FILE=$TMP/key")
head -c 32 /dev/urandom >"$TMP/key"
chmod 600 "$TMP/key"
rejects "a gateway given --mode" "$f" "--mode does not apply to --pair-role gateway"

# ---- the pair's key file, readable by others (issue 22.8)
f=$(conf key PEPSAL_PAIR_ROLE=gateway PEPSAL_PAIR_LISTEN=:7000 PEPSAL_PAIR_PEER=198.18.0.0/15 "PEPSAL_PAIR_KEY_FILE=$TMP/key")
check "a key file of mode 0600: valid" start -c "$f" --check
chmod 644 "$TMP/key"
rejects "a key file others may read" "$f" "key file .* is open to other users.*chmod 600"

# ---- the file itself: read whole or not at all
mkdir "$TMP/conf.d"
printf 'PEPSAL_PORT=6000\nif then\n' >"$TMP/syntax.conf"
printf 'PEPSAL_PORT=6000\nfalse\n' >"$TMP/last.conf"
for c in conf.d:"not a readable file" syntax.conf:"a shell error above" last.conf:"its last command failed" \
	nosuch.conf:"no such file"; do
	start -c "$TMP/${c%%:*}" --check >/dev/null 2>"$TMP/err" && rc=0 || rc=$?
	check "${c%%:*}: status 2 ($rc), '${c#*:}'" \
		sh -c '[ "$1" = 2 ] && grep -q "cannot read .*$2" "$3"' _ "$rc" "${c#*:}" "$TMP/err"
done

# ---- --print prints no command line for a wrong file (it printed
# --max-conns=0, which the unit would have run, restarting every 2 s)
f=$(conf print PEPSAL_MAX_CONNS=0)
start -c "$f" --print >"$TMP/out" 2>"$TMP/err" && rc=0 || rc=$?
check "--print, a wrong value: status 2 ($rc), no command line" \
	sh -c '[ "$1" = 2 ] && [ ! -s "$2" ] && grep -q -- "--max-conns" "$3"' _ "$rc" "$TMP/out" "$TMP/err"

# ---- the unit's ExecStart in a namespace of its own: a wrong file starts
# nothing and changes nothing; the same file mended starts pepsal
grep -q '^ExecStart=.*/pepsal-start --foreground --config ' "$ROOT/rules/pepsal.service" ||
	not_ok "the unit runs pepsal through pepsal-start --foreground --config"
NS=$(ns_new cc)
rules() { nsx "$NS" iptables-nft -t mangle -S; nsx "$NS" iptables-nft -t nat -S; ip -n "$NS" rule show; }
rules >"$TMP/before"
bad=$(conf unit PEPSAL_IPT_INTERFACES=lo PEPSAL_PORT=6000 PEPSAL_MARK=0x1)
nsx "$NS" "$START" --pepsal "$BUILD/pepsal" --foreground --config "$bad" >/dev/null 2>"$TMP/err" && rc=0 || rc=$?
check "ExecStart, a wrong file: status 2 ($rc), which the unit does not restart" \
	sh -c '[ "$1" = 2 ] && grep -qx "RestartPreventExitStatus=2" "$2"' _ "$rc" "$ROOT/rules/pepsal.service"
check "ExecStart, a wrong file: no table made" test ! -e "/dev/shm$SHM"
check "ExecStart, a wrong file: nothing runs in the namespace" sh -c "[ -z \"\$(ip netns pids $NS)\" ]"
rules >"$TMP/now"
check "ExecStart, a wrong file: no rule changed" cmp -s "$TMP/before" "$TMP/now"
sed -i '$d' "$bad" # the mark, its last line
nsx "$NS" "$START" --pepsal "$BUILD/pepsal" --foreground --config "$bad" >"$TMP/run.log" 2>&1 &
pid=$!
on_exit "kill $pid"
check "ExecStart, the file mended: pepsal runs and makes its table" \
	wait_until 10 "$BUILD/pepsal-shm" -s "$SHM" stats
kill "$pid"
wait "$pid" 2>/dev/null || true
finish
