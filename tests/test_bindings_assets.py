"""env.ASSETS.fetch(request): the assets binding, in-process against real files and through a real serve."""

from __future__ import annotations

import http.client
import os
from pathlib import Path

import pytest

from shardrun.errors import ShardrunError

from .bindings import Node, close_all
from .serve_helpers import Server

ASSETS = '[assets]\ndirectory = "public"\nbinding = "ASSETS"\n'


@pytest.fixture(autouse=True)
def close_nodes() -> object:
    yield
    close_all()


def task(body: str) -> str:
    return "export default { async task(p, env) {\n" + body + "\n} }"


def site(tmp_path: Path, js: str, toml: str = ASSETS) -> Node:
    node = Node(tmp_path, {"site": (js, toml)})
    pub = tmp_path / "workers" / "site" / "public"
    (pub / "docs").mkdir(parents=True)
    (pub / "hello.txt").write_text("hello file")
    (pub / "docs" / "index.html").write_text("<p>docs</p>")
    (tmp_path / "workers" / "site" / "secret.txt").write_text("SECRET")
    return node


def test_fetch_returns_the_file_as_a_response(tmp_path):
    node = site(
        tmp_path,
        task("""
        const r = await env.ASSETS.fetch("http://x/hello.txt");
        const etag = r.headers.get("etag");
        const again = await env.ASSETS.fetch(new Request("http://x/hello.txt", { headers: { "If-None-Match": etag } }));
        const part = await env.ASSETS.fetch("http://x/hello.txt", { headers: { Range: "bytes=0-4" } });
        const head = await env.ASSETS.fetch("http://x/hello.txt", { method: "HEAD" });
        const redirect = await env.ASSETS.fetch("http://x/docs");
        const missing = await env.ASSETS.fetch("http://x/nope");
        const post = await env.ASSETS.fetch("http://x/hello.txt", { method: "POST", body: "x" });
        return {
          status: r.status, text: await r.text(), type: r.headers.get("content-type"), etag: etag.length > 2,
          notModified: again.status, part: [part.status, await part.text(), part.headers.get("content-range")],
          head: [head.status, await head.text()], redirect: [redirect.status, redirect.headers.get("location")],
          missing: missing.status, post: [post.status, post.headers.get("allow")],
        };
        """),
    )
    assert node.value("site") == {
        "status": 200,
        "text": "hello file",
        "type": "text/plain; charset=utf-8",
        "etag": True,
        "notModified": 304,
        "part": [206, "hello", "bytes 0-4/10"],
        "head": [200, ""],
        "redirect": [307, "/docs/"],
        "missing": 404,
        "post": [405, "GET, HEAD"],
    }


def test_no_path_leaves_the_directory_through_the_binding(tmp_path):
    node = site(
        tmp_path,
        task("""
        const out = [];
        for (const p of ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%5c..%5csecret.txt", "/link.txt"]) {
          const r = await env.ASSETS.fetch("http://x" + p);
          out.push([r.status, (await r.text()).includes("SECRET")]);
        }
        return out;
        """),
    )
    os.symlink(tmp_path / "workers" / "site" / "secret.txt", tmp_path / "workers" / "site" / "public" / "link.txt")
    assert node.value("site") == [[404, False]] * 5


def test_a_file_over_the_workers_output_limit_is_E_RESPONSE_TOO_LARGE(tmp_path):
    node = site(
        tmp_path,
        task("try { await env.ASSETS.fetch('http://x/big.bin'); } catch (e) { return [e.code, e.message]; }"),
        ASSETS + "[limits]\nmax_output_bytes = 1000\n",
    )
    (tmp_path / "workers" / "site" / "public" / "big.bin").write_bytes(b"x" * 5000)
    code, message = node.value("site")
    assert code == "E_RESPONSE_TOO_LARGE" and "big.bin" in message and "1000" in message


def test_the_binding_counts_against_its_caps(tmp_path):
    node = site(
        tmp_path,
        task("""
        let n = 0;
        try { for (;;) { await env.ASSETS.fetch("http://x/hello.txt"); n++; } } catch (e) { return [n, e.code]; }
        """),
        ASSETS + "[bindings.caps.assets]\ncalls = 3\n",
    )
    assert node.value("site") == [3, "E_BINDING_LIMIT"]


def test_no_binding_name_no_env_entry(tmp_path):
    node = site(tmp_path, task("return typeof env.ASSETS"), '[assets]\ndirectory = "public"\n')
    assert node.value("site") == "undefined"


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        (ASSETS + '[env]\nASSETS = "x"\n', "assets.binding: 'ASSETS' is also a name in [env] or [secrets]"),
        (ASSETS + '[[kv_namespaces]]\nbinding = "ASSETS"\nid = "a"\n', "is already bound by [[kv_namespaces]]"),
        ('[assets]\ndirectory = "public"\nbinding = "1x"\n', "assets.binding"),
    ],
)
def test_a_clashing_binding_name_is_E_WORKER_CONFIG(tmp_path, toml, words):
    node = site(tmp_path, task("return 1"), toml)
    with pytest.raises(ShardrunError) as e:
        node.registry.get("site")
    assert e.value.code == "E_WORKER_CONFIG" and words in e.value.message


FIRST = """export default { async fetch(request, env) {
  const url = new URL(request.url);
  if (url.pathname.startsWith("/api/")) return new Response("api " + url.pathname);
  const r = await env.ASSETS.fetch(request);
  const out = new Response(r.body, r);
  out.headers.set("x-served-by", "worker");
  return out;
} }"""


def test_run_worker_first_serves_files_through_env_assets_over_http(tmp_path):
    srv = Server(
        tmp_path,
        {
            "site/index.js": FIRST,
            "site/worker.toml": ASSETS + "run_worker_first = true\n",
            "site/public/hello.txt": "hello file",
        },
        shards=1,
        tables={"bindings": {"data_dir": str(tmp_path / "data")}},
    )
    try:

        def get(path: str, headers: dict[str, str] | None = None):
            c = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=10)
            c.request("GET", path, headers=headers or {})
            r = c.getresponse()
            body = r.read()
            c.close()
            return r, body

        r, body = get("/hello.txt", {"Host": "site.workers.localhost"})
        assert r.status == 200 and body == b"hello file" and r.getheader("x-served-by") == "worker"
        etag = r.getheader("etag")
        r, body = get("/hello.txt", {"Host": "site.workers.localhost", "If-None-Match": etag})
        assert r.status == 304 and body == b""
        r, body = get("/api/x", {"Host": "site.workers.localhost"})
        assert body == b"api /api/x"
        r, body = get("/missing", {"Host": "site.workers.localhost"})
        assert r.status == 404 and r.getheader("x-served-by") == "worker"
    finally:
        srv.close()
