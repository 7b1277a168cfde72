"""How many tenants one `shardrun serve` holds, and what a warm hit costs when it holds many.

    .venv/bin/python -m bench.density_bench [--tenants 50000] [--shards 2] [--hits 3000] [--json FILE]

Every tenant is its own worker (`t<i>.js`, a fetch hello: the Fetch API chunk is in each
isolate, as in real Workers). Over the ZeroMQ client API, on loopback:

1. baseline: 100 tenants touched once, then `--hits` warm requests spread over them, one at a
   time (latency p50/p99);
2. fill: every other tenant touched once, 32 requests in flight: the cold-start rate
   (tenants/s) and the cold requests' latency;
3. at N tenants: `--hits` warm requests over the most recently touched tenants that the
   caches still hold (p50/p99, to compare with the baseline), then 500 requests to the
   earliest tenants (evicted long ago: back from the module bytecode cache);
4. memory: the shards' RSS and warm isolates after the fill, and RSS per warm tenant
   ((RSS after the fill - RSS with no tenant) / warm isolates).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from shardrun.benchmarks.served import Server
from shardrun.client import Client, _fetch_arg

HELLO = "export default { fetch(request) { return new Response('hello ' + request.method) } }"
WINDOW = 32


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")


def one_by_one(c: Client, names: list[str]) -> list[float]:
    """Latency (ms) of each request, sent one at a time."""
    out = []
    for name in names:
        t0 = time.perf_counter()
        r = c.fetch(name, "GET", "/")
        out.append((time.perf_counter() - t0) * 1000)
        if not r.ok:
            raise RuntimeError(f"{name}: {r.error}")
    return out


def windowed(c: Client, names: list[str], deadline: float) -> tuple[list[float], int]:
    """Send every name once with WINDOW requests in flight; (latencies ms, failures). Bounded by deadline."""
    started: dict[int, float] = {}
    lat: list[float] = []
    failed = 0
    it = iter(names)
    for name in it:
        started[c.send(name, "fetch", _fetch_arg(name, "GET", "/", None, None))] = time.perf_counter()
        if len(started) >= WINDOW:
            break
    while started and time.monotonic() < deadline:
        r = c.recv(timeout=30)
        t0 = started.pop(r.id, None)
        if t0 is not None:
            lat.append((time.perf_counter() - t0) * 1000)
        failed += not r.ok
        nxt = next(it, None)
        if nxt is not None:
            started[c.send(nxt, "fetch", _fetch_arg(nxt, "GET", "/", None, None))] = time.perf_counter()
    return lat, failed + len(started)


def shard_state(c: Client) -> tuple[int, int]:
    """(warm isolates, RSS bytes) summed over the shards, from their last heartbeat."""
    st = c.status(timeout=10)["shards"]
    return sum(int(s.get("cached", 0)) for s in st), sum(int(s.get("rss_bytes", 0)) for s in st)


def settle(c: Client) -> tuple[int, int]:
    time.sleep(1.5)  # a heartbeat or two: the shards' figures are fresh
    return shard_state(c)


def run(tenants: int, shards: int, hits: int, log: Any) -> dict[str, Any]:
    names = [f"t{i}" for i in range(tenants)]
    server = Server("pinned", shards, {n: HELLO for n in names}, heartbeat_ms=500)
    out: dict[str, Any] = {"tenants": tenants, "shards": shards}
    try:
        with Client(server.endpoint, timeout=60) as c:
            _, rss0 = settle(c)
            hot = names[:100]
            one_by_one(c, hot)
            base = one_by_one(c, [random.choice(hot) for _ in range(hits)])
            out["hit_100"] = {"p50_ms": statistics.median(base), "p99_ms": pct(base, 0.99)}
            log(f"100 tenants: warm hit p50 {out['hit_100']['p50_ms']:.3f} ms, p99 {out['hit_100']['p99_ms']:.3f} ms")
            rest = names[100:]
            t0 = time.monotonic()
            cold, failed = windowed(c, rest, t0 + 1800)
            took = time.monotonic() - t0
            out["fill"] = {
                "seconds": took,
                "cold_starts_per_s": len(cold) / took if took else 0.0,
                "p50_ms": statistics.median(cold) if cold else float("nan"),
                "p99_ms": pct(cold, 0.99),
                "failed": failed,
            }
            log(
                f"fill: {len(cold)} tenants in {took:.1f} s ({out['fill']['cold_starts_per_s']:.0f}/s), {failed} failed"
            )
            warm, rss = settle(c)
            out["memory"] = {
                "warm_isolates": warm,
                "rss_mb": rss / 2**20,
                "rss_no_tenant_mb": rss0 / 2**20,
                "rss_per_warm_tenant_kb": (rss - rss0) / max(1, warm) / 1024,
            }
            log(
                f"memory: {warm} warm isolates, RSS {rss / 2**20:.0f} MB ({out['memory']['rss_per_warm_tenant_kb']:.0f} KB each)"
            )
            # the most recently touched tenants are the ones the LRU caches still hold
            recent = names[-max(100, min(warm, tenants) // 2) :]
            sample = one_by_one(c, [random.choice(recent) for _ in range(hits)])
            out["hit_n"] = {"p50_ms": statistics.median(sample), "p99_ms": pct(sample, 0.99)}
            out["hit_n_over_100"] = out["hit_n"]["p99_ms"] / out["hit_100"]["p99_ms"]
            log(f"{tenants} tenants: warm hit p50 {out['hit_n']['p50_ms']:.3f} ms, p99 {out['hit_n']['p99_ms']:.3f} ms")
            early = names[100 : 100 + min(500, len(rest))]
            back = one_by_one(c, early)
            out["evicted_back"] = {"p50_ms": statistics.median(back), "p99_ms": pct(back, 0.99)}
            st = c.status(timeout=10)["shards"]
            out["cache"] = {k: sum(int(s.get(k, 0)) for s in st) for k in ("hits", "misses", "evictions")}
    finally:
        server.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tenants", type=int, default=50_000)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--hits", type=int, default=3000)
    ap.add_argument("--json", help="write the figures as JSON here")
    a = ap.parse_args()
    if not 200 <= a.tenants <= 200_000 or not 1 <= a.shards <= 64 or not 100 <= a.hits <= 100_000:
        raise SystemExit("--tenants in [200, 200000], --shards in [1, 64], --hits in [100, 100000]")
    out = run(a.tenants, a.shards, a.hits, lambda s: print(s, file=sys.stderr, flush=True))
    print(json.dumps(out, indent=2))
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
