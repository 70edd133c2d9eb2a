#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install whichever Debian packages pepsal's build, tests and demo need and
# are missing. Runs apt-get only when something is missing, and says so.
# While another apt-get or dpkg holds the dpkg lock, apt-get waits for it
# (up to PEPSAL_DEPS_LOCK_TIMEOUT seconds, default 600) instead of failing.
set -eu

PACKAGES="gcc make pkg-config libc6-dev libnetfilter-queue-dev libnfnetlink-dev \
libmnl-dev libglib2.0-dev iptables nftables iproute2 ethtool kmod procps psmisc curl \
iperf3 iputils-ping python3 socat gnuplot-nox clang libclang-rt-14-dev groff-base man-db \
systemd haproxy prometheus lintian dpkg-dev nginx-light wrk chromium openssl keepalived \
conntrack conntrackd"
LOCK_TIMEOUT=${PEPSAL_DEPS_LOCK_TIMEOUT:-600}

# one dpkg-query for all of them (one per package took seconds on a busy box)
installed=" $(dpkg-query -W -f='${Package} ${Status}\n' $PACKAGES 2>/dev/null |
	awk '$2 == "install" && $3 == "ok" && $4 == "installed" { printf "%s ", $1 }')"
missing=""
for p in $PACKAGES; do
	case $installed in *" $p "*) ;; *) missing="$missing $p" ;; esac
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
echo "deps: (if another apt-get or dpkg holds the dpkg lock, this waits for it, up to $LOCK_TIMEOUT s)"
APT="apt-get -o DPkg::Lock::Timeout=$LOCK_TIMEOUT"
# apt-get update ignores DPkg::Lock::Timeout (its lock is the lists
# directory's): retry it while that lock is what fails it.
deadline=$(($(date +%s) + LOCK_TIMEOUT))
while ! out=$($SUDO $APT update -qq 2>&1); do
	case $out in
	*"Could not get lock"* | *"Unable to lock"*)
		if [ "$(date +%s)" -lt "$deadline" ]; then
			[ -n "${waited:-}" ] || echo "deps: apt-get update: the package lists are locked by another process; waiting"
			waited=1
			sleep 1
			continue
		fi ;;
	esac
	printf '%s\n' "$out" >&2
	exit 1
done
[ -z "$out" ] || printf '%s\n' "$out"
DEBIAN_FRONTEND=noninteractive $SUDO $APT install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
