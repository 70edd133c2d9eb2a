#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Streams for the two-box tests (tests/ns/ha-*.sh).

  hatool.py server PORT OUT TICK_MS
      Every connection: each 16-byte client message is echoed; every TICK_MS
      (0: never) the server sends a tick of its own, so its side sends too.
      How each connection ended (eof, reset, error) and when, into OUT
      (JSON) on SIGTERM.
  hatool.py client HOST PORT N INTERVAL_MS OUT STOPFILE
      N connections, each sending a numbered 16-byte message every
      INTERVAL_MS and checking that it comes back whole and in order; the
      server's ticks are counted. Until STOPFILE exists (then a clean close)
      or the connection ends. Into OUT (JSON): per connection its end
      (ok, reset, error: the message), when (wall clock), the messages
      echoed, and every gap between two received messages longer than
      2 * INTERVAL_MS (start, length).
  hatool.py first HOST PORT SECONDS
      A new connection every 100 ms for SECONDS, each reading the server's
      line (tcptool.py serve-peer); prints the wall clock of the first
      that got its answer, and how many did.
  hatool.py report OUT [FROM TO]
      One line: how the connections ended; with FROM TO (wall clock
      seconds), the longest gap of each stream inside [FROM, TO]: p50, p99,
      max.
"""
import asyncio
import json
import os
import signal
import sys
import time

MSG = 16


def server(port, out, tick_ms):
    ends = []

    async def handle(reader, writer):
        stop = asyncio.Event()

        async def ticks():
            n = 0
            while not stop.is_set():
                await asyncio.sleep(tick_ms / 1000)
                writer.write(b"T" + f"{n:015d}".encode())
                n += 1
                await writer.drain()

        task = asyncio.ensure_future(ticks()) if tick_ms > 0 else None
        kind = "eof"
        try:
            while True:
                data = await reader.readexactly(MSG)
                writer.write(data)
                await writer.drain()
        except asyncio.IncompleteReadError as e:
            kind = "eof" if not e.partial else "short"
        except ConnectionResetError:
            kind = "reset"
        except OSError as e:
            kind = f"error {e!r}"
        stop.set()
        if task:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, OSError):
                pass
        ends.append((kind, time.time()))
        writer.close()

    def dump(*_):
        with open(out + ".tmp", "w") as f:
            json.dump({"ends": ends}, f)
        os.rename(out + ".tmp", out)
        os._exit(0)

    async def main():
        srv = await asyncio.start_server(handle, host=None, port=port, backlog=4096,
                                         reuse_address=True)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, dump)
        async with srv:
            await srv.serve_forever()
    asyncio.run(main())


def client(host, port, n, interval_ms, out, stopfile):
    res = [None] * n
    limit = 2 * interval_ms / 1000

    async def one(i):
        r = {"end": "error", "at": 0.0, "echoed": 0, "ticks": 0, "gaps": []}
        res[i] = r
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
        except (OSError, asyncio.TimeoutError) as e:
            r["end"], r["at"] = f"connect {e!r}", time.time()
            return
        sent, last = 0, time.time()

        async def sender():
            nonlocal sent
            while not os.path.exists(stopfile):
                writer.write(b"C" + f"{i:06d}{sent:09d}".encode())
                sent += 1
                await writer.drain()
                await asyncio.sleep(interval_ms / 1000)
            writer.write_eof()

        task = asyncio.ensure_future(sender())
        try:
            while True:
                m = await reader.readexactly(MSG)
                now = time.time()
                if now - last > limit:
                    r["gaps"].append((last, now - last))
                last = now
                if m[:1] == b"T":
                    r["ticks"] += 1
                    continue
                want = b"C" + f"{i:06d}{r['echoed']:09d}".encode()
                if m != want:
                    raise ValueError(f"echo {r['echoed']} came back as {m!r}")
                r["echoed"] += 1
        except asyncio.IncompleteReadError as e:
            r["end"] = "ok" if not e.partial and task.done() else "eof"
        except ConnectionResetError:
            r["end"] = "reset"
        except (OSError, ValueError) as e:
            r["end"] = f"error {e!r}"
        r["at"] = time.time()
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, OSError):
            pass
        writer.close()

    async def main():
        await asyncio.gather(*(one(i) for i in range(n)))
    asyncio.run(main())
    with open(out + ".tmp", "w") as f:
        json.dump(res, f)
    os.rename(out + ".tmp", out)


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
    if cmd == "server":
        server(int(a[0]), a[1], int(a[2]))
    elif cmd == "client":
        client(a[0], int(a[1]), int(a[2]), int(a[3]), a[4], a[5])
    elif cmd == "first":
        first(a[0], int(a[1]), float(a[2]))
    elif cmd == "report":
        report(a[0], *(float(x) for x in a[1:3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
