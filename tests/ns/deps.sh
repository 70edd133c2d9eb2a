#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The set-up papercuts:
#   - make without the build dependencies says in one line which Debian
#     packages are missing and that "make deps" installs them;
#   - tests/deps.sh waits for the dpkg lock and for apt's lists lock that
#     another process holds, and says so, instead of failing at once.
# apt-get and dpkg-query run for real, against a private apt and dpkg state
# in $TMP (APT_CONFIG, DPKG_ADMINDIR): the machine's own lock, package
# database and cache are never touched.
set -eu
. "$(dirname "$0")/../lib.sh"
need_cmd make apt-get dpkg-query python3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# ---- make without build dependencies: pkg-config finds none of them
mkdir -p "$TMP/no-pc"
PKG_CONFIG_LIBDIR=$TMP/no-pc make -C "$ROOT" --no-print-directory BUILD="$TMP/build" \
	"$TMP/build/shm/log.o" >"$TMP/out" 2>&1 && rc=0 || rc=$?
check "make fails without the build dependencies" [ "$rc" -ne 0 ]
check "...on one line naming every missing package and make deps" \
	grep -qx "pepsal: missing build dependencies (Debian packages): libnetfilter-queue-dev libnfnetlink-dev libmnl-dev libglib2.0-dev; 'make deps' installs them" "$TMP/out"
check "...before the compiler runs" bash -c "! grep -q 'No such file' '$TMP/out'"
make -C "$ROOT" --no-print-directory BUILD="$TMP/build" PKG_CONFIG=/nonexistent/pkg-config \
	"$TMP/build/shm/log.o" >"$TMP/out" 2>&1 || true
check "without pkg-config, it names pkg-config" grep -q "missing build dependencies (Debian packages): pkg-config" "$TMP/out"

# ---- deps.sh and the locks
A=$TMP/apt
mkdir -p "$A/dpkg/updates" "$A/lists/partial" "$A/cache/archives/partial" "$A/log" \
	"$A/state" "$A/etc/parts" "$A/etc/prefs"
: >"$A/dpkg/status"
: >"$A/etc/sources.list"
cat >"$A/apt.conf" <<CONF
Dir::State "$A/state";
Dir::State::status "$A/dpkg/status";
Dir::State::Lists "$A/lists";
Dir::Cache "$A/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Dir::Etc::sourcelist "$A/etc/sources.list";
Dir::Etc::sourceparts "$A/etc/parts";
Dir::Etc::parts "$A/etc/parts";
Dir::Etc::preferencesparts "$A/etc/prefs";
Dir::Log "$A/log";
CONF

# hold_lock FILE SECONDS: an fcntl lock on FILE, as apt and dpkg take it,
# held in the background until SECONDS have passed; returns once it is held.
hold_lock() {
	python3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o640)
fcntl.lockf(fd, fcntl.LOCK_EX)
open(sys.argv[1] + ".held", "w").close()
time.sleep(float(sys.argv[2]))' "$1" "$2" &
	HOLDER=$!
	on_exit "kill $HOLDER"
	wait_until 10 test -e "$1.held"
}

# run_deps: deps.sh with the private state; every package looks missing
# (the private dpkg database is empty) and none can be found (no sources),
# so apt-get install ends with "Unable to locate package" once it has the
# lock.
run_deps() {
	APT_CONFIG=$A/apt.conf DPKG_ADMINDIR=$A/dpkg PEPSAL_DEPS_LOCK_TIMEOUT=60 \
		sh "$ROOT/tests/deps.sh" >"$TMP/out" 2>&1 && rc=0 || rc=$?
}

hold_lock "$A/dpkg/lock-frontend" 2
run_deps
check "dpkg lock held: deps.sh says that it waits" grep -q "waits for it" "$TMP/out"
check "...and apt-get install waited for the lock (it got as far as the package list)" \
	grep -q "Unable to locate package" "$TMP/out"
check "...it never failed on the lock" bash -c "! grep -q 'Unable to acquire the dpkg frontend lock' '$TMP/out'"
wait "$HOLDER" || true
rm -f "$A/dpkg/lock-frontend.held"

hold_lock "$A/lists/lock" 2
run_deps
check "lists lock held: deps.sh says that apt-get update waits" grep -q "locked by another process; waiting" "$TMP/out"
check "...then goes on to apt-get install" grep -q "Unable to locate package" "$TMP/out"
check "...and update never failed on the lock" bash -c "! grep -q '^E: Could not get lock' '$TMP/out'"
wait "$HOLDER" || true
finish
