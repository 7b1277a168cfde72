"""How an HttpConnection (http.py) parses requests: httptools' callbacks, the framing of
request bodies, and the checks made as the bytes arrive.

A mixin of HttpConnection, which provides the attributes declared here. Bytes are fed to the
parser in pieces that end where a chunk-size line does, so each chunk's size is checked
(against the body limit) before its data is read; the headers that frame a request (Host,
Content-Length, Transfer-Encoding, Expect) are noted as they arrive; the authority and path
are parsed with shardrun.server.httpsyntax, so the owner builds URLs only from validated parts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from shardrun.server.httpsyntax import error_body, parse_authority, parse_target

if TYPE_CHECKING:
    import httptools

    from shardrun.server.http import HttpConnection

log = logging.getLogger("shardrun.http")

MAX_CHUNK_LINE = 1024  # a chunk-size line, extensions included
MAX_CHUNK_DIGITS = 16  # hex digits of a chunk size (64 bits)
HEX = re.compile(rb"[0-9A-Fa-f]*")


@dataclass(frozen=True)
class HttpLimits:
    """What one request may send, and how fast."""

    max_header_bytes: int = 16 << 10
    max_body_bytes: int = 1 << 20
    header_timeout_s: float = 10.0  # from the first byte of a request to its last header
    body_timeout_s: float = 30.0  # from the end of the headers to the end of the body
    keepalive_timeout_s: float = 5.0  # idle between requests
    max_pipelined: int = 32  # requests read ahead of their responses


@dataclass(slots=True)
class IncomingRequest:
    """A complete request as the connection parsed it."""

    conn: HttpConnection
    seq: int
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    keep_alive: bool
    host: str = ""  # validated, lower case, no trailing dot, no port ("" when the client gave none)
    authority: str = ""  # host[:port], the same validated parts
    path: str = "/"  # the target's path ("*" for OPTIONS *)
    query: str = ""
    stream: Any = None  # a server.bodies.RequestBody when the body follows the request (body is b"")

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None


@dataclass(slots=True)
class _Parsing:
    started: float
    target: bytearray = field(default_factory=bytearray)
    headers: list[tuple[str, str]] = field(default_factory=list)
    header_bytes: int = 0
    body: list[bytes] = field(default_factory=list)
    body_bytes: int = 0
    headers_done: float | None = None
    method: str = ""
    chunked: bool = False
    host: str = ""
    authority: str = ""
    path: str = "/"
    query: str = ""
    stream: Any = None  # the RequestBody its pieces go to, once it was admitted before its body was in
    hosts: list[str] = field(default_factory=list)  # the Host values (noted as headers arrive)
    length: str | None = None  # the first Content-Length
    expect: bool = False  # Expect: 100-continue


FRAMING = frozenset({"host", "content-length", "transfer-encoding", "expect"})  # headers noted as they arrive


class _Reject(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _headers_too_large(limits: HttpLimits) -> _Reject:
    return _Reject(431, "E_HEADERS_TOO_LARGE", f"request headers are over {limits.max_header_bytes} bytes")


class RequestParsing:
    """The parsing half of an HttpConnection."""

    limits: HttpLimits
    parser: httptools.HttpRequestParser
    on_request: Callable[[IncomingRequest], None]
    open_body: Callable[[Any], Any] | None
    cur: _Parsing | None
    now: float
    frame: str
    left: int
    tail: bytes
    line: bytearray
    chunks: int
    next_seq: int
    next_out: int
    closing: bool
    heads: dict[int, bool]
    old: set[int]
    out: bytearray

    if TYPE_CHECKING:  # provided by HttpConnection

        def _write(self) -> None:
            raise NotImplementedError

        def respond(self, seq: int, status: int, headers: list[tuple[str, str]], body: bytes, reason: str = "") -> None:
            raise NotImplementedError

    def _feed(self, data: bytes) -> None:
        """Feed the parser in pieces that end where a chunk-size line does, to check each before its data."""
        pos, n = 0, len(data)
        while pos < n and not self.closing:
            if self.frame == "head":
                k = (self.tail + data[pos : pos + 3]).find(b"\r\n\r\n")
                if k >= 0:
                    end = pos + k + 4 - len(self.tail)
                else:
                    k = data.find(b"\r\n\r\n", pos)
                    end = n if k < 0 else k + 4
                piece = data[pos:end]
                self.tail = (self.tail + piece)[-3:]
                self.parser.feed_data(piece)
                self._after_head()
            elif self.frame in ("body", "data"):
                end = min(n, pos + self.left)
                self.parser.feed_data(data[pos:end])
                self.left -= end - pos
                if self.left == 0:
                    self.frame = "head" if self.frame == "body" else "line"
                    self.line.clear()
            elif self.frame == "line":
                nl = data.find(b"\n", pos)
                end = n if nl < 0 else nl + 1
                self.line += data[pos:end]
                size = self._chunk_size()
                before = self.chunks
                self.parser.feed_data(data[pos:end])
                if nl >= 0:
                    if self.chunks != before + 1 or self.cur is None:
                        self.frame = "off"
                    elif size == 0:
                        self.frame, self.tail = "head", b""
                    else:
                        self.frame, self.left = "data", size + 2
            else:
                self.parser.feed_data(data[pos:])
                end = n
            pos = end

    def _after_head(self) -> None:
        c = self.cur
        if c is None or c.headers_done is None:
            return
        self.tail = b""
        length = c.length or ""
        if c.chunked:
            self.frame = "line"
            self.line.clear()
        elif length.isdigit() and int(length) > c.body_bytes:
            self.frame, self.left = "body", int(length) - c.body_bytes

    def _chunk_size(self) -> int:
        """The size the chunk-size line read so far gives; 400/413 as soon as it is too long or too large."""
        c = self.cur
        if c is None:
            return -1
        digits = HEX.match(self.line).group()  # type: ignore[union-attr]
        if len(digits) > MAX_CHUNK_DIGITS:
            raise _Reject(400, "E_BAD_REQUEST", f"a chunk size of more than {MAX_CHUNK_DIGITS} hex digits")
        if len(self.line) > MAX_CHUNK_LINE:
            raise _Reject(400, "E_BAD_REQUEST", f"a chunk-size line over {MAX_CHUNK_LINE} bytes")
        size = int(digits, 16) if digits else 0
        if c.body_bytes + size > self.limits.max_body_bytes:
            raise _Reject(
                413,
                "E_BODY_TOO_LARGE",
                f"a chunk of {size} bytes takes the request body over the limit of {self.limits.max_body_bytes} bytes",
            )
        return size

    # httptools callbacks
    def on_message_begin(self) -> None:
        if self.next_seq - self.next_out >= self.limits.max_pipelined:
            raise _Reject(503, "E_OVERLOADED", "too many pipelined requests on one connection")
        self.cur = _Parsing(self.now)

    def on_url(self, url: bytes) -> None:
        c = self._current()
        c.target += url
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        c = self.cur  # _current() and _count() inline: this runs for every header of every request
        if c is None:
            raise _Reject(400, "E_BAD_REQUEST", "malformed HTTP request")
        c.header_bytes += len(name) + len(value) + 4
        if c.header_bytes > self.limits.max_header_bytes:
            raise _headers_too_large(self.limits)
        k, v = name.decode("latin-1").lower(), value.decode("latin-1").strip(" \t")
        c.headers.append((k, v))
        if k in FRAMING:
            if k == "host":
                c.hosts.append(v)
            elif k == "content-length":
                if c.length is None:
                    c.length = v
            elif k == "transfer-encoding":
                c.chunked = c.chunked or "chunked" in v.lower()
            elif v.lower() == "100-continue":
                c.expect = True

    def on_chunk_header(self) -> None:
        self.chunks += 1

    def _current(self) -> _Parsing:
        if self.cur is None:
            raise _Reject(400, "E_BAD_REQUEST", "malformed HTTP request")
        return self.cur

    def _count(self, n: int) -> None:
        c = self._current()
        c.header_bytes += n
        if c.header_bytes > self.limits.max_header_bytes:
            raise _headers_too_large(self.limits)

    def on_headers_complete(self) -> None:
        c = self._current()
        c.headers_done = self.now
        c.method = self.parser.get_method().decode("latin-1")
        if self.parser.should_upgrade() or (c.method == "CONNECT"):
            raise _Reject(400, "E_BAD_REQUEST", "protocol upgrades and CONNECT are not supported")
        self._check_target(c)
        length = c.length
        if length is not None and length.isdigit() and int(length) > self.limits.max_body_bytes:
            raise _Reject(
                413,
                "E_BODY_TOO_LARGE",
                f"the request body is {length} bytes, over the limit of {self.limits.max_body_bytes}",
            )
        if c.expect:
            self.out += b"HTTP/1.1 100 Continue\r\n\r\n"
            self._write()

    def _check_target(self, c: _Parsing) -> None:
        """The request's authority and path, from its Host header or its absolute target (RFC 9112 3.2)."""
        hosts = c.hosts
        try:
            if len(hosts) > 1:
                raise ValueError("more than one Host header")
            if not hosts and self.parser.get_http_version() == "1.1":
                raise ValueError("an HTTP/1.1 request without a Host header")
            if hosts:
                c.host, c.authority = parse_authority(hosts[0])
            authority, c.path, c.query = parse_target(c.target.decode("latin-1"), c.method)
            if authority is not None:
                c.host, c.authority = parse_authority(authority)
        except ValueError as exc:
            raise _Reject(400, "E_BAD_REQUEST", f"bad request target or Host: {exc}") from None

    def on_body(self, body: bytes) -> None:
        c = self._current()
        c.body_bytes += len(body)
        if c.body_bytes > self.limits.max_body_bytes:
            raise _Reject(
                413, "E_BODY_TOO_LARGE", f"the request body is over the limit of {self.limits.max_body_bytes} bytes"
            )
        if c.stream is not None:
            c.stream.piece(body)
        else:
            c.body.append(body)

    def on_message_complete(self) -> None:
        c = self._current()
        self.cur = None
        if c.stream is not None:  # went to on_request already: its body is complete
            c.stream.end()
            if not self.parser.should_keep_alive():
                self.closing = True
                self._write()  # closes at once if its response is out already
            return
        self._dispatch(c, False)

    def _dispatch(self, c: _Parsing, streamed: bool) -> None:
        """Hand a request to on_request: complete, or (streamed) with its body to follow."""
        keep = self.parser.should_keep_alive()
        seq = self.next_seq
        self.next_seq += 1
        self.heads[seq] = c.method == "HEAD"
        if self.parser.get_http_version() == "1.0":
            self.old.add(seq)
        if streamed:
            assert self.open_body is not None
            c.stream = self.open_body(self)
            if c.body:
                c.stream.piece(b"".join(c.body))
                c.body.clear()
        elif not keep:
            self.closing = True
        try:
            self.on_request(
                IncomingRequest(
                    cast("HttpConnection", self),
                    seq,
                    c.method,
                    c.target.decode("latin-1"),
                    c.headers,
                    b"".join(c.body),
                    keep,
                    c.host,
                    c.authority,
                    c.path,
                    c.query,
                    c.stream,
                )
            )
        except Exception:  # a bug above us: this request fails, the process goes on
            log.exception("handling an HTTP request failed")
            self.closing = True
            self.respond(
                seq,
                500,
                [("content-type", "application/json")],
                error_body("E_INTERNAL", "the server failed while handling the request"),
            )
