"""Run the cases, keep every repetition, and print the table beside the seed's figures."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable
from typing import Any

from shardrun.benchmarks.scenarios import Case, run_case
from shardrun.benchmarks.scripts import SEED


def measure(case_list: list[Case], repeat: int, tick: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """{case id: {arch: [req/s per repetition]}}, each repetition of every arch interleaved."""
    out: dict[str, dict[str, list[float]]] = {}
    for case in case_list:
        row = out.setdefault(case.id, {a: [] for a in case.archs})
        for _ in range(repeat):
            for arch in case.archs:
                n, seconds = run_case(case, arch)
                row[arch].append(n / seconds)
                tick(f"{case.id} {arch}")
    return out


def measure_served(
    case_list: list[Case],
    repeat: int,
    shards: int,
    transports: tuple[str, ...],
    tick: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """{case id: {"<mode> <transport>": [req/s per repetition]}} through real servers, one per mode."""
    from shardrun.benchmarks.served import MODES, ServedArch, Server, case_workers

    out: dict[str, dict[str, list[float]]] = {c.id: {} for c in case_list}
    for mode in MODES:
        server = Server(mode, shards, case_workers(case_list, mode))
        try:
            for transport in transports:
                arch = ServedArch(server, transport)
                try:
                    for case in case_list:
                        key_arch = mode  # keys are named after the mode, as in-process after the arch
                        for _ in range(repeat):
                            n, seconds = run_case(case, key_arch, arch)
                            out[case.id].setdefault(f"{mode} {transport}", []).append(n / seconds)
                            tick(f"{case.id} {mode} {transport}")
                finally:
                    arch.close()
        finally:
            server.close()
    return out


def summarise(results: dict[str, dict[str, list[float]]]) -> list[dict[str, Any]]:
    """Median/min/max per arch, the seed's figures, and the ratios (ours and the seed's)."""
    rows = []
    for cid, by_arch in results.items():
        med = {a: statistics.median(v) for a, v in by_arch.items() if v}
        seed = SEED.get(cid, {})
        row: dict[str, Any] = {
            "case": cid,
            "median": med,
            "min": {a: min(v) for a, v in by_arch.items() if v},
            "max": {a: max(v) for a, v in by_arch.items() if v},
            "seed": seed,
        }
        for num, den in (("pinned", "worker"), ("pinned", "shared")):
            if num in med and den in med:
                row[f"{num}/{den}"] = med[num] / med[den]
                s_num, s_den = seed.get(num), seed.get(den)
                row[f"seed {num}/{den}"] = s_num / s_den if s_num and s_den else None
        rows.append(row)
    return rows


def machine() -> dict[str, Any]:
    from shardrun import __version__

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        from importlib.metadata import version

        engine = f"quickjs-ng {version('quickjs-ng')}"
    except Exception:
        engine = "quickjs-ng"
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "engine": engine,
        "shardrun": __version__,
    }
