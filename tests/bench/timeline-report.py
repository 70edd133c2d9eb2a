#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The set-up timeline of make bench's connection-rate tests (BENCH_TIMELINE=1).

Reads DIR/<design>.r<round>/ as tests/bench/compare.sh leaves it: the
proxy's and the queuer's stamps (timeline.proxy.PID, timeline.queuer.PID,
include/pepsal_timeline.h), and per connload run c<CONC>/ the client's
stamps, the threads' schedstat before and after, and perhaps perf sched's
run-queue delays. Each client connection (client address and port, from
its connect() to the next connect() from the same port) gets the first
stamp of every stage inside that window. Prints, per design and
concurrency, p50 and p99 of each stage's time since the previous stage of
the design's path and since the client's connect(), medians over the
rounds; then the scheduler's figures.
"""
import collections
import glob
import os
import re
import sys

PATHS = {
    "held": ["client_connect", "syn_queued", "queuer_read", "req_sent", "req_read",
             "dial_start", "dial_done", "answer_sent", "answer_read", "verdict",
             "accept", "claim", "relay_start", "client_connected", "client_first_byte"],
    "acceptfirst": ["client_connect", "syn_queued", "queuer_read", "verdict",
                    "accept", "claim", "relay_start", "client_connected", "dial_start",
                    "dial_done", "client_first_byte"],
    "tproxy": ["client_connect", "accept", "claim", "relay_start", "client_connected",
               "dial_start", "dial_done", "client_first_byte"],
}
LABELS = {
    "client_connect": "client connect()",
    "syn_queued": "SYN queued (kernel stamp)",
    "queuer_read": "read by the queuer",
    "req_sent": "dial request sent to the proxy",
    "req_read": "request read by the proxy",
    "dial_start": "upstream connect()",
    "dial_done": "server's SYN-ACK: dial connected",
    "answer_sent": "answer sent to the queuer",
    "answer_read": "answer read by the queuer",
    "verdict": "verdict",
    "client_connected": "client's handshake seen done by its event loop (the listener answered the REDIRECTed SYN)",
    "accept": "accept4() in the proxy",
    "claim": "table entry claimed",
    "relay_start": "relay thread started",
    "client_first_byte": "first byte at the client",
}


# seen by the client's event loop, which may be late: since connect() only
OFF_CHAIN = {"client_connected"}


def path_of(design):
    if "tproxy" in design:
        return "tproxy"
    if "acceptfirst" in design:
        return "acceptfirst"
    return "held"


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]


def median(v):
    v = [x for x in v if x is not None]
    return pct(v, 0.5) if v else None


def load(path):
    out = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 4:
                out.append((p[0], (p[1], p[2]), int(p[3])))
    return out


def run_stats(rundir, conc_dir, server):
    """Per-stage deltas (us) of the client connections of one connload run."""
    clients = []
    for f in glob.glob(os.path.join(conc_dir, "timeline.client.*")):
        clients += load(f)
    # a window ends at the next connect() from the port in any run
    others = []
    for f in glob.glob(os.path.join(rundir, "c*", "timeline.client.*")):
        if os.path.dirname(f) != conc_dir.rstrip("/"):
            others += [x for x in load(f) if x[0] == "client_connect"]
    ours = {(key, t) for st, key, t in clients if st == "client_connect"}
    allc = collections.defaultdict(list)
    for st, key, t in clients + others:
        if st == "client_connect":
            allc[key].append(t)
    connects = collections.defaultdict(list)
    for key, ts in allc.items():
        connects[key] = sorted(ts)
    for k in connects:
        connects[k].sort()
    stamps = collections.defaultdict(list)
    for st, key, t in clients + server:
        stamps[key].append((t, st))
    conns = []
    for key, starts in connects.items():
        lst = sorted(stamps[key])
        for i, t0 in enumerate(starts):
            if (key, t0) not in ours:
                continue
            t1 = starts[i + 1] if i + 1 < len(starts) else 1 << 62
            c = {}
            for t, st in lst:
                if t0 <= t < t1 and st == "client_first_byte":
                    c[st] = t
                    break
            if not c:
                continue
            # everything of the set-up comes before the answer's first byte
            t1 = min(t1, c["client_first_byte"] + 1000000)
            nread = 0
            for t, st in lst:
                if t0 <= t < t1:
                    if st == "queuer_read":
                        nread += 1
                    c.setdefault(st, t)
            c["_reads"] = nread
            conns.append(c)
    return conns


def sched(conc_dir):
    """comm -> (wait us per timeslice, timeslices) from schedstat, and
    comm -> [sch delay us] from perf sched."""
    res = {}
    try:
        a = {}
        for line in open(os.path.join(conc_dir, "sched0")):
            comm, tid, w, n = line.split()
            a[tid] = (int(w), int(n))
        per = collections.defaultdict(lambda: [0, 0])
        for line in open(os.path.join(conc_dir, "sched1")):
            comm, tid, w, n = line.split()
            w0, n0 = a.get(tid, (0, 0))
            name = re.sub(r"\d+$", "", comm)
            per[name][0] += int(w) - w0
            per[name][1] += int(n) - n0
        for name, (w, n) in per.items():
            if n > 0:
                res[name] = (w / n / 1000.0, n)
    except OSError:
        pass
    delays = collections.defaultdict(list)
    try:
        for line in open(os.path.join(conc_dir, "schdelay")):
            comm, d = line.split()
            delays[re.sub(r"\[.*", "", comm)].append(float(d) * 1000.0)
    except OSError:
        pass
    return res, delays


def main():
    top = sys.argv[1]
    runs = collections.defaultdict(list)  # (design, conc) -> [per-round results]
    for rundir in sorted(glob.glob(os.path.join(top, "*.r*"))):
        design = os.path.basename(rundir).rsplit(".r", 1)[0]
        server = []
        for f in glob.glob(os.path.join(rundir, "timeline.*")):
            server += load(f)
        for cdir in sorted(glob.glob(os.path.join(rundir, "c*"))):
            conc = int(os.path.basename(cdir)[1:])
            conns = run_stats(rundir, cdir, server)
            sr = None
            try:
                sr = int(open(os.path.join(cdir, "synretrans1")).read() or 0) - \
                    int(open(os.path.join(cdir, "synretrans0")).read() or 0)
            except (OSError, ValueError):
                pass
            runs[(design, conc)].append((conns, sched(cdir), sr))
    for (design, conc), rounds in sorted(runs.items()):
        path = PATHS[path_of(design)]
        print(f"#### {design}, {conc} in flight ({len(rounds)} round(s), "
              f"{sum(len(r[0]) for r in rounds)} connections)\n")
        print("| stage | since previous p50 (us) | p99 (us) | since connect() p50 (us) | p99 (us) | connections with it |")
        print("|---|---|---|---|---|---|")
        for i, st in enumerate(path):
            d_prev = collections.defaultdict(list)
            d_abs = collections.defaultdict(list)
            have = []
            for r, (conns, _, _) in enumerate(rounds):
                n = 0
                for c in conns:
                    if st not in c:
                        continue
                    n += 1
                    d_abs[r].append((c[st] - c["client_connect"]) / 1000.0)
                    prev = None if st in OFF_CHAIN else next(
                        (p for p in reversed(path[:i]) if p in c and p not in OFF_CHAIN), None)
                    if prev:
                        d_prev[r].append((c[st] - c[prev]) / 1000.0)
                have.append(n)
            if not sum(have):
                continue

            def cell(d, p):
                v = median([pct(d[r], p) for r in d])
                return "" if v is None else f"{v:.0f}" if v >= 10 else f"{v:.1f}"
            print(f"| {LABELS[st]} | {cell(d_prev, .5) if i else ''} | {cell(d_prev, .99) if i else ''} "
                  f"| {cell(d_abs, .5) if i else ''} | {cell(d_abs, .99) if i else ''} | {sum(have)} |")
        retx = [sum(1 for c in conns if c["_reads"] > 1) for conns, _, _ in rounds]
        srs = [r[2] for r in rounds if r[2] is not None]
        print(f"\nSYNs the queuer read more than once (client retransmissions): {retx}; "
              f"the client's TcpExtTCPSynRetrans per round: {srs}\n")
        names = sorted({n for _, (s, _), _ in rounds for n in s})
        if names:
            print("| thread | run-queue wait per timeslice (us, schedstat) | timeslices | perf sched delay p50 (us) | p99 (us) | max (us) |")
            print("|---|---|---|---|---|---|")
            for n in names:
                w = median([s[n][0] for _, (s, _), _ in rounds if n in s])
                k = median([s[n][1] for _, (s, _), _ in rounds if n in s])
                dl = [d[n] for _, (_, d), _ in rounds if d.get(n)]
                p50 = median([pct(x, .5) for x in dl])
                p99 = median([pct(x, .99) for x in dl])
                mx = median([max(x) for x in dl])
                f = lambda v: "" if v is None else f"{v:.0f}"
                print(f"| {n} | {w:.1f} | {k} | {f(p50)} | {f(p99)} | {f(mx)} |")
            print()


if __name__ == "__main__":
    main()
