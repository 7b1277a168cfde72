"""Validate a workers directory the way `serve` reads it: what `shardrun check` does.

Every entry that looks like a worker is checked on its own, so one broken worker does not
hide the next: its name, its worker.toml (through the Registry, under the operator's limits
and [fetch]), and its script, which is compiled and whose top level is run in a fresh
isolate (under the startup limits, with no host operations) to find syntax errors, a
missing default export, a throwing top level and a module with no handler.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from shardrun.egress.policy import FetchPolicy
from shardrun.engine.limits import Limits
from shardrun.errors import ShardrunError
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script
from shardrun.workers import NAME, Registry, WorkerSpec

STUCK_GRACE_S = 5.0  # past the startup budget, a top level the engine could not stop ends the check


@dataclass(frozen=True)
class Problem:
    """One finding: the file (relative to the directory), its worker, a stable code and a message."""

    file: str
    worker: str | None
    code: str
    message: str
    level: str = "error"  # or "warning": reported, does not fail the check

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass
class Report:
    """What a check found: the workers that load, and every problem."""

    root: str
    workers: list[str]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not any(p.level == "error" for p in self.problems)


def check_dir(
    root: Path,
    defaults: Limits | None = None,
    fetch: FetchPolicy | None = None,
    on_stuck: Callable[[Report, Problem], None] | None = None,
) -> Report:
    """Check every worker in `root`. `on_stuck(report so far, problem)` must end the process."""
    reg = Registry(root, defaults, fetch)
    report = Report(str(root), [], [])
    for entry in sorted(reg.root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            has_toml = (entry / "worker.toml").exists()
            if not (entry / "index.js").exists():
                if has_toml or any(entry.glob("*.js")):
                    report.problems.append(
                        Problem(f"{entry.name}/", None, "E_NOT_FOUND", "a worker folder needs an index.js")
                    )
                continue
            name, script_file = entry.name, f"{entry.name}/index.js"
            if (reg.root / f"{name}.js").exists():
                report.problems.append(
                    Problem(
                        f"{name}/", name, "E_WORKER_CONFIG", f"ignored: {name}.js is the worker {name!r}", "warning"
                    )
                )
                continue
        elif entry.suffix == ".js":
            name, script_file = entry.stem, entry.name
        elif entry.suffix == ".toml":
            report.problems.append(
                Problem(entry.name, None, "E_WORKER_CONFIG", "not read: settings go in <name>/worker.toml", "warning")
            )
            continue
        else:
            continue
        if not NAME.fullmatch(name):
            report.problems.append(
                Problem(
                    script_file,
                    None,
                    "E_BAD_NAME",
                    f"{name[:80]!r} is not a worker name (1-64 of a-z, 0-9, '_' and '-', starting with a letter "
                    "or digit): no request can reach it",
                )
            )
            continue
        _check_worker(reg, name, script_file, report, on_stuck)
    return report


def _check_worker(
    reg: Registry,
    name: str,
    script_file: str,
    report: Report,
    on_stuck: Callable[[Report, Problem], None] | None,
) -> None:
    toml_file = f"{name}/worker.toml"
    found: list[Problem] = []
    spec: WorkerSpec | None = None
    try:
        spec = reg.get(name)
    except ShardrunError as exc:
        if exc.code == "E_NOT_FOUND":
            exc.message = f"{script_file} is not a regular file inside the directory (a symlink out of it?)"
        file = toml_file if exc.code == "E_WORKER_CONFIG" else script_file
        found.append(Problem(file, name, exc.code, exc.message.removeprefix(f"{file}: ")))
    if spec is not None:
        found += [
            Problem(
                toml_file,
                name,
                "E_WORKER_CONFIG",
                f"{k} asks for more than the operator allows; the operator's value applies",
                "warning",
            )
            for k in spec.clamped
        ]
    if all(p.code == "E_WORKER_CONFIG" for p in found):  # the script itself is not checked yet
        try:
            script = (
                spec.script
                if spec is not None
                else Script.from_bytes((reg.root / script_file).read_bytes(), script_file)
            )
            limits = spec.limits if spec is not None else reg.defaults
            _load(script, limits, spec.env if spec is not None else {}, script_file, name, found, report, on_stuck)
        except ShardrunError as exc:
            found.append(Problem(script_file, name, exc.code, exc.message))
    report.problems += found
    if not any(p.level == "error" for p in found):
        report.workers.append(name)


def _load(
    script: Script,
    limits: Limits,
    env: dict[str, object],
    script_file: str,
    name: str,
    found: list[Problem],
    report: Report,
    on_stuck: Callable[[Report, Problem], None] | None,
) -> None:
    """Run the script's top level in a fresh isolate; a top level that will not stop ends the check."""
    stuck = Problem(
        script_file,
        name,
        "E_CPU_LIMIT",
        f"the top level did not stop {STUCK_GRACE_S:g} s after its {limits.startup_ms:g} ms budget; check stopped here",
    )
    timer = None
    if on_stuck is not None:
        timer = threading.Timer(limits.startup_ms / 1000 + STUCK_GRACE_S, on_stuck, (report, stuck))
        timer.daemon = True
        timer.start()
    try:
        worker = WorkerIsolate(script, limits, env)
    finally:
        if timer is not None:
            timer.cancel()
    try:
        if not worker.handlers:
            found.append(
                Problem(script_file, name, "E_NO_HANDLER", "the default export has no fetch, task or scheduled handler")
            )
    finally:
        worker.discard()


def exit_now(status: int) -> None:
    """End the process at once (from the stuck timer's thread: the main thread is inside the engine)."""
    os._exit(status)
