"""Python clients of the router's ZeroMQ API: `Client` (blocking) and `AsyncClient` (asyncio).

Both keep many requests in flight on one DEALER socket; replies are matched by id.

`Client` notices a router that went away: when its connection closes (a zmq socket
monitor) or when, with requests in flight, the router stays silent for a heartbeat and
then does not answer a ping (`{"admin": "status"}`) within two more, each request in
flight gets an `E_ROUTER_LOST` reply at once (it may or may not have run). The socket
reconnects by itself: requests sent afterwards go to the router that takes its place.

A fetch's request body goes whole, inside the request (so within one protocol message); only
the HTTP front door streams request bodies to workers as they arrive (server/bodies.py).
A streamed reply can be read as it comes with `Client.stream()`.

    with Client("tcp://127.0.0.1:7700") as c:
        c.task("hello", {"name": "x"}).value
        c.fetch("hello", "GET", "/path").value.body
"""

from __future__ import annotations

import base64
import itertools
import math
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
import zmq

from shardrun import protocol
from shardrun.errors import ErrorInfo, error
from shardrun.runtime.calls import HttpRequest, HttpResponse

if TYPE_CHECKING:
    import asyncio

DEFAULT_ENDPOINT = "tcp://127.0.0.1:7700"
DEFAULT_DOMAIN = "workers.localhost"
HEARTBEAT_S = 1.0  # with requests in flight, ping a router silent this long; lost after two more unanswered


@dataclass
class Reply:
    """A request's outcome as the router answered it."""

    id: int
    ok: bool
    value: Any = None
    error: ErrorInfo | None = None
    shard: int | None = None
    cpu_ms: float | None = None
    wall_ms: float | None = None
    logs: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def from_body(cls, body: dict[str, Any], kind: str | None) -> Reply:
        err = body.get("error")
        value = body.get("value")
        if body.get("ok") and kind == "fetch" and isinstance(value, dict):
            value = HttpResponse.from_js(value)
        return cls(
            body.get("id", -1),
            bool(body.get("ok")),
            value,
            ErrorInfo(
                err.get("code", "E_INTERNAL"), err.get("message", ""), err.get("name", "Error"), err.get("stack", "")
            )
            if isinstance(err, dict)
            else None,
            body.get("shard"),
            body.get("cpu_ms"),
            body.get("wall_ms"),
            [tuple(x) for x in body.get("logs", [])],
        )

    def unwrap(self) -> Any:
        """The value, or raise the error as a ShardrunError."""
        if not self.ok:
            assert self.error is not None
            raise error(self.error.code, self.error.message, stack=self.error.stack)
        return self.value


def _fetch_arg(
    worker: str, method: str, url: str, headers: list[tuple[str, str]] | dict[str, str] | None, body: bytes | str | None
) -> dict[str, Any]:
    if url.startswith("/"):
        url = f"https://{worker}.{DEFAULT_DOMAIN}{url}"
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    data = body.encode() if isinstance(body, str) else body
    return HttpRequest(method.upper(), url, pairs, data).to_js()


_MONITORS = itertools.count(1)


def _dealer(ctx: Any) -> Any:
    """A DEALER for the router, not connected yet: no linger (a closed client drops what it has not
    sent), no HWM."""
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, 0)
    sock.setsockopt(zmq.RCVHWM, 0)
    return sock


def _encode(rid: int, worker: str, kind: str, arg: Any, tenant: str | None = None, **extra: Any) -> list[bytes]:
    return protocol.encode_request(rid, worker, kind, arg, **({"tenant": tenant} if tenant else {}), **extra)


class Client:
    """Blocking client; `send`/`recv` for many requests in flight, `call` for one."""

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, timeout: float = 60.0, heartbeat: float = HEARTBEAT_S) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.heartbeat = heartbeat
        self._ctx = zmq.Context()
        self._sock = _dealer(self._ctx)
        # The monitor first, then the connection: a CONNECTED event before the monitor existed
        # would be missed, and the client would never know it is connected (nor notice a loss).
        # (an address of its own: pyzmq's default, from the socket's fd, can still be bound by the
        # monitor of a closed client whose fd this socket reuses)
        self._monitor = self._sock.get_monitor_socket(
            zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED, addr=f"inproc://shardrun.client.monitor.{next(_MONITORS)}"
        )
        self._sock.connect(endpoint)
        self._poller = zmq.Poller()
        self._poller.register(self._sock, zmq.POLLIN)
        self._poller.register(self._monitor, zmq.POLLIN)
        self._ids = itertools.count(1)
        self._kinds: dict[int, str | None] = {}  # requests in flight -> their kind
        self._early: dict[int, Reply] = {}
        self._batch: list[Reply] = []  # replies that came in one message, not yet returned
        self._parts: dict[int, list[dict[str, Any]]] = {}  # streamed requests -> their reply bodies so far
        self._connected = False
        self._heard = time.monotonic()  # the router's last message (or our connection to it)
        self._ping: tuple[int, float] | None = None

    def send(self, worker: str, kind: str, arg: Any, tenant: str | None = None) -> int:
        """Send a request; returns its id. `tenant` overrides the worker's own (trusted API)."""
        rid = next(self._ids)
        return self._send(rid, _encode(rid, worker, kind, arg, tenant), kind)

    def _send(self, rid: int, frames: list[bytes], kind: str | None) -> int:
        self._watch()  # a router lost before this request fails the earlier ones only
        if not self._kinds:
            self._heard = max(self._heard, time.monotonic())  # silence counts from the first request in flight
        self._kinds[rid] = kind
        self._sock.send_multipart(frames)
        return rid

    def recv(self, timeout: float | None = None) -> Reply:
        """The next reply to arrive (any request)."""
        if self._early:
            return self._early.pop(next(iter(self._early)))
        return self._recv(self.timeout if timeout is None else timeout)

    def _recv(self, timeout: float) -> Reply:
        end = time.monotonic() + timeout
        while not self._batch:
            self._watch()
            now = time.monotonic()
            wait = min(end - now, self._liveness(now))
            if self._batch:
                break
            if self._sock in dict(self._poller.poll(math.ceil(max(0.0, wait) * 1000))):
                self._read()
            elif time.monotonic() >= end:
                raise TimeoutError(f"no reply within {timeout:g}s")
        return self._batch.pop(0)

    def _read(self) -> None:
        while True:
            try:
                frames = self._sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self._heard, self._ping = time.monotonic(), None
            for msg in protocol.decode_all(frames):
                if isinstance(msg, protocol.ProtocolError):
                    continue
                rid = msg.body.get("id")
                if isinstance(rid, int) and rid in self._parts:  # a streamed request: stream() reads it
                    self._parts[rid].append(msg.body)
                    if msg.body.get("part") not in ("h", "c"):
                        self._kinds.pop(rid, None)
                elif isinstance(rid, int) and rid in self._kinds:  # not a ping's, nor one given up on
                    self._batch.append(Reply.from_body(msg.body, self._kinds.pop(rid)))

    def _watch(self) -> None:
        """Read the socket monitor: a closed connection loses every request in flight."""
        while True:
            try:
                event = _monitor_event(self._monitor)
            except zmq.Again:
                return
            if event == zmq.EVENT_CONNECTED:
                self._connected, self._heard = True, time.monotonic()
            elif event == zmq.EVENT_DISCONNECTED:
                self._connected = False
                self._lose(f"the connection to the router at {self.endpoint} closed")

    def _liveness(self, now: float) -> float:
        """Ping a silent router, declare it lost when it stays silent; how long to wait before looking again."""
        if not self._kinds or not self._connected:
            return self.heartbeat
        if self._ping is None:
            if now - self._heard < self.heartbeat:
                return self.heartbeat - (now - self._heard)
            rid = next(self._ids)
            self._sock.send_multipart(protocol.encode(protocol.REQUEST, {"id": rid, "admin": "status"}))
            self._ping = (rid, now)
            return 2 * self.heartbeat
        waited = now - self._ping[1]
        if waited >= 2 * self.heartbeat:
            self._lose(f"the router at {self.endpoint} did not answer for {now - self._heard:.1f}s")
            return 0.0
        return 2 * self.heartbeat - waited

    def _lose(self, why: str) -> None:
        for rid in self._kinds:
            if rid in self._parts:
                err = {"code": "E_ROUTER_LOST", "message": f"{why}; the response is incomplete"}
                self._parts[rid].append({"id": rid, "ok": False, "error": err})
                continue
            self._batch.append(
                Reply(rid, False, error=ErrorInfo("E_ROUTER_LOST", f"{why}; the request may or may not have run"))
            )
        self._kinds.clear()
        self._ping = None

    def wait(self, rid: int, timeout: float | None = None) -> Reply:
        """The reply of one request (replies to others are kept for recv/wait)."""
        if rid in self._early:
            return self._early.pop(rid)
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            r = self._recv(max(0.0, end - time.monotonic()))
            if r.id == rid:
                return r
            self._early[r.id] = r

    def call(self, worker: str, kind: str, arg: Any, timeout: float | None = None, tenant: str | None = None) -> Reply:
        return self.wait(self.send(worker, kind, arg, tenant), timeout)

    def task(self, worker: str, payload: Any = None, timeout: float | None = None, tenant: str | None = None) -> Reply:
        return self.call(worker, "task", {} if payload is None else payload, timeout, tenant)

    def fetch(
        self,
        worker: str,
        method: str = "GET",
        url: str = "/",
        headers: Any = None,
        body: bytes | str | None = None,
        timeout: float | None = None,
    ) -> Reply:
        return self.call(worker, "fetch", _fetch_arg(worker, method, url, headers, body), timeout)

    def stream(
        self,
        worker: str,
        method: str = "GET",
        url: str = "/",
        headers: Any = None,
        body: bytes | str | None = None,
        timeout: float | None = None,
    ) -> Iterator[HttpResponse | bytes]:
        """A fetch whose response body arrives as the worker makes it: yields the HttpResponse
        (its body empty when it streams) first, then each piece of the body as bytes. A failure
        raises ShardrunError: before the head, the request's error; after it, the body is
        incomplete. `timeout` bounds the wait for each part. Stopping early is fine (the pieces
        still coming are dropped)."""
        rid = next(self._ids)
        parts: list[dict[str, Any]] = []
        self._parts[rid] = parts
        ended = False
        wait = self.timeout if timeout is None else timeout
        try:
            self._send(
                rid, _encode(rid, worker, "fetch", _fetch_arg(worker, method, url, headers, body), stream=True), "fetch"
            )
            while True:
                end = time.monotonic() + wait
                while not parts:
                    self._watch()
                    now = time.monotonic()
                    if now >= end:
                        raise TimeoutError(f"no part of the response within {wait:g}s")
                    if self._sock in dict(
                        self._poller.poll(math.ceil(max(0.0, min(end - now, self._liveness(now))) * 1000))
                    ):
                        self._read()
                b = parts.pop(0)
                part = b.get("part")
                ended = part not in ("h", "c")
                if part is None:  # a whole reply, or an error before (or instead of) a head
                    yield Reply.from_body(b, "fetch").unwrap()
                    return
                if part == "h":
                    yield HttpResponse.from_js(b.get("value"))
                elif part == "c":
                    yield base64.b64decode(b.get("b64") or "")
                elif part == "e":
                    return
                else:
                    e = b.get("error")
                    err: dict[str, Any] = e if isinstance(e, dict) else {}
                    raise error(
                        str(err.get("code", "E_INTERNAL")),
                        "the response body is incomplete: " + str(err.get("message", "")),
                    )
        finally:
            self._parts.pop(rid, None)
            self._kinds.pop(rid, None)
            if not ended:  # stopped early: the router cancels the stream in the worker
                cancel = {"id": next(self._ids), "admin": "cancel", "cancel": rid}
                try:
                    self._sock.send_multipart(protocol.encode(protocol.REQUEST, cancel), zmq.NOBLOCK)
                except zmq.ZMQError:
                    pass  # the router is gone: nothing runs on for us

    def status(self, timeout: float | None = None) -> dict[str, Any]:
        """The router's counters and per-shard state."""
        rid = next(self._ids)
        self._send(rid, protocol.encode(protocol.REQUEST, {"id": rid, "admin": "status"}), None)
        status: dict[str, Any] = self.wait(rid, timeout).unwrap()
        return status

    def close(self) -> None:
        self._sock.disable_monitor()
        self._monitor.close(0)
        self._sock.close(0)
        self._ctx.term()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _monitor_event(monitor: zmq.Socket) -> int:
    """The event of the next socket-monitor message, or zmq.Again (its first frame: a 16-bit
    event and a 32-bit value; pyzmq's recv_monitor_message does the same but imports asyncio)."""
    frames = monitor.recv_multipart(zmq.NOBLOCK)
    event: int = struct.unpack("=hi", frames[0][:6])[0]
    return event


class AsyncClient:
    """asyncio client: `await c.task(...)`; any number of requests in flight."""

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, timeout: float = 60.0) -> None:
        import zmq.asyncio  # here, not at the top: the blocking Client (and the CLI) need no asyncio

        self.timeout = timeout
        self._ctx = zmq.asyncio.Context()
        self._sock = _dealer(self._ctx)
        self._sock.connect(endpoint)
        self._ids = itertools.count(1)
        self._waiting: dict[int, tuple[asyncio.Future[Reply], str]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def call(
        self, worker: str, kind: str, arg: Any, timeout: float | None = None, tenant: str | None = None, **extra: Any
    ) -> Reply:
        """One request; `extra` fields go into the request (e.g. `wall_ms`, a lower wall limit)."""
        import asyncio

        rid = next(self._ids)
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = (fut, kind)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        await self._sock.send_multipart(_encode(rid, worker, kind, arg, tenant, **extra))
        try:
            return await asyncio.wait_for(fut, self.timeout if timeout is None else timeout)
        finally:
            self._waiting.pop(rid, None)

    async def task(
        self, worker: str, payload: Any = None, timeout: float | None = None, tenant: str | None = None
    ) -> Reply:
        return await self.call(worker, "task", {} if payload is None else payload, timeout, tenant)

    async def fetch(
        self,
        worker: str,
        method: str = "GET",
        url: str = "/",
        headers: Any = None,
        body: bytes | str | None = None,
        timeout: float | None = None,
    ) -> Reply:
        return await self.call(worker, "fetch", _fetch_arg(worker, method, url, headers, body), timeout)

    async def _read(self) -> None:
        while True:
            frames = await self._sock.recv_multipart()
            for raw in frames[2:]:
                try:
                    body = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                entry = self._waiting.get(body.get("id"))
                if entry is not None and not entry[0].done():
                    entry[0].set_result(Reply.from_body(body, entry[1]))

    async def close(self) -> None:
        import asyncio

        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                pass
        self._sock.close(0)
        self._ctx.term()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
