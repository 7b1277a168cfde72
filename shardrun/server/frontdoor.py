"""The HTTP front door, inside the router process: requests become worker calls.

    http://<worker>.<domain>/path      Host routing, for the configured worker domains
    http://127.0.0.1:8080/w/<worker>/path   path routing (the worker sees /path)
    /_shardrun/..., /metrics           the server's own endpoints (server/httpadmin.py)

Replies are written by server/httpreplies.py. A worker with `[assets]` has its files answered here, before its fetch (server/statics.py).
With `admin_port` set, the admin paths are served only there, and the main port routes
every path to workers.

A request whose body is still arriving is admitted once its headers are in, and its body
streams to the worker as it comes (server/bodies.py); the admin paths take theirs whole.

Requests are admitted exactly like ZeroMQ clients' (same routing table, limits and
accounting); errors are `{"error": {"code", "message"}}` with the status of errors.CODES.
An `X-Request-Id` is honoured (when sane) or made, and returned (a worker's own X-Request-Id response header
is kept instead).
"""

from __future__ import annotations

import errno
import heapq
import itertools
import math
import os
import re
import select
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import orjson

from shardrun import logs, protocol
from shardrun.errors import ShardrunError, http_status
from shardrun.runtime.calls import fetch_arg
from shardrun.server.bodies import StreamedBodies
from shardrun.server.http import HttpConnection, HttpLimits, IncomingRequest
from shardrun.server.httpadmin import ADMIN, AdminEndpoints
from shardrun.server.httpreplies import JSON, HttpClient, HttpReplies
from shardrun.server.httpsyntax import error_body, render
from shardrun.server.statics import AssetRoutes
from shardrun.server.streams import StreamedReplies
from shardrun.workers import NAME

access = logs.get("shardrun.access")
log = logs.get("shardrun.router")
ACCEPT_PAUSE_S = 0.1  # how long the listener rests when accept() is out of descriptors
RECHECK_S = 0.05  # a deadline that has come but did not act is looked at again this much later
ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
URL_SAFE = "/%:@!$&'()*+,;=~-._"
PLAIN = re.compile(r"[A-Za-z0-9/%:@!$&'()*+,;=~._-]*")  # what quote(..., safe=URL_SAFE) leaves as it is
PLAIN_QUERY = re.compile(r"[A-Za-z0-9/%:@!$&'()*+,;=~._?-]*")


def quoted(s: str, pattern: re.Pattern[str], safe: str) -> str:
    """`s` percent-encoded outside `safe` (Latin-1 bytes); most paths need nothing, and are not copied."""
    return s if pattern.fullmatch(s) else quote(s, safe=safe, encoding="latin-1")


class RequestIds:
    """Request ids for clients that send none: 128 random bits as 32 hex digits, like a UUID's,
    drawn from the OS 256 at a time (one system call per 256 ids, not one each). Random rather
    than counted, so an id tells a client nothing of how many requests others sent."""

    BATCH = 256

    def __init__(self) -> None:
        self.buf = ""
        self.pos = 0

    def __call__(self) -> str:
        if self.pos >= len(self.buf):
            self.buf, self.pos = os.urandom(16 * self.BATCH).hex(), 0
        i = self.pos
        self.pos = i + 32
        return self.buf[i : i + 32]


class FrontDoor(AdminEndpoints, HttpReplies):
    """Listening socket, connections, and the mapping between HTTP and worker calls.

    Its listener and connections are in the owner's epoll set (`ep`, shared with the owner's
    other sockets; one of its own without it), so a wake-up costs what happened, not how many
    connections are open: poll flags change only for connections that changed (`_changed`,
    applied by `sync()`), and time-outs come off a heap of deadlines. Past `max_conns` (in all) or `max_per_ip`, a new connection gets a 503 at
    once; when accept() runs out of descriptors the listener rests for ACCEPT_PAUSE_S."""

    def __init__(
        self,
        host: str,
        port: int,
        domains: list[str],
        limits: HttpLimits,
        payload_depth: int,
        admit: Callable[[Any, protocol.Message, bytes], None],
        status: Callable[[], dict[str, Any]],
        now: float,
        access_log: bool = True,
        admin: bool = True,
        workers: bool = True,
        max_per_ip: int = 256,
        max_conns: int = 1024,
        assets: AssetRoutes | None = None,
        ep: select.epoll | None = None,
    ) -> None:
        self.assets = assets  # workers' static files, answered here before their fetch (server/statics.py)
        self.limits = limits
        self.access_log = access_log
        self.admin = admin  # serve /_shardrun/* and /metrics here
        self.workers = workers  # route to workers here
        self.domains = [d.lower().strip(".") for d in domains]
        self.payload_depth = payload_depth
        self.admit = admit
        self.status = status
        self.listener = socket.create_server((host, port), backlog=1024, reuse_port=False)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.conns: dict[int, HttpConnection] = {}
        self.ips: dict[HttpConnection, str] = {}
        self.per_ip: Counter[str] = Counter()
        self.max_per_ip = max_per_ip
        self.max_conns = max_conns
        self.counts: Counter[str] = Counter()  # refused_per_ip, refused_total, accept_paused
        self._ep = ep if ep is not None else select.epoll()  # shared with the owner's loop
        self._own_ep = ep is None
        self._flags: dict[int, int] = {}  # this door's fds in the epoll set -> their flags
        self._dirty: set[HttpConnection] = set()
        self._due: dict[HttpConnection, float] = {}  # each connection's earliest deadline in the heap
        self._timers: list[tuple[float, int, HttpConnection]] = []
        self._tie = itertools.count()
        self.new_id = RequestIds()
        self._accept_at = 0.0  # the listener rests until then (out of descriptors)
        self.now = now
        self.trace = False  # pass the clients' traceparent/tracestate on (the router sets it when traces are on)
        self.streams = StreamedReplies()  # the router sets its on_credit / on_cancel
        self.bodies = StreamedBodies()  # request bodies that follow their request (the router sets its table)

    # ---- sockets -------------------------------------------------------------------
    def sync(self, stopping: bool) -> None:
        """Keep the shared epoll set current: the listener, and the connections that changed."""
        lfd = self.listener.fileno()
        if stopping and lfd >= 0:
            self._unwatch(lfd)
            self.listener.close()  # stop intake; open connections finish what they started
        elif lfd >= 0 and lfd not in self._flags and time.monotonic() >= self._accept_at:
            self._watch(lfd, select.EPOLLIN)
        if self._dirty:
            dirty, self._dirty = self._dirty, set()
            for c in dirty:
                if c.out and not c.closed:
                    c.flush()  # this wake-up's responses, in one write
                if not c.closed:
                    self._watch(
                        c.fd, (select.EPOLLIN if c.wants_read else 0) | (select.EPOLLOUT if c.wants_write else 0)
                    )
                    self._schedule(c)

    def _watch(self, fd: int, flags: int) -> None:
        old = self._flags.get(fd)
        if old is None:
            self._ep.register(fd, flags)
        elif old != flags:
            self._ep.modify(fd, flags)
        self._flags[fd] = flags

    def _unwatch(self, fd: int) -> None:
        if self._flags.pop(fd, None) is not None:
            try:
                self._ep.unregister(fd)
            except OSError:  # pragma: no cover - already gone
                pass

    def handle(self, events: list[tuple[int, int]], now: float) -> None:
        """Serve what is ready: the events of the shared epoll set that are this door's."""
        self.now = now
        lfd = self.listener.fileno()
        for fd, ev in events:
            if fd == lfd:
                self.accept(now)
                continue
            c = self.conns.get(fd)
            if c is None:
                continue
            if ev & (select.EPOLLHUP | select.EPOLLERR):
                c.close()  # reset, or both ways shut: nothing can go out any more
                continue
            if ev & select.EPOLLIN:
                c.on_readable(now)
            if ev & select.EPOLLOUT and not c.closed:
                c.on_writable()
                if c in self.streams.by_conn:
                    self.streams.drained(c)
            if not c.closed:
                self._dirty.add(c)

    def accept(self, now: float) -> None:
        for _ in range(256):
            try:
                sock, addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                return self._rest(now, exc)  # EMFILE, ENFILE, ENOBUFS...: not a reason to end the router
            ip = addr[0] if isinstance(addr, tuple) else ""
            # One client, or many, holding every socket must not starve the rest or the process.
            if len(self.conns) >= self.max_conns:
                self._refuse(
                    sock, "refused_total", f"the server has {len(self.conns)} open connections (limit {self.max_conns})"
                )
                continue
            if self.per_ip[ip] >= self.max_per_ip:
                self._refuse(sock, "refused_per_ip", f"too many connections from {ip} (limit {self.max_per_ip})")
                continue
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = HttpConnection(
                sock,
                self.limits,
                self._on_request,
                now,
                on_change=self._changed,
                open_body=self.bodies.open if self.workers else None,
            )
            self.conns[conn.fd] = conn
            self.ips[conn] = ip
            self.per_ip[ip] += 1
            self._watch(conn.fd, select.EPOLLIN)
            self._schedule(conn)

    def _refuse(self, sock: socket.socket, count: str, message: str) -> None:
        self.counts[count] += 1
        try:
            sock.setblocking(False)
            sock.send(render(503, [*JSON, ("retry-after", "1")], error_body("E_OVERLOADED", message), close=True))
            sock.recv(65536)  # what the client sent already: unread, close() would reset the connection
        except OSError:
            pass
        sock.close()

    def _rest(self, now: float, exc: OSError) -> None:
        """Out of descriptors: take the listener out of the poll set for a moment (connections queue in the backlog)."""
        self.counts["accept_paused"] += 1
        if self.counts["accept_paused"] == 1:
            log.warning(
                "accept paused", reason=str(exc), open_connections=len(self.conns), pause_ms=ACCEPT_PAUSE_S * 1000
            )
        self._unwatch(self.listener.fileno())
        self._accept_at = now + ACCEPT_PAUSE_S

    def _changed(self, c: HttpConnection) -> None:
        """A connection queued a response or closed (called before its socket closes)."""
        if not c.closed:
            self._dirty.add(c)
            return
        if c in self.streams.by_conn:
            self.streams.closed(c)
        if c in self.bodies.by_conn:
            self.bodies.closed(c)
        self._unwatch(c.fd)
        if self.conns.get(c.fd) is c:
            del self.conns[c.fd]
        self._dirty.discard(c)
        self._due.pop(c, None)
        ip = self.ips.pop(c, "")
        self.per_ip[ip] -= 1
        if self.per_ip[ip] <= 0:
            del self.per_ip[ip]

    def _schedule(self, c: HttpConnection) -> None:
        d = c.deadline()
        if d is not None and d < self._due.get(c, math.inf):
            self._due[c] = d
            heapq.heappush(self._timers, (d, next(self._tie), c))

    def expire(self, now: float) -> None:
        """Time out the connections whose deadline has come (the others are not looked at)."""
        self.now = now
        while self._timers and self._timers[0][0] <= now:
            d, _, c = heapq.heappop(self._timers)
            if self._due.get(c) != d:
                continue  # closed, or rescheduled earlier
            del self._due[c]
            c.expire(now)
            if not c.closed:
                self._dirty.add(c)
                nxt = c.deadline()
                if nxt is not None:
                    self._due[c] = max(nxt, now + RECHECK_S)
                    heapq.heappush(self._timers, (self._due[c], next(self._tie), c))

    def close(self) -> None:
        for c in list(self.conns.values()):
            c.close()
        self.listener.close()
        if self._own_ep:
            self._ep.close()

    # ---- requests ---------------------------------------------------------------------
    def _on_request(self, req: IncomingRequest) -> None:
        rid = req.header("x-request-id")
        if rid is None or not REQUEST_ID.fullmatch(rid):
            rid = self.new_id()
        if req.stream is not None and not self._streams_to_worker(req):  # an admin path takes its body whole
            return req.stream.collect(
                lambda body: self._on_request(replace(req, body=body, stream=None)),
                lambda code, message: self._error(req.conn, req.seq, rid, code, message),
            )
        try:
            self._route(req, rid)
        except ShardrunError as exc:
            self._error(req.conn, req.seq, rid, exc.code, exc.message)
            if self.access_log:
                access.info(
                    "request",
                    request_id=rid,
                    method=req.method,
                    path=req.path[:200],
                    status=http_status(exc.code),
                    code=exc.code,
                    duration_ms=0.0,
                )
        finally:
            if req.stream is not None and req.stream.mode == "wait":
                req.stream.discard()  # answered here (or refused): the rest of the body is read and dropped

    def _streams_to_worker(self, req: IncomingRequest) -> bool:
        """Whether a request whose body follows it goes to a worker (else it is taken whole first)."""
        return req.path != "*" and not self._admin_path(req.path, self._worker_from_host(req.host))

    def _admin_path(self, path: str, worker: str | None) -> bool:
        """A path this door answers itself (not a worker's host, and admin served here)."""
        return worker is None and self.admin and (path.startswith(ADMIN) or path == "/metrics")

    def _route(self, req: IncomingRequest, rid: str) -> None:
        path, query, host = req.path, req.query, req.host
        if path == "*":  # OPTIONS * asks the server, not a worker
            return req.conn.respond(req.seq, 204, [("allow", ALLOW), ("x-request-id", rid)], b"")
        worker = self._worker_from_host(host)
        if self._admin_path(path, worker):
            return self._admin(req, rid, path[len(ADMIN) :] if path.startswith(ADMIN) else "metrics")
        if worker is None and not self.workers:
            raise ShardrunError(f"no admin endpoint {path[:200]} on this port", code="E_NOT_FOUND")
        mount = ""
        if worker is None:
            parts = path.split("/", 3)
            if len(parts) >= 3 and parts[1] == "w" and parts[2]:
                worker = parts[2]
                path = "/" + (parts[3] if len(parts) > 3 else "")
                mount = f"/w/{worker}"
            else:
                raise ShardrunError(
                    f"no worker for {host or 'this host'}{path[:200]}: use http://<worker>.{self.domains[0] if self.domains else 'DOMAIN'}/ "
                    "or /w/<worker>/",
                    code="E_NOT_FOUND",
                )
        if not NAME.fullmatch(worker):
            raise ShardrunError(f"invalid worker name {worker[:80]!r}", code="E_BAD_NAME")
        assets_req = None
        if self.assets is not None:
            has, res = self.assets.answer(worker, req.method, path, query, req.headers, mount)
            if res is not None:
                return self._asset_reply(req, rid, worker, res)
            if has:
                assets_req = (path, req.headers)
        # Only validated parts: the authority as parsed, the path and query re-quoted.
        url = f"http://{req.authority or 'localhost'}{quoted(path, PLAIN, URL_SAFE)}"
        if query:
            url += "?" + quoted(query, PLAIN_QUERY, URL_SAFE + "?")
        if req.stream is not None:
            arg = fetch_arg(req.method, url, req.headers, None, streamed=True)
        else:
            body = req.body if req.body or req.method not in ("GET", "HEAD") else None
            arg = fetch_arg(req.method, url, req.headers, body)
        self._call(req, rid, worker, "fetch", arg, assets_req)

    def _worker_from_host(self, host: str) -> str | None:
        for d in self.domains:
            if host.endswith("." + d):
                label = host[: -len(d) - 1]
                return label if "." not in label else None
        return None

    def _call(
        self,
        req: IncomingRequest,
        rid: str,
        worker: str,
        kind: str,
        arg: Any,
        assets_req: tuple[str, list[tuple[str, str]]] | None = None,
    ) -> None:
        extra: dict[str, Any] = {}
        if self.trace:  # the client's W3C trace context (checked where the span starts)
            for k, v in req.headers:
                if k in ("traceparent", "tracestate") and k not in extra:
                    extra[k] = v
        if kind == "fetch":
            extra["stream"] = True  # a stream body is written as it is made (server/streams.py)
            if req.stream is not None:
                extra["body_stream"] = True  # its body follows it (server/bodies.py)
        body = {"id": 0, "worker": worker, "kind": kind, "arg": arg, "request_id": rid, **extra}
        client = HttpClient(
            req.conn, req.seq, kind, rid, req.method, req.path[:200], worker, time.monotonic(), assets_req=assets_req
        )
        raw = orjson.dumps(body)
        if len(raw) > protocol.MAX_BODY_BYTES:
            raise ShardrunError(
                f"the request is {len(raw)} bytes as sent to a shard, over the limit of {protocol.MAX_BODY_BYTES}",
                code="E_BODY_TOO_LARGE",
            )
        # The message as the router would have decoded it, without the round trip through bytes.
        self.admit(client, protocol.Message(protocol.REQUEST, body), raw)
        if req.stream is not None:
            self.bodies.attach(req.stream, client.rid)
