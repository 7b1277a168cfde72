"""env bindings from a worker, in one shard's loop: KV get/put and a D1 point query per call.

    .venv/bin/python -m bench.bindings_bench [--calls 200] [--rounds 20]

Each row: one task request that makes `calls` binding calls one after another (awaited), run
`rounds` times in one warm isolate; the figure is the best round's wall time per call, i.e. what
one shard can do per second on one core. Peers in the same run: a crypto.subtle.digest (the
other synchronous host op, same mailbox path) and a bare `await` (the JS turn alone).
"""

from __future__ import annotations

import argparse
import select
import tempfile
import time
from pathlib import Path

from shardrun.bindings.config import BindingSettings
from shardrun.bindings.host import BindingHost, Caller
from shardrun.bindings.stores import Stores
from shardrun.runtime.hostops import host_ops
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.workers import Registry

TOML = """[[kv_namespaces]]
binding = "KV"
id = "bench"
[[d1_databases]]
binding = "DB"
database_name = "bench"
"""
JS = """export default { async task(p, env) {
  if (p.setup) {
    await env.DB.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT); DELETE FROM t;");
    await env.DB.batch(Array.from({length: 1000}, (_, i) => env.DB.prepare("INSERT INTO t VALUES (?, ?)").bind(i, "v" + i)));
    await env.KV.put("k", "x".repeat(100));
    return 1;
  }
  const n = p.calls, op = p.op, st = env.DB.prepare("SELECT v FROM t WHERE id = ?"), data = new Uint8Array(64);
  for (let i = 0; i < n; i++) {
    if (op === "kv_get") await env.KV.get("k");
    else if (op === "kv_put") await env.KV.put("k" + (i % 100), "x".repeat(100));
    else if (op === "d1_point") await st.bind(i % 1000).first("v");
    else if (op === "subtle_digest") await crypto.subtle.digest("SHA-256", data);
    else await null;
  }
  return n;
} }"""
OPS = ("await", "subtle_digest", "kv_get", "kv_put", "d1_point")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=20)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bindings-bench-"))
    (tmp / "w" / "b").mkdir(parents=True)
    (tmp / "w" / "b" / "index.js").write_text(JS)
    # the operator's caps, raised so one request can make every call of a round
    big = {"calls": 1_000_000, "concurrent": 10}
    settings = BindingSettings.model_validate({"data_dir": tmp / "data", "caps": {"kv": big, "d1": big}})
    (tmp / "w" / "b" / "worker.toml").write_text(TOML)
    reg = Registry(tmp / "w", bindings=settings)
    spec = reg.get("b")
    stores = Stores(settings)
    host = BindingHost(stores, lambda iso, call: Caller("bench", "b", spec.bindings, spec.limits), lambda iso: None)
    lim = spec.limits.with_(cpu_ms=60_000, wall_ms=60_000)
    iso = WorkerIsolate(spec.script, lim, {}, host_ops=host_ops(None, None, host), bindings=spec.bindings.js_spec())

    def run(payload: dict[str, object]) -> float:
        t0 = time.perf_counter()
        call = iso.submit("task", payload)
        while not call.finished:
            wake = iso.pump()
            if not call.finished and wake is not None and wake > time.monotonic():
                select.select([host.fileno()], [], [], 0.001)
                host.drain()
        assert call.result is not None and call.result.ok, call.result
        return time.perf_counter() - t0

    run({"setup": True})
    print(f"| call ({a.calls} per request, best of {a.rounds}) | µs per call | calls/s per shard |\n|---|---:|---:|")
    for op in OPS:
        best = min(run({"op": op, "calls": a.calls}) for _ in range(a.rounds))
        per = best / a.calls * 1e6
        print(f"| {op} | {per:.1f} | {1e6 / per:,.0f} |")
    host.close()


if __name__ == "__main__":
    main()
