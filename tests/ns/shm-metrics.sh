#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-shm metrics and serve, for Prometheus:
#   - the text format passes promtool check metrics (no error, no lint);
#   - the gauges count shm-crowd's entries by state and sum their bytes;
#     every named counter is exported without pepsal-shm knowing it (one
#     registered by the test itself), a value-holding one as a gauge;
#   - a missing table is pepsal_table_up 0 (and exit status 1);
#   - serve in a namespace: GET /metrics, HEAD, 404, 405, 400, 431; an idle
#     client neither blocks a scrape nor holds its slot past the timeout;
#   - a real Prometheus server in the namespace scrapes it and its query
#     API returns the table's values.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd python3 curl promtool
SHM="$BUILD/pepsal-shm"
CROWD="$BUILD/tests/shm-crowd"
"$CROWD" "$SHM_NAME" build || { not_ok "shm-crowd build"; finish; }

"$SHM" --shm "$SHM_NAME" metrics >"$TMP/m.txt"
check "metrics: exit status 0" [ $? -eq 0 ]
promtool check metrics <"$TMP/m.txt" >"$TMP/lint" 2>&1 && rc=0 || rc=$?
if [ $rc -eq 0 ] && [ ! -s "$TMP/lint" ]; then ok "promtool check metrics: no error, no lint"
else not_ok "promtool check metrics (status $rc)"; sed 's/^/#   /' "$TMP/lint"; fi

# has LINE: the exposition holds exactly this line
has() { grep -qxF -- "$1" "$TMP/m.txt"; }
for line in 'pepsal_table_up 1' 'pepsal_table_used_entries 6' 'pepsal_table_capacity_entries 64' \
	'pepsal_connections{state="pending"} 2' 'pepsal_connections{state="established"} 3' \
	'pepsal_connections{state="closing"} 1' \
	'pepsal_connection_bytes{direction="client_to_server"} 9001250' \
	'pepsal_connection_bytes{direction="server_to_client"} 5020061' \
	'pepsal_table_inserts_total 6' 'pepsal_table_lookup_hits_total 4' \
	'# TYPE pepsal_table_inserts_total counter' \
	'pepsal_process_alive{role="proxy"} 0' \
	'# TYPE pepsal_crowd_events_total counter' 'pepsal_crowd_events_total 5' \
	'# TYPE pepsal_crowd_active gauge' 'pepsal_crowd_active 7' \
	'# TYPE pepsal_proxy_pair_pool gauge' 'pepsal_proxy_pair_pool 3' \
	'# HELP pepsal_proxy_pair_pool Terminal: warm pair connections ready now. (proxy.pair_pool)' \
	'# TYPE pepsal_proxy_closed_total counter' 'pepsal_proxy_closed_total 11'; do
	check "metrics: $line" has "$line"
done
check "metrics: every family has HELP and TYPE once" python3 - "$TMP/m.txt" <<'PY'
import sys, collections
help_, type_, fam = collections.Counter(), collections.Counter(), set()
for l in open(sys.argv[1]):
    p = l.split()
    if l.startswith("# HELP"): help_[p[2]] += 1
    elif l.startswith("# TYPE"): type_[p[2]] += 1
    else: fam.add(p[0].split("{")[0])
sys.exit(0 if fam <= set(help_) == set(type_) and max(help_.values()) == max(type_.values()) == 1 else 1)
PY

# A counter registered now, by someone pepsal-shm has never heard of.
"$CROWD" "$SHM_NAME" pump 198.18.1.2:40002 1000 &
PUMP=$!
on_exit "kill $PUMP"
check "a newly registered counter is exported as pepsal_crowd_pumped_total" \
	wait_until 10 bash -c "'$SHM' --shm '$SHM_NAME' metrics | grep -q '^pepsal_crowd_pumped_total [1-9]'"
kill $PUMP

"$SHM" --shm "$SHM_NAME-none" metrics >"$TMP/none.txt" 2>"$TMP/err" && rc=0 || rc=$?
check "missing table: pepsal_table_up 0, exit status 1, a message" \
	bash -c "[ $rc -eq 1 ] && grep -qx 'pepsal_table_up 0' '$TMP/none.txt' && grep -q 'does not exist' '$TMP/err'"
check "missing table: still valid for promtool" promtool check metrics <"$TMP/none.txt"

# ---- serve, in a namespace of its own
NS=$(ns_new pm)
PORT=9752
nsx "$NS" "$SHM" --shm "$SHM_NAME" serve --listen 127.0.0.1:$PORT 2>"$TMP/serve.err" &
SERVE=$!
on_exit "kill $SERVE"
check "serve listens on the address given" wait_until 10 listening "$NS" $PORT
check "serve says where" grep -q "at http://127.0.0.1:$PORT/metrics" "$TMP/serve.err"
check "serve binds that address only" bash -c "nsx() { ip netns exec \"\$@\"; }; nsx '$NS' ss -Hltn 'sport = :$PORT' | grep -q '127.0.0.1:$PORT'"

# raw REQUEST: what serve answers to REQUEST (bytes as given), first line
raw() {
	nsx "$NS" python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
while True:
    b = s.recv(65536)
    if not b: break
    data += b
print(data.split(b"\r\n")[0].decode())' "$PORT" "$1"
}

# An idle client that never sends: it must not hold up the others.
nsx "$NS" python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t = time.monotonic()
s.settimeout(60)
r = s.recv(1)
print("closed after %.1f s" % (time.monotonic() - t))' $PORT >"$TMP/idle" 2>&1 &
IDLE=$!
on_exit "kill $IDLE"

nsx "$NS" curl -sS -D "$TMP/hdr" -o "$TMP/scrape.txt" "http://127.0.0.1:$PORT/metrics"
check "GET /metrics: 200 while an idle client is connected" grep -q '^HTTP/1.0 200 OK' "$TMP/hdr"
check "GET /metrics: the exposition content type" grep -qi '^Content-Type: text/plain; version=0.0.4' "$TMP/hdr"
check "GET /metrics: the same families as pepsal-shm metrics" \
	bash -c "diff <(grep '^# TYPE' '$TMP/m.txt' | sort) <(grep '^# TYPE' '$TMP/scrape.txt' | grep -v crowd_pumped | sort)"
check "GET /metrics: promtool accepts it" promtool check metrics <"$TMP/scrape.txt"
check "HEAD /metrics: 200" [ "$(raw 'HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n')" = "HTTP/1.0 200 OK" ]
check "GET /metrics?x=1 (a query string): 200" [ "$(raw 'GET /metrics?x=1 HTTP/1.0\r\n\r\n')" = "HTTP/1.0 200 OK" ]
check "GET /other: 404" [ "$(raw 'GET /other HTTP/1.0\r\n\r\n')" = "HTTP/1.0 404 Not Found" ]
check "POST /metrics: 405" [ "$(raw 'POST /metrics HTTP/1.0\r\n\r\n')" = "HTTP/1.0 405 Method Not Allowed" ]
check "garbage: 400" [ "$(raw 'hello there\r\n\r\n')" = "HTTP/1.0 400 Bad Request" ]
check "a 10 kB header: 431" [ "$(raw "GET /metrics HTTP/1.0\\r\\nX: $(head -c 10000 /dev/zero | tr '\0' a)\\r\\n\\r\\n")" = "HTTP/1.0 431 Request Header Fields Too Large" ]
check "serve is still up after bad requests" kill -0 $SERVE

# --listen :PORT, as pepsal's --pair-listen takes it: every address, both families
nsx "$NS" ip addr add 198.18.9.1/24 dev lo
nsx "$NS" "$SHM" --shm "$SHM_NAME" serve --listen :$((PORT + 1)) 2>"$TMP/serve-any.err" &
on_exit "kill $!"
if wait_until 10 listening "$NS" $((PORT + 1)); then
	check "serve -l :PORT answers on 198.18.9.1 and ::1" sh -c \
		"ip netns exec $NS curl -sf -o /dev/null http://198.18.9.1:$((PORT + 1))/metrics &&
		 ip netns exec $NS curl -sf -o /dev/null 'http://[::1]:$((PORT + 1))/metrics'"
else
	not_ok "serve -l :PORT listens ($(cat "$TMP/serve-any.err"))"
fi

# ---- a real Prometheus server scrapes it
if command -v prometheus >/dev/null 2>&1; then
	cat >"$TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: pepsal
    static_configs:
      - targets: ['127.0.0.1:$PORT']
YML
	nsx "$NS" prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
		--web.listen-address=127.0.0.1:9090 >"$TMP/prometheus.log" 2>&1 &
	PROM=$!
	on_exit "kill $PROM"
	# query EXPR VALUE: Prometheus's query API gives VALUE for EXPR
	query() {
		nsx "$NS" curl -sfG "http://127.0.0.1:9090/api/v1/query" --data-urlencode "query=$1" |
			python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; sys.exit(0 if len(r)==1 and r[0]["value"][1]==sys.argv[1] else 1)' "$2"
	}
	check "prometheus: the target is up" wait_until 90 query 'up{job="pepsal"}' 1
	check "prometheus: pepsal_connections{state=\"established\"} is 3" \
		wait_until 30 query 'pepsal_connections{state="established"}' 3
	check "prometheus: a named counter" query 'pepsal_crowd_events_total' 5
	check "prometheus: the table's use" query 'pepsal_table_used_entries' 6
	if [ $FAILS -gt 0 ]; then tail -5 "$TMP/prometheus.log" | sed 's/^/#   /'; fi
else
	ok "prometheus scrapes the endpoint # SKIP prometheus is not installed"
fi

wait $IDLE
check "the idle client was closed by serve's timeout ($(cat "$TMP/idle"))" grep -q '^closed after' "$TMP/idle"
finish
