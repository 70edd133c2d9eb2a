#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# doc/deploying.md, followed on a router in a network namespace (issue 22,
# Deliver): every "# check:" block of the page passes where its step is done
# and fails where it is not (forwarding off, an asymmetric route under
# strict rp_filter, a misspelt variable, pepsal not started, no traffic
# yet); the page's configuration is what runs, started as the unit starts
# it (pepsal-start --foreground, then pepsal-iptables install); a client's
# download is relayed, the server sees the client's address, and once
# pepsal is stopped the same download is routed end to end.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tools/proxy-env.sh"
need_root
need_cmd ip iptables-nft ip6tables-nft unshare curl python3

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PAGE=$ROOT/doc/deploying.md
for p in pepsal pepsal-queuer pepsal-shm pepsal-iptables pepsal-start; do
	[ -x "$BUILD/$p" ] || { not_ok "$p built"; finish; }
done
SHM=/pepsal-deploying-$ID
on_exit "rm -f /dev/shm$SHM"
CONF=$TMP/pepsal.conf

# ---- the page's checks, one file each: $TMP/check/NAME
mkdir "$TMP/check"
awk -v dir="$TMP/check" '
	/^```sh$/ { inb = 1; name = ""; next }
	/^```/ { inb = 0; if (name != "") close(f); name = ""; next }
	inb && name == "" && /^# check: / { name = $3; f = dir "/" name; printf "" >f; next }
	inb && name != "" { print >>f }
	inb && name == "" { inb = 0 }
' "$PAGE"
have=$(cd "$TMP/check" && ls | sort | tr '\n' ' ')
want="accelerated configuration installed kernel routing routing-ipv6 running satellite-leg "
check "the page's checks are the ones this test knows ($have)" [ "$have" = "$want" ]

# The installed programs, as the page names them, are this build's: a
# wrapper for the ones whose defaults are the installed paths (pepsal-start
# runs /usr/sbin/pepsal on /etc/pepsal/pepsal.conf), pepsal-shm on this
# test's table, and systemctl for the unit's state, which is not run here
# (systemd is not init): active while the pepsal it started runs.
mkdir "$TMP/bin"
cat >"$TMP/bin/pepsal-start" <<EOF
#!/bin/sh
exec "$BUILD/pepsal-start" --pepsal "$BUILD/pepsal" --config "$CONF" "\$@"
EOF
cat >"$TMP/bin/pepsal-shm" <<EOF
#!/bin/sh
exec "$BUILD/pepsal-shm" --shm "$SHM" "\$@"
EOF
cat >"$TMP/bin/systemctl" <<EOF
#!/bin/sh
[ "\$*" = "is-active --quiet pepsal" ] || { echo "systemctl \$*: not emulated" >&2; exit 1; }
[ -s "$TMP/unit.pid" ] && kill -0 "\$(cat "$TMP/unit.pid")" 2>/dev/null
EOF
chmod 755 "$TMP/bin"/*

topo_three || { not_ok "topology"; finish; }
SAT_IF=eth0 NET_IF=eth1 CLIENT=$C4 SERVER=$S4
# passes NAME: the page's check NAME, on the router, exits 0
passes() {
	sed -e "s|/usr/libexec/pepsal/||g" -e "s|/etc/pepsal/pepsal.conf|$CONF|g" "$TMP/check/$1" >"$TMP/run.sh"
	nsx "$NS_R" env PATH="$TMP/bin:$BUILD:$PATH" SAT_IF=$SAT_IF NET_IF=$NET_IF CLIENT=$CLIENT \
		SERVER=$SERVER bash -e "$TMP/run.sh" >"$TMP/check.out" 2>&1
}
fails() { ! passes "$@"; }

# ---- 1. routing, each prerequisite broken in turn
check "1. routing: passes on the router" passes routing
check "1. routing-ipv6: passes" passes routing-ipv6
check "1. satellite-leg: passes (the route to the client leaves through $SAT_IF)" passes satellite-leg
nsx "$NS_R" sysctl -qw net.ipv4.ip_forward=0
check "1. routing: fails with IPv4 forwarding off" fails routing
nsx "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=0
check "1. routing-ipv6: fails with IPv6 forwarding off" fails routing-ipv6
nsx "$NS_R" sysctl -qw net.ipv6.conf.all.forwarding=1
# 4. an asymmetric return: the replies to the client leave by another link
ip -n "$NS_R" link add ret0 type veth peer name ret1
ip -n "$NS_R" link set ret0 up
ip -n "$NS_R" link set ret1 up
ip -n "$NS_R" route add "$CLIENT/32" dev ret0
nsx "$NS_R" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.$SAT_IF.rp_filter=1
check "4. asymmetric routes, strict rp_filter: routing fails" fails routing
check "1. asymmetric routes: satellite-leg fails" fails satellite-leg
nsx "$NS_R" sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.$SAT_IF.rp_filter=2
check "4. asymmetric routes, loose rp_filter (the page's fix): routing passes" passes routing
ip -n "$NS_R" link del ret0
nsx "$NS_R" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.$SAT_IF.rp_filter=0

# ---- 2, 3: this build, this kernel
check "2. installed: passes" passes installed
rules() {
	nsx "$NS_R" iptables-nft -t mangle -S; nsx "$NS_R" iptables-nft -t nat -S
	ip -n "$NS_R" rule show; ip -n "$NS_R" -4 route show table all
	ip -n "$NS_R" -6 route show table all | grep -v "fe80::" # (they come and go on their own)
}
rules >"$TMP/before"
check "3. kernel: passes (the rules install in a namespace of its own)" passes kernel
rules >"$TMP/after"
if cmp -s "$TMP/before" "$TMP/after"; then ok "3. kernel: the router's own rules and routes untouched"
else not_ok "3. kernel: the router's own rules and routes untouched"; diff "$TMP/before" "$TMP/after" | sed "s/^/#   /"; fi

# ---- 5. the page's configuration, on the shipped file
{
	cat "$ROOT/rules/pepsal.conf"
	awk '/^# in \/etc\/pepsal\/pepsal.conf$/ { on = 1; next } on && /^```/ { exit } on' "$PAGE" |
		sed "s/=sat0\$/=$SAT_IF/"
	echo "PEPSAL_SHM=$SHM"
} >"$CONF"
check "5. the page's configuration sets the interface, the window and the shaper" \
	grep -qxF "PEPSAL_IPT_INTERFACES=$SAT_IF" "$CONF"
check "5. configuration: passes" passes configuration
cp "$CONF" "$TMP/good.conf"
echo "PEPSAL_IPT_INTERFACE=$SAT_IF" >>"$CONF"
check "5. configuration: fails with a misspelt variable" fails configuration
check "5. ... naming it" grep -q "PEPSAL_IPT_INTERFACE is not" "$TMP/check.out"
cp "$TMP/good.conf" "$CONF"

# ---- 6. started as the unit starts it
check "6. running: fails before the start" fails running
nsx "$NS_R" sh -c 'echo $$ >"$0"; exec "$@"' "$TMP/unit.pid" "$TMP/bin/pepsal-start" --foreground \
	>"$TMP/pepsal.log" 2>&1 &
on_exit "kill \$(cat $TMP/unit.pid)"
wait_until 5 test -s "$TMP/unit.pid" && wait_until 10 listening "$NS_R" 5000 &&
	wait_until 10 "$BUILD/pepsal-shm" --shm "$SHM" stats ||
	{ not_ok "pepsal started from the page's configuration"; sed 's/^/# /' "$TMP/pepsal.log"; finish; }
# ExecStartPost=, then ExecStopPost= at the end
nsx "$NS_R" "$BUILD/pepsal-iptables" --config "$CONF" install >"$TMP/install.log" 2>&1 ||
	{ not_ok "the unit's pepsal-iptables install"; sed 's/^/# /' "$TMP/install.log"; }
on_exit "ip netns exec $NS_R $BUILD/pepsal-iptables --config $CONF remove"
check "6. running: passes" wait_until 5 passes running

# ---- 7. a client's download
head -c 1000000 /dev/urandom >"$TMP/file"
bg "$NS_S" "$TMP/http.log" python3 -m http.server --bind :: --directory "$TMP" 8080
bg "$NS_S" "$TMP/peer.log" python3 "$TOOLS/tcptool.py" serve-peer 7000
wait_until 5 listening "$NS_S" 8080 && wait_until 5 listening "$NS_S" 7000 ||
	{ not_ok "servers started"; finish; }
check "7. accelerated: fails before any traffic" fails accelerated
want=$(sha256sum <"$TMP/file" | cut -d' ' -f1)
got=$(nsx "$NS_C" curl -sS --max-time 30 "http://$SERVER:8080/file" | sha256sum | cut -d' ' -f1)
check "7. the client's download arrives whole" [ "$got" = "$want" ]
check "7. accelerated: passes" passes accelerated
peer=$(nsx "$NS_C" python3 "$TOOLS/tcptool.py" get "$SERVER" 7000)
check "7. the server sees the client's address ($peer)" [ "$peer" = "server $CLIENT" ]

# ---- stopped: routed end to end
kill "$(cat "$TMP/unit.pid")"
wait_until 10 sh -c "! kill -0 $(cat "$TMP/unit.pid")" || not_ok "pepsal stops on SIGTERM"
nsx "$NS_R" "$BUILD/pepsal-iptables" --config "$CONF" remove >/dev/null 2>&1 ||
	not_ok "the unit's pepsal-iptables remove"
check "stopped: running fails" fails running
got=$(nsx "$NS_C" curl -sS --max-time 30 "http://$SERVER:8080/file" | sha256sum | cut -d' ' -f1)
check "stopped: the same download is routed end to end, whole" [ "$got" = "$want" ]
finish
