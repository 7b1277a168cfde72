"""`shardrun loadtest`: closed-loop and open-loop load over HTTP or the ZeroMQ client API.

Closed loop: `concurrency` clients each send a request, wait for its answer, repeat.
Open loop: requests start at a fixed rate whatever the answers do; each latency counts from
the moment the request was due (not when it could be sent), so a stalled server shows up in
the percentiles instead of hiding (coordinated omission). Requests over `max_inflight` are
not sent and are counted as `E_CLIENT_SATURATED`. Every run is bounded by `seconds`.
Targets must be on loopback.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shardrun.client import AsyncClient

LOOPBACK = ("127.", "localhost", "[::1]", "::1")


@dataclass
class Stats:
    """What a run measured."""

    latencies: list[float] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(len(lat) * p))] * 1000, 3) if lat else None

        return {
            "requests": len(lat),
            "req_per_s": round(len(lat) / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": pct(0.50),
            "p90_ms": pct(0.90),
            "p99_ms": pct(0.99),
            "max_ms": round(lat[-1] * 1000, 3) if lat else None,
            "codes": dict(self.codes),
            "seconds": round(self.elapsed, 3),
        }


def check_loopback(target: str) -> None:
    """Refuse targets that are not on this machine."""
    host = urlsplit(target).hostname or target.split("://", 1)[-1].split(":", 1)[0]
    if target.startswith("ipc://"):
        return
    if not (host or "").startswith(LOOPBACK):
        raise ValueError(f"load tests only target loopback addresses, not {host!r}")


class _Http:
    """Keep-alive HTTP/1.1 connections to one server, one request at a time each."""

    def __init__(self, base: str) -> None:
        u = urlsplit(base)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, path: str) -> str:
        conn = self.idle.pop() if self.idle else await asyncio.open_connection(self.host, self.port)
        reader, writer = conn
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1].decode()
        length, chunked = 0, False
        for line in head.split(b"\r\n"):
            low = line.lower()
            if low.startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
            elif low.startswith(b"transfer-encoding:") and b"chunked" in low:
                chunked = True
        body = await _read_chunked(reader) if chunked else await reader.readexactly(length)
        if b"connection: close" in head.lower():
            writer.close()
        else:
            self.idle.append(conn)
        return status if status.startswith("2") else f"{status} {_code(body)}"

    async def close(self) -> None:
        for _, w in self.idle:
            w.close()
        for _, w in self.idle:
            try:
                await w.wait_closed()
            except OSError:
                pass
        self.idle = []


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # (no trailers expected)
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _code(body: bytes) -> str:
    import orjson

    try:
        return str(orjson.loads(body)["error"]["code"])
    except Exception:
        return ""


async def _one(send: Callable[[str], Any], worker: str, stats: Stats, due: float) -> None:
    try:
        code = await send(worker)
    except Exception as exc:
        code = type(exc).__name__
    stats.latencies.append(time.perf_counter() - due)
    stats.codes[code] += 1


async def run(
    target: str,
    workers: list[str],
    *,
    mode: str = "closed",
    concurrency: int = 64,
    rate: float = 1000.0,
    seconds: float = 10.0,
    max_inflight: int = 10_000,
    kind: str = "fetch",
    progress: Callable[[float], None] = lambda _: None,
) -> Stats:
    """One load run against `target` (http://HOST:PORT or a ZeroMQ endpoint)."""
    check_loopback(target)
    stats = Stats()
    if target.startswith("http://"):
        http = _Http(target)

        async def send(worker: str) -> str:
            return await http.get(f"/w/{worker}/")

        closer: Callable[[], Any] = http.close
    else:
        zc = AsyncClient(target, timeout=max(30.0, seconds))

        async def send(worker: str) -> str:
            r = await (zc.fetch(worker, "GET", "/") if kind == "fetch" else zc.task(worker, {}))
            return "ok" if r.ok else (r.error.code if r.error else "error")

        closer = zc.close
    t0 = time.perf_counter()
    end = t0 + seconds
    n = len(workers)
    try:
        if mode == "closed":

            async def loop(i: int) -> None:
                k = i
                while time.perf_counter() < end:
                    await _one(send, workers[k % n], stats, time.perf_counter())
                    k += concurrency

            async def tick() -> None:
                while time.perf_counter() < end:
                    progress(min(1.0, (time.perf_counter() - t0) / seconds))
                    await asyncio.sleep(0.25)

            await asyncio.gather(tick(), *(loop(i) for i in range(concurrency)))
        else:
            tasks: set[asyncio.Task[None]] = set()
            interval, i = 1.0 / rate, 0
            while True:
                due = t0 + i * interval
                if due >= end:
                    break
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if len(tasks) >= max_inflight:
                    stats.codes["E_CLIENT_SATURATED"] += 1
                else:
                    task = asyncio.create_task(_one(send, workers[i % n], stats, due))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                i += 1
                if i % 256 == 0:
                    progress(min(1.0, (time.perf_counter() - t0) / seconds))
            if tasks:
                await asyncio.wait(tasks, timeout=30)
        stats.elapsed = time.perf_counter() - t0
        return stats
    finally:
        res = closer()
        if asyncio.iscoroutine(res):
            await res
