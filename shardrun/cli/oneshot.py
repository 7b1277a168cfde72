"""Run one request to completion in a fresh isolate, blocking: what `shardrun run` does."""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import Any

from shardrun.egress.client import Egress
from shardrun.egress.host import FetchHost
from shardrun.egress.policy import FetchPolicy
from shardrun.engine.limits import Limits
from shardrun.engine.watchdog import Watchdog
from shardrun.errors import ErrorInfo, ShardrunError
from shardrun.runtime.calls import Call, LogLine, Result
from shardrun.runtime.hostops import host_ops
from shardrun.runtime.isolate import HostOps, WorkerIsolate
from shardrun.runtime.script import Script


def run_once(
    script: Script,
    kind: str,
    arg: Any,
    limits: Limits | None = None,
    env: dict[str, Any] | None = None,
    *,
    on_stuck: Callable[[Call], None] | None = None,
    on_log: Callable[[LogLine], None] | None = None,
    fetch: FetchPolicy | None = None,
) -> Result:
    """Load the script, run one request and its waitUntil work, return the result.

    Load errors come back as a failed Result too. With `on_stuck`, a watchdog watches
    for JS that overruns its CPU budget in native code; on_stuck must end the process.
    With `fetch`, the worker may fetch() what that policy allows; without, fetch() is refused.
    """
    limits = limits or Limits()
    watchdog = Watchdog(on_stuck) if on_stuck is not None else None
    egress = Egress() if fetch is not None else None
    fetch_host: FetchHost | None = None
    if egress is not None and fetch is not None:
        policy = fetch
        fetch_host = FetchHost(egress, lambda iso, call: policy, lambda iso: None)
    host: HostOps = host_ops(fetch_host)
    try:
        try:
            worker = WorkerIsolate(script, limits, env, host_ops=host, watchdog=watchdog)
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
            pause = max(0.0, wake - time.monotonic())
            if egress is None:
                time.sleep(pause)
                continue
            select.select([egress.fileno()], [], [], pause)
            for key, ok, value in egress.drain():
                assert fetch_host is not None
                fetch_host.done(key, ok, value)
        assert call.result is not None
        return call.result
    finally:
        if watchdog is not None:
            watchdog.stop()
        if egress is not None:
            egress.close()
