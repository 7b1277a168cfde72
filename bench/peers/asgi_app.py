"""Peer for bench/peers_bench.py: uvicorn + httptools calling a warm engine context.

    SCENARIO=hello uvicorn --factory bench.peers.asgi_app:app --http httptools --loop uvloop

One shardrun engine isolate per process, made once, with one JS function per scenario; the
request's path goes in, the JSON text comes out. The 5 ms timer is asyncio's (the bare engine
has no timers). No shardrun runtime, limits or isolation: the cost of the engine call alone.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from shardrun.engine.adapter import Isolate

JS = {
    "hello": "(path) => JSON.stringify({ path })",
    "cpu": "(path) => { let x = 0; for (let i = 0; i < 100000; i++) x = (x + i * 7) % 1000003; return JSON.stringify({ x }); }",
    "timer": "(path) => JSON.stringify({ ok: true })",
}
HEADERS = [(b"content-type", b"application/json")]


def app() -> Any:
    scenario = os.environ.get("SCENARIO", "hello")
    iso = Isolate(memory_limit=64 << 20, stack_limit=1 << 20)
    with iso:
        fn = iso.eval(JS[scenario])
    timer = scenario == "timer"

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if timer:
            await asyncio.sleep(0.005)
        with iso:
            body = fn(scope["path"]).encode()
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": body})

    return asgi
