#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-iptables in a namespace of its own, for both backends (nft, legacy)
# and both modes (nfqueue, tproxy), IPv4 and IPv6:
#   - install creates exactly the expected rules, ip rules and routes,
#     next to unrelated rules that were there before;
#   - install twice equals once; install with other options converges;
#   - status shows counters and says what is missing;
#   - remove restores the exact previous ruleset, and keeps an ip rule and a
#     route that were there before install.
set -eu
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip iptables-nft iptables-legacy ip6tables-nft ip6tables-legacy

IPT=$BUILD/pepsal-iptables
[ -x "$IPT" ] || { not_ok "pepsal-iptables built ($IPT)"; finish; }

NS=$(ns_new pi)
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up

# The state that matters: every table of both families of backend $1, the
# ip rules and the routes of every table.
snapshot() {
	local b=$1 f t
	for f in iptables ip6tables; do
		for t in mangle nat filter raw; do
			echo "## $f $t"
			nsx "$NS" "$f-$b" -w 5 -t "$t" -S 2>/dev/null
		done
	done
	for f in -4 -6; do
		echo "## ip $f rule"
		ip -n "$NS" "$f" rule show
		echo "## ip $f route"
		ip -n "$NS" "$f" route show table all | grep -v '^\(fe80::\|multicast\|local fe80\)' | sort
	done
}

# same WHAT FILE-A FILE-B: ok if identical, else show the difference.
same() {
	if diff -u "$2" "$3" >"$TMP/diff"; then ok "$1"
	else not_ok "$1"; sed 's/^/#   /' "$TMP/diff"; fi
}

# chain_text B FAMILY TABLE: the table's rules as -S prints them.
chain_text() { nsx "$NS" "$2-$1" -w 5 -t "$3" -S; }

expected_mangle() { # MODE FAMILY
	local any=0.0.0.0 src=198.18.0.0/15 icmp=icmp target
	[ "$2" = ip6tables ] && any=:: src=fd00::/8 icmp=ipv6-icmp
	if [ "$1" = nfqueue ]; then target="-j NFQUEUE --queue-num 0 --queue-bypass"
	else target="-j TPROXY --on-port 5000 --on-ip $any --tproxy-mark 0x1/0x1"; fi
	cat <<EOF
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N PEPSAL
-A PREROUTING -m comment --comment pepsal -j PEPSAL
-A PREROUTING -p udp -j MARK --set-xmark 0x10/0xffffffff
-A PEPSAL -p tcp -m socket --transparent -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -j MARK --set-xmark 0x1/0x1
-A PEPSAL -p $icmp -m socket --transparent -j MARK --set-xmark 0x1/0x1
-A PEPSAL -s $src -i eth0 -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m addrtype ! --dst-type LOCAL $target
-A PEPSAL -s $src -i eth1 -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m addrtype ! --dst-type LOCAL $target
EOF
}
expected_nat() { # MODE
	cat <<EOF
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
EOF
	[ "$1" = nfqueue ] && echo "-N PEPSAL"
	[ "$1" = nfqueue ] && echo "-A PREROUTING -m comment --comment pepsal -j PEPSAL"
	echo "-A PREROUTING -p tcp -m tcp --dport 8080 -j REDIRECT --to-ports 8081"
	[ "$1" = nfqueue ] && echo "-A PEPSAL -p tcp -m mark --mark 0x2/0x2 -j REDIRECT --to-ports 5000"
	true
}

for backend in nft legacy; do
	# Unrelated rules and routes that must survive everything.
	for f in iptables ip6tables; do
		nsx "$NS" "$f-$backend" -t mangle -A PREROUTING -p udp -j MARK --set-mark 0x10
		nsx "$NS" "$f-$backend" -t nat -A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 8081
	done
	for f in -4 -6; do
		ip -n "$NS" "$f" rule add fwmark 0x20 lookup 200
		ip -n "$NS" "$f" route add local default dev lo table 200
	done
	snapshot "$backend" >"$TMP/before"

	for mode in nfqueue tproxy; do
		what="$backend $mode"
		# shellcheck disable=SC2054 # (a comma-separated list, one argument)
		args=(-b "$backend" -m "$mode" -i eth0,eth1 -s 198.18.0.0/15 -s fd00::/8)
		check "$what: install" nsx "$NS" "$IPT" "${args[@]}" install
		for f in iptables ip6tables; do
			expected_mangle "$mode" "$f" >"$TMP/want"
			chain_text "$backend" "$f" mangle >"$TMP/have"
			same "$what: $f mangle rules as expected" "$TMP/want" "$TMP/have"
			expected_nat "$mode" >"$TMP/want"
			chain_text "$backend" "$f" nat >"$TMP/have"
			same "$what: $f nat rules as expected" "$TMP/want" "$TMP/have"
		done
		for f in 4 6; do
			ip -n "$NS" -"$f" rule show >"$TMP/have"
			{
				echo "0:	from all lookup local"
				echo "32764:	from all fwmark 0x1/0x1 lookup 100 proto 158"
				echo "32765:	from all fwmark 0x20 lookup 200"
				echo "32766:	from all lookup main"
				[ "$f" = 4 ] && echo "32767:	from all lookup default"
			} >"$TMP/want"
			same "$what: IPv$f ip rules as expected" "$TMP/want" "$TMP/have"
			ip -n "$NS" -"$f" route show table 100 >"$TMP/have"
			if [ "$f" = 4 ]; then echo "local default dev lo proto 158 scope host "
			else echo "local default dev lo proto 158 metric 1024 pref medium"; fi >"$TMP/want"
			same "$what: IPv$f route table 100 as expected" "$TMP/want" "$TMP/have"
		done

		snapshot "$backend" >"$TMP/once"
		check "$what: install again" nsx "$NS" "$IPT" "${args[@]}" install
		snapshot "$backend" >"$TMP/twice"
		same "$what: install twice equals once" "$TMP/once" "$TMP/twice"

		# Other options, then the first ones again: the same as once.
		check "$what: install with other options" \
			nsx "$NS" "$IPT" -b "$backend" -m "$mode" -p 6000 -q 3 --route-mark 0x4 -t 101 install
		nsx "$NS" "$IPT" "${args[@]}" install
		snapshot "$backend" >"$TMP/again"
		same "$what: reinstall with the first options converges" "$TMP/once" "$TMP/again"

		nsx "$NS" "$IPT" "${args[@]}" status >"$TMP/status" 2>&1 && rc=0 || rc=$?
		check "$what: status exits 0 when complete" [ "$rc" -eq 0 ]
		check "$what: status shows counters" grep -q 'pkts.*bytes' "$TMP/status"
		check "$what: status says installed" grep -q '^status: installed' "$TMP/status"

		ip -n "$NS" -6 route del local default dev lo table 100
		nsx "$NS" "$IPT" "${args[@]}" status >"$TMP/status" 2>&1 && rc=0 || rc=$?
		check "$what: status exits 3 when something is missing" [ "$rc" -eq 3 ]
		check "$what: status names the missing route" \
			grep -q '^missing: IPv6 route local default dev lo table 100' "$TMP/status"
		nsx "$NS" "$IPT" "${args[@]}" install

		check "$what: remove" nsx "$NS" "$IPT" -b "$backend" remove
		snapshot "$backend" >"$TMP/after"
		same "$what: remove restores the previous ruleset exactly" "$TMP/before" "$TMP/after"
		nsx "$NS" "$IPT" -b "$backend" remove >"$TMP/out" 2>&1 && rc=0 || rc=$?
		check "$what: remove twice is harmless" [ "$rc" -eq 0 ]
	done

	# An ip rule and a route that already exist are used, not duplicated,
	# and remove keeps them.
	ip -n "$NS" -4 rule add fwmark 0x1/0x1 lookup 100
	ip -n "$NS" -4 route add local default dev lo table 100
	snapshot "$backend" >"$TMP/before2"
	nsx "$NS" "$IPT" -b "$backend" -4 install
	n=$(ip -n "$NS" -4 rule show | grep -c 'fwmark 0x1/0x1 lookup 100' || true)
	check "$backend: an existing ip rule is not duplicated" [ "$n" -eq 1 ]
	nsx "$NS" "$IPT" -b "$backend" -4 remove
	snapshot "$backend" >"$TMP/after2"
	same "$backend: remove keeps the ip rule and route found before install" \
		"$TMP/before2" "$TMP/after2"
	ip -n "$NS" -4 rule del fwmark 0x1/0x1 lookup 100
	ip -n "$NS" -4 route del local default dev lo table 100

	# Clean up this backend's unrelated rules before the next one.
	for f in iptables ip6tables; do
		nsx "$NS" "$f-$backend" -t mangle -D PREROUTING -p udp -j MARK --set-mark 0x10
		nsx "$NS" "$f-$backend" -t nat -D PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 8081
	done
	for f in -4 -6; do
		ip -n "$NS" "$f" rule del fwmark 0x20 lookup 200
		ip -n "$NS" "$f" route del local default dev lo table 200
	done
done

# --config: the variables of pepsal.conf shape the rules.
cat >"$TMP/pepsal.conf" <<'EOF'
PEPSAL_IPT_INTERFACES="eth0"
PEPSAL_IPT_FAMILY=ipv4
PEPSAL_IPT_BACKEND=nft
PEPSAL_PORT=5555
PEPSAL_MARK=0x8/0x8
EOF
check "--config: install" nsx "$NS" "$IPT" --config "$TMP/pepsal.conf" install
check "--config: the port and mark of the conf" \
	nsx "$NS" iptables-nft -t nat -C PEPSAL -p tcp -m mark --mark 0x8/0x8 -j REDIRECT --to-ports 5555
check "--config: IPv4 only" bash -c "! ip netns exec $NS ip6tables-nft -t mangle -S PEPSAL >/dev/null 2>&1"
check "--config: the command line wins" nsx "$NS" "$IPT" --config "$TMP/pepsal.conf" -p 5556 install
check "--config: the command line's port" \
	nsx "$NS" iptables-nft -t nat -C PEPSAL -p tcp -m mark --mark 0x8/0x8 -j REDIRECT --to-ports 5556
check "--config: remove" nsx "$NS" "$IPT" --config "$TMP/pepsal.conf" remove
check "--config: nothing left" bash -c "! ip netns exec $NS iptables-nft -t nat -S PEPSAL >/dev/null 2>&1"

finish
