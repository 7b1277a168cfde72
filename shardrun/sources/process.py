"""A task source's process: one per configured source, a child of the supervisor.

It is a client of its node's router (the ZeroMQ client API), like any other: every task
goes to its tenant's shard through the routing table. SIGTERM stops the claiming and lets
the running tasks finish (up to the graceful timeout); the supervisor stops the router
only after its sources are gone.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from shardrun import logs
from shardrun.client import AsyncClient
from shardrun.errors import ShardrunError
from shardrun.server.procs import EXIT_BOOT_ERROR, EXIT_OK, parent_alive
from shardrun.settings import Settings
from shardrun.sources.runner import Runner
from shardrun.sources.tasks import TaskPolicies
from shardrun.sources.workloops import from_flags
from shardrun.workers import Registry

PARENT_CHECK_S = 1.0


def make_source(settings: Settings, name: str) -> Any:
    policies = TaskPolicies(Registry(settings.serve.workers, settings.limits.to_limits(), settings.fetch))
    if name == "postgres":
        from shardrun.sources.pgsource import PgSource

        return PgSource(settings.sources.postgres, settings.payload, policies=policies)
    if name == "nats":
        from shardrun.sources.natssource import NatsSource

        return NatsSource(settings.sources.nats, settings.payload, policies)
    raise ValueError(f"unknown task source {name!r}")


def poll_seconds(settings: Settings, name: str) -> float:
    """How long a claim loop that found too little waits before it claims again (NATS claims wait themselves)."""
    return settings.sources.postgres.poll_ms / 1000 if name == "postgres" else 0.0


def run_source(settings: Settings, name: str, endpoint: str, parent: int) -> int:
    if name == "cron":  # not a task queue: its own loop (shardrun.sources.cron)
        from shardrun.sources.cron import run_cron

        return run_cron(settings, endpoint, parent)
    logs.configure("source", settings.serve.log_level)
    return asyncio.run(_main(settings, name, endpoint, parent))


async def _main(settings: Settings, name: str, endpoint: str, parent: int) -> int:
    log = logs.get("shardrun.source")
    groups = from_flags(settings.sources.workloops, settings.sources.capacity)
    client = AsyncClient(endpoint)
    source = make_source(settings, name)
    runner = Runner(
        source,
        groups,
        client,
        wall_ms=settings.limits.wall_ms,
        poll_s=poll_seconds(settings, name),
        graceful_s=settings.serve.graceful_timeout_s,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, runner.stopping.set)
    watch = asyncio.create_task(_watch_parent(parent, runner))
    try:
        try:
            await source.start(runner)
        except ShardrunError as exc:
            log.error("task source cannot start", source=name, code=exc.code, error=exc.message)
            return EXIT_BOOT_ERROR
        log.info("task source running", source=name, workloops=[g.name for g in groups])
        counts = await runner.run()
        log.info("task source stopped", source=name, **counts)
        return EXIT_OK
    finally:
        watch.cancel()
        await source.close()
        await client.close()


async def _watch_parent(parent: int, runner: Runner) -> None:
    while parent_alive(parent):
        await asyncio.sleep(PARENT_CHECK_S)
    runner.stopping.set()
