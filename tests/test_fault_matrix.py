"""The fault matrix (../shared/design/fault-matrix.md), row by row, against one real server.

One shard, so every fault lands in the same process as the canary: after each fault, tenant B's
canary must still get its own right answer (over ZeroMQ and HTTP), see a clean realm, and, where
the row says the shard survives, be served by the same shard process.

Rows tested elsewhere, with the real thing they need: 15 and 18 (tests/test_serve.py: kill -9
under load, SIGTERM drain, no orphans), 16, 29-33 (tests/test_pg_source.py,
tests/test_pg_queue.py, tests/test_nats_source.py: shard killed mid-task, cut connections,
leases, fencing), 19 and 7 in depth (tests/test_http.py, tests/test_frontdoor.py), 20-21
(tests/test_serve.py flood and tenant limit, and the overload test below), 24 in depth
(tests/test_fetch.py), 25 (tests/test_workers.py), 34 (tests/test_procs.py), 35
(tests/test_runtime.py), 36 (bench: `shardrun bench`, scripts/load).
"""

from __future__ import annotations

import http.client
import os
import signal
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from .serve_helpers import Server

SECRET_B = "b-secret-7f3a"
SECRET_EVIL = "evil-secret-91c2"

CANARY = """export default {
  task(p, env) {
    const clean = [({}).polluted, typeof [1].map(x => x)[0],
                   JSON.parse("[1]")[0], globalThis.leaked, String.prototype.trim.toString().includes("native")];
    return { secret: env.SECRET, n: p.n, clean };
  },
  fetch(req, env) { return new Response(env.SECRET); },
};"""

EVIL = r"""export default {
  async task(p, env) {
    switch (p.fault) {
      case "loop": while (true) {}
      case "native": { const a = new Array(1e6).fill(0); for (let i = 0; i < 90000; i++) a.indexOf(1); return 0; }
      case "microtasks": for (;;) await null;
      case "oom-push": { const a = []; for (;;) a.push({ x: [1, 2, 3] }); }
      case "oom-repeat": return "x".repeat(2 ** 28).length;
      case "oom-arraybuffer": return new ArrayBuffer(2 ** 30).byteLength;
      case "recursion": { const f = (n) => f(n + 1); return f(0); }
      case "json-nested": return JSON.parse("[".repeat(1e6) + "]".repeat(1e6));
      case "big-result": return "y".repeat(12 << 20);   // over the 10 MiB output cap, under the 32 MB heap
      case "lone-surrogate": return "\ud800";
      case "never": return new Promise(() => {});
      case "async-throw": await null; throw new Error("evil's own failure");
      case "unhandled": Promise.reject(new Error("nobody listens")); return "ok";
      case "huge-op": try { await fetch("https://x.test/", { method: "POST", body: "x".repeat(8e5) }); }
                      catch (e) { return e.name; }
      case "pollute":
        Object.prototype.polluted = "evil"; Array.prototype.map = () => ["evil"]; JSON.parse = () => ["evil"];
        globalThis.leaked = env.SECRET; String.prototype.trim = () => "evil";
        return "polluted";
      case "egress": {
        const out = [];
        for (const u of ["http://169.254.169.254/latest/meta-data", "file:///etc/passwd", "http://127.0.0.1:1/",
                         "https://canary.workers.localhost.evil.test/"]) {
          try { await fetch(u); out.push("reached " + u); } catch (e) { out.push(e.code); }
        }
        return out;
      }
      case "globals": return [typeof require, typeof std, typeof os, typeof process, typeof Deno, typeof print];
      case "import": try { await import("/etc/passwd"); return "imported"; } catch (e) { return e.message; }
      case "eval-loop": eval("while (true) {}");
      case "secret-in-error": throw new Error("mine: " + env.SECRET);
    }
    return "no such fault";
  },
  fetch(req) { return new Response("y".repeat(12 << 20)); },
};"""

WORKERS = {
    "canary/index.js": CANARY,
    "canary/worker.toml": f'tenant = "tenant-b"\n[secrets]\nSECRET = "{SECRET_B}"\n',
    "evil/index.js": EVIL,
    "evil/worker.toml": f'tenant = "tenant-a"\n[secrets]\nSECRET = "{SECRET_EVIL}"\n',
    "syntax.js": "export default { task( { return 1 } }",
    "topthrow.js": "throw new Error('at the top'); export default { task() { return 1 } };",
    "toploop.js": "for (;;) {} export default { task() { return 1 } };",
    "staticimport.js": "import x from '/etc/passwd'; export default { task() { return x } };",
    "noisy/index.js": "export default { async task() { await new Promise(r => setTimeout(r, 300)); return 1; } };",
    "noisy/worker.toml": 'tenant = "tenant-noisy"\nmax_concurrency = 2\n',
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    s = Server(
        tmp_path_factory.mktemp("faults"),
        WORKERS,
        shards=1,
        limits={"cpu_ms": 200, "wall_ms": 3000, "memory_mb": 32, "grace_ms": 100},
    )
    yield s
    s.close()


def http_req(
    s: Server, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", s.http_port, timeout=30)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def canary(s: Server, n: int = 1) -> None:
    """Tenant B gets its own right answer, in a clean realm, over ZeroMQ and over HTTP."""
    r = s.client.task("canary", {"n": n}, timeout=30)
    assert r.ok, r.error
    assert r.value == {"secret": SECRET_B, "n": n, "clean": [None, "number", 1, None, True]}
    assert http_req(s, "GET", "/w/canary/") == (200, SECRET_B.encode())


def fault(s: Server, mode: str) -> Any:
    return s.client.task("evil", {"fault": mode}, timeout=30)


# row, fault mode, expected code (None: the request succeeds), does the shard process survive
ROWS = [
    ("1", "loop", "E_CPU_LIMIT", True),
    ("3", "microtasks", "E_CPU_LIMIT", True),
    ("4", "oom-push", "E_OOM", True),
    ("4", "oom-repeat", "E_OOM", True),
    ("4", "oom-arraybuffer", "E_OOM", True),
    ("5", "recursion", "E_STACK", True),
    ("5", "json-nested", "E_STACK", True),
    ("6", "big-result", "E_RESPONSE_TOO_LARGE", True),
    ("9", "lone-surrogate", "E_BAD_OUTPUT", True),
    ("12", "never", "E_NEVER_RESPONDS", True),
    ("13", "async-throw", "E_SCRIPT", True),
    ("27", "eval-loop", "E_CPU_LIMIT", True),
    ("2", "native", "E_CPU_LIMIT", False),
]


@pytest.mark.parametrize(("row", "mode", "code", "survives"), ROWS, ids=[f"row{r[0]}-{r[1]}" for r in ROWS])
def test_request_faults(server: Server, row: str, mode: str, code: str, survives: bool) -> None:
    pids = server.shard_pids()
    t0 = time.monotonic()
    r = fault(server, mode)
    took = time.monotonic() - t0
    assert not r.ok and r.error is not None and r.error.code == code, (r.error, took)
    assert SECRET_B not in r.error.message + r.error.stack
    if code == "E_CPU_LIMIT":
        assert took < 0.2 + 1.5, took  # budget + grace, with room for a noisy machine
    if code == "E_NEVER_RESPONDS":
        assert took < 1.0  # at once, not at the 3 s deadline
    canary(server)
    if survives:
        assert server.shard_pids() == pids  # the same process served the canary
    assert fault(server, "globals").value == ["undefined"] * 6  # and the tenant itself works again


def test_row13_unhandled_rejection_and_row14_host_misuse(server: Server) -> None:
    assert fault(server, "unhandled").value == "ok"
    assert fault(server, "huge-op").value == "RangeError"
    canary(server)


def test_row22_pollution_stays_in_its_tenant(server: Server) -> None:
    assert fault(server, "pollute").value == "polluted"
    canary(server)  # clean realm: nothing of tenant A's changes


def test_row23_errors_carry_only_the_callers_data(server: Server) -> None:
    r = fault(server, "secret-in-error")
    assert r.error is not None and SECRET_EVIL in r.error.message and SECRET_B not in r.error.message
    canary(server)
    log = (server.dir / "serve.log").read_text(errors="replace")
    assert SECRET_B not in log  # secrets never logged (the canary does not log them)


def test_row24_26_no_way_out(server: Server) -> None:
    assert fault(server, "egress").value == ["E_EGRESS_DENIED"] * 4
    assert fault(server, "globals").value == ["undefined"] * 6
    assert fault(server, "import").value.endswith("absolute import paths are not allowed")
    r = server.client.task("staticimport", {})
    assert r.error is not None and "absolute import paths are not allowed" in r.error.message
    canary(server)


def test_row6_huge_http_response(server: Server) -> None:
    status, body = http_req(server, "GET", "/w/evil/")
    assert status == 502 and orjson.loads(body)["error"]["code"] == "E_RESPONSE_TOO_LARGE"
    canary(server)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"a": 1, "a": 2}', 400, "E_BAD_JSON"),
        (b"NaN", 400, "E_BAD_JSON"),
        (b"1e400", 400, "E_BAD_JSON"),
        (b"[" * 100 + b"]" * 100, 400, "E_BAD_JSON"),
        (b'{"a": "\xff\xfe"}', 400, "E_BAD_JSON"),
        (b'{"a": "\xc0\xaf"}', 400, "E_BAD_JSON"),
        (b'{"a": 1', 400, "E_BAD_JSON"),
    ],
)
def test_rows5_8_9_bad_payloads_never_reach_a_shard(server: Server, body: bytes, status: int, code: str) -> None:
    accepted = server.status()["counts"]["accepted"]  # requests the routing table took in
    got, out = http_req(server, "POST", "/_shardrun/tasks/canary", body, {"content-type": "application/json"})
    assert got == status and orjson.loads(out)["error"]["code"] == code
    assert server.status()["counts"]["accepted"] == accepted
    canary(server)


def test_row7_huge_body_and_headers(server: Server) -> None:
    got, _out = http_req(server, "POST", "/w/canary/", b"x", {"content-length": str(10 << 20)})
    assert got == 413
    got, _ = http_req(server, "GET", "/w/canary/", None, {"x-big": "h" * (20 << 10)})
    assert got == 431
    canary(server)


@pytest.mark.parametrize(
    ("worker", "code", "status"),
    [
        ("nope", "E_NOT_FOUND", 404),
        ("syntax", "E_COMPILE", 500),
        ("topthrow", "E_SCRIPT", 500),
        ("toploop", "E_CPU_LIMIT", 504),
    ],
)
def test_rows10_11_unknown_and_broken_scripts(server: Server, worker: str, code: str, status: int) -> None:
    r = server.client.task(worker, {})
    assert r.error is not None and r.error.code == code
    got, out = http_req(server, "GET", f"/w/{worker}/")
    assert got == status and orjson.loads(out)["error"]["code"] == code
    canary(server)


@pytest.mark.parametrize("path", ["/w/..%2f..%2fetc%2fpasswd/", "/w/%2e%2e/", "/w/Evil/", "/w/a%00b/"])
def test_row25_bad_names(server: Server, path: str) -> None:
    got, out = http_req(server, "GET", path)
    assert got in (400, 404) and orjson.loads(out)["error"]["code"] in ("E_BAD_NAME", "E_NOT_FOUND")
    canary(server)


def test_row15_shard_killed_mid_request(server: Server) -> None:
    rid = server.client.send("evil", "task", {"fault": "microtasks"})  # busy for its 200 ms budget
    time.sleep(0.05)
    os.kill(server.shard_pids()[0], signal.SIGKILL)
    r = server.client.wait(rid, timeout=10)
    assert not r.ok and r.error is not None and r.error.code in ("E_SHARD_LOST", "E_CPU_LIMIT")
    server.wait_ready()
    canary(server)


def test_row21_noisy_tenant_gets_429_and_others_do_not(server: Server) -> None:
    ids = [server.client.send("noisy", "task", {}) for _ in range(6)]
    canary(server)
    codes = sorted((r.error.code if r.error else "ok") for r in (server.client.wait(i, timeout=10) for i in ids))
    assert codes.count("ok") == 2 and codes.count("E_TENANT_LIMIT") == 4


def test_row28_timing_stance_is_documented() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "Timing side channels" in readme and "SharedArrayBuffer" in readme


def test_row4_24_shards_run_under_resource_limits(server: Server) -> None:
    pid = server.shard_pids()[0]
    limits = {line[:26].strip(): line[26:].split() for line in Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]}
    from shardrun.server.cache import address_limit_mb
    from shardrun.settings import ServeSettings

    cap = address_limit_mb(ServeSettings(shards=1)) << 20  # serve.shard_max_address_mb's default: the memory / shards
    assert cap >= 4096 << 20 and limits["Max address space"][:2] == [str(cap)] * 2
    assert limits["Max open files"][:2] == ["1024", "1024"]  # serve.shard_max_open_files
    assert "NoNewPrivs:\t1" in Path(f"/proc/{pid}/status").read_text()


def _frames(types: list[bytes]) -> Any:
    from hypothesis import strategies as st

    scalar = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    )
    value = st.recursive(
        scalar,
        lambda v: st.one_of(st.lists(v, max_size=4), st.dictionaries(st.text(max_size=8), v, max_size=4)),
        max_leaves=8,
    )
    keys = st.sampled_from(
        [
            "id",
            "worker",
            "kind",
            "arg",
            "tenant",
            "depth",
            "wall_ms",
            "admin",
            "ok",
            "value",
            "error",
            "reason",
            "shard",
            "pid",
        ]
    )
    body = st.one_of(
        st.binary(max_size=64),
        st.dictionaries(keys, st.one_of(value, st.sampled_from(["canary", "evil", "task", "fetch"])), max_size=6).map(
            orjson.dumps
        ),
    )
    good = st.tuples(st.sampled_from(types), st.lists(body, min_size=1, max_size=3)).map(
        lambda t: [b"SR1", t[0], *t[1]]
    )
    junk = st.lists(st.binary(max_size=32), min_size=1, max_size=4)
    return st.lists(st.one_of(good, junk), min_size=1, max_size=8)


def test_fuzzed_frames_against_the_router_and_its_shard_side(server: Server) -> None:
    """Random frames at the client endpoint, and at the backend as a rogue peer: only defined
    errors come back, the router and the shard stay up, the canary is served."""
    import zmq
    from hypothesis import HealthCheck, given, settings

    pids = server.shard_pids()
    ctx = zmq.Context()
    front = ctx.socket(zmq.DEALER)
    back = ctx.socket(zmq.DEALER)
    for sock, where in ((front, server.endpoint), (back, f"ipc://{server.dir / 'run' / 'backend.ipc'}")):
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(where)
    codes: set[str] = set()

    # The backend trusts its peers (an ipc socket in a private runtime dir): a rogue peer is fuzzed
    # with replies, disconnects and junk, not with READY frames that claim a shard slot.
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_frames([b"\x02", b"\x04", b"\x09"]), _frames([b"\x03", b"\x05", b"\x07"]))
    def storm(client_msgs: list[list[bytes]], peer_msgs: list[list[bytes]]) -> None:
        for m in client_msgs:
            front.send_multipart(m)
        for m in peer_msgs:
            back.send_multipart(m)
        while front.poll(20):
            for body in front.recv_multipart()[2:]:
                err = orjson.loads(body).get("error")
                if err:
                    codes.add(err["code"])

    try:
        storm()
    finally:
        front.close()
        back.close()
        ctx.term()
    assert codes <= {
        "E_BAD_REQUEST",
        "E_BAD_NAME",
        "E_NOT_FOUND",
        "E_BAD_JSON",
        "E_SCRIPT",
        "E_NO_HANDLER",
        "E_CPU_LIMIT",
        "E_OOM",
        "E_STACK",
        "E_BAD_OUTPUT",
        "E_NEVER_RESPONDS",
        "E_TENANT_LIMIT",
        "E_RESPONSE_TOO_LARGE",
        "E_COMPILE",
        "E_WALL_TIMEOUT",
        "E_SHARD_LOST",
        "E_OVERLOADED",
    }, codes
    canary(server)
    assert server.shard_pids() == pids  # the shard process survived it all
