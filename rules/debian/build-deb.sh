#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make deb: a Debian binary package of pepsal, built with dpkg-deb from
# what "make install DESTDIR=... PREFIX=/usr" stages, plus the files Debian
# wants beside it (compressed man pages, copyright, changelog, maintainer
# scripts, conffiles, md5sums). No debhelper, no source package.
#
#   build-deb.sh BUILD VERSION MAKE
# writes BUILD/pepsal_VERSION_ARCH.deb and prints its path.
set -eu

BUILD=$1 VERSION=$2 MAKE=${3:-make}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
for c in dpkg-deb dpkg-shlibdeps strip gzip; do
	command -v "$c" >/dev/null 2>&1 ||
		{ echo "deb: $c not found (Debian packages dpkg-dev, binutils, gzip; 'make deps')" >&2; exit 1; }
done
ARCH=$(dpkg --print-architecture)
WORK=$BUILD/deb
PKG=$WORK/debian/pepsal   # where dpkg-shlibdeps expects a package's files
DEB=$BUILD/pepsal_${VERSION}_$ARCH.deb

rm -rf "$WORK"
mkdir -p "$PKG"
# umask 022 whatever the caller's: directories 755, files 644 in the package
umask 022
"$MAKE" -s --no-print-directory -C "$ROOT" BUILD="$BUILD" install DESTDIR="$PKG" PREFIX=/usr >/dev/null

# Debian wants stripped binaries, compressed man pages, its docs.
for b in pepsal pepsal-queuer pepsal-shm; do
	strip --strip-unneeded --remove-section=.comment --remove-section=.note "$PKG/usr/sbin/$b"
done
find "$PKG/usr/share/man" -type f -exec gzip -9n {} +
DOC=$PKG/usr/share/doc/pepsal
install -d "$DOC"
install -m 644 "$HERE/copyright" "$DOC/copyright"
sed "s/@VERSION@/$VERSION/" "$HERE/changelog" | gzip -9n >"$DOC/changelog.gz"
install -m 644 "$ROOT/README.md" "$DOC/README.md"
install -d "$PKG/usr/share/lintian/overrides"
install -m 644 "$HERE/lintian-overrides" "$PKG/usr/share/lintian/overrides/pepsal"

# Dependencies of the ELF files, by the shlibs of the libraries they use.
printf 'Source: pepsal\n\nPackage: pepsal\nArchitecture: any\n' >"$WORK/debian/control"
SHLIBS=$(cd "$WORK" && dpkg-shlibdeps -O -e"debian/pepsal/usr/sbin/pepsal" \
	-e"debian/pepsal/usr/sbin/pepsal-queuer" -e"debian/pepsal/usr/sbin/pepsal-shm" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$SHLIBS" ] || { echo "deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

install -d "$PKG/DEBIAN"
SIZE=$(du -sk --apparent-size "$PKG" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" \
	-e "s/@SHLIBS@/$SHLIBS/" "$HERE/control.in" >"$PKG/DEBIAN/control"
for s in postinst prerm postrm; do install -m 755 "$HERE/$s" "$PKG/DEBIAN/$s"; done
(cd "$PKG" && find etc -type f | sed 's|^|/|' | sort) >"$PKG/DEBIAN/conffiles"
chmod 644 "$PKG/DEBIAN/conffiles"
(cd "$PKG" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
	xargs md5sum) >"$PKG/DEBIAN/md5sums"
chmod 644 "$PKG/DEBIAN/md5sums"

dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
echo "$DEB"
