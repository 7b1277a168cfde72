"""A shard process: one thread, one ZeroMQ socket, a warm isolate cache, no shared state.

`run_shard` is the body of a child the supervisor forked. It creates its zmq context and
isolates only now, connects a DEALER to the router's backend, says READY, then loops:
read every request that is waiting (batch per wake-up) into its tenant's run queue, pump
isolates whose timers or deadlines are due, start queued requests in their tenant's warm
isolate (or a fresh one), send replies as their results are known, heartbeat, and make
spare isolates while idle.

Fair turns (see turns.py): one request per tenant at a time, round-robin, the socket read
again between turns, at most `tenant_max_running` started per tenant.

Liveness. A heartbeat thread touches the supervisor's file while the loop makes progress
or runs a JS turn the watchdog bounds; a loop wedged anywhere else goes stale and is
replaced. The router's heartbeat (counters) is sent by the loop itself (between turns too):
zmq sockets belong to one thread. Memory: the shard samples its own RSS each heartbeat,
evicts cold isolates over the soft ceiling and recycles itself over the hard one (it tells
the router and the supervisor, finishes what it runs, exits with EXIT_RECYCLE).
"""

from __future__ import annotations

import logging
import os
import select
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import zmq

from shardrun import logs, protocol, tracing
from shardrun.bindings.host import BindingHost
from shardrun.bindings.stores import Stores
from shardrun.egress.client import Egress
from shardrun.egress.host import FetchHost
from shardrun.egress.internal import InternalRoutes
from shardrun.engine.bytecode import MODULES
from shardrun.engine.watchdog import Watchdog
from shardrun.errors import ShardrunError
from shardrun.runtime import hostcall
from shardrun.runtime.calls import Call
from shardrun.runtime.isolate import Prepared, WorkerIsolate, prepare
from shardrun.server.bodyin import RequestBodies
from shardrun.server.cache import IsolateCache, RssCeilings, address_limit_mb
from shardrun.server.procs import (
    EXIT_OK,
    EXIT_PARENT_GONE,
    EXIT_RECYCLE,
    HeartbeatFile,
    harden,
    parent_alive,
)
from shardrun.server.shardcalls import ShardCalls
from shardrun.server.shardhealth import ShardHealth
from shardrun.server.shardout import ShardOutput
from shardrun.server.turns import RunQueues
from shardrun.server.zmqwait import ZmqWaits
from shardrun.settings import Settings
from shardrun.workers import Registry

log = logging.getLogger("shardrun.shard")
console = logs.get("shardrun.console")

SLICE_S = 0.02  # longest run of starts before the loop polls, pumps and flushes again
FLUSH_AFTER_S = 0.002  # replies wait about this long for others to share their message ...
SLOW_TURN_S = 0.005  # ... unless the next turn is of a tenant whose last start took this long
READ_EVERY_S = 0.0005  # between turns, the router's socket is read again at most this often
DRAIN_QUIET_S = 0.5  # a recycling shard exits once idle and sent nothing new for this long


@dataclass(frozen=True)
class ShardPlace:
    """Where a shard is: its slot, generation, the router's backend and its heartbeat file."""

    slot: int
    gen: int
    backend: str
    heartbeat_file: Path
    parent: int


class Shard(ShardOutput, ShardHealth, ShardCalls):
    """The state of one shard process (built after fork)."""

    def __init__(self, settings: Settings, place: ShardPlace) -> None:
        self.settings = settings
        self.serve = settings.serve
        self.place = place
        self.oneshot = self.serve.mode == "oneshot"
        self.registry = Registry(
            self.serve.workers,
            settings.limits.to_limits(),
            settings.fetch.under(settings.egress.controls(self.serve)),
            settings.bindings,
        )
        self.ceilings = RssCeilings.of(self.serve)
        self.cache = IsolateCache(*self.ceilings.cache_limits(self.serve), self.serve.reuse_cap)
        # Module bytecode for twice the isolates the cache holds: an evicted tenant comes back
        # without compiling (a small worker's bytecode is a few KB; bounded by a tenth of the heap bound).
        MODULES.resize(2 * self.cache.max_isolates, max(64 << 20, self.cache.max_bytes // 10))
        self.spares: list[Prepared] = []
        self.wakes: dict[WorkerIsolate, float | None] = {}  # isolates with work in flight
        self.streams: dict[int, tuple[WorkerIsolate, Call]] = {}  # router id -> a call whose body streams
        self.runq = RunQueues(self.serve.tenant_max_running)
        self.served = 0
        self.errors = 0
        self.rejections = 0  # unhandled promise rejections in its isolates
        self.bad_frames = 0
        self.stopping = False
        self.draining: float | None = None  # when the shard started handing its slot over
        self.last_request = 0.0
        self.rss = 0
        self.next_hb = 0.0
        self._flushed = 0.0
        self._read_at = 0.0  # when the router's socket was last read
        self.slow: set[str] = set()  # tenants whose last first turn was slow
        self._out: list[bytes] = []  # reply bodies to send at the end of this wake-up
        self.zctx = zmq.Context()
        self.ep = select.epoll()  # the loop's one wait (see run)
        self.sock = self.zctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt(zmq.IDENTITY, protocol.shard_identity(place.slot, os.getpid()))
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self.sock.connect(place.backend)
        self.egress = Egress()
        self.internal = InternalRoutes(self.zctx, self.serve.client_endpoint, self.serve.worker_domains)
        self.zw = ZmqWaits(self.ep, self.sock, self.internal.sock)  # 1: the router's, 2: worker-to-worker replies
        self.tracer = tracing.setup(settings, "shard")
        self._arrived: dict[int, float] = {}  # id(request message) -> when it arrived (traces' queue wait)
        self.bodies = RequestBodies(self._wake)  # request bodies streaming in (server/bodyin.py)
        self.fetch_host = FetchHost(
            self.egress,
            self._fetch_policy,
            self._wake,
            self.internal,
            depth_of=lambda call: call.tag.depth,
            tracer=self.tracer,
        )
        pg = settings.sources.postgres
        self.stores = Stores(settings.bindings, pg.database_url, pg.table, lambda w: self.registry.get(w).tenant)
        self.binding_host = BindingHost(self.stores, self._caller, self._wake)
        self.watchdog = Watchdog(self._stuck)
        from shardrun.server.metrics import ShardMetrics

        self.metrics = ShardMetrics(place.slot)
        self.hb_fd = os.open(place.heartbeat_file, os.O_CREAT | os.O_WRONLY, 0o600)
        self.beat = HeartbeatFile(self.hb_fd, self.serve.heartbeat_ms / 1000, lambda: self.watchdog.busy)

    # ---- the loop ----------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides
        self.sock.send_multipart(protocol.encode_ready(self.place.slot, os.getpid(), self.place.gen))
        # One epoll set: the egress and bindings pipes, and the router's and worker-to-worker
        # ZeroMQ sockets (zmqwait.py).
        ep = self.ep
        egress_fd, binding_fd = self.egress.fileno(), self.binding_host.fileno()
        ep.register(egress_fd, select.EPOLLIN)
        ep.register(binding_fd, select.EPOLLIN)
        self.beat.start()
        deadline_stop = None
        while True:
            now = time.monotonic()
            self.beat.alive()
            if now >= self.next_hb:
                self._heartbeat(now)
                if not parent_alive(self.place.parent):
                    return EXIT_PARENT_GONE
            idle = not self.wakes and not self.runq.waiting
            if self.stopping:
                deadline_stop = deadline_stop or now + self.serve.graceful_timeout_s
                if idle or now >= deadline_stop:
                    return EXIT_OK
            if self.draining is not None and (
                (idle and now - self.last_request >= DRAIN_QUIET_S)
                or now >= self.draining + self.serve.graceful_timeout_s
            ):
                log.info("shard %d (pid %d) handed its slot over: exiting", self.place.slot, os.getpid())
                return EXIT_RECYCLE
            wake = min((w for w in self.wakes.values() if w is not None), default=None)
            timeout = 0.0 if self.runq.order else (self.next_hb if wake is None else min(self.next_hb, wake)) - now
            if (
                timeout > 0
                and len(self.spares) < self.serve.spare_isolates
                and not self._waiting()
                and self.draining is None
                and not self._memory_short()
            ):
                # Idle: make a spare now, so a cold start later is only loading the worker.
                self.spares.append(prepare(self.settings.limits.to_limits()))
                continue
            # The router's socket is used in nearly every wake-up: its EVENTS are read before each
            # wait; the worker-to-worker socket's only while calls are out on it (or its FD fired).
            waiting = self.zw.readable(1 | (2 if self.internal.pending else 0))
            events = ep.poll(0 if waiting else max(0.0, timeout), 16)
            waiting = self.zw.after(events, waiting)
            if waiting & 1:
                self._read_all()
            # (only what is readable: a shard that never fetches makes no system call for it)
            ready = {fd for fd, _ in events} if events else ()
            for key, ok, value in (self.egress.drain() if egress_fd in ready else []) + (
                self.internal.drain() if waiting & 2 else []
            ):
                self.fetch_host.done(key, ok, value)
            for key, ok, value in self.internal.expire():
                self.fetch_host.done(key, ok, value)
            if binding_fd in ready:
                self.binding_host.drain()
            self._pump_due()
            self._run_queued()
            self._flush()

    def _waiting(self) -> bool:
        return bool(self.zw.readable(1))

    def _read_all(self) -> None:
        self._read_at = time.monotonic()
        self.registry.recheck()  # worker files are checked again for the requests read now
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
                elif msg.type == protocol.CONTROL:
                    self._control(msg.body)
                elif msg.type == protocol.REQUEST:
                    if self.tracer is not None:
                        self._arrived[id(msg)] = time.monotonic()
                    if msg.body.get("body_stream") is True:
                        self.bodies.expect(msg.body.get("id"))
                    self.runq.put(self._tenant_of(msg), msg)
                    self.last_request = time.monotonic()

    def _tenant_of(self, msg: protocol.Message) -> str:
        """The tenant a request runs as (as `_isolate_for` picks it); "" when its worker is unknown."""
        tenant, worker = msg.body.get("tenant"), msg.body.get("worker")
        if isinstance(tenant, str) and tenant:
            return tenant
        if not isinstance(worker, str):
            return ""
        try:
            return self.registry.get(worker).tenant
        except ShardrunError:
            return ""

    def _run_queued(self) -> None:
        """Start queued requests, one tenant at a time, until none may start or the slice is used."""
        t0 = time.monotonic()
        end = t0 + SLICE_S
        slow = self.slow
        while (item := self.runq.take()) is not None:
            tenant, msg = item
            if self._out and (tenant in slow or t0 - self._flushed >= FLUSH_AFTER_S):
                self._flush()  # what is answered goes out before a turn that may take long
            if not self._start(msg, tenant):
                self.runq.finished(tenant)
            t1 = time.monotonic()
            if t1 - t0 >= SLOW_TURN_S:
                if len(slow) >= 10_000:
                    slow.clear()
                slow.add(tenant)
            elif slow:
                slow.discard(tenant)
            t0 = self._between(t1)
            if t0 >= end:
                return

    def _between(self, now: float) -> float:
        """After a turn: read what arrived (into the run queues; at most every READ_EVERY_S, so
        a run of short turns reads its requests in batches), heartbeat when due. The time after."""
        self.beat.alive(now)
        if now - self._read_at >= READ_EVERY_S and self._waiting():
            self._read_all()
            now = time.monotonic()
        if now >= self.next_hb:
            self._heartbeat(now)
            now = time.monotonic()
        return now

    def _flush(self) -> None:
        self._flushed = time.monotonic()
        if self._out:
            self.sock.send_multipart(protocol.encode_batch(protocol.REPLY, self._out))
            self._out = []
        if self.bodies.out:  # credit for request bodies the workers read
            self.sock.send_multipart(protocol.encode_control(self.bodies.out))
            self.bodies.out = []

    def _pump_due(self) -> None:
        now = time.monotonic()
        for iso, wake in list(self.wakes.items()):
            if wake is not None and wake <= now:
                self._flush()
                self._after(iso, iso.pump())
                self._between(time.monotonic())

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

    def _on_term(self, signum: int, frame: object) -> None:
        self.stopping = True

    def close(self) -> None:
        if self.tracer is not None:
            self.tracer.shutdown()
        self.beat.stop()
        self.watchdog.stop()
        self.egress.close()
        self.binding_host.close()
        self.internal.close()
        self.sock.close(linger=1000)
        self.zctx.term()
        self.ep.close()
        os.close(self.hb_fd)


def run_shard(settings: Settings, place: ShardPlace) -> int:
    """Body of a shard process (after fork)."""
    logs.configure(f"shard {place.slot}", settings.serve.log_level)
    harden(address_limit_mb(settings.serve), settings.serve.shard_max_open_files)
    hostcall.preload("url")  # request URLs are parsed on the host: its parser is imported before any request
    shard = Shard(settings, place)
    try:
        return shard.run()
    finally:
        shard.close()
