"""Static assets through real HTTP on a running `shardrun serve`: files before fetch, 304, ranges, HEAD, 404s."""

from __future__ import annotations

import http.client
import time

import pytest

from .serve_helpers import Server

SITE = """export default { fetch(req) {
  return new Response("from the worker: " + new URL(req.url).pathname, { headers: { "x-by": "worker" } })
} }"""
TOML = '[assets]\ndirectory = "public"\n'
DATA = "0123456789abcdefghij" * 50
SECRET = "API_KEY"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(
        tmp_path_factory.mktemp("assets"),
        {
            "site/index.js": SITE,
            "site/worker.toml": TOML + f'[secrets]\n{SECRET} = "k-123"\n',
            "site/public/index.html": "<h1>home</h1>",
            "site/public/hello.txt": "hello file",
            "site/public/data.txt": DATA,
            "site/public/docs/index.html": "<p>docs</p>",
            "files/index.js": "export default {}",
            "files/worker.toml": TOML + 'not_found_handling = "404-page"\n',
            "files/public/a.css": "a{}",
            "files/public/404.html": "<p>no such page</p>",
            "first/index.js": SITE,
            "first/worker.toml": TOML + "run_worker_first = true\n",
            "first/public/hello.txt": "hello file",
        },
        shards=1,
    )
    yield s
    s.close()


def request(srv, method, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=10)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def test_a_file_is_served_before_fetch_and_other_paths_reach_the_worker(srv):
    r, body = request(srv, "GET", "/w/site/hello.txt")
    assert r.status == 200 and body == b"hello file"
    assert r.getheader("content-type") == "text/plain; charset=utf-8"
    assert r.getheader("etag") and r.getheader("last-modified") and r.getheader("x-request-id")
    assert r.getheader("x-by") is None
    r, body = request(srv, "GET", "/w/site/api/users")
    assert r.status == 200 and body == b"from the worker: /api/users" and r.getheader("x-by") == "worker"
    r, body = request(srv, "POST", "/w/site/hello.txt")  # not GET/HEAD: the worker's
    assert body == b"from the worker: /hello.txt"
    r, body = request(srv, "GET", "/", {"Host": "site.workers.localhost"})
    assert r.status == 200 and body == b"<h1>home</h1>"


def test_conditional_requests_ranges_and_head(srv):
    r, _ = request(srv, "GET", "/w/site/data.txt")
    etag, modified = r.getheader("etag"), r.getheader("last-modified")
    r, body = request(srv, "GET", "/w/site/data.txt", {"If-None-Match": etag})
    assert r.status == 304 and body == b""
    r, body = request(srv, "GET", "/w/site/data.txt", {"If-Modified-Since": modified})
    assert r.status == 304
    r, body = request(srv, "GET", "/w/site/data.txt", {"Range": "bytes=10-19"})
    assert r.status == 206 and body == DATA[10:20].encode()
    assert r.getheader("content-range") == f"bytes 10-19/{len(DATA)}"
    r, body = request(srv, "GET", "/w/site/data.txt", {"Range": "bytes=99999-"})
    assert r.status == 416 and r.getheader("content-range") == f"bytes */{len(DATA)}"
    r, body = request(srv, "HEAD", "/w/site/data.txt")
    assert r.status == 200 and body == b"" and r.getheader("content-length") == str(len(DATA))


def test_redirects_keep_the_mount(srv):
    r, _ = request(srv, "GET", "/w/site/docs?x=1")
    assert r.status == 307 and r.getheader("location") == "/w/site/docs/?x=1"
    r, _ = request(srv, "GET", "/docs", {"Host": "site.workers.localhost"})
    assert r.status == 307 and r.getheader("location") == "/docs/"
    r, body = request(srv, "GET", "/w/site/docs/")
    assert r.status == 200 and body == b"<p>docs</p>"


@pytest.mark.parametrize(
    "path",
    [
        "/w/site/../site/worker.toml",
        "/w/site/%2e%2e/worker.toml",
        "/w/site/..%2fworker.toml",
        "/w/site/%5c..%5cworker.toml",
    ],
)
def test_no_path_leaves_the_directory(srv, path):
    r, body = request(srv, "GET", path)
    assert r.status == 200
    assert SECRET.encode() not in body and b"k-123" not in body
    assert body.startswith(b"from the worker: ")  # not a file: the worker's to answer


def test_a_worker_without_fetch_gets_404s(srv):
    r, body = request(srv, "GET", "/w/files/a.css")
    assert r.status == 200 and body == b"a{}"
    accepted = []
    for _ in range(3):  # the first learns there is no fetch handler from the shard; the next do not ask
        r, body = request(srv, "GET", "/w/files/missing/page")
        assert r.status == 404 and body == b"<p>no such page</p>"
        accepted.append(srv.status()["counts"].get("accepted", 0))
    assert accepted[0] == accepted[1] == accepted[2]
    r, body = request(srv, "DELETE", "/w/files/a.css")
    assert r.status == 404


def test_run_worker_first_sends_every_request_to_fetch(srv):
    r, body = request(srv, "GET", "/w/first/hello.txt")
    assert r.status == 200 and body == b"from the worker: /hello.txt"


def test_the_bundled_site_example(tmp_path):
    """configs/workers/site: files, its fetch for the rest, and its scheduled handler."""
    from .serve_helpers import ROOT

    site = ROOT / "configs" / "workers" / "site"
    files = {f"site/{p.relative_to(site)}": p.read_text() for p in site.rglob("*") if p.is_file()}
    srv = Server(tmp_path, files, shards=1, tables={"bindings": {"data_dir": str(tmp_path / "data")}})
    try:
        host = {"Host": "site.workers.localhost"}
        r, body = request(srv, "GET", "/", host)
        assert r.status == 200 and b"Served from public/" in body
        r, body = request(srv, "GET", "/about", host)
        assert r.status == 200 and b"About" in body
        r, body = request(srv, "GET", "/css/site.css", host)
        assert r.status == 200 and r.getheader("content-type") == "text/css; charset=utf-8"
        r, body = request(srv, "GET", "/api/time", host)
        assert r.status == 200 and b"hello from the site worker" in body
        r, body = request(srv, "GET", "/worker.toml", host)
        assert r.status == 404 and b"GREETING" not in body and b"No such page" in body  # its 404.html, via env.ASSETS
        assert r.getheader("content-type") == "text/html; charset=utf-8"
        reply = srv.client.call("site", "scheduled", {"cron": "*/5 * * * *", "scheduledTime": 0, "type": "scheduled"})
        assert reply.ok, reply.error
        end = time.monotonic() + 5
        while not any("cron */5 * * * * fired for 1970-01-01" in e.get("text", "") for e in srv.events("console")):
            assert time.monotonic() < end, srv.logs()
            time.sleep(0.05)
    finally:
        srv.close()
