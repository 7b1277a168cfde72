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

from shardrun.bindings.config import BindingSettings
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
    bindings: BindingSettings | None = None,
    on_stuck: Callable[[Report, Problem], None] | None = None,
) -> Report:
    """Check every worker in `root`. `on_stuck(report so far, problem)` must end the process."""
    return _Check(Registry(root, defaults, fetch, bindings), Report(str(root), [], []), on_stuck).run()


@dataclass
class _Check:
    reg: Registry
    report: Report
    on_stuck: Callable[[Report, Problem], None] | None

    def run(self) -> Report:
        for entry in sorted(self.reg.root.iterdir()):
            found = self._entry(entry)
            if found is not None:
                name, script_file = found
                if NAME.fullmatch(name):
                    self._worker(name, script_file)
                else:
                    self._add(
                        script_file,
                        None,
                        "E_BAD_NAME",
                        f"{name[:80]!r} is not a worker name (1-64 of a-z, 0-9, '_' and '-', starting with a "
                        "letter or digit): no request can reach it",
                    )
        return self.report

    def _entry(self, entry: Path) -> tuple[str, str] | None:
        """The (name, script file) of an entry that is meant as a worker; problems of the others."""
        if entry.name.startswith("."):
            return None
        if entry.is_dir():
            if not (entry / "index.js").exists():
                if (entry / "worker.toml").exists() or any(entry.glob("*.js")):
                    self._add(f"{entry.name}/", None, "E_NOT_FOUND", "a worker folder needs an index.js")
                return None
            if (self.reg.root / f"{entry.name}.js").exists():
                msg = f"ignored: {entry.name}.js is the worker {entry.name!r}"
                self._add(f"{entry.name}/", entry.name, "E_WORKER_CONFIG", msg, "warning")
                return None
            return entry.name, f"{entry.name}/index.js"
        if entry.suffix == ".js":
            return entry.stem, entry.name
        if entry.suffix == ".toml":
            self._add(entry.name, None, "E_WORKER_CONFIG", "not read: settings go in <name>/worker.toml", "warning")
        return None

    def _add(self, file: str, worker: str | None, code: str, message: str, level: str = "error") -> None:
        self.report.problems.append(Problem(file, worker, code, message, level))

    def _worker(self, name: str, script_file: str) -> None:
        """The worker as the Registry loads it, then its script, even when its worker.toml is bad."""
        toml_file = f"{name}/worker.toml"
        before = len(self.report.problems)
        spec: WorkerSpec | None = None
        try:
            spec = self.reg.get(name)
        except ShardrunError as exc:
            if exc.code == "E_NOT_FOUND":
                exc.message = f"{script_file} is not a regular file inside the directory (a symlink out of it?)"
            file = toml_file if exc.code == "E_WORKER_CONFIG" else script_file
            self._add(file, name, exc.code, exc.message.removeprefix(f"{file}: "))
        for k in spec.clamped if spec is not None else ():
            msg = f"{k} asks for more than the operator allows; the operator's value applies"
            self._add(toml_file, name, "E_WORKER_CONFIG", msg, "warning")
        if all(p.code == "E_WORKER_CONFIG" for p in self.report.problems[before:]):  # the script is not checked yet
            try:
                if spec is None:  # read as the Registry reads it: DIR/<name>.js, or the folder DIR/<name>
                    script = Script.from_path(self.reg.root / script_file.partition("/")[0])
                    self._load(script, self.reg.defaults, {}, name, script_file)
                else:
                    self._load(spec.script, spec.limits, spec.env, name, script_file)
            except ShardrunError as exc:
                self._add(script_file, name, exc.code, exc.message)
        if not any(p.level == "error" for p in self.report.problems[before:]):
            self.report.workers.append(name)

    def _load(self, script: Script, limits: Limits, env: dict[str, object], name: str, script_file: str) -> None:
        """Run the script's top level in a fresh isolate; a top level that will not stop ends the check."""
        timer = None
        if self.on_stuck is not None:
            stuck = Problem(
                script_file,
                name,
                "E_CPU_LIMIT",
                f"the top level did not stop {STUCK_GRACE_S:g} s after its {limits.startup_ms:g} ms budget; "
                "the check stopped here",
            )
            timer = threading.Timer(limits.startup_ms / 1000 + STUCK_GRACE_S, self.on_stuck, (self.report, stuck))
            timer.daemon = True
            timer.start()
        try:
            worker = WorkerIsolate(script, limits, env)
        finally:
            if timer is not None:
                timer.cancel()
        try:
            if not worker.handlers:
                self._add(
                    script_file, name, "E_NO_HANDLER", "the default export has no fetch, task or scheduled handler"
                )
        finally:
            worker.discard()


def exit_now(status: int) -> None:
    """End the process at once (from the stuck timer's thread: the main thread is inside the engine)."""
    os._exit(status)
