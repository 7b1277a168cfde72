"""Where a request's CPU goes in `shardrun serve`: CPU per request of the router and of each shard.

    .venv/bin/python -m bench.serve_profile [--scenario hello] [--seconds 8] [--shards 2] [--py-spy]

Serves bench/peers/workers/<scenario>.js (the peers' worker), loads it with
`wrk -t2 -c64 -dS` over HTTP, and reads each process's CPU time (user + system) before and
after: CPU µs per request by role. With --py-spy, the router and every shard are sampled
during the load (`py-spy record --format raw`, 200 Hz) and the functions with the most own
samples are printed; the raw files go to bench/out/.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.peers_bench import DOMAIN, ROOT, parse_wrk, server

OUT = ROOT / "bench" / "out"


def roles(root_pid: int) -> dict[str, psutil.Process]:
    """The serve's processes by role (supervisor, router, shard N), from their titles."""
    out = {"supervisor": psutil.Process(root_pid)}
    for p in out["supervisor"].children(recursive=True):
        title = " ".join(p.cmdline())
        if title.startswith("shardrun: router"):
            out["router"] = p
        elif title.startswith("shardrun: shard"):
            out[title.split()[1] + " " + title.split()[2].rstrip(",")] = p
    return out


def cpu(p: psutil.Process) -> float:
    t = p.cpu_times()
    return t.user + t.system


def thread_cpu(p: psutil.Process) -> dict[str, float]:
    """CPU seconds of each thread of a process, by role: the main (Python) thread, ZeroMQ's
    I/O threads, the others (heartbeat, watchdog, exporters)."""
    out = {"main": 0.0, "zmq": 0.0, "other": 0.0, "sys": 0.0}
    for t in p.threads():
        try:
            with open(f"/proc/{p.pid}/task/{t.id}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        role = "main" if t.id == p.pid else "zmq" if comm.startswith("ZMQbg") else "other"
        out[role] += t.user_time + t.system_time
        out["sys"] += t.system_time
    return out


def top_functions(raw: Path, n: int = 15) -> list[tuple[str, float]]:
    """The functions with the most own (leaf) samples in a py-spy raw file, as a share of all."""
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        c = int(count)
        total += c
        own[stack.split(";")[-1]] += c
    return [(f, c / total) for f, c in own.most_common(n)] if total else []


def perf_report(data: Path, n: int = 12) -> list[str]:
    """The shares of a perf recording by library (DSO), then the top symbols."""
    lines = []
    for key in ("dso", "dso,sym"):
        cmd = ["perf", "report", "-q", "--stdio", "--sort", key, "-i", str(data)]
        text = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120).stdout
        rows = [row.strip() for row in text.splitlines() if row.strip() and not row.lstrip().startswith("#")]
        lines += [*rows[:n], ""]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="hello", choices=("hello", "cpu", "timer"))
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--py-spy", action="store_true", help="also sample the router and the shards")
    ap.add_argument(
        "--perf", action="store_true", help="also sample the router and the shards with perf (CPU by library)"
    )
    a = ap.parse_args()
    if not 0 < a.seconds <= 120:
        raise SystemExit("--seconds must be in (0, 120]")
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="shardrun-profile-") as d,
        server("shardrun", a.scenario, Path(d)) as (
            port,
            pids,
        ),
    ):
        procs = roles(pids[0])
        url = f"http://127.0.0.1:{port}/{a.scenario}/path"
        host = f"Host: {a.scenario}.{DOMAIN}"
        subprocess.run(["wrk", "-t2", "-c64", "-d1s", "-H", host, url], capture_output=True, timeout=30, check=True)
        time.sleep(1.0)
        spies = []
        if a.py_spy:
            for role in procs:
                if role != "supervisor":
                    out = OUT / f"profile-{a.scenario}-{role.replace(' ', '')}.txt"
                    cmd = [
                        str(Path(sys.executable).with_name("py-spy")),
                        "record",
                        "--format",
                        "raw",
                        "--rate",
                        "200",
                        "--nonblocking",
                    ]
                    cmd += ["--duration", str(int(a.seconds)), "--pid", str(procs[role].pid), "--output", str(out)]
                    spies.append((role, out, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
        perfs = []
        if a.perf:
            for role in procs:
                if role != "supervisor":
                    out = OUT / f"perf-{a.scenario}-{role.replace(' ', '')}.data"
                    cmd = ["perf", "record", "-q", "-F", "499", "-p", str(procs[role].pid), "-o", str(out)]
                    cmd += ["--", "sleep", str(a.seconds)]
                    perfs.append((role, out, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
        before = {r: cpu(p) for r, p in procs.items()}
        threads_before = {r: thread_cpu(p) for r, p in procs.items()}
        wrk = ["wrk", "-t2", "-c64", f"-d{a.seconds:g}s", "--latency", "-H", host, url]
        text = subprocess.run(wrk, capture_output=True, text=True, timeout=a.seconds + 30, check=True).stdout
        after = {r: cpu(p) for r, p in procs.items()}
        threads_after = {r: thread_cpu(p) for r, p in procs.items()}
        for _, _, sp in spies + perfs:
            sp.wait(a.seconds + 30)
    r = parse_wrk(text)
    n = max(1, int(r["requests"]))
    print(f"{a.scenario}: {r['rps']:,.0f} req/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, {n} requests")
    print(
        "| process | CPU s | CPU µs per request | of which main thread / ZeroMQ I/O / other threads | of which in the kernel |"
    )
    print("|---|---:|---:|---|---:|")
    for role in procs:
        used = after[role] - before[role]
        split = " / ".join(
            f"{(threads_after[role][k] - threads_before[role][k]) / n * 1e6:.1f}" for k in ("main", "zmq", "other")
        )
        kernel = (threads_after[role]["sys"] - threads_before[role]["sys"]) / n * 1e6
        print(f"| {role} | {used:.2f} | {used / n * 1e6:.1f} | {split} | {kernel:.1f} |")
    busiest = max(after[r] - before[r] for r in procs)
    for role, out, _ in perfs:
        if out.exists() and after[role] - before[role] >= busiest / 10:  # the idle ones say nothing
            print(f"\n{role}: CPU by library and top functions (perf, {out.relative_to(ROOT)})")
            for line in perf_report(out):
                print("  " + line)
    for role, out, _ in spies:
        if out.exists():
            print(f"\n{role}: own samples (py-spy, {out.relative_to(ROOT)})")
            for fn, share in top_functions(out):
                print(f"  {share * 100:5.1f}%  {fn}")
        else:
            print(f"\n{role}: py-spy wrote nothing", file=sys.stderr)


if __name__ == "__main__":
    main()
