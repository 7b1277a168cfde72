"""Run one request to completion in a fresh isolate, blocking: what `shardrun run` does."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .calls import Call, LogLine, Result
from .errors import ErrorInfo, ShardrunError
from .limits import Limits
from .runtime import WorkerIsolate
from .script import Script
from .watchdog import Watchdog


def run_once(
    script: Script,
    kind: str,
    arg: Any,
    limits: Limits | None = None,
    env: dict[str, Any] | None = None,
    *,
    on_stuck: Callable[[Call], None] | None = None,
    on_log: Callable[[LogLine], None] | None = None,
) -> Result:
    """Load the script, run one request and its waitUntil work, return the result.

    Load errors come back as a failed Result too. With `on_stuck`, a watchdog watches
    for JS that overruns its CPU budget in native code; on_stuck must end the process.
    """
    limits = limits or Limits()
    watchdog = Watchdog(on_stuck) if on_stuck is not None else None
    try:
        try:
            worker = WorkerIsolate(script, limits, env, watchdog=watchdog)
            call = worker.submit(kind, arg)
        except ShardrunError as exc:
            return Result(False, error=ErrorInfo(exc.code, exc.message, stack=exc.stack))
        shown = 0
        while True:
            if on_log is not None:
                for line in call.logs[shown:]:
                    on_log(line)
                shown = len(call.logs)
            if call.finished:
                break
            wake = worker.pump()
            if call.finished:
                continue
            if wake is None:  # cannot happen: an unfinished call always has a deadline
                break
            time.sleep(max(0.0, wake - time.monotonic()))
        assert call.result is not None
        return call.result
    finally:
        if watchdog is not None:
            watchdog.stop()
