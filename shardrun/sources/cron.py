"""The cron process of a node ("shardrun: source cron"): fires workers' `scheduled` handlers on time.

It reads the workers directory every `scan_s` for `[triggers] crons`, and at each cron's
firing time claims the firing (cronclaims: PostgreSQL when configured, else in memory) and,
if it won, sends a `scheduled` request with Cloudflare's controller fields
`{cron, scheduledTime, type}` to its node's router, which runs it on the tenant's shard
like any other request (limits, tenant caps, pinned shard).

Policy (schedule.plan): after a pause only the latest due firing of a cron runs, and only
if it is at most `max_late_s` late; a cron first seen by this process starts from then (with
PostgreSQL, from the last firing any node claimed). A firing is not retried when its
handler fails (it is logged and counted), and a firing whose previous one is still running
on this node is skipped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from shardrun import logs
from shardrun.errors import ShardrunError
from shardrun.server.metrics import CRON_FIRINGS
from shardrun.server.procs import EXIT_BOOT_ERROR, EXIT_OK, parent_alive
from shardrun.settings import CronSettings, Settings
from shardrun.sources.cronclaims import Claims, LocalClaims, PgClaims
from shardrun.sources.schedule import Firing, next_firings, plan
from shardrun.workers import Registry

log = logs.get("shardrun.cron")

MAX_SLEEP_S = 1.0  # the loop looks at the clock at least this often (a clock step, a new worker)
REPLY_GRACE_S = 10.0
PARENT_CHECK_S = 1.0

Fire = Callable[[Firing, str], Awaitable[tuple[bool, str, str]]]  # (firing, tenant) -> (ok, code, message)


class Scheduler:
    """The crons of a workers directory and their next firings; `tick` runs what is due."""

    def __init__(
        self,
        registry: Registry,
        cfg: CronSettings,
        claims: Claims,
        fire: Fire,
        node: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.cfg = cfg
        self.claims = claims
        self.fire = fire
        self.node = node
        self.clock = clock
        self.crons: dict[tuple[str, str], str] = {}  # (worker, cron) -> tenant
        self.last: dict[tuple[str, str], float] = {}  # the latest firing handled (or the start point)
        self.due: dict[tuple[str, str], float] = {}  # the next firing time
        self.running: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.broken: dict[str, str] = {}  # worker -> the error last logged
        self.counts: Counter[str] = Counter()
        self.next_scan = 0.0

    async def scan(self) -> None:
        """Read the workers' [triggers] again (files that did not change cost a stat each)."""
        now = self.clock()
        found: dict[tuple[str, str], str] = {}
        for name in self.registry.names():
            try:
                spec = self.registry.get(name)
            except ShardrunError as exc:
                if self.broken.get(name) != exc.message:
                    self.broken[name] = exc.message
                    log.warning("cron: worker skipped", worker=name, code=exc.code, error=exc.message)
                continue
            self.broken.pop(name, None)
            for cron in spec.crons:
                found[(name, cron)] = spec.tenant
        for key in set(self.crons) - set(found):
            self.last.pop(key, None)
            self.due.pop(key, None)
        for key in set(found) - set(self.crons):
            known = await self.claims.last(*key)
            self.last[key] = known if known is not None else now
            self.due[key] = now  # planned at the next tick
        self.crons = found
        self.next_scan = now + self.cfg.scan_s

    async def tick(self) -> float:
        """Run the firings that are due; returns how long to sleep before the next tick."""
        now = self.clock()
        if now >= self.next_scan:
            await self.scan()
        due: list[tuple[tuple[str, str], Firing, str]] = []
        for key, tenant in list(self.crons.items()):
            if self.due.get(key, 0.0) > now:
                continue
            worker, cron = key
            p = plan(worker, cron, now, self.last.get(key), self.cfg.max_late_s)
            self.due[key] = next_firings(cron, now, 1)[0]
            if p.skipped:
                self.counts["skipped"] += p.skipped
                CRON_FIRINGS.labels(worker, "skipped").inc(p.skipped)
                log.warning("cron: missed firings skipped", worker=worker, cron=cron, skipped=p.skipped)
            if p.firing is None:
                continue
            self.last[key] = p.firing.scheduled
            if key in self.running:
                self.counts["overlap"] += 1
                log.warning("cron: the previous firing still runs; this one is skipped", worker=worker, cron=cron)
                continue
            due.append((key, p.firing, tenant))
        # The claims of one tick go out together (a database round trip each, the pool's size at once).
        outcomes = await asyncio.gather(*(self.claims.claim(f, self.node) for _, f, _ in due), return_exceptions=True)
        for (key, f, tenant), won in zip(due, outcomes, strict=True):
            if isinstance(won, BaseException):  # the database is down: not run here (no double runs)
                self.counts["claim_failed"] += 1
                log.warning(
                    "cron: cannot claim a firing", worker=f.worker, cron=f.cron, error=f"{type(won).__name__}: {won}"
                )
                continue
            if not won:
                self.counts["lost"] += 1
                CRON_FIRINGS.labels(f.worker, "lost").inc()
                continue
            self.counts["claimed"] += 1
            task = asyncio.create_task(self._run(key, f, tenant))
            self.running[key] = task
            task.add_done_callback(self._done)
        wake = min([*self.due.values(), self.next_scan], default=now + MAX_SLEEP_S)
        return max(0.0, min(wake - self.clock(), MAX_SLEEP_S))

    def _done(self, task: asyncio.Task[None]) -> None:
        for key, t in list(self.running.items()):
            if t is task:
                del self.running[key]

    async def _run(self, key: tuple[str, str], f: Firing, tenant: str) -> None:
        t0 = time.monotonic()
        ok, code, message = await self.fire(f, tenant)
        self.counts["completed" if ok else "failed"] += 1
        CRON_FIRINGS.labels(f.worker, "completed" if ok else "failed").inc()
        log.info(
            "cron fired",
            worker=f.worker,
            cron=f.cron,
            scheduled_time=int(f.scheduled * 1000),
            ok=ok,
            code=code or None,
            error=message or None,
            duration_ms=round((time.monotonic() - t0) * 1000, 3),
        )
        try:
            await self.claims.finish(f, ok, f"{code}: {message}" if code else "")
        except Exception as exc:
            log.warning("cron: cannot record a firing's outcome", worker=f.worker, error=str(exc))

    async def drain(self, timeout: float) -> None:
        if self.running:
            _, late = await asyncio.wait(list(self.running.values()), timeout=timeout)
            for t in late:
                t.cancel()


def make_claims(settings: Settings) -> Claims:
    url = settings.sources.cron_database_url()
    if url:
        return PgClaims(url, settings.sources.cron.table, settings.sources.cron.keep_days)
    return LocalClaims()


def run_cron(settings: Settings, endpoint: str, parent: int) -> int:
    """Body of the cron process (after fork)."""
    logs.configure("source", settings.serve.log_level)
    return asyncio.run(_main(settings, endpoint, parent))


async def _main(settings: Settings, endpoint: str, parent: int) -> int:
    from shardrun.client import AsyncClient

    client = AsyncClient(endpoint)
    wall_s = settings.limits.wall_ms / 1000 + REPLY_GRACE_S

    async def fire(f: Firing, tenant: str) -> tuple[bool, str, str]:
        try:
            reply = await client.call(f.worker, "scheduled", f.event(), timeout=wall_s, tenant=tenant)
        except TimeoutError:
            return False, "E_TIMEOUT", f"no reply within {wall_s:g}s"
        if reply.ok or reply.error is None:
            return reply.ok, "", ""
        return False, reply.error.code, reply.error.message

    registry = Registry(settings.serve.workers, settings.limits.to_limits(), settings.fetch)
    claims = make_claims(settings)
    node = f"{socket.gethostname()}:{os.getpid()}"
    sched = Scheduler(registry, settings.sources.cron, claims, fire, node)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    next_parent_check = 0.0
    try:
        try:
            await claims.start()
        except ShardrunError as exc:  # a database that cannot be used will not fix itself
            log.error("cron cannot start", code=exc.code, error=exc.message)
            return EXIT_BOOT_ERROR
        await sched.scan()
        log.info(
            "cron running",
            claims="postgres" if isinstance(claims, PgClaims) else "local",
            crons=len(sched.crons),
        )
        while not stopping.is_set():
            pause = await sched.tick()
            if time.monotonic() >= next_parent_check:
                next_parent_check = time.monotonic() + PARENT_CHECK_S
                if not parent_alive(parent):
                    break
            try:
                await asyncio.wait_for(stopping.wait(), pause)
            except TimeoutError:
                pass
        await sched.drain(settings.serve.graceful_timeout_s)
        log.info("cron stopped", **sched.counts)
        return EXIT_OK
    finally:
        await claims.close()
        await client.close()
