"""HTTP/1.1 connections on httptools' parser: the only module that speaks HTTP on the wire.

An `HttpConnection` owns one non-blocking client socket. It parses requests as bytes
arrive (keep-alive, pipelining, chunked request bodies, `Expect: 100-continue`), enforces
the header and body limits before it has read it all (431, 413) and the read deadlines
(408: a slow client is cut off without holding anything else up), and writes responses
strictly in request order, whatever order their results come in. Malformed input gets a
400 and the connection is closed. No routing here: each complete request goes to the
`on_request` callback, and the owner answers with `respond()`.
"""

from __future__ import annotations

import errno
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

import httptools

from .boundary import BadOutput

READ_CHUNK = 65536
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "te", "trailer",
                        "proxy-connection"})


@dataclass(frozen=True)
class HttpLimits:
    """What one request may send, and how fast."""

    max_header_bytes: int = 16 << 10
    max_body_bytes: int = 1 << 20
    header_timeout_s: float = 10.0     # from the first byte of a request to its last header
    body_timeout_s: float = 30.0       # from the end of the headers to the end of the body
    keepalive_timeout_s: float = 5.0   # idle between requests
    max_pipelined: int = 32            # requests read ahead of their responses


@dataclass
class IncomingRequest:
    """A complete request as the connection parsed it."""

    conn: HttpConnection
    seq: int
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    keep_alive: bool

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None


@dataclass
class _Parsing:
    started: float
    target: bytearray = field(default_factory=bytearray)
    headers: list[tuple[str, str]] = field(default_factory=list)
    header_bytes: int = 0
    body: list[bytes] = field(default_factory=list)
    body_bytes: int = 0
    headers_done: float | None = None
    method: str = ""


class _Reject(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def render(status: int, headers: list[tuple[str, str]], body: bytes, *, head: bool = False, close: bool = False,
           reason: str = "") -> bytes:
    """The bytes of one HTTP/1.1 response (Content-Length framing; hop-by-hop headers dropped).

    The last line of defence against response splitting: a status that is not a 3-digit
    number, or a CR, LF or NUL anywhere in the head, raises BadOutput instead of being written."""
    if type(status) is not int or not 100 <= status <= 599:
        raise BadOutput(f"refusing to write a response with status {status!r}")
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    lines = [f"HTTP/1.1 {status} {reason}".rstrip()]
    for k, v in headers:
        if k.lower() not in HOP_BY_HOP:
            lines.append(f"{k}: {v}")
    if _UNSAFE.search("".join(lines)):
        raise BadOutput("refusing to write a response head with CR, LF or NUL inside a line")
    lines.append(f"content-length: {len(body)}")
    if close:
        lines.append("connection: close")
    head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    return head_bytes if head else head_bytes + body


_UNSAFE = re.compile(r"[\r\n\x00]")


def error_body(code: str, message: str) -> bytes:
    import orjson

    return orjson.dumps({"error": {"code": code, "message": message}})


class HttpConnection:
    """One client connection, driven by the owner's poll loop."""

    def __init__(self, sock: socket.socket, limits: HttpLimits, on_request: Callable[[IncomingRequest], None],
                 now: float) -> None:
        self.sock = sock
        self.limits = limits
        self.on_request = on_request
        self.parser = httptools.HttpRequestParser(self)
        self.closed = False
        self.closing = False          # no more requests: close once the responses are out
        self.out = bytearray()
        self.next_seq = 0             # the seq the next parsed request gets
        self.next_out = 0             # the seq whose response goes out next
        self.ready: dict[int, bytes] = {}
        self.heads: dict[int, bool] = {}
        self.cur: _Parsing | None = None
        self.idle_since = now
        self.now = now

    # ---- reading -----------------------------------------------------------------
    def on_readable(self, now: float) -> None:
        self.now = now
        try:
            data = self.sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        if not data:
            self.closing = True
            if self.next_out == self.next_seq:
                self.close()
            return
        if self.closing:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            r = exc.__context__
            if not isinstance(r, _Reject):
                raise
            self._reject(r.status, r.code, r.message)
        except httptools.HttpParserUpgrade:
            self._reject(400, "E_BAD_REQUEST", "protocol upgrades are not supported")
        except httptools.HttpParserError as exc:
            self._reject(400, "E_BAD_REQUEST", f"malformed HTTP request: {exc}")

    # httptools callbacks
    def on_message_begin(self) -> None:
        if self.next_seq - self.next_out >= self.limits.max_pipelined:
            raise _Reject(503, "E_OVERLOADED", "too many pipelined requests on one connection")
        self.cur = _Parsing(self.now)

    def on_url(self, url: bytes) -> None:
        assert self.cur is not None
        self.cur.target += url
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.cur is not None
        self._count(len(name) + len(value) + 4)
        self.cur.headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def _count(self, n: int) -> None:
        assert self.cur is not None
        self.cur.header_bytes += n
        if self.cur.header_bytes > self.limits.max_header_bytes:
            raise _Reject(431, "E_HEADERS_TOO_LARGE", f"request headers are over {self.limits.max_header_bytes} bytes")

    def on_headers_complete(self) -> None:
        c = self.cur
        assert c is not None
        c.headers_done = self.now
        c.method = self.parser.get_method().decode("latin-1")
        if self.parser.should_upgrade() or (c.method == "CONNECT"):
            raise _Reject(400, "E_BAD_REQUEST", "protocol upgrades and CONNECT are not supported")
        length = next((v for k, v in c.headers if k == "content-length"), None)
        if length is not None and length.isdigit() and int(length) > self.limits.max_body_bytes:
            raise _Reject(413, "E_BODY_TOO_LARGE", f"the request body is {length} bytes, over the limit of {self.limits.max_body_bytes}")
        if any(k == "expect" and v.lower() == "100-continue" for k, v in c.headers):
            self.out += b"HTTP/1.1 100 Continue\r\n\r\n"
            self._write()

    def on_body(self, body: bytes) -> None:
        c = self.cur
        assert c is not None
        c.body_bytes += len(body)
        if c.body_bytes > self.limits.max_body_bytes:
            raise _Reject(413, "E_BODY_TOO_LARGE", f"the request body is over the limit of {self.limits.max_body_bytes} bytes")
        c.body.append(body)

    def on_message_complete(self) -> None:
        c = self.cur
        assert c is not None
        self.cur = None
        keep = self.parser.should_keep_alive()
        seq = self.next_seq
        self.next_seq += 1
        self.heads[seq] = c.method == "HEAD"
        if not keep:
            self.closing = True
        self.on_request(IncomingRequest(self, seq, c.method, c.target.decode("latin-1"), c.headers, b"".join(c.body), keep))

    # ---- writing ----------------------------------------------------------------
    def respond(self, seq: int, status: int, headers: list[tuple[str, str]], body: bytes, reason: str = "") -> None:
        """The response of request `seq`; it goes out once every earlier one has."""
        if self.closed:
            return
        close = self.closing and seq == self.next_seq - 1
        self.ready[seq] = render(status, headers, body, head=self.heads.pop(seq, False), close=close, reason=reason)
        while self.next_out in self.ready:
            self.out += self.ready.pop(self.next_out)
            self.next_out += 1
        self.idle_since = self.now
        self._write()

    def _reject(self, status: int, code: str, message: str) -> None:
        """Answer what cannot be parsed, after the responses owed, then close."""
        seq = self.next_seq
        self.next_seq += 1
        self.closing = True
        self.cur = None
        self.respond(seq, status, [("content-type", "application/json")], error_body(code, message))

    @property
    def wants_write(self) -> bool:
        return bool(self.out)

    def on_writable(self) -> None:
        self._write()

    def _write(self) -> None:
        while self.out:
            try:
                n = self.sock.send(self.out)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.close()
                return
            del self.out[:n]
        if self.closing and self.next_out == self.next_seq:
            self.close()

    # ---- time -------------------------------------------------------------------
    def expire(self, now: float) -> None:
        """Cut off clients that are too slow (408) or idle too long (close)."""
        self.now = now
        c = self.cur
        lim = self.limits
        if c is not None:
            if c.headers_done is None and now - c.started > lim.header_timeout_s:
                self._reject(408, "E_TIMEOUT", f"the request headers did not arrive within {lim.header_timeout_s:g} s")
            elif c.headers_done is not None and now - c.headers_done > lim.body_timeout_s:
                self._reject(408, "E_TIMEOUT", f"the request body did not arrive within {lim.body_timeout_s:g} s")
        elif self.next_out == self.next_seq and not self.out and now - self.idle_since > lim.keepalive_timeout_s:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.close()
        except OSError as exc:  # pragma: no cover
            if exc.errno != errno.EBADF:
                raise
