"""What the front door writes back: a worker's response, a task's JSON, an error, a file.

A mixin of FrontDoor (frontdoor.py), which provides the attributes declared here. A reply
from a shard is checked again where its bytes go on the wire (the shard checked it first):
one that breaks the rules is a 502 E_BAD_OUTPUT for that request alone, never the router's
end. Each answered request is counted in the metrics tally and, with the access log on,
logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from shardrun import logs, protocol
from shardrun.errors import http_status
from shardrun.runtime import boundary
from shardrun.runtime.boundary import BadOutput
from shardrun.runtime.calls import MAX_BODY_BYTES, HttpResponse
from shardrun.server import metrics
from shardrun.server.http import HttpConnection, IncomingRequest
from shardrun.server.httpsyntax import error_body
from shardrun.server.statics import AssetRoutes
from shardrun.server.streams import StreamedReplies

access = logs.get("shardrun.access")
log = logs.get("shardrun.router")
JSON = [("content-type", "application/json")]


@dataclass(eq=False, slots=True)
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
    rid: int = 0  # the router's id of the request (set when it is admitted)
    streaming: bool = False  # its response head is out and its body is streaming
    owed: int = 0  # streamed bytes written but not yet credited back (the socket is backed up)
    status: int = 0  # a streamed response's status
    assets_req: tuple[str, list[tuple[str, str]]] | None = None  # (path, headers) when the worker has assets


class HttpReplies:
    """Replies of a FrontDoor's requests, to their connections."""

    access_log: bool
    assets: AssetRoutes | None
    streams: StreamedReplies

    def _asset_reply(self, req: IncomingRequest, rid: str, worker: str, res: HttpResponse) -> None:
        req.conn.respond(req.seq, res.status, [*res.headers, ("x-request-id", rid)], res.body)
        client = HttpClient(req.conn, req.seq, "asset", rid, req.method, req.path[:200], worker, time.monotonic())
        self._access(client, res.status, {}, None)

    def deliver(self, client: HttpClient, body: bytes) -> None:
        """A reply body from the router: the worker's response, a task's JSON, or an error.

        The shard checked the response already; it is checked again here, where its bytes go on
        the wire, and one that breaks the rules is a 502 E_BAD_OUTPUT for this request alone."""
        try:
            self._deliver(client, body)
        except Exception as exc:  # never the router's death: fail this request alone
            code = "E_BAD_OUTPUT" if isinstance(exc, BadOutput) else "E_INTERNAL"
            if code == "E_INTERNAL":
                log.exception("reply undeliverable", request_id=client.request_id)
            if client.streaming:  # the head is out: end it as an incomplete body
                self.streams.abort(client)
                return self._access(client, client.status, {}, code)
            message = str(exc) if code == "E_BAD_OUTPUT" else "the server could not deliver the reply"
            self._error(client.conn, client.seq, client.request_id, code, message)
            self._access(client, http_status(code), {}, code)

    def _deliver(self, client: HttpClient, body: bytes) -> None:
        try:
            r = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise BadOutput("the shard's reply is not JSON") from None
        if type(r) is not dict:
            raise BadOutput("the reply is not an object")
        part = protocol.stream_part(body)
        if part is not None:
            done = self.streams.deliver(client, part, r)
            if done is not None:
                self._access(client, done[0], r, done[1])
            return
        if client.streaming:  # a failure after the head (the shard died, a time-out): incomplete
            code, _ = protocol.reply_error(r)
            self.streams.abort(client)
            return self._access(client, client.status, r, code)
        if r.get("ok") is not True:
            code, message = protocol.reply_error(r)
            if code == "E_NO_HANDLER" and client.assets_req is not None and self.assets is not None:
                res = self.assets.no_handler(client.worker, client.method, *client.assets_req)
                if res is not None:  # a worker of files alone: their 404, not a missing handler
                    client.conn.respond(
                        client.seq, res.status, [*res.headers, ("x-request-id", client.request_id)], res.body
                    )
                    return self._access(client, res.status, r, None)
            self._error(client.conn, client.seq, client.request_id, code, message)
            return self._access(client, http_status(code), r, code)
        if client.kind == "fetch":
            status, reason, headers, content = boundary.response(r.get("value"), MAX_BODY_BYTES)
            # A worker that sets its own X-Request-Id keeps it; else the request's id is returned.
            for h in headers:
                if h[0] == "x-request-id":
                    break
            else:
                headers.append(("x-request-id", client.request_id))
            client.conn.respond(client.seq, status, headers, content, reason=reason)
        else:
            client.conn.respond(
                client.seq, 200, [*JSON, ("x-request-id", client.request_id)], orjson.dumps(r.get("value"))
            )
            status = 200
        self._access(client, status, r, None)

    def _access(self, client: HttpClient, status: int, reply: dict[str, Any], code: str | None) -> None:
        elapsed = time.monotonic() - client.started
        metrics.TALLY.add(client.worker, status, elapsed)
        if self.access_log:
            access.info(
                "request",
                request_id=client.request_id,
                method=client.method,
                path=client.path,
                worker=client.worker,
                tenant=reply.get("tenant"),
                shard=reply.get("shard"),
                status=status,
                code=code,
                duration_ms=round(elapsed * 1000, 3),
            )

    def _error(self, conn: HttpConnection, seq: int, rid: str, code: str, message: str) -> None:
        headers = [*JSON, ("x-request-id", rid)]
        if code == "E_OVERLOADED":
            headers.append(("retry-after", "1"))
        conn.respond(seq, http_status(code), headers, error_body(code, message))
