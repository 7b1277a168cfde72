"""Streams through `shardrun serve`: first byte, many SSE clients, a big download, a big upload.

    .venv/bin/python -m bench.stream_bench [--sse 1000] [--mb 100] [--upload-mb 100] [--repeat 5]

1. time to first byte: a worker streams 100 pieces 10 ms apart; the time from the request to
   the first body byte and to the end (median of --repeat);
2. --sse clients at once on one serve, each reading an event stream (one event per second) for
   a few seconds: the router's RSS before and while they are connected, events received;
3. a --mb MB download streamed in 64 KiB pieces, read as fast as the client can: the router's
   and the shard's RSS growth during it, and the throughput;
4. a --upload-mb MB request body sent as fast as the client can (Content-Length, 1 MiB writes)
   to a worker that reads it piece by piece and answers with its size: the router's and the
   shard's RSS growth during it, and the throughput (the body streams to the worker as it
   arrives, a window at a time).
Loopback only; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import time
from typing import Any

import psutil

from bench.serve_profile import roles
from shardrun.benchmarks.served import Server

PIECES = """export default { fetch() {
  let i = 0;
  const enc = new TextEncoder();
  return new Response(new ReadableStream({
    async pull(c) { if (i > 0) await new Promise((r) => setTimeout(r, 10)); if (i++ < 100) c.enqueue(enc.encode("piece " + i + "\\n")); else c.close(); },
  }));
} }"""
SSE = """export default { fetch() {
  let i = 0;
  const enc = new TextEncoder();
  return new Response(new ReadableStream({
    async pull(c) { if (i > 0) await new Promise((r) => setTimeout(r, 1000)); c.enqueue(enc.encode("data: " + i++ + "\\n\\n")); },
  }), { headers: { "content-type": "text/event-stream" } });
} }"""
BIG = """export default { fetch(req) {
  const total = Number(new URL(req.url).searchParams.get("mb")) * 1048576, piece = new Uint8Array(65536).fill(97);
  let sent = 0;
  return new Response(new ReadableStream({
    pull(c) { if (sent >= total) { c.close(); return; } sent += piece.length; c.enqueue(piece.slice()); },
  }));
} }"""

UPLOAD = """export default { async fetch(req) {
  let n = 0;
  for await (const c of req.body) n += c.length;
  return new Response(String(n));
} }"""


def request(name: str, path: str = "/") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {name}.workers.localhost\r\n\r\n".encode()


def first_byte(port: int) -> tuple[float, float]:
    """(ms to the first body byte, ms to the end) of the 100-piece stream."""
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0 = time.perf_counter()
    c.sendall(request("pieces"))
    buf, first = b"", None
    end = time.monotonic() + 10
    while not buf.endswith(b"0\r\n\r\n") and time.monotonic() < end:
        data = c.recv(65536)
        if not data:
            break
        buf += data
        if first is None and b"piece 1\n" in buf:
            first = time.perf_counter()
    done = time.perf_counter()
    c.close()
    return ((first or done) - t0) * 1000, (done - t0) * 1000


async def sse_clients(port: int, n: int, seconds: float, router: psutil.Process) -> dict[str, Any]:
    events = 0
    rss_before = router.memory_info().rss

    async def one() -> None:
        nonlocal events
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("sse"))
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                data = await asyncio.wait_for(reader.read(4096), timeout=max(0.1, end - time.monotonic()))
                if not data:
                    return
                events += data.count(b"data: ")
        except (TimeoutError, OSError):
            pass
        finally:
            writer.close()

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.sleep(seconds * 0.7)
    rss_during = router.memory_info().rss
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "clients": n,
        "events": events,
        "events_per_client": events / n,
        "router_rss_before_mb": rss_before / 2**20,
        "router_rss_during_mb": rss_during / 2**20,
        "router_rss_per_client_kb": (rss_during - rss_before) / n / 1024,
    }


def download(port: int, mb: int, procs: dict[str, psutil.Process]) -> dict[str, Any]:
    before = {k: p.memory_info().rss for k, p in procs.items()}
    peak = dict(before)
    c = socket.create_connection(("127.0.0.1", port), timeout=30)
    t0 = time.perf_counter()
    c.sendall(request("big", f"/?mb={mb}"))
    got, last_check = 0, 0.0
    end = time.monotonic() + 300
    tail = b""
    while time.monotonic() < end:
        data = c.recv(1 << 20)
        if not data:
            break
        got += len(data)
        tail = (tail + data)[-8:]
        if tail.endswith(b"0\r\n\r\n"):
            break
        now = time.monotonic()
        if now - last_check > 0.2:
            last_check = now
            for k, p in procs.items():
                peak[k] = max(peak[k], p.memory_info().rss)
    took = time.perf_counter() - t0
    c.close()
    return {
        "mb": mb,
        "seconds": took,
        "mb_per_s": got / 2**20 / took,
        **{f"{k}_rss_growth_mb": (peak[k] - before[k]) / 2**20 for k in procs},
    }


def upload(port: int, mb: int, procs: dict[str, psutil.Process]) -> dict[str, Any]:
    before = {k: p.memory_info().rss for k, p in procs.items()}
    peak = dict(before)
    size = mb << 20
    piece = b"u" * (1 << 20)
    c = socket.create_connection(("127.0.0.1", port), timeout=60)
    t0 = time.perf_counter()
    c.sendall(f"POST / HTTP/1.1\r\nHost: upload.workers.localhost\r\nContent-Length: {size}\r\n\r\n".encode())
    end, last_check = time.monotonic() + 300, 0.0
    for _ in range(mb):
        c.sendall(piece)
        now = time.monotonic()
        if now - last_check > 0.2:
            last_check = now
            for k, p in procs.items():
                peak[k] = max(peak[k], p.memory_info().rss)
        if now > end:
            break
    buf = b""
    c.settimeout(0.05)
    while b"\r\n\r\n" not in buf or not buf.endswith((str(size).encode(), b"}}")):
        if time.monotonic() > end:
            break
        try:
            data = c.recv(65536)
        except TimeoutError:
            data = None
        for k, p in procs.items():  # the whole-body path grows after the body is in
            peak[k] = max(peak[k], p.memory_info().rss)
        if data == b"":
            break
        buf += data or b""
    took = time.perf_counter() - t0
    c.close()
    return {
        "mb": mb,
        "ok": buf.startswith(b"HTTP/1.1 200") and buf.endswith(str(size).encode()),
        "answer": buf.partition(b"\r\n")[0].decode("latin-1")
        + " "
        + buf.partition(b"\r\n\r\n")[2][:120].decode("latin-1"),
        "seconds": took,
        "mb_per_s": mb / took,
        **{f"{k}_rss_growth_mb": (peak[k] - before[k]) / 2**20 for k in procs},
    }


def streams_out(server: Server, a: argparse.Namespace, procs: dict[str, psutil.Process], out: dict[str, Any]) -> None:
    """Rows 1-3: first byte, SSE clients, the download."""
    first_byte(server.http_port)  # warm
    runs = [first_byte(server.http_port) for _ in range(a.repeat)]
    out["first_byte_ms"] = statistics.median(r[0] for r in runs)
    out["stream_of_100x10ms_ms"] = statistics.median(r[1] for r in runs)
    print(
        f"first byte {out['first_byte_ms']:.1f} ms, whole stream {out['stream_of_100x10ms_ms']:.0f} ms",
        file=sys.stderr,
    )
    out["sse"] = asyncio.run(sse_clients(server.http_port, a.sse, a.sse_seconds, procs["router"]))
    from shardrun.client import Client

    with Client(server.endpoint, timeout=10) as c:
        st = c.status()
    out["sse"]["router_errors"] = st["errors"]
    print(f"sse: {out['sse']}", file=sys.stderr)
    out["download"] = download(server.http_port, a.mb, procs)
    print(f"download: {out['download']}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sse", type=int, default=1000)
    ap.add_argument("--sse-seconds", type=float, default=5.0)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--upload-mb", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only-upload", action="store_true", help="only the upload row")
    ap.add_argument("--json", help="write the figures as JSON here")
    a = ap.parse_args()
    if not 1 <= a.sse <= 20000 or not 1 <= a.mb <= 10000 or not 1 <= a.upload_mb <= 10000 or not 1 <= a.repeat <= 50:
        raise SystemExit("--sse in [1, 20000], --mb and --upload-mb in [1, 10000], --repeat in [1, 50]")
    server = Server(
        "pinned",
        1,
        {"pieces": PIECES, "sse": SSE, "big": BIG, "upload": UPLOAD},
        http_max_body_bytes=(a.upload_mb << 20) + 1,
        http_max_connections_per_ip=a.sse + 100,
        http_max_connections=a.sse + 200,
        max_inflight_per_shard=a.sse + 100,  # one tenant's SSE clients: each is a request in flight
        tenant_max_concurrency=a.sse + 100,
        tenant_max_running=a.sse + 100,
        tenant_max_share=1.0,
        extra_toml="[limits]\nwall_ms = 600000\ncpu_ms = 600000\nmemory_mb = 512\n",
    )
    out: dict[str, Any] = {}
    try:
        procs = {k: p for k, p in roles(server.proc.pid).items() if k in ("router", "shard 0")}
        procs["shard"] = procs.pop("shard 0")
        if not a.only_upload:
            streams_out(server, a, procs, out)
        out["upload"] = upload(server.http_port, a.upload_mb, procs)
        print(f"upload: {out['upload']}", file=sys.stderr)
    finally:
        server.close()
    print(json.dumps(out, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
