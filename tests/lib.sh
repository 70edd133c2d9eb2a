# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for namespace tests. Source it, then:
#   need_root; need_cmd iptables
#   topo_three            # client ─ router ─ server, IPv4 and IPv6
#   topo_five             # the same with a hop on each side of the router
#   nginx_conf DIR PORT...  # an nginx configuration serving DIR/www
#   nsx "$NS_R" cmd ...   # run in a namespace
#   wait_until 5 cmd ...  # poll, never sleep a fixed time
#   check "what" cmd ...  # prints "ok - what" or "not ok - what"
#   fuzz_run 10 NAME...  # make fuzz-NAME with seeds in $TMP/seeds-NAME, checked
#   gone PID             # the process exited (a zombie counts)
#   finish                # exit status: 0 all passed, 1 otherwise
# Namespaces, shm segments and files carry the test's PID ($$) so parallel
# runs never collide; everything is removed on every exit path.
# Addresses: 198.18.0.0/15 and fd00::/8 only, never in the root namespace.

set -u
TEST_NAME=$(basename "${0%.sh}")
ID=$$
BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}
TMP=$(mktemp -d "/tmp/pepsal-$TEST_NAME.$ID.XXXXXX")
FAILS=0
_cleanups=()

# Register a command to run at exit (last registered runs first).
on_exit() { _cleanups+=("$*"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
	done
	# ns_new runs in $(...), so its on_exit is lost with the subshell:
	# remove this test's namespaces (their names end in -$ID) here as well
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E -- "-$ID\$"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }
# check DESCRIPTION CMD...: ok if CMD succeeds
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
skip_all() { echo "# SKIP $*"; exit 77; }
finish() { [ "$FAILS" -eq 0 ]; exit $?; }

need_root() { [ "$(id -u)" -eq 0 ] || skip_all "needs root"; }
need_cmd() {
	local c
	for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip_all "needs $c"; done
}

# wait_until SECONDS CMD...: poll CMD every 20 ms until it succeeds.
wait_until() {
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ns_new NAME: create a namespace named NAME-$ID, with lo up; prints the name.
ns_new() {
	local ns="$1-$ID"
	ip netns add "$ns" || return 1
	on_exit "ip netns pids $ns | xargs -r kill -9; ip netns del $ns"
	ip -n "$ns" link set lo up
	echo "$ns"
}

# veth_pair NS_A IF_A NS_B IF_B: a veth between two namespaces, up, offloads
# off so rules and emulators see single segments.
veth_pair() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || return 1
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
	if command -v ethtool >/dev/null 2>&1; then
		nsx "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || true
		nsx "$3" ethtool -K "$4" tso off gso off gro off >/dev/null 2>&1 || true
	fi
}

# topo_three: client ─ router ─ server.
#   client  eth0 198.18.1.2/24 fd00:1::2/64  via 198.18.1.1 / fd00:1::1
#   router  eth0 198.18.1.1/24 fd00:1::1/64, eth1 198.18.2.1/24 fd00:2::1/64
#   server  eth0 198.18.2.2/24 fd00:2::2/64  via 198.18.2.1 / fd00:2::1
# Sets NS_C NS_R NS_S and the address variables below.
C4=198.18.1.2 R4C=198.18.1.1 R4S=198.18.2.1 S4=198.18.2.2
C6=fd00:1::2 R6C=fd00:1::1 R6S=fd00:2::1 S6=fd00:2::2
topo_three() {
	NS_C=$(ns_new pc) && NS_R=$(ns_new pr) && NS_S=$(ns_new ps) || return 1
	veth_pair "$NS_C" eth0 "$NS_R" eth0 || return 1
	veth_pair "$NS_R" eth1 "$NS_S" eth0 || return 1
	local ns
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	ip -n "$NS_C" addr add $C4/24 dev eth0
	ip -n "$NS_C" addr add $C6/64 dev eth0 nodad
	ip -n "$NS_C" route add default via $R4C
	ip -n "$NS_C" -6 route add default via $R6C
	ip -n "$NS_R" addr add $R4C/24 dev eth0
	ip -n "$NS_R" addr add $R6C/64 dev eth0 nodad
	ip -n "$NS_R" addr add $R4S/24 dev eth1
	ip -n "$NS_R" addr add $R6S/64 dev eth1 nodad
	ip -n "$NS_S" addr add $S4/24 dev eth0
	ip -n "$NS_S" addr add $S6/64 dev eth0 nodad
	ip -n "$NS_S" route add default via $R4S
	ip -n "$NS_S" -6 route add default via $R6S
	nsx "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# topo_five: client ─ hop ─ router ─ hop ─ server, for what a router sees
# only from a hop beyond it (ICMP errors: path MTU, unreachable).
#   client  eth0 198.18.1.2/24 fd00:1::2/64  via 198.18.1.1 / fd00:1::1
#   hop_c   eth0 198.18.1.1/24 fd00:1::1/64, eth1 198.18.3.1/24 fd00:3::1/64
#   router  eth0 198.18.3.2/24 fd00:3::2/64, eth1 198.18.4.1/24 fd00:4::1/64
#   hop_s   eth0 198.18.4.2/24 fd00:4::2/64, eth1 198.18.2.1/24 fd00:2::1/64
#   server  eth0 198.18.2.2/24 fd00:2::2/64  via 198.18.2.1 / fd00:2::1
# Sets NS_C NS_HC NS_R NS_HS NS_S; R4C R4S R6C R6S are the router's own
# addresses, H4C H4S H6C H6S the hops' toward the router.
topo_five() {
	NS_C=$(ns_new pc) && NS_HC=$(ns_new phc) && NS_R=$(ns_new pr) &&
		NS_HS=$(ns_new phs) && NS_S=$(ns_new ps) || return 1
	R4C=198.18.3.2 R4S=198.18.4.1 R6C=fd00:3::2 R6S=fd00:4::1
	H4C=198.18.3.1 H4S=198.18.4.2 H6C=fd00:3::1 H6S=fd00:4::2
	veth_pair "$NS_C" eth0 "$NS_HC" eth0 || return 1
	veth_pair "$NS_HC" eth1 "$NS_R" eth0 || return 1
	veth_pair "$NS_R" eth1 "$NS_HS" eth0 || return 1
	veth_pair "$NS_HS" eth1 "$NS_S" eth0 || return 1
	local ns
	for ns in "$NS_C" "$NS_HC" "$NS_R" "$NS_HS" "$NS_S"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	_addr() { ip -n "$1" addr add "$3" dev "$2"; ip -n "$1" addr add "$4" dev "$2" nodad; }
	_addr "$NS_C" eth0 $C4/24 $C6/64
	_addr "$NS_HC" eth0 198.18.1.1/24 fd00:1::1/64
	_addr "$NS_HC" eth1 $H4C/24 $H6C/64
	_addr "$NS_R" eth0 $R4C/24 $R6C/64
	_addr "$NS_R" eth1 $R4S/24 $R6S/64
	_addr "$NS_HS" eth0 $H4S/24 $H6S/64
	_addr "$NS_HS" eth1 198.18.2.1/24 fd00:2::1/64
	_addr "$NS_S" eth0 $S4/24 $S6/64
	unset -f _addr
	ip -n "$NS_C" route add default via 198.18.1.1
	ip -n "$NS_C" -6 route add default via fd00:1::1
	ip -n "$NS_HC" route add default via $R4C
	ip -n "$NS_HC" -6 route add default via $R6C
	ip -n "$NS_R" route add 198.18.1.0/24 via $H4C
	ip -n "$NS_R" -6 route add fd00:1::/64 via $H6C
	ip -n "$NS_R" route add default via $H4S
	ip -n "$NS_R" -6 route add default via $H6S
	ip -n "$NS_HS" route add default via $R4S
	ip -n "$NS_HS" -6 route add default via $R6S
	ip -n "$NS_S" route add default via 198.18.2.1
	ip -n "$NS_S" -6 route add default via fd00:2::1
	for ns in "$NS_HC" "$NS_R" "$NS_HS"; do
		nsx "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	done
}

# nginx_conf DIR PORT...: write DIR/nginx.conf, an nginx serving DIR/www
# on every PORT (IPv4 and IPv6): one worker, no access log, kept-alive
# connections never closed for their number of requests, its own files in
# DIR/nginx. Start it with: nginx -p DIR/nginx -c DIR/nginx.conf -g 'daemon off;'
nginx_conf() {
	local dir=$1 p listen=
	shift
	for p in "$@"; do listen="$listen listen $p backlog=4096; listen [::]:$p backlog=4096;"; done
	mkdir -p "$dir/www" "$dir/nginx"
	cat >"$dir/nginx.conf" <<-EOF
	user root;
	worker_processes 1;
	pid $dir/nginx/pid;
	error_log $dir/nginx/error.log;
	events { worker_connections 1024; }
	http {
		access_log off;
		client_body_temp_path $dir/nginx;
		proxy_temp_path $dir/nginx;
		fastcgi_temp_path $dir/nginx;
		uwsgi_temp_path $dir/nginx;
		scgi_temp_path $dir/nginx;
		keepalive_requests 10000000;
		server { $listen root $dir/www; }
	}
	EOF
}

# fuzz_run SECONDS NAME...: make fuzz-NAME for SECONDS with the seeds in
# $TMP/seeds-NAME; checks that it ran and found nothing (tests/fuzz.mk).
fuzz_run() {
	local secs=$1 f rc src
	src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	shift
	for f in "$@"; do
		make -C "$src" --no-print-directory BUILD="$BUILD" FUZZ_SECONDS="$secs" \
			FUZZ_SEEDS="$TMP/seeds-$f" "fuzz-$f" >"$TMP/fuzz-$f.log" 2>&1
		rc=$?
		grep -E 'stat::number_of_executed_units' "$TMP/fuzz-$f.log" | tail -n 1 | sed "s/^/# $f: /"
		check "$f fuzzed for ${secs} s without a crash or sanitizer report" [ "$rc" -eq 0 ]
		check "$f: the fuzzer really ran (executed units reported)" \
			grep -qE 'stat::number_of_executed_units: +[1-9]' "$TMP/fuzz-$f.log"
		check "$f: no sanitizer report in the log" \
			bash -c '! grep -qE "ERROR: (AddressSanitizer|libFuzzer)|runtime error:" "$0"' \
			"$TMP/fuzz-$f.log"
		[ "$rc" -eq 0 ] || tail -n 30 "$TMP/fuzz-$f.log"
	done
}

# gone PID: true once PID has exited. An exited process nobody has reaped
# yet (a zombie) is gone too: an upgraded pepsal's old process is an orphan,
# which init here reaps only seconds later, and kill -0 still finds it.
gone() {
	local st
	kill -0 "$1" 2>/dev/null || return 0
	st=$(ps -o stat= -p "$1" 2>/dev/null)
	[[ $st == Z* ]]
}

# listening NS PORT: true once something listens on TCP PORT in NS.
listening() { nsx "$1" ss -Hltn "sport = :$2" | grep -q .; }

# A shm segment name private to this test.
SHM_NAME="/pepsal-test-$TEST_NAME-$ID"
on_exit "rm -f /dev/shm/${SHM_NAME#/}"
