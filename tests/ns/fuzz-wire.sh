#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What pepsal and its queuer read from the network or another process,
# under libFuzzer with AddressSanitizer and UBSan, FUZZ_SECONDS each
# (default 10 here): the pair header a gateway reads from any host
# (pair_hdr_decode), the upgrade's messages with their descriptors
# (handover_recv, handover_recv_conns) and the queuer's netlink buffers with
# the verdict batches built from them (nfq.c). No crash, no sanitizer
# report, no descriptor leaked. Skipped without clang.
. "$(dirname "$0")/../lib.sh"
need_cmd clang python3
secs=${FUZZ_SECONDS:-10}

# seeds: a valid header, framed hand-over messages, a packet and an ACK
python3 - "$TMP" <<'EOF'
import hashlib, hmac, os, struct, sys, time
d = sys.argv[1]
for n in ("pair-hdr", "handover", "nfq"):
    os.makedirs(f"{d}/seeds-{n}", exist_ok=True)
def put(n, name, b):
    open(f"{d}/seeds-{n}/{name}", "wb").write(b)
# the pair header (proxy/pair_hdr.h), the harness's key, after 8 bytes of clock
now = int(time.time())
body = (b"PEP\x01" + bytes([4, 0xff, 0, 0]) + bytes([198, 18, 1, 2]) + bytes(12) +
        struct.pack(">H", 40001) + bytes([198, 18, 2, 2]) + bytes(12) + struct.pack(">H", 80) +
        os.urandom(16) + struct.pack(">Q", now))
hdr = body + hmac.new(b"a key of the pair, 32 bytes long", body, hashlib.sha256).digest()
put("pair-hdr", "valid", struct.pack(">Q", now) + hdr)
# hand-over: framed HELLO; CONNS of one connection (client fd only) with one fd
put("handover", "hello", bytes([0x80, 1, 1]) + struct.pack("<I32s", 42, b"0.1.0"))
ep = lambda a, p: struct.pack("<BBH16s", 2, 0, p, bytes(a))
wire = (struct.pack("<IIQQQ", 7, 1, 100, 200, 5) + ep([198, 18, 1, 2], 40001) +
        ep([198, 18, 2, 2], 80) + struct.pack("<II", 0, 0) + bytes([0, 0, 0, 0, 0, 0, 0, 0]))
put("handover", "conns", bytes([0x81, 4 | (0 << 4), 4]) + wire)
# netlink: a queued SYN (NFQNL_MSG_PACKET) and an ACK for sequence 7
def attr(t, b):
    a = struct.pack("<HH", 4 + len(b), t) + b
    return a + bytes(-len(a) % 4)
syn = bytes.fromhex("450000280001000040060000c6120102c6120202") + \
      bytes.fromhex("9c41005000000001000000005002721000000000")
body = struct.pack("<BBH", 0, 0, 0) + attr(1, struct.pack(">IHB", 5, 0x0800, 1)) + \
       attr(3, struct.pack(">I", 2)) + attr(10, syn)
pkt = struct.pack("<IHHII", 16 + len(body), 3 << 8, 0, 0, 0) + body
ack = struct.pack("<IHHII", 36, 2, 0, 7, 0) + struct.pack("<i", 0) + struct.pack("<IHHII", 16, 0, 0, 7, 0)
put("nfq", "packet", struct.pack("<I", 0) + pkt + pkt)
put("nfq", "ack", struct.pack("<I", 7) + pkt + ack)
EOF

fuzz_run "$secs" pair-hdr handover nfq
finish
