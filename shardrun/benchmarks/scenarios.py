"""The seed's benchmark scenarios, by definition (bench-definitions.md), for each architecture."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shardrun.benchmarks.pinned import PinnedArch
from shardrun.benchmarks.scripts import CPU_HEAVY, SIMPLE
from shardrun.benchmarks.shared import SharedArch
from shardrun.benchmarks.worker import WorkerArch
from shardrun.engine.adapter import Isolate
from shardrun.runtime.script import Script

ARCHS = {"worker": WorkerArch, "shared": SharedArch, "pinned": PinnedArch}
THREAD_STACK = 16 << 20  # threads that run JS need stacks well above the JS stack limit


@dataclass(frozen=True)
class Case:
    """One row of a table: what runs, how often, with which keys."""

    id: str
    title: str
    table: str  # "real workers" | "multithread" | "synthetic"
    script: Script | None = None
    iterations: int = 0  # sequential cases
    keys: int = 1  # distinct keys (sequential) or workers per thread (multithread)
    sleep_ms: float = 0.0  # inside the timed loop, after each request
    prewarm: bool = False
    threads: int = 0  # multithread / synthetic
    per_thread: int = 0
    pool_size: int = 20
    isolates: int = 0  # synthetic
    archs: tuple[str, ...] = ("worker", "shared", "pinned")


def cases(threads: int = 4, scale: int = 1) -> list[Case]:
    """Every row, with `threads` driving the main multithread case and `scale` multiplying counts."""
    return [
        Case(
            "cpu_bound",
            "CPU-bound (CPU_HEAVY, 30 requests, 10 keys)",
            "real workers",
            CPU_HEAVY,
            30 * scale,
            10,
            pool_size=100,
        ),
        Case(
            "standard_5ms",
            "Standard (SIMPLE + 5 ms sleep, 20 requests, 10 keys)",
            "real workers",
            SIMPLE,
            20 * scale,
            10,
            sleep_ms=5,
            pool_size=100,
        ),
        Case(
            "warm_cache",
            "Warm cache (SIMPLE, 50 requests, one pre-warmed key)",
            "real workers",
            SIMPLE,
            50 * scale,
            1,
            prewarm=True,
            pool_size=100,
            archs=("shared", "pinned"),
        ),
        Case(
            "mt_4x20",
            f"{threads} threads x 20 requests, 5 workers/thread",
            "multithread",
            SIMPLE,
            keys=5,
            threads=threads,
            per_thread=20 * scale,
        ),
        Case(
            "mt_cpu_4x25",
            "CPU-bound, 4 x 25, 5 workers/thread",
            "multithread",
            CPU_HEAVY,
            keys=5,
            threads=4,
            per_thread=25 * scale,
        ),
        Case(
            "mt_contention_8x50",
            "High contention, 8 x 50, 5 workers/thread, pool 10",
            "multithread",
            SIMPLE,
            keys=5,
            threads=8,
            per_thread=50 * scale,
            pool_size=10,
        ),
        Case(
            "mt_warm_4x50",
            "Warm cache, 4 x 50, 1 worker/thread",
            "multithread",
            SIMPLE,
            keys=1,
            threads=4,
            per_thread=50 * scale,
        ),
        Case(
            "synthetic_8t4i",
            "Synthetic 8 threads / 4 isolates (re-created from the description)",
            "synthetic",
            threads=8,
            per_thread=100 * scale,
            isolates=4,
        ),
        Case(
            "synthetic_8t1i",
            "Synthetic 8 threads / 1 isolate (re-created from the description)",
            "synthetic",
            threads=8,
            per_thread=100 * scale,
            isolates=1,
        ),
    ]


def run_case(case: Case, arch: str, instance: Any = None) -> tuple[int, float]:
    """Run one case on one architecture once: (requests, seconds in the timed region).

    `instance` runs the requests instead of a new in-process architecture (the served ones)."""
    if case.table == "real workers":
        return _sequential(case, arch, instance)
    if case.table == "multithread":
        return _multithread(case, arch, instance)
    return _synthetic(case, arch)


def _sequential(case: Case, arch: str, instance: Any) -> tuple[int, float]:
    a: Any = instance or ARCHS[arch](case.pool_size)
    script = case.script
    assert script is not None
    prefix = "cpu" if case.id == "cpu_bound" else "worker"
    if case.prewarm:
        a.run(f"{prefix}-0", script)  # untimed
    t0 = time.perf_counter()
    for i in range(case.iterations):
        a.run(f"{prefix}-{i % case.keys}", script)
        if case.sleep_ms:
            time.sleep(case.sleep_ms / 1000)
    return case.iterations, time.perf_counter() - t0


def _threads(n: int, body: Callable[[int], None]) -> float:
    """Start n threads together on a barrier; time from before spawning to after all joined."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(t: int) -> None:
        try:
            barrier.wait()
            body(t)
        except BaseException as exc:
            errors.append(exc)

    old = threading.stack_size(THREAD_STACK)
    try:
        t0 = time.perf_counter()
        ts = [threading.Thread(target=run, args=(t,)) for t in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        elapsed = time.perf_counter() - t0
    finally:
        threading.stack_size(old)
    if errors:
        raise errors[0]
    return elapsed


def _multithread(case: Case, arch: str, instance: Any) -> tuple[int, float]:
    a: Any = instance or ARCHS[arch](case.pool_size)
    script = case.script
    assert script is not None

    def body(t: int) -> None:
        for i in range(case.per_thread):
            a.run(f"{arch}-t{t}-w{i % case.keys}", script)

    return case.threads * case.per_thread, _threads(case.threads, body)


def _synthetic(case: Case, arch: str) -> tuple[int, float]:
    """Raw engine, no runtime: each step evaluates a tiny expression (a new engine per step for Worker)."""
    expr = "(function () { let s = 0; for (let i = 0; i < 100; i++) s += i; return s })()"
    new = lambda: Isolate(memory_limit=64 << 20, stack_limit=1 << 20)  # noqa: E731

    if arch == "worker":

        def body(t: int) -> None:
            for _ in range(case.per_thread):
                iso = new()
                with iso:
                    iso.eval(expr)
    elif arch == "shared":
        pool: queue.Queue[Isolate] = queue.Queue()
        for _ in range(case.isolates):
            pool.put(new())

        def body(t: int) -> None:
            for _ in range(case.per_thread):
                iso = pool.get()  # the global pool's lock; waits when every isolate is taken
                try:
                    with iso:
                        iso.eval(expr)
                finally:
                    pool.put(iso)
    else:

        def body(t: int) -> None:
            iso = new()  # the thread's own isolate
            for _ in range(case.per_thread):
                with iso:
                    iso.eval(expr)

    return case.threads * case.per_thread, _threads(case.threads, body)
