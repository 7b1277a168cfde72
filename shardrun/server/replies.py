"""What a shard sends back for a call: reply bodies, from a Result or from the host's own error.

Pure functions (no sockets). A result's encoded size is bounded here as well as in JS; a
refusal of a request the shard never started carries the protocol's requeue flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shardrun import protocol
from shardrun.engine.limits import Limits
from shardrun.runtime.calls import Result


@dataclass(frozen=True, slots=True)
class CallTag:
    """What the shard keeps with each call: the router's id and who it is for."""

    rid: int
    worker: str
    tenant: str
    console: bool
    request_id: str | None
    depth: int = 0  # worker-to-worker calls above this one
    reply_cap: int = 1 << 62  # the most its reply body may be (reply_cap() of its worker's limits)
    trace: Any = None  # its span in this shard (tracing.Tracer), when traces are on


def reply_cap(lim: Limits) -> int:
    """The most a reply body may be: the output limit as base64, the console cap as escaped JSON, room for the rest."""
    return lim.max_output_bytes * 4 // 3 + lim.max_log_bytes * 6 + (256 << 10)


def result_body(tag: CallTag, r: Result, slot: int) -> tuple[bytes, bool]:
    """(reply body, ok) for a call's result; a body over the tag's reply_cap becomes E_RESPONSE_TOO_LARGE."""
    cap = tag.reply_cap
    extra: dict[str, Any] = {
        "shard": slot,
        "tenant": tag.tenant,
        "cpu_ms": round(r.cpu_ms, 3),
        "wall_ms": round(r.wall_ms, 3),
    }
    if r.logs and tag.console:
        extra["logs"] = [[line.level, line.text] for line in r.logs]
    if not r.ok:
        assert r.error is not None
        return protocol.reply_body(tag.rid, False, r.error.to_dict(), **extra), False
    if type(r.value) is dict and r.value.get("stream") is True:  # a head: the body follows in parts
        return protocol.head_body(tag.rid, r.value, **extra), True
    body = protocol.reply_body(tag.rid, True, r.value, **extra)
    if len(body) <= cap:
        return body, True
    message = f"the result is {len(body)} bytes encoded, over the limit of {cap}"
    return protocol.reply_body(tag.rid, False, {"code": "E_RESPONSE_TOO_LARGE", "message": message}, **extra), False


def error_body(rid: int, code: str, message: str, stack: str, slot: int) -> bytes:
    """The host's own error for a request; E_SHUTTING_DOWN is a refusal the router may send elsewhere."""
    if code == "E_SHUTTING_DOWN":
        return protocol.refusal_body(rid, code, message, shard=slot)
    err: dict[str, Any] = {"code": code, "message": message}
    if stack:
        err["stack"] = stack
    return protocol.reply_body(rid, False, err, shard=slot)
