"""Worker-to-worker fetch: `fetch("https://<worker>.<domain>/...")` goes to that worker through
the router (no DNS, no sockets to the outside), as a fetch request with the caller's remaining
wall time and its depth. The callee answers as over HTTP: an error becomes an HTTP error
response with the status the front door would give.
"""

from __future__ import annotations

import base64
import itertools
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
import zmq

from shardrun import protocol
from shardrun.egress.client import fetch_error
from shardrun.errors import CODES
from shardrun.runtime.boundary import BadOutput
from shardrun.runtime.calls import HttpResponse
from shardrun.workers import NAME

if TYPE_CHECKING:
    from shardrun.egress.host import FetchRequest


class InternalRoutes:
    """A DEALER to the router's client API, for this process's worker-to-worker fetches."""

    def __init__(self, zctx: Any, endpoint: str, domains: list[str]) -> None:
        self.domains = [d.lower().strip(".") for d in domains]
        self.sock = zctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self.sock.connect(endpoint)
        self.ids = itertools.count(1)
        self.pending: dict[int, tuple[Any, float]] = {}

    def target(self, url: str) -> str | None:
        """The worker a URL names (`<worker>.<domain>`), or None for the outside world."""
        try:
            host = (urlsplit(url).hostname or "").lower().rstrip(".")
        except ValueError:
            return None
        for d in self.domains:
            if host.endswith("." + d):
                name = host[: -len(d) - 1]
                return name if NAME.fullmatch(name) else None
        return None

    def send(self, key: Any, worker: str, req: FetchRequest, depth: int, timeout_s: float) -> None:
        rid = next(self.ids)
        self.pending[rid] = (key, time.monotonic() + timeout_s + 1.0)
        arg = {
            "method": req.method,
            "url": req.url,
            "headers": [list(h) for h in req.headers],
            "body": base64.b64encode(req.body).decode("ascii") if req.body else None,
        }
        trace = {k: v for k, v in req.headers if k in ("traceparent", "tracestate")}  # set by FetchHost's span
        self.sock.send_multipart(
            protocol.encode_request(rid, worker, "fetch", arg, depth=depth, wall_ms=max(1.0, timeout_s * 1000), **trace)
        )

    def drain(self) -> list[tuple[Any, bool, Any]]:
        """Replies that arrived, as (key, ok, fetch result or error)."""
        out = []
        while True:
            try:
                frames = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            try:
                _, bodies = protocol.split(frames)
            except protocol.ProtocolError:
                continue
            for raw in bodies:
                try:
                    body = protocol.decode_body(protocol.REPLY, raw).body
                except protocol.ProtocolError as exc:  # a reply we can still match to its call fails that call
                    body = {
                        "id": protocol.reply_id(raw),
                        "ok": False,
                        "error": {"code": "E_BAD_OUTPUT", "message": f"the called worker's reply is malformed: {exc}"},
                    }
                rid = body.get("id")
                entry = self.pending.pop(rid, None) if type(rid) is int else None
                if entry is not None:
                    out.append((entry[0], True, as_fetch_result(body)))
        return out

    def expire(self) -> list[tuple[Any, bool, Any]]:
        """Calls the router never answered in time (it always should)."""
        if not self.pending:
            return []
        now = time.monotonic()
        late = [rid for rid, (_, deadline) in self.pending.items() if deadline < now]
        return [
            (self.pending.pop(rid)[0], False, fetch_error("E_FETCH_TIMEOUT", "the worker-to-worker call got no answer"))
            for rid in late
        ]

    def close(self) -> None:
        self.sock.close(0)


def as_fetch_result(body: dict[str, Any]) -> dict[str, Any]:
    """A router reply to a fetch request, as fetch() resolves it: the worker's response, or an error
    response. The callee's response is checked again here (it is another tenant's output): one that
    breaks the rules becomes a 502 E_BAD_OUTPUT response for this caller."""
    value = body.get("value")
    if body.get("ok") is True:
        try:
            r = HttpResponse.from_js(value)
        except BadOutput as exc:
            return _error_response("E_BAD_OUTPUT", f"the called worker's response is malformed: {exc}")
        return {
            "status": r.status,
            "statusText": r.status_text,
            "headers": [list(h) for h in r.headers],
            "body": base64.b64encode(r.body).decode("ascii") if r.body else None,
        }
    return _error_response(*protocol.reply_error(body))


def _error_response(code: str, message: str) -> dict[str, Any]:
    status = CODES[code][2]
    data = orjson.dumps({"error": {"code": code, "message": message}})
    return {
        "status": status,
        "statusText": "",
        "headers": [["content-type", "application/json"], ["x-shardrun-error", code]],
        "body": base64.b64encode(data).decode("ascii"),
    }
