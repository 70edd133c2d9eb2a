#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The test page of make demo-web: an HTML page and 39 objects of realistic
sizes (style sheets, scripts, images; about 2 MB in all), written to DIR, and
DIR/manifest.json listing every object with its size.

Usage: webpage.py DIR

The page is what a browser has to work through on a typical site: two
scripts in the head that block the parser, deferred scripts, style sheets,
images in the body and two background images that only the style sheet
names (a second round of requests). Contents are random (seeded, the same
every time) so that no compression shrinks them; images are valid PNGs of
noise, scripts count themselves in window.__pep_scripts, so the browser's
own view (every image decoded, every script run) can be checked.
"""
import json
import os
import random
import struct
import sys
import zlib

# (path, bytes): sizes of a typical page's parts, about 2 MB in all
CSS = [("css/base.css", 12000), ("css/layout.css", 25000), ("css/theme.css", 40000),
       ("css/widgets.css", 60000), ("css/print.css", 8000)]
JS_SYNC = [("js/vendor.js", 120000), ("js/analytics.js", 15000)]
JS_DEFER = [("js/app.js", 150000), ("js/ui.js", 80000), ("js/forms.js", 45000),
            ("js/carousel.js", 30000), ("js/i18n.js", 60000), ("js/polyfill.js", 25000),
            ("js/consent.js", 10000), ("js/lazy.js", 5000)]
IMAGES = [4000, 6000, 8000, 10000, 12000, 15000, 18000, 22000, 25000, 30000, 35000,
          40000, 45000, 50000, 60000, 70000, 80000, 90000, 100000, 120000, 150000, 180000]
BACKGROUNDS = [("img/hero-bg.png", 60000), ("img/footer-bg.png", 40000)]
HTML_BYTES = 35000


def text(rng, n):
    """N bytes of random letters in words, for comments and paragraphs."""
    out, alphabet = [], "abcdefghijklmnopqrstuvwxyz"
    while n > 0:
        w = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9))) + " "
        out.append(w)
        n -= len(w)
    return "".join(out)[: max(0, len(''.join(out)) + n)]


def png(rng, size):
    """A valid RGB PNG of random pixels, about SIZE bytes."""
    side = max(8, int((size / 3) ** 0.5))
    rows = b"".join(b"\x00" + rng.randbytes(side * 3) for _ in range(side))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))


def padded(head, size, rng, open_c, close_c):
    """HEAD followed by a comment of random words up to SIZE bytes."""
    pad = size - len(head) - len(open_c) - len(close_c) - 1
    return (head + open_c + text(rng, max(0, pad)) + close_c + "\n").encode()


def main():
    if len(sys.argv) != 2:
        print("usage: webpage.py DIR", file=sys.stderr)
        sys.exit(2)
    top = sys.argv[1]
    rng = random.Random(2026)
    files = {}
    for i, (path, size) in enumerate(CSS):
        rules = ".c%d { color: #%06x; margin: %dpx; }\n" % (i, rng.randrange(1 << 24), i)
        if path == "css/theme.css":
            rules += "".join(".%s { background-image: url(../%s); min-height: 40px; }\n" %
                             (os.path.basename(p)[:-7], p) for p, _ in BACKGROUNDS)
        files[path] = padded(rules, size, rng, "/* ", " */")
    for path, size in JS_SYNC + JS_DEFER:
        files[path] = padded("window.__pep_scripts = (window.__pep_scripts || 0) + 1;\n",
                             size, rng, "/* ", " */")
    images = []
    for i, size in enumerate(IMAGES):
        path = "img/photo%02d.png" % i
        files[path] = png(rng, size)
        images.append(path)
    for path, size in BACKGROUNDS:
        files[path] = png(rng, size)

    head = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<title>pepsal demo-web: a typical page</title>"]
    head += ['<link rel="stylesheet" href="%s">' % p for p, _ in CSS]
    head += ['<script src="%s"></script>' % p for p, _ in JS_SYNC]
    head += ['<script defer src="%s"></script>' % p for p, _ in JS_DEFER]
    head.append("</head><body>")
    body = ['<div class="%s">banner</div>' % os.path.basename(p)[:-7] for p, _ in BACKGROUNDS]
    for i, path in enumerate(images):
        body.append('<p class="c%d"><img src="%s" alt="photo %d"></p>' % (i % len(CSS), path, i))
    tail = "</body></html>\n"
    html = "\n".join(head + body) + "\n"
    html += "<p>" + text(rng, max(0, HTML_BYTES - len(html) - len(tail) - 8)) + "</p>\n" + tail
    files["index.html"] = html.encode()

    manifest = {"page": "index.html", "scripts": len(JS_SYNC) + len(JS_DEFER),
                "images": len(images) + len(BACKGROUNDS),
                "objects": {p: len(b) for p, b in sorted(files.items()) if p != "index.html"},
                "total_bytes": sum(len(b) for b in files.values())}
    for path, data in files.items():
        os.makedirs(os.path.join(top, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(top, path), "wb") as f:
            f.write(data)
    with open(os.path.join(top, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d objects, %d bytes" % (len(files) - 1, manifest["total_bytes"]))


if __name__ == "__main__":
    main()
