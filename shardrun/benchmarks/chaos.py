"""`shardrun chaos`: a fault storm against a real server, judged by an oracle.

Every tenant has its own worker whose answer (and console line) carries a per-tenant secret.
Mixed into the normal requests are faults: infinite loops, memory and stack bombs, promises
that never resolve, scripts that throw at their top level, native loops that make the watchdog
replace their shard, and SIGKILLs of shard processes. The oracle checks that:

- every request got its own answer, or an explicit error, within its deadline + 1 s
  (0 lost, 0 hung);
- a normal request's answer is its own tenant's secret, and no secret appears in another
  tenant's answer, error or console line (0 leaks);
- a fault got the error its fault calls for; a normal request failed only because its shard
  was killed under it (E_SHARD_LOST, reported as collateral, not a violation);
- shards came back after each kill (respawn times), and no process passed its RSS ceiling.

Loopback and ipc only; bounded in time (`max_seconds`).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
import psutil

from shardrun.benchmarks.served import Server
from shardrun.client import AsyncClient

WALL_MS = 2000
WAIT_MS = 1000  # how long a request may wait for a shard (one that is being replaced) before E_OVERLOADED
LIMITS = f"[limits]\ncpu_ms = 100\nwall_ms = {WALL_MS}\nmemory_mb = 32\ngrace_ms = 100\n"
TENANT_WORKER = """export default {
  task(p, env) { console.log("serving", env.SECRET); return { tenant: env.TENANT, secret: env.SECRET, n: p.n }; },
};"""
FAULTS: dict[str, tuple[str, frozenset[str]]] = {  # kind: (worker source, the codes it may end with)
    "loop": ("export default { task() { while (true) {} } };", frozenset({"E_CPU_LIMIT"})),
    "oom": (
        "export default { task() { const a = []; for (;;) a.push([1, 2, 3]); } };",
        frozenset({"E_OOM", "E_CPU_LIMIT"}),
    ),  # (on a busy machine the CPU budget may run out first)
    "stack": ("export default { task() { const f = (n) => f(n + 1); return f(0); } };", frozenset({"E_STACK"})),
    "never": ("export default { task() { return new Promise(() => {}); } };", frozenset({"E_NEVER_RESPONDS"})),
    "poison": ("throw new Error('poison at the top level'); export default {};", frozenset({"E_SCRIPT"})),
    "native": (
        "export default { task() { const a = new Array(1e6).fill(0); for (let i = 0; i < 1e5; i++) a.indexOf(1); } };",
        frozenset({"E_CPU_LIMIT"}),
    ),
}
COLLATERAL = frozenset({"E_SHARD_LOST", "E_OVERLOADED"})  # its shard was killed under it, or was being replaced
SECRET = re.compile(r"sk[0-9a-f]{24}")


@dataclass
class Report:
    requests: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    kills: int = 0
    respawn_s: list[float] = field(default_factory=list)
    rss_mb: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.violations


def _plan(requests: int, tenants: int, faults: int, kills: int, rng: random.Random) -> list[tuple[str, Any]]:
    """The schedule: ("req", tenant index) | ("fault", kind) | ("kill", None), shuffled."""
    kinds = list(FAULTS)
    plan: list[tuple[str, Any]] = [("fault", kinds[i % len(kinds)]) for i in range(faults - kills)]
    plan += [("kill", None)] * kills
    plan += [("req", rng.randrange(tenants)) for _ in range(requests - len(plan))]
    rng.shuffle(plan)
    return plan


def _workers(tenants: int, secrets: list[str]) -> dict[str, str]:
    files: dict[str, str] = {}
    for i in range(tenants):
        name = f"t{i:04d}"
        files[f"{name}/index.js"] = TENANT_WORKER
        idem = "idempotent = true\n" if i % 2 else ""  # half may be retried after a shard dies under them
        files[f"{name}/worker.toml"] = (
            f'tenant = "{name}"\n{idem}[env]\nTENANT = "{name}"\n[secrets]\nSECRET = "{secrets[i]}"\n'
        )
    for kind, (src, _) in FAULTS.items():
        files[f"fault-{kind}/index.js"] = src
        files[f"fault-{kind}/worker.toml"] = f'tenant = "fault-{kind}"\n'
    return files


def run_chaos(
    *,
    requests: int = 20_000,
    tenants: int = 1_000,
    faults: int = 200,
    kills: int = 10,
    shards: int = 2,
    concurrency: int = 64,
    seed: int = 1,
    max_seconds: float = 600,
    shard_rss_mb: float = 512,
    router_rss_mb: float = 256,
    progress: Any = None,
) -> Report:
    rng = random.Random(seed)
    secrets = [f"sk{rng.getrandbits(96):024x}" for _ in range(tenants)]
    owner = {s: f"t{i:04d}" for i, s in enumerate(secrets)}
    server = Server(
        "pinned", shards, _workers(tenants, secrets), extra_toml=LIMITS, http_enabled=False, wait_timeout_ms=WAIT_MS
    )
    report = Report(requests=requests)
    try:
        t0 = time.monotonic()
        asyncio.run(
            _storm(
                server,
                _plan(requests, tenants, faults, kills, rng),
                secrets,
                owner,
                report,
                concurrency,
                t0 + max_seconds,
                shard_rss_mb,
                router_rss_mb,
                progress,
            )
        )
        report.seconds = time.monotonic() - t0
        server.stop()
        _check_logs((server.dir / "serve.log").read_text(errors="replace"), owner, report)
    finally:
        server.close()
    return report


async def _storm(
    server: Server,
    plan: list[tuple[str, Any]],
    secrets: list[str],
    owner: dict[str, str],
    report: Report,
    concurrency: int,
    end: float,
    shard_rss_mb: float,
    router_rss_mb: float,
    progress: Any,
) -> None:
    client = AsyncClient(server.endpoint, timeout=60)
    sem = asyncio.Semaphore(concurrency)
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_rss(server.proc.pid, report, stop))
    done = 0

    async def one(i: int, what: str, arg: Any) -> None:
        nonlocal done
        async with sem:
            if time.monotonic() > end:
                report.outcomes["not sent (time bound)"] += 1
                return
            if what == "kill":
                await _kill(server, client, report)
            else:
                await _request(client, i, what, arg, secrets, owner, report)
            done += 1
            if progress is not None and done % 200 == 0:
                progress(done / len(plan))

    try:
        await asyncio.gather(*(one(i, w, a) for i, (w, a) in enumerate(plan)))
    finally:
        stop.set()
        await watcher
        await client.close()
    for role, mb in report.rss_mb.items():
        ceiling = shard_rss_mb if role.startswith("shard") else router_rss_mb
        if mb > ceiling:
            report.violations.append(f"RSS of the {role} reached {mb:.0f} MB, over its ceiling of {ceiling:.0f} MB")


async def _request(
    client: AsyncClient, i: int, what: str, arg: Any, secrets: list[str], owner: dict[str, str], report: Report
) -> None:
    worker = f"t{arg:04d}" if what == "req" else f"fault-{arg}"
    limit = (WAIT_MS + WALL_MS) / 1000 + 1.0  # its deadline (queue wait + wall limit) + 1 s
    t0 = time.monotonic()
    try:
        r = await asyncio.wait_for(client.call(worker, "task", {"n": i}, timeout=limit + 30), limit)
    except TimeoutError:
        report.violations.append(f"request {i} ({worker}) got no answer within {limit:g} s (hung or lost)")
        report.outcomes["hung"] += 1
        return
    text = orjson.dumps({"v": r.value, "e": r.error.message + r.error.stack if r.error else None}).decode()
    for s in SECRET.findall(text):
        if owner.get(s) != worker:
            report.violations.append(f"request {i} ({worker}) carried {owner.get(s, 'an unknown tenant')}'s secret")
    if what == "req":
        if r.ok:
            good = r.value == {"tenant": worker, "secret": secrets[arg], "n": i}
            report.outcomes["ok" if good else "wrong answer"] += 1
            if not good:
                report.violations.append(f"request {i} ({worker}) got a wrong answer: {text[:200]}")
        elif r.error and r.error.code in COLLATERAL:
            report.outcomes[f"collateral {r.error.code}" + (" (idempotent worker)" if arg % 2 else "")] += 1
        else:
            report.outcomes[f"unexpected {r.error.code if r.error else '?'}"] += 1
            report.violations.append(f"request {i} ({worker}) failed: {r.error}")
    else:
        code = r.error.code if r.error else "ok"
        if code in COLLATERAL:  # a shard killed under it (by a kill or another fault)
            report.outcomes[f"collateral {code}"] += 1
        elif code in FAULTS[arg][1]:
            report.outcomes[f"fault {arg} -> {code}"] += 1
        else:
            report.outcomes[f"fault {arg} -> unexpected {code}"] += 1
            report.violations.append(f"fault {arg} (request {i}) ended with {code} after {time.monotonic() - t0:.2f}s")


async def _kill(server: Server, client: AsyncClient, report: Report) -> None:
    """SIGKILL a random shard, then time until its slot is served by a new ready process."""
    from shardrun.client import Client

    def status() -> dict[str, Any]:
        with Client(server.endpoint, timeout=5) as c:
            return c.status(timeout=5)

    shards = (await asyncio.to_thread(status))["shards"]
    victim = random.choice([s for s in shards if s.get("pid")])
    t0 = time.monotonic()
    try:
        os.kill(victim["pid"], signal.SIGKILL)
    except ProcessLookupError:
        return
    report.kills += 1
    while time.monotonic() - t0 < 10:
        await asyncio.sleep(0.02)
        now = (await asyncio.to_thread(status))["shards"][victim["slot"]]
        if now.get("pid") not in (None, victim["pid"]) and now.get("ready"):
            report.respawn_s.append(time.monotonic() - t0)
            return
    report.violations.append(f"shard {victim['slot']} was not back within 10 s of its SIGKILL")


async def _watch_rss(pid: int, report: Report, stop: asyncio.Event) -> None:
    root = psutil.Process(pid)
    while not stop.is_set():
        try:
            for p in root.children(recursive=True):
                try:
                    role = " ".join(p.cmdline()).strip().removeprefix("shardrun: ").split(" (")[0].strip()
                    role = "shard" if role.startswith("shard") else role
                    if role not in ("shard", "router", "source"):
                        continue
                    report.rss_mb[role] = max(report.rss_mb.get(role, 0.0), p.memory_info().rss / 2**20)
                except psutil.Error:
                    pass
        except psutil.Error:
            return
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except TimeoutError:
            pass


def _check_logs(log: str, owner: dict[str, str], report: Report) -> None:
    """Console lines carry their tenant: a secret in another tenant's line is a leak."""
    lines = 0
    for line in log.splitlines():
        if '"console"' not in line or not line.startswith("{"):
            continue
        rec = orjson.loads(line)
        lines += 1
        for s in SECRET.findall(str(rec.get("text", ""))):
            if owner.get(s) != rec.get("tenant"):
                report.violations.append(f"console line of {rec.get('tenant')} carried {owner.get(s)}'s secret")
    report.outcomes["console lines checked"] = lines
