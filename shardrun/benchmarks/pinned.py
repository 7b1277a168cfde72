"""Thread-pinned: each thread has its own cache of isolates, keyed by tenant; nothing is shared."""

from __future__ import annotations

import threading
from collections import OrderedDict

from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script


class PinnedArch:
    name = "pinned"

    def __init__(self, pool_size: int) -> None:
        self.pool_size = pool_size
        self.local = threading.local()

    def run(self, key: str, script: Script) -> object:
        pool: OrderedDict[str, WorkerIsolate] | None = getattr(self.local, "pool", None)
        if pool is None:
            pool = self.local.pool = OrderedDict()
        iso = pool.get(key)
        if iso is None:
            iso = pool[key] = WorkerIsolate(script)
            while len(pool) > self.pool_size:
                pool.popitem(last=False)
        else:
            pool.move_to_end(key)
        call = iso.submit("task", {})
        assert call.result is not None and call.result.ok, call.result
        return call.result.value
