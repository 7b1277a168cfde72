"""Strict JSON input: what a payload must be before it may reach a shard.

Rejected with E_BAD_JSON and the position where that is known: invalid syntax, NaN and
Infinity, numbers out of double range, lone surrogates, control characters in strings,
duplicate object keys, nesting deeper than the limit, and text over the size limit.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from shardrun.errors import UsageError

MAX_DEPTH = 64
MAX_BYTES = 1 << 20


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            raise UsageError(f"invalid JSON payload: duplicate key {k!r} in an object", code="E_BAD_JSON")
        seen[k] = v
    return seen


def depth_of(value: Any) -> int:
    """Nesting depth of a JSON value (a scalar is 0)."""
    depth = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = v.values()
        elif not isinstance(v, list):
            continue
        d += 1
        depth = max(depth, d)
        stack.extend((x, d) for x in v if isinstance(x, (dict, list)))
    return depth


def parse_payload(text: str | bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """Parse a JSON payload strictly, or raise UsageError(E_BAD_JSON) naming the problem."""
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if size > max_bytes:
        raise UsageError(f"the JSON payload is {size} bytes, over the limit of {max_bytes}", code="E_BAD_JSON")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"invalid JSON payload: {exc}", code="E_BAD_JSON") from None
    if isinstance(value, (dict, list)):
        d = depth_of(value)
        if d > max_depth:
            raise UsageError(
                f"the JSON payload nests {d} levels deep, over the limit of {max_depth}", code="E_BAD_JSON"
            )
        if b"{" in (text.encode() if isinstance(text, str) else text):
            json.loads(text, object_pairs_hook=_no_duplicates)
    return value
