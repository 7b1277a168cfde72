"""fetch() from workers against a local origin: throughput and the latency it adds.

    .venv/bin/python -m bench.fetch_bench [--seconds 5] [--concurrency 32] [--shards 2] [--json FILE]

Scenarios, one run (ratios are what to compare on a noisy 2-core machine):
- origin: the origin itself (node's http module, bench/peers/node_hello.js) loaded directly;
- hello: `serve`, a fetch handler answering without fetching (through the ZeroMQ client API);
- fetch: `serve`, a fetch handler that fetch()es the origin and returns its body (policy:
  `[fetch] allow = ["127.0.0.1:PORT"]`), so each request is one worker call + one egress request.
Closed loop, `--concurrency` requests in flight, `--seconds` each; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson

from shardrun.benchmarks.loadgen import run
from shardrun.benchmarks.served import Server, free_port

HELLO = 'export default { fetch() { return new Response("Hello World") } }'
FETCH = 'export default { async fetch() { const r = await fetch("http://127.0.0.1:{port}/"); return new Response(await r.text()) } }'
PEER = Path(__file__).parent / "peers" / "node_hello.js"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--shards", type=int, default=2)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is needed for the origin (bench/peers/node_hello.js)")
    port = free_port()
    origin = subprocess.Popen([node, str(PEER), str(port)])
    out: dict[str, Any] = {}
    try:
        time.sleep(0.5)
        out["origin (node http, direct)"] = asyncio.run(
            run(f"http://127.0.0.1:{port}", ["x"], concurrency=a.concurrency, seconds=a.seconds)
        ).summary()
        server = Server(
            "pinned",
            a.shards,
            {"hello": HELLO, "fetcher": FETCH.replace("{port}", str(port))},
            extra_toml=f'[fetch]\nallow = ["127.0.0.1:{port}"]\n',
        )
        try:
            for name, worker in (("hello worker (no fetch)", "hello"), ("worker that fetches the origin", "fetcher")):
                out[name] = asyncio.run(
                    run(server.endpoint, [worker], concurrency=a.concurrency, seconds=a.seconds)
                ).summary()
        finally:
            server.close()
    finally:
        origin.terminate()
        origin.wait()
    print(f"{'scenario':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for k, s in out.items():
        print(
            f"{k:34} {s['req_per_s']:8.0f} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f} {sum(v for k, v in s['codes'].items() if k not in ('ok', '200')):7d}"
        )
    names = list(out)
    added = out[names[2]]["p50_ms"] - out[names[1]]["p50_ms"]
    print(
        f"fetch adds {added:.2f} ms at p50 over the same worker without fetch "
        f"(the origin alone: {out[names[0]]['p50_ms']:.2f} ms at this load)"
    )
    if a.json:
        Path(a.json).write_bytes(
            orjson.dumps(
                {
                    "machine": platform.platform(),
                    "cores": os.cpu_count(),
                    "concurrency": a.concurrency,
                    "seconds": a.seconds,
                    "results": out,
                },
                option=orjson.OPT_INDENT_2,
            )
        )


if __name__ == "__main__":
    main()
