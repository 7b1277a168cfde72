"""HTTP/1.1 connection handling (shardrun/server/http.py) over a real socket pair, no server."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shardrun.server.http import HttpConnection, HttpLimits, IncomingRequest


class Harness:
    """One HttpConnection on one end of a socketpair; the test is the client."""

    def __init__(self, limits: HttpLimits | None = None, auto: bool = True) -> None:
        self.client, server = socket.socketpair()
        server.setblocking(False)
        self.client.settimeout(2)
        self.requests: list[IncomingRequest] = []
        self.auto = auto
        self.now = 0.0
        self.conn = HttpConnection(server, limits or HttpLimits(), self._on_request, self.now)

    def _on_request(self, req: IncomingRequest) -> None:
        self.requests.append(req)
        if self.auto:
            req.conn.respond(
                req.seq, 200, [("x-seq", str(req.seq))], f"{req.method} {req.target} {len(req.body)}".encode()
            )

    def send(self, data: bytes) -> None:
        self.client.sendall(data)
        self.conn.on_readable(self.now)

    def read_all(self) -> bytes:
        self.client.settimeout(0.2)
        out = b""
        try:
            while chunk := self.client.recv(65536):
                out += chunk
        except (TimeoutError, BlockingIOError):
            pass
        return out

    def close(self) -> None:
        self.client.close()
        self.conn.close()


@pytest.fixture
def h():
    harness = Harness()
    yield harness
    harness.close()


def statuses(raw: bytes) -> list[int]:
    return [int(line.split()[1]) for line in raw.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


def test_keep_alive_and_pipelining_answer_in_order(h):
    h.auto = False
    h.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n")
    assert [r.target for r in h.requests] == ["/a", "/b", "/c"]
    # results arrive out of order; responses leave in request order
    h.conn.respond(2, 200, [], b"c")
    h.conn.respond(0, 200, [], b"a")
    first = h.read_all()
    assert first.endswith(b"\r\n\r\na") and b"\r\n\r\nc" not in first
    h.conn.respond(1, 200, [], b"b")
    rest = h.read_all()
    assert rest.index(b"\r\n\r\nb") < rest.index(b"\r\n\r\nc")
    assert not h.conn.closed


def test_chunked_request_body(h):
    h.send(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    assert h.requests[0].body == b"hello world"
    assert h.read_all().endswith(b"POST /up 11")


def test_head_gets_headers_without_body(h):
    h.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    raw = h.read_all()
    assert raw.startswith(b"HTTP/1.1 200 OK") and b"content-length: 8" in raw and raw.endswith(b"\r\n\r\n")


def test_expect_100_continue(h):
    h.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
    assert h.read_all() == b"HTTP/1.1 100 Continue\r\n\r\n"
    h.send(b"abc")
    assert statuses(h.read_all()) == [200]


def test_connection_close_is_honoured(h):
    h.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    raw = h.read_all()
    assert b"connection: close" in raw and h.conn.closed


def test_oversize_body_is_refused_before_it_is_read():
    h = Harness(HttpLimits(max_body_bytes=100))
    h.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
    raw = h.read_all()
    assert statuses(raw) == [413] and b"E_BODY_TOO_LARGE" in raw and h.conn.closed
    assert not h.requests
    h.close()


def test_oversize_chunked_body_is_refused():
    h = Harness(HttpLimits(max_body_bytes=10))
    h.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" + b"x" * 32 + b"\r\n0\r\n\r\n")
    assert statuses(h.read_all()) == [413]
    h.close()


def test_oversize_headers_get_431():
    h = Harness(HttpLimits(max_header_bytes=2048))
    h.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4000 + b"\r\n\r\n")
    assert statuses(h.read_all()) == [431]
    h.close()


def test_slow_headers_get_408_and_do_not_block_others():
    slow = Harness(HttpLimits(header_timeout_s=1.0))
    slow.send(b"GET / HTTP/1.1\r\nHo")
    fast = Harness()
    fast.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert statuses(fast.read_all()) == [200]
    slow.conn.expire(0.5)
    assert not slow.conn.closed
    slow.conn.expire(1.5)
    assert statuses(slow.read_all()) == [408] and slow.conn.closed
    slow.close()
    fast.close()


def test_idle_keep_alive_connections_are_closed(h):
    h.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    h.read_all()
    h.conn.expire(1.0)
    assert not h.conn.closed
    h.conn.expire(h.conn.limits.keepalive_timeout_s + 1)
    assert h.conn.closed


MALFORMED = [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
    b"GET / HTTP/1.1\r\n Host: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET / HTTP/1.1\r\nHost: x\x00y\r\n\r\n",
    b"GET /\x7f HTTP/1.1\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
]


@pytest.mark.parametrize("data", MALFORMED)
def test_malformed_requests_get_400_and_close(data):
    h = Harness()
    h.send(data)
    raw = h.read_all()
    assert statuses(raw) == [400], raw
    assert b"E_BAD_REQUEST" in raw and h.conn.closed
    h.close()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzzed_bytes_never_crash_and_get_only_defined_statuses(data):
    h = Harness()
    try:
        h.send(data + b"\r\n\r\n")
        assert set(statuses(h.read_all())) <= {200, 400, 408, 413, 431, 503}
    finally:
        h.close()


def test_every_code_the_front_door_sends_has_its_status_in_the_error_table():
    from shardrun.errors import CODES, http_status

    for code, status in [
        ("E_TIMEOUT", 408),
        ("E_BODY_TOO_LARGE", 413),
        ("E_HEADERS_TOO_LARGE", 431),
        ("E_BAD_REQUEST", 400),
        ("E_OVERLOADED", 503),
        ("E_TENANT_LIMIT", 429),
        ("E_SHARD_LOST", 502),
        ("E_WALL_TIMEOUT", 504),
    ]:
        assert code in CODES and http_status(code) == status


class CountingSocket:
    """A real socket that counts its send() calls."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.sends = sock, 0

    def send(self, data: bytes) -> int:
        self.sends += 1
        return self.sock.send(data)

    def __getattr__(self, name: str):
        return getattr(self.sock, name)


def test_with_an_owner_pipelined_responses_leave_in_one_write():
    client, server = socket.socketpair()
    server.setblocking(False)
    counting = CountingSocket(server)
    changed: list[HttpConnection] = []

    def answer(req: IncomingRequest) -> None:
        req.conn.respond(req.seq, 200, [], f"r{req.seq}".encode())

    conn = HttpConnection(counting, HttpLimits(), answer, 0.0, on_change=changed.append)  # type: ignore[arg-type]
    try:
        client.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n" * 5)
        conn.on_readable(0.0)
        assert counting.sends == 0 and changed and conn.wants_write  # queued until the owner flushes
        conn.flush()
        assert counting.sends == 1
        client.settimeout(2)
        raw = b""
        while raw.count(b"HTTP/1.1 200") < 5:
            raw += client.recv(65536)
        assert [raw.find(b"r%d" % i) for i in range(5)] == sorted(raw.find(b"r%d" % i) for i in range(5))
    finally:
        client.close()
        conn.close()
