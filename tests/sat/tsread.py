#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Timestamp a download: read stdin (curl's output) and write
"SECONDS BYTES" lines, bytes received so far, at most one line per 10 ms,
times from START (epoch seconds, taken just before curl started).
Usage: curl ... | tsread.py START OUTFILE    (prints the byte count)
"""
import os
import sys
import time


def main():
    if len(sys.argv) != 3:
        print("usage: tsread.py START OUTFILE", file=sys.stderr)
        sys.exit(2)
    start = float(sys.argv[1])
    total, last = 0, -1.0
    fd = sys.stdin.fileno()
    with open(sys.argv[2], "w") as out:
        out.write("0 0\n")
        while True:
            chunk = os.read(fd, 1 << 16)
            now = time.time() - start
            if not chunk:
                break
            total += len(chunk)
            if now - last >= 0.01:
                out.write(f"{now:.4f} {total}\n")
                last = now
        out.write(f"{now:.4f} {total}\n")
    print(total)


if __name__ == "__main__":
    main()
