#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install whichever Debian packages pepsal's build, tests and demo need and
# are missing. Runs apt-get only when something is missing, and says so.
set -eu

PACKAGES="gcc make pkg-config libc6-dev libnetfilter-queue-dev libnfnetlink-dev \
libmnl-dev libglib2.0-dev iptables iproute2 ethtool kmod procps psmisc curl \
iperf3 iputils-ping python3 socat gnuplot-nox clang libclang-rt-14-dev groff-base man-db \
systemd haproxy nginx-light wrk"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: missing packages:$missing; run as root (sudo is not installed)" >&2
	exit 1
fi
echo "deps: installing missing Debian packages:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
