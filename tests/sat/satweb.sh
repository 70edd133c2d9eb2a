# SPDX-License-Identifier: GPL-2.0-or-later
# Page loads in a real browser over the satellite topology (issue 26), for
# make demo-web, make bench-sat and tests/ns/linkem-web.sh. Source
# tests/lib.sh, satlink.sh and satrun.sh first, then sat_topo (or
# sat_scenario).
#   web_on                the test page (tests/sat/webpage.py), a certificate
#                         made for it, nginx over TLS in the server namespace:
#                         port 443 HTTP/2, port 8443 HTTP/1.1 only
#   web_load h1|h2        one load in headless Chromium in the client
#                         namespace, from a fresh profile; prints the seconds
#                         to the load event, fails unless every object arrived
# The certificate is trusted by that browser only, by its public key
# (--ignore-certificate-errors-spki-list): nothing is installed anywhere.
WEB_DIR=
WEB_SPKI=
WEB_PORT_H2=443 WEB_PORT_H1=8443

web_on() {
	command -v chromium >/dev/null 2>&1 || { echo "# no chromium (tests/deps.sh installs it)" >&2; return 1; }
	command -v nginx >/dev/null 2>&1 || { echo "# no nginx" >&2; return 1; }
	WEB_DIR=$TMP/web
	mkdir -p "$WEB_DIR/nginx"
	python3 "$SAT/webpage.py" "$WEB_DIR/www" >"$WEB_DIR/page.log" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=pepsal demo-web" -addext "subjectAltName=IP:$SAT_S4" \
		-keyout "$WEB_DIR/key.pem" -out "$WEB_DIR/cert.pem" >/dev/null 2>&1 ||
		{ echo "# openssl could not make the test certificate" >&2; return 1; }
	WEB_SPKI=$(openssl x509 -in "$WEB_DIR/cert.pem" -noout -pubkey |
		openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
	local d=$WEB_DIR/nginx
	cat >"$WEB_DIR/nginx.conf" <<-EOF
	user root;
	worker_processes 1;
	pid $d/pid;
	error_log $d/error.log;
	events { worker_connections 1024; }
	http {
		types { text/html html; text/css css; application/javascript js; image/png png; }
		default_type application/octet-stream;
		access_log $d/access.log;
		client_body_temp_path $d; proxy_temp_path $d; fastcgi_temp_path $d;
		uwsgi_temp_path $d; scgi_temp_path $d;
		sendfile on;
		tcp_nodelay on;
		ssl_certificate $WEB_DIR/cert.pem;
		ssl_certificate_key $WEB_DIR/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		server { listen $SAT_S4:$WEB_PORT_H2 ssl http2; root $WEB_DIR/www; }
		server { listen $SAT_S4:$WEB_PORT_H1 ssl; root $WEB_DIR/www; }
	}
	EOF
	nsx "$NS_S" nginx -p "$d" -c "$WEB_DIR/nginx.conf" -g 'daemon off;' >"$d/stdout.log" 2>&1 &
	on_exit "kill $!"
	wait_until 5 listening "$NS_S" $WEB_PORT_H2 && wait_until 5 listening "$NS_S" $WEB_PORT_H1 ||
		{ echo "# nginx did not start:" >&2; cat "$d/error.log" "$d/stdout.log" >&2; return 1; }
}

# web_load h1|h2: one page load; prints the seconds to the load event; the
# browser's summary (JSON) is left in $TMP/web-last.json, its whole report
# (every resource's timing) in $TMP/web-raw.json.
web_load() {
	local port=$WEB_PORT_H2 want=h2 ns
	[ "$1" = h1 ] && port=$WEB_PORT_H1 want=http/1.1
	for ns in "$NS_C" "$NS_T" "$NS_P" "$NS_S"; do ip -n "$ns" tcp_metrics flush all 2>/dev/null; done
	nsx "$NS_C" env HOME="$WEB_DIR" python3 "$SAT/webload.py" \
		--url "https://$SAT_S4:$port/index.html" --manifest "$WEB_DIR/www/manifest.json" \
		--spki "$WEB_SPKI" --timeout "${WEB_TIMEOUT:-120}" --raw "$TMP/web-raw.json" \
		>"$TMP/web-last.json"
	local rc=$?
	if [ $rc -ne 0 ] || ! web_field protocol | grep -qx "$want"; then
		echo "# page load ($1) failed: $(cat "$TMP/web-last.json")" >&2
		return 1
	fi
	web_field load_s
}

# web_field NAME: a field of the last load's summary
web_field() {
	python3 -c 'import json, sys; v = json.load(open(sys.argv[1])).get(sys.argv[2], "")
print(" ".join(map(str, v)) if isinstance(v, list) else v)' "$TMP/web-last.json" "$1" 2>/dev/null
}
