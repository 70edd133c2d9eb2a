#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make deb: the Debian package.
#   - it holds the binaries, man pages (compressed), the unit, pepsal.conf
#     as a conffile, copyright and changelog; lintian finds no error and no
#     warning (the overrides in rules/debian/lintian-overrides say why);
#   - installed for real with dpkg, in a private mount namespace whose root
#     is an overlay of / with its writes on a tmpfs, and a network namespace
#     of its own: pepsal --version runs; installing started nothing and
#     added no netfilter rule; remove keeps the conffile; purge leaves no
#     file of the package. The machine's own root and dpkg database are
#     never written: the overlay and the namespaces end with the test.
set -eu
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd make dpkg dpkg-deb dpkg-shlibdeps unshare chroot iptables-save
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

DEB=$(make -s -C "$ROOT" --no-print-directory BUILD="$BUILD" deb 2>"$TMP/deb.err" | tail -1) || true
if [ ! -f "$DEB" ]; then not_ok "make deb builds a package"; sed 's/^/#   /' "$TMP/deb.err"; finish; fi
ok "make deb builds $(basename "$DEB")"

dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' | grep -v '/$' | sort >"$TMP/files"
for f in /usr/sbin/pepsal /usr/sbin/pepsal-queuer /usr/sbin/pepsal-shm /usr/sbin/pepsal-iptables \
	/usr/libexec/pepsal/pepsal-start /lib/systemd/system/pepsal.service /etc/pepsal/pepsal.conf \
	/usr/share/man/man8/pepsal.8.gz /usr/share/man/man8/pepsal-shm.8.gz \
	/usr/share/man/man5/pepsal.conf.5.gz /usr/share/doc/pepsal/copyright \
	/usr/share/doc/pepsal/changelog.gz; do
	check "package holds $f" grep -qxF "$f" "$TMP/files"
done
check "pepsal.conf is a conffile" bash -c "dpkg-deb -f '$DEB' Package >/dev/null && dpkg-deb --ctrl-tarfile '$DEB' | tar -xO ./conffiles | grep -qx /etc/pepsal/pepsal.conf"
check "Depends names the libraries dpkg-shlibdeps found, iptables and iproute2" \
	bash -c "dpkg-deb -f '$DEB' Depends | grep -q 'libnetfilter-queue1.*iproute2, iptables'"
dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./postinst >"$TMP/postinst"
check "postinst neither enables nor starts pepsal nor runs pepsal-iptables" \
	bash -c "! grep -vE '^[[:space:]]*#' '$TMP/postinst' | grep -Eq 'enable|start|pepsal-iptables|iptables|nft '"

if command -v lintian >/dev/null 2>&1; then
	lintian "$DEB" >"$TMP/lintian" 2>&1 || true
	if grep -E '^(E|W): ' "$TMP/lintian" >"$TMP/lintian.ew"; then
		not_ok "lintian: no error, no warning"; sed 's/^/#   /' "$TMP/lintian.ew"
	else ok "lintian: no error, no warning"; fi
else
	ok "lintian # SKIP lintian is not installed"
fi

# ---- install, remove, purge in an overlay root
# The script runs in new mount, network and PID namespaces: the overlay, its
# tmpfs and the bind mounts vanish with it, whatever happens.
OV=$TMP/ov
mkdir -p "$OV"
cat >"$TMP/inside.sh" <<'INSIDE'
set -u
OV=$1 DEB=$2 FILES=$3
mount -t tmpfs tmpfs "$OV" || exit 1
mkdir -p "$OV/upper" "$OV/work" "$OV/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$OV/upper,workdir=$OV/work" "$OV/root" ||
	{ echo "## no-overlay"; exit 1; }
mount --rbind /dev "$OV/root/dev" && mount -t proc proc "$OV/root/proc" || exit 1
ip link set lo up
inroot() { chroot "$OV/root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
rules() { inroot iptables-save 2>/dev/null | grep -v '^#'; inroot ip6tables-save 2>/dev/null | grep -v '^#'; inroot nft list ruleset 2>/dev/null; }
rules >"$OV/rules.before"
echo "## install"; inroot dpkg -i "$DEB" >"$OV/install.log" 2>&1; echo "status $?"
echo "## version"; inroot pepsal --version
echo "## status"; inroot dpkg-query -W -f='${Status}\n' pepsal
echo "## conffiles"; inroot dpkg-query -W -f='${Conffiles}\n' pepsal | awk 'NF { print $1 }'
echo "## enabled"; ls "$OV/root/etc/systemd/system/"*/pepsal.service 2>/dev/null
echo "## running"; inroot pgrep -x pepsal; inroot pgrep -x pepsal-queuer
echo "## rules-changed"; rules | diff "$OV/rules.before" - >/dev/null || echo changed
echo "## remove"; inroot dpkg -r pepsal >"$OV/remove.log" 2>&1; echo "status $?"
echo "## after-remove"; ls "$OV/root/etc/pepsal/pepsal.conf" "$OV/root/usr/sbin/pepsal" 2>/dev/null
echo "## purge"; inroot dpkg --purge pepsal >"$OV/purge.log" 2>&1; echo "status $?"
echo "## after-purge-dpkg"; inroot dpkg-query -W -f='${Status}\n' pepsal 2>/dev/null
echo "## after-purge-files"
while read -r f; do [ -e "$OV/root$f" ] && echo "$f"; done <"$FILES"
(cd "$OV/upper" && find . -name '*pepsal*')
echo "## logs"; cat "$OV/install.log" "$OV/remove.log" "$OV/purge.log" | sed 's/^/# /'
echo "## end"
INSIDE
unshare -m -n -p --fork bash "$TMP/inside.sh" "$OV" "$DEB" "$TMP/files" >"$TMP/inside.out" 2>&1 || true
if grep -qx '## no-overlay' "$TMP/inside.out"; then
	echo "# SKIP the kernel refuses an overlay of / here ($(head -1 "$TMP/inside.out"))"
	finish_skip=1
fi
[ -z "${finish_skip:-}" ] || { [ "$FAILS" -eq 0 ] && exit 77; finish; }
# the script ran to its end (a check of an empty section means nothing otherwise)
ran() { grep -qx '## end' "$TMP/inside.out" && grep -qx 'status 0' "$TMP/inside.out"; }
empty_section() { ran && [ -z "$(section "$1")" ]; }
section() { sed -n "/^## $1\$/,/^## /p" "$TMP/inside.out" | sed '1d;$d'; }
check "dpkg -i installs the package" [ "$(section install)" = "status 0" ]
check "pepsal --version runs from the package" bash -c "sed -n '/^## version\$/,/^## /p' '$TMP/inside.out' | grep -q '^pepsal.* [0-9][0-9.]*'"
check "dpkg knows it installed" [ "$(section status)" = "install ok installed" ]
check "pepsal.conf is registered as a conffile" [ "$(section conffiles)" = "/etc/pepsal/pepsal.conf" ]
check "installing enabled no unit" empty_section enabled
check "installing started no pepsal" empty_section running
check "installing changed no netfilter rule" empty_section rules-changed
check "dpkg -r removes it" [ "$(section remove)" = "status 0" ]
check "remove keeps the conffile, not the programs" [ "$(section after-remove)" = "$(printf '%s' "$OV/root/etc/pepsal/pepsal.conf")" ]
check "dpkg --purge purges it" [ "$(section purge)" = "status 0" ]
check "after purge dpkg knows nothing of it" \
	bash -c "[ -z '$(section after-purge-dpkg)' ] || [ '$(section after-purge-dpkg)' = 'unknown ok not-installed' ]"
check "after purge no file of the package is left" empty_section after-purge-files
if [ "$FAILS" -gt 0 ]; then sed 's/^/#   /' "$TMP/inside.out" | tail -40; fi
check "the machine's own dpkg never heard of pepsal" bash -c "! dpkg-query -W pepsal >/dev/null 2>&1"
finish
