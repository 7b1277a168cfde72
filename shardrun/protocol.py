"""The wire protocol between clients, the router and shards. No sockets here: pure functions.

Every message is a ZeroMQ multipart message:

    [HEADER, TYPE, BODY, BODY, ...]   HEADER = b"SR1" (protocol name + version)
                                      TYPE   = one byte, below
                                      BODY   = orjson-encoded object; one or more

Several bodies of one type travel in one message: the router and shards batch what they
have for a peer per wake-up (one send instead of many; see ../shared/design/facts.md).
A REQUEST or REPLY body starts with its id (`{"id":N,...}`), so the router can swap ids
without parsing the rest. A ROUTER socket adds the peer identity in front; the socket
code strips it before decoding. A message that does not decode is counted and dropped by
the receiver, never a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from shardrun.errors import CODES

HEADER = b"SR1"

READY = b"\x01"  # shard -> router: {"shard": n, "pid": p, "gen": g}
REQUEST = b"\x02"  # client -> router -> shard: a request (see below)
REPLY = b"\x03"  # shard -> router -> client: {"id", "ok", "value" | "error", ...}
HEARTBEAT = b"\x04"  # both ways: shard -> router carries the shard's counters
DISCONNECT = b"\x05"  # shard -> router: {"reason": ..., "id": request id or null}
CONTROL = b"\x06"  # router -> shard: {"id", "credit": bytes} or {"id", "cancel": true} for a streamed reply,
# or a part of a request body that follows its request ({"id", "part": "c" | "e" | "x", ...}, server/bodyin.py);
# shard -> router: {"id", "credit": bytes}, bytes of such a body its worker read (server/bodies.py)

TYPES = {
    READY: "READY",
    REQUEST: "REQUEST",
    REPLY: "REPLY",
    HEARTBEAT: "HEARTBEAT",
    DISCONNECT: "DISCONNECT",
    CONTROL: "CONTROL",
}
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


def split(frames: list[bytes]) -> tuple[bytes, list[bytes]]:
    """Check the envelope; returns (type, raw bodies) or raises ProtocolError saying why."""
    if len(frames) < 3:
        raise ProtocolError(f"expected at least 3 frames, got {len(frames)}")
    if frames[0] != HEADER:
        raise ProtocolError(f"bad header {bytes(frames[0][:16])!r} (expected {HEADER!r})")
    if frames[1] not in TYPES:
        raise ProtocolError(f"unknown message type {bytes(frames[1][:4])!r}")
    return frames[1], frames[2:]


def decode_all(frames: list[bytes]) -> list[Message | ProtocolError]:
    """Every body of a message, decoded; a bad body is a ProtocolError in its place."""
    type_, bodies = split(frames)
    out: list[Message | ProtocolError] = []
    for body in bodies:
        try:
            out.append(decode_body(type_, body))
        except ProtocolError as exc:
            out.append(exc)
    return out


def decode(frames: list[bytes]) -> Message:
    """Decode a one-body message (without any identity prefix) or raise ProtocolError."""
    if len(frames) != 3:
        raise ProtocolError(f"expected 3 frames, got {len(frames)}")
    type_, (body,) = split(frames)
    return decode_body(type_, body)


def decode_body(type_: bytes, body: bytes) -> Message:
    """Decode one body of a message of the given type."""
    if len(body) > MAX_BODY_BYTES:
        raise ProtocolError(f"body of {len(body)} bytes is over {MAX_BODY_BYTES}")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ProtocolError("body is not a JSON object")
    return Message(type_, value)


def encode_batch(type_: bytes, bodies: list[bytes]) -> list[bytes]:
    """Frames for several already-encoded bodies of one type."""
    if type_ not in TYPES:
        raise ProtocolError(f"unknown message type {type_!r}")
    return [HEADER, type_, *bodies]


def encode_ready(shard: int, pid: int, gen: int) -> list[bytes]:
    return encode(READY, {"shard": shard, "pid": pid, "gen": gen})


def request_body(rid: int, worker: str, kind: str, arg: Any, **extra: Any) -> bytes:
    """A request body: worker name, kind (fetch|task|scheduled) and its argument."""
    return orjson.dumps({"id": rid, "worker": worker, "kind": kind, "arg": arg, **extra})


def reply_body(rid: Any, ok: bool, payload: Any, **extra: Any) -> bytes:
    """A reply body: the value when ok, else an error object {code, message, ...}."""
    return orjson.dumps({"id": rid, "ok": ok, ("value" if ok else "error"): payload, **extra})


# A streamed reply (a fetch request that asked with "stream": true) is several REPLY bodies of
# one id, each with a host flag right after the id (where no tenant value can be):
#   {"id", "part": "h", "ok": true, "value": {status, statusText, headers, "stream": true}, ...}
#   {"id", "part": "c", "b64": ..., "n": bytes}     a piece of the body
#   {"id", "part": "e"}                             the body ended
#   {"id", "part": "x", "error": {code, message}}   the body failed: the response is incomplete
# The receiver grants the shard more bytes with CONTROL {"id", "credit": n} as it takes them,
# and cancels with CONTROL {"id", "cancel": true} when its client goes away.
def head_body(rid: int, value: Any, **extra: Any) -> bytes:
    """The first body of a streamed reply: the response head."""
    return orjson.dumps({"id": rid, "part": "h", "ok": True, "value": value, **extra})


def part_body(rid: int, part: str, **fields: Any) -> bytes:
    """A later body of a streamed reply: a piece ("c"), the end ("e") or a failure ("x")."""
    return orjson.dumps({"id": rid, "part": part, **fields})


def stream_part(body: bytes) -> str | None:
    """Which part of a streamed reply a REPLY body is ("h", "c", "e", "x"), or None for a whole reply."""
    comma = body.find(b",", 6, 32)
    if comma > 0 and body.startswith(b'"part":"', comma + 1) and body[comma + 10 : comma + 11] == b'"':
        return chr(body[comma + 9])
    return None


def piece_size(body: bytes) -> int:
    """The byte count of a "c" part (its "n", which comes before the base64); 0 if unreadable."""
    at = body.find(b'"n":', 0, 64)
    end = body.find(b",", at + 4, at + 20) if at > 0 else -1
    try:
        return int(body[at + 4 : end]) if end > 0 else 0
    except ValueError:
        return 0


def encode_control(bodies: list[bytes]) -> list[bytes]:
    return [HEADER, CONTROL, *bodies]


def reply_error(body: dict[str, Any]) -> tuple[str, str]:
    """(code, message) of a failed REPLY body, whatever its shape; a code that is not one of
    shardrun's is E_INTERNAL, a missing message is ""."""
    err = body.get("error")
    code = err.get("code") if isinstance(err, dict) else None
    message = err.get("message") if isinstance(err, dict) else None
    if not isinstance(code, str) or code not in CODES:
        code = "E_INTERNAL"
    return code, message if isinstance(message, str) else ""


def refusal_body(rid: int, code: str, message: str, **extra: Any) -> bytes:
    """A shard's refusal of a request it did not start (it is shutting down): the router may send it
    again. The flag is the host's own and comes right after the id, where no tenant value can be."""
    return orjson.dumps({"id": rid, "requeue": True, "ok": False, "error": {"code": code, "message": message}, **extra})


def reply_id(body: bytes) -> int | None:
    """The id a REPLY body starts with (`{"id":N,`), read without parsing the rest; None if it has none."""
    if not body.startswith(b'{"id":'):
        return None
    comma = body.find(b",", 6, 32)
    try:
        return int(body[6:comma]) if comma > 0 else None
    except ValueError:
        return None


def is_refusal(body: bytes) -> bool:
    """Whether a reply body is a shard's refusal (see refusal_body)."""
    comma = body.find(b",")
    return comma > 0 and body.startswith(b'"requeue":true,', comma + 1)


def encode_request(rid: int, worker: str, kind: str, arg: Any, **extra: Any) -> list[bytes]:
    return [HEADER, REQUEST, request_body(rid, worker, kind, arg, **extra)]


def encode_reply(rid: Any, ok: bool, payload: Any, **extra: Any) -> list[bytes]:
    return [HEADER, REPLY, reply_body(rid, ok, payload, **extra)]


def encode_heartbeat(**stats: Any) -> list[bytes]:
    return encode(HEARTBEAT, stats)


def encode_disconnect(reason: str, rid: int | None = None) -> list[bytes]:
    return encode(DISCONNECT, {"reason": reason, "id": rid})


TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")


def check_tenant(t: Any) -> str | None:
    """A tenant (a worker deployed for many tenants), checked; None stays None."""
    if t is None:
        return None
    if not isinstance(t, str) or not TENANT.fullmatch(t):
        raise ProtocolError("tenant must be 1-128 of A-Z, a-z, 0-9 and _ . : @ -, starting with a letter or digit")
    return t


def check_priority(p: Any) -> int | None:
    """A queue priority (-1000..1000, higher first), checked; None stays None."""
    if p is None:
        return None
    if isinstance(p, bool) or not isinstance(p, int) or not -1000 <= p <= 1000:
        raise ProtocolError(f"priority must be a whole number from -1000 to 1000, got {p!r}")
    return p


def request_tenant(msg: Message) -> str | None:
    """The request's own tenant, checked; None if absent."""
    return check_tenant(msg.body.get("tenant"))


def request_priority(msg: Message) -> int | None:
    """The request's own queue priority, checked; None if absent."""
    return check_priority(msg.body.get("priority"))


MAX_DEPTH = 64


def request_depth(msg: Message) -> int:
    """How many worker-to-worker calls are above this request (0: none); a malformed depth counts as the most."""
    d = msg.body.get("depth", 0)
    return d if isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_DEPTH else MAX_DEPTH


def shard_identity(slot: int, pid: int | object) -> bytes:
    """The ZeroMQ identity a shard process has at the router."""
    return f"shard-{slot}-{pid}".encode()


def request_wall_ms(msg: Message) -> float | None:
    """A request's own wall limit in ms (it can only lower the worker's), checked; None if absent."""
    w = msg.body.get("wall_ms")
    if w is None:
        return None
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not w > 0:
        raise ProtocolError(f"wall_ms must be a positive number of milliseconds, got {w!r}")
    return float(w)


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
