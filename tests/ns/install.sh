#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make install / make uninstall:
#   - DESTDIR and PREFIX: exactly the expected files, with the right modes,
#     the final paths written into the scripts and the unit;
#   - an existing pepsal.conf is never overwritten; uninstall keeps a
#     changed one and removes everything else;
#   - systemd-analyze verify accepts the installed unit (skipped without
#     systemd-analyze), and the unit has the hardening it promises.
set -eu
. "$(dirname "$0")/../lib.sh"
need_cmd make install

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mk() { make -s -C "$ROOT" --no-print-directory BUILD="$BUILD" "$@"; }

# ---- DESTDIR + PREFIX
STAGE=$TMP/stage
check "make install DESTDIR PREFIX=/usr" mk install DESTDIR="$STAGE" PREFIX=/usr
(cd "$STAGE" && find . \( -type f -o -type l \) | sed 's|^\./|/|' | sort) >"$TMP/have"
sort >"$TMP/want" <<'EOF'
/usr/sbin/pepsal
/usr/sbin/pepsal-queuer
/usr/sbin/pepsal-shm
/usr/sbin/pepsal-iptables
/usr/sbin/pepsal-ha
/usr/share/doc/pepsal/ha.md
/usr/share/doc/pepsal/examples/ha/keepalived.conf
/usr/share/doc/pepsal/examples/ha/conntrackd.conf
/usr/libexec/pepsal/pepsal-start
/usr/share/man/man8/pepsal.8
/usr/share/man/man8/pepsal-queuer.8
/usr/share/man/man8/pepsal-shm.8
/usr/share/man/man8/pepsal-iptables.8
/usr/share/man/man8/pepsal-start.8
/usr/share/man/man8/pepsal-ha.8
/usr/share/man/man5/pepsal.conf.5
/etc/pepsal/pepsal.conf
/lib/systemd/system/pepsal.service
EOF
if diff -u "$TMP/want" "$TMP/have" >"$TMP/diff"; then ok "the expected list of files"
else not_ok "the expected list of files"; sed 's/^/#   /' "$TMP/diff"; fi

modes_ok=1
for f in sbin/pepsal sbin/pepsal-queuer sbin/pepsal-shm sbin/pepsal-iptables libexec/pepsal/pepsal-start; do
	[ "$(stat -c %a "$STAGE/usr/$f")" = 755 ] || { modes_ok=0; echo "# $f: $(stat -c %a "$STAGE/usr/$f")"; }
done
for f in usr/share/man/man8/pepsal.8 etc/pepsal/pepsal.conf lib/systemd/system/pepsal.service; do
	[ "$(stat -c %a "$STAGE/$f")" = 644 ] || { modes_ok=0; echo "# $f: $(stat -c %a "$STAGE/$f")"; }
done
check "programs 755, data 644" [ $modes_ok = 1 ]

UNIT=$STAGE/lib/systemd/system/pepsal.service
check "the unit names the final paths, not DESTDIR" \
	grep -qx 'ExecStart=/usr/libexec/pepsal/pepsal-start --foreground --config /etc/pepsal/pepsal.conf' "$UNIT"
check "no placeholder is left" bash -c "! grep -l '@[A-Z]*@' '$UNIT' '$STAGE/usr/sbin/pepsal-iptables' '$STAGE/usr/libexec/pepsal/pepsal-start'"
check "pepsal-start looks for pepsal in SBINDIR" grep -q '^PEPSAL=/usr/sbin/pepsal$' "$STAGE/usr/libexec/pepsal/pepsal-start"
# every program answers --version with its name and the Makefile's VERSION
# (issue 22: pepsal-shm and pepsal-start did not); pepsal-linkem, the link
# emulator of the tests and the demo, is not installed
VERSION=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
for f in "$STAGE"/usr/sbin/* "$STAGE"/usr/libexec/pepsal/* "$BUILD/pepsal-linkem"; do
	out=$("$f" --version 2>&1) && rc=0 || rc=$?
	check "$(basename "$f") --version: '$(basename "$f") $VERSION', status 0 ($out, $rc)" \
		[ "$rc" = 0 -a "$out" = "$(basename "$f") $VERSION" ]
done
check "the conf is the shipped one" cmp -s "$ROOT/rules/pepsal.conf" "$STAGE/etc/pepsal/pepsal.conf"

# ---- the unit: what it runs and its hardening
for line in 'ExecStartPost=+/usr/sbin/pepsal-iptables --config /etc/pepsal/pepsal.conf install' \
	'RestartPreventExitStatus=2' \
	'ExecStopPost=+/usr/sbin/pepsal-iptables --config /etc/pepsal/pepsal.conf remove' \
	'Restart=on-failure' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
	'PrivateTmp=yes' 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE CAP_SYS_NICE'; do
	check "unit: $line" grep -qxF -- "$line" "$UNIT"
done
# the configuration's check runs in the main process (status 2, not
# restarted): an ExecStartPre= failing would restart in a loop, adding and
# removing rules (systemd#11868), so nothing runs before ExecStart
check "unit: nothing before ExecStart (no ExecStartPre=, no ExecCondition=)" \
	sh -c "! grep -qE '^Exec(StartPre|Condition)=' '$UNIT'"

# ---- an existing, changed conf survives install; uninstall keeps it
echo 'PEPSAL_PORT=6000' >>"$STAGE/etc/pepsal/pepsal.conf"
cp "$STAGE/etc/pepsal/pepsal.conf" "$TMP/changed.conf"
mk install DESTDIR="$STAGE" PREFIX=/usr >"$TMP/out"
check "install again keeps a changed pepsal.conf" cmp -s "$TMP/changed.conf" "$STAGE/etc/pepsal/pepsal.conf"
check "...and puts the new one beside it" cmp -s "$ROOT/rules/pepsal.conf" "$STAGE/etc/pepsal/pepsal.conf.new"
check "...and says so" grep -q 'kept the existing' "$TMP/out"
mk uninstall DESTDIR="$STAGE" PREFIX=/usr >"$TMP/out"
(cd "$STAGE" && find . -type f | sed 's|^\./|/|') >"$TMP/left"
check "uninstall removes everything but the changed conf" \
	bash -c "[ \"\$(cat '$TMP/left')\" = /etc/pepsal/pepsal.conf ]"
rm "$STAGE/etc/pepsal/pepsal.conf"
mk install DESTDIR="$STAGE" PREFIX=/usr
mk uninstall DESTDIR="$STAGE" PREFIX=/usr
check "install then uninstall leaves no file" bash -c "[ -z \"\$(find '$STAGE' -type f)\" ]"

# ---- PREFIX alone (default layout under it) and systemd-analyze verify
P=$TMP/prefix
check "make install PREFIX SYSCONFDIR UNITDIR" \
	mk install PREFIX="$P" SYSCONFDIR="$P/etc" UNITDIR="$P/lib/systemd/system"
check "PREFIX: binaries in PREFIX/sbin" test -x "$P/sbin/pepsal-iptables"
check "PREFIX: man pages in PREFIX/share/man" test -f "$P/share/man/man5/pepsal.conf.5"
check "PREFIX: pepsal-start runs the installed pepsal" \
	bash -c "'$P/libexec/pepsal/pepsal-start' --print | grep -qx '$P/sbin/pepsal'"
check "PREFIX: pepsal-start --check checks the installed conf with the installed programs" \
	sh -c "'$P/libexec/pepsal/pepsal-start' --check | grep -q 'the configuration is valid'"
# the unit's ExecStart with a misspelt variable: status 2 (RestartPreventExitStatus)
cp "$P/etc/pepsal/pepsal.conf" "$TMP/bad.conf"
echo 'PEPSAL_IPT_INTERFACE=eth0' >>"$TMP/bad.conf"
"$P/libexec/pepsal/pepsal-start" --foreground --config "$TMP/bad.conf" >/dev/null 2>"$TMP/err" && rc=0 || rc=$?
check "PREFIX: the unit's ExecStart with a misspelt variable: status 2 ($rc), naming it" \
	sh -c '[ "$1" = 2 ] && grep -q "PEPSAL_IPT_INTERFACE is not" "$2"' _ "$rc" "$TMP/err"
if command -v systemd-analyze >/dev/null 2>&1; then
	# Every path in this unit exists, so verify checks the commands too.
	MANPATH=$P/share/man systemd-analyze verify "$P/lib/systemd/system/pepsal.service" >"$TMP/verify" 2>&1 && rc=0 || rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$TMP/verify" ]; then ok "systemd-analyze verify accepts the unit"
	else not_ok "systemd-analyze verify accepts the unit (status $rc)"; sed 's/^/#   /' "$TMP/verify"; fi
	# ...and would notice a broken one (the check is not vacuous).
	sed 's|^ExecStart=.*|ExecStart=relative/path|' "$P/lib/systemd/system/pepsal.service" >"$TMP/pepsal.service"
	if MANPATH=$P/share/man systemd-analyze verify "$TMP/pepsal.service" >/dev/null 2>&1; then
		not_ok "systemd-analyze verify refuses a broken unit"
	else ok "systemd-analyze verify refuses a broken unit"; fi
else
	ok "systemd-analyze verify # SKIP systemd-analyze is not installed"
fi
mk uninstall PREFIX="$P" SYSCONFDIR="$P/etc" UNITDIR="$P/lib/systemd/system"
check "PREFIX: uninstall leaves no file" bash -c "[ -z \"\$(find '$P' -type f)\" ]"

finish
