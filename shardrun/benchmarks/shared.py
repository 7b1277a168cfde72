"""Shared pool: one global LRU of isolates behind one lock; any thread may take any isolate.

Like the seed's `Mutex<pool>` + `v8::Locker`: the global lock guards the pool's map, and a
thread holds an isolate's own lock while it runs JS in it, so an isolate may move between
threads but is never used by two at once. Threads that want the same isolate wait.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script


class SharedArch:
    name = "shared"

    def __init__(self, pool_size: int) -> None:
        self.pool_size = pool_size
        self.lock = threading.Lock()
        self.pool: OrderedDict[str, tuple[threading.Lock, WorkerIsolate]] = OrderedDict()

    def run(self, key: str, script: Script) -> object:
        with self.lock:
            entry = self.pool.get(key)
            if entry is None:
                entry = (threading.Lock(), WorkerIsolate(script))
                self.pool[key] = entry
                while len(self.pool) > self.pool_size:
                    self.pool.popitem(last=False)
            else:
                self.pool.move_to_end(key)
        held, iso = entry
        with held:
            call = iso.submit("task", {})
        assert call.result is not None and call.result.ok, call.result
        return call.result.value
