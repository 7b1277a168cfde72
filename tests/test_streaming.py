"""Streamed responses: a Response whose body is a stream goes out as the worker makes it.

In the runtime (pieces within the credit window), and through a real `serve` over HTTP
(chunked framing, first byte before the handler is done, SSE, HEAD, pipelining, HTTP/1.0,
backpressure, a client that goes away, a shard that dies, limits mid-stream) and over the
ZeroMQ client API (Client.stream).
"""

from __future__ import annotations

import re
import signal
import socket
import time

import pytest

from shardrun.engine.limits import Limits
from shardrun.errors import ShardrunError
from shardrun.runtime.calls import HttpRequest, HttpResponse
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script
from tests.serve_helpers import Server, connect

SLOW = """export default { fetch(req) {
  const n = Number(new URL(req.url).searchParams.get("n") || 4), ms = Number(new URL(req.url).searchParams.get("ms") || 50);
  let i = 0;
  return new Response(new ReadableStream({
    async pull(c) {
      await new Promise((r) => setTimeout(r, ms));
      if (i++ < n) c.enqueue(new TextEncoder().encode("chunk" + i + "\\n")); else c.close();
    },
    cancel(reason) { console.log("cancelled after " + i + ": " + reason); },
  }), { headers: { "content-type": "text/plain" } });
} }"""

FLOOD = """let made = 0;
export default { fetch() {
  const piece = new Uint8Array(65536).fill(120);
  return new Response(new ReadableStream({
    pull(c) { made += piece.length; c.enqueue(piece.slice()); },
    cancel() { console.log("made " + made); },
  }));
} }"""

SSE = """export default { fetch() {
  let i = 0;
  const enc = new TextEncoder();
  return new Response(new ReadableStream({
    async pull(c) {
      await new Promise((r) => setTimeout(r, 30));
      if (i++ < 3) c.enqueue(enc.encode("event: tick\\ndata: " + i + "\\n\\n")); else c.close();
    },
  }), { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
} }"""

BAD = """export default { fetch() {
  return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("ok\\n")); c.enqueue("a string"); c.close(); } }));
} }"""

FOREVER = """export default { fetch() {
  return new Response(new ReadableStream({
    async pull(c) { await new Promise((r) => setTimeout(r, 20)); c.enqueue(new TextEncoder().encode(".")); },
  }));
} }"""

WHOLE = "export default { fetch() { return new Response('whole body') } }"


# ---- the runtime ----------------------------------------------------------------------------


def drive(w: WorkerIsolate, until, seconds: float = 3.0) -> None:
    end = time.monotonic() + seconds
    while not until() and time.monotonic() < end:
        w.pump()
        time.sleep(0.002)


def test_the_runtime_sends_at_most_the_window_ahead_of_the_credit():
    src = """export default { fetch() {
      let i = 0;
      return new Response(new ReadableStream({ pull(c) { i++; c.enqueue(new Uint8Array(512).fill(i & 255)); } }));
    } }"""
    w = WorkerIsolate(Script.from_source(src), Limits(stream_window_bytes=1024), raw_fetch=True)
    parts: list[tuple[str, object]] = []
    heads = []
    call = w.submit(
        "fetch",
        HttpRequest("GET", "https://x.test/", [], None),
        on_result=lambda c: heads.append(c.result.value),
        on_chunk=lambda c, part, v: parts.append((part, v)),
    )
    drive(w, lambda: False, 0.2)
    assert heads[0]["stream"] is True and "b64" not in heads[0] and "text" not in heads[0]
    assert [p for p, _ in parts] == ["c", "c"]  # 2 x 512 bytes: the window, then it waits
    w.credit(call.rid, 1024)
    drive(w, lambda: False, 0.2)
    assert len(parts) == 4
    w.cancel(call.rid)
    assert call.finished and not call.streaming


def test_without_streaming_the_body_is_read_whole():
    w = WorkerIsolate(Script.from_source(SLOW), raw_fetch=True)
    got = []
    call = w.submit(
        "fetch", HttpRequest("GET", "https://x.test/?n=3&ms=1", [], None), on_result=lambda c: got.append(c.result)
    )
    drive(w, lambda: call.finished)
    assert got[0].ok and got[0].value["b64"] and "stream" not in got[0].value


def test_a_chunk_that_is_not_bytes_fails_the_stream():
    w = WorkerIsolate(Script.from_source(BAD), raw_fetch=True)
    parts: list[tuple[str, object]] = []
    call = w.submit(
        "fetch",
        HttpRequest("GET", "https://x.test/", [], None),
        on_result=lambda c: None,
        on_chunk=lambda c, part, v: parts.append((part, v)),
    )
    drive(w, lambda: call.finished)
    assert parts[0][0] == "c" and parts[-1][0] == "x"
    assert parts[-1][1].code == "E_BAD_OUTPUT" and "Uint8Array" in parts[-1][1].message


# ---- through serve --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workers = {"slow.js": SLOW, "flood.js": FLOOD, "sse.js": SSE, "bad.js": BAD, "whole.js": WHOLE}
    s = Server(tmp_path_factory.mktemp("streams"), workers, shards=1)
    yield s
    s.close()


def get(worker: str, path: str = "/", method: str = "GET", version: str = "1.1") -> bytes:
    return f"{method} {path} HTTP/{version}\r\nHost: {worker}.workers.localhost\r\n\r\n".encode()


def read_until(c: socket.socket, end: bytes, seconds: float = 10.0) -> list[tuple[float, bytes]]:
    """What arrives, with when, until the bytes so far end with `end` (or the connection closes)."""
    got: list[tuple[float, bytes]] = []
    buf = b""
    deadline = time.monotonic() + seconds
    c.settimeout(seconds)
    while not buf.endswith(end) and time.monotonic() < deadline:
        data = c.recv(65536)
        if not data:
            break
        got.append((time.monotonic(), data))
        buf += data
    return got


def dechunk(raw: bytes) -> tuple[bytes, bool]:
    """The body of a chunked message body, and whether its last chunk came."""
    out, rest = b"", raw
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        n = int(size_line, 16)
        if n == 0:
            return out, True
        out, rest = out + rest[:n], rest[n + 2 :]
    return out, False


def test_pieces_reach_the_client_as_the_worker_makes_them(server):
    c = connect(server)
    c.sendall(get("slow", "/?n=5&ms=100"))
    got = read_until(c, b"0\r\n\r\n")
    raw = b"".join(d for _, d in got)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head.lower()
    assert b"content-length" not in head.lower()
    text, complete = dechunk(body)
    assert complete and text == b"".join(b"chunk%d\n" % i for i in range(1, 6))
    first_piece = next(t for t, d in got if b"chunk1" in d)
    assert got[-1][0] - first_piece > 0.3  # the first piece came long before the last (not buffered)
    c.close()


def test_server_sent_events_are_flushed_one_by_one(server):
    c = connect(server)
    c.sendall(get("sse"))
    got = read_until(c, b"0\r\n\r\n")
    raw = b"".join(d for _, d in got)
    assert b"content-type: text/event-stream" in raw
    events = re.findall(rb"event: tick\ndata: (\d)\n\n", raw)
    assert events == [b"1", b"2", b"3"]
    assert sum(1 for _, d in got if b"event: tick" in d) == 3  # each event in its own write
    c.close()


def test_a_client_that_goes_away_cancels_the_stream_in_the_worker(server):
    before = server.status()["counts"].get("cancelled", 0)
    c = connect(server)
    c.sendall(get("slow", "/?n=1000&ms=20"))
    read_until(c, b"chunk2\n\r\n")
    c.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not [
        e for e in server.events("console") if e["text"].startswith("cancelled after") and e["worker"] == "slow"
    ]:
        time.sleep(0.05)
    lines = [e["text"] for e in server.events("console") if e["text"].startswith("cancelled after")]
    assert lines and "the client went away" in lines[-1]
    assert server.status()["counts"]["cancelled"] == before + 1


def test_a_client_that_does_not_read_slows_the_producer(server):
    c = connect(server)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    c.sendall(get("flood"))
    c.recv(4096)  # the head and the first bytes; then nothing is read for a while
    time.sleep(1.5)
    rss = {s["slot"]: s.get("rss_bytes", 0) for s in server.status()["shards"]}
    c.close()
    deadline = time.monotonic() + 10
    made = []
    while time.monotonic() < deadline and not made:
        made = [int(e["text"].split()[1]) for e in server.events("console") if e["text"].startswith("made ")]
        time.sleep(0.05)
    # window (256 KiB) + the router's low water mark (256 KiB) + the kernel's socket buffers;
    # unbounded, 1.5 s of this loop makes hundreds of MB
    assert made and made[-1] < 24 << 20, made
    assert all(v < 1 << 30 for v in rss.values())


def test_head_pipelining_and_http_1_0(server):
    c = connect(server)
    c.sendall(get("slow", "/?n=2&ms=20", method="HEAD") + get("slow", "/?n=2&ms=20") + get("whole"))
    got = b"".join(d for _, d in read_until(c, b"whole body"))
    first, _, rest = got.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200") and b"transfer-encoding" not in first.lower()  # HEAD: no body
    assert rest.startswith(b"HTTP/1.1 200")
    _, _, rest = rest.partition(b"\r\n\r\n")  # the stream's head
    body, _, third = rest.partition(b"0\r\n\r\n")
    assert dechunk(body + b"0\r\n\r\n") == (b"chunk1\nchunk2\n", True)
    assert third.startswith(b"HTTP/1.1 200") and third.endswith(b"whole body")  # after the stream, in order
    c.close()
    c = connect(server)
    c.sendall(get("slow", "/?n=2&ms=10", version="1.0"))
    raw = b"".join(d for _, d in read_until(c, b"\0never"))  # until the server closes
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower() and b"transfer-encoding" not in head.lower()
    assert body == b"chunk1\nchunk2\n"  # no chunk framing for HTTP/1.0: the close ends it
    c.close()


def test_a_bad_piece_ends_the_response_incomplete(server):
    c = connect(server)
    c.sendall(get("bad"))
    raw = b"".join(d for _, d in read_until(c, b"\0never"))
    assert raw.startswith(b"HTTP/1.1 200")
    body, complete = dechunk(raw.partition(b"\r\n\r\n")[2])
    assert body == b"ok\n" and not complete  # the connection closed before the last chunk
    c.close()


def test_the_zeromq_client_streams_too(server):
    parts = list(server.client.stream("slow", "GET", "/?n=3&ms=10"))
    assert isinstance(parts[0], HttpResponse) and parts[0].status == 200 and parts[0].body == b""
    assert b"".join(parts[1:]) == b"chunk1\nchunk2\nchunk3\n"
    whole = list(server.client.stream("whole"))
    assert len(whole) == 1 and whole[0].body == b"whole body"
    with pytest.raises(ShardrunError) as e:
        list(server.client.stream("bad"))
    assert e.value.code == "E_BAD_OUTPUT"


def test_a_zeromq_client_that_stops_reading_cancels_the_stream(server):
    before = server.status()["counts"].get("cancelled", 0)
    parts = server.client.stream("slow", "GET", "/?n=1000&ms=20")
    assert isinstance(next(parts), HttpResponse) and next(parts) == b"chunk1\n"
    parts.close()  # stop early: the client tells the router, which cancels it in the shard
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.status()["counts"].get("cancelled", 0) == before:
        time.sleep(0.05)
    assert server.status()["counts"]["cancelled"] == before + 1
    assert [p.body for p in server.client.stream("whole")] == [b"whole body"]  # the client goes on


def test_invoke_streams_a_body_to_stdout(server):
    import subprocess
    import sys

    from tests.serve_helpers import ROOT

    cmd = [sys.executable, "-m", "shardrun", "invoke", "slow", "--request", "GET /?n=3&ms=10", "--stream"]
    p = subprocess.run([*cmd, "--endpoint", server.endpoint], capture_output=True, timeout=60, cwd=ROOT, check=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"chunk1\nchunk2\nchunk3\n" and p.stderr.decode().startswith("200")
    bad_cmd = [sys.executable, "-m", "shardrun", "invoke", "bad", "--request", "/", "--stream"]
    bad = subprocess.run(
        [*bad_cmd, "--endpoint", server.endpoint], capture_output=True, timeout=60, cwd=ROOT, check=False
    )
    assert bad.returncode != 0 and b"E_BAD_OUTPUT" in bad.stderr + bad.stdout  # the body stopped half-way


@pytest.mark.slow
def test_limits_hold_during_a_stream_and_a_dying_shard_leaves_it_incomplete(tmp_path):
    s = Server(tmp_path, {"forever.js": FOREVER, "slow.js": SLOW}, shards=1, limits={"wall_ms": 400})
    try:
        c = connect(s)
        c.sendall(get("forever"))
        raw = b"".join(d for _, d in read_until(c, b"\0never"))
        body, complete = dechunk(raw.partition(b"\r\n\r\n")[2])
        assert body.startswith(b"..") and not complete  # cut at the wall limit, as an incomplete body
        c.close()
        with pytest.raises(ShardrunError) as e:
            list(s.client.stream("forever"))
        assert e.value.code == "E_WALL_TIMEOUT"
        c = connect(s)
        c.sendall(get("slow", "/?n=1000&ms=20"))
        read_until(c, b"chunk2\n\r\n")
        import os

        os.kill(s.shard_pids()[0], signal.SIGKILL)
        raw = b"".join(d for _, d in read_until(c, b"\0never"))
        assert not raw.endswith(b"0\r\n\r\n")  # never a complete body
        c.close()
    finally:
        s.close()
