#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo's scenario end to end, short: client ─[600 ms, 20 Mbit/s]─ pep ─
# server. Without a PEP a 100 kB download takes the four round trips TCP
# physics asks for (handshake, request, three flights from initcwnd 10:
# 2.4 s); through pepsal, whose satellite leg starts with a large window
# (1000 segments, shaped at the link rate), one flight less (1.8 s: the
# client's 64 KB window forbids a single flight), and pepsal's table counts
# the relayed connection. Through the pepsal pair (terminal side in term,
# gateway side in pep, a warm pool between them) the handshake and the
# client's window stay on the terminal's side: one satellite round trip and
# the body (0.64 s), under the 1.2 s that a handshake over the satellite
# alone costs; the terminal counts the pool connection it used.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../sat/satlink.sh"
. "$(dirname "$0")/../sat/satrun.sh"
. "$(dirname "$0")/../sat/satpair.sh"
need_root
need_cmd iptables tc ping curl python3
for p in pepsal pepsal-queuer pepsal-shm pepsal-linkem; do
	[ -x "$BUILD/$p" ] || skip_all "no $BUILD/$p (make first)"
done

sat_scenario 20 0 || { not_ok "satellite scenario set up"; finish; }
t0=$(fetch 100000 "$TMP/nopep.dat")
check "100 kB without a PEP arrives (${t0:-failed} s)" test -n "$t0"
check "... in 4 RTT: 2.3..2.6 s (${t0:-?})" \
	awk -v t="${t0:-0}" 'BEGIN { exit !(t >= 2.3 && t <= 2.6) }'
pep_on || { not_ok "pepsal started with rules from pepsal-iptables"; finish; }
a0=$(pep_relayed)
t1=$(fetch 100000 "$TMP/pep.dat")
check "100 kB through pepsal arrives (${t1:-failed} s)" test -n "$t1"
check "... at least 0.4 s sooner than without ($t0 -> ${t1:-?})" \
	awk -v a="${t0:-0}" -v b="${t1:-99}" 'BEGIN { exit !(b <= a - 0.4) }'
check "pepsal relayed it (proxy.accepted $a0 -> $(pep_relayed))" test "$(pep_relayed)" -gt "$a0"
pep_off

pair_test_on
u0=$(pair_counter pair_used)
t2=$(fetch 100000 "$TMP/pair.dat")
# a shared machine may disturb one download: measured once more, and said so
if ! awk -v b="${t2:-99}" 'BEGIN { exit !(b < 1.2) }'; then
	echo "# pair: ${t2:-failed} s (load $(cut -d' ' -f1-3 /proc/loadavg)): measuring again"
	t2=$(fetch 100000 "$TMP/pair.dat")
fi
check "100 kB through the pepsal pair arrives (${t2:-failed} s)" test -n "$t2"
check "... in one satellite round trip and the body: under 1.2 s, sooner than pepsal ($t1 -> ${t2:-?})" \
	awk -v a="${t1:-0}" -v b="${t2:-99}" 'BEGIN { exit !(b < 1.2 && b < a) }'
check "the terminal side carried it over its pool (proxy.pair_used $u0 -> $(pair_counter pair_used))" \
	test "$(pair_counter pair_used)" -gt "$u0"
check "... and fell back to no direct dial (proxy.pair_fallback_direct $(pair_counter pair_fallback_direct))" \
	test "$(pair_counter pair_fallback_direct)" = 0
pair_off
finish
