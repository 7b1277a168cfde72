"""The real PostgreSQL and NATS servers the task-source tests use (scripts/test starts them)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from shardrun.sources.pgsource import init_db

DATABASE_URL = os.environ.get("SHARDRUN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
NATS_URL = os.environ.get("SHARDRUN_TEST_NATS_URL", "nats://127.0.0.1:4222")


class Db:
    """A fresh tasks table in the test database; every call is one short connection."""

    def __init__(self, url: str = DATABASE_URL) -> None:
        self.url = url
        self.table = f"t_{uuid.uuid4().hex[:12]}"

    def run(self, fn: Callable[[asyncpg.Connection], Any]) -> Any:
        async def go() -> Any:
            conn = await asyncpg.connect(self.url, timeout=5)
            try:
                return await fn(conn)
            finally:
                await conn.close()

        return asyncio.run(go())

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return self.run(lambda c: c.fetch(sql.replace("{t}", self.table), *args))  # type: ignore[no-any-return]

    def val(self, sql: str, *args: Any) -> Any:
        return self.run(lambda c: c.fetchval(sql.replace("{t}", self.table), *args))

    def exec(self, sql: str, *args: Any) -> Any:
        return self.run(lambda c: c.execute(sql.replace("{t}", self.table), *args))

    def add(self, tasks: list[dict[str, Any]]) -> None:
        """Insert tasks: dicts of script, payload (JSON text), and optional queue, tenant, max_attempts, timeout_ms."""
        cols = ["script", "payload", "queue", "tenant", "max_attempts", "timeout_ms"]
        rows = [
            (
                t["script"],
                t.get("payload", "{}"),
                t.get("queue", "default"),
                t.get("tenant"),
                t.get("max_attempts"),
                t.get("timeout_ms"),
            )
            for t in tasks
        ]
        self.run(lambda c: c.copy_records_to_table(self.table, records=rows, columns=cols))

    def counts(self) -> dict[str, int]:
        return {r["status"]: r["n"] for r in self.fetch("SELECT status, count(*) AS n FROM {t} GROUP BY status")}

    def wait_until(self, pred: Callable[[], bool], timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return
            time.sleep(0.1)
        raise AssertionError(f"{what} within {timeout}s; table now: {self.counts()}")

    def wait_done(self, n: int, timeout: float = 60) -> None:
        """Until n tasks are finished (completed, failed or dead)."""
        finished = ("completed", "failed", "dead")
        self.wait_until(lambda: sum(self.counts().get(s, 0) for s in finished) >= n, timeout, f"{n} tasks finished")


def check_postgres() -> None:
    try:
        Db().val("SELECT 1")
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is not reachable at {DATABASE_URL} ({exc}); scripts/test starts a local one")


@pytest.fixture
def db() -> Any:
    check_postgres()
    d = Db()
    asyncio.run(init_db(d.url, d.table))
    yield d
    d.exec("DROP TABLE IF EXISTS {t} CASCADE")
    d.exec(f"DROP FUNCTION IF EXISTS {d.table}_notify() CASCADE")
