"""Per-request CPU of a warm fetch request through WorkerIsolate.submit, split in three.

    .venv/bin/python -m bench.request_bench [--seconds 1.0] [--profile WORKER]

A request like the one the front door sends (method, absolute URL, 8 headers, no body, as the
dict HttpRequest.to_js() makes and the shard receives) goes to a warm isolate of each worker
below, `raw_fetch` and with a watchdog as in a shard. Each row is the median over 5 loops of µs per request of
this thread's CPU time (time.thread_time), split at the engine call:

    before   submit() up to Isolate.turn: checks, the Call, the argument's JSON
    turn     Isolate.turn: the JS of the request (parse, Request, handler, serialise, outbox)
    after    from the turn's return to submit()'s: rejections, the outbox drained and checked

`--profile NAME` runs that worker's loop under cProfile instead and prints the top entries.
`--js` times the JS pieces of a turn instead: each operation in a loop inside one task
(performance.now(), µs per operation), and the engine turn alone of a worker that returns a
Response made at its top level, with and without reading `request.headers`.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from typing import Any

from shardrun.engine.watchdog import Watchdog
from shardrun.runtime.calls import HttpRequest
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script

WORKERS = {
    "hello_url": "export default { fetch(request) { return Response.json({ path: new URL(request.url).pathname }) } }",
    "json_ok": "export default { fetch() { return Response.json({ ok: true }) } }",
    "text_hi": 'export default { fetch() { return new Response("hi") } }',
    "async_json": "export default { async fetch() { return Response.json({ ok: true }) } }",
    "headers_read": (
        'export default { fetch(request) { return new Response(request.headers.get("user-agent"), '
        '{ status: 201, headers: { "x-a": "1" } }) } }'
    ),
}
REQ = HttpRequest(
    "GET",
    "http://hello.workers.localhost/some/path?q=1",
    [
        ("host", "hello.workers.localhost"),
        ("user-agent", "wrk/4.2.0"),
        ("accept", "*/*"),
        ("accept-encoding", "gzip, deflate"),
        ("accept-language", "en-US,en;q=0.9"),
        ("connection", "keep-alive"),
        ("x-forwarded-for", "127.0.0.1"),
        ("x-request-id", "0123456789abcdef0123456789abcdef"),
    ],
).to_js()

clock = time.thread_time
WATCHDOG = Watchdog(lambda subject: None)  # never fires here: nothing overruns


class Split:
    """Stamps around the engine call of one isolate (its Isolate.turn wrapped)."""

    def __init__(self, w: WorkerIsolate) -> None:
        self.enter = self.leave = 0.0
        inner = w.iso.turn

        def turn(fn: Any, args: tuple[Any, ...], budget: float) -> Any:
            self.enter = clock()
            try:
                return inner(fn, args, budget)
            finally:
                self.leave = clock()

        w.iso.turn = turn  # type: ignore[method-assign]


def one_loop(w: WorkerIsolate, split: Split, n: int) -> tuple[float, float, float]:
    before = turn = after = 0.0
    for _ in range(n):
        t0 = clock()
        call = w.submit("fetch", REQ)
        t1 = clock()
        before += split.enter - t0
        turn += split.leave - split.enter
        after += t1 - split.leave
        assert call.finished and call.result is not None and call.result.ok, call.result
    return before / n * 1e6, turn / n * 1e6, after / n * 1e6


def warm(source: str) -> WorkerIsolate:
    return WorkerIsolate(Script.from_source(source, "bench.js"), raw_fetch=True, watchdog=WATCHDOG)


def measure(source: str, seconds: float) -> dict[str, float]:
    w = warm(source)
    split = Split(w)
    n = 1
    while True:  # calibrate the loop length
        t0 = clock()
        one_loop(w, split, n)
        if clock() - t0 > seconds / 10:
            break
        n *= 2
    n = max(1, int(n * seconds / max(clock() - t0, 1e-9)))
    runs = [one_loop(w, split, n) for _ in range(5)]
    totals = [sum(r) for r in runs]
    mid = runs[totals.index(statistics.median(totals))]
    return {"total": sum(mid), "before": mid[0], "turn": mid[1], "after": mid[2]}


# Operations timed inside the isolate, each in a loop of JS_LOOP (the Fetch API chunk loaded first).
JS_OPS = {
    'new Response("hi")': 'new Response("hi")',
    "new Response(null)": "new Response(null)",
    "Response.json({ok: true})": "Response.json({ ok: true })",
    'new Response("hi", {status, headers: {1}})': 'new Response("hi", { status: 201, headers: { "x-a": "1" } })',
    'new Headers({"x-a": "1"})': 'new Headers({ "x-a": "1" })',
    "JSON.stringify({ok: true})": "JSON.stringify({ ok: true })",
}
JS_LOOP = 20000
PREBUILT = {
    "returns a prebuilt Response": "const R = new Response(null); export default { fetch() { return R } }",
    "  + reads request.headers": "const R = new Response(null); export default { fetch(r) { r.headers; return R } }",
    '  + request.headers.get("user-agent")': (
        'const R = new Response(null); export default { fetch(r) { r.headers.get("user-agent"); return R } }'
    ),
}


def js_parts(seconds: float) -> None:
    from bench.runtime_bench import per_call_us
    from shardrun.engine.limits import Limits
    from shardrun.runtime.calls import dispatch_args

    cases = ",\n".join(f"  {i}: () => {op}" for i, op in enumerate(JS_OPS.values()))
    src = (
        f"const cases = {{\n{cases}\n}};\n"
        "export default { task(i) { Response; const f = cases[i], t0 = performance.now();\n"
        f"  for (let n = 0; n < {JS_LOOP}; n++) f();\n"
        f"  return (performance.now() - t0) * 1000 / {JS_LOOP}; }} }}"
    )
    w = WorkerIsolate(Script.from_source(src, "ops.js"), limits=Limits(cpu_ms=60_000, wall_ms=60_000))
    print(f"{'operation':<46}{'µs':>8}")
    for i, name in enumerate(JS_OPS):
        call = w.submit("task", i)
        assert call.result is not None and call.result.ok, call.result
        print(f"{name:<46}{call.result.value:8.2f}")
    text, rest = dispatch_args("fetch", REQ)
    print(f"{'engine turn of a fetch (arm, JS, jobs, disarm)':<46}{'µs':>8}")
    for name, source in PREBUILT.items():
        pw = warm(source)
        iso, dispatch = pw.iso, pw._dispatch

        def turn(iso: Any = iso, dispatch: Any = dispatch) -> Any:
            with iso:
                return iso.turn(dispatch, (1 << 30, "fetch", text, 0.0, *rest), 1.0)

        print(f"{name:<46}{per_call_us(turn, seconds):8.2f}")


def profile(source: str, n: int = 20000) -> None:
    w = warm(source)
    for _ in range(200):
        w.submit("fetch", REQ)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        w.submit("fetch", REQ)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(18)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each timed loop")
    ap.add_argument("--profile", choices=sorted(WORKERS), help="profile this worker's loop instead")
    ap.add_argument("--js", action="store_true", help="time the JS pieces of a turn instead")
    a = ap.parse_args(argv)
    if a.js:
        js_parts(a.seconds)
        return
    if a.profile:
        profile(WORKERS[a.profile])
        return
    print(f"{'worker':<14}{'total':>8}{'before':>8}{'turn':>8}{'after':>8}   (µs CPU per request)")
    for name, source in WORKERS.items():
        r = measure(source, a.seconds)
        print(f"{name:<14}{r['total']:8.1f}{r['before']:8.1f}{r['turn']:8.1f}{r['after']:8.1f}")


if __name__ == "__main__":
    main()
