"""PostgreSQL as a task source: claim with FOR UPDATE SKIP LOCKED, hold a lease, record fenced.

NOTIFY (`<table>_created`, sent by the insert trigger) wakes the claim loops at once, but it
is only a hint: notifications sent while the listening connection is down are lost, so the
loops also poll. The pool reconnects on its own; the listener reconnects in its own loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

import asyncpg

from shardrun.errors import UsageError
from shardrun.runtime.jsonin import parse_payload
from shardrun.settings import PayloadSettings, PostgresSourceSettings
from shardrun.sources.pgqueue import Statements, schema
from shardrun.sources.runner import Claim, Runner
from shardrun.sources.tasks import Outcome, Task, TaskPolicies, Verdict, check_tenant, result_json, worker_name
from shardrun.sources.workloops import Group

log = logging.getLogger("shardrun.source")

CONNECT_TIMEOUT_S = 5.0


async def init_db(database_url: str, table: str) -> None:
    """`shardrun db-init`: create the table (or upgrade a seed table), indexes and trigger."""
    conn = await asyncpg.connect(database_url, timeout=CONNECT_TIMEOUT_S)
    try:
        async with conn.transaction():
            for stmt in schema(table):
                await conn.execute(stmt)
    finally:
        await conn.close()


class PgSource:
    """The Source half of a Postgres queue (see runner.Source)."""

    name = "postgres"

    def __init__(
        self,
        cfg: PostgresSourceSettings,
        payload: PayloadSettings,
        node: str | None = None,
        policies: TaskPolicies | None = None,
    ) -> None:
        assert cfg.database_url
        self.cfg = cfg
        self.policies = policies or TaskPolicies(None)
        self.payload = payload
        self.sql = Statements(cfg.table)
        self.node = node or f"{socket.gethostname()}:{os.getpid()}"
        self.extend_every = max(0.2, cfg.lease_s / 3)
        self.pool: asyncpg.Pool | None = None
        self.listener: asyncio.Task[None] | None = None
        self.done: list[tuple[Claim, str, asyncio.Future[str]]] = []  # completions for the next batch
        self.flusher: asyncio.Task[None] | None = None

    async def start(self, runner: Runner) -> None:
        """Connect (retrying until the database answers), check the table, start listening."""
        wait = 0.1
        while self.pool is None:
            try:
                self.pool = await asyncpg.create_pool(
                    self.cfg.database_url, min_size=1, max_size=4, timeout=CONNECT_TIMEOUT_S, command_timeout=30
                )
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                if isinstance(exc, asyncpg.InvalidCatalogNameError | asyncpg.InvalidAuthorizationSpecificationError):
                    raise UsageError(f"cannot use the database: {exc}", code="E_USAGE") from None
                log.warning("postgres: cannot connect (%s); retrying in %.1fs", exc, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 5.0)
        if not await self.pool.fetchval(self.sql.exists, self.sql.table):
            raise UsageError(f"table {self.sql.table!r} does not exist: run `shardrun db-init` first", code="E_USAGE")
        self.listener = asyncio.create_task(self._listen(runner))

    async def close(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
            await asyncio.gather(self.listener, return_exceptions=True)
        if self.pool is not None:
            await self.pool.close()

    async def _listen(self, runner: Runner) -> None:
        """Hold a LISTEN connection; after each (re)connect, poke the loops (NOTIFYs may have been missed)."""
        wait = 0.1
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self.cfg.database_url, timeout=CONNECT_TIMEOUT_S)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(self.sql.channel, lambda *_a: runner.poke())
                runner.poke()
                wait = 0.1
                await lost.wait()
                log.warning("postgres: the LISTEN connection dropped; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("postgres: LISTEN failed (%s: %s); retrying in %.1fs", type(exc).__name__, exc, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 5.0)
            finally:
                if conn is not None and not conn.is_closed():
                    conn.terminate()

    async def claim(self, group: Group, n: int) -> list[Claim]:
        assert self.pool is not None
        rows = await self.pool.fetch(self.sql.claim, list(group.queues), group.wildcard, n, self.cfg.lease_s, self.node)
        claims = [self._claim(r) for r in rows]
        # The best queue first, as the claim ordered them (UPDATE ... RETURNING does not keep order).
        claims.sort(key=lambda c: group.rank(c.task.queue) if c.task else 0)
        return claims

    def _claim(self, row: Any) -> Claim:
        key, attempt = str(row["id"]), row["attempts"]
        if row["was"] == "running":
            log.warning("postgres: task %s taken over after its lease ran out (attempt %d)", key, attempt)
        try:
            worker: str | None = worker_name(row["script"])
        except UsageError:
            worker = None
        policy = self.policies.of(worker)
        claim = Claim(
            key,
            attempt,
            None,
            None,
            row["id"],
            row["max_attempts"] or policy.attempts(self.cfg.max_attempts),
            policy.delay_ms(self.cfg.retry_delay_ms),
        )
        if attempt > claim.max_attempts:
            claim.bad = Outcome(
                Verdict.RETRY,
                None,
                "E_LEASE_EXPIRED",
                "its lease ran out on every attempt (the process running it died or hung)",
            )
            return claim
        try:
            payload = parse_payload(
                row["payload"] or "{}", max_bytes=self.payload.max_bytes, max_depth=self.payload.max_depth
            )
            claim.task = self.policies.apply(
                Task(
                    worker_name(row["script"]),
                    payload,
                    check_tenant(row["tenant"]),
                    float(row["timeout_ms"]) if row["timeout_ms"] else None,
                    row["queue"],
                    row["priority"] or None,
                ),
                policy,
            )
        except UsageError as exc:
            claim.bad = Outcome(Verdict.FAILED, None, exc.code, exc.message)
        return claim

    async def finish(self, claim: Claim, outcome: Outcome) -> str:
        assert self.pool is not None
        if outcome.verdict is Verdict.COMPLETED:
            fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self.done.append((claim, result_json(outcome.value), fut))
            if self.flusher is None or self.flusher.done():
                self.flusher = asyncio.create_task(self._flush())
            return await fut
        final = outcome.verdict is Verdict.FAILED
        row = await self.pool.fetchval(
            self.sql.fail,
            claim.handle,
            claim.attempt,
            outcome.code,
            outcome.message,
            final,
            claim.retry_delay_ms / 1000,
            self.cfg.retry_max_ms / 1000,
            claim.max_attempts,
        )
        return {"pending": "retry", "failed": "failed", "dead": "dead", None: "stale"}[row]

    async def _flush(self) -> None:
        """Record completions in batches: one statement for all that finished while the last one ran."""
        assert self.pool is not None
        while self.done:
            batch, self.done = self.done, []
            try:
                rows = await self.pool.fetch(
                    self.sql.complete_many,
                    [c.handle for c, _, _ in batch],
                    [c.attempt for c, _, _ in batch],
                    [r for _, r, _ in batch],
                )
            except Exception as exc:
                for _, _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            ok = {r["id"] for r in rows}
            for c, _, fut in batch:
                if not fut.done():
                    fut.set_result("completed" if c.handle in ok else "stale")

    async def extend(self, claims: list[Claim]) -> list[Claim]:
        assert self.pool is not None
        rows = await self.pool.fetch(
            self.sql.renew, [c.handle for c in claims], [c.attempt for c in claims], self.cfg.lease_s
        )
        kept = {r["id"] for r in rows}
        return [c for c in claims if c.handle not in kept]
