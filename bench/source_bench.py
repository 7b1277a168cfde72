"""Throughput of the task sources: the same tasks through the router directly, from a
PostgreSQL table, over core NATS (request-reply) and over JetStream.

    .venv/bin/python -m bench.source_bench [--tasks 5000] [--shards 2] [--capacity 32] [--json FILE]

Each scenario starts its own node (`serve` + the source, one process set at a time), sends
`--tasks` tasks of a worker that returns its payload (tenants spread over 100 values) and
times until the last one is recorded: completed row, reply, or reply + ack. The direct row
keeps `--capacity` requests in flight through the ZeroMQ client API: the ceiling a source can
reach with that many slots. Real servers on loopback (PostgreSQL 5432, NATS 4222); every
wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
import uuid
from typing import Any

import asyncpg
import nats
import orjson

from shardrun.benchmarks.served import Server
from shardrun.client import AsyncClient
from shardrun.sources.natssource import remove_streams
from shardrun.sources.pgsource import init_db

DATABASE_URL = os.environ.get("SHARDRUN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
NATS_URL = "nats://127.0.0.1:4222"
ECHO = "export default { task(p) { return p } }"
LIMIT_S = 300.0


def node(shards: int, extra: str) -> Server:
    return Server("pinned", shards, {"echo": ECHO}, extra_toml=extra)


async def direct(server: Server, n: int, window: int) -> float:
    async with AsyncClient(server.endpoint) as c:
        sem = asyncio.Semaphore(window)

        async def one(i: int) -> None:
            async with sem:
                (await c.task("echo", {"n": i}, tenant=f"t{i % 100}")).unwrap()

        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), LIMIT_S)
        return time.perf_counter() - t0


async def postgres(n: int, shards: int, capacity: int) -> float:
    table = f"bench_{uuid.uuid4().hex[:8]}"
    await init_db(DATABASE_URL, table)
    server = node(
        shards,
        f'[sources]\ncapacity = {capacity}\n[sources.postgres]\ndatabase_url = "{DATABASE_URL}"\n'
        f'table = "{table}"\npoll_ms = 100\n',
    )
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        rows = [("echo", orjson.dumps({"n": i}).decode(), f"t{i % 100}") for i in range(n)]
        t0 = time.perf_counter()
        await conn.copy_records_to_table(table, records=rows, columns=["script", "payload", "tenant"])
        end = time.monotonic() + LIMIT_S
        while await conn.fetchval(f"SELECT count(*) FROM {table} WHERE status = 'completed'") < n:
            if time.monotonic() > end:
                raise TimeoutError("postgres: tasks not done in time")
            await asyncio.sleep(0.02)
        return time.perf_counter() - t0
    finally:
        server.close()
        await conn.execute(f"DROP TABLE {table} CASCADE")
        await conn.execute(f"DROP FUNCTION IF EXISTS {table}_notify() CASCADE")
        await conn.close()


async def nats_core(n: int, shards: int, capacity: int) -> float:
    subject = f"bench{uuid.uuid4().hex[:8]}"
    server = node(
        shards, f'[sources]\ncapacity = {capacity}\n[sources.nats]\nurl = "{NATS_URL}"\nsubject = "{subject}"\n'
    )
    nc = await nats.connect(NATS_URL)
    try:
        await asyncio.sleep(0.5)  # the node's subscriptions
        sem = asyncio.Semaphore(capacity * 2)

        async def one(i: int) -> None:
            async with sem:
                r = await nc.request(
                    subject, orjson.dumps({"worker": "echo", "payload": {"n": i}, "tenant": f"t{i % 100}"}), timeout=60
                )
                assert orjson.loads(r.data)["ok"]

        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), LIMIT_S)
        return time.perf_counter() - t0
    finally:
        await nc.close()
        server.close()


async def jetstream(n: int, shards: int, capacity: int) -> float:
    subject = f"bench{uuid.uuid4().hex[:8]}"
    stream = f"S_{subject}"
    server = node(
        shards,
        f'[sources]\ncapacity = {capacity}\n[sources.nats]\nurl = "{NATS_URL}"\nsubject = "{subject}"\n'
        f'jetstream = true\nstream = "{stream}"\n',
    )
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    try:
        inbox = f"r_{subject}"
        sub = await nc.subscribe(inbox)
        await asyncio.sleep(0.5)
        t0 = time.perf_counter()
        pubs = [
            js.publish(
                subject,
                orjson.dumps({"worker": "echo", "payload": {"n": i}, "tenant": f"t{i % 100}"}),
                headers={"Reply-To": inbox},
            )
            for i in range(n)
        ]
        for k in range(0, n, 256):
            await asyncio.gather(*pubs[k : k + 256])
        for _ in range(n):
            assert orjson.loads((await sub.next_msg(timeout=60)).data)["ok"]
        return time.perf_counter() - t0
    finally:
        await remove_streams(js, stream)
        await nc.close()
        server.close()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    n, shards, cap = args.tasks, args.shards, args.capacity
    results: dict[str, float] = {}
    server = node(shards, "")
    try:
        results["direct (ZeroMQ client, same window)"] = await direct(server, n, cap)
    finally:
        server.close()
    results["postgres (db-listen)"] = await postgres(n, shards, cap)
    results["nats core (queue group, request-reply)"] = await nats_core(n, shards, cap)
    results["nats jetstream (ack after completion)"] = await jetstream(n, shards, cap)
    return {
        "tasks": n,
        "shards": shards,
        "capacity": cap,
        "machine": platform.platform(),
        "cores": os.cpu_count(),
        "seconds": results,
        "tasks_per_s": {k: n / v for k, v in results.items()},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", type=int, default=5000)
    p.add_argument("--shards", type=int, default=2)
    p.add_argument("--capacity", type=int, default=32)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    out = asyncio.run(main_async(args))
    base = next(iter(out["tasks_per_s"].values()))
    print(f"{args.tasks} tasks, {args.shards} shards, capacity {args.capacity}")
    print(f"{'source':45} {'tasks/s':>9} {'vs direct':>10}")
    for k, v in out["tasks_per_s"].items():
        print(f"{k:45} {v:9.0f} {v / base:9.0%}")
    if args.json:
        with open(args.json, "wb") as f:
            f.write(orjson.dumps(out, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
