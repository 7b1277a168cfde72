"""Hostile tenants against fetch(): shared cookies, forged host-operation arguments, and the
operator's egress controls that no worker.toml can open."""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
import zmq
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from shardrun import protocol
from shardrun.cli.oneshot import run_once
from shardrun.egress.client import Egress
from shardrun.egress.host import REDIRECT_MODES, TOKEN, FetchHost, FetchRequest, fetch_request
from shardrun.egress.internal import InternalRoutes
from shardrun.egress.policy import DEFAULT_DENY, LIMITS, LOOPBACK, FetchPolicy, Operator
from shardrun.engine.limits import Limits
from shardrun.errors import ShardrunError
from shardrun.runtime.calls import HostOp, Result
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script
from shardrun.settings import Settings, load_settings
from shardrun.workers import Registry

from .origin import Origin
from .serve_helpers import ROOT, free_port

pytestmark = pytest.mark.hostile

OPEN_LOOPBACK = [d for d in DEFAULT_DENY if d not in LOOPBACK]  # an operator who lets fetch reach 127.0.0.1
CATCH = "export default { async task(p) { try { {} } catch (e) { return [e.name, e.code, e.message]; } } }"


def catching(stmt: str) -> Script:
    return Script.from_source(CATCH.replace("{}", stmt), "w.js")


class CookieOrigin:
    """An origin that sets a session cookie on /login and echoes the Cookie header on /echo.
    Reached by name (localhost): a cookie jar keeps no cookies of an IP address host."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = orjson.dumps({"cookie": self.headers.get("Cookie")}) if self.path == "/echo" else b"in"
                self.send_response(200)
                if self.path == "/login":
                    self.send_header("Set-Cookie", "sid=tenant-a-session; Path=/")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://localhost:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Shardlike:
    """What a shard holds for fetch: one Egress and one FetchHost for all its isolates.
    An isolate's `tag` is its worker's policy."""

    def __init__(self, internal: InternalRoutes | None = None) -> None:
        self.egress = Egress()
        self.internal = internal
        self.host = FetchHost(self.egress, lambda iso, call: iso.tag, lambda iso: None, internal)

    def isolate(self, script: Script, policy: FetchPolicy, forged: Any = None) -> WorkerIsolate:
        """An isolate of a worker with this policy; with `forged`, its fetch ops carry these args instead."""
        ops = self.host
        if forged is not None:

            def ops(iso: WorkerIsolate, op: HostOp) -> None:
                self.host(iso, HostOp(op.opid, op.rid, op.name, forged))

        iso = WorkerIsolate(script, Limits(wall_ms=3000), host_ops=ops)
        iso.tag = policy
        return iso

    def run(self, iso: WorkerIsolate, arg: Any = None, within: float = 5.0) -> Result:
        call = iso.submit("task", arg or {})
        end = time.monotonic() + within
        while not call.finished and time.monotonic() < end:
            wake = iso.pump()
            if call.finished:
                break
            socks: list[Any] = [self.egress.fileno()]
            if self.internal is not None:
                socks.append(self.internal.sock.getsockopt(zmq.FD))
            pause = min(0.05, max(0.0, (wake or 0) - time.monotonic()))
            select.select(socks, [], [], pause)
            done = self.egress.drain() + (self.internal.drain() if self.internal is not None else [])
            for key, ok, value in done:
                self.host.done(key, ok, value)
        assert call.result is not None, "the request did not finish"
        return call.result

    def close(self) -> None:
        self.egress.close()


@pytest.fixture
def shard() -> Iterator[Shardlike]:
    s = Shardlike()
    yield s
    s.close()


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    o = Origin()
    yield o
    o.close()


def policy(*allow: str, deny: list[str] | None = None, **kw: Any) -> FetchPolicy:
    return FetchPolicy(allow=allow, **kw).under(Operator.build(OPEN_LOOPBACK if deny is None else deny))


# ---- finding 3: no cookie jar shared by tenants, no ambient cookies at all -------------------------


def test_no_cookie_travels_from_one_fetch_to_another(shard: Shardlike) -> None:
    o = CookieOrigin()
    try:
        p = policy(f"localhost:{o.port}")
        login = catching("const r = await fetch(p.base + '/login'); return r.headers.get('set-cookie')")
        echo = catching("return (await (await fetch(p.base + '/echo')).json()).cookie")
        a, b = shard.isolate(login, p), shard.isolate(echo, p)  # tenant A, tenant B: one shard's egress
        assert shard.run(a, {"base": o.base}).value == "sid=tenant-a-session; Path=/"
        assert shard.run(b, {"base": o.base}).value is None  # not tenant A's session
        a_again = shard.isolate(echo, p)
        assert shard.run(a_again, {"base": o.base}).value is None  # nor A's own next request's
    finally:
        o.close()


# ---- finding 14: forged fetch arguments are refused at once ----------------------------------------

GOOD = {
    "url": "https://api.example.com/x",
    "method": "POST",
    "headers": [["content-type", "text/plain"]],
    "redirect": "follow",
    "body": "aGk=",
}


def test_what_js_sends_passes_clean() -> None:
    assert fetch_request(GOOD, 100) == FetchRequest(
        "https://api.example.com/x", "POST", (("content-type", "text/plain"),), b"hi", "follow"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"headers": 5}, "headers"),
        ({"headers": [["x-a", "1\r\nx-b: 2"]]}, "headers[0]"),
        ({"headers": [["bad name", "v"]]}, "headers[0]"),
        ({"headers": [["x", "v", "w"]]}, "headers[0]"),
        ({"headers": [["x", "\x00"]]}, "headers[0]"),
        ({"url": 5}, "url"),
        ({"url": "http://a/\r\nHost: b"}, "url"),
        ({"url": "http://a/" + "x" * 9000}, "url"),
        ({"method": "GE T"}, "method"),
        ({"method": ["GET"]}, "method"),
        ({"method": "CONNECT"}, "method"),
        ({"body": 7}, "body"),
        ({"body": "!!not base64"}, "body"),
        ({"body": "eHh4eHh4"}, "body"),
        ({"redirect": "sideways"}, "redirect"),
        ({"proxy": "x"}, "unknown"),
    ],
)
def test_forged_arguments_name_their_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ShardrunError) as e:
        fetch_request({**GOOD, **change}, 5)
    assert e.value.code == "E_BAD_REQUEST" and field in e.value.message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
NEAR = st.fixed_dictionaries(
    {},
    optional={
        "url": st.one_of(JSON, st.just("https://a.example/"), st.text(max_size=30)),
        "method": st.one_of(JSON, st.sampled_from(["GET", "POST", "get", "TRACE", "X-Y"])),
        "headers": st.one_of(JSON, st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=3), max_size=4)),
        "body": st.one_of(JSON, st.sampled_from([None, "", "aGk=", "aGk", "aGVsbG8gd29ybGQ="])),
        "redirect": st.one_of(JSON, st.sampled_from(REDIRECT_MODES)),
        "extra": JSON,
    },
)


@hsettings(max_examples=400, deadline=None)
@given(st.one_of(JSON, NEAR))
def test_any_json_gives_a_clean_request_or_the_one_error(args: Any) -> None:
    try:
        req = fetch_request(args, 8)
    except ShardrunError as exc:
        assert exc.code == "E_BAD_REQUEST" and exc.message.startswith("fetch(): ")
        return
    assert isinstance(req.url, str) and req.url and not any(c in req.url for c in " \r\n\x00")
    assert TOKEN.fullmatch(req.method) and req.redirect in REDIRECT_MODES
    assert all(TOKEN.fullmatch(k) and not any(c in v for c in "\r\n\x00") for k, v in req.headers)
    assert req.body is None or (isinstance(req.body, bytes) and 0 < len(req.body) <= 8)


@pytest.mark.parametrize(
    "forged",
    [
        {"url": "http://x/", "headers": 5},
        {"url": "http://x/", "body": {"a": 1}},
        "http://x/",
        5,
        [],
        {"url": "http://x/", "headers": [["a\nb", "c"]]},
    ],
)
def test_forged_host_op_settles_at_once(shard: Shardlike, origin: Origin, forged: Any) -> None:
    # given a worker whose fetch op reaches the host with forged arguments
    iso = shard.isolate(
        catching("await fetch(p.base + '/hello'); return 'no error'"), policy(origin.allow), forged=forged
    )
    t0 = time.monotonic()
    r = shard.run(iso, {"base": origin.base})
    # then the fetch fails now (not at the 3 s wall limit), with a TypeError naming the problem
    assert r.ok, r.error
    assert r.value[:2] == ["TypeError", "E_BAD_REQUEST"] and r.value[2].startswith("fetch(): ")
    assert time.monotonic() - t0 < 1.0


# ---- finding 15: the operator's deny list, the server's ports, internal calls, clamped limits ------


def registry(tmp_path: Path, toml: str, settings: Settings) -> Registry:
    (tmp_path / "w").mkdir(exist_ok=True)
    (tmp_path / "w" / "index.js").write_text("export default { async task() { return 1; } }")
    (tmp_path / "w" / "worker.toml").write_text(toml)
    return Registry(
        tmp_path, settings.limits.to_limits(), settings.fetch.under(settings.egress.controls(settings.serve))
    )


def hello(spec_policy: FetchPolicy, url: str) -> list[Any]:
    r = run_once(
        catching(f"const r = await fetch({url!r}); return [r.status, await r.text()]"), "task", {}, fetch=spec_policy
    )
    assert r.ok, r.error
    return r.value  # type: ignore[no-any-return]


def test_an_exact_loopback_entry_is_refused_unless_the_operator_allows_it(tmp_path: Path, origin: Origin) -> None:
    toml = f'[fetch]\nallow = ["{origin.allow}"]\n'
    e = hello(registry(tmp_path, toml, Settings()).get("w").fetch, origin.base + "/hello")
    assert e[1] == "E_EGRESS_DENIED" and "server's egress settings" in e[2] and "127.0.0.0/8" in e[2]
    opened = Settings(egress={"deny": OPEN_LOOPBACK})
    assert hello(registry(tmp_path, toml, opened).get("w").fetch, origin.base + "/hello") == [200, "hello"]


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "[fd00:ec2::254]", "[::ffff:169.254.169.254]", "0.0.0.0", "10.1.2.3", "[::1]"]
)
def test_metadata_and_private_addresses_are_denied_even_when_listed(host: str) -> None:
    p = FetchPolicy(allow=(host,), timeout_ms=300).under(Settings().egress.controls(Settings().serve))
    assert hello(p, f"http://{host}/latest/meta-data")[1] == "E_EGRESS_DENIED"


def test_every_resolved_address_and_every_hop_is_checked(origin: Origin) -> None:
    port = origin.port
    assert hello(policy(f"localhost:{port}", deny=list(DEFAULT_DENY)), f"http://localhost:{port}/hello")[2].startswith(
        "localhost resolves to"
    )  # a name, resolved to loopback
    assert hello(policy(f"localhost:{port}"), f"http://localhost:{port}/hello") == [200, "hello"]
    hop = policy(origin.allow, f"localhost:{port}", deny=[*OPEN_LOOPBACK, "localhost"])
    e = hello(hop, f"{origin.base}/redirect?to=http://localhost:{port}/hello")  # allowed, but not by the operator
    assert e[1] == "E_EGRESS_DENIED" and "deny list" in e[2]


def test_the_servers_own_ports_are_denied_on_any_address(origin: Origin) -> None:
    s = Settings(serve={"http_port": origin.port}, egress={"deny": OPEN_LOOPBACK})
    p = FetchPolicy(allow=(origin.allow,)).under(s.egress.controls(s.serve))
    e = hello(p, origin.base + "/hello")
    assert e[1] == "E_EGRESS_DENIED" and f"port {origin.port} is one of the server's own" in e[2]
    off = Settings(serve={"http_port": origin.port}, egress={"deny": OPEN_LOOPBACK, "deny_server_ports": False})
    assert hello(FetchPolicy(allow=(origin.allow,)).under(off.egress.controls(off.serve)), origin.base + "/hello") == [
        200,
        "hello",
    ]


def test_operator_controls_are_validated_and_not_a_tenants_to_set(tmp_path: Path) -> None:
    assert load_settings(ROOT / "configs" / "shardrun.toml").egress.deny == list(DEFAULT_DENY)  # the file says it too
    with pytest.raises(ValueError, match=r"deny entry '10\.0\.0\.0/33'"):
        Settings(egress={"deny": ["10.0.0.0/33"]})
    for key in ("deny", "internal_requires_allow", "_operator"):
        with pytest.raises(ShardrunError) as e:
            registry(
                tmp_path, f"[fetch]\n{key} = []\n" if key == "deny" else f'[fetch]\n"{key}" = false\n', Settings()
            ).get("w")
        assert e.value.code == "E_WORKER_CONFIG" and key in e.value.message


@pytest.fixture
def router() -> Iterator[tuple[Any, Any, str]]:
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    sock.bind(endpoint)
    yield ctx, sock, endpoint
    sock.close(0)
    ctx.term()


@pytest.mark.parametrize(
    ("requires", "allow", "reaches"), [(False, (), True), (True, (), False), (True, ("b.workers.localhost",), True)]
)
def test_internal_calls_need_an_allow_entry_when_the_operator_says_so(
    router: Any, requires: bool, allow: tuple[str, ...], reaches: bool
) -> None:
    ctx, sock, endpoint = router
    internal = InternalRoutes(ctx, endpoint, ["workers.localhost"])
    s = Shardlike(internal)
    try:
        p = FetchPolicy(allow=allow).under(Operator.build(DEFAULT_DENY, internal_requires_allow=requires))
        iso = s.isolate(catching("const r = await fetch('https://b.workers.localhost/'); return r.status"), p)
        arrived: list[int] = []

        def answer() -> None:  # the router's part: reply 204 to the one request that arrives
            if sock.poll(1000):
                ident, *frames = sock.recv_multipart()
                rid = orjson.loads(frames[2])["id"]
                arrived.append(rid)
                sock.send_multipart(
                    [ident, *protocol.encode_reply(rid, True, {"status": 204, "statusText": "", "headers": []})]
                )

        t = threading.Thread(target=answer)
        t.start()
        r = s.run(iso)
        t.join(3)
        assert r.ok, r.error
        assert bool(arrived) == reaches
        if reaches:
            assert r.value == 204
        else:
            assert r.value[1] == "E_EGRESS_DENIED" and "internal_requires_allow" in r.value[2]
    finally:
        s.close()
        internal.close()


@pytest.mark.parametrize("name", LIMITS)
def test_a_worker_may_lower_the_operators_limits_but_not_raise_them(
    tmp_path: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    base = getattr(FetchPolicy(), name)
    half, double = type(base)(base // 2 if isinstance(base, int) else base / 2), type(base)(base * 2)
    assert registry(tmp_path, f"[fetch]\n{name} = {half}\n", Settings()).get("w").fetch.model_dump()[name] == half
    with caplog.at_level(logging.WARNING, logger="shardrun.workers"):
        reg = registry(tmp_path, f"[fetch]\n{name} = {double}\n", Settings())
        assert getattr(reg.get("w").fetch, name) == base and getattr(reg.get("w").fetch, name) == base
    clamps = [r.getMessage() for r in caplog.records if "clamped" in r.getMessage()]
    assert len(clamps) == 1 and f"{name} {double} -> {base}" in clamps[0]  # logged once, naming it


def test_a_clamped_limit_holds_at_run_time(tmp_path: Path, origin: Origin) -> None:
    s = Settings(fetch={"max_subrequests": 2}, egress={"deny": OPEN_LOOPBACK})
    p = registry(tmp_path, f'[fetch]\nallow = ["{origin.allow}"]\nmax_subrequests = 100\n', s).get("w").fetch
    r = run_once(
        Script.from_source(
            """export default { async task(p) {
        const out = [];
        for (let i = 0; i < 3; i++) { try { out.push((await fetch(p.base + "/hello")).status); } catch (e) { out.push(e.code); } }
        return out; } }""",
            "w.js",
        ),
        "task",
        {"base": origin.base},
        fetch=p,
    )
    assert r.ok and r.value == [200, 200, "E_SUBREQUEST_LIMIT"]


def test_connection_bound_credentials_never_leave_a_pooled_connection(shard: Shardlike, origin: Origin) -> None:
    # NTLM and Negotiate authenticate the TCP connection: one that carried them must not be reused
    js = """const h = (await (await fetch(p.base + '/echo', {headers: p.auth ? {authorization: p.auth} : {}})).json()).headers;
            return h.connection || null"""
    p = policy(origin.allow)
    assert (
        shard.run(shard.isolate(catching(js), p), {"base": origin.base, "auth": "NTLM TlRMTVNTUAAB"}).value == "close"
    )
    assert shard.run(shard.isolate(catching(js), p), {"base": origin.base, "auth": "Bearer x"}).value is None
