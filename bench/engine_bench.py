"""The engine layer alone: shardrun's own extension (shardrun.engine._quickjs) against the PyPI wheel
(`quickjs-ng`, the same engine version) in one run.

    .venv/bin/python -m bench.engine_bench [--seconds 0.5] [--variant PATH]

--variant loads a second build of the extension (a .so) for the rows that depend on the
interrupt poll interval, e.g. one built with the engine's own 10,000 ticks:

    SHARDRUN_POLL_TICKS=10000 .venv/bin/python setup.py -q build_ext --build-lib build/poll10000 --build-temp build/poll10000-tmp
    .venv/bin/python -m bench.engine_bench --variant build/poll10000/shardrun/engine/_quickjs*.so

Times are medians of 5 loops; stop times are CPU seconds from the start of the call to the
exception. Compare within one run: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import _quickjs as wheel  # the PyPI binding's C module

from shardrun.engine import _quickjs as own
from shardrun.runtime import prelude

LOOP = "(function () { let s = 0; for (let i = 0; i < 1e5; i++) { s += i * 2 % 7 } return s })"
NATIVE_HEAVY = "const a = new Array(2e6).fill(0); for (;;) a.indexOf(1)"
HELLO = "new Response('Hello World').status"
BUDGET = 0.2
CAP = 10.0  # seconds after which a loop that did not stop is reported as such


def median_us(fn: Callable[[], Any], seconds: float) -> float:
    """Median microseconds per call over 5 loops of about `seconds` / 5 each."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt > seconds / 20:
            break
        n *= 2
    n = max(1, int(n * seconds / 5 / dt))
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(runs)


def load_variant(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("variant._quickjs", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---- cold start ----------------------------------------------------------------------------


# core's third argument loads a lazy chunk by index; from source, it evaluates the chunk's text.
FROM_SOURCE = "(...sources) => (i) => (0, eval)(sources[i])"


def cold_wheel() -> Any:
    ctx = wheel.Context()
    ctx.eval(prelude.chunk_source("core"))(prelude.lazy_spec(), None, ctx.eval(FROM_SOURCE)(*prelude.lazy_sources()))
    return ctx.eval(HELLO)


def cold_own_source(mod: ModuleType = own) -> Any:
    iso = mod.Isolate(memory_limit=64 << 20)
    iso.eval(prelude.chunk_source("core"))(prelude.lazy_spec(), None, iso.eval(FROM_SOURCE)(*prelude.lazy_sources()))
    return iso.eval(HELLO)


class Bytecode:
    """The prelude as the runtime loads it: bytecode compiled once (stripped), the lazy chunks
    through the extension's chunk loader."""

    def __init__(self) -> None:
        self.core = prelude.bytecode("core")
        self.chunks = prelude.lazy_bytecode()

    def cold(self) -> Any:
        iso = own.Isolate(memory_limit=64 << 20)
        iso.load(self.core)(prelude.lazy_spec(), None, iso.chunk_loader("loadChunk", self.chunks))
        return iso.eval(HELLO)


# ---- warm calls ------------------------------------------------------------------------------


def empty_call(ctx: Any) -> Callable[[], Any]:
    f = ctx.eval("(p) => p")
    return lambda: f(1)


def warm_wheel(limit: bool) -> Callable[[], Any]:
    ctx = wheel.Context()
    f = ctx.eval("(p) => JSON.stringify(JSON.parse(p))")
    if limit:
        ctx.set_time_limit(1.0)
    return lambda: f("1")


def warm_own(armed: bool) -> Callable[[], Any]:
    iso = own.Isolate()
    f = iso.eval("(p) => JSON.stringify(JSON.parse(p))")
    if not armed:
        return lambda: f("1")

    def turn() -> Any:
        iso.arm(1.0)
        out = f("1")
        iso.run_jobs()
        iso.disarm()
        return out

    return turn


def host_calls_own() -> Callable[[], Any]:
    iso = own.Isolate()
    iso.set_global("host", iso.function("host", lambda x: x))
    f = iso.eval("() => { let s = 0; for (let i = 0; i < 1000; i++) s += host(i); return s }")
    iso.arm(1e5)
    return f


def host_calls_wheel() -> Callable[[], Any] | None:
    ctx = wheel.Context()
    ctx.add_callable("host", lambda x: x)
    f = ctx.eval("() => { let s = 0; for (let i = 0; i < 1000; i++) s += host(i); return s }")
    return f


def bytes_own() -> Callable[[], Any]:
    iso = own.Isolate(memory_limit=256 << 20)
    blob = os.urandom(1 << 20)
    f = iso.eval("(b) => b")
    return lambda: f(blob)


def bytes_wheel() -> Callable[[], Any]:
    ctx = wheel.Context()
    ctx.set_memory_limit(256 << 20)
    blob = os.urandom(1 << 20)
    f = ctx.eval("(s) => Uint8Array.fromBase64(s).toBase64()")
    return lambda: base64.b64decode(f(base64.b64encode(blob).decode()))


def loop_ms(make: Callable[[], Callable[[], Any]], seconds: float) -> float:
    f = make()
    return median_us(f, seconds) / 1000


# ---- stop times --------------------------------------------------------------------------------


def stop_time(mod: ModuleType, source: str, jobs: bool = False) -> str:
    iso = mod.Isolate(memory_limit=256 << 20)
    cap = threading.Timer(CAP, iso.interrupt)
    cap.start()
    t0 = time.thread_time()
    iso.arm(BUDGET)
    try:
        iso.eval(source)
        if jobs:
            iso.run_jobs()
        out = "did not stop"
    except mod.BudgetExceeded:
        out = f"{time.thread_time() - t0:.2f} s"
    except mod.Interrupted:
        out = f"> {CAP:g} s (interrupted)"
    cap.cancel()
    return out


WHEEL_STOP = """
import sys, time, _quickjs
ctx = _quickjs.Context(); ctx.set_memory_limit(256 << 20); ctx.set_time_limit(%r)
t0 = time.thread_time()
try:
    ctx.eval(%r)
    if %r:
        while ctx.execute_pending_job(): pass
except Exception:
    print(f"{time.thread_time() - t0:.2f} s")
"""


def stop_time_wheel(source: str, jobs: bool = False) -> str:
    try:
        r = subprocess.run(
            [sys.executable, "-c", WHEEL_STOP % (BUDGET, source, jobs)],
            check=False,
            capture_output=True,
            text=True,
            timeout=CAP,
        )
    except subprocess.TimeoutExpired:
        return f"> {CAP:g} s (killed)"
    return r.stdout.strip() or r.stderr.strip()[-80:]


# ---- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=0.5, help="time per measured row and column")
    ap.add_argument("--variant", help="a second build of shardrun._quickjs (e.g. SHARDRUN_POLL_TICKS=10000)")
    a = ap.parse_args(argv)
    var = load_variant(a.variant) if a.variant else None
    s = a.seconds
    vname = f"own, {var.POLL_TICKS} ticks" if var else "variant"
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, w: str, o: str, v: str = "") -> None:
        rows.append((name, w, o, v))
        print(f"  {name}: wheel {w} | own {o}" + (f" | {vname} {v}" if v else ""), file=sys.stderr, flush=True)

    bc = Bytecode()
    row("new isolate (runtime + context), µs", f"{median_us(wheel.Context, s):.0f}", f"{median_us(own.Isolate, s):.0f}")
    row(
        "cold start: core prelude from source + `new Response()`, µs",
        f"{median_us(cold_wheel, s):.0f}",
        f"{median_us(cold_own_source, s):.0f}",
    )
    row("cold start: the same from bytecode (own only), µs", "—", f"{median_us(bc.cold, s):.0f}")
    row(
        "empty call `(p) => p`, µs",
        f"{median_us(empty_call(wheel.Context()), s):.2f}",
        f"{median_us(empty_call(own.Isolate()), s):.2f}",
    )
    row(
        "warm small call `JSON.stringify(JSON.parse(p))`, µs",
        f"{median_us(warm_wheel(False), s):.2f}",
        f"{median_us(warm_own(False), s):.2f}",
    )
    row(
        "warm call as a turn (wheel: time limit set; own: arm + call + run_jobs + disarm), µs",
        f"{median_us(warm_wheel(True), s):.2f}",
        f"{median_us(warm_own(True), s):.2f}",
    )
    row(
        "1,000 Python calls from JS (own: under an armed budget), µs per call",
        f"{median_us(host_calls_wheel(), s) / 1000:.3f}",
        f"{median_us(host_calls_own(), s) / 1000:.3f}",
    )
    row(
        "1 MiB bytes in and out (wheel: base64 text), ms",
        f"{median_us(bytes_wheel(), s) / 1000:.2f}",
        f"{median_us(bytes_own(), s) / 1000:.2f}",
    )

    def own_loop(mod: ModuleType) -> Callable[[], Any]:
        return mod.Isolate().eval(LOOP)

    row(
        "1e5-iteration arithmetic loop, ms",
        f"{loop_ms(lambda: wheel.Context().eval(LOOP), s):.2f}",
        f"{loop_ms(lambda: own_loop(own), s):.2f}",
        f"{loop_ms(lambda: own_loop(var), s):.2f}" if var else "",
    )
    row(
        f"`for (;;) {{}}` under a {BUDGET:g} s budget: CPU until stopped",
        stop_time_wheel("for (;;) {}"),
        stop_time(own, "for (;;) {}"),
        stop_time(var, "for (;;) {}") if var else "",
    )
    aw = "(async () => { for (;;) await 0 })()"
    row(
        f"`await` loop under a {BUDGET:g} s budget",
        stop_time_wheel(aw, True),
        stop_time(own, aw, True),
        stop_time(var, aw, True) if var else "",
    )
    row(
        f"native-heavy loop (`indexOf` over 2e6) under a {BUDGET:g} s budget",
        stop_time_wheel(NATIVE_HEAVY),
        stop_time(own, NATIVE_HEAVY),
        stop_time(var, NATIVE_HEAVY) if var else "",
    )

    print(
        f"\nengine {own.ENGINE_VERSION}; own build {own.ENGINE_BUILD[:12]}, poll every {own.POLL_TICKS} ticks; "
        f"Python {sys.version.split()[0]}\n"
    )
    head = ["measure", "wheel (quickjs-ng 0.17.0.2)", f"own ({own.POLL_TICKS} ticks)"] + ([vname] if var else [])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" + "---:|" * (len(head) - 1))
    for name, w, o, v in rows:
        print("| " + " | ".join([name, w, o] + ([v or "—"] if var else [])) + " |")


if __name__ == "__main__":
    main()
