#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --client-cc-mode adaptive on an emulated satellite link (200 ms RTT here,
# to stay short): on a clean link the client leg stays cubic and the proxy
# counts no switch; with 2 % random loss its congestion control goes from
# cubic to bbr during a download, seen in `ss -ti` and in `pepsal-shm list
# --json` (which carries the leg's cc, cwnd, RTT, delivery rate and time
# limited by), and the next connection to that client starts on bbr. The client reads at 12 Mbit/s (curl --limit-rate) so
# that each download lasts long enough to be looked at.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../sat/satlink.sh"
. "$(dirname "$0")/../sat/satrun.sh"
need_root
need_cmd iptables tc ping curl python3 ss
for p in pepsal pepsal-queuer pepsal-shm pepsal-linkem; do
	[ -x "$BUILD/$p" ] || skip_all "no $BUILD/$p (make first)"
done
SAT_RTT_MS=200
SIZE=6000000

# leg_cc: the congestion control ss shows on pepsal's socket toward the client
leg_cc() {
	nsx "$NS_P" ss -Htin state established dst "$SAT_C4" 2>/dev/null |
		grep -o -w -E 'cubic|bbr|reno' | head -n 1
}
# shm_leg FIELD: FIELD of the client leg of the established entry, from
# pepsal-shm list --json ("" if none)
shm_leg() {
	nsx "$NS_P" "$BUILD/pepsal-shm" --shm "$SHM_NAME" list --json 2>/dev/null | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entries"]:
    leg = e.get("client_leg")
    if e["state"] == "established" and leg:
        print(leg.get(sys.argv[1], "")); break' "$1"
}
leg_is() { [ "$(leg_cc)" = "$1" ]; }
shm_is() { [ "$(shm_leg cc)" = "$1" ]; }
counter() {
	nsx "$NS_P" "$BUILD/pepsal-shm" --shm "$SHM_NAME" --json stats 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"].get(sys.argv[1], 0))' "$1"
}
# download: SIZE bytes read at 12 Mbit/s by curl in the background; sets CURL
download() {
	nsx "$NS_C" curl -sS -o "$TMP/body" --max-time 60 --limit-rate 1500k \
		"http://$SAT_S4:$HTTP_PORT/$SIZE" &
	CURL=$!
}

sat_scenario 20 0 || { not_ok "satellite scenario set up (200 ms, clean)"; finish; }
PEP_CC_MODE=${PEP_CC_MODE:-adaptive} pep_on || { not_ok "pepsal started"; finish; }

download
check "clean link: pepsal-shm sees the leg on cubic" wait_until 10 shm_is cubic
seen=
while kill -0 "$CURL" 2>/dev/null; do
	cc=$(leg_cc)
	[ -z "$cc" ] || seen="$seen $cc"
	sleep 0.2 # the sampling period of the leg's algorithm, not a wait
done
wait "$CURL"
check "clean link: the download completed" test "$(stat -c %s "$TMP/body" 2>/dev/null)" = "$SIZE"
check "clean link: ss showed cubic throughout ($(echo $seen | tr ' ' '\n' | sort | uniq -c | xargs))" \
	sh -c "[ -n '$seen' ] && ! echo '$seen' | grep -q -w bbr"
check "clean link: no switch counted (proxy.cc_adapted $(counter proxy.cc_adapted))" \
	test "$(counter proxy.cc_adapted)" = 0

sat_link_stop
sat_link_start --realtime --delay "$((SAT_RTT_MS / 2))ms" --loss 2 || { not_ok "lossy link"; finish; }
download
check "lossy link: ss shows the client leg switched to bbr" wait_until 20 leg_is bbr
check "lossy link: pepsal-shm list --json shows cc bbr" wait_until 5 shm_is bbr
fields=$(nsx "$NS_P" "$BUILD/pepsal-shm" --shm "$SHM_NAME" list --json | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entries"]:
    leg = e.get("client_leg")
    if leg:
        print(" ".join(k for k in ("cc", "cwnd", "rtt_ms", "min_rtt_ms", "delivery_rate_bps",
              "busy_ms", "rwnd_limited_ms", "sndbuf_limited_ms", "cwnd_limited_ms",
              "app_limited_ms", "limited_by") if k in leg)); break')
check "pepsal-shm list --json carries the leg's fields ($fields)" \
	test "$fields" = "cc cwnd rtt_ms min_rtt_ms delivery_rate_bps busy_ms rwnd_limited_ms sndbuf_limited_ms cwnd_limited_ms app_limited_ms limited_by"
check "pepsal-shm list (text) shows the leg" sh -c \
	"ip netns exec $NS_P $BUILD/pepsal-shm --shm $SHM_NAME list | grep -q 'client leg: bbr cwnd [0-9]* rtt'"
wait "$CURL"
check "lossy link: the download completed" test "$(stat -c %s "$TMP/body" 2>/dev/null)" = "$SIZE"
adapted=$(counter proxy.cc_adapted)
check "proxy.cc_adapted counted it ($adapted)" test "${adapted:-0}" -ge 1

# the link's verdict is remembered: the next connection starts on bbr
SIZE=100000
download
wait "$CURL"
check "the next connection to the client started on bbr (proxy.cc_started_lossy $(counter proxy.cc_started_lossy))" \
	test "$(counter proxy.cc_started_lossy)" -ge 1
pep_off
finish
