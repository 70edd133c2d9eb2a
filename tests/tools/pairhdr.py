#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Pair headers made by hand, for tests/ns/proxy-pair.sh (proxy/pair_hdr.h
has the layout).

  pairhdr.py KEYFILE GW GWPORT CLIENT CPORT DST DPORT MODE [SAVE|REPLAY]
MODE: valid, wrongkey, truncated (50 bytes, then close), stale (an hour old),
replay (send the bytes saved in REPLAY). valid and wrongkey save the header
in SAVE when given. After the header, "hello" is sent; prints "echo" if it
comes back, else "reset" or "eof" (what the gateway did)."""
import errno
import hashlib
import hmac
import ipaddress
import os
import socket
import struct
import sys
import time


def header(key, client, cport, dst, dport, t):
    c, d = ipaddress.ip_address(client), ipaddress.ip_address(dst)
    fam = 4 if c.version == 4 else 6
    pad = lambda a: a.packed + bytes(16 - len(a.packed))
    body = (b"PEP\x01" + bytes([fam, 0xFF, 0, 0]) + pad(c) + struct.pack(">H", cport) +
            pad(d) + struct.pack(">H", dport) + os.urandom(16) + struct.pack(">Q", t))
    return body + hmac.new(key, body, hashlib.sha256).digest()


def main(a):
    keyfile, gw, gwport, client, cport, dst, dport, mode = a[:8]
    extra = a[8] if len(a) > 8 else None
    key = open(keyfile, "rb").read().rstrip(b"\n")
    now = int(time.time())
    if mode == "replay":
        hdr = open(extra, "rb").read()
    else:
        if mode == "wrongkey":
            key = b"not the key, not the key"
        hdr = header(key, client, int(cport), dst, int(dport), now - 3600 if mode == "stale" else now)
        if extra:
            open(extra, "wb").write(hdr)
    try:
        s = socket.create_connection((gw, int(gwport)), timeout=10)
        if mode == "truncated":
            s.sendall(hdr[:50])
            s.shutdown(socket.SHUT_WR)
        else:
            s.sendall(hdr + b"hello")
            s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            d = s.recv(100)
            if not d:
                break
            got += d
        print("echo" if got == b"hello" else f"eof {got!r}")
    except (ConnectionResetError, BrokenPipeError):
        print("reset")
    except OSError as e:  # the reset came before our shutdown
        print("reset" if e.errno == errno.ENOTCONN else f"error {e!r}")
    except socket.timeout:
        print("timeout")


main(sys.argv[1:])
