"""The claim loops shared by every task source.

One loop per workloop group: take the group's free slots, claim at most that many tasks
(the source decides which queue first), run each through the router, record the outcome
with the source (retrying the record while its connection is down), give the slot back.
A group that found less work than it had slots waits for a wake-up from the source
(NOTIFY, a new message) or its poll interval. A separate loop keeps the claims alive
(lease renewal, JetStream in-progress acks).

The source's half is the `Source` interface: `claim`, `finish`, `extend`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

from shardrun.client import AsyncClient
from shardrun.server.metrics import TASKS
from shardrun.sources.tasks import Outcome, Task, execute
from shardrun.sources.workloops import Group

log = logging.getLogger("shardrun.source")

RECORD_BACKOFF_S = (0.05, 2.0)  # first and longest wait between tries to record an outcome


@dataclass(eq=False)
class Claim:
    """A task this node holds. `bad` is set when the task could not even be read."""

    key: str  # for logs: task id, or stream sequence
    attempt: int
    task: Task | None
    bad: Outcome | None = None
    handle: Any = None  # the source's own (a row id, a message)
    max_attempts: int = 1  # attempts before a retryable failure is dead-lettered
    retry_delay_ms: float = 0.0  # backoff before the first retry (doubles)


class Source(Protocol):
    name: str
    extend_every: float  # seconds between extend() calls

    async def claim(self, group: Group, n: int) -> list[Claim]: ...

    async def finish(self, claim: Claim, outcome: Outcome) -> str:
        """Record the outcome; returns completed | failed | retry | dead | stale."""
        ...

    async def extend(self, claims: list[Claim]) -> list[Claim]:
        """Keep the claims alive; returns those that were lost (taken over by another node)."""
        ...


class Runner:
    """Drives the groups' claim loops for one source until stopped, then drains."""

    def __init__(
        self,
        source: Source,
        groups: list[Group],
        client: AsyncClient,
        *,
        wall_ms: float,
        poll_s: float,
        graceful_s: float,
    ) -> None:
        self.source = source
        self.groups = groups
        self.client = client
        self.wall_ms = wall_ms
        self.poll_s = poll_s
        self.graceful_s = graceful_s
        self.counts: Counter[str] = Counter()
        self.inflight: set[Claim] = set()
        self.running: set[asyncio.Task[None]] = set()
        self.wake = {id(g): asyncio.Event() for g in groups}
        self.stopping = asyncio.Event()

    def poke(self) -> None:
        """Work may be waiting (a NOTIFY, a message): every group with free slots claims now."""
        for ev in self.wake.values():
            ev.set()

    async def run(self) -> dict[str, int]:
        """Claim and run until `stopping` is set; then wait for what runs (up to graceful_s)."""
        loops = [asyncio.create_task(self._group_loop(g)) for g in self.groups]
        keeper = asyncio.create_task(self._keep_claims())
        await self.stopping.wait()
        for t in loops:
            t.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        if self.running:
            log.info("%s: waiting for %d running tasks", self.source.name, len(self.running))
            _, late = await asyncio.wait(self.running, timeout=self.graceful_s)
            for t in late:
                t.cancel()
            if late:
                log.warning(
                    "%s: %d tasks still running at the stop; their claims will lapse and be taken again",
                    self.source.name,
                    len(late),
                )
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        return dict(self.counts)

    async def _group_loop(self, g: Group) -> None:
        wake = self.wake[id(g)]
        errors = 0
        while True:
            wake.clear()
            if g.free <= 0:
                await wake.wait()  # a slot came back, or work was announced
                continue
            n = g.reserve(g.free)
            try:
                claims = await self.source.claim(g, n)
                errors = 0
            except Exception as exc:
                claims = []
                errors += 1
                log.warning(
                    "%s: claim for %s failed (%s: %s); retrying", self.source.name, g.name, type(exc).__name__, exc
                )
            if len(claims) > n:  # a source bug: run them all (they are claimed), but say so
                log.error("%s: claimed %d tasks for %d slots", self.source.name, len(claims), n)
                g.busy += len(claims) - n
            g.release(max(0, n - len(claims)))
            for c in claims:
                self.counts["claimed"] += 1
                self.inflight.add(c)
                task = asyncio.create_task(self._run_one(g, c))
                self.running.add(task)
                task.add_done_callback(self.running.discard)
            if len(claims) < n:
                pause = self.poll_s if not errors else min(max(self.poll_s, 0.1) * 2**errors, 5.0)
                try:
                    await asyncio.wait_for(wake.wait(), pause)
                except TimeoutError:
                    pass

    async def _run_one(self, g: Group, c: Claim) -> None:
        try:
            outcome = c.bad if c.bad is not None else await execute(self.client, c.task, self.wall_ms)  # type: ignore[arg-type]
            if outcome.code:
                log.info("%s: task %s attempt %d: %s", self.source.name, c.key, c.attempt, outcome.reason)
            recorded = await self._record(c, outcome)
            self.counts[recorded] += 1
            TASKS.labels(self.source.name, recorded).inc()
            if recorded == "stale":
                log.warning(
                    "%s: task %s attempt %d finished after its claim was taken over: result discarded",
                    self.source.name,
                    c.key,
                    c.attempt,
                )
            elif recorded == "dead":
                log.error("%s: task %s dead-lettered: %s", self.source.name, c.key, outcome.reason)
        finally:
            self.inflight.discard(c)
            g.release()
            self.wake[id(g)].set()

    async def _record(self, c: Claim, outcome: Outcome) -> str:
        """The source's finish(), retried through connection drops (the claim's fence makes retries safe)."""
        wait = RECORD_BACKOFF_S[0]
        while True:
            try:
                return await self.source.finish(c, outcome)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "%s: recording task %s failed (%s: %s); retrying in %.2fs",
                    self.source.name,
                    c.key,
                    type(exc).__name__,
                    exc,
                    wait,
                )
                await asyncio.sleep(wait)
                wait = min(wait * 2, RECORD_BACKOFF_S[1])

    async def _keep_claims(self) -> None:
        while True:
            await asyncio.sleep(self.source.extend_every)
            if not self.inflight:
                continue
            t0 = time.monotonic()
            try:
                lost = await self.source.extend(list(self.inflight))
            except Exception as exc:
                log.warning(
                    "%s: could not extend %d claims (%s: %s)",
                    self.source.name,
                    len(self.inflight),
                    type(exc).__name__,
                    exc,
                )
                continue
            for c in lost:
                if c in self.inflight:  # (not just finished)
                    log.warning(
                        "%s: lost the claim of task %s (attempt %d): another node may run it",
                        self.source.name,
                        c.key,
                        c.attempt,
                    )
            log.debug(
                "%s: extended %d claims in %.1f ms",
                self.source.name,
                len(self.inflight),
                (time.monotonic() - t0) * 1000,
            )
