"""The HTTP front door, inside the router process: requests become worker calls.

    http://<worker>.<domain>/path      Host routing, for the configured worker domains
    http://127.0.0.1:8080/w/<worker>/path   path routing (the worker sees /path)
    POST /_shardrun/tasks/<worker>     a task: JSON payload in, the task's JSON result out
    GET  /_shardrun/health             200 when every shard is ready, else 503
    GET  /_shardrun/stats              the router's counters and per-shard state (JSON)
    GET  /metrics                      Prometheus text (all processes, multiprocess mode)

With `admin_port` set, the admin paths are served only there, and the main port routes
every path to workers.

Requests are admitted exactly like ZeroMQ clients' (same routing table, limits and
accounting); errors are `{"error": {"code", "message"}}` with the status of errors.CODES.
An `X-Request-Id` is honoured (when sane) or made, and returned.
"""

from __future__ import annotations

import logging
import re
import socket
from collections import Counter
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from . import logs, metrics, protocol
from .calls import HttpRequest, HttpResponse
from .boundary import BadOutput
from .errors import CODES, ShardrunError, http_status
from .http import HttpConnection, HttpLimits, IncomingRequest, error_body, render
from .jsonin import parse_payload
from .workers import NAME

ADMIN = "/_shardrun/"
access = logs.get("shardrun.access")
log = logging.getLogger("shardrun.router")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
JSON = [("content-type", "application/json")]


@dataclass(eq=False)
class HttpClient:
    """Where a reply goes: a connection and the request's place on it, and what to log."""

    conn: HttpConnection
    seq: int
    kind: str
    request_id: str
    method: str
    path: str
    worker: str
    started: float


class FrontDoor:
    """Listening socket, connections, and the mapping between HTTP and worker calls."""

    def __init__(self, host: str, port: int, domains: list[str], limits: HttpLimits, payload_depth: int,
                 admit: Callable[[Any, protocol.Message, bytes], None], status: Callable[[], dict[str, Any]], now: float,
                 access_log: bool = True, admin: bool = True, workers: bool = True, max_per_ip: int = 1024) -> None:
        self.limits = limits
        self.access_log = access_log
        self.admin = admin        # serve /_shardrun/* and /metrics here
        self.workers = workers    # route to workers here
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
        self._polled: dict[int, int] = {}   # fds registered with the owner's poller -> flags
        self.now = now

    # ---- sockets -------------------------------------------------------------------
    def sync_poller(self, poller: Any, stopping: bool) -> None:
        """Keep the owner's zmq.Poller current: the listener, new and closed connections, writers."""
        import zmq

        lfd = self.listener.fileno()
        if stopping and lfd >= 0:
            if lfd in self._polled:
                poller.unregister(lfd)
                del self._polled[lfd]
            self.listener.close()  # stop intake; open connections finish what they started
        elif lfd >= 0 and lfd not in self._polled:
            poller.register(lfd, zmq.POLLIN)
            self._polled[lfd] = zmq.POLLIN
        self.forget_closed()
        for fd in [fd for fd in self._polled if fd != lfd and fd not in self.conns]:
            poller.unregister(fd)
            del self._polled[fd]
        for fd, c in self.conns.items():
            flags = zmq.POLLIN | (zmq.POLLOUT if c.wants_write else 0)
            if self._polled.get(fd) != flags:
                if fd in self._polled:
                    poller.modify(fd, flags)
                else:
                    poller.register(fd, flags)
                self._polled[fd] = flags

    def handle(self, events: dict[Any, int], now: float) -> None:
        """Serve the poll events that are ours (raw fds of the listener and connections)."""
        import zmq

        lfd = self.listener.fileno()
        for fd, ev in events.items():
            if not isinstance(fd, int) or fd not in self._polled:
                continue
            if fd == lfd:
                self.accept(now)
                continue
            c = self.conns.get(fd)
            if c is None:
                continue
            if ev & zmq.POLLIN:
                c.on_readable(now)
            if ev & zmq.POLLOUT and not c.closed:
                c.on_writable()

    def accept(self, now: float) -> None:
        for _ in range(256):
            try:
                sock, _addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            ip = _addr[0] if isinstance(_addr, tuple) else ""
            if self.per_ip[ip] >= self.max_per_ip:
                # One client holding every socket must not starve the rest.
                try:
                    sock.sendall(render(503, [*JSON, ("retry-after", "1")], error_body(
                        "E_OVERLOADED", f"too many connections from {ip} (limit {self.max_per_ip})"), close=True))
                except OSError:
                    pass
                sock.close()
                continue
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = HttpConnection(sock, self.limits, self._on_request, now)
            self.conns[sock.fileno()] = conn
            self.ips[conn] = ip
            self.per_ip[ip] += 1

    def expire(self, now: float) -> None:
        self.now = now
        for fd, c in list(self.conns.items()):
            c.expire(now)
            if c.closed:
                self._forget(fd)

    def forget_closed(self) -> None:
        for fd in [fd for fd, c in self.conns.items() if c.closed]:
            self._forget(fd)

    def _forget(self, fd: int) -> None:
        conn = self.conns.pop(fd)
        ip = self.ips.pop(conn, "")
        self.per_ip[ip] -= 1
        if self.per_ip[ip] <= 0:
            del self.per_ip[ip]

    def close(self) -> None:
        for c in self.conns.values():
            c.close()
        self.listener.close()

    # ---- requests ---------------------------------------------------------------------
    def _on_request(self, req: IncomingRequest) -> None:
        rid = req.header("x-request-id")
        if rid is None or not REQUEST_ID.fullmatch(rid):
            rid = uuid.uuid4().hex
        try:
            self._route(req, rid)
        except ShardrunError as exc:
            self._error(req.conn, req.seq, rid, exc.code, exc.message)
            if self.access_log:
                access.info("request", request_id=rid, method=req.method, path=req.target.partition("?")[0][:200],
                            status=http_status(exc.code), code=exc.code, duration_ms=0.0)

    def _route(self, req: IncomingRequest, rid: str) -> None:
        path, _, query = req.target.partition("?")
        host = (req.header("host") or "").lower()
        worker = self._worker_from_host(host.rsplit(":", 1)[0] if not host.startswith("[") else "")
        if worker is None and self.admin and (path.startswith(ADMIN) or path == "/metrics"):
            return self._admin(req, rid, path[len(ADMIN):] if path.startswith(ADMIN) else "metrics")
        if worker is None and not self.workers:
            raise ShardrunError(f"no admin endpoint {path} on this port", code="E_NOT_FOUND")
        if worker is None:
            parts = path.split("/", 3)
            if len(parts) >= 3 and parts[1] == "w" and parts[2]:
                worker = parts[2]
                path = "/" + (parts[3] if len(parts) > 3 else "")
            else:
                raise ShardrunError(f"no worker for {host or 'this host'}{path}: use http://<worker>.{self.domains[0] if self.domains else 'DOMAIN'}/ "
                                    "or /w/<worker>/", code="E_NOT_FOUND")
        if not NAME.fullmatch(worker):
            raise ShardrunError(f"invalid worker name {worker[:80]!r}", code="E_BAD_NAME")
        url = f"http://{host or 'localhost'}{quote(path, safe='/%:@!$&()*+,;=~-._')}" + (f"?{query}" if query else "")
        arg = HttpRequest(req.method, url, req.headers, req.body if req.body or req.method not in ("GET", "HEAD") else None).to_js()
        self._call(req, rid, worker, "fetch", arg)

    def _worker_from_host(self, host: str) -> str | None:
        for d in self.domains:
            if host.endswith("." + d):
                label = host[: -len(d) - 1]
                return label if "." not in label else None
        return None

    def _admin(self, req: IncomingRequest, rid: str, what: str) -> None:
        if what.startswith("tasks/") and req.method == "POST":
            worker = what[len("tasks/"):]
            payload = parse_payload(req.body or b"null", max_depth=self.payload_depth, max_bytes=self.limits.max_body_bytes)
            return self._call(req, rid, worker, "task", payload)
        if what == "health" and req.method in ("GET", "HEAD"):
            st = self.status()
            ready = all(s["ready"] for s in st["shards"])
            body = orjson.dumps({"ready": ready, "shards": [{"slot": s["slot"], "ready": s["ready"]} for s in st["shards"]]})
            return req.conn.respond(req.seq, 200 if ready else 503, [*JSON, ("x-request-id", rid)], body)
        if what == "stats" and req.method in ("GET", "HEAD"):
            return req.conn.respond(req.seq, 200, [*JSON, ("x-request-id", rid)], orjson.dumps(self.status()))
        if what == "metrics" and req.method in ("GET", "HEAD"):
            st = self.status()
            metrics.INFLIGHT.set(st["pending"])
            metrics.QUEUED.set(st["queued"])
            metrics.RSS.labels("router").set(metrics.rss_bytes())
            return req.conn.respond(req.seq, 200, [("content-type", "text/plain; version=0.0.4; charset=utf-8")], metrics.render())
        raise ShardrunError(f"no admin endpoint {req.method} {ADMIN}{what}", code="E_NOT_FOUND")

    def _call(self, req: IncomingRequest, rid: str, worker: str, kind: str, arg: Any) -> None:
        raw = protocol.request_body(0, worker, kind, arg, request_id=rid)
        client = HttpClient(req.conn, req.seq, kind, rid, req.method, req.target.partition("?")[0][:200], worker, time.monotonic())
        self.admit(client, protocol.decode_body(protocol.REQUEST, raw), raw)

    # ---- replies ---------------------------------------------------------------------
    def deliver(self, client: HttpClient, body: bytes) -> None:
        """A reply body from the router: the worker's response, a task's JSON, or an error.

        The shard checked the response already; it is checked again here, where its bytes go on
        the wire, and one that breaks the rules is a 502 E_BAD_OUTPUT for this request alone."""
        try:
            self._deliver(client, body)
        except BadOutput as exc:
            self._error(client.conn, client.seq, client.request_id, "E_BAD_OUTPUT", str(exc))
            self._access(client, http_status("E_BAD_OUTPUT"), {}, "E_BAD_OUTPUT")
        except Exception:   # never the router's death: fail this request and say so in the log
            log.exception("could not deliver a reply (request %s)", client.request_id)
            self._error(client.conn, client.seq, client.request_id, "E_INTERNAL", "the server could not deliver the reply")
            self._access(client, 500, {}, "E_INTERNAL")

    def _deliver(self, client: HttpClient, body: bytes) -> None:
        try:
            r = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise BadOutput("the shard's reply is not JSON") from None
        if type(r) is not dict:
            raise BadOutput("the reply is not an object")
        if r.get("ok") is not True:
            err = r.get("error")
            code = err.get("code") if isinstance(err, dict) else None
            message = err.get("message") if isinstance(err, dict) else None
            if not isinstance(code, str) or code not in CODES:
                code = "E_INTERNAL"
            self._error(client.conn, client.seq, client.request_id, code, message if isinstance(message, str) else "")
            return self._access(client, http_status(code), r, code)
        if client.kind == "fetch":
            res = HttpResponse.from_js(r.get("value"))
            headers = [h for h in res.headers if h[0] != "x-request-id"]
            client.conn.respond(client.seq, res.status, [*headers, ("x-request-id", client.request_id)], res.body,
                                reason=res.status_text)
            status = res.status
        else:
            client.conn.respond(client.seq, 200, [*JSON, ("x-request-id", client.request_id)], orjson.dumps(r.get("value")))
            status = 200
        self._access(client, status, r, None)

    def _access(self, client: HttpClient, status: int, reply: dict[str, Any], code: str | None) -> None:
        elapsed = time.monotonic() - client.started
        metrics.HTTP_REQUESTS.labels(client.worker, str(status)).inc()
        metrics.HTTP_SECONDS.labels(client.worker).observe(elapsed)
        if self.access_log:
            access.info("request", request_id=client.request_id, method=client.method, path=client.path,
                        worker=client.worker, tenant=reply.get("tenant"), shard=reply.get("shard"), status=status,
                        code=code, duration_ms=round(elapsed * 1000, 3))

    def _error(self, conn: HttpConnection, seq: int, rid: str, code: str, message: str) -> None:
        headers = [*JSON, ("x-request-id", rid)]
        if code == "E_OVERLOADED":
            headers.append(("retry-after", "1"))
        conn.respond(seq, http_status(code), headers, error_body(code, message))
