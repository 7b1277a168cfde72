"""A peers' scenario run in-process: the reference that `serve` is compared with.

    .venv/bin/python -m bench.inprocess_bench [--scenario cpu] [--threads 2] [--seconds 5]

Each thread owns a warm WorkerIsolate of bench/peers/workers/<scenario>.js (the workers the
peers bench serves) and submits fetch requests to it back to back, as the shard would (the same
request shape the front door sends), for --seconds. The engine runs without the GIL, so the
threads run in parallel. Prints req/s in all and µs of CPU per request; `peers_bench` runs
this for its "in-process" rows, and the ratio serve / in-process says what the server costs.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

from shardrun.runtime.calls import HttpRequest
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script

WORKERS = Path(__file__).resolve().parent / "peers" / "workers"
HEADERS = [("host", "cpu.workers.localhost"), ("user-agent", "wrk"), ("accept", "*/*")]


def run(scenario: str, threads: int, seconds: float) -> dict[str, float]:
    """req/s and CPU µs per request of `threads` threads, each with its own warm isolate."""
    script = Script.from_path(WORKERS / f"{scenario}.js")
    req = HttpRequest("GET", f"http://{scenario}.workers.localhost/{scenario}/path", HEADERS).to_js()
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = time.monotonic() + seconds + 0.5  # set again once every thread is warm

    def loop(i: int) -> None:
        nonlocal stop
        w = WorkerIsolate(script)
        for _ in range(20):  # warm
            _answer(w, req)
        start.wait()
        n = 0
        while time.monotonic() < stop:
            _answer(w, req)
            n += 1
        counts[i] = n
        w.discard()

    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    start.wait()
    cpu0, t0 = time.process_time(), time.monotonic()
    stop = t0 + seconds
    for t in ts:
        t.join()
    wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    total = max(1, sum(counts))
    return {"rps": total / wall, "cpu_us": cpu / total * 1e6, "requests": total}


def _answer(w: WorkerIsolate, req: dict[str, object]) -> None:
    """One request to its answer (a timer worker is pumped until it answers)."""
    call = w.submit("fetch", req)
    while not call.responded:
        wake = w.next_wake()
        if wake is not None:
            time.sleep(max(0.0, wake - time.monotonic()))
        w.pump()
    if call.result is None or not call.result.ok:
        raise RuntimeError(f"the {w.script.name} worker failed: {call.result}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="cpu", choices=("hello", "cpu", "timer"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0)
    a = ap.parse_args()
    if not 1 <= a.threads <= 64 or not 0 < a.seconds <= 120:
        raise SystemExit("--threads must be 1..64 and --seconds in (0, 120]")
    r = run(a.scenario, a.threads, a.seconds)
    print(
        f"{a.scenario} in-process, {a.threads} threads: {r['rps']:,.0f} req/s, "
        f"{r['cpu_us']:,.1f} µs CPU per request ({r['requests']:,.0f} requests)"
    )


if __name__ == "__main__":
    main()
