"""Durable tasks under faults: numbered tasks through PostgreSQL and through NATS JetStream while
shards are SIGKILLed and the nodes' connections to the database / NATS are cut.

    .venv/bin/python -m bench.durable_chaos [--tasks 30000] [--poison 30] [--fault-every 0.1] [--only postgres|jetstream]

Two nodes (two `serve` processes with the source), each reaching the server through its own
cuttable TCP proxy. Every `--fault-every` seconds one fault: a SIGKILL of a random shard of a
random node, or (every third) a cut of every connection of one node's proxy. Checks, per source:
0 missing (every numbered task completed with its own result), 0 duplicate completions (the
nodes' completion counters add up to the number of tasks completed), every poison task
dead-lettered, and at least `--min-faults` faults injected. Exit 1 if any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import time
import uuid
from typing import Any

import asyncpg
import nats
import orjson
import psutil

from shardrun.benchmarks.faultproxy import TcpProxy
from shardrun.benchmarks.served import Server
from shardrun.sources.natssource import remove_streams
from shardrun.sources.pgsource import init_db

DATABASE_URL = os.environ.get("SHARDRUN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
NATS_URL = "nats://127.0.0.1:4222"
WORKERS = {
    "num": "export default { async task(p) { await new Promise(r => setTimeout(r, 2)); return { n: p.n }; } }",
    "poison": "export default { task(p) { throw new Error('poison ' + p.n); } }",
}


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


def _with_port(url: str, port: int) -> str:
    head, tail = url.rsplit(":", 1)
    rest = tail.split("/", 1)
    return f"{head}:{port}" + (f"/{rest[1]}" if len(rest) > 1 else "")


def _node(source: str, cfg: dict[str, Any]) -> Server:
    table = "".join(f"{k} = {orjson.dumps(v).decode()}\n" for k, v in cfg.items())
    return Server(
        "pinned", 2, WORKERS, http_enabled=False, extra_toml=f"[sources]\ncapacity = 16\n[sources.{source}]\n{table}"
    )


def _counts(server: Server) -> dict[str, int]:
    server.stop()
    for line in reversed((server.dir / "serve.log").read_text(errors="replace").splitlines()):
        if '"task source stopped"' in line:
            return orjson.loads(line)
    return {}


class Faults:
    def __init__(self, nodes: list[Server], proxies: list[TcpProxy], every: float) -> None:
        self.nodes, self.proxies, self.every = nodes, proxies, every
        self.kills = self.cuts = 0
        self.stop = False

    async def run(self) -> None:
        i = 0
        while not self.stop:
            await asyncio.sleep(self.every)
            i += 1
            k = random.randrange(len(self.nodes))
            if i % 3 == 0:
                self.proxies[k].cut()
                self.cuts += 1
                continue
            shards = [p for p in psutil.Process(self.nodes[k].proc.pid).children(recursive=True) if _is_shard(p)]
            if shards:
                try:
                    os.kill(random.choice(shards).pid, signal.SIGKILL)
                    self.kills += 1
                except ProcessLookupError:
                    pass


def _is_shard(p: psutil.Process) -> bool:
    """A live shard process (one killed a moment ago may be a zombie, or gone, by now)."""
    try:
        return " ".join(p.cmdline()).startswith("shardrun: shard")
    except psutil.Error:
        return False


async def postgres(n: int, poison: int, every: float) -> dict[str, Any]:
    table = f"chaos_{uuid.uuid4().hex[:8]}"
    await init_db(DATABASE_URL, table)
    proxies = [TcpProxy("127.0.0.1", _port(DATABASE_URL)) for _ in range(2)]
    nodes = [
        _node(
            "postgres",
            {
                "database_url": _with_port(DATABASE_URL, p.port),
                "table": table,
                "poll_ms": 200,
                "lease_s": 3,
                "retry_delay_ms": 50,
                "max_attempts": 1000,
            },
        )
        for p in proxies
    ]
    conn = await asyncpg.connect(DATABASE_URL)
    faults = Faults(nodes, proxies, every)
    t0 = time.monotonic()
    try:
        rows = [("num", orjson.dumps({"n": i}).decode(), None) for i in range(n)]
        rows += [("poison", orjson.dumps({"n": i}).decode(), 2) for i in range(poison)]
        await conn.copy_records_to_table(table, records=rows, columns=["script", "payload", "max_attempts"])
        injector = asyncio.create_task(faults.run())
        end = time.monotonic() + 900
        while time.monotonic() < end:
            left = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE status IN ('pending', 'running')")
            if left == 0:
                break
            await asyncio.sleep(0.5)
        faults.stop = True
        await injector
        seconds = time.monotonic() - t0
        bad = await conn.fetchval(f"""SELECT count(*) FROM {table} WHERE script = 'num'
                                      AND (status <> 'completed' OR (result->'n') <> (payload->'n'))""")
        dead = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE script = 'poison' AND status = 'dead'")
        completed = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE status = 'completed'")
    finally:
        counts = [_counts(s) for s in nodes]
        for s in nodes:
            s.close()
        for p in proxies:
            p.close()
        await conn.execute(f"DROP TABLE {table} CASCADE")
        await conn.execute(f"DROP FUNCTION IF EXISTS {table}_notify() CASCADE")
        await conn.close()
    recorded = sum(c.get("completed", 0) for c in counts)
    return {
        "source": "postgres",
        "tasks": n,
        "poison": poison,
        "seconds": round(seconds, 1),
        "kills": faults.kills,
        "cuts": faults.cuts,
        "missing_or_wrong": bad,
        "dead_lettered": dead,
        "completed": completed,
        "completions_recorded_by_nodes": recorded,
        "duplicates": recorded - completed,
        "retries": sum(c.get("retry", 0) for c in counts),
        "stale": sum(c.get("stale", 0) for c in counts),
    }


async def jetstream(n: int, poison: int, every: float) -> dict[str, Any]:
    subject = f"chaos{uuid.uuid4().hex[:8]}"
    stream = f"S_{subject}"
    proxies = [TcpProxy("127.0.0.1", _port(NATS_URL)) for _ in range(2)]
    nodes = [
        _node(
            "nats",
            {
                "url": f"nats://127.0.0.1:{p.port}",
                "subject": subject,
                "jetstream": True,
                "stream": stream,
                "ack_wait_s": 3,
                "max_deliver": 1000,
                "retry_delay_ms": 50,
            },
        )
        for p in proxies
    ]
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    inbox = f"r_{subject}"
    sub = await nc.subscribe(inbox)
    faults = Faults(nodes, proxies, every)
    t0 = time.monotonic()
    seen: dict[int, int] = {}
    try:
        await asyncio.sleep(1.0)
        for k in range(0, n, 500):
            await asyncio.gather(
                *(
                    js.publish(
                        subject, orjson.dumps({"worker": "num", "payload": {"n": i}}), headers={"Reply-To": inbox}
                    )
                    for i in range(k, min(n, k + 500))
                )
            )
        injector = asyncio.create_task(faults.run())
        end = time.monotonic() + 900
        while len(seen) < n and time.monotonic() < end:
            try:
                r = orjson.loads((await sub.next_msg(timeout=30)).data)
            except nats.errors.TimeoutError:
                break
            if r.get("ok"):
                seen[r["value"]["n"]] = seen.get(r["value"]["n"], 0) + 1
        faults.stop = True
        await injector
        seconds = time.monotonic() - t0
        await asyncio.sleep(4)  # late duplicates, if any, arrive now
        while True:
            try:
                r = orjson.loads((await sub.next_msg(timeout=0.5)).data)
                if r.get("ok"):
                    seen[r["value"]["n"]] = seen.get(r["value"]["n"], 0) + 1
            except nats.errors.TimeoutError:
                break
        left = (await js.stream_info(stream)).state.messages
    finally:
        for s in nodes:
            s.close()
        for p in proxies:
            p.close()
        await remove_streams(js, stream)
        await nc.close()
    return {
        "source": "jetstream",
        "tasks": n,
        "seconds": round(seconds, 1),
        "kills": faults.kills,
        "cuts": faults.cuts,
        "missing_or_wrong": n - len(seen),
        "duplicates": sum(c - 1 for c in seen.values()),
        "left_in_stream": left,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", type=int, default=30_000)
    p.add_argument("--poison", type=int, default=30)
    p.add_argument("--fault-every", type=float, default=0.1)
    p.add_argument("--min-faults", type=int, default=300)
    p.add_argument("--only", choices=["postgres", "jetstream"], default=None)
    a = p.parse_args()
    results = []
    if a.only in (None, "postgres"):
        results.append(asyncio.run(postgres(a.tasks, a.poison, a.fault_every)))
    if a.only in (None, "jetstream"):
        results.append(asyncio.run(jetstream(a.tasks, a.poison, a.fault_every)))
    failed = False
    for r in results:
        print(orjson.dumps(r).decode())
        faults = r["kills"] + r["cuts"]
        ok = (
            r["missing_or_wrong"] == 0
            and r["duplicates"] == 0
            and faults >= a.min_faults
            and r.get("dead_lettered", a.poison) == a.poison
        )
        print(f"{r['source']}: {'PASS' if ok else 'FAIL'} ({faults} faults)")
        failed |= not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
