"""Where a cold fetch's time goes: prepare()'s steps, loading the worker, the fetch_api chunk,
the answer and the free, each timed on this thread's CPU clock.

    .venv/bin/python -m bench.cold_breakdown [--n 2000]

The steps repeat prepare() (shardrun/runtime/isolate.py) one call at a time; keep them in
step with it. Figures are the 25th percentile and the median of --n cold starts, µs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

from shardrun.engine.adapter import Isolate, JSHandle
from shardrun.engine.limits import Limits
from shardrun.runtime import hostcall, prelude
from shardrun.runtime.calls import HttpRequest
from shardrun.runtime.isolate import FIRST_GC_BYTES, Prepared, WorkerIsolate
from shardrun.runtime.script import Script

HELLO_FETCH = Script.from_source("export default { fetch(r) { return new Response('Hello World') } }", "hello.js")
REQ = HttpRequest("GET", "https://hello.workers.localhost/")
API = ("boot", "booted", "dispatch", "fire", "settle", "take", "cancel", "credit")


def cold(times: dict[str, list[float]]) -> None:
    clock = time.thread_time
    lim = Limits()
    core, codes = prelude.bytecode("core"), prelude.lazy_bytecode()
    t = [clock()]

    def step(name: str) -> None:
        t.append(clock())
        times[name].append(t[-1] - t[-2])

    iso = Isolate(memory_limit=lim.memory_mb << 20, stack_limit=lim.stack_kb << 10)
    step("1 new isolate (runtime + context)")
    with iso:
        iso.set_gc_threshold(FIRST_GC_BYTES)
        iso.arm(lim.startup_ms / 1000)
        init = iso.load(core)
        step("2 read the core bytecode")
        chunks = iso.unwrap(iso.chunk_loader("loadChunk", codes))
        host = iso.unwrap(iso.host_function("host", hostcall.bind(hostcall.HostState())))
        step("3 chunk loader + host function")
        api = iso.unwrap(init(prelude.lazy_spec(), host, chunks))
        step("4 core's init")
        handles = tuple(JSHandle(api.get(n)) for n in API)
        iso.set_imports(("<input>",))
        iso.disarm()
        step("5 entry points")
    w = WorkerIsolate(HELLO_FETCH, prepared=Prepared(iso, handles))
    step("6 load the worker (module, boot)")
    with iso:
        iso.eval("Response")
    step("7 the fetch_api chunk (first read of Response)")
    w.submit("fetch", REQ)
    step("8 the request, answered")
    w.discard()
    step("9 free the isolate")
    times["to the answer (1-8)"].append(t[8] - t[0])
    times["with the free (1-9)"].append(t[9] - t[0])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="cold starts to time")
    args = ap.parse_args(argv)
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(50):  # warm-up: the chunks compile on the first one
        cold(times)
    times.clear()
    for _ in range(args.n):
        cold(times)
    print("| step | p25 µs | median µs |\n|---|---:|---:|")
    for name, v in times.items():
        v.sort()
        print(f"| {name} | {v[len(v) // 4] * 1e6:,.1f} | {statistics.median(v) * 1e6:,.1f} |")


if __name__ == "__main__":
    main()
