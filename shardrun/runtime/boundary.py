"""The trust boundary: what comes out of an isolate is checked here before the host uses it.

Everything a tenant's JavaScript hands back to Python (a fetch handler's response, a task
result, console lines, the events of the outbox) and everything another worker answers
(worker-to-worker calls) is untrusted input. It is checked once, here, the way h11 checks
headers against the RFC 9110 grammar before a byte is written: a value either comes out
clean, in the host's own types, or the check raises `BadOutput` naming the problem, and
the caller fails that one request with `E_BAD_OUTPUT` (502 over HTTP). Code above this
module may trust what it returns; nothing here raises anything else.

    status        an integer 200-599 (no upgrades exist)
    reason        at most 512 characters of HTAB, SP, VCHAR and obs-text
    header name   an RFC 9110 token, at most 256 characters
    header value  at most 16 KiB of latin-1 without NUL, CR or LF (the Fetch spec's rule),
                  no leading or trailing whitespace
    headers       at most 500 pairs and 128 KiB in all
    body          text (str) or strict base64 (str), at most the response limit
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

MAX_REASON = 512
MAX_NAME = 256
MAX_VALUE = 16 << 10
MAX_HEADERS = 500
MAX_HEADER_BYTES = 128 << 10
LOG_LEVELS = frozenset({"log", "info", "warn", "error", "debug"})

TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token: a header name, a method
CR_LF_NUL = re.compile(r"[\r\n\x00]")  # what may never stand inside a header line
REASON = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
# latin-1 without NUL, CR or LF, nor whitespace at either end: one scan
VALUE = re.compile(
    r"(?:[^\x00\r\n\t \u0100-\U0010ffff](?:[^\x00\r\n\u0100-\U0010ffff]*[^\x00\r\n\t \u0100-\U0010ffff])?)?"
)
_NAMES: dict[str, str] = {}  # header names already found valid -> lowercased (names repeat: bounded)
MAX_NAMES_KEPT = 4096
B64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


class BadOutput(ValueError):
    """What an isolate (or a called worker) handed back breaks the rules: fail that request."""

    code = "E_BAD_OUTPUT"


def status(v: Any) -> int:
    """A response status: an int (not a bool) from 200 to 599."""
    if type(v) is not int or not 200 <= v <= 599:
        raise BadOutput(f"the response status must be an integer from 200 to 599, got {_show(v)}")
    return v


def reason(v: Any) -> str:
    """A reason phrase (statusText): no control characters but HTAB."""
    if type(v) is not str or (v and (len(v) > MAX_REASON or not REASON.fullmatch(v))):
        raise BadOutput(
            f"the response statusText must be at most {MAX_REASON} characters without CR, LF or other "
            f"control characters, got {_show(v)}"
        )
    return v


def header_name(v: Any) -> str:
    """A header name: an RFC 9110 token, returned lowercased."""
    if type(v) is not str:
        raise BadOutput(f"invalid response header name {_show(v)} (must be an RFC 9110 token)")
    low = _NAMES.get(v)
    if low is not None:
        return low
    if len(v) > MAX_NAME or not TOKEN.fullmatch(v):
        raise BadOutput(f"invalid response header name {_show(v)} (must be an RFC 9110 token)")
    low = v.lower()
    if len(_NAMES) < MAX_NAMES_KEPT:
        _NAMES[v] = low
    return low


def header_value(v: Any) -> str:
    """A header value: latin-1, no NUL, CR or LF, no surrounding whitespace."""
    if type(v) is not str or len(v) > MAX_VALUE or not VALUE.fullmatch(v):
        raise BadOutput(
            f"invalid response header value {_show(v)} (at most {MAX_VALUE} latin-1 characters "
            "without NUL, CR or LF, nor whitespace at either end)"
        )
    return v


def headers(v: Any) -> list[tuple[str, str]]:
    """A list of [name, value] pairs (repeats kept, in order)."""
    return _pairs(v, False)


def _pairs(v: Any, lists: bool) -> list[Any]:
    """The checked pairs of a headers list: (name lowercased, value) tuples, or [name, value]
    lists (`lists`; a pair whose name is lowercase already is kept as it came)."""
    if type(v) is not list:
        raise BadOutput(f"the response headers must be a list of [name, value] pairs, got {_show(v)}")
    if len(v) > MAX_HEADERS:
        raise BadOutput(f"the response has {len(v)} headers, over the limit of {MAX_HEADERS}")
    out: list[Any] = []
    size = 0
    for pair in v:
        if type(pair) is not list or len(pair) != 2:
            raise BadOutput(f"each response header must be a [name, value] pair, got {_show(pair)}")
        n, value = pair
        name, value = header_name(n), header_value(value)
        size += len(name) + len(value) + 4
        out.append((pair if name == n else [name, value]) if lists else (name, value))
    if size > MAX_HEADER_BYTES:
        raise BadOutput(f"the response headers are {size} bytes, over the limit of {MAX_HEADER_BYTES}")
    return out


def body(d: dict[str, Any], max_bytes: int) -> bytes:
    """The body of a response dict: `text` (str) or `b64` (strict base64) or none."""
    if "b64" in d:
        data = _b64_body(d["b64"], max_bytes)
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise BadOutput(f"the response body (b64) is not valid base64: {exc}") from None
    if "text" in d:
        return _text_body(d["text"], max_bytes)
    return b""


def _b64_body(raw: Any, max_bytes: int) -> bytes:
    """A b64 body's ASCII, checked (strict base64, decoded size within max_bytes) without decoding it."""
    if type(raw) is not str:
        raise BadOutput(f"the response body (b64) must be a base64 string, got {_show(raw)}")
    if len(raw) > (max_bytes + 2) // 3 * 4:
        raise BadOutput(f"the response body is over the limit of {max_bytes} bytes")
    data = raw.encode("ascii", "replace")
    if len(data) % 4 or not B64.fullmatch(data):
        raise BadOutput("the response body (b64) is not valid base64")
    size = len(data) // 4 * 3 - data[-2:].count(b"=")
    if size > max_bytes:
        raise BadOutput(f"the response body is {size} bytes, over the limit of {max_bytes}")
    return data


def _text_body(text: Any, max_bytes: int) -> bytes:
    """A text body as UTF-8, checked (a string without lone surrogates, within max_bytes)."""
    if type(text) is not str:
        raise BadOutput(f"the response body (text) must be a string, got {_show(text)}")
    if len(text) > max_bytes:
        raise BadOutput(f"the response body is over the limit of {max_bytes} bytes")
    try:
        out = text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadOutput("the response body is not valid Unicode (it contains a lone surrogate)") from None
    if len(out) > max_bytes:
        raise BadOutput(f"the response body is {len(out)} bytes, over the limit of {max_bytes}")
    return out


def _head(d: Any, lists: bool = False) -> tuple[int, str, list[Any]]:
    if type(d) is not dict:
        raise BadOutput(f"a response must be an object, got {_show(d)}")
    return status(d.get("status")), reason(d.get("statusText", "")), _pairs(d.get("headers", []), lists)


def response(d: Any, max_bytes: int) -> tuple[int, str, list[tuple[str, str]], bytes]:
    """(status, reason, headers, body) of a fetch handler's response dict, all checked."""
    return (*_head(d), body(d, max_bytes))


def wire_response(d: Any, max_bytes: int) -> dict[str, Any]:
    """A checked copy of a response dict, in the form it crosses the wire (no other keys); the
    body is checked but not decoded (the router decodes it once, where it writes it). A header
    pair that needs no change (its name lowercase already) is the input's own list."""
    st, rs, hs = _head(d, True)
    out: dict[str, Any] = {"status": st, "statusText": rs, "headers": hs}
    if "b64" in d:
        _b64_body(d["b64"], max_bytes)
        out["b64"] = d["b64"]
    elif "text" in d:
        _text_body(d["text"], max_bytes)
        out["text"] = d["text"]
    elif d.get("stream") is True:
        out["stream"] = True
    return out


STREAM_PIECE = 256 << 10  # the most bytes one ["c"] event of a streamed body carries (js/src/core.js)


def stream_piece(raw: Any) -> str:
    """A piece of a streamed body (strict base64 of at most STREAM_PIECE bytes), checked, not decoded."""
    _b64_body(raw, STREAM_PIECE)
    return str(raw)


def log_line(level: Any, text: Any) -> tuple[str, str]:
    """A console line's level and text (an unknown level is 'log'; text must be a string)."""
    if type(text) is not str:
        raise BadOutput(f"a console line must be text, got {_show(text)}")
    return (level if level in LOG_LEVELS else "log"), text


def error_info(v: Any) -> tuple[str, str, str, str]:
    """(code, message, name, stack) of an error object from JS; a code JS may not claim becomes E_SCRIPT."""
    if type(v) is not dict:
        return "E_SCRIPT", f"the handler failed with {_show(v)}", "Error", ""
    code = v.get("code")
    if type(code) is not str or code not in SCRIPT_CODES:
        code = "E_SCRIPT"
    return code, _text(v.get("message"), 4096), _text(v.get("name"), 128) or "Error", _text(v.get("stack"), 16 << 10)


# The codes an isolate may report for its own request; every other code (E_SHUTTING_DOWN,
# E_SHARD_LOST, ...) is the host's to give, so JS claiming it means E_SCRIPT.
SCRIPT_CODES = frozenset(
    {
        "E_SCRIPT",
        "E_BAD_OUTPUT",
        "E_NEVER_RESPONDS",
        "E_RESPONSE_TOO_LARGE",
        "E_CPU_LIMIT",
        "E_OOM",
        "E_STACK",
        "E_NO_HANDLER",
        "E_EGRESS_DENIED",
        "E_FETCH_FAILED",
        "E_FETCH_TIMEOUT",
        "E_FETCH_DISABLED",
        "E_SUBREQUEST_LIMIT",
        "E_LOOP_LIMIT",
        "E_WALL_TIMEOUT",
        "E_BAD_REQUEST",
        "E_INTERNAL",
        # env binding calls (shardrun.bindings), when the worker does not catch them
        "E_BINDING_ARGUMENT",
        "E_BINDING_LIMIT",
        "E_BINDING_UNAVAILABLE",
        "E_BINDING_DENIED",
        "E_KV_TOO_LARGE",
        "E_QUEUE_TOO_LARGE",
        "E_SQL",
        "E_SQL_TIMEOUT",
        "E_SQL_DENIED",
        "E_DB_FULL",
        "E_DB_CORRUPT",
    }
)


def _text(v: Any, limit: int) -> str:
    if type(v) is not str:
        return "" if v is None else _show(v)
    return v if len(v) <= limit else v[:limit] + "..."


def _show(v: Any) -> str:
    """A short, safe rendering of an offending value for an error message."""
    if type(v) is str:
        return repr(v[:60] + ("..." if len(v) > 60 else ""))
    if v is None or type(v) in (bool, int, float):
        return repr(v)[:60]
    return f"a {type(v).__name__}"
