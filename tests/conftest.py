"""Shared helpers: run a script once in-process, or the CLI in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from shardrun.cli.oneshot import run_once
from shardrun.engine.limits import Limits
from shardrun.runtime.calls import Call, Result
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script

ROOT = Path(__file__).resolve().parent.parent
WORKERS = ROOT / "configs" / "workers"


def run_js(
    source: str, arg: Any = None, *, kind: str = "task", limits: Limits | None = None, env: dict[str, Any] | None = None
) -> Result:
    """Run one request of a worker given as source, in a fresh isolate."""
    return run_once(Script.from_source(source, "worker.js"), kind, {} if arg is None else arg, limits, env)


def worker(src: str, **kw: Any) -> WorkerIsolate:
    """A WorkerIsolate of a script given as source (named worker.js)."""
    return WorkerIsolate(Script.from_source(src, "worker.js"), **kw)


def drive(w: WorkerIsolate, calls: Iterable[Call], timeout: float = 10.0) -> None:
    """Pump the worker until every call finished (or fail after timeout)."""
    calls = list(calls)
    end = time.monotonic() + timeout
    while not all(c.finished for c in calls):
        assert time.monotonic() < end, "calls did not finish"
        wake = w.pump()
        if wake is not None:
            time.sleep(max(0.0, min(wake, end) - time.monotonic()))


def eval_js(body: str) -> Any:
    """Evaluate the body of an async task handler and return its (JSON) value, or fail."""
    r = run_js("export default { async task(p, env, ctx) {\n" + body + "\n} }")
    assert r.ok, r.error
    return r.value


def run_cli(*args: str, timeout: float = 30, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run `shardrun ARGS...` in a child process."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "shardrun", *args],
        check=False,
        capture_output=True,
        timeout=timeout,
        input=input,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture
def workers_dir() -> Path:
    return WORKERS


from .queues import db  # noqa: E402,F401  (fixture: a fresh tasks table in the real PostgreSQL)
