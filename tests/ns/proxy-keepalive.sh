#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Request/response on kept-alive connections: nginx serves small objects,
# a client makes 300 GETs on one connection, each request written in two
# pieces (the request line, then the headers), as nginx writes its headers
# and then the body; the pieces go 1 ms apart, so that they reach pepsal as
# two segments however busy the machine is (back to back, pepsal often reads
# both at once and the stall would come and go with the machine's load). With Nagle's algorithm on either of
# pepsal's legs the second piece waits for the peer's delayed ACK (40 ms);
# with TCP_NODELAY (the default) the 99th percentile of the latency through
# pepsal is within 1 ms of the same requests made directly in the same run.
# IPv4 and IPv6; --nagle shows the stall (a check of the test itself).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_cmd nginx

proxy_setup || { show_log; exit 1; }
PORT=8080 DIRECT=8180 COUNT=300 MARGIN_MS=1 GAP_MS=1
# under a sanitizer every relayed byte costs several times more: a stall
# (Nagle's 40 ms, a missed wake-up) still stands out of a 10 ms margin
[ -n "${SAN:-}" ] && MARGIN_MS=10
direct_port $DIRECT || { not_ok "a direct port bypasses the interception"; finish; }

nginx_conf "$TMP" $PORT $DIRECT
head -c 6 /dev/zero | tr '\0' x >"$TMP/www/6"
head -c 100 /dev/zero | tr '\0' x >"$TMP/www/100"
head -c 4096 /dev/zero | tr '\0' x >"$TMP/www/4k"
bg "$NS_S" "$TMP/nginx.log" nginx -p "$TMP/nginx" -c "$TMP/nginx.conf" -g 'daemon off;'
wait_until 5 listening "$NS_S" $PORT && wait_until 5 listening "$NS_S" $DIRECT ||
	{ not_ok "nginx listens"; cat "$TMP/nginx.log" "$TMP/nginx/error.log" | sed 's/^/# /'; finish; }

# p99 HOST PORT PATH: the 99th percentile of COUNT requests, in µs
p99() {
	local out
	out=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" http-keepalive "$1" "$2" "$3" $COUNT $GAP_MS 2>&1)
	echo "$out" >>"$TMP/latency.log"
	case $out in p50*) awk '{ printf "%d\n", $4 * 1000 }' <<<"$out" ;; esac
}
# within_margin HOST PATH: p99 through pepsal within MARGIN_MS of direct;
# measured twice at most, in case the machine was busy the first time.
within_margin() {
	local try d p
	for try in 1 2; do
		d=$(p99 "$1" $DIRECT "$2")
		p=$(p99 "$1" $PORT "$2")
		[ -n "$d" ] && [ -n "$p" ] || { RESULT="a request failed"; return 1; }
		RESULT="p99 direct $((d / 1000)).$(printf %03d $((d % 1000))) ms, pepsal $((p / 1000)).$(printf %03d $((p % 1000))) ms"
		[ "$p" -le $((d + MARGIN_MS * 1000)) ] && return 0
	done
	return 1
}

for H in $S4 $S6; do
	fam=IPv4
	[ "$H" = "$S4" ] || fam=IPv6
	for obj in 6 100 4k; do
		a0=$(counter proxy.accepted)
		if within_margin "$H" /$obj; then ok "$fam $obj-byte object: $RESULT"
		else not_ok "$fam $obj-byte object: p99 through pepsal within $MARGIN_MS ms of direct ($RESULT)"; fi
		check "... relayed by pepsal" test "$(counter proxy.accepted)" -gt "$a0"
	done
done

# The test sees the stall: with --nagle the same requests wait.
proxy_stop
proxy_start --nagle || { show_log; exit 1; }
d=$(p99 $S4 $DIRECT /100) p=$(p99 $S4 $PORT /100)
check "with --nagle the stall is back: p99 direct $d µs, pepsal $p µs (more than 20 ms)" \
	test -n "$d" -a -n "$p" -a "${p:-0}" -gt $((${d:-0} + 20000))
[ "$FAILS" -eq 0 ] || { show_log 30; sed 's/^/# /' "$TMP/latency.log"; }
finish
