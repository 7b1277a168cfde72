"""Overload: a burst of 10x capacity against a real server, measured against its targets.

    .venv/bin/python -m bench.overload_bench [--bursts 5] [--json FILE]

Capacity = shards x max_inflight_per_shard + max_queued (2 x 16 + 20 = 52); the worker awaits a
20 ms timer. First the unloaded p99 (capacity / 2 requests in flight, closed loop, 3 s), then
`--bursts` bursts of 10 x capacity requests sent at once from one client. Targets:
- the excess is refused (E_OVERLOADED 503 / E_TENANT_LIMIT 429) within 50 ms of being sent;
- the accepted requests of a burst keep p99 under 3x the unloaded p99;
- the router's RSS grows by less than 50 MB over all bursts;
- every request sent gets exactly one reply, and the router's counts add up
  (accepted = answered + failed + pending).
Loopback/ipc only; every wait bounded.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import orjson
import psutil

from shardrun.benchmarks.served import Server
from shardrun.client import Client

SLOW = "export default { async task(p) { await new Promise((r) => setTimeout(r, 20)); return p.n; } }"
SHARDS, INFLIGHT, QUEUED = 2, 16, 20
CAPACITY = SHARDS * INFLIGHT + QUEUED


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000 if xs else float("nan")


def unloaded(c: Client, seconds: float = 3.0) -> list[float]:
    lat: list[float] = []
    sent: dict[int, float] = {}
    end = time.monotonic() + seconds
    for i in range(CAPACITY // 2):
        sent[c.send(f"w{i % 50}", "task", {"n": i})] = time.perf_counter()
    while sent:
        r = c.recv(timeout=10)
        lat.append(time.perf_counter() - sent.pop(r.id))
        if time.monotonic() < end:
            sent[c.send(f"w{r.id % 50}", "task", {"n": r.id})] = time.perf_counter()
    return lat


def burst(c: Client) -> dict[str, Any]:
    n = 10 * CAPACITY
    sent: dict[int, float] = {}
    for i in range(n):
        sent[c.send(f"w{i % 50}", "task", {"n": i})] = time.perf_counter()
    ok, refused, other = [], [], []
    for _ in range(n):
        r = c.recv(timeout=30)
        dt = time.perf_counter() - sent.pop(r.id)
        code = r.error.code if r.error else "ok"
        (ok if code == "ok" else refused if code in ("E_OVERLOADED", "E_TENANT_LIMIT") else other).append(dt)
    return {
        "sent": n,
        "ok": len(ok),
        "refused": len(refused),
        "other": len(other),
        "lost": len(sent),
        "ok_p99_ms": pct(ok, 0.99),
        "refused_max_ms": max(refused) * 1000 if refused else 0.0,
        "refused_p99_ms": pct(refused, 0.99),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bursts", type=int, default=5)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    workers = {f"w{i}": SLOW for i in range(50)}
    server = Server("pinned", SHARDS, workers, http_enabled=False, max_queued=QUEUED, max_inflight_per_shard=INFLIGHT)
    try:
        with Client(server.endpoint, timeout=30) as c:
            router = psutil.Process(c.status()["router_pid"])
            base = unloaded(c)
            base_p99 = pct(base, 0.99)
            rss0 = router.memory_info().rss
            bursts = [burst(c) for _ in range(a.bursts)]
            rss1 = router.memory_info().rss
            st = c.status()
    finally:
        server.close()
    counts = st["counts"]
    accounted = counts.get("accepted", 0) == counts.get("answered", 0) + counts.get("failed", 0) + st["pending"]
    growth = (rss1 - rss0) / 2**20
    print(f"capacity {CAPACITY}; unloaded p99 {base_p99:.1f} ms ({len(base)} requests)")
    print(
        f"{'burst':>5} {'sent':>6} {'ok':>5} {'refused':>8} {'other':>6} {'lost':>5} {'ok p99 ms':>10} "
        f"{'refused p99 ms':>15} {'refused max ms':>15}"
    )
    for i, b in enumerate(bursts, 1):
        print(
            f"{i:5d} {b['sent']:6d} {b['ok']:5d} {b['refused']:8d} {b['other']:6d} {b['lost']:5d} {b['ok_p99_ms']:10.1f} "
            f"{b['refused_p99_ms']:15.1f} {b['refused_max_ms']:15.1f}"
        )
    worst_ok = max(b["ok_p99_ms"] for b in bursts)
    worst_refused = max(b["refused_max_ms"] for b in bursts)
    checks = {
        "excess refused within 50 ms (max)": worst_refused <= 50,
        f"accepted p99 < 3x unloaded ({worst_ok:.1f} vs {3 * base_p99:.1f} ms)": worst_ok < 3 * base_p99,
        f"router RSS grew < 50 MB ({growth:.1f} MB)": growth < 50,
        "every request answered once, counts add up": accounted
        and all(b["lost"] == 0 and b["other"] == 0 for b in bursts),
    }
    for k, v in checks.items():
        print(f"{'met   ' if v else 'MISSED'} {k}")
    if a.json:
        with open(a.json, "wb") as f:
            f.write(
                orjson.dumps(
                    {
                        "capacity": CAPACITY,
                        "unloaded_p99_ms": base_p99,
                        "bursts": bursts,
                        "router_rss_growth_mb": growth,
                        "counts": counts,
                        "checks": checks,
                    },
                    option=orjson.OPT_INDENT_2,
                )
            )


if __name__ == "__main__":
    main()
