"""Static assets answered by the router against the same bytes from the worker's fetch, over HTTP.

    .venv/bin/python -m bench.assets_bench [--shards 2] [--seconds 8] [--rounds 2]

One `shardrun serve`, one worker with `[assets] directory = "public"`; wrk (-t2 -c64) loads,
in turns within one run: a 12-byte file, a 64 KiB file, a 304 (If-None-Match), and the
worker's fetch answering 12 bytes. Prints req/s and average latency per target (the best
round) and each one's ratio to the fetch.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

WORKER = "export default { fetch() { return new Response('Hello World\\n') } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wrk(url: str, seconds: int, header: str | None = None) -> tuple[float, float]:
    cmd = ["wrk", "-t2", "-c64", f"-d{seconds}s", url]
    if header:
        cmd[1:1] = ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = re.search(r"Latency\s+([\d.]+)(us|ms|s)", out)
    assert lat is not None, out
    ms = float(lat.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[lat.group(2)]
    if "Non-2xx" in out and header is None:
        raise SystemExit(f"wrk saw errors for {url}:\n{out}")
    return rps, ms


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="assets-bench-"))
    site = tmp / "workers" / "site"
    (site / "public").mkdir(parents=True)
    (site / "index.js").write_text(WORKER)
    (site / "worker.toml").write_text('[assets]\ndirectory = "public"\n')
    (site / "public" / "hello.txt").write_text("Hello World\n")
    (site / "public" / "big.bin").write_bytes(os.urandom(64 << 10))
    port = free_port()
    (tmp / "shardrun.toml").write_text(
        f'[serve]\nshards = {args.shards}\nworkers = "{tmp / "workers"}"\nhttp_port = {port}\n'
        f'client_endpoint = "ipc://{tmp}/client.ipc"\naccess_log = false\ntenant_max_concurrency = 100000\n'
        "max_queued = 100000\n[sources.cron]\nenabled = false\n"
    )
    base = f"http://127.0.0.1:{port}/w/site"
    log = open(tmp / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "shardrun", "serve", "--config", str(tmp / "shardrun.toml")], stderr=log, stdout=log
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_shardrun/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        etag = urllib.request.urlopen(base + "/hello.txt").headers["etag"]
        assert urllib.request.urlopen(base + "/api").read() == b"Hello World\n"
        targets = {
            "file, 12 B (router)": (base + "/hello.txt", None),
            "file, 64 KiB (router)": (base + "/big.bin", None),
            "304 If-None-Match (router)": (base + "/hello.txt", f"If-None-Match: {etag}"),
            "worker fetch, 12 B (shard)": (base + "/api", None),
        }
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.rounds):
            for name, (url, header) in targets.items():
                r = wrk(url, args.seconds, header)
                if name not in best or r[0] > best[name][0]:
                    best[name] = r
        ref = best["worker fetch, 12 B (shard)"][0]
        print("| target | req/s | avg latency ms | vs fetch |\n|---|---:|---:|---:|")
        for name, (rps, ms) in best.items():
            print(f"| {name} | {rps:,.0f} | {ms:.2f} | {rps / ref:.2f}x |")
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


if __name__ == "__main__":
    main()
