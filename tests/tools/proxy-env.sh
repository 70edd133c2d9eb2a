# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of the proxy's namespace tests (tests/ns/proxy*.sh), sourced after
# tests/lib.sh:
#   proxy_setup [pepsal options]   topology, rules in the router, pepsal started
#   proxy_start [pepsal options]   (re)start pepsal in the router
#                                  (NO_SYS_RESOURCE=1: without CAP_SYS_RESOURCE)
#   counter NAME                   a counter of the table ("proxy.accepted")
#   bg NS LOG CMD...               run CMD in NS in the background, killed at exit
#   tcptool ARGS...                tests/tools/tcptool.py
# PROXY_MODE=tproxy (environment): rules and pepsal in tproxy mode (TPROXY
# rules, pepsal --mode tproxy, no queuer); default nfqueue.
# PROXY_TOPO=topo_five: a hop on each side of the router (default topo_three).
# PROXY_IPT_OPTS: more options of pepsal-iptables install ("--queues 2").
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$TOOLS/../.." && pwd)
PEPSAL_PID=
PROXY_MODE=${PROXY_MODE:-nfqueue}

tcptool() { python3 "$TOOLS/tcptool.py" "$@"; }

# bg NS LOG CMD...: start CMD in namespace NS; sets BG_PID.
bg() {
	local ns=$1 log=$2; shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	BG_PID=$!
	on_exit "kill $BG_PID"
}

# The rules of the design brief, installed by pepsal-iptables in the router:
# SYNs from eth0 to NFQUEUE (bypass), marked SYNs REDIRECTed to the proxy,
# -m socket --transparent mark and table 100 for the return path (tproxy
# mode: SYNs to TPROXY instead of NFQUEUE and REDIRECT).
proxy_rules() {
	nsx "$NS_R" bash "$SRC/rules/pepsal-iptables" --mode "$PROXY_MODE" -i eth0 ${PROXY_IPT_OPTS:-} install >"$TMP/rules.log" 2>&1 ||
		{ cat "$TMP/rules.log"; return 1; }
}

stats_json() { "$BUILD/pepsal-shm" --shm "$SHM_NAME" --json stats 2>/dev/null; }

# counter NAME: value of a named counter in the table (0 if absent).
counter() {
	stats_json | python3 -c 'import json,sys
d = json.load(sys.stdin); print(d.get("counters", {}).get(sys.argv[1], 0))' "$1" 2>/dev/null || echo 0
}

# counter_is NAME VALUE: for wait_until.
counter_is() { [ "$(counter "$1")" -eq "$2" ]; }

# table_used_is N: the table holds N entries.
table_used_is() {
	stats_json | python3 -c 'import json,sys
d = json.load(sys.stdin); sys.exit(0 if d["table"]["used"] == int(sys.argv[1]) else 1)' "$1"
}

# queuer_pid: the queuer's pid as its heartbeat records it.
queuer_pid() {
	stats_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["heartbeats"]["queuer"]["pid"])'
}

# role_alive ROLE: the role's heartbeat in the table is fresh.
role_alive() {
	stats_json | python3 -c 'import json,sys
d = json.load(sys.stdin); sys.exit(0 if d["heartbeats"][sys.argv[1]]["alive"] else 1)' "$1"
}

# proxy_start [options]: start pepsal in the router and wait until it
# listens and (unless --no-queuer) its queuer is alive.
proxy_start() {
	local extra=() # after the options: tests find pepsal by its command line
	[ "$PROXY_MODE" = nfqueue ] || extra=(--mode "$PROXY_MODE")
	# Under a sanitizer the proxy runs several times slower: at a burst of
	# connections its heartbeat comes later than the queuer's 3 s
	# --proxy-timeout (queuer.unmarked_proxy_down) and its dials end later
	# than the 3 s --hold-time (queuer.hold_expired). Either way new SYNs pass
	# end to end, rightly, but that is not what the tests check: there the
	# queuer waits 15 s and holds 30 s. Both fallbacks are tested on the
	# plain build.
	case " $* " in
	*" --queuer "* | *" --no-queuer "* | *" tproxy "* | *" gateway "*) ;;
	*) if [ -n "${SAN:-}" ] && [ "$PROXY_MODE" = nfqueue ]; then
		printf '#!/bin/sh\nexec "%s" --proxy-timeout 15s "$@"\n' "$BUILD/pepsal-queuer" \
			>"$TMP/pepsal-queuer"
		chmod 755 "$TMP/pepsal-queuer"
		extra+=(--queuer "$TMP/pepsal-queuer")
		case " $* " in *" --hold-time "*) ;; *) extra+=(--hold-time 30s) ;; esac
	fi ;;
	esac
	ip netns exec "$NS_R" ${NO_SYS_RESOURCE:+setpriv --inh-caps=-sys_resource --bounding-set=-sys_resource} \
		"$BUILD/pepsal" --shm "$SHM_NAME" "$@" ${extra[@]+"${extra[@]}"} >>"$TMP/pepsal.log" 2>&1 &
	PEPSAL_PID=$!
	on_exit "kill $PEPSAL_PID"
	wait_until 5 listening "$NS_R" 5000 || { echo "# pepsal did not listen"; return 1; }
	case " $PROXY_MODE $* " in
	*" --no-queuer "* | *" tproxy "*) ;;
	*) wait_until 10 role_alive queuer || { echo "# the queuer did not start"; return 1; } ;;
	esac
}

# proxy_stop: SIGTERM and wait for the exit; returns pepsal's status.
proxy_stop() {
	[ -n "$PEPSAL_PID" ] || return 0
	local pid=$PEPSAL_PID rc=0
	PEPSAL_PID=
	kill -TERM "$pid" 2>/dev/null
	if jobs -p | grep -qx "$pid"; then
		wait "$pid"
		rc=$?
	else # started in a subshell: not our child, poll for its exit
		wait_until 10 sh -c "! kill -0 $pid 2>/dev/null" || rc=1
	fi
	return $rc
}

proxy_setup() {
	need_root
	need_cmd iptables ip6tables python3 curl
	[ -x "$BUILD/pepsal" ] && [ -x "$BUILD/pepsal-queuer" ] && [ -x "$BUILD/pepsal-shm" ] ||
		skip_all "build pepsal, pepsal-queuer and pepsal-shm into $BUILD first"
	${PROXY_TOPO:-topo_three} || return 1
	# resolve the neighbours first: the router's first transparent IPv6 SYN
	# otherwise waits for neighbour discovery and is retransmitted after 1 s
	local a
	for a in $C4 $S4 $C6 $S6; do nsx "$NS_R" ping -c1 -W2 -q "$a" >/dev/null 2>&1; done
	proxy_rules || return 1
	proxy_start "$@"
}

# direct_port PORT: connections to TCP PORT cross the router unintercepted
# (a mangle ACCEPT ahead of pepsal's jump), the reference of a comparison
# in the same run. Again after rules are reinstalled.
direct_port() {
	nsx "$NS_R" iptables -w 5 -t mangle -I PREROUTING 1 -p tcp --dport "$1" -j ACCEPT &&
		nsx "$NS_R" ip6tables -w 5 -t mangle -I PREROUTING 1 -p tcp --dport "$1" -j ACCEPT
}

# finish_both_modes: finish, after running this test once more in tproxy
# mode (a child with PROXY_MODE=tproxy, its lines prefixed "tproxy: ") when
# this run was nfqueue's.
finish_both_modes() {
	if [ "$PROXY_MODE" = nfqueue ] && [ -z "${PROXY_MODE_CHILD:-}" ]; then
		PROXY_MODE_CHILD=1 PROXY_MODE=tproxy bash "$0" >"$TMP/tproxy.out" 2>&1
		local rc=$? n
		sed -n -e 's/^ok - /ok - tproxy: /p' -e 's/^not ok - /not ok - tproxy: /p' \
			-e '/^#/p' "$TMP/tproxy.out"
		n=$(grep -c '^not ok ' "$TMP/tproxy.out")
		FAILS=$((FAILS + n))
		[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || [ "$n" -gt 0 ] ||
			not_ok "tproxy: $(basename "$0") exited with status $rc"
	fi
	finish
}

# show_log: the end of pepsal's log, as TAP comments (on failure).
show_log() { tail -n "${1:-20}" "$TMP/pepsal.log" | sed 's/^/# /'; }

# no_fail OUTPUT: tcptool printed no FAIL line.
no_fail() { case "$1" in *FAIL*) return 1 ;; esac; }
