"""The stores behind a shard's bindings, opened on first use and closed with the shard: the KV
store (one SQLite file per node, or a PostgreSQL table), the shard's open D1 databases, the queue
producers' task table. Nothing here is shared with another process but the files and the
database server; nothing of one tenant is reachable through another's binding (every key, file
name and row carries the tenant).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shardrun.bindings.aio import AsyncRunner
from shardrun.bindings.config import BindingSettings

if TYPE_CHECKING:
    from shardrun.bindings.d1 import Database
    from shardrun.bindings.kv import KVStore


def asyncio_shield(f: Any) -> Any:
    import asyncio

    return asyncio.shield(f)


MAX_OPEN_DATABASES = 128  # D1 files a shard keeps open (least recently used closed first), 1 MiB of cache each


def tenant_dir(tenant: str) -> str:
    """A file name for a tenant: any string maps to hex, no two tenants to one name."""
    return "t" + hashlib.sha256(tenant.encode("utf-8", "surrogatepass")).hexdigest()[:40]


class Stores:
    def __init__(
        self,
        settings: BindingSettings,
        pg_url: str | None = None,
        pg_table: str = "ow_tasks",
        tenant_of: Callable[[str], str] | None = None,
    ) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.kv_url = settings.kv_database_url or pg_url
        self.queue_url = settings.queue_database_url or pg_url
        self.queue_table = settings.queue_table or pg_table
        self.tenant_of = tenant_of  # worker name -> its tenant (queue targets); None: no check possible
        self.runner = AsyncRunner()
        self._kv: KVStore | None = None
        self._dbs: OrderedDict[tuple[str, str], Database] = OrderedDict()
        self._pools: dict[str, Any] = {}

    @property
    def kv(self) -> KVStore:
        if self._kv is None:
            from shardrun.bindings.kv import open_store

            self._kv = open_store(self)
        return self._kv

    def database(self, tenant: str, name: str) -> Database:
        """The open D1 database `name` of `tenant` (opened, and made, on first use)."""
        from shardrun.bindings.d1 import Database

        key = (tenant, name)
        db = self._dbs.get(key)
        if db is not None:
            self._dbs.move_to_end(key)
            return db
        path = self.data_dir / "d1" / tenant_dir(tenant) / f"{name}.sqlite3"
        db = Database(path, self.settings)
        self._dbs[key] = db
        while len(self._dbs) > MAX_OPEN_DATABASES:
            self._dbs.popitem(last=False)[1].close()
        return db

    def forget(self, tenant: str, name: str) -> None:
        db = self._dbs.pop((tenant, name), None)
        if db is not None:
            db.close()

    async def pool(self, url: str) -> Any:
        """An asyncpg pool on the runner's loop (one per URL)."""
        made = self._pools.get(url)
        if made is None:  # one pool even when calls race for it
            import asyncio

            import asyncpg

            made = self._pools[url] = asyncio.ensure_future(asyncpg.create_pool(url, min_size=1, max_size=4, timeout=5))

            async def close() -> None:
                if made.done() and not made.exception():
                    await made.result().close()

            self.runner.closers.append(close)
        try:
            return await asyncio_shield(made)
        except Exception:
            self._pools.pop(url, None)  # the next call tries again
            raise

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
        self._dbs.clear()
        if self._kv is not None:
            self._kv.close()
        self.runner.close()
