#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers of the two-box tests (tests/ns/ha-*.sh); their streams are
tests/tools/ha-streams.c, whose results "report" reads.

  hatool.py first HOST PORT SECONDS
      A new connection every 100 ms for SECONDS, each reading the server's
      line (tcptool.py serve-peer); prints the wall clock of the first
      that got its answer, and how many did.
  hatool.py report OUT [FROM TO]
      One line: how the connections ended; with FROM TO (wall clock
      seconds), the longest gap of each stream inside [FROM, TO]: p50, p99,
      max.
"""
import json
import sys
import time


def first(host, port, seconds):
    import socket
    import threading
    done, lock = [], threading.Lock()

    def one():
        try:
            s = socket.create_connection((host, port), timeout=seconds)
            s.settimeout(seconds)
            if s.recv(64).startswith(b"server"):
                with lock:
                    done.append(time.time())
            s.close()
        except OSError:
            pass

    threads, end = [], time.time() + seconds
    while time.time() < end and not done:
        t = threading.Thread(target=one, daemon=True)
        t.start()
        threads.append(t)
        time.sleep(0.1)
    for t in threads:
        t.join(seconds)
    print(f"{min(done):.3f} {len(done)}" if done else "- 0")


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))] if v else 0.0


def report(out, lo=None, hi=None):
    res = json.load(open(out))
    ends = {}
    for r in res:
        k = r["end"].split(" ")[0]
        ends[k] = ends.get(k, 0) + 1
    line = ", ".join(f"{v} {k}" for k, v in sorted(ends.items()))
    if lo is not None:
        worst = []
        for r in res:
            g = [ln for st, ln in r["gaps"] if st + ln >= lo and st <= hi]
            worst.append(max(g, default=0.0))
        line += (f"; longest gap per stream in [{lo:.3f}, {hi:.3f}]: p50 "
                 f"{pct(worst, 0.5) * 1000:.0f} ms, p99 {pct(worst, 0.99) * 1000:.0f} ms, "
                 f"max {max(worst, default=0) * 1000:.0f} ms")
    print(line)


def main(argv):
    cmd, a = argv[1], argv[2:]
    if cmd == "first":
        first(a[0], int(a[1]), float(a[2]))
    elif cmd == "report":
        report(a[0], *(float(x) for x in a[1:3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
