"""Request bodies streamed from the front door to a shard as they arrive, with flow control.

A request whose body is not complete when the read that brought its headers ends (a
Content-Length larger than what came, or chunked) is admitted at once, marked
`"body_stream": true`, and its body follows it: the connection hands each piece to the
request's `RequestBody` here, and the router sends them on to the request's shard as CONTROL
parts (protocol in server/bodyin.py, which holds them in the shard until the worker reads).
A body that came whole with its headers takes the usual path (inside the request).

Flow control mirrors streamed responses (server/streams.py): at most WINDOW bytes of a body
are in flight (held here, on the way, or waiting in the shard) beyond what the worker read;
the shard credits bytes back as the worker reads them, and while the window is full the
connection stops reading its socket. So a slow worker slows its client, not the router's
memory. Pieces that come while the request waits in the router's queue are held here (within
the same window) and go when it is sent to a shard. A streamed body's request is never sent
to another shard (its pieces went to the first): a shard dying fails it.

How a body ends: the last piece, then "e"; or a failure that also ends the request:
over `http_max_body_bytes` (E_BODY_TOO_LARGE: the client gets 413 if no response went out
yet), the body read timeout (E_TIMEOUT, 408), or the client gone (E_CLIENT_GONE: the request
is cancelled as for a streamed response). Once the request is answered, or was refused, the
rest of its body is read and discarded (the connection stays usable); the admin paths take
their body whole ("collect").
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shardrun import protocol

if TYPE_CHECKING:
    from shardrun.server.http import HttpConnection
    from shardrun.server.table import RoutingTable

WINDOW = 256 << 10  # body bytes in flight per request beyond what its worker has read


class RequestBody:
    """One request body still arriving, from its connection to its request's shard."""

    __slots__ = ("conn", "ended", "held", "inflight", "mode", "on_fail", "on_whole", "owner", "paused", "rid", "whole")

    def __init__(self, owner: StreamedBodies, conn: HttpConnection) -> None:
        self.owner = owner
        self.conn = conn
        # "wait" (not routed yet), "stream" (to request `rid`), "collect" (wanted whole), "discard"
        self.mode = "wait"
        self.rid = 0
        self.held: list[bytes] = []  # pieces not sent to the shard yet
        self.inflight = 0  # bytes taken from the client and not credited back
        self.ended = False  # the last piece came (its "e" is sent after the held pieces)
        self.paused = False
        self.whole: list[bytes] = []
        self.on_whole: Callable[[bytes], None] | None = None
        self.on_fail: Callable[[str, str], None] | None = None

    # ---- from the connection --------------------------------------------------------
    def piece(self, data: bytes) -> None:
        if self.mode == "discard" or not data:
            return
        if self.mode == "collect":
            self.whole.append(data)
            return
        self.held.append(data)
        self.inflight += len(data)
        if self.inflight >= WINDOW and not self.paused:
            self.paused = True
            self.conn.pause(True, time.monotonic())
            self.owner.paused.add(self)
        if self.mode == "stream":
            self.owner.ready.add(self)

    def end(self) -> None:
        """The body is complete."""
        self.owner.by_conn.pop(self.conn, None)
        self.ended = True
        if self.mode == "collect":
            whole, self.whole = b"".join(self.whole), []
            self.mode = "discard"
            if self.on_whole is not None:
                self.on_whole(whole)
        elif self.mode == "stream":
            self.owner.ready.add(self)

    def fail(self, code: str, message: str) -> None:
        """The body will not be complete: the request fails (413, 408) or is cancelled (client gone)."""
        self.owner.by_conn.pop(self.conn, None)
        if self.mode == "stream":
            self.owner.failed(self, code, message)
        elif self.mode == "collect" and self.on_fail is not None:
            self.on_fail(code, message)
        self.discard()

    # ---- from the front door ---------------------------------------------------------
    def collect(self, on_whole: Callable[[bytes], None], on_fail: Callable[[str, str], None]) -> None:
        """Take the body whole (an admin path): `on_whole(bytes)` when it is complete, or
        `on_fail(code, message)` if it will not be."""
        self.mode, self.on_whole, self.on_fail = "collect", on_whole, on_fail
        self.whole, self.held = self.held, []
        self._resume()

    def discard(self) -> None:
        """Nobody wants the rest: it is read and dropped."""
        self.mode = "discard"
        self.held.clear()
        self.whole.clear()
        self.owner.ready.discard(self)
        self.owner.by_rid.pop(self.rid, None)
        self._resume()

    def credit(self, n: int) -> None:
        self.inflight -= n
        if self.paused and self.inflight < WINDOW:
            self._resume()

    def _resume(self) -> None:
        if self.paused:
            self.paused = False
            self.owner.paused.discard(self)
            self.conn.pause(False, time.monotonic())


class StreamedBodies:
    """The request bodies streaming through one front door. The router sets `table`."""

    def __init__(self) -> None:
        self.table: RoutingTable | None = None
        self.by_conn: dict[HttpConnection, RequestBody] = {}  # bodies still arriving
        self.by_rid: dict[int, RequestBody] = {}  # bodies streaming to a request
        self.ready: set[RequestBody] = set()  # with something to send
        self.paused: set[RequestBody] = set()

    def open(self, conn: HttpConnection) -> RequestBody:
        """A connection's request is admitted before its body is complete."""
        body = self.by_conn[conn] = RequestBody(self, conn)
        return body

    def attach(self, body: RequestBody, rid: int) -> None:
        """The request was admitted as router request `rid` (0: it was refused)."""
        table = self.table
        p = table.pending.get(rid) if table is not None and rid else None
        if p is None or body.mode != "wait":
            body.discard()
            return
        p.retries = 0  # its pieces go to one shard: never sent again to another
        p.body_stream = True
        body.mode, body.rid = "stream", rid
        self.by_rid[rid] = body
        self.ready.add(body)

    def flush(self) -> None:
        """Send what the bodies have for their requests' shards (the router calls it before it
        sends its CONTROL messages); a request that is over discards the rest of its body."""
        table = self.table
        assert table is not None
        for b in [b for b in self.paused if b.rid not in table.pending]:
            b.discard()  # answered or failed while its client waits for credit
        if not self.ready:
            return
        for b in list(self.ready):
            p = table.pending.get(b.rid)
            if p is None:
                b.discard()
                continue
            if p.sent_to is None:
                continue  # still queued: held (within the window)
            self.ready.discard(b)
            out = table.shard_ctl.setdefault(p.slot, [])
            if b.held:
                data = b"".join(b.held) if len(b.held) > 1 else b.held[0]
                b.held.clear()
                out.append(protocol.part_body(b.rid, "c", n=len(data), b64=base64.b64encode(data).decode("ascii")))
            if b.ended:
                out.append(protocol.part_body(b.rid, "e"))
                self.by_rid.pop(b.rid, None)

    def failed(self, b: RequestBody, code: str, message: str) -> None:
        """A streaming body failed: its shard is told (the worker's stream errors with `code`), and
        the request fails with that code or, the client being gone, is cancelled."""
        table = self.table
        p = table.pending.get(b.rid) if table is not None else None
        if table is None or p is None:
            return
        if p.sent_to is not None:
            ctl = table.shard_ctl.setdefault(p.slot, [])
            ctl.append(protocol.part_body(b.rid, "x", error={"code": code, "message": message}))
            if code == "E_CLIENT_GONE" and not p.streaming:  # (a streaming reply's cancel is the table's)
                ctl.append(b'{"id":%d,"cancel":true}' % b.rid)
        if code == "E_CLIENT_GONE":
            table.cancel(b.rid)
        else:
            table.fail(p, code, message)

    def credit(self, body: dict[str, Any]) -> None:
        """A shard's credit: its worker read that many bytes of request `id`'s body."""
        rid, n = body.get("id"), body.get("credit")
        b = self.by_rid.get(rid) if type(rid) is int else None
        if b is None:
            b = next((x for x in self.paused if x.rid == rid), None)
        if b is not None and type(n) is int and n > 0:
            b.credit(n)

    def closed(self, conn: HttpConnection) -> None:
        """The connection closed before its body was complete."""
        b = self.by_conn.pop(conn, None)
        if b is not None:
            b.fail("E_CLIENT_GONE", "the client went away before the request body was complete")
