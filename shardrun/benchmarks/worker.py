"""Worker (legacy): a new isolate per request, with the Web APIs ready, destroyed after it."""

from __future__ import annotations

from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script


class WorkerArch:
    name = "worker"

    def __init__(self, pool_size: int) -> None:
        self.pool_size = pool_size

    def run(self, key: str, script: Script) -> object:
        iso = WorkerIsolate(script)
        try:
            call = iso.submit("task", {})
            assert call.result is not None and call.result.ok, call.result
            return call.result.value
        finally:
            iso.discard()
