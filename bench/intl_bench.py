"""Intl cost from a warm worker: an Intl.DateTimeFormat format with a formatter the host has not
built yet, with a new JS formatter the host has cached, with one kept by the worker, and
toLocaleString; plus what importing ICU costs a process the first time a worker touches Intl.

    .venv/bin/python -m bench.intl_bench [--seconds 1.0] [--json FILE]

Every figure is the median of 5 timed loops (bench.runtime_bench.per_call_us), measured in one run
next to a warm hello task, so compare the rows with each other (the machine is noisy).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from typing import Any

import orjson

from bench.runtime_bench import per_call_us
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script

AT = 1710052200000  # 2024-03-10T06:30:00Z
OPTS = '{ dateStyle: "medium", timeStyle: "short", timeZone: "America/New_York" }'
HELLO = Script.from_source("export default { task(p) { return p } }", "hello.js")
# A time zone offset that changes every call: the host's formatter cache (256 per kind) always misses.
UNCACHED = Script.from_source(
    "let i = 0; export default { task(t) { i = (i + 1) % 1440;"
    " const z = (i < 720 ? '+' : '-') + String(Math.floor(i % 720 / 60)).padStart(2, '0') + ':' + String(i % 60).padStart(2, '0');"
    " return new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: z }).format(t) } }",
    "uncached.js",
)
NEW_EACH_CALL = Script.from_source(
    f"export default {{ task(t) {{ return new Intl.DateTimeFormat('en-US', {OPTS}).format(t) }} }}", "new.js"
)
KEPT = Script.from_source(
    f"let f; export default {{ task(t) {{ f ??= new Intl.DateTimeFormat('en-US', {OPTS}); return f.format(t) }} }}",
    "kept.js",
)
TO_LOCALE = Script.from_source(
    "export default { task(t) { return new Date(t).toLocaleString('en-US', { timeZone: 'America/New_York' }) } }",
    "tolocale.js",
)
FIRST_USE = (
    "import time\n"
    "from shardrun.runtime.isolate import WorkerIsolate\n"
    "from shardrun.runtime.script import Script\n"
    'w = WorkerIsolate(Script.from_source("export default { task(t) { return t === 0 ? 0 : '
    "new Intl.DateTimeFormat('en-US', { timeZone: 'UTC' }).format(t) } }\", 'w.js'))\n"
    "w.submit('task', 0)\n"
    "t0 = time.perf_counter(); w.submit('task', 1); t1 = time.perf_counter(); w.submit('task', 2); t2 = time.perf_counter()\n"
    "print((t1 - t0) * 1e6, (t2 - t1) * 1e6)\n"
)


def first_use_us(repeat: int = 5) -> tuple[float, float]:
    """The first Intl call of a fresh process (imports ICU, loads the chunk, builds the formatter), and the
    second. Python's bytecode cache is on (in a temporary folder, one untimed run fills it), as in an install:
    PYTHONDONTWRITEBYTECODE would add compiling shardrun's intl modules (~90 ms) to the first call."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    runs = []
    with tempfile.TemporaryDirectory() as cache:
        env["PYTHONPYCACHEPREFIX"] = cache
        run = [sys.executable, "-c", FIRST_USE]
        subprocess.run(run, capture_output=True, check=True, timeout=60, env=env)
        for _ in range(repeat):
            out = subprocess.run(run, capture_output=True, text=True, check=True, timeout=60, env=env)
            first, second = (float(x) for x in out.stdout.split())
            runs.append((first, second))
    runs.sort()
    return runs[len(runs) // 2]


def import_icu_us(repeat: int = 5) -> float:
    code = "import time; t = time.perf_counter(); import icu; print((time.perf_counter() - t) * 1e6)"
    runs = sorted(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(repeat)
    )
    return runs[len(runs) // 2]


def measure(seconds: float) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for name, script in (("hello", HELLO), ("uncached", UNCACHED), ("new_each_call", NEW_EACH_CALL),
                         ("kept", KEPT), ("to_locale_string", TO_LOCALE)):  # fmt: skip
        w = WorkerIsolate(script)
        w.submit("task", AT)  # warm: the intl chunk is loaded, ICU imported
        rows[name + "_us"] = per_call_us(lambda w=w: w.submit("task", AT), seconds)
    rows["first_use_us"], rows["second_use_us"] = first_use_us()
    rows["import_icu_us"] = import_icu_us()
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each timed loop")
    ap.add_argument("--json", help="write every figure and the machine to this file")
    args = ap.parse_args(argv)
    rows = measure(args.seconds)
    table = [
        ("warm task hello (no Intl)", rows["hello_us"]),
        ("warm: new DateTimeFormat + format, options the host has not cached", rows["uncached_us"]),
        ("warm: new DateTimeFormat + format, host formatter cached", rows["new_each_call_us"]),
        ("warm: format with a DateTimeFormat the worker keeps", rows["kept_us"]),
        ("warm: Date.prototype.toLocaleString with a time zone", rows["to_locale_string_us"]),
        ("fresh process: first Intl call (ICU import + chunk + formatter)", rows["first_use_us"]),
        ("fresh process: the second Intl call", rows["second_use_us"]),
        ("fresh process: `import icu` alone", rows["import_icu_us"]),
    ]
    print(f"{'':70} {'µs per call':>12}")
    for label, v in table:
        print(f"{label:70} {v:12,.1f}")
    if args.json:
        with open(args.json, "wb") as f:
            f.write(orjson.dumps({"machine": platform.platform(), "python": sys.version.split()[0], **rows}))


if __name__ == "__main__":
    main()
