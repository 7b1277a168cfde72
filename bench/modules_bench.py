"""What a folder worker of several modules costs against the same code in one file.

    .venv/bin/python -m bench.modules_bench [--runs 400]

Rows (medians of --runs, both sides measured alternately in one run):
- reading the script (Script.from_path of the file / of the folder);
- the registry's fast path for an unchanged worker (a stat call per file and folder);
- a cold load into a prepared isolate (bytecode cached, as in a shard) and its first task.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from shardrun.runtime.isolate import WorkerIsolate, prepare
from shardrun.runtime.script import Script
from shardrun.workers import Registry

LIB = "export function area(r) { return PI * r * r }\nexport const unit = 'm2';\n"
CONSTS = "export const PI = 3.14159;\nexport const E = 2.71828;\n"
FMT = "export const fmt = (x, u) => x.toFixed(2) + ' ' + u;\n"
HANDLER = "export default { task(p) { return fmt(area(p.r ?? 1), unit) } }\n"


def write(root: Path) -> None:
    (root / "one.js").write_text(CONSTS + LIB + FMT + HANDLER)
    folder = root / "three"
    (folder / "lib").mkdir(parents=True)
    (folder / "index.js").write_text(
        "import { area, unit } from './lib/geo.js';\nimport { fmt } from './lib/fmt.js';\n" + HANDLER
    )
    (folder / "lib" / "geo.js").write_text("import { PI } from '../consts.js';\n" + LIB)
    (folder / "lib" / "fmt.js").write_text(FMT)
    (folder / "consts.js").write_text(CONSTS)


def median_us(fn: Callable[[], object], runs: int, setup: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(runs):
        arg = setup() if setup is not None else None
        t0 = time.perf_counter()
        fn() if arg is None else fn(arg)  # type: ignore[call-arg]
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=400)
    runs = ap.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root)
        one, three = root / "one.js", root / "three"
        scripts = {"one file": Script.from_path(one), "3 modules + entry": Script.from_path(three)}
        reg = Registry(root)
        for name in ("one", "three"):
            reg.get(name)

        def cold(script: Script) -> Callable[[object], object]:
            def run(prepared: object) -> object:
                w = WorkerIsolate(script, prepared=prepared)  # type: ignore[arg-type]
                return w.submit("task", {"r": 2}).result

            return run

        for s in scripts.values():  # warm the bytecode cache, check the answer
            assert cold(s)(prepare()).value == "12.57 m2"  # type: ignore[attr-defined]
        rows: dict[str, list[float]] = {}
        for _ in range(2):  # alternate the sides twice, keep the better median of each
            for label, path, script, wname in (
                ("one file", one, scripts["one file"], "one"),
                ("3 modules + entry", three, scripts["3 modules + entry"], "three"),
            ):
                r = [
                    median_us(lambda p=path: Script.from_path(p), runs),
                    median_us(lambda n=wname: reg.get(n), runs),
                    median_us(cold(script), runs, setup=prepare),
                ]
                rows[label] = [min(a, b) for a, b in zip(rows[label], r, strict=True)] if label in rows else r
    print("| step, µs (median) | one file | 3 modules + entry | ratio |")
    print("|---|---:|---:|---:|")
    names = ["read the script", "registry fast path (unchanged)", "cold load + first task (prepared isolate)"]
    for i, name in enumerate(names):
        a, b = rows["one file"][i], rows["3 modules + entry"][i]
        print(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f}x |")


if __name__ == "__main__":
    main()
