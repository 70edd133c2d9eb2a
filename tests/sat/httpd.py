#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Test HTTP server of the satellite demo and benchmark.

GET /<bytes> answers with that many bytes. Headers and body leave in one
write (one sendall of one buffer), so no extra round trip hides in small
transfers (a separate header write can wait for an ACK behind Nagle).
PUT or POST with a Content-Length (curl -T) reads the body, answering
"100 Continue" first when asked (curl asks for large uploads), and answers
"received N" once all N bytes arrived.
Usage: httpd.py [--bind ADDR] [--port N] [--max BYTES]
"""
import argparse
import socket
import socketserver
import sys

BODY = b""


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        req = b""
        while b"\r\n\r\n" not in req:
            chunk = sock.recv(4096)
            if not chunk:
                return
            req += chunk
            if len(req) > 65536:
                return
        if req.startswith((b"PUT ", b"POST ")):
            self.upload(sock, req)
            return
        try:
            path = req.split(b" ", 2)[1].decode()
            size = int(path.strip("/"))
        except (IndexError, ValueError):
            sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
            return
        if size < 0 or size > len(BODY):
            sock.sendall(b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
            return
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                f"Content-Length: {size}\r\nConnection: close\r\n\r\n").encode()
        sock.sendall(head + BODY[:size])
        sock.shutdown(socket.SHUT_WR)
        # wait for the client's close so the kernel never resets unread data
        while sock.recv(65536):
            pass


    def upload(self, sock, req):
        head, _, body = req.partition(b"\r\n\r\n")
        fields = {}
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            fields[k.strip().lower()] = v.strip().lower()
        try:
            want = int(fields.get(b"content-length", b""))
        except ValueError:
            sock.sendall(b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
            return
        if fields.get(b"expect") == b"100-continue" and not body:
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        got = len(body)
        while got < want:
            chunk = sock.recv(1 << 16)
            if not chunk:
                return
            got += len(chunk)
        msg = f"received {got}\n".encode()
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" +
                     f"Content-Length: {len(msg)}\r\nConnection: close\r\n\r\n".encode() + msg)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    global BODY
    ap = argparse.ArgumentParser(description="test HTTP server: GET /<bytes>")
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--max", type=int, default=64 << 20, help="largest body (bytes)")
    a = ap.parse_args()
    if a.port <= 0 or a.port > 65535 or a.max <= 0:
        print("httpd.py: bad --port or --max", file=sys.stderr)
        sys.exit(2)
    BODY = bytes(range(256)) * (a.max // 256 + 1)
    with Server((a.bind, a.port), Handler) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    main()
