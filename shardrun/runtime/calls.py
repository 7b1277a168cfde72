"""The values a request carries in and out of an isolate: calls, results, HTTP messages."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from shardrun.errors import ErrorInfo, UsageError
from shardrun.runtime import boundary

MAX_BODY_BYTES = 64 << 20  # no body crosses the wire larger than a protocol message


@dataclass(frozen=True)
class HttpRequest:
    """An incoming HTTP request for a fetch handler; url is absolute, header names and values valid."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    streamed: bool = False  # the body arrives after the request, as "body.read" host operations (server/bodyin.py)

    def to_js(self) -> dict[str, Any]:
        """The fetch argument the shard receives (see dispatch_args for how it enters an isolate)."""
        return fetch_arg(self.method, self.url, [(k.lower(), v) for k, v in self.headers], self.body, self.streamed)


def fetch_arg(
    method: str, url: str, headers: list[tuple[str, str]], body: bytes | None, streamed: bool = False
) -> dict[str, Any]:
    """The fetch argument of a request whose header names are lowercased and every part valid
    already (JS trusts them): HttpRequest.to_js, and the front door, whose parser made them so."""
    d: dict[str, Any] = {
        "method": method,
        "url": url,
        "headers": headers,
        "body": None if body is None else base64.b64encode(body).decode("ascii"),
    }
    if streamed:
        d["bodyStream"] = True
    return d


def dispatch_args(kind: str, arg: Any, stream: bool = False) -> tuple[str, tuple[Any, ...]]:
    """A request's argument as the JS dispatch(rid, kind, json, now, ...rest) takes it (js/src/core.js):
    (json, rest).

    task and scheduled: the argument's JSON text, no rest. fetch (arg: an HttpRequest or its
    to_js() dict): the JSON text of the header pairs, and (method, url, body base64 or None,
    stream, streamed: its body follows as "body.read" host operations): the fields cross as they are, and JS parses the headers only if the handler reads
    them. Raises UsageError: E_BAD_JSON for an argument JSON cannot carry, E_BAD_REQUEST for a
    fetch argument of another shape."""
    if kind != "fetch":
        try:
            return orjson.dumps(arg).decode(), ()
        except TypeError as exc:
            raise UsageError(f"the {kind} argument cannot be sent as JSON: {exc}", code="E_BAD_JSON") from None
    d = arg.to_js() if isinstance(arg, HttpRequest) else arg
    if type(d) is not dict:
        raise UsageError("the fetch argument must be an object {method, url, headers, body}", code="E_BAD_REQUEST")
    method, url, headers, body = d.get("method"), d.get("url"), d.get("headers", []), d.get("body")
    if type(method) is not str or type(url) is not str or type(headers) is not list:
        raise UsageError(
            "the fetch argument needs a method and a url (strings) and headers (a list)", code="E_BAD_REQUEST"
        )
    if body is not None and type(body) is not str:
        raise UsageError("the fetch argument's body must be base64 text or null", code="E_BAD_REQUEST")
    try:
        pairs = orjson.dumps(headers).decode()
    except TypeError as exc:
        raise UsageError(f"the fetch argument cannot be sent as JSON: {exc}", code="E_BAD_JSON") from None
    return pairs, (method, url, body, stream, d.get("bodyStream") is True)


@dataclass(frozen=True)
class HttpResponse:
    """What a fetch handler answered: status, headers (repeats kept) and body bytes."""

    status: int
    status_text: str
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def from_js(cls, d: Any, max_bytes: int = MAX_BODY_BYTES) -> HttpResponse:
        """Build from a response dict out of an isolate ({status, statusText, headers, text | b64}),
        checked by the trust boundary: raises boundary.BadOutput if it breaks a rule."""
        return cls(*boundary.response(d, max_bytes))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (body as text when it is UTF-8, else base64)."""
        try:
            body: dict[str, str] = {"text": self.body.decode("utf-8")}
        except UnicodeDecodeError:
            body = {"base64": base64.b64encode(self.body).decode("ascii")}
        return {
            "status": self.status,
            "statusText": self.status_text,
            "headers": [list(h) for h in self.headers],
            **body,
        }


@dataclass(frozen=True)
class LogLine:
    """One console line of a request."""

    level: str
    text: str


@dataclass(slots=True)
class Result:
    """How a request ended: a value (task result or HttpResponse) or an error."""

    ok: bool
    value: Any = None
    error: ErrorInfo | None = None
    logs: list[LogLine] = field(default_factory=list)
    cpu_ms: float = 0.0
    wall_ms: float = 0.0


@dataclass(frozen=True)
class HostOp:
    """A host operation JS asked for through the mailbox (fetch, ...)."""

    opid: int
    rid: int
    name: str
    args: Any


@dataclass(eq=False, slots=True)
class Call:
    """One request in flight in an isolate, as the host tracks it."""

    rid: int
    kind: str
    started: float
    deadline: float
    cpu_budget: float
    on_result: Callable[[Call], None] | None = None
    on_finish: Callable[[Call], None] | None = None
    tag: Any = None
    cpu_used: float = 0.0
    result: Result | None = None
    finished: bool = False
    logs: list[LogLine] = field(default_factory=list)
    log_bytes: int = 0  # console text kept so far (capped by the limits' max_log_bytes)
    logs_dropped: int = 0  # console lines over the cap
    ext_logs_sent: int = 0  # console lines the host already passed on (with the result)
    rejections: int = 0  # unhandled promise rejections during it (the first few are logged)
    ext: Any = None  # the host's own state for this call (e.g. its fetches)
    bindings: Any = None  # its env binding calls: counts against the caps (shardrun.bindings.host)
    # A streamed response body: on_chunk(call, part, value) for each piece ("c", base64 text),
    # its end ("e", None) or its failure ("x", ErrorInfo), after on_result gave the head.
    on_chunk: Callable[[Call, str, Any], None] | None = None
    streaming: bool = False  # its head went out and its body is still streaming

    @property
    def responded(self) -> bool:
        """True once the result is known."""
        return self.result is not None
