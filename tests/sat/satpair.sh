# SPDX-License-Identifier: GPL-2.0-or-later
# The pepsal pair across the satellite (issue 18) for the demo and the
# benchmark: the terminal side in term, the gateway side in pep.
#   client ─ term: pepsal --pair-role terminal ─[sat]─ pep: pepsal --pair-role gateway ─ server
# Source tests/lib.sh, satlink.sh and satrun.sh first.
#   pair_on / pair_off   both sides, their rules and the pair leg's knobs
#   pair_counter NAME    a counter of the terminal side's table
#   pair_gw_counter NAME a counter of the gateway side's table
PAIR_PORT=${PAIR_PORT:-5001}
# PAIR_POOL: warm pool connections the terminal keeps open (--pair-pool)
PAIR_POOL=${PAIR_POOL:-16}
# The pair leg's knobs, on the satellite-facing interface of each end
# (pepsal-iptables --initcwnd, --initrwnd): both ends send and offer a large
# window from the first packet.
PAIR_INITCWND=${PAIR_INITCWND-1000}
PAIR_INITRWND=${PAIR_INITRWND-1000}
# --pair-buffer (SO_SNDBUF and SO_RCVBUF of the pair connections)
PAIR_BUFFER=${PAIR_BUFFER:-16777216}
# --pair-cc on both ends (empty: pepsal's default). bbr: as fast as cubic on
# the clean link (the leg is shaped at the link rate and starts at initcwnd
# 1000, so bbr's startup has nothing to probe), and 10 MB at 1 % loss in
# about 5.5 s where cubic collapses; one setting for every row.
PAIR_CC=${PAIR_CC-bbr}
# PAIR_SHAPE tbf|pacing|none, as PEP_SHAPE in satrun.sh: tbf = pepsal-iptables
# --shape on both ends' satellite interfaces, pacing = --pair-rate
PAIR_SHAPE=${PAIR_SHAPE:-tbf}
# PAIR_ARGS_T, PAIR_ARGS_G: more options for the terminal, the gateway side
PAIR_ARGS_T=${PAIR_ARGS_T:-}
PAIR_ARGS_G=${PAIR_ARGS_G:-}
PAIR_T_PID='' PAIR_G_PID=''
PAIR_SHM_T="$SHM_NAME-t" PAIR_SHM_G="$SHM_NAME-g"
on_exit "rm -f /dev/shm/${PAIR_SHM_T#/} /dev/shm/${PAIR_SHM_G#/}"

# pair_rules NS ROLE ACTION: pepsal-iptables of one end (-i: the interface
# it intercepts on, the terminal's client side; --sat-iface: its satellite
# side, which gets the knobs).
pair_rules() {
	local ifs="-i eth0"
	[ "$2" = terminal ] && ifs="-i eth0 --sat-iface eth1"
	# shellcheck disable=SC2046,SC2086
	nsx "$1" bash "$SRC/rules/pepsal-iptables" -4 --pair-role "$2" $ifs \
		$([ "$3" = install ] && pair_knobs "$2") "$3"
}

# pair_knobs ROLE: pepsal-iptables' knobs of the pair leg (an empty
# PAIR_INITCWND or PAIR_INITRWND leaves that one out); the terminal sends
# up the return link, shaped at its rate (SAT_RETURN_RATE)
pair_knobs() {
	echo "${PAIR_INITCWND:+--initcwnd $PAIR_INITCWND} ${PAIR_INITRWND:+--initrwnd $PAIR_INITRWND}"
	if [ "$1" = terminal ] && [ -n "${SAT_RETURN_RATE:-}" ] && [ -z "${PEP_SHAPE_RATE:-}" ]; then
		sat_shape_knobs "$PAIR_SHAPE" "$SAT_RETURN_RATE"
	else
		sat_shape_knobs "$PAIR_SHAPE"
	fi
}

# pair_leg_args: the options of the pair leg common to both ends
pair_leg_args() {
	echo "--pair-key-file $TMP/pair.key --pair-buffer $PAIR_BUFFER"
	[ -z "$PAIR_CC" ] || echo "--pair-cc $PAIR_CC"
	[ "$PAIR_SHAPE" != pacing ] || echo "--pair-rate $(sat_pacing_rate)"
}

# pool_warm N: the terminal holds N established connections to the gateway
pool_warm() {
	[ "$(nsx "$NS_T" ss -Htn state established "( dst $SAT_P4 and dport = :$PAIR_PORT )" |
		wc -l)" -ge "$1" ]
}

# pair_side NS ROLE ARGS...: the rules of one end, and its pepsal with the
# pair leg's options and ARGS (output in $TMP/pair-ROLE.log); sets SPAWNED_PID.
pair_side() {
	local ns=$1 role=$2
	shift 2
	pair_rules "$ns" "$role" install >"$TMP/rules-$role.log" 2>&1 ||
		{ cat "$TMP/rules-$role.log" >&2; return 1; }
	on_exit "pair_rules $ns $role remove"
	# shellcheck disable=SC2046
	pepsal_spawn "$ns" "pair-$role" --pair-role "$role" $(pair_leg_args) "$@"
}

# pair_on: the gateway side (return path only, no interception), then the
# terminal side; returns once the terminal intercepts and its pool is warm.
pair_on() {
	case "$PAIR_SHAPE" in none|pacing|tbf) ;;
	*) echo "# PAIR_SHAPE is none, pacing or tbf, not '$PAIR_SHAPE'" >&2; return 1 ;;
	esac
	local ns
	for ns in "$NS_T" "$NS_P"; do
		nsx "$ns" sysctl -qw net.ipv4.tcp_wmem="4096 65536 16777216" \
			net.ipv4.tcp_rmem="4096 131072 16777216"
	done
	[ -s "$TMP/pair.key" ] || { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; echo; } >"$TMP/pair.key"
	chmod 600 "$TMP/pair.key"
	# shellcheck disable=SC2086
	pair_side "$NS_P" gateway --shm "$PAIR_SHM_G" --pair-listen "$SAT_P4:$PAIR_PORT" \
		--pair-peer "$SAT_T4/32" $PAIR_ARGS_G || return 1
	PAIR_G_PID=$SPAWNED_PID
	wait_until 5 listening "$NS_P" "$PAIR_PORT" ||
		{ echo "# the gateway side did not start:" >&2; tail -n 20 "$TMP/pair-gateway.log" >&2; return 1; }
	# shellcheck disable=SC2086
	pair_side "$NS_T" terminal --shm "$PAIR_SHM_T" --pair-gateway "$SAT_P4:$PAIR_PORT" \
		--pair-pool "$PAIR_POOL" $PAIR_ARGS_T || return 1
	PAIR_T_PID=$SPAWNED_PID
	wait_until 5 listening "$NS_T" 5000 && wait_until 10 pep_queue_bound "$NS_T" ||
		{ echo "# the terminal side did not start:" >&2; tail -n 20 "$TMP/pair-terminal.log" >&2; return 1; }
	# a pool connection costs a round trip over the satellite
	wait_until 15 pool_warm "$PAIR_POOL" ||
		{ echo "# the terminal's pool did not fill ($PAIR_POOL to $SAT_P4:$PAIR_PORT)" >&2; return 1; }
}

# pair_off: both sides stop, their rules and knobs go (term and pep route plainly).
pair_off() {
	if [ -n "$PAIR_T_PID" ]; then
		pair_rules "$NS_T" terminal remove >/dev/null 2>&1
		pepsal_stop "$NS_T" "$PAIR_T_PID" 5000
	fi
	if [ -n "$PAIR_G_PID" ]; then
		pair_rules "$NS_P" gateway remove >/dev/null 2>&1
		pepsal_stop "$NS_P" "$PAIR_G_PID" "$PAIR_PORT"
	fi
	PAIR_T_PID='' PAIR_G_PID=''
}

# pair_test_on: for a namespace test: skips the rest (and finishes) when this
# pepsal has no --pair-role, fails it when the pair does not start, else
# starts it (pair_on)
pair_test_on() {
	if ! "$BUILD/pepsal" --help 2>&1 | grep -q -- --pair-role; then
		ok "# SKIP the pair: this pepsal has no --pair-role"
		finish
	fi
	pair_on || { not_ok "the pepsal pair started (terminal in term, gateway in pep)"; finish; }
}

pair_counter() { shm_counter "$PAIR_SHM_T" "proxy.$1"; }
pair_gw_counter() { shm_counter "$PAIR_SHM_G" "proxy.$1"; }
