"""The router process: takes requests from clients and sends each to its tenant's shard.

Sockets: a ROUTER for clients (the ZeroMQ client API), a ROUTER for shards (ipc), and a
pipe from the supervisor that says when a shard process died. Both ROUTERs set
ROUTER_MANDATORY, so a send to a peer that is gone fails loudly instead of vanishing:
every request the router accepts ends in exactly one reply, a shard's or the router's own
error (`sent == answered + failed` in the stats).

Backpressure is explicit: a shard runs at most `max_inflight_per_shard` requests; the
rest wait in its queue (at most `max_queued` in all, each at most `wait_timeout_ms`,
then E_OVERLOADED); a tenant has at most `tenant_max_concurrency` in flight (then
E_TENANT_LIMIT at once).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import orjson
import zmq

from . import protocol
from .errors import ShardrunError
from .frontdoor import FrontDoor, HttpClient
from .http import HttpLimits
from .procs import EXIT_OK, EXIT_PARENT_GONE, parent_alive
from .routing import shard_for
from .settings import Settings
from .workers import Registry

log = logging.getLogger("shardrun.router")

TICK_SECONDS = 0.01


@dataclass(slots=True)
class Pending:
    """A request the router accepted and has not answered yet."""

    rid: int
    client: Any          # a ZeroMQ identity (bytes) or an HttpClient
    client_id: Any
    slot: int
    tenant: str
    body: bytes
    wait_deadline: float
    reply_deadline: float
    sent_to: bytes | None = None


@dataclass
class ShardState:
    """What the router knows of one shard slot."""

    slot: int
    identity: bytes | None = None
    pid: int = 0
    gen: int = 0
    inflight: int = 0
    queue: deque[Pending] = field(default_factory=deque)
    last_seen: float = 0.0
    restarts: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.identity is not None


class Router:
    """Routing table, queues and accounting; the sockets are driven by run()."""

    def __init__(self, settings: Settings, backend: str, notify_fd: int | None, parent: int) -> None:
        self.settings = settings
        self.serve = s = settings.serve
        self.parent = parent
        self.notify_fd = notify_fd
        self.registry = Registry(s.workers, settings.limits.to_limits())
        self.shards = [ShardState(i) for i in range(s.shards)]
        self._slots: dict[str, int] = {}  # tenant -> shard, memoised
        self.pending: dict[int, Pending] = {}
        self.tenant_inflight: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.queued = 0
        self.next_rid = 1
        self.rr = 0
        self.stopping = False
        self.started = time.time()
        # What to send at the end of this wake-up, batched per peer.
        self._shard_out: dict[int, list[Pending]] = {}
        self._client_out: dict[Any, list[bytes]] = {}
        self.zctx = zmq.Context()
        self.backend = self._router_socket(backend)
        self.frontend = self._router_socket(s.client_endpoint)
        self.front: FrontDoor | None = None
        if s.http_enabled:
            limits = HttpLimits(s.http_max_header_bytes, s.http_max_body_bytes, s.http_header_timeout_s,
                                s.http_body_timeout_s, s.http_keepalive_timeout_s)
            self.front = FrontDoor(s.http_host, s.http_port, s.worker_domains, limits, settings.payload.max_depth,
                                   self._accept, self.status, time.monotonic())
            log.info("HTTP on http://%s:%d/", s.http_host, self.front.port)
        self._polled: dict[int, int] = {}  # HTTP fds registered with the poller -> flags

    def _router_socket(self, endpoint: str) -> zmq.Socket:
        sock = self.zctx.socket(zmq.ROUTER)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, 100_000)
        sock.setsockopt(zmq.RCVHWM, 100_000)
        sock.bind(endpoint)
        return sock

    # ---- the loop ----------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        poller = zmq.Poller()
        poller.register(self.backend, zmq.POLLIN)
        poller.register(self.frontend, zmq.POLLIN)
        if self.notify_fd is not None:
            poller.register(self.notify_fd, zmq.POLLIN)
        if self.front is not None:
            poller.register(self.front.listener.fileno(), zmq.POLLIN)
        next_tick = 0.0
        stop_deadline = None
        while True:
            self._poll_http(poller)
            events = dict(poller.poll(TICK_SECONDS * 1000))
            if self.backend in events:
                self._read_backend()
            if self.frontend in events:
                self._read_frontend()
            if self.notify_fd is not None and self.notify_fd in events:
                self._read_notify()
            if self.front is not None:
                self._http_events(events)
            self._flush()
            now = time.monotonic()
            if now >= next_tick:
                next_tick = now + TICK_SECONDS
                self._expire(now)
                if not parent_alive(self.parent):
                    return EXIT_PARENT_GONE
                if self.front is not None:
                    self.front.expire(now)
                if self.stopping:
                    stop_deadline = stop_deadline or now + self.serve.graceful_timeout_s
                    if not self.pending or now >= stop_deadline:
                        for p in list(self.pending.values()):
                            self._fail(p, "E_SHUTTING_DOWN", "the server shut down before the request finished")
                        self._flush()
                        return EXIT_OK
                self._flush()

    def _on_term(self, signum: int, frame: object) -> None:
        self.stopping = True

    # ---- HTTP ---------------------------------------------------------------------
    def _poll_http(self, poller: zmq.Poller) -> None:
        """Keep the poller's view of HTTP connections current (new, closed, wanting to write)."""
        if self.front is None:
            return
        if self.stopping and self.front.listener.fileno() >= 0:
            poller.unregister(self.front.listener.fileno())
            self.front.listener.close()  # stop intake; open connections finish
        self.front.forget_closed()
        conns = self.front.conns
        for fd in [fd for fd in self._polled if fd not in conns]:
            poller.unregister(fd)
            del self._polled[fd]
        for fd, c in conns.items():
            flags = zmq.POLLIN | (zmq.POLLOUT if c.wants_write else 0)
            if self._polled.get(fd) != flags:
                if fd in self._polled:
                    poller.modify(fd, flags)
                else:
                    poller.register(fd, flags)
                self._polled[fd] = flags

    def _http_events(self, events: dict[Any, int]) -> None:
        assert self.front is not None
        now = time.monotonic()
        lfd = self.front.listener.fileno()
        for fd, ev in events.items():
            if not isinstance(fd, int) or fd == self.notify_fd:
                continue
            if fd == lfd:
                self.front.accept(now)
                continue
            c = self.front.conns.get(fd)
            if c is None:
                continue
            if ev & zmq.POLLIN:
                c.on_readable(now)
            if ev & zmq.POLLOUT and not c.closed:
                c.on_writable()

    # ---- clients -------------------------------------------------------------------
    def _read_frontend(self) -> None:
        for _ in range(1000):
            try:
                frames = self.frontend.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            client = frames[0]
            try:
                type_, bodies = protocol.split(frames[1:])
            except protocol.ProtocolError as exc:
                self.counts["bad_frames"] += 1
                log.warning("dropped a malformed client frame: %s", exc)
                continue
            for raw in bodies:
                try:
                    msg = protocol.decode_body(type_, raw)
                except protocol.ProtocolError as exc:
                    self.counts["bad_frames"] += 1
                    log.warning("dropped a malformed client frame: %s", exc)
                    continue
                if msg.type == protocol.REQUEST:
                    self._accept(client, msg, raw)

    def _accept(self, client: Any, msg: protocol.Message, raw: bytes) -> None:
        body = msg.body
        cid = body.get("id")
        if body.get("admin") == "status":
            self._to_client(client, protocol.reply_body(cid, True, self.status()))
            return
        try:
            rid_, worker, kind, arg = protocol.request_fields(msg)
            if self.stopping:
                raise ShardrunError("the server is shutting down", code="E_SHUTTING_DOWN")
            spec = self.registry.get(worker)
            tenant = protocol.request_tenant(msg) or spec.tenant
            cap = spec.max_concurrency or self.serve.tenant_max_concurrency
            if self.tenant_inflight[tenant] >= cap:
                raise ShardrunError(f"tenant {tenant!r} has {cap} requests in flight already (its limit)", code="E_TENANT_LIMIT")
        except protocol.ProtocolError as exc:
            self.counts["bad_requests"] += 1
            self._client_error(client, cid, "E_BAD_REQUEST", str(exc))
            return
        except ShardrunError as exc:
            self._client_error(client, cid, exc.code, exc.message)
            return
        rid = self.next_rid
        self.next_rid += 1
        slot = self._pick(tenant)
        now = time.monotonic()
        prefix = b'{"id":%d,' % cid if isinstance(cid, int) and not isinstance(cid, bool) else b""
        if prefix and raw.startswith(prefix):  # the usual case: swap the id without re-encoding the body
            out = b'{"id":%d,' % rid + raw[len(prefix):]
        else:
            out = orjson.dumps({**body, "id": rid})
        p = Pending(rid, client, cid, slot, tenant, out, now + self.serve.wait_timeout_ms / 1000,
                    now + (spec.limits.wall_ms + self.serve.reply_grace_ms) / 1000)
        self.pending[rid] = p
        self.tenant_inflight[tenant] += 1
        self.counts["accepted"] += 1
        shard = self.shards[slot]
        if shard.ready and shard.inflight < self.serve.max_inflight_per_shard and not shard.queue:
            self._send(shard, p)
        elif self.queued >= self.serve.queue_cap():
            self._fail(p, "E_OVERLOADED", f"all shards are busy and {self.queued} requests are already waiting; retry later")
        else:
            shard.queue.append(p)
            self.queued += 1

    def _pick(self, tenant: str) -> int:
        n = len(self.shards)
        if self.serve.mode == "pinned":
            slot = self._slots.get(tenant)
            if slot is None:
                if len(self._slots) > 100_000:
                    self._slots.clear()
                slot = self._slots[tenant] = shard_for(tenant, n)
            return slot
        best, load = 0, None
        for i in range(n):
            s = self.shards[(self.rr + i) % n]
            cost = (0 if s.ready else 1_000_000) + s.inflight + len(s.queue)
            if load is None or cost < load:
                best, load = s.slot, cost
        self.rr = (self.rr + 1) % n
        return best

    def _client_error(self, client: Any, cid: Any, code: str, message: str) -> None:
        self.codes[code] += 1
        self._to_client(client, protocol.reply_body(cid, False, {"code": code, "message": message}))

    def _to_client(self, client: Any, body: bytes) -> None:
        out = self._client_out.get(client)
        if out is None:
            self._client_out[client] = [body]
        else:
            out.append(body)

    def _flush(self) -> None:
        """Send what this wake-up produced: one message per shard and per client."""
        if self._shard_out:
            batches, self._shard_out = self._shard_out, {}
            for slot, batch in batches.items():
                self._send_batch(self.shards[slot], batch)
        if self._client_out:
            batches_c, self._client_out = self._client_out, {}
            for client, bodies in batches_c.items():
                if isinstance(client, HttpClient):
                    assert self.front is not None
                    for body in bodies:
                        self.front.deliver(client, body)
                    continue
                try:
                    self.frontend.send_multipart([client, protocol.HEADER, protocol.REPLY, *bodies], zmq.NOBLOCK)
                except zmq.ZMQError as exc:  # the client is gone or not reading: nothing else to do
                    self.counts["client_unreachable"] += len(bodies)
                    log.info("cannot reply to a client: %s", exc)

    # ---- shards ---------------------------------------------------------------------
    def _send(self, shard: ShardState, p: Pending) -> None:
        """Commit a request to a shard; it leaves in this wake-up's batch."""
        assert shard.identity is not None
        p.sent_to = shard.identity
        shard.inflight += 1
        self._shard_out.setdefault(shard.slot, []).append(p)

    def _send_batch(self, shard: ShardState, batch: list[Pending]) -> None:
        live = [p for p in batch if p.rid in self.pending and p.sent_to is not None]
        if not live:
            return
        ident = live[0].sent_to
        try:
            self.backend.send_multipart([ident, protocol.HEADER, protocol.REQUEST, *(p.body for p in live)], zmq.NOBLOCK)
        except zmq.ZMQError as exc:
            log.warning("shard %d unreachable (%s); requeueing %d requests", shard.slot, exc, len(live))
            if shard.identity == ident:
                shard.identity = None
            for p in reversed(live):
                p.sent_to = None
                shard.inflight -= 1
                shard.queue.appendleft(p)
                self.queued += 1
            return
        self.counts["sent"] += len(live)

    def _read_backend(self) -> None:
        for _ in range(1000):
            try:
                frames = self.backend.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            ident = frames[0]
            if len(frames) >= 4 and frames[1] == protocol.HEADER and frames[2] == protocol.REPLY:
                for body in frames[3:]:
                    self._on_reply(ident, body)
                continue
            try:
                messages = protocol.decode_all(frames[1:])
            except protocol.ProtocolError as exc:
                messages = [exc]
            for msg in messages:
                if isinstance(msg, protocol.ProtocolError):
                    self.counts["bad_frames"] += 1
                    log.warning("dropped a malformed shard frame: %s", msg)
                elif msg.type in (protocol.READY, protocol.HEARTBEAT):
                    self._on_alive(ident, msg)
                elif msg.type == protocol.DISCONNECT:
                    self._on_disconnect(msg.body)

    def _on_alive(self, ident: bytes, msg: protocol.Message) -> None:
        slot = msg.body.get("shard")
        if not isinstance(slot, int) or not 0 <= slot < len(self.shards):
            self.counts["bad_frames"] += 1
            return
        s = self.shards[slot]
        if msg.type == protocol.HEARTBEAT:
            s.stats = msg.body
        if s.identity != ident and (msg.type == protocol.READY or s.identity is None):
            s.identity, s.pid = ident, int(msg.body.get("pid", 0))
            s.gen = int(msg.body.get("gen", 0))
            log.info("shard %d ready (pid %d)", slot, s.pid)
        s.last_seen = time.monotonic()
        self._drain_queue(s)

    def _on_reply(self, ident: bytes, body: bytes) -> None:
        try:
            if not body.startswith(b'{"id":'):
                raise ValueError("reply does not start with its id")
            comma = body.index(b",")
            rid = int(body[6:comma])
        except ValueError as exc:
            self.counts["bad_frames"] += 1
            log.warning("dropped a malformed reply: %s", exc)
            return
        p = self.pending.get(rid)
        if p is None:
            self.counts["late_replies"] += 1  # already failed (e.g. timed out): the client has its answer
            return
        if b'"code":"E_SHUTTING_DOWN"' in body[:200] and not self.stopping and p.sent_to == ident:
            # A shard being replaced refused it before running it: send it again.
            s = self.shards[p.slot]
            s.inflight -= 1
            p.sent_to = None
            s.queue.appendleft(p)
            self.queued += 1
            self._drain_queue(s)
            return
        del self.pending[rid]
        self._settled(p)
        self.counts["answered"] += 1
        self._to_client(p.client, b'{"id":%b,' % orjson.dumps(p.client_id) + body[comma + 1:])

    def _settled(self, p: Pending) -> None:
        self.tenant_inflight[p.tenant] -= 1
        if not self.tenant_inflight[p.tenant]:
            del self.tenant_inflight[p.tenant]
        if p.sent_to is not None:
            s = self.shards[p.slot]
            s.inflight -= 1
            self._drain_queue(s)

    def _drain_queue(self, s: ShardState) -> None:
        while s.queue and s.ready and s.inflight < self.serve.max_inflight_per_shard:
            p = s.queue.popleft()
            self.queued -= 1
            if p.rid in self.pending:
                self._send(s, p)

    def _fail(self, p: Pending, code: str, message: str) -> None:
        if self.pending.pop(p.rid, None) is None:
            return
        self._settled(p)
        self.counts["failed"] += 1
        self._client_error(p.client, p.client_id, code, message)

    def _on_disconnect(self, body: dict[str, Any]) -> None:
        rid = body.get("id")
        p = self.pending.get(rid) if isinstance(rid, int) else None
        if p is not None and body.get("reason") == "cpu":
            self._fail(p, "E_CPU_LIMIT", str(body.get("message", "the request used more than its CPU budget")))

    def _read_notify(self) -> None:
        assert self.notify_fd is not None
        data = os.read(self.notify_fd, 65536)
        for line in data.decode().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "dead":
                self.shard_lost(int(parts[1]), int(parts[2]), " ".join(parts[3:]))

    def shard_lost(self, slot: int, pid: int, why: str) -> None:
        """A shard process died: fail what it was running, wait for its replacement."""
        if not 0 <= slot < len(self.shards):
            return
        s = self.shards[slot]
        s.restarts += 1
        ident = f"shard-{slot}-{pid}".encode()
        if s.identity == ident:
            s.identity = None
        for p in [p for p in self.pending.values() if p.sent_to == ident]:
            self._fail(p, "E_SHARD_LOST", f"the shard running this request died ({why}); it is being replaced")
        log.warning("shard %d (pid %d) died: %s", slot, pid, why)

    # ---- time ---------------------------------------------------------------------
    def _expire(self, now: float) -> None:
        for s in self.shards:
            while s.queue and (s.queue[0].wait_deadline <= now or s.queue[0].rid not in self.pending):
                p = s.queue.popleft()
                self.queued -= 1
                if p.rid in self.pending:
                    self._fail(p, "E_OVERLOADED", f"no shard could take the request within {self.serve.wait_timeout_ms:g} ms; retry later")
        if self.pending:
            late = [p for p in self.pending.values() if p.sent_to is not None and p.reply_deadline <= now]
            for p in late:
                self._fail(p, "E_SHARD_LOST", "the shard did not answer within the request's wall limit plus grace")

    # ---- status --------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Counters for `shardrun status` and the stats endpoint."""
        return {
            "mode": self.serve.mode, "uptime_s": round(time.time() - self.started, 3), "router_pid": os.getpid(),
            "pending": len(self.pending), "queued": self.queued, "counts": dict(self.counts), "errors": dict(self.codes),
            "shards": [{"slot": s.slot, "pid": s.pid, "ready": s.ready, "inflight": s.inflight, "queued": len(s.queue),
                        "restarts": s.restarts, **{k: v for k, v in s.stats.items() if k not in ("shard", "pid")}}
                       for s in self.shards],
        }

    def close(self) -> None:
        if self.front is not None:
            self.front.close()
        self.backend.close(0)
        self.frontend.close(0)
        self.zctx.term()


def run_router(settings: Settings, backend: str, notify_fd: int | None, parent: int) -> int:
    """Body of the router process (after fork)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s router %(levelname)s %(message)s", force=True)
    router = Router(settings, backend, notify_fd, parent)
    try:
        return router.run()
    finally:
        router.close()
