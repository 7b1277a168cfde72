"""Hostile HTTP clients: descriptor exhaustion, connection caps, Host and request-target tricks,
absurd chunk sizes, and garbage thrown at one connection."""

from __future__ import annotations

import json
import re
import resource
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shardrun.server.http import HttpLimits

from .serve_helpers import Server
from .test_http import Harness


def statuses(raw: bytes) -> list[int]:
    return [int(x) for x in re.findall(rb"HTTP/1\.1 ([0-9]{3}) ", raw)]


pytestmark = [pytest.mark.hostile, pytest.mark.timeout(120)]

ECHO = """export default {
  async fetch(req) { return new Response('echo', { headers: [['x-url', req.url]] }) },
}"""


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # linger 0
    s.settimeout(10)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def get(port: int, path: str = "/w/echo/", source: str = "127.0.0.1", host: str = "127.0.0.1") -> tuple[int, bytes]:
    """One request on a new connection: (status, body)."""
    s = connect(port, source)
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data, end = b"", time.monotonic() + 10
        while time.monotonic() < end:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def hold(port: int, n: int, source: str) -> list[socket.socket]:
    """n idle connections that the server has accepted (each served one request)."""
    held = []
    for _ in range(n):
        s = connect(port, source)
        s.sendall(b"GET /w/echo/ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        held.append(s)
    return held


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    s = Server(
        tmp_path_factory.mktemp("caps"),
        {"echo.js": ECHO},
        shards=1,
        http_max_connections_per_ip=8,
        http_max_connections=16,
        http_keepalive_timeout_s=30,
    )
    yield s
    s.close()


# ---- finding 6: descriptors and connection caps ----------------------------------------------------


def test_past_the_per_address_cap_503_and_another_address_is_served(capped):
    held = hold(capped.http_port, 8, "127.0.0.2")
    try:
        status, body = get(capped.http_port, source="127.0.0.2")
        assert status == 503 and json.loads(body)["error"]["code"] == "E_OVERLOADED"
        assert get(capped.http_port, source="127.0.0.3")[0] == 200
    finally:
        for s in held:
            s.close()


def test_past_the_global_cap_503_and_the_router_keeps_serving(capped):
    router = capped.status()["router_pid"]
    held = hold(capped.http_port, 8, "127.0.0.4") + hold(capped.http_port, 8, "127.0.0.5")
    try:
        status, body = get(capped.http_port, source="127.0.0.6")
        err = json.loads(body)["error"]
        assert status == 503 and err["code"] == "E_OVERLOADED" and "limit 16" in err["message"]
        held.pop().close()
        end = time.monotonic() + 5
        while (status := get(capped.http_port, source="127.0.0.6")[0]) == 503 and time.monotonic() < end:
            time.sleep(0.05)
        assert status == 200
    finally:
        for s in held:
            s.close()
    assert capped.status()["router_pid"] == router


def test_out_of_descriptors_the_router_rests_and_serves_again(tmp_path):
    # The router may hold 100 descriptors, its caps let 1000 connections in: accept() meets EMFILE.
    s = Server(
        tmp_path,
        {"echo.js": ECHO},
        shards=1,
        http_max_open_files=100,
        http_max_connections=1000,
        http_max_connections_per_ip=1000,
        http_keepalive_timeout_s=30,
    )
    held: list[socket.socket] = []
    try:
        router = s.status()["router_pid"]
        assert get(s.http_port)[0] == 200
        held = [connect(s.http_port) for _ in range(200)]  # the kernel's backlog takes what the router cannot
        end = time.monotonic() + 10
        while not s.events("accept paused") and time.monotonic() < end:
            time.sleep(0.05)
        assert s.events("accept paused"), s.logs()
        assert s.status()["router_pid"] == router
        for c in held:
            c.close()
        held = []
        end = time.monotonic() + 10
        status = 0
        while time.monotonic() < end:
            try:
                status = get(s.http_port)[0]
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.05)
        assert status == 200
        assert s.status()["router_pid"] == router
    finally:
        for c in held:
            c.close()
        s.close()


def test_two_thousand_idle_connections_do_not_stop_a_canary(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2300:
        pytest.skip(f"the hard open-files limit {hard} is too low")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2300), hard))
    s = Server(tmp_path, {"echo.js": ECHO}, shards=1, http_keepalive_timeout_s=60)
    idle: list[socket.socket] = []
    try:
        for i in range(2000):  # 250 from each of 8 addresses (the per-address cap is 256)
            idle.append(connect(s.http_port, f"127.0.1.{i % 8 + 1}"))
        canary = connect(s.http_port, "127.0.2.1")
        for i in range(50):
            canary.sendall(b"GET /w/echo/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
            data, end = b"", time.monotonic() + 10
            while b"\r\n\r\necho" not in data and time.monotonic() < end:
                data += canary.recv(65536)
            assert data.startswith(b"HTTP/1.1 200"), data
        canary.close()
        idle[0].sendall(b"GET /w/echo/ HTTP/1.1\r\nHost: x\r\n\r\n")  # the idle ones are still served
        assert idle[0].recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        for c in idle:
            c.close()
        s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# ---- finding 10: Host and request-target ------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        b"w.workers.localhost:/admin?",
        b"w.workers.localhost/admin",
        b"user@w.workers.localhost",
        b"a:99999",
        b"a:",
        b"a:8x",
        b"a?b",
        b"a#b",
        b"a b",
        b"[::1",
        b"[zz]:80",
        b"[::1]x",
        b"a:1:2",
        b"\xe9.localhost",
        b"a%zz",
    ],
)
def test_a_bad_host_gets_400_naming_it(host):
    h = Harness()
    h.send(b"GET /public HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    raw = h.read_all()
    assert statuses(raw) == [400] and b"E_BAD_REQUEST" in raw and b"Host" in raw, raw
    assert not h.requests and h.conn.closed
    h.close()


@pytest.mark.parametrize(
    "data,words",
    [
        (b"GET / HTTP/1.1\r\n\r\n", b"without a Host"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", b"more than one Host"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", b"more than one Host"),
        (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", b"only for OPTIONS"),
        (b"GET http://u@a/x HTTP/1.1\r\nHost: a\r\n\r\n", b"no user name"),
        (b"GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", b"needs a host"),
        (b"GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", b"absolute http URL"),
        (b"GET /x#frag HTTP/1.1\r\nHost: a\r\n\r\n", b"fragment"),
    ],
)
def test_missing_repeated_host_and_bad_targets_get_400(data, words):
    h = Harness()
    h.send(data)
    raw = h.read_all()
    assert statuses(raw) == [400] and words in raw, raw
    assert not h.requests
    h.close()


@pytest.mark.parametrize(
    "data,host,authority,path,query",
    [
        (
            b"GET /p?q=1 HTTP/1.1\r\nHost: W.Workers.Localhost.\r\n\r\n",
            "w.workers.localhost",
            "w.workers.localhost",
            "/p",
            "q=1",
        ),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1:08080\r\n\r\n", "127.0.0.1", "127.0.0.1:8080", "/", ""),
        (b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", "[::1]", "[::1]:80", "/", ""),
        (b"GET /x HTTP/1.0\r\n\r\n", "", "", "/x", ""),
        # absolute-form: its authority, the Host header ignored (RFC 9112 3.2.2)
        (
            b"GET http://w.workers.localhost/x?y HTTP/1.1\r\nHost: other\r\n\r\n",
            "w.workers.localhost",
            "w.workers.localhost",
            "/x",
            "y",
        ),
        (b"GET HTTPS://a.b:81 HTTP/1.1\r\nHost: other\r\n\r\n", "a.b", "a.b:81", "/", ""),
    ],
)
def test_good_hosts_and_targets_are_parsed(data, host, authority, path, query):
    h = Harness()
    h.send(data)
    (r,) = h.requests
    assert (r.host, r.authority, r.path, r.query) == (host, authority, path, query)
    h.close()


def test_the_worker_sees_only_validated_parts_and_options_star_stays_in_the_server(capped):
    status, body = get(capped.http_port, "/public", host="echo.workers.localhost:/admin?")
    assert status == 400 and json.loads(body)["error"]["code"] == "E_BAD_REQUEST"
    s = connect(capped.http_port)
    s.sendall(
        b"GET http://echo.workers.localhost./a%2Fb?x=%22 HTTP/1.1\r\nHost: nobody\r\n\r\n"
        b"OPTIONS * HTTP/1.1\r\nHost: echo.workers.localhost\r\n\r\n"
    )
    data, end = b"", time.monotonic() + 10
    while data.count(b"HTTP/1.1 ") < 2 and time.monotonic() < end:
        data += s.recv(65536)
    s.close()
    assert b"x-url: http://echo.workers.localhost/a%2Fb?x=%22\r\n" in data, data
    second = data[data.index(b"HTTP/1.1 ", 1) :]
    assert second.startswith(b"HTTP/1.1 204") and b"allow: GET, HEAD, POST" in second and b"x-url" not in second


# ---- framing: chunk sizes and Content-Length ----------------------------------------------------------

CHUNKED = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(
    "pieces,status",
    [
        ([CHUNKED + b"FFFFFFFF\r\n"], 413),  # refused before a byte of its data
        ([CHUNKED + b"0", b"fffff"], 413),  # even before its line ends
        ([CHUNKED + b"10\r\n" + b"x" * 16 + b"\r\n", b"60;ext=1\r\n"], 413),  # 16 + 96 over 100
        ([CHUNKED + b"1" * 17 + b"\r\n"], 400),
        ([CHUNKED + b"5;" + b"e" * 2000], 400),  # a chunk-size line without end
        # the chunked request comes after another one on the same bytes
        ([b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + CHUNKED + b"FFFFFF\r\n"], 413),
    ],
)
def test_an_absurd_chunk_size_is_refused_at_once(pieces, status):
    h = Harness(HttpLimits(max_body_bytes=100))
    for p in pieces:
        h.send(p)
    raw = h.read_all()
    assert statuses(raw)[-1:] == [status] and h.conn.closed, raw
    h.close()


def test_chunked_bodies_still_parse_fed_byte_by_byte_and_pipelined():
    h = Harness(HttpLimits(max_body_bytes=100))
    data = (
        CHUNKED
        + b"5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: t\r\n\r\n"
        + CHUNKED
        + b"3\r\nabc\r\n0\r\n\r\n"
        + b"POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n\r\n\r\n"
    )
    for i in range(len(data)):
        h.send(data[i : i + 1])
    assert [r.body for r in h.requests] == [b"hello world", b"abc", b"\r\n\r\n"]
    assert statuses(h.read_all()) == [200, 200, 200]
    h.close()


@pytest.mark.parametrize(
    "headers,status",
    [
        (b"Content-Length: abc\r\n", 400),
        (b"Content-Length: +3\r\n", 400),
        (b"Content-Length: 3\r\nContent-Length: 4\r\n", 400),
        (b"Content-Length: 3\r\nContent-Length: 3\r\n", 400),
        (b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", 400),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400),
        (b"Content-Length: 1000000 \r\n", 413),  # trailing space: still a length, refused before the body
    ],
)
def test_content_length_must_be_one_number_and_alone(headers, status):
    h = Harness(HttpLimits(max_body_bytes=100))
    h.send(b"POST / HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    raw = h.read_all()
    assert statuses(raw) == [status] and h.conn.closed, raw
    h.close()


def test_a_failure_above_the_parser_is_a_500_not_an_exception():
    h = Harness()

    def boom(req):
        raise RuntimeError("a bug in routing")

    h.conn.on_request = boom
    h.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    raw = h.read_all()
    assert statuses(raw) == [500] and b"E_INTERNAL" in raw and h.conn.closed
    h.close()


STATUS_LINE = re.compile(rb"HTTP/1\.1 [1-5][0-9][0-9] [^\r\n]*\r\n")
header_line = st.one_of(
    st.binary(max_size=40),
    st.tuples(
        st.sampled_from([b"Host", b"Content-Length", b"Transfer-Encoding", b"Expect", b"Connection", b"X-A"]),
        st.sampled_from([b": ", b":", b" : "]),
        st.one_of(
            st.binary(max_size=20),
            st.sampled_from([b"chunked", b"5", b"-1", b"100-continue", b"close", b"a.b:80", b"[::1]", b"ffffffffff"]),
        ),
    ).map(b"".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(
        [
            b"GET / HTTP/1.1",
            b"POST /x?y HTTP/1.1",
            b"OPTIONS * HTTP/1.1",
            b"GET http://a/b HTTP/1.0",
            b"PUT /%00 HTTP/1.1",
        ]
    ),
    st.lists(header_line, max_size=8),
    st.binary(max_size=60),
    st.integers(1, 7),
)
def test_garbage_gets_a_well_formed_answer_or_a_close(line, headers, body, cut):
    h = Harness(HttpLimits(max_body_bytes=50, max_header_bytes=1024))
    try:
        data = line + b"\r\n" + b"".join(x + b"\r\n" for x in headers) + b"\r\n" + body
        step = max(1, len(data) // cut)
        for i in range(0, len(data), step):  # the same bytes in a few pieces
            if h.conn.closed:
                break
            h.send(data[i : i + step])
        raw = h.read_all()
        while raw:
            raw = raw.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")
            if not raw:
                break
            assert STATUS_LINE.match(raw), raw
            head, sep, rest = raw.partition(b"\r\n\r\n")
            assert sep, raw
            length = int(re.search(rb"content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
            raw = rest[length:]
    finally:
        h.close()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_out_of_the_connection(data):
    h = Harness()
    try:
        h.send(data)
        h.conn.expire(h.conn.limits.header_timeout_s + 1)
        out = h.read_all()
        assert not out or STATUS_LINE.match(out) or out.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), out
    finally:
        h.close()
