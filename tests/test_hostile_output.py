"""A hostile tenant's output against a real server: what leaves an isolate cannot hurt anyone else.

Findings of the security review, one test each (numbers as in the review): 1 response splitting,
2 a malformed reply must not kill the router, 4 nor the caller's shard on a worker-to-worker call,
5 console output after the response is not kept, 8 tenant settings cannot raise operator limits,
9 a task result that looks like an error code is not re-run. Replies that the prelude would never
produce are sent by a stand-in shard: a ZeroMQ peer that registers at the router as shard 0 and
answers with garbage, so the host's checks are tested without relying on the JS side's.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httptools
import orjson
import pytest
import zmq

from shardrun import protocol
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script
from shardrun.server.routing import shard_for
from shardrun.server.table import RoutingTable
from shardrun.settings import load_settings
from shardrun.workers import Registry

from .conftest import drive
from .serve_helpers import Server

pytestmark = pytest.mark.hostile


def name_on(slot: int, prefix: str) -> str:
    """A worker name (= its tenant) that the routing table puts on `slot` of 2 shards."""
    return next(f"{prefix}{i}" for i in range(1000) if shard_for(f"{prefix}{i}", 2) == slot)


EVIL0, CANARY1, CALLER1 = name_on(0, "evil"), name_on(1, "canary"), name_on(1, "caller")
CANARY0 = name_on(0, "quiet")

TRICKS = r"""
const bad = (o) => JSON.stringify(o);
export default {
  fetch(req) {
    const t = new URL(req.url).pathname.slice(1);
    const forge = (o) => { Response.prototype.__serialize = () => bad(o); return new Response("x"); };
    switch (t) {
      case "add": { const h = new Headers(); Headers.__add(h, "set-cookie", "sid=evil\r\n\r\nHTTP/1.1 200 OK");
                    return new Response("a", { headers: h }); }
      case "trusted": return new Response("a", { headers: Headers.__trusted([["x\r\nset-cookie", "sid=evil"]]) });
      case "value": return forge({ status: 200, statusText: "", headers: [["x", "1\r\nset-cookie: sid=evil"]], text: "" });
      case "name": return forge({ status: 200, statusText: "", headers: [["set-cookie: sid=evil\r\nx", "1"]], text: "" });
      case "reason": return forge({ status: 200, statusText: "OK\r\nset-cookie: sid=evil", headers: [], text: "" });
      case "class": { globalThis.Response = class { __serialize() { return bad({ status: 200, statusText: "",
                        headers: [["set-cookie", "a\r\nset-cookie: sid=evil"]], text: "" }); } }; return new Response(); }
      default: return forge({ status: Number(t), statusText: "", headers: [], text: "HTTP/1.1 200 OK\r\n\r\n" });
    }
  },
};
"""
CANARY = """export default {
  fetch(req, env) { return new Response("canary " + env.WHO); },
  task(p, env) { return "canary " + env.WHO; },
};"""


def worker_files(tmp: Path) -> dict[str, str]:
    return {
        f"{EVIL0}.js": TRICKS,
        f"{CANARY1}/index.js": CANARY,
        f"{CANARY1}/worker.toml": '[env]\nWHO = "one"\n',
        f"{CANARY0}/index.js": CANARY,
        f"{CANARY0}/worker.toml": '[env]\nWHO = "zero"\n',
        f"{CALLER1}/index.js": f"""export default {{ async fetch(req) {{
            const r = await fetch("http://{EVIL0}.workers.localhost/");
            return new Response(r.status + " " + r.headers.get("x-shardrun-error") + " " + (await r.text()).length); }} }};""",
        f"{CALLER1}/worker.toml": f'[fetch]\nallow = ["{EVIL0}.workers.localhost"]\n',
        "counter.js": """let runs = 0; export default { task(p) {
            if (p.count) return runs;
            runs++;
            return { code: "E_SHUTTING_DOWN", message: "not really" }; } };""",
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("hostile")
    s = Server(tmp, worker_files(tmp), shards=2, limits={"wall_ms": 5000})
    yield s
    s.close()


def responses(raw: bytes) -> list[tuple[int, dict[str, list[str]], bytes]]:
    """Parse a stream of HTTP/1.1 responses strictly; every response as (status, headers, body)."""
    out: list[tuple[int, dict[str, list[str]], bytes]] = []

    class P:
        def on_message_begin(self) -> None:
            self.h: dict[str, list[str]] = {}
            self.b = b""

        def on_header(self, k: bytes, v: bytes) -> None:
            self.h.setdefault(k.decode("latin-1").lower(), []).append(v.decode("latin-1"))

        def on_body(self, b: bytes) -> None:
            self.b += b

        def on_message_complete(self) -> None:
            out.append((parser.get_status_code(), self.h, self.b))

    p = P()
    parser = httptools.HttpResponseParser(p)
    parser.feed_data(raw)
    return out


def pipelined(port: int, *requests: bytes, expect: int) -> bytes:
    """Send requests on one connection at once; read until `expect` responses came or the peer closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"".join(requests))
        data = b""
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                if len(responses(data)) >= expect:
                    break
            except httptools.HttpParserError:
                break
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def get(host: str, path: str = "/") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}.workers.localhost\r\n\r\n".encode()


# ---- 1: response splitting ----------------------------------------------------------------
@pytest.mark.parametrize("trick", ["add", "trusted", "value", "name", "reason", "class", "0", "99", "1000", "-5"])
def test_1_a_tenant_cannot_inject_a_response_into_the_next_one(server: Server, trick: str) -> None:
    raw = pipelined(server.http_port, get(EVIL0, "/" + trick), get(CANARY0), expect=2)
    got = responses(raw)
    assert len(got) == 2, raw  # exactly one response per request, nothing injected
    (status, headers, _), (status2, headers2, body2) = got
    # The trick fails in JS (an error) or is ignored (the real response); it never reaches the wire.
    assert status in (200, 500, 502) and "set-cookie" not in headers, raw
    assert (status2, body2) == (200, b"canary zero") and "set-cookie" not in headers2


# ---- 2 and 4: malformed replies, from a stand-in shard ----------------------------------------
BAD_VALUES: list[Any] = [
    {"status": "200"},
    {"status": 0, "statusText": "", "headers": []},
    {"status": 200, "headers": "x"},
    {"status": 200, "headers": [["a"]]},
    {"status": 200, "headers": [[1, 2]]},
    {"status": 200, "b64": "@@@"},
    {"status": 200, "headers": [["x", "a\r\nset-cookie: sid=evil"]]},
    {"status": 200, "statusText": "\r\n"},
    None,
    "a string",
    [1, 2],
    {"status": 1e30},
    {"status": 200.0},
]


def bad_reply(rid: int, i: int) -> bytes:
    k = i % (len(BAD_VALUES) + 3)
    if k == len(BAD_VALUES):
        return b'{"id":%d,not json at all' % rid
    if k == len(BAD_VALUES) + 1:
        return b'{"id":%d,"ok":true}' % rid  # no value at all
    if k == len(BAD_VALUES) + 2:
        return b'{"id":%d,"ok":false,"error":[1]}' % rid  # an error that is not an object
    return protocol.reply_body(rid, True, BAD_VALUES[k], shard=0)


class StandIn:
    """A ZeroMQ peer that takes over shard slot 0 at the router and answers every request with garbage."""

    def __init__(self, backend: str) -> None:
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.IDENTITY, protocol.shard_identity(0, 999_999))
        self.sock.connect(backend)
        self.sock.send_multipart(protocol.encode_ready(0, 999_999, 0))
        self.answered = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        end = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < end:
            if not self.sock.poll(50):
                self.sock.send_multipart(protocol.encode_heartbeat(shard=0, pid=999_999))
                continue
            frames = self.sock.recv_multipart()
            for msg in protocol.decode_all(frames):
                if isinstance(msg, protocol.Message) and msg.type == protocol.REQUEST:
                    self.sock.send_multipart(
                        [protocol.HEADER, protocol.REPLY, bad_reply(msg.body["id"], self.answered)]
                    )
                    self.answered += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close(0)
        self.ctx.term()


@pytest.fixture
def standin(server: Server) -> Any:
    s = StandIn(f"ipc://{server.dir}/run/backend.ipc")
    end = time.monotonic() + 5
    while server.status()["shards"][0]["pid"] != 999_999:
        assert time.monotonic() < end, "the stand-in did not register"
        time.sleep(0.05)
    yield s
    s.close()
    # Give slot 0 back to the real shard: its next READY comes after a restart, so kill it.
    real = server.pids("shardrun: shard 0")
    for pid in real:
        os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 20
    while True:
        st = server.status()["shards"][0]
        if st["ready"] and st["pid"] not in (999_999, *real):
            break
        assert time.monotonic() < end, "slot 0 did not come back"
        time.sleep(0.1)


def http(server: Server, host: str, path: str = "/") -> tuple[int, bytes]:
    got = responses(pipelined(server.http_port, get(host, path), expect=1))
    assert len(got) == 1
    return got[0][0], got[0][2]


def test_2_malformed_replies_fail_their_request_only(server: Server, standin: StandIn) -> None:
    router = server.status()["router_pid"]
    canary_ok = 0
    n = 3 * (len(BAD_VALUES) + 3)
    for _i in range(n):
        status, body = http(server, EVIL0)
        assert status in (500, 502), body  # an error for that request ...
        code = orjson.loads(body)["error"]["code"]
        assert code in ("E_BAD_OUTPUT", "E_INTERNAL"), body
        canary_ok += http(server, CANARY1) == (200, b"canary one")  # ... and nothing for anyone else
    assert standin.answered >= n
    assert canary_ok == n
    assert server.status()["router_pid"] == router  # the router never died


def test_4_a_malformed_worker_to_worker_response_fails_the_caller_only(server: Server, standin: StandIn) -> None:
    pids = server.shard_pids()
    for _ in range(len(BAD_VALUES) + 3):
        status, body = http(server, CALLER1)
        assert status == 200 and body.split()[0] in (b"500", b"502"), body
    assert server.shard_pids()[1] == pids[1]  # the caller's shard survived every one
    assert http(server, CANARY1) == (200, b"canary one")


# ---- 9: a result that looks like a host error ---------------------------------------------------
def test_9_a_result_that_looks_like_an_error_code_runs_once(server: Server) -> None:
    before = server.client.task("counter", {"count": True}).value
    r = server.client.task("counter", {}, timeout=10)
    assert r.ok and r.value == {"code": "E_SHUTTING_DOWN", "message": "not really"}
    assert server.client.task("counter", {"count": True}).value == before + 1


# ---- 5: console output after the response ---------------------------------------------------
LATE_LOGGER = """export default { fetch() {
  Promise.resolve().then(() => { for (let i = 0; i < 100; i++) console.log("x".repeat(10000)); });
  setTimeout(() => {}, 0);
  return new Response("ok");
} };"""


def test_5_console_output_after_the_response_is_not_kept() -> None:
    from shardrun.runtime.calls import HttpRequest

    iso = WorkerIsolate(Script.from_source(LATE_LOGGER, "late.js"))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20):  # 20 MB logged after the responses
            drive(iso, [iso.submit("fetch", HttpRequest("GET", "http://late.test/"))], timeout=5)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 2 << 20, f"{kept} bytes kept after 20 MB of late console output"


# ---- 8: tenant settings lower operator limits, never raise them --------------------------------
def test_8_worker_toml_cannot_raise_operator_limits(tmp_path: Path) -> None:
    (tmp_path / "greedy").mkdir()
    (tmp_path / "greedy" / "index.js").write_text("export default { task() {} }")
    (tmp_path / "greedy" / "worker.toml").write_text(
        "max_concurrency = 100000\n[limits]\ncpu_ms = 1e9\nmemory_mb = 4096\nwall_ms = 10\n"
    )
    settings = load_settings(
        None,
        serve={"workers": str(tmp_path), "shards": 1, "tenant_max_concurrency": 3},
        limits={"cpu_ms": 50, "memory_mb": 32},
    )
    spec = Registry(tmp_path, settings.limits.to_limits()).get("greedy")
    assert (spec.limits.cpu_ms, spec.limits.memory_mb, spec.limits.wall_ms) == (50, 32, 10)  # lowered: yes
    assert spec.clamped == ("cpu_ms", "memory_mb")
    t = RoutingTable(settings)
    t.on_alive(b"shard-0-1", protocol.decode(protocol.encode_ready(0, 1, 0)))
    for i in range(5):
        raw = protocol.request_body(i, "greedy", "task", {})
        t.accept(b"c", protocol.decode_body(protocol.REQUEST, raw), raw)
    codes = [orjson.loads(b)["error"]["code"] for b in t.client_out.pop(b"c", [])]
    assert codes == ["E_TENANT_LIMIT"] * 2  # the operator's 3, not the worker's 100,000


def test_8_one_tenant_cannot_take_a_shards_slots_or_the_queue(tmp_path: Path) -> None:
    for w in ("hog", "other"):
        (tmp_path / f"{w}.js").write_text("export default { task() {} }")
    settings = load_settings(
        None,
        serve={
            "workers": str(tmp_path),
            "shards": 1,
            "max_inflight_per_shard": 4,
            "max_queued": 8,
            "tenant_max_concurrency": 1000,
        },
    )
    t = RoutingTable(settings)
    t.on_alive(b"shard-0-1", protocol.decode(protocol.encode_ready(0, 1, 0)))

    def send(worker: str, n: int) -> list[str]:
        for i in range(n):
            raw = protocol.request_body(i, worker, "task", {})
            t.accept(worker.encode(), protocol.decode_body(protocol.REQUEST, raw), raw)
        return [orjson.loads(b)["error"]["code"] for b in t.client_out.pop(worker.encode(), [])]

    assert send("hog", 50) == ["E_TENANT_LIMIT"] * 44  # 2 of 4 slots running, 4 of 8 queue places waiting
    assert sum(len(b) for b in t.shard_out.values()) == 2
    assert send("other", 3) == []  # another tenant still gets the free slots at once
    assert [p.tenant for p in t.shard_out[0]].count("other") == 2
    assert t.tenant_queued["other"] == 1
    # A hog's request finishing frees its slot for its own next one, never the other tenant's.
    hog = next(p for p in t.shard_out[0] if p.tenant == "hog")
    t.on_reply(hog.sent_to, protocol.reply_body(hog.rid, True, 1))
    assert t.tenant_running["hog"] == 2 and t.tenant_running["other"] == 2


def test_shard_refusals_are_flagged_by_the_host_not_found_in_tenant_bytes() -> None:
    assert protocol.is_refusal(protocol.refusal_body(7, "E_SHUTTING_DOWN", "bye"))
    for value in ({"code": "E_SHUTTING_DOWN"}, '"requeue":true,', {"requeue": True}):
        assert not protocol.is_refusal(protocol.reply_body(7, True, value))
    assert not protocol.is_refusal(protocol.reply_body(7, False, {"code": "E_SHUTTING_DOWN", "message": "x"}))
