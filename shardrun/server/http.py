"""HTTP/1.1 connections on httptools' parser: with httpparse.py (their parsing half), the only
code that speaks HTTP on the wire.

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
import socket
from collections.abc import Callable
from typing import Any

import httptools

from shardrun.server.httpparse import HttpLimits, IncomingRequest, RequestParsing, _Parsing, _Reject
from shardrun.server.httpsyntax import error_body, render

log = logging.getLogger("shardrun.http")

READ_CHUNK = 65536


LOW_WATER = 256 << 10  # bytes waiting to go out under which a streamed body gets more credit


class HttpConnection(RequestParsing):
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
