"""Streamed responses at the front door: a worker's body written as the shard sends it.

The shard sends a streamed reply as parts (protocol.head_body / part_body): the head, then
pieces, then the end or a failure. Here the head opens a chunked response on the client's
connection, each piece is written as it comes, and the end writes the last chunk. A failure
after the head (a limit, the shard's death) closes the connection before the last chunk, so
the client sees an incomplete body, never a complete one.

Flow control: the shard sends at most its window ahead of what was credited back. A piece
written while the connection has less than http.LOW_WATER bytes waiting is credited at once;
otherwise its bytes are owed and credited when the socket drains. So a client that reads
slowly slows the worker instead of filling the router's memory. A connection that closes
mid-stream cancels the request (its body stream's `cancel` runs in the worker).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shardrun.runtime.boundary import BadOutput
from shardrun.runtime.calls import HttpResponse
from shardrun.server.http import LOW_WATER, HttpConnection

if TYPE_CHECKING:
    from shardrun.server.httpreplies import HttpClient


class StreamedReplies:
    """The streams in flight on one front door's connections."""

    def __init__(self) -> None:
        self.on_credit: Callable[[int, int], None] = lambda rid, n: None
        self.on_cancel: Callable[[int], None] = lambda rid: None
        self.by_conn: dict[HttpConnection, set[HttpClient]] = {}

    def deliver(self, client: HttpClient, part: str, r: dict[str, Any]) -> tuple[int, str | None] | None:
        """Act on one part; (status, error code) when the response is over (for the access log)."""
        conn = client.conn
        if part == "h":
            res = HttpResponse.from_js(r.get("value"))
            headers = [h for h in res.headers if h[0] not in ("x-request-id", "content-length")]
            conn.open_stream(client.seq, res.status, [*headers, ("x-request-id", client.request_id)], res.status_text)
            client.streaming = True
            client.status = res.status
            if not conn.closed:
                self.by_conn.setdefault(conn, set()).add(client)
            return None
        if not client.streaming:
            raise BadOutput("a body part of a response that is not streaming")
        if part == "c":
            raw = r.get("b64")
            try:
                data = base64.b64decode(raw if type(raw) is str else "", validate=True)
            except (binascii.Error, ValueError):
                raise BadOutput("a streamed body piece is not valid base64") from None
            if conn.stream_write(client.seq, data) and not client.owed:
                self.on_credit(client.rid, len(data))
            else:
                client.owed += len(data)
            return None
        self._forget(client)
        if part == "e":
            conn.end_stream(client.seq)
            return client.status, None
        err = r.get("error")
        code = err.get("code") if type(err) is dict and type(err.get("code")) is str else "E_INTERNAL"
        self.abort(client)
        return client.status, code

    def abort(self, client: HttpClient) -> None:
        """End a streamed response as incomplete: the connection closes before the last chunk."""
        self._forget(client)
        client.conn.close()

    def drained(self, conn: HttpConnection) -> None:
        """The connection wrote some of its backlog: credit what its streams are owed, once it is low."""
        clients = self.by_conn.get(conn)
        if not clients or conn.backlog >= LOW_WATER:
            return
        for c in clients:
            if c.owed:
                n, c.owed = c.owed, 0
                self.on_credit(c.rid, n)

    def closed(self, conn: HttpConnection) -> None:
        """The connection is gone: its streams are cancelled (the worker's source is told)."""
        for c in self.by_conn.pop(conn, ()):
            c.streaming = False
            self.on_cancel(c.rid)

    def _forget(self, client: HttpClient) -> None:
        clients = self.by_conn.get(client.conn)
        if clients is not None:
            clients.discard(client)
            if not clients:
                del self.by_conn[client.conn]
        client.streaming = False
