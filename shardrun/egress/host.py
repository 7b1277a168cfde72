"""The fetch host op: per-request caps, then out to the network (Egress) or to another worker
(InternalRoutes).

Caps per request, from the worker's policy: `max_subrequests` fetches in all (more fail
with E_SUBREQUEST_LIMIT), `max_concurrent` at once (more wait their turn), each at most
`timeout_ms` and never past the request's own wall deadline; worker-to-worker calls carry
their depth and stop at `max_depth` (E_LOOP_LIMIT).

The arguments of a host operation come from the tenant's isolate and are not trusted: the
first thing done with them is `fetch_request`, which either returns a clean FetchRequest or
raises E_BAD_REQUEST naming the field; that fetch is then refused at once.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shardrun.egress.client import Egress, fetch_error
from shardrun.egress.policy import FetchPolicy, allows
from shardrun.errors import ShardrunError
from shardrun.runtime.boundary import CR_LF_NUL, TOKEN
from shardrun.runtime.calls import Call, HostOp

if TYPE_CHECKING:
    from shardrun.egress.internal import InternalRoutes
    from shardrun.runtime.isolate import WorkerIsolate


log = logging.getLogger("shardrun.egress")

MAX_URL_CHARS = 8192
MAX_METHOD_CHARS = 32
MAX_HEADERS = 256
MAX_HEADER_CHARS = 64 << 10  # names and values, in all
URL_CHARS = re.compile(r"[^\x00-\x20\x7f]+")  # what a URL serialiser emits: no space, no control
FORBIDDEN_METHODS = frozenset({"CONNECT", "TRACE", "TRACK"})
REDIRECT_MODES = ("follow", "error", "manual")
ARG_KEYS = frozenset({"url", "method", "headers", "body", "redirect"})


@dataclass(frozen=True)
class FetchRequest:
    """The arguments of a fetch, checked (see fetch_request)."""

    url: str
    method: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    redirect: str


def bad(message: str) -> ShardrunError:
    return ShardrunError(f"fetch(): {message}", code="E_BAD_REQUEST")


def fetch_request(args: Any, max_body_bytes: int) -> FetchRequest:
    """The fetch these host-operation arguments ask for, or E_BAD_REQUEST naming the field.

    Expected: {url: str, method: token, headers: [[name, value], ...], body: base64 str | null,
    redirect: "follow" | "error" | "manual"}; nothing else.
    """
    if not isinstance(args, dict):
        raise bad(f"the arguments must be an object, got {_kind(args)}")
    extra = set(args) - ARG_KEYS
    if extra:
        raise bad(f"unknown arguments {sorted(map(str, extra))[:5]}")
    url = args.get("url")
    if not isinstance(url, str) or not url:
        raise bad(f"url must be a non-empty string, got {_kind(url)}")
    if len(url) > MAX_URL_CHARS:
        raise bad(f"url is {len(url)} characters, over the limit of {MAX_URL_CHARS}")
    if not URL_CHARS.fullmatch(url):
        raise bad("url contains spaces or control characters")
    method = args.get("method", "GET")
    if not isinstance(method, str) or len(method) > MAX_METHOD_CHARS or not TOKEN.fullmatch(method):
        raise bad(f"method must be a token of at most {MAX_METHOD_CHARS} characters, got {_shown(method)}")
    if method.upper() in FORBIDDEN_METHODS:
        raise bad(f"method {method} is forbidden")
    headers = _headers(args.get("headers", []))
    body, data = args.get("body"), None
    if body is not None:
        if not isinstance(body, str):
            raise bad(f"body must be a base64 string or null, got {_kind(body)}")
        if len(body) > 4 * -(-max_body_bytes // 3):
            raise bad(f"body is over the limit of {max_body_bytes} bytes (max_request_bytes)")
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise bad("body is not valid base64") from None
        if len(data) > max_body_bytes:
            raise bad(f"body is {len(data)} bytes, over the limit of {max_body_bytes} (max_request_bytes)")
    redirect = args.get("redirect", "follow")
    if redirect not in REDIRECT_MODES:
        raise bad(f"redirect must be one of {', '.join(REDIRECT_MODES)}, got {_shown(redirect)}")
    return FetchRequest(url, method, headers, data or None, redirect)


def _headers(raw: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, list):
        raise bad(f"headers must be a list of [name, value] pairs, got {_kind(raw)}")
    if len(raw) > MAX_HEADERS:
        raise bad(f"headers has {len(raw)} entries, over the limit of {MAX_HEADERS}")
    out, size = [], 0
    for i, pair in enumerate(raw):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise bad(f"headers[{i}] must be a [name, value] pair of strings, got {_shown(pair)}")
        name, value = pair
        if not TOKEN.fullmatch(name):
            raise bad(f"headers[{i}] has an invalid name {_shown(name)}")
        if CR_LF_NUL.search(value):
            raise bad(f"headers[{i}] ({name}) has a value with CR, LF or NUL")
        size += len(name) + len(value)
        if size > MAX_HEADER_CHARS:
            raise bad(f"headers are over the limit of {MAX_HEADER_CHARS} characters")
        out.append((name, value))
    return tuple(out)


def _kind(v: Any) -> str:
    return (
        "null"
        if v is None
        else {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
            type(v), "a number" if isinstance(v, (int, float)) else type(v).__name__
        )
    )


def _shown(v: Any) -> str:
    return repr(v[:40]) if isinstance(v, str) else _kind(v)


@dataclass
class Subrequests:
    """A request's fetches: how many so far, how many running, which wait for a slot."""

    total: int = 0
    active: int = 0
    waiting: deque[tuple[HostOp, FetchRequest, FetchPolicy]] = field(default_factory=deque)


class FetchHost:
    """host_ops for WorkerIsolates: fetch() with the worker's policy."""

    def __init__(
        self,
        egress: Egress,
        policy_of: Callable[[WorkerIsolate, Call], FetchPolicy],
        wake: Callable[[WorkerIsolate], None],
        internal: InternalRoutes | None = None,
        depth_of: Callable[[Call], int] = lambda call: 0,
        tracer: Any = None,
    ) -> None:
        self.egress = egress
        self.policy_of = policy_of
        self.wake = wake
        self.internal = internal
        self.depth_of = depth_of
        self.tracer = tracer  # a tracing.Tracer: a span per subrequest, its traceparent sent on
        self.spans: dict[Any, Any] = {}

    def __call__(self, iso: WorkerIsolate, op: HostOp) -> None:
        call = iso.inflight.get(op.rid)
        if call is None:
            return
        try:
            self._op(iso, call, op)
        except Exception:  # a bug here must fail this fetch, not the shard loop
            log.exception("host operation %r failed", op.name)
            self._fail(iso, op, "E_INTERNAL", f"{op.name}(): failed inside the server")

    def _op(self, iso: WorkerIsolate, call: Call, op: HostOp) -> None:
        if op.name != "fetch":
            return self._fail(iso, op, "E_BAD_REQUEST", f"unknown host operation {str(op.name)[:40]!r}")
        try:
            policy = self.policy_of(iso, call)
            req = fetch_request(op.args, policy.max_request_bytes)
        except ShardrunError as exc:
            return self._fail(iso, op, exc.code, exc.message)
        st = call.ext if isinstance(call.ext, Subrequests) else None
        if st is None:
            st = call.ext = Subrequests()
        if st.total >= policy.max_subrequests:
            return self._fail(
                iso,
                op,
                "E_SUBREQUEST_LIMIT",
                f"this request already made {st.total} fetches, its limit (max_subrequests)",
            )
        st.total += 1
        if st.active >= policy.max_concurrent:
            st.waiting.append((op, req, policy))
            return
        self._start(iso, call, st, op, req, policy)

    def _start(
        self, iso: WorkerIsolate, call: Call, st: Subrequests, op: HostOp, req: FetchRequest, policy: FetchPolicy
    ) -> None:
        timeout = min(policy.timeout_ms / 1000, call.deadline - time.monotonic())
        if timeout <= 0:
            return self._fail(iso, op, "E_WALL_TIMEOUT", "fetch(): the request has no time left")
        key = (iso, call, op.opid)
        worker = self.internal.target(req.url) if self.internal is not None else None
        parent = getattr(call.tag, "trace", None)
        if parent is not None and self.tracer is not None:
            req = self._traced(key, parent, req, worker)
        if worker is not None:
            assert self.internal is not None
            if policy.operator.internal_requires_allow and not _allowed(policy, req.url):
                return self._fail(
                    iso,
                    op,
                    "E_EGRESS_DENIED",
                    f"fetch to worker {worker!r} is not allowed for this worker: the server's egress "
                    "settings (internal_requires_allow) need its host in the [fetch] allow list",
                )
            depth = self.depth_of(call) + 1
            if depth > policy.max_depth:
                return self._fail(
                    iso,
                    op,
                    "E_LOOP_LIMIT",
                    f"fetch to worker {worker!r}: worker-to-worker calls "
                    f"are {depth} deep, over the limit of {policy.max_depth}",
                )
            st.active += 1
            self.internal.send(key, worker, req, depth, timeout)
            return
        st.active += 1
        self.egress.submit(key, req, policy, timeout)

    def _traced(self, key: Any, parent: Any, req: FetchRequest, worker: str | None) -> FetchRequest:
        """Start the subrequest's span; the request carries its traceparent (instead of any the worker set)."""
        from shardrun import tracing

        tr = self.tracer
        attrs = {"http.request.method": req.method, "url.full": tracing.shown_url(req.url)}
        if worker is not None:
            attrs["shardrun.callee"] = worker
        span = self.spans[key] = tr.child(parent, "fetch", tr.CLIENT, attrs)
        kept = tuple(h for h in req.headers if h[0].lower() not in ("traceparent", "tracestate"))
        return replace(req, headers=kept + tuple(tr.carrier(span).items()))

    def done(self, key: Any, ok: bool, value: Any) -> None:
        """A fetch ended (from Egress.drain or InternalRoutes.drain): settle it, start a waiting one."""
        span = self.spans.pop(key, None) if self.spans else None
        if span is not None:
            status = value.get("status") if ok and isinstance(value, dict) else None
            code = None if ok else (value.get("code") if isinstance(value, dict) else "E_FETCH_FAILED")
            self.tracer.end(span, code, "", **{"http.response.status_code": status if type(status) is int else None})
        iso, call, opid = key
        iso.settle(opid, ok, value)
        self.wake(iso)
        st = call.ext
        if isinstance(st, Subrequests):
            st.active -= 1
            while st.waiting and st.active < st.waiting[0][2].max_concurrent and not call.finished:
                op, req, policy = st.waiting.popleft()
                self._start(iso, call, st, op, req, policy)

    def _fail(self, iso: WorkerIsolate, op: HostOp, code: str, message: str) -> None:
        iso.settle(op.opid, False, fetch_error(code, message))
        self.wake(iso)


def _allowed(policy: FetchPolicy, url: str) -> bool:
    """Whether the allow list names the host of this (worker-to-worker) URL."""
    try:
        u = urlsplit(url)
        port = u.port or (443 if u.scheme.lower() == "https" else 80)
    except ValueError:
        return False
    return allows(policy, (u.hostname or "").lower().rstrip("."), port)[0]
