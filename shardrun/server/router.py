"""The router process: takes requests from clients and sends each to its tenant's shard.

Sockets: a ROUTER for clients (the ZeroMQ client API), a ROUTER for shards (ipc), and a
pipe from the supervisor that says when a shard process died. Both ROUTERs set
ROUTER_MANDATORY, so a send to a peer that is gone fails loudly instead of vanishing:
every request the router accepts ends in exactly one reply, a shard's or the router's own
error (`sent == answered + failed` in the stats).

Backpressure is explicit: a shard runs at most `max_inflight_per_shard` requests; the
rest wait in its queue (at most `max_queued` in all, each at most `wait_timeout_ms`,
then E_OVERLOADED); a tenant has at most `tenant_max_concurrency` in flight (then
E_TENANT_LIMIT at once). Those decisions live in table.py; this module owns the sockets,
the loop, and sending what the table leaves in its outboxes once per wake-up.
"""

from __future__ import annotations

import logging
import os
import resource
import select
import signal
import time
from pathlib import Path

import zmq

from shardrun import logs, protocol, tracing
from shardrun.assets import AssetLimits
from shardrun.server import metrics
from shardrun.server.frontdoor import FrontDoor
from shardrun.server.http import HttpLimits
from shardrun.server.httpreplies import HttpClient
from shardrun.server.procs import (
    EXIT_BOOT_ERROR,
    EXIT_OK,
    EXIT_PARENT_GONE,
    ROUTER_HEARTBEAT,
    parent_alive,
    touch_heartbeat,
)
from shardrun.server.statics import AssetRoutes
from shardrun.server.table import Pending, RoutingTable, ShardState
from shardrun.server.zmqwait import ZmqWaits
from shardrun.settings import Settings, is_loopback

log = logging.getLogger("shardrun.router")

TICK_SECONDS = 0.01
FD_RESERVE = 256  # descriptors kept back from HTTP connections: zmq, ipc sockets, logs, metrics files
ADMIN_CONNECTIONS = 64  # connections to the admin port (they come out of the reserve)


class Router:
    """The router's sockets and loop around its RoutingTable."""

    def __init__(self, settings: Settings, backend: str, notify_fd: int | None, parent: int) -> None:
        self.settings = settings
        self.serve = s = settings.serve
        self.parent = parent
        self.notify_fd = notify_fd
        self.table = t = RoutingTable(settings)
        self.zctx = zmq.Context()
        self.ep = select.epoll()  # the loop's one wait (see run)
        self.backend = self._router_socket(backend)
        self.frontend = self._router_socket(s.client_endpoint)
        self.drain_until = 0.0
        self._front_used = True  # the clients' socket was read or sent on since its EVENTS were read
        self.tracer = t.tracer = tracing.setup(settings, "router")
        self.front: FrontDoor | None = None
        if s.http_enabled:
            limits = HttpLimits(
                s.http_max_header_bytes,
                s.http_max_body_bytes,
                s.http_header_timeout_s,
                s.http_body_timeout_s,
                s.http_keepalive_timeout_s,
            )
            self.front = FrontDoor(
                s.http_host,
                s.http_port,
                s.worker_domains,
                limits,
                settings.payload.max_depth,
                t.accept,
                t.status,
                time.monotonic(),
                s.access_log,
                admin=s.admin_port is None,
                ep=self.ep,
                max_per_ip=s.http_max_connections_per_ip,
                max_conns=connection_cap(s.http_max_connections),
                assets=AssetRoutes(t.registry, AssetLimits(settings.assets.max_file_bytes)),
            )
            self.front.trace = self.tracer is not None
            self.front.streams.on_credit = t.credit
            self.front.streams.on_cancel = t.cancel
            self.front.bodies.table = t
            log.info("HTTP on http://%s:%d/", s.http_host, self.front.port)
        self.admin: FrontDoor | None = None
        if s.admin_port is not None:
            self.admin = FrontDoor(
                s.http_host,
                s.admin_port,
                [],
                HttpLimits(),
                settings.payload.max_depth,
                t.accept,
                t.status,
                time.monotonic(),
                access_log=False,
                admin=True,
                workers=False,
                max_per_ip=ADMIN_CONNECTIONS,
                max_conns=ADMIN_CONNECTIONS,
                ep=self.ep,
            )
            log.info("admin HTTP on http://%s:%d/", s.http_host, self.admin.port)
        if (self.front or self.admin) and not is_loopback(s.http_host):
            log.warning("HTTP listens on %s, not a loopback address: other machines may reach it", s.http_host)

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
        # One epoll set for everything: the HTTP listeners and connections (the doors keep their
        # own fds current in it), the supervisor's pipe, and the two ZeroMQ sockets (zmqwait.py).
        ep = self.ep
        zw = ZmqWaits(ep, self.backend, self.frontend)
        if self.notify_fd is not None:
            ep.register(self.notify_fd, select.EPOLLIN)
        next_tick = 0.0
        stop_deadline = None
        # Liveness: the supervisor replaces a router whose heartbeat file goes stale (frozen, wedged).
        hb_file = Path(self.serve.runtime_dir) / ROUTER_HEARTBEAT if self.serve.runtime_dir else None
        next_hb = 0.0
        doors = self._doors()
        while True:
            for door in doors:
                door.sync(self.table.stopping and door is self.front)
            # The shards' socket is read from or sent on in nearly every wake-up: its EVENTS are
            # read before each wait; the clients' only when it was used since (or its FD fired).
            waiting = zw.readable(1 | (2 if self._front_used else 0))
            self._front_used = False
            events = ep.poll(0 if waiting else TICK_SECONDS, 4096)
            self.table.registry.recheck()
            waiting = zw.after(events, waiting)
            if waiting & 1:
                self._read_backend()
            if waiting & 2:
                self._front_used = True
                self._read_frontend()
            if events:
                now = time.monotonic()
                if self.notify_fd is not None and any(fd == self.notify_fd for fd, _ in events):
                    self._read_notify()
                for door in doors:
                    door.handle(events, now)
            self._flush()
            now = time.monotonic()
            if hb_file is not None and now >= next_hb:
                next_hb = now + self.serve.heartbeat_ms / 1000
                touch_heartbeat(hb_file)
            if now >= next_tick:
                next_tick = now + TICK_SECONDS
                self.table.expire(now)
                if not parent_alive(self.parent):
                    return EXIT_PARENT_GONE
                for door in doors:
                    door.expire(now)
                metrics.TALLY.flush()  # the requests the doors counted, to the metrics files
                if self.table.draining and not self.table.stopping and now >= self.drain_until:
                    log.info("drained: stopping intake")
                    self.table.stopping = True
                if self.table.stopping:
                    stop_deadline = stop_deadline or now + self.serve.graceful_timeout_s
                    if not self.table.pending or now >= stop_deadline:
                        for p in list(self.table.pending.values()):
                            self.table.fail(p, "E_SHUTTING_DOWN", "the server shut down before the request finished")
                        self._flush()
                        for door in doors:
                            door.sync(True)  # the answers just queued go out before the doors close
                        return EXIT_OK
                self._flush()

    def _doors(self) -> list[FrontDoor]:
        return [d for d in (self.front, self.admin) if d is not None]

    def _on_term(self, signum: int, frame: object) -> None:
        """SIGTERM: with serve.drain_s, health answers 503 for that long while requests are still
        served (a load balancer moves the traffic away); then, or at once without it, intake stops."""
        if self.serve.drain_s > 0 and not self.table.draining:
            self.table.draining = True
            self.drain_until = time.monotonic() + self.serve.drain_s
        else:
            self.table.stopping = True

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
                self.table.counts["bad_frames"] += 1
                log.warning("dropped a malformed client frame: %s", exc)
                continue
            for raw in bodies:
                try:
                    msg = protocol.decode_body(type_, raw)
                except protocol.ProtocolError as exc:
                    self.table.counts["bad_frames"] += 1
                    log.warning("dropped a malformed client frame: %s", exc)
                    continue
                if msg.type == protocol.REQUEST:
                    self.table.accept(client, msg, raw)

    def _flush(self) -> None:
        """Send what this wake-up produced: one message per shard and per client."""
        t = self.table
        if t.shard_out:
            batches, t.shard_out = t.shard_out, {}
            for slot, batch in batches.items():
                self._send_batch(t.shards[slot], batch)
        if t.client_out:
            batches_c, t.client_out = t.client_out, {}
            for client, bodies in batches_c.items():
                if isinstance(client, HttpClient):
                    door = self.front if self.front is not None else self.admin
                    assert door is not None
                    for body in bodies:
                        door.deliver(client, body)
                    continue
                self._front_used = True
                try:
                    self.frontend.send_multipart([client, protocol.HEADER, protocol.REPLY, *bodies], zmq.NOBLOCK)
                except zmq.ZMQError as exc:  # the client is gone or not reading: nothing else to do
                    t.counts["client_unreachable"] += len(bodies)
                    log.info("cannot reply to a client: %s", exc)
                    for p in [p for p in t.pending.values() if p.client == client and p.streaming]:
                        t.cancel(p.rid)  # its streams stop in their shards
        if self.front is not None and (self.front.bodies.ready or self.front.bodies.paused):
            self.front.bodies.flush()  # request body pieces, after the requests they follow
        if t.shard_ctl:  # stream credit and cancels, after the deliveries that made them
            ctl, t.shard_ctl = t.shard_ctl, {}
            for slot, bodies in ctl.items():
                ident = t.shards[slot].identity
                if ident is None:
                    continue  # the shard is gone: its streams failed with it
                try:
                    self.backend.send_multipart([ident, *protocol.encode_control(bodies)], zmq.NOBLOCK)
                except zmq.ZMQError as exc:
                    log.warning("shard %d unreachable for %d stream controls (%s)", slot, len(bodies), exc)

    # ---- shards ---------------------------------------------------------------------
    def _send_batch(self, shard: ShardState, batch: list[Pending]) -> None:
        live = [p for p in batch if p.rid in self.table.pending and p.sent_to is not None]
        if not live:
            return
        ident = live[0].sent_to
        assert ident is not None  # live requests were sent
        try:
            self.backend.send_multipart(
                [ident, protocol.HEADER, protocol.REQUEST, *(p.body for p in live)], zmq.NOBLOCK
            )
        except zmq.ZMQError as exc:
            log.warning("shard %d unreachable (%s); requeueing %d requests", shard.slot, exc, len(live))
            self.table.unsend(shard, live, ident)
            return
        self.table.counts["sent"] += len(live)

    def _read_backend(self) -> None:
        for _ in range(1000):
            try:
                frames = self.backend.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                self._from_shard(frames)
            except Exception:  # one bad message is dropped and counted; the router goes on
                self.table.counts["bad_frames"] += 1
                log.exception("dropped a shard message that could not be handled")

    def _from_shard(self, frames: list[bytes]) -> None:
        ident = frames[0]
        if len(frames) >= 4 and frames[1] == protocol.HEADER and frames[2] == protocol.REPLY:
            for body in frames[3:]:
                self.table.on_reply(ident, body)
            return
        try:
            messages = protocol.decode_all(frames[1:])
        except protocol.ProtocolError as exc:
            messages = [exc]
        for msg in messages:
            if isinstance(msg, protocol.ProtocolError):
                self.table.counts["bad_frames"] += 1
                log.warning("dropped a malformed shard frame: %s", msg)
            elif msg.type in (protocol.READY, protocol.HEARTBEAT):
                self.table.on_alive(ident, msg)
            elif msg.type == protocol.DISCONNECT:
                self.table.on_disconnect(msg.body)
            elif msg.type == protocol.CONTROL and self.front is not None:
                self.front.bodies.credit(msg.body)  # its worker read some of a request body

    def _read_notify(self) -> None:
        assert self.notify_fd is not None
        data = os.read(self.notify_fd, 65536)
        for line in data.decode().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "dead":
                self.table.shard_lost(int(parts[1]), int(parts[2]), " ".join(parts[3:]))

    def close(self) -> None:
        if self.tracer is not None:
            self.tracer.shutdown()
        for door in self._doors():
            door.close()
        metrics.TALLY.flush()
        self.backend.close(0)
        self.frontend.close(0)
        self.zctx.term()
        self.ep.close()


def raise_open_files(want: int) -> tuple[int, int]:
    """Set the soft RLIMIT_NOFILE to `want` (0: as high as the hard limit goes); the (soft, hard) it got."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    top = hard
    if hard == resource.RLIM_INFINITY:
        try:
            with open("/proc/sys/fs/nr_open") as f:
                top = int(f.read())
        except (OSError, ValueError):
            top = 1 << 20
    target = top if want == 0 else min(want, top)
    if target != soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (OSError, ValueError) as exc:
            log.warning("cannot set the open files limit to %d: %s", target, exc)
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def connection_cap(configured: int | None) -> int:
    """HTTP connections in all: as configured, else min(10000, the open-files limit less a reserve)."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    room = soft - min(FD_RESERVE, soft // 4) - ADMIN_CONNECTIONS
    if configured is None:
        return max(1, min(10_000, room))
    if configured > room:
        log.warning(
            "http_max_connections=%d is more than %d open files leave room for (%d): accept() will run out "
            "of descriptors first",
            configured,
            soft,
            room,
        )
    return configured


def run_router(settings: Settings, backend: str, notify_fd: int | None, parent: int) -> int:
    """Body of the router process (after fork)."""
    logs.configure("router", settings.serve.log_level)
    soft, hard = raise_open_files(settings.serve.http_max_open_files)
    log.info("open files limit: %d (hard limit %d)", soft, hard)
    try:
        router = Router(settings, backend, notify_fd, parent)
    except (OSError, zmq.ZMQError) as exc:
        # A port in use or an endpoint we may not bind will not fix itself: a boot error
        # (twice in a row, the supervisor stops the server instead of respawning forever).
        log.error("the router cannot start: %s", exc)
        return EXIT_BOOT_ERROR
    try:
        return router.run()
    finally:
        router.close()
