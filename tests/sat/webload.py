#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Load a page once in headless Chromium from a fresh profile and report what
the browser saw, as one JSON line:
  {"load_s": time from navigation start to the load event (Navigation Timing),
   "protocol": the page's nextHopProtocol ("h2", "http/1.1"),
   "objects": resources fetched, "bytes": their decoded bodies,
   "missing": manifest objects not fetched or of the wrong size,
   "images_broken": images not decoded, "scripts": scripts that ran,
   "ok": every object arrived whole, every image decoded, every script ran}
It speaks the DevTools protocol over --remote-debugging-pipe (file
descriptors 3 and 4, messages ended by a NUL byte): no port, no websocket.

Usage: webload.py --url URL --manifest FILE --spki HASH [--timeout S] [--chromium PATH]
HASH: base64 SHA-256 of the server certificate's public key; Chromium trusts
that key only (--ignore-certificate-errors-spki-list), for this profile only.
Exit status 0 if ok, 1 if something is missing, 2 on a usage or browser error.
"""
import argparse
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

# the flags this machine needs (closed network: nothing in the background)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
         "--disable-dev-shm-usage", "--mute-audio", "--remote-debugging-pipe"]

# what the page itself says once loaded
REPORT_JS = """(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource').map(r => ({
      name: new URL(r.name).pathname.replace(/^\\//, ''), size: r.decodedBodySize,
      status: r.responseStatus || 0, protocol: r.nextHopProtocol,
      start: r.startTime, connect: r.connectEnd - r.connectStart,
      request: r.requestStart, response: r.responseStart, end: r.responseEnd}));
  const imgs = Array.from(document.images);
  const bgs = Array.from(document.querySelectorAll('.hero, .footer'))
      .map(e => getComputedStyle(e).backgroundImage);
  return JSON.stringify({load_ms: nav.loadEventStart, protocol: nav.nextHopProtocol,
      response_ms: nav.responseStart, resources: res,
      images_broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).length,
      images: imgs.length, backgrounds: bgs.filter(b => b.startsWith('url(')).length,
      scripts: window.__pep_scripts || 0});
})()"""


class Pipe:
    """The DevTools protocol over Chromium's pipe."""

    def __init__(self, wfd, rfd, deadline):
        self.wfd, self.rfd, self.deadline = wfd, rfd, deadline
        self.buf, self.next_id, self.events = b"", 1, []

    def send(self, method, params=None, session=None):
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.next_id += 1
        os.write(self.wfd, json.dumps(msg).encode() + b"\0")
        return msg["id"]

    def read(self):
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from the browser in time")
            r, _, _ = select.select([self.rfd], [], [], left)
            if r:
                chunk = os.read(self.rfd, 1 << 20)
                if not chunk:
                    raise EOFError("the browser closed its pipe")
                self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None):
        want = self.send(method, params, session)
        while True:
            msg = self.read()
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method, session):
        for i, msg in enumerate(self.events):
            if msg.get("method") == method and msg.get("sessionId") == session:
                del self.events[i]
                return msg
        while True:
            msg = self.read()
            if msg.get("method") == method and msg.get("sessionId") == session:
                return msg


def check(report, manifest):
    got = {}
    for r in report["resources"]:
        got.setdefault(r["name"], r)
    missing = [p for p, size in manifest["objects"].items()
               if p not in got or got[p]["size"] != size or got[p]["status"] not in (0, 200)]
    ok = (not missing and report["images_broken"] == 0 and
          report["scripts"] == manifest["scripts"] and report["backgrounds"] == 2 and
          report["load_ms"] > 0)
    return {"load_s": round(report["load_ms"] / 1000, 3), "protocol": report["protocol"],
            "response_s": round(report["response_ms"] / 1000, 3),
            "objects": len(got), "bytes": sum(r["size"] for r in got.values()),
            "missing": missing, "images_broken": report["images_broken"],
            "scripts": report["scripts"], "ok": ok}


def high_fd(fd):
    """FD moved to a number above 9 (close-on-exec: pass_fds clears it)."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


def load(args, manifest):
    profile = tempfile.mkdtemp(prefix="pepsal-chromium.")
    # fd 3: the browser reads our commands; fd 4: it writes its answers
    # the child's ends above 9, so that moving them to 3 and 4 overwrites none
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()
    to_r, from_w = high_fd(to_r), high_fd(from_w)
    # bash (dash knows no fd above 9) puts the pipe's ends on 3 and 4 (after subprocess closed the rest)
    cmd = ["bash", "-c", 'exec "$0" "$@" 3<&%d 4>&%d %d<&- %d>&-' % (to_r, from_w, to_r, from_w),
           args.chromium] + FLAGS + ["--user-data-dir=" + profile,
                                     "--ignore-certificate-errors-spki-list=" + args.spki,
                                     "about:blank"]
    log = open(os.path.join(profile, "chromium.log"), "wb")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            pass_fds=(to_r, from_w))
    os.close(to_r)
    os.close(from_w)
    pipe = Pipe(to_w, from_r, time.monotonic() + args.timeout)
    try:
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.call("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        pipe.call("Page.enable", session=session)
        pipe.call("Network.enable", session=session)
        pipe.call("Network.setCacheDisabled", {"cacheDisabled": True}, session=session)
        nav = pipe.call("Page.navigate", {"url": args.url}, session=session)
        if nav.get("errorText"):
            raise RuntimeError("navigation failed: " + nav["errorText"])
        pipe.wait_event("Page.loadEventFired", session)
        # loadEventStart is set; the report runs once the load handlers did
        res = pipe.call("Runtime.evaluate", {"expression": REPORT_JS, "returnByValue": True},
                        session=session)
        report = json.loads(res["result"]["value"])
        if args.raw:
            with open(args.raw, "w") as f:
                json.dump(report, f, indent=1)
        try:
            pipe.call("Browser.close")
        except (EOFError, TimeoutError, RuntimeError):
            pass
        return check(report, manifest)
    finally:
        os.close(to_w)
        os.close(from_r)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if proc.returncode not in (0, None, -9) and os.environ.get("WEBLOAD_KEEP"):
            print("chromium log: " + os.path.join(profile, "chromium.log"), file=sys.stderr)
        else:
            shutil.rmtree(profile, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="one page load in headless Chromium")
    ap.add_argument("--url", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--spki", required=True, help="base64 SHA-256 of the server's public key")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    ap.add_argument("--raw", help="write the page's whole report (every resource's timing) here")
    args = ap.parse_args()
    with open(args.manifest) as f:
        manifest = json.load(f)
    try:
        out = load(args, manifest)
    except (OSError, RuntimeError, TimeoutError, EOFError, KeyError, ValueError) as e:
        print(json.dumps({"ok": False, "error": str(e)}))
        sys.exit(2)
    print(json.dumps(out))
    sys.exit(0 if out["ok"] else 1)


if __name__ == "__main__":
    main()
