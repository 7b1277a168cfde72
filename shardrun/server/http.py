"""HTTP/1.1 connections on httptools' parser: the only module that speaks HTTP on the wire.

An `HttpConnection` owns one non-blocking client socket. It parses requests as bytes
arrive (keep-alive, pipelining, chunked request bodies, `Expect: 100-continue`), enforces
the header and body limits before it has read it all (431, 413) and the read deadlines
(408: a slow client is cut off without holding anything else up), and writes responses
strictly in request order, whatever order their results come in. Malformed input gets a
400 and the connection is closed; so does a missing, repeated or malformed Host, or a
request-target that is not a path, an absolute http URL or `*`. The request's authority and
path are parsed here (with shardrun.server.httpsyntax), so the owner builds URLs only from
validated parts. A chunked body's chunk-size lines are read before their data, so a chunk
larger than the body limit gets its 413 at once. No routing here: each complete request goes
to the `on_request` callback, and the owner answers with `respond()`. With `open_body`, a
request whose body is not complete when the read that brought its headers ends goes to
`on_request` at once and its body follows, piece by piece, to the object `open_body` made
(server/bodies.py), which may `pause()` reading while its window is full.
"""

from __future__ import annotations

import errno
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httptools

from shardrun.server.httpsyntax import error_body, parse_authority, parse_target, render

log = logging.getLogger("shardrun.http")

READ_CHUNK = 65536
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


LOW_WATER = 256 << 10  # bytes waiting to go out under which a streamed body gets more credit


class HttpConnection:
    """One client connection, driven by the owner's poll loop.

    `on_change(conn)` (optional) is called when a response was queued and when the
    connection closes (before its socket does), so the owner can update its poll set
    for this connection alone; with it, responses are written when the owner calls
    `flush()` (once per wake-up: one write for all that a connection's pipelined requests
    were answered), without it at once."""

    def __init__(
        self,
        sock: socket.socket,
        limits: HttpLimits,
        on_request: Callable[[IncomingRequest], None],
        now: float,
        on_change: Callable[[HttpConnection], None] | None = None,
        open_body: Callable[[HttpConnection], Any] | None = None,
    ) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.limits = limits
        self.on_request = on_request
        self.on_change = on_change
        # With open_body, a request whose body is not complete when the read that brought its
        # headers ends goes to on_request at once, its body to the RequestBody open_body gives
        # (server/bodies.py); the connection stops reading while that body's window is full.
        self.open_body = open_body
        self.paused = False
        self.parser = httptools.HttpRequestParser(self)
        self.closed = False
        self.closing = False  # no more requests: close once the responses are out
        self.out = bytearray()
        self.next_seq = 0  # the seq the next parsed request gets
        self.next_out = 0  # the seq whose response goes out next
        self.ready: dict[int, bytes] = {}
        self.heads: dict[int, bool] = {}
        # Streamed responses: seq -> framing ("chunked"; "raw" to an HTTP/1.0 client, which ends
        # with the connection; "none" after a HEAD), and the bytes of one not at the front yet.
        self.open: dict[int, str] = {}
        self.held: dict[int, bytearray] = {}
        self.old: set[int] = set()  # seqs of HTTP/1.0 requests (no chunked framing for them)
        self.cur: _Parsing | None = None
        self.idle_since = now
        self.now = now
        # Where the bytes fed next fall: "head" (request line and headers), "body" (`left`
        # bytes of a Content-Length body), "line" (a chunk-size line), "data" (`left` bytes of
        # chunk data and its CRLF), or "off" (lost track: the parser's own limits only).
        self.frame = "head"
        self.left = 0
        self.tail = b""  # the last bytes fed in "head", for a CRLFCRLF split by recv
        self.line = bytearray()
        self.chunks = 0  # chunk headers the parser reported

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
            if self.cur is not None and self.cur.stream is not None:
                return self.close()  # mid-body: the client is gone (its body fails, server/bodies.py)
            self.closing = True
            if self.next_out == self.next_seq:
                self.close()
            return
        if self.closing:
            return
        try:
            self._feed(data)
            c = self.cur
            if c is not None and c.stream is None and c.headers_done is not None and self.open_body is not None:
                self._dispatch(c, True)  # the body is still to come: the request goes now, its body after it
        except _Reject as r:
            self._reject(r.status, r.code, r.message)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _Reject):
                self._reject(cause.status, cause.code, cause.message)
            else:
                self._reject(400, "E_BAD_REQUEST", f"malformed HTTP request: {cause or exc}")
        except httptools.HttpParserUpgrade:
            self._reject(400, "E_BAD_REQUEST", "protocol upgrades are not supported")
        except httptools.HttpParserError as exc:
            self._reject(400, "E_BAD_REQUEST", f"malformed HTTP request: {exc}")

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
        c = self._current()
        self._count(len(name) + len(value) + 4)
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
            raise _Reject(431, "E_HEADERS_TOO_LARGE", f"request headers are over {self.limits.max_header_bytes} bytes")

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
                    self,
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

    # ---- writing ----------------------------------------------------------------
    def respond(self, seq: int, status: int, headers: list[tuple[str, str]], body: bytes, reason: str = "") -> None:
        """The response of request `seq`; it goes out once every earlier one has."""
        if self.closed:
            return
        close = self.closing and seq == self.next_seq - 1
        # render() may refuse (BadOutput): the caller answers again, so the request stays a HEAD until then
        self.ready[seq] = render(status, headers, body, head=self.heads.get(seq, False), close=close, reason=reason)
        self.heads.pop(seq, None)
        self.old.discard(seq)
        self._advance()
        self.idle_since = self.now
        if self.on_change is None:
            self._write()
        else:  # the owner flushes once per wake-up: pipelined responses leave in one write
            self.on_change(self)

    def _advance(self) -> None:
        """Move what is ready, in request order, to the output; a stream still running holds back
        the responses after it."""
        while self.next_out in self.ready:
            seq = self.next_out
            self.out += self.ready.pop(seq)
            held = self.held.pop(seq, None)
            if held:
                self.out += held
            if seq in self.open:
                return
            self.next_out += 1

    # ---- streamed responses -------------------------------------------------------
    def open_stream(self, seq: int, status: int, headers: list[tuple[str, str]], reason: str = "") -> None:
        """The head of request `seq`'s response, whose body follows in stream_write() calls until
        end_stream() (chunked framing; to an HTTP/1.0 client the connection's end ends it)."""
        if self.closed:
            return
        head = self.heads.pop(seq, False)
        old = seq in self.old
        self.old.discard(seq)
        if old:
            self.closing = True
        close = old or (self.closing and seq == self.next_seq - 1)
        self.ready[seq] = render(
            status, headers, b"", head=True, close=close, reason=reason, chunked=not old and not head
        )
        self.open[seq] = "none" if head else "raw" if old else "chunked"
        self._advance()
        self.idle_since = self.now
        self._write()
        if not self.closed and self.on_change is not None:
            self.on_change(self)

    def stream_write(self, seq: int, data: bytes) -> bool:
        """A piece of a streamed body; False when the bytes waiting to go out are over the low
        water mark (the caller holds the producer's credit until on_writable drains them)."""
        mode = self.open.get(seq)
        if self.closed or mode is None:
            return True
        if mode != "none" and data:
            framed = b"%x\r\n%b\r\n" % (len(data), data) if mode == "chunked" else data
            if seq == self.next_out and seq not in self.ready:
                self.out += framed
                self._write()
            else:
                self.held.setdefault(seq, bytearray()).extend(framed)
        if not self.closed and self.on_change is not None:
            self.on_change(self)
        return self.backlog < LOW_WATER

    def end_stream(self, seq: int) -> None:
        """The streamed body of `seq` is complete."""
        mode = self.open.pop(seq, None)
        if self.closed or mode is None:
            return
        tail = b"0\r\n\r\n" if mode == "chunked" else b""
        if seq == self.next_out and seq not in self.ready:
            self.out += tail
            self.next_out += 1
            self._advance()
        else:
            self.held.setdefault(seq, bytearray()).extend(tail)
        if mode == "raw":
            self.closing = True
        self.idle_since = self.now
        self._write()
        if not self.closed and self.on_change is not None:
            self.on_change(self)

    @property
    def backlog(self) -> int:
        """Bytes waiting to be written (the output and held stream bodies)."""
        return len(self.out) + sum(len(h) for h in self.held.values())

    def _reject(self, status: int, code: str, message: str) -> None:
        """Answer what cannot be parsed, after the responses owed, then close. A request whose
        body streams has its seq already: its body fails, and the router answers it."""
        if self.cur is not None and self.cur.stream is not None:
            stream, self.cur = self.cur.stream, None
            self.closing = True
            self.paused = False
            stream.fail(code, message)
            self._write()
            if not self.closed and self.on_change is not None:
                self.on_change(self)
            return
        seq = self.next_seq
        self.next_seq += 1
        self.closing = True
        self.cur = None
        self.respond(seq, status, [("content-type", "application/json")], error_body(code, message))

    @property
    def wants_read(self) -> bool:
        return not self.closing and not self.paused

    def pause(self, on: bool, now: float) -> None:
        """Stop (or go on) reading: a streamed body's window is full (or has room again). The body
        read timeout does not run while paused, and starts again (from `now`) when reading does."""
        if on == self.paused or self.closed:
            return
        self.paused = on
        self.now = now
        if not on and self.cur is not None and self.cur.headers_done is not None:
            self.cur.headers_done = now
        if self.on_change is not None:
            self.on_change(self)

    @property
    def wants_write(self) -> bool:
        return bool(self.out)

    def on_writable(self) -> None:
        self._write()

    def flush(self) -> None:
        """Write what is queued (the owner calls this once per wake-up for each connection that
        changed; responses are queued, streamed bodies go out as they come)."""
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
    def deadline(self) -> float | None:
        """When `expire` may next have something to do (None: not before something else happens)."""
        c, lim = self.cur, self.limits
        if self.closed or self.paused:
            return None
        if c is not None:
            return c.started + lim.header_timeout_s if c.headers_done is None else c.headers_done + lim.body_timeout_s
        if self.next_out == self.next_seq and not self.out:
            return self.idle_since + lim.keepalive_timeout_s
        return None

    def expire(self, now: float) -> None:
        """Cut off clients that are too slow (408) or idle too long (close)."""
        self.now = now
        c = self.cur
        lim = self.limits
        if self.paused:
            return
        if c is not None:
            if c.headers_done is None and now - c.started >= lim.header_timeout_s:
                self._reject(408, "E_TIMEOUT", f"the request headers did not arrive within {lim.header_timeout_s:g} s")
            elif c.headers_done is not None and now - c.headers_done >= lim.body_timeout_s:
                self._reject(408, "E_TIMEOUT", f"the request body did not arrive within {lim.body_timeout_s:g} s")
        elif self.next_out == self.next_seq and not self.out and now - self.idle_since >= lim.keepalive_timeout_s:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.on_change is not None:
            self.on_change(self)  # while the fd is still ours: the owner unregisters it first
        try:
            self.sock.close()
        except OSError as exc:  # pragma: no cover
            if exc.errno != errno.EBADF:
                raise
