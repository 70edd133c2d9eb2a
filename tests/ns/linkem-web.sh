#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo-web's page in a real browser, short (issue 26): headless
# Chromium in the client namespace loads the test page (an HTML page and 39
# objects, about 2 MB) from nginx over TLS across the demo's GEO link
# (600 ms RTT, 20 Mbit/s forward, 2 Mbit/s return), once with HTTP/1.1 and
# once with HTTP/2, in each column: no PEP, through pepsal, through the
# pepsal pair. Every load must bring every object whole (the browser's
# resource timing against the page's manifest, every image decoded, every
# script run, the protocol the one asked for) and the server must have
# served each of them once (nginx's log); pepsal must have relayed the
# loads, the pair's terminal must have carried them over its pool. Speed is
# make demo-web's and make bench-sat's business, not this test's.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../sat/satlink.sh"
. "$(dirname "$0")/../sat/satrun.sh"
. "$(dirname "$0")/../sat/satpair.sh"
. "$(dirname "$0")/../sat/satweb.sh"
need_root
need_cmd iptables tc curl python3 nginx openssl chromium
for p in pepsal pepsal-queuer pepsal-shm pepsal-linkem; do
	[ -x "$BUILD/$p" ] || skip_all "no $BUILD/$p (make first)"
done
SAT_RETURN_RATE=2

sat_scenario 20 0 || { not_ok "satellite scenario set up"; finish; }
web_on || { not_ok "nginx serves the test page over TLS"; finish; }
objects=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["objects"]))' \
	"$WEB_DIR/www/manifest.json")
total=$(python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))
print(sum(m["objects"].values()))' "$WEB_DIR/www/manifest.json")

# served_since LINE: distinct paths nginx answered 200 after line LINE of its log
served_since() {
	tail -n +"$(($1 + 1))" "$WEB_DIR/nginx/access.log" |
		awk '$9 == 200 { split($7, p, "?"); print p[1] }' | sort -u | wc -l
}

# load_check COLUMN h1|h2
load_check() {
	local col=$1 v=$2 name lines t
	name="$col, $([ "$v" = h1 ] && echo HTTP/1.1 || echo HTTP/2)"
	lines=$(wc -l <"$WEB_DIR/nginx/access.log")
	t=$(web_load "$v")
	check "$name: the page loaded (${t:-failed} s to the load event)" test -n "$t"
	check "$name: all $objects objects arrived whole ($(web_field objects) objects, $(web_field bytes) of $total bytes; missing: $(web_field missing))" \
		test "$(web_field ok)" = True -a "$(web_field objects)" = "$objects" -a "$(web_field bytes)" = "$total"
	check "$name: every image decoded ($(web_field images_broken) broken), every script ran ($(web_field scripts))" \
		test "$(web_field images_broken)" = 0 -a "$(web_field scripts)" = 10
	check "$name: nginx served the page and each object ($(served_since "$lines") of $((objects + 1)))" \
		test "$(served_since "$lines")" = $((objects + 1))
}

load_check "no PEP" h1
load_check "no PEP" h2

pep_on || { not_ok "pepsal started with rules from pepsal-iptables"; finish; }
a0=$(pep_relayed)
load_check pepsal h1
a1=$(pep_relayed)
check "pepsal relayed the HTTP/1.1 load's connections (proxy.accepted $a0 -> $a1)" test "$a1" -ge $((a0 + 2))
load_check pepsal h2
check "pepsal relayed the HTTP/2 load's connection (proxy.accepted $a1 -> $(pep_relayed))" \
	test "$(pep_relayed)" -gt "$a1"
pep_off

pair_test_on
u0=$(pair_counter pair_used)
load_check pair h1
load_check pair h2
check "the terminal carried the loads over its pool (proxy.pair_used $u0 -> $(pair_counter pair_used))" \
	test "$(pair_counter pair_used)" -ge $((u0 + 3))
check "... and fell back to no direct dial (proxy.pair_fallback_direct $(pair_counter pair_fallback_direct))" \
	test "$(pair_counter pair_fallback_direct)" = 0
pair_off
finish
