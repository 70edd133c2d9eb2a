#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Small TCP servers and clients for pepsal's namespace tests.

Servers (run in the background, listen on every address, IPv4 and IPv6):
  serve-peer PORT [ID]     reply "ID PEER-ADDRESS\n" and close
  echo PORT                echo everything until EOF, then close
  halfclose PORT M         read until EOF, reply "got N\n" and M bytes, close
  mirror PORT M OUT        send M bytes, shut down writing, read until EOF,
                           append "received N from PEER" to OUT, close
  rst PORT                 accept, then close with a RST at once
  count-echo PORT OUT      echo until EOF; append one line per accepted
                           connection to OUT
  watch-rst PORT OUT       read until EOF or reset, append "eof N" or
                           "reset N" (N bytes read) to OUT
  source PORT              read "SIZE SEED\n", send SIZE bytes of pattern SEED, close
  halfclose-wait PORT M GOFILE
                           like halfclose, but reply only once GOFILE exists

Clients (exit 0 when every check passed, 1 otherwise, with a message):
  get HOST PORT [TIMEOUT]  print what the server sends until EOF (TIMEOUT s
                           to connect, default 10)
  halfclose HOST PORT N M  send N bytes, shut down writing, expect "got N" and M bytes
  mirror HOST PORT N M     expect M bytes and EOF, then send N bytes, wait for EOF
  many HOST PORT COUNT SIZE
                           COUNT connections open at once, each echoes SIZE
                           bytes of its own data, verified
  samesrc SRC LPORT PORT HOST...
                           one connection to each HOST from the same SRC:LPORT,
                           all open at once; print each reply
  send-rst HOST PORT N     send N bytes, wait for the server to read them, then
                           close with a RST
  hold HOST PORT COUNT GOFILE
                           open COUNT echo connections, check each, print
                           "ready", wait for GOFILE to exist, check each again
  connect HOST PORT SECONDS [TOS]
                           connect (with IP_TOS / IPV6_TCLASS TOS); print the
                           outcome (connected, ConnectionRefusedError, timeout,
                           an errno name) and the milliseconds it took; once
                           connected, echo 1000 bytes through and verify them
  first PORT HOST...       connect to each HOST in turn until one accepts (as
                           socket.create_connection does with a name's
                           addresses); print which and what the server sent
  fetch HOST PORT SIZE SEED
                           ask a source server for SIZE bytes, verify their sha256
  stream HOST PORT COUNT STOPFILE INTERVAL_MS
                           COUNT echo connections, each sending a numbered message
                           every INTERVAL_MS until STOPFILE exists, every echo
                           verified; print
                           the longest gap between two echoes of one connection
  mirror-wait HOST PORT N M GOFILE
                           like mirror, but send the N bytes only once GOFILE exists
  connect-loop HOST PORT STOPFILE
                           one echo connection after the other until STOPFILE
                           exists; every one must succeed
  expect-reset HOST PORT SECONDS
                           connect; expect the connection to be refused or
                           reset within SECONDS; print the time it took
  http-keepalive HOST PORT PATH COUNT [GAP_MS]
                           COUNT HTTP/1.1 GETs of PATH on one connection, each
                           request written in two pieces (the request line,
                           then the rest), GAP_MS apart (default 0: back to
                           back); print the latency percentiles in ms:
                           "p50 X p99 Y max Z"
"""
import asyncio
import hashlib
import socket
import struct
import sys
import time

BACKLOG = 4096


def pattern(n, seed=0):
    """N bytes of a pattern that shifts with SEED."""
    block = bytes((i * 7 + seed) & 0xFF for i in range(4096))
    return (block * (n // len(block) + 1))[:n]


def unmap(addr):
    return addr[7:] if addr.startswith("::ffff:") else addr


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


# ---- servers -----------------------------------------------------------------

async def read_all(reader):
    n = 0
    while True:
        data = await reader.read(1 << 16)
        if not data:
            return n
        n += len(data)


def serve(port, handler):
    async def main():
        server = await asyncio.start_server(handler, host=None, port=port,
                                            backlog=BACKLOG, reuse_address=True)
        async with server:
            await server.serve_forever()
    asyncio.run(main())


def srv_serve_peer(port, ident="server"):
    async def h(reader, writer):
        peer = writer.get_extra_info("peername")
        writer.write(f"{ident} {unmap(peer[0])}\n".encode())
        await writer.drain()
        writer.close()
    serve(port, h)


def srv_echo(port, out=None):
    async def h(reader, writer):
        if out:  # one line per accepted connection
            with open(out, "a") as f:
                f.write(f"{unmap(writer.get_extra_info('peername')[0])}\n")
        try:
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        writer.close()
    serve(port, h)


def srv_halfclose(port, m):
    async def h(reader, writer):
        n = await read_all(reader)
        writer.write(f"got {n}\n".encode() + pattern(m))
        await writer.drain()
        writer.close()
    serve(port, h)


def srv_mirror(port, m, out):
    async def h(reader, writer):
        peer = unmap(writer.get_extra_info("peername")[0])
        writer.write(pattern(m))
        await writer.drain()
        writer.write_eof()
        n = await read_all(reader)
        with open(out, "a") as f:
            f.write(f"received {n} from {peer}\n")
        writer.close()
    serve(port, h)


def pattern_blocks(n, seed):
    """The bytes of pattern(N, SEED) in blocks, without building them all."""
    block = bytes((i * 7 + seed) & 0xFF for i in range(4096)) * 64
    while n > 0:
        yield block[:n]
        n -= len(block)


def srv_source(port):
    async def h(reader, writer):
        try:
            size, seed = (int(x) for x in (await reader.readline()).split())
            for b in pattern_blocks(size, seed):
                writer.write(b)
                await writer.drain()
        except (ConnectionError, ValueError):
            pass
        writer.close()
    serve(port, h)


async def wait_file(path, seconds=120):
    import os
    deadline = time.monotonic() + seconds
    while not os.path.exists(path) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def srv_halfclose_wait(port, m, gofile):
    async def h(reader, writer):
        n = await read_all(reader)
        await wait_file(gofile)
        writer.write(f"got {n}\n".encode() + pattern(m))
        await writer.drain()
        writer.close()
    serve(port, h)


def srv_rst(port):
    ls = socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True,
                              backlog=BACKLOG)
    while True:
        c, _ = ls.accept()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()


def srv_watch_rst(port, out):
    async def h(reader, writer):
        n, how = 0, "eof"
        try:
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    break
                n += len(data)
                if n >= 1:
                    writer.write(b"k")  # the client waits for this before its RST
        except ConnectionResetError:
            how = "reset"
        with open(out, "a") as f:
            f.write(f"{how} {n}\n")
        writer.close()
    serve(port, h)


# ---- clients -----------------------------------------------------------------

def connect(host, port, timeout=10):
    s = socket.create_connection((host, port), timeout=timeout)
    return s


def recv_all(s):
    chunks = []
    while True:
        d = s.recv(1 << 16)
        if not d:
            return b"".join(chunks)
        chunks.append(d)


def cli_get(host, port, timeout=10):
    s = connect(host, port, timeout=timeout)
    sys.stdout.write(recv_all(s).decode(errors="replace"))
    s.close()


def cli_halfclose(host, port, n, m):
    s = connect(host, port, timeout=30)
    s.sendall(pattern(n))
    s.shutdown(socket.SHUT_WR)
    data = recv_all(s)
    s.close()
    head, _, body = data.partition(b"\n")
    if head != f"got {n}".encode():
        fail(f"server said {head[:40]!r}, expected 'got {n}'")
    if len(body) != m or body != pattern(m):
        fail(f"got {len(body)} reply bytes after half-close, expected {m}")
    print(f"ok: sent {n}, half-closed, received {m}")


def cli_mirror(host, port, n, m, gofile=None):
    s = connect(host, port, timeout=120 if gofile else 30)
    data = recv_all(s)
    if len(data) != m or data != pattern(m):
        fail(f"got {len(data)} bytes before the server's EOF, expected {m}")
    if gofile:
        print("eof", flush=True)
        asyncio.run(wait_file(gofile))
    s.sendall(pattern(n))
    s.shutdown(socket.SHUT_WR)
    rest = recv_all(s)
    s.close()
    if rest:
        fail(f"{len(rest)} unexpected bytes after EOF")
    print(f"ok: received {m} and EOF, then sent {n}")


def cli_many(host, port, count, size, timeout=60):
    async def one(i, state, go):
        try:
            reader, writer = await asyncio.open_connection(host, port)
        finally:
            state["settled"] += 1  # opened or failed: the barrier must not hang
            if state["settled"] == count:
                go.set()
        await go.wait()  # every connection is open before any data moves
        payload = hashlib.sha256(str(i).encode()).digest() * (size // 32 + 1)
        payload = payload[:size]
        writer.write(payload)
        await writer.drain()
        writer.write_eof()
        got = await reader.read(-1)
        writer.close()
        return got == payload

    async def main():
        state, go = {"settled": 0}, asyncio.Event()
        tasks = [one(i, state, go) for i in range(count)]
        return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout)

    results = asyncio.run(main())
    good = sum(1 for r in results if r is True)
    errors = [r for r in results if isinstance(r, BaseException)]
    print(f"{good}/{count} connections verified" +
          (f"; {len(errors)} errors, first: {errors[0]!r}" if errors else ""))
    if good != count:
        sys.exit(1)


def cli_samesrc(src, lport, port, hosts):
    socks = []
    for h in hosts:
        s = socket.socket(socket.AF_INET6 if ":" in h else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(10)
        s.bind((src, lport))
        s.connect((h, port))
        socks.append(s)
    for s in socks:  # all connected before any reply is read
        sys.stdout.write(recv_all(s).decode(errors="replace"))
        s.close()


def cli_send_rst(host, port, n):
    s = connect(host, port)
    s.sendall(pattern(n))
    if not s.recv(1):
        fail("the server closed before reading")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def cli_hold(host, port, count, gofile):
    import os
    socks = [connect(host, port) for _ in range(count)]

    def roundtrip(what):
        for i, s in enumerate(socks):
            msg = f"{what} {i}\n".encode()
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                d = s.recv(len(msg) - len(got))
                if not d:
                    fail(f"connection {i} closed during {what}")
                got += d
            if got != msg:
                fail(f"connection {i} echoed {got!r}")
    roundtrip("before")
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(gofile):
        if time.monotonic() > deadline:
            fail("nobody created " + gofile)
        time.sleep(0.02)
    roundtrip("after")
    print(f"ok: {count} connections held and working", flush=True)


def cli_connect(host, port, seconds, tos=None):
    import errno
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if tos is not None:
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, tos)
        else:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
    s.settimeout(seconds)
    t0 = time.monotonic()
    try:
        s.connect((host, port))
        what = "connected"
    except socket.timeout:
        what = "timeout"
    except ConnectionRefusedError:
        what = "ConnectionRefusedError"
    except OSError as e:
        what = errno.errorcode.get(e.errno, str(e.errno))
    ms = (time.monotonic() - t0) * 1000
    if what == "connected":
        s.settimeout(10)
        data = pattern(1000)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            got = recv_all(s)
        except OSError as e:
            got, what = b"", f"connected-then-{type(e).__name__}"
        if what == "connected" and got != data:
            what = f"connected-but-echoed-{len(got)}-of-1000"
    print(f"{what} {ms:.1f}")


def cli_first(port, hosts):
    for h in hosts:
        try:
            s = connect(h, port, timeout=5)
        except OSError as e:
            print(f"{h}: {type(e).__name__}")
            continue
        print(f"{h}: connected: {recv_all(s).decode(errors='replace').strip()}")
        return
    fail("no address accepted")
def cli_fetch(host, port, size, seed):
    s = connect(host, port, timeout=120)
    s.sendall(f"{size} {seed}\n".encode())
    got, want, n = hashlib.sha256(), hashlib.sha256(), 0
    for b in pattern_blocks(size, seed):
        want.update(b)
    while True:
        d = s.recv(1 << 18)
        if not d:
            break
        got.update(d)
        n += len(d)
    s.close()
    if n != size or got.digest() != want.digest():
        fail(f"{n} bytes of {size}, sha256 {got.hexdigest()[:16]} "
             f"(expected {want.hexdigest()[:16]})")
    print(f"ok: {n} bytes, sha256 {got.hexdigest()} exact")


def cli_stream(host, port, count, stopfile, interval_ms):
    import os

    async def one(i, res):
        reader, writer = await asyncio.open_connection(host, port)
        end, seq, last, gap = time.monotonic() + 300, 0, None, 0.0
        tail = pattern(44, i)
        while time.monotonic() < end and not os.path.exists(stopfile):
            msg = f"{i:06d} {seq:09d} ".encode() + tail
            writer.write(msg)
            await writer.drain()
            got = await asyncio.wait_for(reader.readexactly(len(msg)), 30)
            if got != msg:
                raise ValueError(f"connection {i} message {seq} came back as {got[:20]!r}")
            now = time.monotonic()
            if last is not None:
                gap = max(gap, now - last)
            last, seq = now, seq + 1
            await asyncio.sleep(max(0.0, interval_ms / 1000 - (time.monotonic() - now)))
        writer.write_eof()
        if await reader.read() != b"":
            raise ValueError(f"connection {i}: bytes after the last echo")
        writer.close()
        res.append((seq, gap))

    async def main():
        res = []
        out = await asyncio.gather(*(one(i, res) for i in range(count)),
                                   return_exceptions=True)
        return res, [e for e in out if isinstance(e, BaseException)]

    res, errors = asyncio.run(main())
    resets = sum(1 for e in errors if isinstance(e, ConnectionResetError))
    msgs = sum(r[0] for r in res)
    gap = max((r[1] for r in res), default=0.0)
    print(f"{len(res)}/{count} connections verified, {msgs} messages, longest gap "
          f"{gap * 1000:.1f} ms, {resets} resets" +
          (f"; {len(errors)} errors, first: {errors[0]!r}" if errors else ""))
    if len(res) != count:
        sys.exit(1)


def cli_connect_loop(host, port, stopfile):
    import os
    n, bad = 0, []
    while not os.path.exists(stopfile):
        try:
            s = connect(host, port, timeout=10)
            s.sendall(b"ping %d\n" % n)
            if s.recv(64) != b"ping %d\n" % n:
                raise ValueError("bad echo")
            s.close()
        except (OSError, ValueError) as e:
            bad.append(repr(e))
        n += 1
    print(f"{n - len(bad)}/{n} connections served" +
          (f"; first failure: {bad[0]}" if bad else ""))
    if bad or not n:
        sys.exit(1)


def cli_expect_reset(host, port, seconds):
    t0 = time.monotonic()
    try:
        s = connect(host, port, timeout=seconds + 5)
        s.settimeout(seconds + 5)
        d = s.recv(1)
        dt = time.monotonic() - t0
        fail(f"got {'EOF' if not d else 'data'} after {dt:.3f} s, not a reset")
    except (ConnectionResetError, ConnectionRefusedError) as e:
        dt = time.monotonic() - t0
        print(f"{type(e).__name__} after {dt:.3f} s")
        if dt > seconds:
            fail(f"the reset took {dt:.3f} s, more than {seconds} s")
    except socket.timeout:
        fail(f"no reset within {time.monotonic() - t0:.3f} s")


def http_response(s, buf):
    """Read one HTTP/1.1 response with a Content-Length; return (status
    line, body, what is left in BUF after it)."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(1 << 16)
        if not d:
            fail("EOF before a response's headers")
        buf += d
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = None
    for h in lines[1:]:
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    if length is None:
        fail(f"no Content-Length in {lines[0]!r}")
    while len(buf) < length:
        d = s.recv(1 << 16)
        if not d:
            fail("EOF inside a response's body")
        buf += d
    return lines[0], buf[:length], buf[length:]


def cli_http_keepalive(host, port, path, count, gap_ms=0.0):
    s = connect(host, port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as curl does
    first = f"GET {path} HTTP/1.1\r\n".encode()
    name = f"[{host}]" if ":" in host else host
    rest = f"Host: {name}\r\nUser-Agent: tcptool\r\n\r\n".encode()
    lat, buf = [], b""
    for _ in range(count):
        t0 = time.perf_counter()
        s.sendall(first)
        if gap_ms > 0:
            time.sleep(gap_ms / 1000)
        s.sendall(rest)
        status, _, buf = http_response(s, buf)
        lat.append((time.perf_counter() - t0) * 1000)
        if b" 200 " not in status:
            fail(f"response {status!r}")
    s.close()
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print(f"p50 {pick(0.5):.3f} p99 {pick(0.99):.3f} max {lat[-1]:.3f}")


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, a = argv[1], argv[2:]
    if cmd == "serve-peer":
        srv_serve_peer(int(a[0]), a[1] if len(a) > 1 else "server")
    elif cmd == "echo":
        srv_echo(int(a[0]))
    elif cmd == "halfclose" and len(a) == 2:
        srv_halfclose(int(a[0]), int(a[1]))
    elif cmd == "mirror" and len(a) == 3:
        srv_mirror(int(a[0]), int(a[1]), a[2])
    elif cmd == "source":
        srv_source(int(a[0]))
    elif cmd == "halfclose-wait":
        srv_halfclose_wait(int(a[0]), int(a[1]), a[2])
    elif cmd == "fetch":
        cli_fetch(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif cmd == "stream":
        cli_stream(a[0], int(a[1]), int(a[2]), a[3], float(a[4]))
    elif cmd == "mirror-wait":
        cli_mirror(a[0], int(a[1]), int(a[2]), int(a[3]), a[4])
    elif cmd == "connect-loop":
        cli_connect_loop(a[0], int(a[1]), a[2])
    elif cmd == "rst":
        srv_rst(int(a[0]))
    elif cmd == "watch-rst":
        srv_watch_rst(int(a[0]), a[1])
    elif cmd == "send-rst":
        cli_send_rst(a[0], int(a[1]), int(a[2]))
    elif cmd == "get":
        cli_get(a[0], int(a[1]), float(a[2]) if len(a) > 2 else 10)
    elif cmd == "halfclose":
        cli_halfclose(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif cmd == "mirror":
        cli_mirror(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif cmd == "many":
        cli_many(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif cmd == "samesrc":
        cli_samesrc(a[0], int(a[1]), int(a[2]), a[3:])
    elif cmd == "hold":
        cli_hold(a[0], int(a[1]), int(a[2]), a[3])
    elif cmd == "count-echo":
        srv_echo(int(a[0]), a[1])
    elif cmd == "connect":
        cli_connect(a[0], int(a[1]), float(a[2]), int(a[3], 0) if len(a) > 3 else None)
    elif cmd == "first":
        cli_first(int(a[0]), a[1:])
    elif cmd == "expect-reset":
        cli_expect_reset(a[0], int(a[1]), float(a[2]))
    elif cmd == "http-keepalive":
        cli_http_keepalive(a[0], int(a[1]), a[2], int(a[3]),
                           float(a[4]) if len(a) > 4 else 0.0)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
