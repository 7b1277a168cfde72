"""The wire protocol between clients, the router and shards. No sockets here: pure functions.

Every message is a ZeroMQ multipart message of three frames:

    [HEADER, TYPE, BODY]      HEADER = b"SR1" (protocol name + version)
                              TYPE   = one byte, below
                              BODY   = orjson-encoded object

A ROUTER socket adds the peer identity in front; the socket code strips it before decoding.
A frame that does not decode is counted and dropped by the receiver, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

HEADER = b"SR1"

READY = b"\x01"       # shard -> router: {"shard": n, "pid": p, "gen": g}
REQUEST = b"\x02"     # client -> router -> shard: a request (see below)
REPLY = b"\x03"       # shard -> router -> client: {"id", "ok", "value" | "error", ...}
HEARTBEAT = b"\x04"   # both ways: shard -> router carries the shard's counters
DISCONNECT = b"\x05"  # shard -> router: {"reason": ..., "id": request id or null}

TYPES = {READY: "READY", REQUEST: "REQUEST", REPLY: "REPLY", HEARTBEAT: "HEARTBEAT", DISCONNECT: "DISCONNECT"}
MAX_BODY_BYTES = 64 << 20


class ProtocolError(ValueError):
    """A frame that does not follow the protocol."""


@dataclass(frozen=True)
class Message:
    """A decoded message: its type byte and body."""

    type: bytes
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return TYPES.get(self.type, "?")


def encode(type_: bytes, body: dict[str, Any]) -> list[bytes]:
    """Frames for one message."""
    if type_ not in TYPES:
        raise ProtocolError(f"unknown message type {type_!r}")
    return [HEADER, type_, orjson.dumps(body)]


def decode(frames: list[bytes]) -> Message:
    """Decode frames (without any identity prefix) or raise ProtocolError saying why."""
    if len(frames) != 3:
        raise ProtocolError(f"expected 3 frames, got {len(frames)}")
    header, type_, body = frames
    if header != HEADER:
        raise ProtocolError(f"bad header {bytes(header[:16])!r} (expected {HEADER!r})")
    if type_ not in TYPES:
        raise ProtocolError(f"unknown message type {bytes(type_[:4])!r}")
    if len(body) > MAX_BODY_BYTES:
        raise ProtocolError(f"body of {len(body)} bytes is over {MAX_BODY_BYTES}")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ProtocolError("body is not a JSON object")
    return Message(type_, value)


def encode_ready(shard: int, pid: int, gen: int) -> list[bytes]:
    return encode(READY, {"shard": shard, "pid": pid, "gen": gen})


def encode_request(rid: int, worker: str, kind: str, arg: Any, **extra: Any) -> list[bytes]:
    """A request: worker name, kind (fetch|task|scheduled) and its argument."""
    return encode(REQUEST, {"id": rid, "worker": worker, "kind": kind, "arg": arg, **extra})


def encode_reply(rid: int, ok: bool, payload: Any, **extra: Any) -> list[bytes]:
    """A reply: the value when ok, else an error object {code, message, ...}."""
    return encode(REPLY, {"id": rid, "ok": ok, ("value" if ok else "error"): payload, **extra})


def encode_error(rid: int, code: str, message: str, **extra: Any) -> list[bytes]:
    return encode_reply(rid, False, {"code": code, "message": message}, **extra)


def encode_heartbeat(**stats: Any) -> list[bytes]:
    return encode(HEARTBEAT, stats)


def encode_disconnect(reason: str, rid: int | None = None) -> list[bytes]:
    return encode(DISCONNECT, {"reason": reason, "id": rid})


def request_fields(msg: Message) -> tuple[int, str, str, Any]:
    """(id, worker, kind, arg) of a REQUEST, checked."""
    b = msg.body
    rid, worker, kind = b.get("id"), b.get("worker"), b.get("kind")
    if not isinstance(rid, int) or isinstance(rid, bool):
        raise ProtocolError("request id must be an integer")
    if not isinstance(worker, str) or not worker:
        raise ProtocolError("request worker must be a non-empty string")
    if kind not in ("fetch", "task", "scheduled"):
        raise ProtocolError(f"request kind must be fetch, task or scheduled, got {kind!r}")
    return rid, worker, kind, b.get("arg")
