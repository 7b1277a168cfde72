"""Streamed request bodies: a body that is not complete with its headers reaches the worker as it arrives.

Through a real `serve` over HTTP: the worker sees the first piece before the client sent the
rest; a body of several MB arrives whole while the router holds at most a window of it; the
limit mid-stream (413, the stream errors with E_BODY_TOO_LARGE); a client that goes away
mid-body; chunked and Content-Length framing; a worker that never reads; pipelined requests
after a streamed body; a shard killed mid-body fails that request alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import time

import psutil
import pytest

from tests.serve_helpers import Server, connect

# Answers as soon as it has read the first piece: the client has not sent the rest yet.
FIRST = """export default { async fetch(req) {
  const r = req.body.getReader();
  const { value } = await r.read();
  return new Response("first " + new TextDecoder().decode(value));
} }"""

# Reads the whole body piece by piece: its size, how many pieces it came in, and with ?sha the
# sha-256 of the sha-256s of its 512 KiB blocks (a digest's argument is capped at 1 MB).
COUNT = """const BLOCK = 512 << 10;
export default { async fetch(req) {
  const sha = new URL(req.url).searchParams.has("sha");
  let n = 0, pieces = 0, fill = 0;
  const block = new Uint8Array(BLOCK), digests = [];
  const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
  for await (const c of req.body) {
    n += c.length; pieces++;
    for (let at = 0; sha && at < c.length; ) {
      const k = Math.min(BLOCK - fill, c.length - at);
      block.set(c.subarray(at, at + k), fill); fill += k; at += k;
      if (fill === BLOCK) { digests.push(hex(await crypto.subtle.digest("SHA-256", block))); fill = 0; }
    }
  }
  if (sha && fill) digests.push(hex(await crypto.subtle.digest("SHA-256", block.subarray(0, fill))));
  const out = { n, pieces };
  if (sha) out.sha = hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(digests.join(""))));
  return Response.json(out);
} }"""

TEXT = """export default { async fetch(req) {
  try { return new Response("text " + await req.text()); }
  catch (e) { console.log("body error " + e.code); return new Response("caught " + e.code, { status: 200 }); }
} }"""

HOLD = """export default { async fetch(req) {
  await new Promise((r) => setTimeout(r, 1500));
  return new Response("held " + (await req.text()).length);
} }"""

ECHO = "export default { fetch(req) { return new Response(req.body) } }"

LATER = """export default { fetch(req, env, ctx) {
  ctx.waitUntil((async () => {
    try { await req.text(); console.log("later read everything"); } catch (e) { console.log("later " + e.code); }
  })());
  return new Response("answered first");
} }"""

IGNORE = "export default { fetch(req) { return new Response('ignored ' + req.method) } }"

# Reads slowly: one piece, then waits, then the next (for the shard-killed test).
SLOWREAD = """export default { async fetch(req) {
  const r = req.body.getReader();
  let n = 0;
  for (;;) {
    const { done, value } = await r.read();
    if (done) break;
    n += value.length;
    await new Promise((res) => setTimeout(res, 50));
  }
  return new Response("read " + n);
} }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workers = {
        "first.js": FIRST,
        "count.js": COUNT,
        "text.js": TEXT,
        "ignore.js": IGNORE,
        "slowread.js": SLOWREAD,
        "hold.js": HOLD,
        "echo.js": ECHO,
        "later.js": LATER,
    }
    s = Server(
        tmp_path_factory.mktemp("bodies"),
        workers,
        shards=1,
        http_max_body_bytes=16 << 20,
        limits={"wall_ms": 20000, "cpu_ms": 10000, "memory_mb": 256},
    )
    yield s
    s.close()


def head(worker: str, path: str = "/", extra: str = "", method: str = "POST") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: {worker}.workers.localhost\r\n{extra}\r\n".encode()


LEFT: dict[int, bytes] = {}  # bytes read past the last response, per socket


def read_response(c: socket.socket, seconds: float = 15.0) -> tuple[int, bytes, bytes]:
    """One Content-Length response: (status, head, body); (0, ...) if the connection closed first."""
    buf = LEFT.pop(id(c), b"")
    deadline = time.monotonic() + seconds
    c.settimeout(seconds)
    while b"\r\n\r\n" not in buf and time.monotonic() < deadline:
        data = c.recv(65536)
        if not data:
            return 0, buf, b""
        buf += data
    hd, _, rest = buf.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in hd.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(rest) < length and time.monotonic() < deadline:
        data = c.recv(65536)
        if not data:
            break
        rest += data
    LEFT[id(c)] = rest[length:]
    return int(hd.split()[1]), hd, rest[:length]


def test_the_worker_sees_the_first_piece_before_the_client_sent_the_rest(server):
    c = connect(server)
    c.sendall(head("first", extra="Content-Length: 10\r\n") + b"hello")
    status, _, body = read_response(c)  # the client has not sent the other 5 bytes
    assert status == 200 and body == b"first hello"
    c.sendall(b"world" + head("ignore", method="GET"))  # the rest is discarded; the connection goes on
    status, _, body = read_response(c)
    assert status == 200 and body == b"ignored GET"
    c.close()


def test_chunked_body_sent_slowly_reaches_the_worker_in_pieces(server):
    c = connect(server)
    c.sendall(head("count", extra="Transfer-Encoding: chunked\r\n"))
    for _ in range(4):
        time.sleep(0.1)
        c.sendall(b"5\r\npiece\r\n")
    c.sendall(b"0\r\n\r\n")
    status, _, body = read_response(c)
    got = json.loads(body)
    assert status == 200 and got["n"] == 20 and got["pieces"] >= 2  # not gathered into one
    c.close()


def test_content_length_and_chunked_bodies_read_whole_with_text(server):
    c = connect(server)
    c.sendall(head("text", extra="Content-Length: 11\r\n"))
    time.sleep(0.05)
    c.sendall(b"hello world")
    assert read_response(c)[2] == b"text hello world"
    c.sendall(head("text", extra="Transfer-Encoding: chunked\r\n") + b"6\r\nchunk \r\n")
    time.sleep(0.05)
    c.sendall(b"4\r\ned!!\r\n0\r\n\r\n")
    assert read_response(c)[2] == b"text chunk ed!!"
    c.sendall(head("text", extra="Content-Length: 5\r\n") + b"whole")  # with its headers: the usual path
    assert read_response(c)[2] == b"text whole"
    c.close()


def test_pipelined_requests_after_a_streamed_body(server):
    c = connect(server)
    c.sendall(head("text", extra="Content-Length: 6\r\n") + b"abc")
    time.sleep(0.05)
    c.sendall(b"def" + head("ignore", method="GET") + head("text", extra="Content-Length: 2\r\n") + b"xy")
    assert [read_response(c)[2] for _ in range(3)] == [b"text abcdef", b"ignored GET", b"text xy"]
    c.close()


def test_a_worker_that_never_reads_the_body(server):
    c = connect(server)
    size = 3 << 20  # far over the window: the rest is read and dropped after the answer
    c.sendall(head("ignore", extra=f"Content-Length: {size}\r\n") + b"x" * 1000)
    assert read_response(c)[2] == b"ignored POST"
    c.sendall(b"x" * (size - 1000))
    c.sendall(head("ignore", method="GET"))
    assert read_response(c)[2] == b"ignored GET"  # the connection is still usable
    c.close()


def test_a_streamed_body_streams_back_out(server):
    c = connect(server)
    c.sendall(head("echo", extra="Transfer-Encoding: chunked\r\n") + b"3\r\none\r\n")
    c.settimeout(10)
    got = b""
    while b"one" not in got:  # the first piece is back before the client sent the rest
        got += c.recv(65536)
    assert got.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in got.lower()
    c.sendall(b"3\r\ntwo\r\n0\r\n\r\n")
    while not got.endswith(b"0\r\n\r\n"):
        got += c.recv(65536)
    assert got.partition(b"\r\n\r\n")[2] == b"3\r\none\r\n3\r\ntwo\r\n0\r\n\r\n"
    c.close()


def test_reading_the_body_after_the_response_fails_at_once(server):
    c = connect(server)
    c.sendall(head("later", extra="Content-Length: 10\r\n") + b"abc")
    assert read_response(c)[2] == b"answered first"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(e["text"].startswith("later ") for e in server.events("console")):
        time.sleep(0.05)
    assert [e["text"] for e in server.events("console") if e["text"].startswith("later ")] == ["later E_CLIENT_GONE"]
    c.close()


def test_a_large_body_arrives_intact_with_bounded_router_memory(server):
    router = psutil.Process(server.status()["router_pid"])
    rss0 = router.memory_info().rss
    size = 12 << 20
    data = os.urandom(1 << 20) * 12
    c = connect(server)
    c.sendall(head("count", "/?sha", f"Content-Length: {size}\r\n"))
    peak = 0
    for i in range(0, size, 1 << 20):
        c.sendall(data[i : i + (1 << 20)])
        peak = max(peak, router.memory_info().rss)
    status, _, body = read_response(c, 30)
    assert status == 200, body
    got = json.loads(body)
    blocks = "".join(hashlib.sha256(data[i : i + (512 << 10)]).hexdigest() for i in range(0, size, 512 << 10))
    assert got["n"] == size and got["sha"] == hashlib.sha256(blocks.encode()).hexdigest()
    assert peak - rss0 < 8 << 20, (peak - rss0) >> 20  # a window and socket buffers, not the 12 MB body
    c.close()


def test_a_worker_that_does_not_read_yet_stops_the_client(server):
    size = 15 << 20  # under the 16 MB limit
    c = connect(server)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 10)
    c.sendall(head("hold", extra=f"Content-Length: {size}\r\n"))
    c.setblocking(False)
    sent, piece = 0, b"x" * 65536
    end = time.monotonic() + 1.0
    while time.monotonic() < end and sent < size:
        try:
            sent += c.send(piece[: size - sent])
        except BlockingIOError:
            time.sleep(0.01)
    # a window (256 KiB) and the kernel's buffers; unread, the router would take all 15 MB at once
    assert sent < 10 << 20, sent >> 20
    c.setblocking(True)
    c.sendall(b"x" * (size - sent))
    status, _, body = read_response(c)
    assert status == 200 and body == b"held %d" % size
    c.close()


def test_over_the_limit_mid_stream_gets_413(server):
    c = connect(server)
    c.sendall(head("count", extra="Transfer-Encoding: chunked\r\n") + b"4\r\nabcd\r\n")
    time.sleep(0.1)
    big = b"x" * (1 << 20)
    try:
        for _ in range(20):  # 20 MB in 1 MB chunks: over the 16 MB limit
            c.sendall(b"%x\r\n%b\r\n" % (len(big), big))
    except OSError:
        pass  # the server closed after its 413
    status, hd, body = read_response(c)
    assert status == 413 and b"E_BODY_TOO_LARGE" in body and b"connection: close" in hd.lower()
    c.close()


def test_the_stream_errors_with_e_body_too_large_for_a_worker_that_reads(server):
    c = connect(server)
    c.sendall(head("text", extra="Transfer-Encoding: chunked\r\n") + b"2\r\nab\r\n")
    time.sleep(0.1)
    c.sendall(b"1000001\r\n")  # a chunk of 16 MiB + 1: over the limit before its data
    status, _, body = read_response(c)
    assert status == 413 and b"E_BODY_TOO_LARGE" in body
    c.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
        e["text"] == "body error E_BODY_TOO_LARGE" for e in server.events("console")
    ):
        time.sleep(0.05)
    assert any(e["text"] == "body error E_BODY_TOO_LARGE" for e in server.events("console"))


def test_a_client_that_disconnects_mid_body_cancels_the_request(server):
    before = server.status()["counts"].get("cancelled", 0)
    c = connect(server)
    c.sendall(head("text", extra="Content-Length: 100\r\n") + b"part")
    time.sleep(0.2)
    c.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and server.status()["counts"].get("cancelled", 0) == before:
        time.sleep(0.05)
    st = server.status()
    assert st["counts"]["cancelled"] == before + 1 and st["pending"] == 0
    c = connect(server)  # the server goes on
    c.sendall(head("ignore", method="GET"))
    assert read_response(c)[2] == b"ignored GET"
    c.close()


def test_an_admin_task_body_over_the_limit_gets_413(server):
    c = connect(server)
    c.sendall(
        b"POST /_shardrun/tasks/count HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n"
    )
    time.sleep(0.05)
    c.sendall(b"1000000\r\n")  # 16 MiB: over the limit
    status, _, body = read_response(c)
    assert status == 413 and b"E_BODY_TOO_LARGE" in body
    c.close()


def test_an_admin_task_takes_a_streamed_body_whole(server):
    c = connect(server)
    req = b"POST /_shardrun/tasks/nothere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n\r\n"
    c.sendall(req + b"nu")
    time.sleep(0.05)
    c.sendall(b"ll")
    status, _, body = read_response(c)
    assert status == 404 and b"E_NOT_FOUND" in body  # routed with its whole body (no such worker)
    c.close()


@pytest.mark.slow
def test_a_shard_killed_mid_body_fails_that_request_only(tmp_path):
    s = Server(tmp_path, {"slowread.js": SLOWREAD, "ignore.js": IGNORE}, shards=2, limits={"wall_ms": 20000})
    try:
        c = connect(s)
        c.sendall(head("slowread", extra="Content-Length: 1000000\r\n") + b"x" * 1000)
        time.sleep(0.3)
        other = connect(s)
        other.sendall(head("ignore", method="GET"))
        assert read_response(other)[2] == b"ignored GET"
        st = s.status()
        busy = [sh for sh in st["shards"] if sh["inflight"]]
        assert len(busy) == 1
        os.kill(busy[0]["pid"], signal.SIGKILL)
        status, _, body = read_response(c)
        assert status == 502 and b"E_SHARD_LOST" in body
        other.sendall(head("ignore", method="GET"))
        assert read_response(other)[2] == b"ignored GET"
        c.close()
        other.close()
        assert s.status()["counts"].get("retried", 0) == 0  # never sent again
    finally:
        s.close()


@pytest.mark.slow
def test_a_body_that_stops_arriving_times_out_with_408(tmp_path):
    s = Server(tmp_path, {"text.js": TEXT, "ignore.js": IGNORE}, shards=1, http_body_timeout_s=1)
    try:
        c = connect(s)
        c.sendall(head("text", extra="Content-Length: 10\r\n") + b"abc")  # and then nothing
        t0 = time.monotonic()
        status, _, body = read_response(c)
        assert status == 408 and b"E_TIMEOUT" in body and 0.9 < time.monotonic() - t0 < 5
        c.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(e["text"] == "body error E_TIMEOUT" for e in s.events("console")):
            time.sleep(0.05)
        assert any(e["text"] == "body error E_TIMEOUT" for e in s.events("console"))  # the worker's stream errored
    finally:
        s.close()


@pytest.mark.slow
def test_a_body_that_arrives_while_its_request_is_queued_is_held_within_the_window(tmp_path):
    s = Server(
        tmp_path,
        {"hold.js": HOLD, "count.js": COUNT},
        shards=1,
        max_inflight_per_shard=1,
        http_max_body_bytes=16 << 20,
        limits={"wall_ms": 20000},
    )
    try:
        busy = connect(s)
        busy.sendall(head("hold", extra="Content-Length: 0\r\n"))  # takes the shard's one slot for 1.5 s
        time.sleep(0.2)
        size = 8 << 20
        c = connect(s)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 10)
        c.sendall(head("count", extra=f"Content-Length: {size}\r\n"))
        c.setblocking(False)
        sent, piece = 0, b"q" * 65536
        end = time.monotonic() + 0.8
        while time.monotonic() < end:
            try:
                sent += c.send(piece)
            except BlockingIOError:
                time.sleep(0.01)
        assert s.status()["queued"] == 1  # still waiting for the slot ...
        assert sent < 6 << 20, sent >> 20  # ... and its body held to a window (and the kernel's buffers)
        c.setblocking(True)
        c.sendall(b"q" * (size - sent))
        assert read_response(busy)[2] == b"held 0"
        status, _, body = read_response(c)
        assert status == 200 and json.loads(body)["n"] == size
        c.close()
        busy.close()
    finally:
        s.close()


# ---- the runtime and the shard's side, without serve ------------------------------------------


def test_the_body_methods_read_the_stream_to_its_end():
    import base64
    from types import SimpleNamespace

    from shardrun.runtime.calls import HttpRequest
    from shardrun.runtime.hostops import host_ops
    from shardrun.runtime.isolate import WorkerIsolate
    from shardrun.runtime.script import Script
    from shardrun.server.bodyin import RequestBodies

    src = """export default { async fetch(req) {
      const how = new URL(req.url).pathname;
      if (how === "/json") return Response.json(await req.json());
      if (how === "/bytes") return new Response(String(new Uint8Array(await req.arrayBuffer()).length));
      if (how === "/form") { const f = await req.formData(); return new Response(f.get("a") + "," + f.get("b")); }
      return new Response("nothing read");
    } }"""
    bodies = RequestBodies(lambda iso: None)
    w = WorkerIsolate(Script("b.js", src, "1"), host_ops=host_ops(body=bodies.read))
    cases = [
        ("/json", [b'{"a": [1, ', b"2]}"], b'{"a":[1,2]}'),
        ("/bytes", [b"x" * 1000, b"y" * 24], b"1024"),
        ("/form", [b"a=1&b=", b"two"], b"1,two"),
        ("/none", [b"never read"], b"nothing read"),
    ]
    for rid, (path, pieces, want) in enumerate(cases, 1):
        bodies.expect(rid)
        headers = [("content-type", "application/x-www-form-urlencoded")] if path == "/form" else []
        call = w.submit(
            "fetch", HttpRequest("POST", "http://x" + path, headers, None, streamed=True), tag=SimpleNamespace(rid=rid)
        )
        for p in pieces:
            w.pump()
            bodies.on_part({"id": rid, "part": "c", "n": len(p), "b64": base64.b64encode(p).decode()})
        bodies.on_part({"id": rid, "part": "e"})
        for _ in range(20):
            w.pump()
        assert call.result is not None and call.result.ok, call.result
        assert call.result.value.body == want
        read = sum(len(p) for p in pieces) if path != "/none" else 0
        credited = sum(
            int(x.split(b'"credit":')[1].rstrip(b"}")) for x in bodies.out if x.startswith(b'{"id":%d,' % rid)
        )
        assert credited == read  # every piece the worker took is credited back, none it did not
        bodies.drop(rid)
    assert not bodies.by_rid


def test_a_failed_body_errors_the_stream_with_its_code():
    from types import SimpleNamespace

    from shardrun.runtime.calls import HttpRequest
    from shardrun.runtime.hostops import host_ops
    from shardrun.runtime.isolate import WorkerIsolate
    from shardrun.runtime.script import Script
    from shardrun.server.bodyin import RequestBodies

    bodies = RequestBodies(lambda iso: None)
    w = WorkerIsolate(Script("t.js", TEXT, "1"), host_ops=host_ops(body=bodies.read))
    bodies.expect(1)
    call = w.submit("fetch", HttpRequest("POST", "http://x/", [], None, streamed=True), tag=SimpleNamespace(rid=1))
    w.pump()
    bodies.on_part({"id": 1, "part": "x", "error": {"code": "E_BODY_TOO_LARGE", "message": "over"}})
    for _ in range(20):
        w.pump()
    assert call.result is not None and call.result.value.body == b"caught E_BODY_TOO_LARGE"
    bodies.on_part({"id": 1, "part": "c", "n": 1, "b64": "eA=="})  # after the end: ignored
    bodies.on_part({"id": 2, "part": "c", "n": 1, "b64": "eA=="})  # of no request here: ignored
    assert list(bodies.by_rid) == [1] and not bodies.by_rid[1].pieces


# ---- the connection alone (server/http.py with open_body), over a socket pair ------------------


class Sink:
    """What a RequestBody hears from its connection."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.events: list[tuple[str, ...]] = []

    def piece(self, data: bytes) -> None:
        self.pieces.append(data)

    def end(self) -> None:
        self.events.append(("end",))

    def fail(self, code: str, message: str) -> None:
        self.events.append(("fail", code))


class Conn:
    def __init__(self, max_body: int = 1 << 20) -> None:
        from shardrun.server.http import HttpConnection, HttpLimits

        self.client, server = socket.socketpair()
        server.setblocking(False)
        self.client.settimeout(0.2)
        self.requests: list = []
        self.sinks: list[Sink] = []
        self.conn = HttpConnection(
            server, HttpLimits(max_body_bytes=max_body), self.requests.append, 0.0, open_body=self._open
        )

    def _open(self, conn) -> Sink:
        self.sinks.append(Sink())
        return self.sinks[-1]

    def send(self, data: bytes) -> None:
        self.client.sendall(data)
        self.conn.on_readable(0.0)

    def close(self) -> None:
        self.client.close()
        self.conn.close()

    def read(self) -> bytes:
        out = b""
        try:
            while chunk := self.client.recv(65536):
                out += chunk
        except TimeoutError:
            pass
        return out


def test_the_connection_hands_over_a_request_before_its_body_and_keeps_the_fast_path():
    h = Conn()
    h.send(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab")
    assert len(h.requests) == 1 and h.requests[0].stream is h.sinks[0] and h.requests[0].body == b""
    h.send(b"cde" + b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nxy")
    assert b"".join(h.sinks[0].pieces) == b"abcde" and h.sinks[0].events == [("end",)]
    assert len(h.requests) == 2 and h.requests[1].stream is None and h.requests[1].body == b"xy"  # whole: as before
    assert [r.seq for r in h.requests] == [0, 1] and len(h.sinks) == 1
    h.send(b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    assert h.requests[2].stream is h.sinks[1]
    h.conn.pause(True, 0.0)
    assert not h.conn.wants_read and h.conn.deadline() is None
    h.conn.pause(False, 0.0)
    assert h.conn.wants_read
    h.send(b"0\r\n\r\n")
    assert h.sinks[1].events == [("end",)] and not h.conn.closed
    h.close()


def test_the_connection_fails_a_streaming_body_over_the_limit_without_a_response_of_its_own():
    h = Conn(max_body=10)
    h.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n")
    h.send(b"20\r\n")  # 32 bytes more: over 10
    assert h.sinks[0].events == [("fail", "E_BODY_TOO_LARGE")] and h.conn.closing
    assert h.read() == b""  # the request's answer is the router's (its seq is taken): nothing else here
    h.conn.respond(0, 413, [], b"too large")
    assert b"413" in h.read() and h.conn.closed
    h.close()


def test_a_client_that_closes_mid_body_closes_the_connection():
    h = Conn()
    h.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc")
    h.client.shutdown(socket.SHUT_WR)
    h.conn.on_readable(0.0)
    assert h.conn.closed and h.sinks[0].events == []  # the front door fails the body when it sees the close
    h.close()
