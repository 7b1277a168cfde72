"""The HTTP front door of a real `shardrun serve`: routing, bodies, error mapping, admin paths."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from .serve_helpers import Server

pytestmark = pytest.mark.timeout(120)

ECHO = """export default {
  async fetch(req) {
    const body = new Uint8Array(await req.arrayBuffer());
    return new Response(body.reverse(), { status: 201, statusText: 'Made', headers: [
      ['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-url', req.url], ['x-method', req.method], ['x-h', req.headers.get('x-h') ?? '']] });
  },
  task(p) { return { got: p } },
}"""
THROWS = "export default { fetch() { throw new Error('nope') }, task() { throw new Error('nope') } }"
SLOW = "export default { fetch() { return new Promise(() => { setInterval(() => {}, 50) }) } }"
TALK = "export default { fetch() { console.log('said by talk'); return new Response('ok') } }"
OWNID = "export default { fetch() { return new Response('ok', { headers: { 'X-Request-Id': 'from-the-worker' } }) } }"
QUIET = "export default { fetch() { console.log('said by quiet'); return new Response('ok') } }"
REJECTS = (
    "export default { async fetch() { Promise.reject(new Error('a')); Promise.reject(2); return new Response('ok') } }"
)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(
        tmp_path_factory.mktemp("fd"),
        {
            "echo.js": ECHO,
            "throws.js": THROWS,
            "slow.js": SLOW,
            "talk.js": TALK,
            "ownid.js": OWNID,
            "quiet/index.js": QUIET,
            "quiet/worker.toml": "console = false\n",
            "rejects/index.js": REJECTS,
            "rejects/worker.toml": 'tenant = "user-r"\n',
        },
        shards=2,
        limits={"wall_ms": 500},
        http_max_body_bytes=100_000,
    )
    yield s
    s.close()


def request(srv, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def test_host_routing_binary_body_status_and_repeated_headers(srv):
    body = bytes(range(256)) * 4
    r, data = request(srv, "POST", "/some/path?q=1", body, {"Host": "echo.workers.localhost", "X-H": "v"})
    assert (r.status, r.reason) == (201, "Made")
    assert data == body[::-1]
    assert r.headers.get_all("set-cookie") == ["a=1", "b=2"]
    assert r.headers["x-url"] == "http://echo.workers.localhost/some/path?q=1"
    assert r.headers["x-method"] == "POST" and r.headers["x-h"] == "v"
    assert len(r.headers["x-request-id"]) == 32


def test_path_routing_strips_the_prefix_and_keeps_the_request_id(srv):
    r, _ = request(srv, "GET", "/w/echo/inner/x", headers={"X-Request-Id": "abc-123"})
    assert r.status == 201 and r.headers["x-url"].endswith("/inner/x") and r.headers["x-request-id"] == "abc-123"


def test_a_worker_setting_its_own_request_id_keeps_it_and_there_is_one(srv):
    r, data = request(srv, "GET", "/w/ownid/", headers={"X-Request-Id": "abc-123"})
    assert (r.status, data) == (200, b"ok")
    assert r.headers.get_all("x-request-id") == ["from-the-worker"]


def test_tasks_over_http(srv):
    r, data = request(srv, "POST", "/_shardrun/tasks/echo", b'{"n": [1, 2]}', {"Content-Type": "application/json"})
    assert r.status == 200 and json.loads(data) == {"got": {"n": [1, 2]}}


@pytest.mark.parametrize(
    "method,path,body,status,code",
    [
        ("GET", "/w/nope/", None, 404, "E_NOT_FOUND"),
        ("GET", "/nothing-here", None, 404, "E_NOT_FOUND"),
        ("GET", "/w/Bad..Name/", None, 400, "E_BAD_NAME"),
        ("POST", "/_shardrun/tasks/echo", b'{"a": NaN}', 400, "E_BAD_JSON"),
        ("POST", "/_shardrun/tasks/echo", b"[" * 100 + b"]" * 100, 400, "E_BAD_JSON"),
        ("GET", "/w/throws/", None, 500, "E_SCRIPT"),
        ("GET", "/w/slow/", None, 504, "E_WALL_TIMEOUT"),
        ("POST", "/w/echo/", b"x" * 200_000, 413, "E_BODY_TOO_LARGE"),
    ],
)
def test_error_mapping(srv, method, path, body, status, code):
    r, data = request(srv, method, path, body)
    assert r.status == status, data
    err = json.loads(data)["error"]
    assert err["code"] == code and err["message"]


def test_bad_json_never_reaches_a_shard(srv):
    before = srv.status()["counts"].get("accepted", 0)
    request(srv, "POST", "/_shardrun/tasks/echo", b"{bad")
    assert srv.status()["counts"].get("accepted", 0) == before


def test_health_and_stats(srv):
    r, data = request(srv, "GET", "/_shardrun/health")
    assert r.status == 200 and json.loads(data)["ready"] is True
    r, data = request(srv, "GET", "/_shardrun/stats")
    assert r.status == 200 and len(json.loads(data)["shards"]) == 2


def test_keep_alive_and_pipelining_through_the_server(srv):
    s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=10)
    s.sendall(b"".join(b"GET /w/echo/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % i for i in range(10)))
    data, end = b"", time.monotonic() + 10
    while data.count(b"HTTP/1.1 201") < 10 and time.monotonic() < end:
        data += s.recv(65536)
    s.close()
    urls = [line.split(b": ")[1] for line in data.split(b"\r\n") if line.startswith(b"x-url")]
    assert [u.rsplit(b"/", 1)[1] for u in urls] == [b"%d" % i for i in range(10)]


def test_a_slowloris_client_does_not_starve_others(srv):
    slow = [socket.create_connection(("127.0.0.1", srv.http_port), timeout=10) for _ in range(20)]
    for s in slow:
        s.sendall(b"GET /w/echo/ HTTP/1.1\r\nHo")
    t0 = time.monotonic()
    r, _ = request(srv, "GET", "/w/echo/fast")
    assert r.status == 201 and time.monotonic() - t0 < 2
    for s in slow:
        s.close()


def test_structured_access_and_console_logs(srv):
    request(srv, "GET", "/w/talk/x", headers={"X-Request-Id": "log-test-1"})
    request(srv, "GET", "/w/quiet/x")
    time.sleep(0.3)
    lines = [json.loads(x) for x in srv.logs().splitlines() if x.startswith("{")]
    access = [x for x in lines if x.get("event") == "request" and x.get("request_id") == "log-test-1"]
    assert access and access[0]["worker"] == "talk" and access[0]["tenant"] == "talk" and access[0]["status"] == 200
    assert access[0]["role"] == "router" and isinstance(access[0]["shard"], int) and access[0]["duration_ms"] > 0
    said = [x for x in lines if x.get("event") == "console" and x.get("text") == "said by talk"]
    assert (
        said
        and said[0]["request_id"] == "log-test-1"
        and said[0]["tenant"] == "talk"
        and said[0]["role"].startswith("shard")
    )
    assert not any(x.get("text") == "said by quiet" for x in lines)  # console = false in its worker.toml


def test_prometheus_metrics_from_every_process(srv):
    for _ in range(3):
        request(srv, "GET", "/w/echo/m")
        assert request(srv, "GET", "/w/rejects/")[0].status == 200  # rejected after responding: logged
    time.sleep(0.3)  # shard counters are published with the heartbeat
    r, data = request(srv, "GET", "/metrics")
    text = data.decode()
    assert r.status == 200 and r.headers["content-type"].startswith("text/plain")
    assert 'shardrun_http_requests_total{status="201",worker="echo"}' in text
    assert "shardrun_http_request_seconds_bucket" in text and "shardrun_requests_inflight" in text
    hits = sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("shardrun_cache_hits_total"))
    assert hits >= 2
    assert text.count("shardrun_process_rss_bytes{") >= 3  # router and both shards
    assert 'shardrun_unhandled_rejections_total{tenant="user-r"} 6.0' in text  # by tenant, not worker


def test_a_worker_host_owns_its_metrics_path(srv):
    r, _ = request(srv, "GET", "/metrics", headers={"Host": "echo.workers.localhost"})
    assert r.status == 201  # routed to the worker, not the admin endpoint


def test_admin_port_keeps_admin_paths_off_the_main_port(tmp_path):
    from .serve_helpers import free_port

    admin = free_port()
    s = Server(tmp_path, {"echo.js": ECHO}, shards=1, admin_port=admin)
    try:
        r, _ = request(s, "GET", "/_shardrun/health")
        assert r.status == 404
        c = http.client.HTTPConnection("127.0.0.1", admin, timeout=10)
        c.request("GET", "/_shardrun/health")
        assert c.getresponse().status == 200
        c.close()
        r, _ = request(s, "GET", "/w/echo/x")
        assert r.status == 201
    finally:
        s.close()


def test_connections_per_address_are_capped(tmp_path):
    s = Server(tmp_path, {"echo.js": ECHO}, shards=1, http_max_connections_per_ip=5)
    held = []
    try:
        for _ in range(5):
            c = socket.create_connection(("127.0.0.1", s.http_port), timeout=5)
            c.sendall(b"GET /w/echo/ HTTP/1.1\r\nHost: x\r\n\r\n")
            c.recv(65536)  # served; the connection stays open (keep-alive)
            held.append(c)
        r, data = request(s, "GET", "/w/echo/")
        assert r.status == 503 and json.loads(data)["error"]["code"] == "E_OVERLOADED"
        held.pop().close()
        time.sleep(0.2)
        r, _ = request(s, "GET", "/w/echo/")
        assert r.status == 201
    finally:
        for c in held:
            c.close()
        s.close()


@pytest.mark.parametrize("mode", ["closed", "open"])
def test_loadtest_over_http_and_zeromq(srv, mode):
    from .conftest import run_cli

    for target in (srv.http, srv.endpoint):
        p = run_cli(
            "loadtest",
            target,
            "--workers",
            "echo",
            "--mode",
            mode,
            "--concurrency",
            "4",
            "--rate",
            "200",
            "--seconds",
            "1",
            timeout=60,
        )
        assert p.returncode == 0, p.stderr
        out = json.loads(p.stdout)
        assert out["requests"] > 20 and out["p50_ms"] is not None and out["p99_ms"] >= out["p50_ms"]
        assert set(out["codes"]) <= {"201", "ok", "201 "}, out["codes"]


def test_loadtest_refuses_other_hosts():
    from .conftest import run_cli

    p = run_cli("loadtest", "http://10.0.0.1:80", "--seconds", "1")
    assert p.returncode == 2 and b"loopback" in p.stderr


def test_generated_request_ids_are_unique_and_uuid_shaped():
    from shardrun.server.frontdoor import REQUEST_ID, RequestIds

    a, b = RequestIds(), RequestIds()
    ids = [a() for _ in range(1000)] + [b() for _ in range(1000)]
    assert len(set(ids)) == 2000
    assert all(len(i) == 32 and REQUEST_ID.fullmatch(i) and int(i, 16) >= 0 for i in ids)


def test_request_paths_are_quoted_only_where_needed():
    from urllib.parse import quote

    from shardrun.server.frontdoor import PLAIN, PLAIN_QUERY, URL_SAFE, quoted

    for s in ["/", "/a/b.c", "/%41~x", "/ü", "/a b", '/"<>', "/a?b", "/\x7f", "/é#"]:
        assert quoted(s, PLAIN, URL_SAFE) == quote(s, safe=URL_SAFE, encoding="latin-1")
        assert quoted(s, PLAIN_QUERY, URL_SAFE + "?") == quote(s, safe=URL_SAFE + "?", encoding="latin-1")
