"""fetch() in a real server: shard egress, per-worker policy and env, worker-to-worker calls, loops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from shardrun.egress.policy import DEFAULT_DENY, LOOPBACK

from .origin import Origin
from .serve_helpers import Server

A = """export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    if (u.pathname === "/external") {
      const r = await fetch(env.ORIGIN + "/hello");
      return new Response(await r.text(), {status: r.status});
    }
    const r = await fetch("https://b.workers.localhost/hi?x=1", {method: "POST", body: "from a"});
    return Response.json({status: r.status, b: await r.json(), mine: Object.keys(env).sort()});
  }
};"""
A_TOML = """tenant = "tenant-a"
[env]
A_VAR = "a"
ORIGIN = "{origin}"
[secrets]
A_SECRET = "s3cret-a"
[fetch]
allow = ["{allow}"]
"""
B = """export default {
  async fetch(req, env) {
    let external = null;
    try { await fetch(env.ORIGIN + "/hello"); } catch (e) { external = e.code; }
    return Response.json({url: req.url, method: req.method, body: await req.text(), keys: Object.keys(env).sort(),
                          values: Object.values(env), external});
  }
};"""
B_TOML = """tenant = "tenant-b"
[env]
B_VAR = "b"
ORIGIN = "{origin}"
"""
LOOP = """export default {
  async fetch(req) {
    const r = await fetch("https://loop.workers.localhost/");
    return new Response("d" + await r.text(), {status: r.status});
  }
};"""


@pytest.fixture(scope="module")
def origin() -> Any:
    o = Origin()
    yield o
    o.close()


@pytest.fixture
def server(tmp_path: Path, origin: Origin) -> Any:
    s = Server(
        tmp_path,
        {
            "a/index.js": A,
            "a/worker.toml": A_TOML.format(origin=origin.base, allow=origin.allow),
            "b/index.js": B,
            "b/worker.toml": B_TOML.format(origin=origin.base),
            "loop.js": LOOP,
        },
        tables={"egress": {"deny": [d for d in DEFAULT_DENY if d not in LOOPBACK]}},
    )  # the origin is on loopback
    yield s
    s.close()


def test_worker_to_worker_call_keeps_each_workers_env(server: Server) -> None:
    r = server.client.fetch("a", "GET", "/")
    assert r.ok, r.error
    out = orjson.loads(r.value.body)
    assert out["status"] == 200 and out["mine"] == ["A_SECRET", "A_VAR", "ORIGIN"]
    b = out["b"]
    assert b["url"] == "https://b.workers.localhost/hi?x=1" and (b["method"], b["body"]) == ("POST", "from a")
    assert b["keys"] == ["B_VAR", "ORIGIN"] and "s3cret-a" not in b["values"]
    assert b["external"] == "E_EGRESS_DENIED"  # b's policy: nothing allowed


def test_external_fetch_from_a_shard(server: Server, origin: Origin) -> None:
    before = origin.hits
    r = server.client.fetch("a", "GET", "/external")
    assert r.ok and (r.value.status, r.value.body) == (200, b"hello") and origin.hits == before + 1


def test_a_worker_that_calls_itself_stops_at_the_depth_limit(server: Server) -> None:
    r = server.client.fetch("loop", "GET", "/")
    assert r.ok, r.error
    body = r.value.body.decode()
    assert r.value.status == 508 and body.startswith("d" * 8 + "{") and "E_LOOP_LIMIT" in body
    assert server.client.fetch("loop", "GET", "/").value.status == 508  # and the server is fine after


def test_a_fetch_argument_of_another_shape_is_refused_and_the_isolate_serves_on(server: Server) -> None:
    assert server.client.fetch("b", "GET", "/").ok  # b's isolate is warm
    for arg in (
        {"url": 5, "method": "GET", "headers": []},
        "GET /",
        {"method": "GET", "url": "http://b/", "headers": {}},
    ):
        r = server.client.call("b", "fetch", arg)
        assert not r.ok and r.error is not None and r.error.code == "E_BAD_REQUEST", r
    r = server.client.fetch("b", "POST", "/after", body=b"still here")
    assert r.ok and orjson.loads(r.value.body)["body"] == "still here"
