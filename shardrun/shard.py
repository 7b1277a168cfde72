"""A shard process: one thread, one ZeroMQ socket, a warm isolate cache, no shared state.

`run_shard` is the body of a child the supervisor forked. It creates its zmq context and
isolates only now, connects a DEALER to the router's backend, says READY, then loops:
read every request that is waiting (batch per wake-up), start each in its tenant's warm
isolate (or a fresh one), send each reply the moment its result is known, pump isolates
whose timers or deadlines are due, heartbeat (to the router and, through a file, to the
supervisor), and make spare isolates while idle.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import zmq

from . import logs, protocol
from .cache import IsolateCache, Key
from .calls import Call, LogLine
from .egress.client import Egress
from .egress.host import FetchHost
from .egress.internal import InternalRoutes
from .egress.policy import FetchPolicy
from .errors import ShardrunError
from .procs import EXIT_OK, EXIT_PARENT_GONE, EXIT_STUCK, harden, parent_alive
from .runtime import Prepared, WorkerIsolate, prepare
from .settings import Settings
from .watchdog import Watchdog
from .workers import Registry, WorkerSpec

log = logging.getLogger("shardrun.shard")
console = logs.get("shardrun.console")

HEAP_SAMPLE_EVERY = 64  # requests between heap-size samples of a cached isolate


@dataclass(frozen=True, slots=True)
class CallTag:
    """What the shard keeps with each call: the router's id and who it is for."""

    rid: int
    worker: str
    tenant: str
    console: bool
    request_id: str | None
    depth: int = 0          # worker-to-worker calls above this one


@dataclass(frozen=True)
class ShardPlace:
    """Where a shard is: its slot, generation, the router's backend and its heartbeat file."""

    slot: int
    gen: int
    backend: str
    heartbeat_file: Path
    parent: int


class Shard:
    """The state of one shard process (built after fork)."""

    def __init__(self, settings: Settings, place: ShardPlace) -> None:
        self.settings = settings
        self.serve = settings.serve
        self.place = place
        self.oneshot = self.serve.mode == "oneshot"
        self.registry = Registry(self.serve.workers, settings.limits.to_limits(),
                                 settings.fetch.under(settings.egress.controls(self.serve)))
        self.cache = IsolateCache(self.serve.cache_max_isolates, self.serve.cache_max_mb << 20, self.serve.reuse_cap)
        self.spares: list[Prepared] = []
        self.wakes: dict[WorkerIsolate, float | None] = {}   # isolates with work in flight
        self.served = 0
        self.errors = 0
        self.bad_frames = 0
        self.stopping = False
        self._out: list[bytes] = []  # reply bodies to send at the end of this wake-up
        self.zctx = zmq.Context()
        self.sock = self.zctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt(zmq.IDENTITY, protocol.shard_identity(place.slot, os.getpid()))
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self.sock.connect(place.backend)
        self.egress = Egress()
        self.internal = InternalRoutes(self.zctx, self.serve.client_endpoint, self.serve.worker_domains)
        self.fetch_host = FetchHost(self.egress, self._fetch_policy, self._wake, self.internal,
                                    depth_of=lambda call: call.tag.depth)
        self.watchdog = Watchdog(self._stuck)
        from .metrics import ShardMetrics

        self.metrics = ShardMetrics(place.slot)
        self.hb_fd = os.open(place.heartbeat_file, os.O_CREAT | os.O_WRONLY, 0o600)

    # ---- the loop ----------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides
        self.sock.send_multipart(protocol.encode_ready(self.place.slot, os.getpid(), self.place.gen))
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        poller.register(self.internal.sock, zmq.POLLIN)
        poller.register(self.egress.fileno(), zmq.POLLIN)
        hb_every = self.serve.heartbeat_ms / 1000
        next_hb = 0.0
        deadline_stop = None
        while True:
            now = time.monotonic()
            if now >= next_hb:
                self._heartbeat()
                next_hb = now + hb_every
                if not parent_alive(self.place.parent):
                    return EXIT_PARENT_GONE
            if self.stopping:
                deadline_stop = deadline_stop or now + self.serve.graceful_timeout_s
                if not self.wakes or now >= deadline_stop:
                    return EXIT_OK
            wake = min((w for w in self.wakes.values() if w is not None), default=None)
            timeout = next_hb - now if wake is None else min(next_hb, wake) - now
            if timeout > 0 and len(self.spares) < self.serve.spare_isolates and not self._waiting():
                # Idle: make a spare now, so a cold start later is only loading the worker.
                self.spares.append(prepare(self.settings.limits.to_limits()))
                continue
            ready = dict(poller.poll(max(0, timeout) * 1000))
            if self.sock in ready:
                self._read_all()
            # (only what is readable: a shard that never fetches makes no system call for it)
            for key, ok, value in ((self.egress.drain() if self.egress.fileno() in ready else [])
                                   + (self.internal.drain() if self.internal.sock in ready else [])):
                self.fetch_host.done(key, ok, value)
            for key, ok, value in self.internal.expire():
                self.fetch_host.done(key, ok, value)
            self._pump_due()
            self._flush()

    def _waiting(self) -> bool:
        return bool(self.sock.getsockopt(zmq.EVENTS) & zmq.POLLIN)

    def _read_all(self) -> None:
        for _ in range(1000):
            try:
                frames = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                messages = protocol.decode_all(frames)
            except protocol.ProtocolError as exc:
                messages = [exc]
            for msg in messages:
                if isinstance(msg, protocol.ProtocolError):
                    self.bad_frames += 1
                    log.warning("dropped a malformed frame: %s", msg)
                elif msg.type == protocol.REQUEST:
                    self._start(msg)

    def _flush(self) -> None:
        if self._out:
            self.sock.send_multipart(protocol.encode_batch(protocol.REPLY, self._out))
            self._out = []

    def _pump_due(self) -> None:
        now = time.monotonic()
        for iso, wake in list(self.wakes.items()):
            if wake is not None and wake <= now:
                self._after(iso, iso.pump())

    def _after(self, iso: WorkerIsolate, wake: float | None) -> None:
        """Track an isolate after it ran: pump it again later, or let it go."""
        if iso.inflight:
            self.wakes[iso] = wake
            return
        self.wakes.pop(iso, None)
        if iso.retiring or iso.discarded or self.oneshot:
            if not self.oneshot and self.cache.peek(iso.tag) is iso:
                self.cache.drop(iso.tag)
            iso.discard()

    # ---- requests ----------------------------------------------------------------
    def _start(self, msg: protocol.Message) -> None:
        try:
            rid, worker, kind, arg = protocol.request_fields(msg)
            wall_ms = protocol.request_wall_ms(msg)
        except protocol.ProtocolError as exc:
            self.bad_frames += 1
            rid = msg.body.get("id")
            if isinstance(rid, int):
                self._send_error(rid, "E_BAD_REQUEST", str(exc))
            return
        if self.stopping:
            self._send_error(rid, "E_SHUTTING_DOWN", "the shard is shutting down")
            return
        try:
            iso, spec = self._isolate_for(worker, msg.body.get("tenant"))
            rq = msg.body.get("request_id")
            tag = CallTag(rid, spec.name, iso.tag[0], spec.console, rq if isinstance(rq, str) else None,
                          protocol.request_depth(msg))
            limits = replace(spec.limits, wall_ms=min(wall_ms, spec.limits.wall_ms)) if wall_ms else None
            iso.submit(kind, arg, on_result=self._reply, limits=limits, tag=tag)
        except ShardrunError as exc:
            self._send_error(rid, exc.code, exc.message, exc.stack)
            return
        self._after(iso, iso.next_wake())

    def _isolate_for(self, worker: str, tenant: str | None) -> tuple[WorkerIsolate, WorkerSpec]:
        """The warm isolate of (tenant, worker, version), or a new one. The router checked tenant."""
        spec = self.registry.get(worker)
        key = (tenant or spec.tenant, spec.name, spec.version)
        if not self.oneshot:
            iso = self.cache.get(key)
            if iso is not None:
                self._maybe_resize(key, iso)
                return iso, spec  # type: ignore[return-value]
            # A new version of a worker makes its old isolates useless.
            self.cache.drop_where(lambda k: k[1] == spec.name and k[0] == key[0] and k[2] != spec.version)
        prepared = self.spares.pop() if self.spares else None
        iso = WorkerIsolate(spec.script, spec.limits, spec.env, host_ops=self.fetch_host, watchdog=self.watchdog,
                            prepared=prepared, raw_fetch=True)
        iso.tag = key
        if not self.oneshot:
            self.cache.put(key, iso, iso.heap_bytes())
        return iso, spec

    def _fetch_policy(self, iso: WorkerIsolate, call: Call) -> FetchPolicy:
        return self.registry.get(call.tag.worker).fetch   # edits of worker.toml apply at once

    def _wake(self, iso: WorkerIsolate) -> None:
        """A host op of this isolate settled: pump it in this loop turn."""
        if iso.inflight:
            self.wakes[iso] = time.monotonic()

    def _maybe_resize(self, key: Key, iso: Any) -> None:
        if iso.requests % HEAP_SAMPLE_EVERY == 0:
            self.cache.resize(key, iso.heap_bytes())

    def _reply(self, call: Call) -> None:
        r = call.result
        assert r is not None
        tag: CallTag = call.tag
        self.served += 1
        extra: dict[str, Any] = {"shard": self.place.slot, "tenant": tag.tenant, "cpu_ms": round(r.cpu_ms, 3),
                                 "wall_ms": round(r.wall_ms, 3)}
        if tag.console:
            if r.logs:
                extra["logs"] = [[line.level, line.text] for line in r.logs]
                self._log_console(tag, r.logs)
            # Lines logged after the response (ctx.waitUntil work) go to the log when the call finishes.
            call.on_finish = self._late_logs
            call.ext_logs_sent = len(r.logs)
        if r.ok:
            body = protocol.reply_body(tag.rid, True, r.value, **extra)
            cap = self._reply_cap(call)
            if len(body) > cap:   # the JS side caps output; this is the host's own bound on what it sends
                self.errors += 1
                body = protocol.reply_body(tag.rid, False, {"code": "E_RESPONSE_TOO_LARGE", "message":
                                           f"the result is {len(body)} bytes encoded, over the limit of {cap}"}, **extra)
            self._out.append(body)
        else:
            assert r.error is not None
            self.errors += 1
            self._out.append(protocol.reply_body(tag.rid, False, r.error.to_dict(), **extra))

    def _reply_cap(self, call: Call) -> int:
        lim = self.registry.get(call.tag.worker).limits
        return lim.max_output_bytes * 4 // 3 + lim.max_log_bytes * 6 + (256 << 10)

    def _log_console(self, tag: CallTag, lines: list[LogLine]) -> None:
        for line in lines:
            console.info("console", level_js=line.level, text=line.text, worker=tag.worker, tenant=tag.tenant,
                         request_id=tag.request_id)

    def _late_logs(self, call: Call) -> None:
        sent = call.ext_logs_sent
        if len(call.logs) > sent:
            self._log_console(call.tag, call.logs[sent:])

    def _send_error(self, rid: int, code: str, message: str, stack: str = "") -> None:
        self.errors += 1
        if code == "E_SHUTTING_DOWN":   # refused before it started: the router sends it elsewhere
            self._out.append(protocol.refusal_body(rid, code, message, shard=self.place.slot))
            return
        err: dict[str, Any] = {"code": code, "message": message}
        if stack:
            err["stack"] = stack
        self._out.append(protocol.reply_body(rid, False, err, shard=self.place.slot))

    # ---- health ------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        c = self.cache.stats
        return {
            "shard": self.place.slot, "pid": os.getpid(), "gen": self.place.gen,
            "inflight": sum(len(i.inflight) for i in self.wakes), "cached": len(self.cache),
            "cache_bytes": self.cache.bytes, "hits": c.hits, "misses": c.misses, "evictions": c.evictions,
            "retired": c.retired, "served": self.served, "errors": self.errors, "bad_frames": self.bad_frames,
            "spares": len(self.spares),
        }

    def _heartbeat(self) -> None:
        os.utime(self.hb_fd)
        st = self.stats()
        self.sock.send_multipart(protocol.encode_heartbeat(**st))
        self.metrics.publish(st["hits"], st["misses"], st["evictions"], st["cached"])

    def _on_term(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _stuck(self, call: Call) -> None:
        """Watchdog thread: JS will not yield. Tell the router which request, then exit."""
        try:
            # A context of its own: closing it waits until the message is out (up to the
            # linger), which the main context, with the stuck thread's socket, never would.
            ctx = zmq.Context()
            s = ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 1000)
            s.connect(self.place.backend)
            s.send_multipart(protocol.encode(protocol.DISCONNECT, {
                "reason": "cpu", "id": call.tag.rid, "shard": self.place.slot, "pid": os.getpid(),
                "message": f"the request used more than its CPU budget of {call.cpu_budget * 1000:g} ms in code "
                           "the engine could not interrupt; its shard was replaced"}))
            s.close()
            ctx.term()
        finally:
            os._exit(EXIT_STUCK)

    def close(self) -> None:
        self.watchdog.stop()
        self.egress.close()
        self.internal.close()
        self.sock.close(linger=1000)
        self.zctx.term()
        os.close(self.hb_fd)


def run_shard(settings: Settings, place: ShardPlace) -> int:
    """Body of a shard process (after fork)."""
    logs.configure(f"shard {place.slot}")
    harden(settings.serve.shard_max_address_mb, settings.serve.shard_max_open_files)
    shard = Shard(settings, place)
    try:
        return shard.run()
    finally:
        shard.close()

