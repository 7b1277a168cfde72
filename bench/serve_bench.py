"""Throughput of `shardrun serve` through the ZeroMQ client API, beside a bare DEALER/ROUTER echo.

    .venv/bin/python -m bench.serve_bench [--shards 2] [--seconds 5] [--clients 2] [--window 64] [--json FILE]

Scenarios (each in the same run, so ratios are comparable on a noisy machine):
- bare: a Python ROUTER that echoes every message (batching reads), no work: the ceiling
  of Python + pyzmq + this machine for the same client loop;
- hello: `serve --shards N`, a task returning its payload, tenants spread over 100 workers;
- timer5: the seed's "Standard (5 ms)": each request awaits a 5 ms timer.
Load: `--clients` processes, each a DEALER keeping `--window` requests in flight
(closed loop) for `--seconds`. Everything on loopback; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import time
from pathlib import Path
from typing import Any

import orjson

from shardrun.benchmarks.served import free_port

HELLO = "export default { task(p) { return p } }"
TIMER5 = "export default { async task(p) { await new Promise((r) => setTimeout(r, 5)); return p } }"


def load_client(endpoint: str, workers: list[str], seconds: float, window: int, out: Any) -> None:
    """One closed-loop client process: keep `window` requests in flight for `seconds`."""
    import zmq

    from shardrun import protocol

    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    bodies = [protocol.encode_request(i, w, "task", {"n": i}) for i, w in enumerate(workers)]
    n = len(bodies)
    sent = done = errors = 0
    lat: list[float] = []
    started: dict[int, float] = {}
    codes: dict[str, int] = {}
    # warm up: one request per worker
    for frames in bodies:
        sock.send_multipart(frames)
    got_back = 0
    warm_end = time.monotonic() + 20
    while got_back < len(bodies) and time.monotonic() < warm_end:
        if sock.poll(1000):
            got_back += len(sock.recv_multipart()) - 2
    t_end = time.monotonic() + seconds
    rid = 1_000_000
    while sent < window:
        rid += 1
        f = bodies[rid % n]
        sock.send_multipart([f[0], f[1], b'{"id":%d,' % rid + f[2][f[2].index(b",") + 1 :]])
        started[rid] = time.perf_counter()
        sent += 1
    t0 = time.monotonic()
    while time.monotonic() < t_end:
        if not sock.poll(1000):
            continue
        while True:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            nxt = []
            for body in frames[2:]:
                got = int(body[6 : body.index(b",")])
                lat.append(time.perf_counter() - started.pop(got, time.perf_counter()))
                done += 1
                if b'"ok":false' in body:
                    errors += 1
                    code = orjson.loads(body)["error"]["code"]
                    codes[code] = codes.get(code, 0) + 1
                rid += 1
                f = bodies[rid % n]
                nxt.append(b'{"id":%d,' % rid + f[2][f[2].index(b",") + 1 :])
                started[rid] = time.perf_counter()
            sock.send_multipart([protocol.HEADER, protocol.REQUEST, *nxt])
    elapsed = time.monotonic() - t0
    sock.close(0)
    ctx.term()
    lat.sort()
    out.put(
        {
            "done": done,
            "errors": errors,
            "codes": codes,
            "elapsed": elapsed,
            "p50_ms": lat[len(lat) // 2] * 1000 if lat else None,
            "p99_ms": lat[int(len(lat) * 0.99)] * 1000 if lat else None,
        }
    )


def drive(endpoint: str, workers: list[str], seconds: float, clients: int, window: int) -> dict[str, Any]:
    q: Any = mp.get_context("fork").Queue()
    procs = [
        mp.get_context("fork").Process(target=load_client, args=(endpoint, workers, seconds, window, q))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    results = [q.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join(10)
    done = sum(r["done"] for r in results)
    elapsed = max(r["elapsed"] for r in results)
    codes: dict[str, int] = {}
    for r in results:
        for k, v in r["codes"].items():
            codes[k] = codes.get(k, 0) + v
    return {
        "req_per_s": done / elapsed,
        "done": done,
        "errors": sum(r["errors"] for r in results),
        "codes": codes,
        "p50_ms": max(r["p50_ms"] or 0 for r in results),
        "p99_ms": max(r["p99_ms"] or 0 for r in results),
    }


def bare_echo(endpoint: str, stop: Any) -> None:
    """A ROUTER that answers every request with a fixed reply (batching reads, like the router)."""
    import zmq

    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
    sock.bind(endpoint)
    while not stop.is_set():
        if not sock.poll(100):
            continue
        for _ in range(1000):
            try:
                ident, h, _t, body = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            rid = body[6 : body.index(b",")]
            try:
                sock.send_multipart([ident, h, b"\x03", b'{"id":' + rid + b',"ok":true,"value":1}'])
            except zmq.ZMQError:  # the client has gone (end of run)
                pass
    sock.close(0)
    ctx.term()


def run_bare(seconds: float, clients: int, window: int) -> dict[str, Any]:
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    stop = mp.get_context("fork").Event()
    p = mp.get_context("fork").Process(target=bare_echo, args=(endpoint, stop))
    p.start()
    try:
        return drive(endpoint, ["w"], seconds, clients, window)
    finally:
        stop.set()
        p.join(5)


def run_server(
    src: str, shards: int, mode: str, seconds: float, clients: int, window: int, tenants: int = 100
) -> dict[str, Any]:
    from shardrun.benchmarks.served import Server

    names = [f"w{i}" for i in range(tenants)]
    server = Server(mode, shards, {n: src for n in names}, client_endpoint=f"tcp://127.0.0.1:{free_port()}")
    try:
        return drive(server.endpoint, names, seconds, clients, window)
    finally:
        server.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    rows: dict[str, Any] = {}
    rows["bare"] = run_bare(args.seconds, args.clients, args.window)
    for mode in ("pinned", "shared", "oneshot"):
        rows[f"hello_{mode}"] = run_server(HELLO, args.shards, mode, args.seconds, args.clients, args.window)
    rows["timer5_pinned"] = run_server(TIMER5, args.shards, "pinned", args.seconds, args.clients, max(args.window, 256))
    print(
        f"# serve bench — {args.shards} shards, {args.clients} clients x {args.window} in flight, {args.seconds:g}s, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("| scenario | req/s | p50 ms | p99 ms | errors | vs bare |\n|---|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['req_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} {r['codes'] or ''} "
            f"| {r['req_per_s'] / rows['bare']['req_per_s']:.0%} |"
        )
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        Path(args.json).write_bytes(orjson.dumps({"args": vars(args), "rows": rows}, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
