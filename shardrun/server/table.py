"""The router's routing table: admission, tenant affinity, queues and accounting. No sockets.

The router's loop feeds it what arrives (client requests, shard replies and heartbeats,
dead shards, time) and sends what it leaves in its two outboxes, batched per peer:
`shard_out` (requests per shard slot) and `client_out` (reply bodies per client).
Every accepted request ends in exactly one reply: `accepted == answered + failed`.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import orjson

from shardrun import protocol
from shardrun.errors import ShardrunError
from shardrun.server.routing import shard_for
from shardrun.settings import Settings
from shardrun.workers import Registry

log = logging.getLogger("shardrun.router")


@dataclass(slots=True)
class Pending:
    """A request the router accepted and has not answered yet."""

    rid: int
    client: Any  # a ZeroMQ identity (bytes) or an HttpClient
    client_id: Any
    slot: int
    tenant: str
    body: bytes
    wait_deadline: float
    reply_deadline: float
    sent_to: bytes | None = None
    retries: int = 0  # times it may still be sent again if its shard dies under it (idempotent workers)
    wall_s: float = 0.0
    priority: int = 0  # place in a busy shard's queue: higher first, then first come
    span: Any = None  # its trace span (tracing.Tracer), when traces are on
    streaming: bool = False  # its response head went to the client; its body parts follow
    body_stream: bool = False  # its request body follows it to its shard (server/bodies.py): never sent again


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


class RoutingTable:
    """What the router knows and decides, independent of its sockets."""

    def __init__(self, settings: Settings) -> None:
        self.serve = s = settings.serve
        self.registry = Registry(s.workers, settings.limits.to_limits(), settings.fetch)
        self.shards = [ShardState(i) for i in range(s.shards)]
        self._slots: dict[str, int] = {}  # tenant -> shard, memoised
        self.pending: dict[int, Pending] = {}
        # Per tenant (plain dicts: a Counter's missing key and delete are Python calls; a tenant
        # at zero has no entry):
        self.tenant_inflight: dict[str, int] = {}  # accepted and not answered (waiting or running)
        self.tenant_running: dict[str, int] = {}  # sent to a shard and not answered
        self.tenant_queued: dict[str, int] = {}  # waiting in a shard's queue
        # One tenant may hold at most this many of a shard's slots and of the queue, so another
        # tenant on the same shard always finds room.
        self.slot_share = max(1, int(s.max_inflight_per_shard * s.tenant_max_share))
        self.queue_share = max(1, int(s.queue_cap() * s.tenant_max_share))
        self.counts: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.queued = 0
        self.next_rid = 1
        self.rr = 0
        self.stopping = False
        self.draining = False  # SIGTERM with serve.drain_s: health says 503 while requests still run
        self.tracer: Any = None  # a tracing.Tracer when traces are on (set by the router)
        self.started = time.time()
        self.shard_out: dict[int, list[Pending]] = {}
        self.shard_ctl: dict[int, list[bytes]] = {}
        self.zmq_streams: dict[
            tuple[bytes, Any], int
        ] = {}  # (ZeroMQ client, its id) -> a streaming request  # CONTROL bodies (stream credit, cancel) per shard slot
        self.client_out: dict[Any, list[bytes]] = {}

    # ---- requests in ---------------------------------------------------------------
    def accept(self, client: Any, msg: protocol.Message, raw: bytes) -> None:
        body = msg.body
        cid = body.get("id")
        if body.get("admin") == "status":
            self._to_client(client, protocol.reply_body(cid, True, self.status()))
            return
        if body.get("admin") == "cancel":  # a ZeroMQ client stops reading a streamed reply (no answer)
            rid = self.zmq_streams.get((client, body.get("cancel"))) if _key_ok(body.get("cancel")) else None
            if rid is not None:
                self.cancel(rid)
            return
        try:
            _rid, worker, kind, _arg = protocol.request_fields(msg)
            if self.stopping:
                raise ShardrunError("the server is shutting down", code="E_SHUTTING_DOWN")
            spec = self.registry.get(worker)
            tenant = protocol.request_tenant(msg) or spec.tenant
            priority = protocol.request_priority(msg)
            if priority is None:
                priority = spec.task.priority if kind == "task" else 0
            # A worker's own max_concurrency can lower the operator's tenant limit, never raise it.
            cap = min(spec.max_concurrency or self.serve.tenant_max_concurrency, self.serve.tenant_max_concurrency)
            if self.tenant_inflight.get(tenant, 0) >= cap:
                raise ShardrunError(
                    f"tenant {tenant!r} has {cap} requests in flight already (its limit)", code="E_TENANT_LIMIT"
                )
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
            out = b'{"id":%d,' % rid + raw[len(prefix) :]
        else:
            out = orjson.dumps({**body, "id": rid})
        wall_s = (spec.limits.wall_ms + self.serve.reply_grace_ms) / 1000
        p = Pending(
            rid,
            client,
            cid,
            slot,
            tenant,
            out,
            now + self.serve.wait_timeout_ms / 1000,
            now + wall_s,
            retries=1 if spec.idempotent else 0,
            wall_s=wall_s,
            priority=priority,
        )
        if self.tracer is not None:
            self._trace(p, body, worker, kind, spec.name)
        self.pending[rid] = p
        if not isinstance(client, bytes):
            client.rid = rid  # an HTTP client: its credit and cancel name the request by this id
        _inc(self.tenant_inflight, tenant)
        self.counts["accepted"] += 1
        shard = self.shards[slot]
        if self.queued >= self.serve.queue_cap():
            self.fail(
                p, "E_OVERLOADED", f"all shards are busy and {self.queued} requests are already waiting; retry later"
            )
        elif self.tenant_queued.get(tenant, 0) >= self.queue_share:
            self.fail(
                p,
                "E_TENANT_LIMIT",
                f"tenant {tenant!r} has {self.queue_share} requests waiting already (its share of the queue)",
            )
        else:
            self._push(shard, p)
            self._drain_queue(shard)

    def _trace(self, p: Pending, body: dict[str, Any], worker: str, kind: str, name: str) -> None:
        """Start the request's span (the child of the client's traceparent, if well-formed) and
        send its context to the shard in the request body."""
        from shardrun import tracing

        tr = self.tracer
        attrs: dict[str, Any] = {
            "shardrun.tenant": p.tenant,
            "shardrun.worker": name,
            "shardrun.kind": kind,
            "shardrun.shard": p.slot,
            "shardrun.route": "http" if hasattr(p.client, "conn") else "zmq",
        }
        method, path = getattr(p.client, "method", None), getattr(p.client, "path", None)
        if method:
            attrs["http.request.method"] = method
            attrs["url.path"] = path
        parent = tracing.clean_context(body.get("traceparent"), body.get("tracestate"))
        p.span = tr.start("shardrun.request", parent, tr.SERVER, attrs)
        fields = {k: v for k, v in body.items() if k not in ("traceparent", "tracestate")}
        p.body = orjson.dumps({**fields, "id": p.rid, **tr.carrier(p.span)})

    def _end_trace(self, p: Pending, body: bytes | None, code: str | None = None, message: str = "") -> None:
        span, p.span = p.span, None
        attrs: dict[str, Any] = {}
        if body is not None:
            try:
                reply = orjson.loads(body)
            except orjson.JSONDecodeError:
                reply = {}
            if reply.get("ok") is False or "error" in reply:
                code, message = protocol.reply_error(reply)
            value = reply.get("value")
            if isinstance(value, dict) and type(value.get("status")) is int:
                attrs["http.response.status_code"] = value["status"]
            cpu = reply.get("cpu_ms")
            if isinstance(cpu, (int, float)) and not isinstance(cpu, bool):
                attrs["shardrun.cpu_ms"] = float(cpu)
        self.tracer.end(span, code, message, **attrs)

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
        out = self.client_out.get(client)
        if out is None:
            self.client_out[client] = [body]
        else:
            out.append(body)

    def _send(self, shard: ShardState, p: Pending) -> None:
        """Commit a request to a shard; it leaves in this wake-up's batch."""
        assert shard.identity is not None
        p.sent_to = shard.identity
        shard.inflight += 1
        _inc(self.tenant_running, p.tenant)
        self.shard_out.setdefault(shard.slot, []).append(p)

    def unsend(self, shard: ShardState, batch: list[Pending], ident: bytes) -> None:
        """A batch could not be sent to a shard: it is gone; queue the requests again."""
        if shard.identity == ident:
            shard.identity = None
        for p in reversed(batch):
            self._requeue(shard, p)

    def _requeue(self, shard: ShardState, p: Pending) -> None:
        """A request sent to a shard that did not run it goes back to the front of its queue."""
        p.sent_to = None
        shard.inflight -= 1
        _dec(self.tenant_running, p.tenant)
        shard.queue.appendleft(p)
        self.queued += 1
        _inc(self.tenant_queued, p.tenant)

    # ---- shards ---------------------------------------------------------------------
    def on_alive(self, ident: bytes, msg: protocol.Message) -> None:
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

    def on_reply(self, ident: bytes, body: bytes) -> None:
        rid = protocol.reply_id(body)
        if rid is None:
            self.counts["bad_frames"] += 1
            log.warning("dropped a reply that does not start with its id: %r", body[:40])
            return
        comma = body.index(b",")
        p = self.pending.get(rid)
        if p is None:
            self.counts["late_replies"] += 1  # already failed (e.g. timed out): the client has its answer
            return
        part = protocol.stream_part(body)
        if part is not None:
            return self._on_part(p, part, body, comma)
        if protocol.is_refusal(body) and not self.stopping and p.sent_to == ident and not p.body_stream:
            # A shard being replaced refused it before running it: send it again.
            s = self.shards[p.slot]
            self._requeue(s, p)
            self._drain_queue(s)
            return
        del self.pending[rid]
        self._settled(p)
        self.counts["answered"] += 1
        if p.span is not None:
            self._end_trace(p, body)
        self._to_client(p.client, b'{"id":%b,' % orjson.dumps(p.client_id) + body[comma + 1 :])

    def _on_part(self, p: Pending, part: str, body: bytes, comma: int) -> None:
        """A part of a streamed reply: the head keeps the request pending, the end or a failure
        answers it; a ZeroMQ client's pieces are credited back to the shard as they are sent on."""
        if (part == "h") == p.streaming or part not in "hcex":
            self.counts["bad_frames"] += 1  # a second head, or a piece of a reply that is not streaming
            return
        out = b'{"id":%b,' % orjson.dumps(p.client_id) + body[comma + 1 :]
        if part == "h":
            p.streaming = True
            self.counts["streams"] += 1
            if isinstance(p.client, bytes) and _key_ok(p.client_id):
                self.zmq_streams[(p.client, p.client_id)] = p.rid
        elif part == "c":
            if isinstance(p.client, bytes):
                n = protocol.piece_size(body)
                if n:
                    self.credit(p.rid, n)
        else:
            del self.pending[p.rid]
            self._settled(p)
            self.counts["answered" if part == "e" else "failed"] += 1
            if p.span is not None:
                self._end_trace(p, body)
        self._to_client(p.client, out)

    def credit(self, rid: int, nbytes: int) -> None:
        """The client of streamed request `rid` took `nbytes` more: the shard may send that many more."""
        p = self.pending.get(rid)
        if p is not None and p.streaming and nbytes > 0:
            self._control(p.slot, b'{"id":%d,"credit":%d}' % (rid, nbytes))

    def cancel(self, rid: int) -> None:
        """The client of request `rid` went away: forget it, and stop its stream in the shard."""
        p = self.pending.pop(rid, None)
        if p is None:
            return
        self._settled(p)
        self.counts["cancelled"] += 1
        if p.span is not None:
            p.span.set_attribute("shardrun.cancelled", True)  # the client went away
            self._end_trace(p, None)
        if p.streaming:
            self._control(p.slot, b'{"id":%d,"cancel":true}' % rid)

    def _control(self, slot: int, body: bytes) -> None:
        out = self.shard_ctl.get(slot)
        if out is None:
            self.shard_ctl[slot] = [body]
        else:
            out.append(body)

    def _settled(self, p: Pending) -> None:
        if p.streaming and isinstance(p.client, bytes) and _key_ok(p.client_id):
            self.zmq_streams.pop((p.client, p.client_id), None)
        _dec(self.tenant_inflight, p.tenant)
        if p.sent_to is not None:
            _dec(self.tenant_running, p.tenant)
            s = self.shards[p.slot]
            s.inflight -= 1
            self._drain_queue(s)

    def _push(self, s: ShardState, p: Pending) -> None:
        _enqueue(s.queue, p)
        self.queued += 1
        _inc(self.tenant_queued, p.tenant)

    def _pop(self, s: ShardState, i: int = 0) -> Pending:
        p = s.queue[i]
        del s.queue[i]
        self.queued -= 1
        _dec(self.tenant_queued, p.tenant)
        return p

    def _drain_queue(self, s: ShardState) -> None:
        """Send waiting requests while the shard has room: in queue order, skipping a tenant that
        holds its share of the shard's slots (its requests wait for its own to finish)."""
        i = 0
        while i < len(s.queue) and s.ready and s.inflight < self.serve.max_inflight_per_shard:
            p = s.queue[i]
            if p.rid not in self.pending:
                self._pop(s, i)
            elif self.tenant_running.get(p.tenant, 0) >= self.slot_share:
                i += 1
            else:
                self._send(s, self._pop(s, i))

    def fail(self, p: Pending, code: str, message: str) -> None:
        if self.pending.pop(p.rid, None) is None:
            return
        self._settled(p)
        self.counts["failed"] += 1
        if p.span is not None:
            self._end_trace(p, None, code, message)
        if p.streaming:  # its client gets the error (an incomplete body); the shard stops the stream
            self._control(p.slot, b'{"id":%d,"cancel":true}' % p.rid)
        self._client_error(p.client, p.client_id, code, message)

    def on_disconnect(self, body: dict[str, Any]) -> None:
        """A shard says it is going away (its watchdog found JS that will not yield): fail that
        request with its own reason, and send that shard nothing more: new requests wait for its
        replacement instead of dying with it."""
        rid = body.get("id")
        p = self.pending.get(rid) if isinstance(rid, int) else None
        if p is not None and body.get("reason") == "cpu":
            self.fail(p, "E_CPU_LIMIT", str(body.get("message", "the request used more than its CPU budget")))
        slot = body.get("shard")
        if isinstance(slot, int) and 0 <= slot < len(self.shards):
            s = self.shards[slot]
            if s.identity == protocol.shard_identity(slot, body.get("pid")):
                s.identity = None

    def shard_lost(self, slot: int, pid: int, why: str) -> None:
        """A shard process died: fail what it was running, wait for its replacement."""
        if not 0 <= slot < len(self.shards):
            return
        s = self.shards[slot]
        s.restarts += 1
        from shardrun.server.metrics import RESTARTS

        RESTARTS.labels(str(slot)).inc()
        ident = protocol.shard_identity(slot, pid)
        if s.identity == ident:
            s.identity = None
        now = time.monotonic()
        for p in [p for p in self.pending.values() if p.sent_to == ident]:
            if p.retries > 0:  # an idempotent worker's request: once more, on the replacement
                p.retries -= 1
                p.wait_deadline, p.reply_deadline = now + self.serve.wait_timeout_ms / 1000, now + p.wall_s
                self.counts["retried"] += 1
                self._requeue(s, p)
            else:
                self.fail(p, "E_SHARD_LOST", f"the shard running this request died ({why}); it is being replaced")
        log.warning("shard %d (pid %d) died: %s", slot, pid, why)

    # ---- time ---------------------------------------------------------------------
    def expire(self, now: float) -> None:
        for s in self.shards:
            while s.queue and (s.queue[0].wait_deadline <= now or s.queue[0].rid not in self.pending):
                p = self._pop(s)
                if p.rid in self.pending:
                    self.fail(
                        p,
                        "E_OVERLOADED",
                        f"no shard could take the request within {self.serve.wait_timeout_ms:g} ms; retry later",
                    )
        if self.pending:
            late = [p for p in self.pending.values() if p.sent_to is not None and p.reply_deadline <= now]
            for p in late:
                self.fail(p, "E_SHARD_LOST", "the shard did not answer within the request's wall limit plus grace")

    # ---- status --------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Counters for `shardrun status` and the stats endpoint."""
        return {
            "mode": self.serve.mode,
            "uptime_s": round(time.time() - self.started, 3),
            "router_pid": os.getpid(),
            "draining": self.draining or self.stopping,
            "pending": len(self.pending),
            "queued": self.queued,
            "counts": dict(self.counts),
            "errors": dict(self.codes),
            "shards": [
                {
                    "slot": s.slot,
                    "pid": s.pid,
                    "ready": s.ready,
                    "inflight": s.inflight,
                    "queued": len(s.queue),
                    "restarts": s.restarts,
                    **{k: v for k, v in s.stats.items() if k not in ("shard", "pid")},
                }
                for s in self.shards
            ],
        }


def _key_ok(v: Any) -> bool:
    """A client's request id usable as a key (the ids clients send are JSON of any shape)."""
    return (type(v) is int or type(v) is str) and len(str(v)) <= 64


def _inc(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def _dec(counts: dict[str, int], key: str) -> None:
    n = counts.get(key, 0) - 1
    if n > 0:
        counts[key] = n
    else:
        counts.pop(key, None)


def _enqueue(queue: deque[Pending], p: Pending) -> None:
    """Behind everything of its priority or higher, ahead of lower priorities (usually: at the end)."""
    if not queue or queue[-1].priority >= p.priority:
        queue.append(p)
        return
    for i, q in enumerate(queue):
        if q.priority < p.priority:
            queue.insert(i, p)
            return
