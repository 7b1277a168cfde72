"""Request bodies that stream into a shard: the router's pieces, held until the worker reads them.

The mirror of a streamed response (server/streams.py, js/src/stream_out.js). A request the
front door admitted before its body was complete carries `"body_stream": true`; the router
sends its body after it as CONTROL parts of the request's id:

    {"id", "part": "c", "n": bytes, "b64": ...}    a piece
    {"id", "part": "e"}                            the body is complete
    {"id", "part": "x", "error": {code, message}}  it failed (E_BODY_TOO_LARGE, E_TIMEOUT, E_CLIENT_GONE)

Pieces wait here (the router sends at most its window ahead, so what waits is bounded) until
the worker's `request.body` pulls: each pull is a "body.read" host operation, settled with the
next piece, null at the end, or the failure. A piece handed to the worker is credited back
to the router (CONTROL {"id", "credit": n}, sent with the shard's next flush), which lets the
client send that many more bytes: a worker that reads slowly slows its client, and one that
never reads holds at most a window. What is left when the request finishes is dropped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shardrun.errors import CODES
from shardrun.runtime.calls import Call, HostOp

if TYPE_CHECKING:
    from shardrun.runtime.isolate import WorkerIsolate

PIECE_CODES = ("E_BODY_TOO_LARGE", "E_TIMEOUT", "E_CLIENT_GONE")
MAX_PIECE_B64 = 1 << 20  # a piece the router sends is its window at most (256 KB of bytes)


class BodyIn:
    """One request's body in this shard: pieces not read yet, and a read waiting for one."""

    __slots__ = ("ended", "error", "pieces", "read", "rid", "running")

    def __init__(self, rid: int) -> None:
        self.rid = rid  # the router's id of the request
        self.pieces: deque[tuple[str, int]] = deque()  # (base64, bytes)
        self.ended = False
        self.error: dict[str, str] | None = None
        self.read: tuple[WorkerIsolate, int] | None = None  # (isolate, opid) of a pull waiting
        self.running: tuple[WorkerIsolate, Call] | None = None  # its call, once started (the router's cancel finds it)


class RequestBodies:
    """The bodies streaming into one shard, by the router's request id."""

    def __init__(self, wake: Callable[[WorkerIsolate], None]) -> None:
        self.wake = wake
        self.by_rid: dict[int, BodyIn] = {}
        self.out: list[bytes] = []  # CONTROL credit bodies for the router (the shard's flush sends them)
        self.bad = 0  # malformed parts (counted as bad frames by the shard)

    def expect(self, rid: Any) -> None:
        """A request whose body follows arrived: its parts are kept from now on."""
        if type(rid) is int and rid not in self.by_rid:
            self.by_rid[rid] = BodyIn(rid)

    def started(self, rid: int, iso: WorkerIsolate, call: Call) -> None:
        b = self.by_rid.get(rid)
        if b is not None:
            b.running = (iso, call)

    def call_of(self, rid: int) -> tuple[WorkerIsolate, Call] | None:
        """The running call whose body is request `rid`'s (for a cancel), if any."""
        b = self.by_rid.get(rid)
        return b.running if b is not None else None

    def answered(self, rid: int) -> None:
        """The request's response went out whole: the router drops the rest of its body, so reads
        after the pieces already here fail (at once, instead of waiting for what will not come)."""
        b = self.by_rid.get(rid)
        if b is None or b.ended or b.error is not None:
            return
        b.error = _info("E_CLIENT_GONE", "the response went out before the request body was read: the rest was dropped")
        if b.read is not None and not b.pieces:
            iso, opid = b.read
            b.read = None
            self._answer(b, iso, opid)

    def drop(self, rid: int) -> None:
        """The request is over (or never started): what is left of its body is discarded."""
        b = self.by_rid.pop(rid, None)
        if b is not None and b.read is not None:
            iso, opid = b.read
            b.read = None
            iso.settle(opid, False, _info("E_CLIENT_GONE", "the request is over; its body was discarded"))
            self.wake(iso)

    def on_part(self, body: dict[str, Any]) -> None:
        """A part from the router; a part of a request this shard does not hold (over) is ignored."""
        b = self.by_rid.get(body.get("id"))  # type: ignore[arg-type]
        if b is None or b.ended or b.error is not None:
            return
        part = body.get("part")
        if part == "c":
            data, n = body.get("b64"), body.get("n")
            if type(data) is not str or type(n) is not int or not 0 < n <= len(data) or len(data) > MAX_PIECE_B64:
                self.bad += 1
                return
            b.pieces.append((data, n))
        elif part == "e":
            b.ended = True
        elif part == "x":
            err = body.get("error")
            code = err.get("code") if type(err) is dict else None
            message = err.get("message") if type(err) is dict else None
            b.error = _info(
                code if code in PIECE_CODES and code in CODES else "E_CLIENT_GONE",
                message if type(message) is str else "the request body did not arrive",
            )
        else:
            self.bad += 1
            return
        if b.read is not None:
            iso, opid = b.read
            b.read = None
            self._answer(b, iso, opid)

    def read(self, iso: WorkerIsolate, op: HostOp) -> None:
        """The worker pulls its request body (the "body.read" host operation of its call)."""
        call = iso.inflight.get(op.rid)
        b = self.by_rid.get(call.tag.rid) if call is not None and call.tag is not None else None
        if b is None:
            iso.settle(op.opid, False, _info("E_CLIENT_GONE", "this request has no body streaming in"))
        elif b.read is not None:
            iso.settle(op.opid, False, _info("E_BAD_REQUEST", "the request body is already being read"))
        elif b.pieces or b.ended or b.error is not None:
            self._answer(b, iso, op.opid)
            return
        else:
            b.read = (iso, op.opid)
            return
        self.wake(iso)

    def _answer(self, b: BodyIn, iso: WorkerIsolate, opid: int) -> None:
        if b.pieces:
            data, n = b.pieces.popleft()
            iso.settle(opid, True, data)
            self.out.append(b'{"id":%d,"credit":%d}' % (b.rid, n))
        elif b.error is not None:
            iso.settle(opid, False, b.error)
        else:
            iso.settle(opid, True, None)
        self.wake(iso)


def _info(code: str, message: str) -> dict[str, str]:
    """A host operation's failure as JS's hostError takes it (a TypeError with this code)."""
    return {"name": "TypeError", "code": code, "message": message}
