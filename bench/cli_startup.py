"""How long `shardrun invoke` and `shardrun status` take, start to exit, against a running server.

    .venv/bin/python -m bench.cli_startup [--runs 20] [--hyperfine] [PYTHONPATH ...]

Starts one `serve --shards 1` (from this checkout) on free loopback ports, then times each CLI
command once per PYTHONPATH given (e.g. another checkout, or `CHECKOUT:DIR` with DIR from
`pip install --target DIR typer==X` to try another typer; default: this checkout), all in one
run so the figures compare. `python -c pass` is the floor. By default the runs are interleaved
(each round runs every command once, in a shuffled order) and each child's CPU time is read
from wait4(), so a machine whose load changes during the run skews no command more than
another; `--hyperfine` runs hyperfine instead (each command's runs back to back). The commands
run with Python's bytecode cache on (PYTHONDONTWRITEBYTECODE is dropped: the warm-up runs write
it), as an installed shardrun has it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shardrun.client import Client

ROOT = Path(__file__).resolve().parent.parent
HELLO = "export default { task(p) { return 'hi' } }\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    (tmp / "workers").mkdir()
    (tmp / "workers" / "hello.js").write_text(HELLO)
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    (tmp / "shardrun.toml").write_text(
        f'[serve]\nshards = 1\nworkers = "{tmp / "workers"}"\nclient_endpoint = "{endpoint}"\n'
        f'runtime_dir = "{tmp / "run"}"\nhttp_enabled = false\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHARDRUN_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shardrun", "serve", "--config", str(tmp / "shardrun.toml")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    )
    with Client(endpoint, timeout=5) as c:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                if all(s["ready"] for s in c.status(timeout=0.5)["shards"]):
                    return proc, endpoint
            except TimeoutError:
                pass
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not get ready within 30 s")


def timed(cmd: list[str]) -> tuple[float, float]:
    """One run: wall seconds, and the child's CPU seconds (user + system)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def interleaved(cases: list[tuple[str, list[str]]], runs: int) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in cases}
    order = list(cases)
    for r in range(runs + 2):  # two warm-up rounds
        random.shuffle(order)
        for name, cmd in order:
            t = timed(cmd)
            if r >= 2:
                out[name].append(t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--hyperfine", action="store_true", help="time with hyperfine (must be installed)")
    ap.add_argument("paths", nargs="*", default=[str(ROOT)])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, endpoint = start_server(Path(tmp))
        try:
            floor = ["env", "-u", "PYTHONDONTWRITEBYTECODE", sys.executable, "-c", "pass"]
            cases: list[tuple[str, list[str]]] = [("python -c pass", floor)]
            for path in args.paths:
                label = "+".join(Path(p).name for p in path.split(":"))
                run = ["env", "-u", "PYTHONDONTWRITEBYTECODE", f"PYTHONPATH={path}", sys.executable, "-m", "shardrun"]
                cases += [
                    (f"{label}: invoke hello", [*run, "invoke", "hello", "-q", "--endpoint", endpoint]),
                    (f"{label}: status --json", [*run, "status", "--json", "--endpoint", endpoint]),
                    (f"{label}: status", [*run, "status", "--endpoint", endpoint]),
                ]
            rows = []
            if args.hyperfine:
                if not shutil.which("hyperfine"):
                    raise SystemExit("hyperfine is not installed (apt-get install hyperfine)")
                out = Path(tmp) / "hf.json"
                cmd = ["hyperfine", "-N", "-w", "2", "-r", str(args.runs), "--export-json", str(out)]
                for name, c in cases:
                    cmd += ["-n", name, " ".join(c)]
                subprocess.run(cmd, check=True, capture_output=True)
                for r in json.loads(out.read_text())["results"]:
                    rows.append((r["command"], r["median"], r["min"], r["max"], r["user"] + r["system"]))
                tool = f"hyperfine -N -w 2 -r {args.runs}"
            else:
                for name, ts in interleaved(cases, args.runs).items():
                    walls = [w for w, _ in ts]
                    cpu = statistics.median(c for _, c in ts)
                    rows.append((name, statistics.median(walls), min(walls), max(walls), cpu))
                tool = f"{args.runs} interleaved rounds"
        finally:
            proc.terminate()
            proc.wait(20)
    print(f"{tool}, ms (wall: median, min, max; CPU: user + system, median of the rounds or hyperfine's mean)\n")
    print("| command | wall median | wall min | wall max | CPU |\n|---|---:|---:|---:|---:|")
    for name, med, lo, hi, cpu in rows:
        shown = "" if cpu is None else f"{cpu * 1000:.0f}"
        print(f"| {name} | {med * 1000:.0f} | {lo * 1000:.0f} | {hi * 1000:.0f} | {shown} |")


if __name__ == "__main__":
    main()
