"""Who runs a cron firing: a claim per (worker, cron, scheduled time), won by exactly one node.

`PgClaims` inserts the claim into a PostgreSQL table (`INSERT ... ON CONFLICT DO NOTHING`):
the primary key makes one node's insert win, whatever the number of nodes and their clocks'
small skew. The table also remembers the last firing of each cron, so a node that starts
after downtime knows what was missed. `LocalClaims` is the same in this process's memory
(one node: nothing to share, and nothing remembered across restarts).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Protocol

from shardrun.errors import UsageError
from shardrun.sources.schedule import UTC, Firing

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger("shardrun.cron")

CONNECT_TIMEOUT_S = 5.0


def schema(table: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {table} (
            worker text NOT NULL,
            cron text NOT NULL,
            scheduled_at timestamptz NOT NULL,
            node text NOT NULL,
            claimed_at timestamptz NOT NULL DEFAULT now(),
            status text NOT NULL DEFAULT 'running',
            finished_at timestamptz,
            error text,
            PRIMARY KEY (worker, cron, scheduled_at))""",
        f"CREATE INDEX IF NOT EXISTS {table}_scheduled_at ON {table} (scheduled_at)",
    ]


class Claims(Protocol):
    async def start(self) -> None: ...

    async def last(self, worker: str, cron: str) -> float | None:
        """The latest firing of this cron any node claimed (None: none known)."""
        ...

    async def claim(self, f: Firing, node: str) -> bool:
        """True if this node won the firing (and must run it)."""
        ...

    async def finish(self, f: Firing, ok: bool, error: str) -> None: ...

    async def close(self) -> None: ...


class LocalClaims:
    """Claims in memory: one node."""

    def __init__(self) -> None:
        self.done: dict[tuple[str, str], float] = {}

    async def start(self) -> None:
        return None

    async def last(self, worker: str, cron: str) -> float | None:
        return self.done.get((worker, cron))

    async def claim(self, f: Firing, node: str) -> bool:
        key = (f.worker, f.cron)
        if self.done.get(key, float("-inf")) >= f.scheduled:
            return False
        self.done[key] = f.scheduled
        return True

    async def finish(self, f: Firing, ok: bool, error: str) -> None:
        return None

    async def close(self) -> None:
        return None


def _ts(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, UTC)


class PgClaims:
    """Claims in a PostgreSQL table shared by the nodes."""

    def __init__(self, url: str, table: str, keep_days: float) -> None:
        self.url = url
        self.table = table
        self.keep_days = keep_days
        self.pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        """Connect (retrying until the database answers) and make the table if it is missing."""
        import asyncpg  # only a node that claims in PostgreSQL loads the driver

        wait = 0.1
        while self.pool is None:
            try:
                self.pool = await asyncpg.create_pool(
                    self.url, min_size=1, max_size=4, timeout=CONNECT_TIMEOUT_S, command_timeout=30
                )
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                if isinstance(exc, asyncpg.InvalidCatalogNameError | asyncpg.InvalidAuthorizationSpecificationError):
                    raise UsageError(f"cannot use the cron claims database: {exc}", code="E_USAGE") from None
                log.warning("cron: cannot connect to postgres (%s); retrying in %.1fs", exc, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 5.0)
        async with self.pool.acquire() as conn:
            # Two nodes starting at once both run CREATE ... IF NOT EXISTS: serialise them.
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", self.table)
                for stmt in schema(self.table):
                    await conn.execute(stmt)
            await conn.execute(
                f"DELETE FROM {self.table} WHERE scheduled_at < now() - make_interval(secs => $1)",
                self.keep_days * 86400,
            )

    async def last(self, worker: str, cron: str) -> float | None:
        assert self.pool is not None
        v = await self.pool.fetchval(
            f"SELECT max(scheduled_at) FROM {self.table} WHERE worker = $1 AND cron = $2", worker, cron
        )
        return None if v is None else float(v.timestamp())

    async def claim(self, f: Firing, node: str) -> bool:
        assert self.pool is not None
        won = await self.pool.fetchval(
            f"INSERT INTO {self.table} (worker, cron, scheduled_at, node) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT DO NOTHING RETURNING true",
            f.worker,
            f.cron,
            _ts(f.scheduled),
            node,
        )
        return bool(won)

    async def finish(self, f: Firing, ok: bool, error: str) -> None:
        assert self.pool is not None
        await self.pool.execute(
            f"UPDATE {self.table} SET status = $4, finished_at = now(), error = $5 "
            "WHERE worker = $1 AND cron = $2 AND scheduled_at = $3",
            f.worker,
            f.cron,
            _ts(f.scheduled),
            "completed" if ok else "failed",
            error[:1000] or None,
        )

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
