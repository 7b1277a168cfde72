"""Runtime micro-benchmarks: cold start, warm call overhead, async handlers, WPT URL pass rates.

    .venv/bin/python -m bench.runtime_bench [--seconds 1.0] [--clock wall|cpu] [--json FILE]

Every figure is the median of 5 timed runs of a loop of at least --seconds; each row also
shows the raw engine doing the same work with no runtime around it, measured in the same
run (the machine is noisy: compare within a run).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from shardrun.runtime.calls import HttpRequest, dispatch_args
from shardrun.runtime.isolate import WorkerIsolate, prepare
from shardrun.runtime.script import Script

HELLO_TASK = Script.from_source("export default { task(p) { return p } }", "hello.js")
HELLO_FETCH = Script.from_source("export default { fetch(r) { return new Response('Hello World') } }", "hello.js")
LOOP_TASK = Script.from_source(
    "export default { task() { let s = 0; for (let i = 0; i < 1e5; i++) s = (s + i * 7) % 1000003; return s } }",
    "loop.js",
)
ASYNC_TASK = Script.from_source("export default { async task(p) { await null; return p } }", "async.js")
REQ = HttpRequest("GET", "https://hello.workers.localhost/")


def _wheel() -> Any:
    """The PyPI binding (the bench extra), for the raw-engine rows; imported only by them, so the
    timing helpers here work without it."""
    import _quickjs

    return _quickjs


clock = time.perf_counter  # --clock cpu: time.thread_time, this thread's CPU time (a loaded machine's waits left out)


def per_call_us(fn: Callable[[], Any], seconds: float, repeat: int = 5) -> float:
    """Median microseconds per call over `repeat` timed loops of about `seconds` each."""
    n = 1
    while True:  # calibrate the loop length
        t0 = clock()
        for _ in range(n):
            fn()
        if clock() - t0 > seconds / 10:
            break
        n *= 2
    n = max(1, int(n * seconds / max(clock() - t0, 1e-9) / 1))
    runs = []
    for _ in range(repeat):
        t0 = clock()
        for _ in range(n):
            fn()
        runs.append((clock() - t0) / n * 1e6)
    return statistics.median(runs)


def raw_warm() -> Callable[[], Any]:
    ctx = _wheel().Context()
    f = ctx.eval("(p) => JSON.stringify(JSON.parse(p))")
    return lambda: f("1")


def raw_async() -> Callable[[], Any]:
    ctx = _wheel().Context()
    f = ctx.eval(
        "(p) => { globalThis.r = undefined; (async () => { await null; globalThis.r = JSON.stringify(JSON.parse(p)) })() }"
    )
    get = ctx.eval("() => globalThis.r")

    def call() -> Any:
        f("1")
        while ctx.execute_pending_job():
            pass
        return get()

    return call


def raw_cold() -> Any:
    ctx = _wheel().Context()
    ctx.eval("(p) => JSON.stringify(p)")(1)


def engine_turn(w: WorkerIsolate, kind: str, arg: Any) -> Callable[[], Any]:
    """The engine's share of a warm request: one turn (arm, dispatch in JS, the jobs, disarm)
    with the request's JSON already made, and nothing of the host around it. A synchronous
    handler responds and finishes within the call, so the request id can be used again."""
    text, rest = dispatch_args(kind, arg)
    iso, dispatch = w.iso, w._dispatch

    def turn() -> Any:
        with iso:
            return iso.turn(dispatch, (1 << 30, kind, text, 0.0, *rest), 1.0)

    return turn


def cold_answered(script: Script, kind: str, arg: Any, n: int = 200) -> tuple[float, float]:
    """Cold start as the issue counts it, a fresh isolate to the answer; and, timed apart,
    what freeing that isolate then costs (discard()). Medians of 5 loops, µs each."""
    runs, frees = [], []
    for _ in range(5):
        answer = free = 0.0
        for _ in range(n):
            t0 = clock()
            w = WorkerIsolate(script)
            w.submit(kind, arg)
            t1 = clock()
            w.discard()
            answer += t1 - t0
            free += clock() - t1
        runs.append(answer / n * 1e6)
        frees.append(free / n * 1e6)
    return statistics.median(runs), statistics.median(frees)


def measure(seconds: float) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    rows["raw_warm_us"] = per_call_us(raw_warm(), seconds)
    w = WorkerIsolate(HELLO_TASK)
    rows["warm_task_us"] = per_call_us(lambda: w.submit("task", 1), seconds)
    wf = WorkerIsolate(HELLO_FETCH)
    rows["warm_fetch_us"] = per_call_us(lambda: wf.submit("fetch", REQ), seconds)
    rows["engine_task_us"] = per_call_us(engine_turn(w, "task", 1), seconds)
    rows["engine_fetch_us"] = per_call_us(engine_turn(wf, "fetch", REQ), seconds)
    rows["raw_async_us"] = per_call_us(raw_async(), seconds)
    wa = WorkerIsolate(ASYNC_TASK)
    rows["warm_async_us"] = per_call_us(lambda: wa.submit("task", 1), seconds)
    rows["warm_overhead_us"] = rows["warm_task_us"] - rows["raw_warm_us"]
    rows["async_overhead_us"] = rows["warm_async_us"] - rows["raw_async_us"]
    wl = WorkerIsolate(LOOP_TASK)
    rows["loop_1e5_ms"] = per_call_us(lambda: wl.submit("task", 1), seconds) / 1000
    rows["isolate_heap_bytes"] = w.heap_bytes()
    rows["isolate_heap_bytes_fetch"] = wf.heap_bytes()

    rows["raw_context_us"] = per_call_us(_wheel().Context, seconds)
    rows["raw_cold_hello_us"] = per_call_us(raw_cold, seconds)
    rows["cold_task_us"] = per_call_us(lambda: WorkerIsolate(HELLO_TASK).submit("task", 1), seconds)
    rows["cold_fetch_us"] = per_call_us(lambda: WorkerIsolate(HELLO_FETCH).submit("fetch", REQ), seconds)
    rows["prepare_us"] = per_call_us(prepare, seconds)
    rows["cold_fetch_answered_us"], rows["free_fetch_us"] = cold_answered(HELLO_FETCH, "fetch", REQ)
    for name, script, kind, arg in (
        ("spare_task_us", HELLO_TASK, "task", 1),
        ("spare_fetch_us", HELLO_FETCH, "fetch", REQ),
    ):
        # Spares are made before the timed region, as a shard makes them in idle time.
        runs = []
        for _ in range(5):
            spares = [prepare() for _ in range(200)]
            t0 = clock()
            for p in spares:
                WorkerIsolate(script, prepared=p).submit(kind, arg)
            runs.append((clock() - t0) / len(spares) * 1e6)
            del spares
        rows[name] = statistics.median(runs)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each timed loop")
    ap.add_argument("--json", help="write every figure and the machine to this file")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="cpu: this thread's CPU time")
    args = ap.parse_args(argv)
    global clock
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter

    from tests import wpt

    rows = measure(args.seconds)
    w = wpt.run()
    rows["wpt_url_parsing"] = f"{w['parsing']['passed']}/{w['parsing']['total']}"
    rows["wpt_url_setters"] = f"{w['setters']['passed']}/{w['setters']['total']}"
    table = [
        ("cold start, task hello (fresh isolate + prelude + load + call)", rows["cold_task_us"], "target ≤ 300"),
        ("cold start, fetch hello (+ Response chunk)", rows["cold_fetch_us"], ""),
        ("  of which to the answer (timed apart from the free)", rows["cold_fetch_answered_us"], "target ≤ 300"),
        ("  of which freeing the isolate (discard())", rows["free_fetch_us"], ""),
        ("  of which prepare() (Context + core prelude)", rows["prepare_us"], ""),
        ("  raw engine: Context() alone", rows["raw_context_us"], ""),
        ("  raw engine: Context() + a one-line handler", rows["raw_cold_hello_us"], ""),
        ("cold start from a prepared spare, task hello", rows["spare_task_us"], "target ≤ 300"),
        ("cold start from a prepared spare, fetch hello", rows["spare_fetch_us"], ""),
        ("warm task call", rows["warm_task_us"], ""),
        ("  raw engine warm call (parse + stringify)", rows["raw_warm_us"], ""),
        ("  overhead over the raw engine", rows["warm_overhead_us"], "target ≤ 10"),
        ("  engine's share: one turn (arm, dispatch, jobs, disarm)", rows["engine_task_us"], ""),
        ("warm fetch call (Request in, Response out)", rows["warm_fetch_us"], ""),
        ("  engine's share: one turn (arm, dispatch, jobs, disarm)", rows["engine_fetch_us"], ""),
        ("warm async task call (await null)", rows["warm_async_us"], ""),
        ("  raw engine async call (call + drain + read)", rows["raw_async_us"], ""),
        ("  overhead over the raw engine", rows["async_overhead_us"], ""),
        ("1e5-iteration arithmetic loop as a warm task (ms)", rows["loop_1e5_ms"], ""),
    ]
    print(
        f"# shardrun runtime bench — {platform.machine()}, {sys.implementation.name} {platform.python_version()}, "
        f"{args.clock} clock"
    )
    print("| measurement | µs | note |\n|---|---:|---|")
    for name, us, note in table:
        print(f"| {name} | {us:,.1f} | {note} |")
    print(
        f"| warm isolate heap, task / fetch worker | {rows['isolate_heap_bytes'] / 1024:,.0f} KB / {rows['isolate_heap_bytes_fetch'] / 1024:,.0f} KB | |"
    )
    print(f"| WPT urltestdata / setters | {rows['wpt_url_parsing']} / {rows['wpt_url_setters']} | |")
    if args.json:
        import os

        doc = {
            "machine": {
                "cores": os.cpu_count(),
                "cpu": platform.processor() or platform.machine(),
                "python": platform.python_version(),
            },
            "seconds": args.seconds,
            "clock": args.clock,
            "rows": rows,
        }
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "wb") as f:
            f.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
