"""Running workers with env bindings in-process: a workers directory in a tmp dir, the real stores
(SQLite files under a tmp data directory, the local PostgreSQL), the shard's BindingHost."""

from __future__ import annotations

import select
import time
from pathlib import Path
from typing import Any

from shardrun.bindings.config import BindingSettings
from shardrun.bindings.host import BindingHost, Caller
from shardrun.bindings.stores import Stores
from shardrun.runtime.calls import Call, Result
from shardrun.runtime.hostops import host_ops
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.workers import Registry

OPEN: list[Node] = []  # closed by the tests' autouse fixture (close_nodes)


class Node:
    """Workers (name -> (index.js, worker.toml)) and one shard's binding stores."""

    def __init__(
        self,
        tmp: Path,
        workers: dict[str, tuple[str, str]],
        pg_url: str | None = None,
        pg_table: str = "ow_tasks",
        **settings: Any,
    ) -> None:
        root = tmp / "workers"
        root.mkdir(exist_ok=True)
        for name, (js, toml) in workers.items():
            (root / name).mkdir(exist_ok=True)
            (root / name / "index.js").write_text(js)
            (root / name / "worker.toml").write_text(toml)
        self.settings = BindingSettings(data_dir=tmp / "data", **settings)
        self.registry = Registry(root, bindings=self.settings)
        self.stores = Stores(self.settings, pg_url, pg_table, lambda w: self.registry.get(w).tenant)
        self.host = BindingHost(self.stores, self._caller, lambda iso: None)
        self.closed = False
        OPEN.append(self)

    def _caller(self, iso: WorkerIsolate, call: Call) -> Caller:
        spec = self.registry.get(call.tag)
        return Caller(spec.tenant, spec.name, spec.bindings, spec.limits)

    def isolate(self, worker: str) -> WorkerIsolate:
        spec = self.registry.get(worker)
        return WorkerIsolate(
            spec.script,
            spec.limits,
            spec.env,
            host_ops=host_ops(None, None, self.host),
            bindings=spec.bindings.js_spec(),
        )

    def run(self, worker: str, payload: Any = None, iso: WorkerIsolate | None = None, timeout: float = 20) -> Result:
        iso = iso or self.isolate(worker)
        call = iso.submit("task", {} if payload is None else payload, tag=worker)
        end = time.monotonic() + timeout
        while not call.finished:
            assert time.monotonic() < end, "the call did not finish"
            wake = iso.pump()
            if call.finished:
                break
            wait = 0.05 if wake is None else max(0.0, min(wake - time.monotonic(), 0.05))
            select.select([self.host.fileno()], [], [], wait)
            self.host.drain()
        assert call.result is not None
        return call.result

    def value(self, worker: str, payload: Any = None) -> Any:
        r = self.run(worker, payload)
        assert r.ok, r.error
        return r.value

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.host.close()


def close_all() -> None:
    while OPEN:
        OPEN.pop().close()
