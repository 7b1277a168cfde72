"""fetch() from workers, in process: Fetch semantics, deny-by-default egress, caps, abort."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import orjson
import pytest

from shardrun.cli.oneshot import run_once
from shardrun.egress.client import PublicOnlyResolver
from shardrun.egress.policy import DEFAULT_DENY, LOOPBACK, EgressDenied, FetchPolicy, Operator, check_url, parse_entry
from shardrun.errors import ShardrunError
from shardrun.runtime.calls import HttpRequest, Result
from shardrun.runtime.script import Script

from .origin import Origin


@pytest.fixture(scope="module")
def origin() -> Any:
    o = Origin()
    yield o
    o.close()


def run(body: str, policy: FetchPolicy | None, arg: Any = None) -> Result:
    src = "export default { async task(p) {\n" + body + "\n} }"
    return run_once(Script.from_source(src, "w.js"), "task", arg or {}, fetch=policy)


def value(body: str, policy: FetchPolicy, arg: Any = None) -> Any:
    r = run(body, policy, arg)
    assert r.ok, r.error
    return r.value


CATCH = "try { {} } catch (e) { return [e.name, e.code, e.message]; }"


def caught(stmt: str, policy: FetchPolicy, arg: Any = None) -> list[str]:
    return value(CATCH.replace("{}", stmt + "; return 'no error'"), policy, arg)  # type: ignore[no-any-return]


# The origin is on loopback, which the operator's default [egress] deny list refuses: these
# tests run as an operator who took loopback off it.
LOOPBACK_OPEN = Operator.build([d for d in DEFAULT_DENY if d not in LOOPBACK])


def allow(o: Origin, **kw: Any) -> FetchPolicy:
    return FetchPolicy(allow=(o.allow,), **kw).under(LOOPBACK_OPEN)


def test_allowed_get_and_post_with_fetch_semantics(origin: Origin) -> None:
    v = value(
        """
        const r = await fetch(p.base + "/hello");
        const e = await fetch(new Request(p.base + "/echo", {method: "POST", body: JSON.stringify({a: 1}),
                                                              headers: {"x-one": "1", "content-type": "application/json"}}));
        const j = await e.json();
        const g = await fetch(p.base + "/gzip");
        const bytes = new Uint8Array(await (await fetch(p.base + "/hello")).arrayBuffer());
        const missing = await fetch(p.base + "/nope");
        return {status: r.status, ok: r.ok, text: await r.text(), xtest: r.headers.get("x-test"), type: r.type,
                method: j.method, body: j.body, one: j.headers["x-one"], ua: j.headers["user-agent"],
                gz: await g.text(), ce: g.headers.get("content-encoding"), bytes: bytes.length,
                missing: [missing.status, missing.ok, await missing.text()], used: r.bodyUsed};
    """,
        allow(origin),
        {"base": origin.base},
    )
    assert v == {
        "status": 200,
        "ok": True,
        "text": "hello",
        "xtest": "1",
        "type": "basic",
        "method": "POST",
        "body": '{"a":1}',
        "one": "1",
        "ua": "shardrun",
        "gz": "unzipped " * 10,
        "ce": None,
        "bytes": 5,
        "missing": [404, False, "not here"],
        "used": True,
    }


def test_everything_is_denied_by_default(origin: Origin) -> None:
    e = caught("await fetch(p.base + '/hello')", FetchPolicy(), {"base": origin.base})
    assert e[:2] == ["TypeError", "E_EGRESS_DENIED"] and "nothing (fetch is denied by default)" in e[2]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "file: URL is not allowed"),
        ("data:text/plain,hi", "data: URL is not allowed"),
        ("ftp://127.0.0.1/", "ftp: URL is not allowed"),
        ("http://127.0.0.2:{port}/", "not allowed for this worker"),
        ("http://127.0.0.1:1/", "not allowed for this worker"),
        ("http://169.254.169.254/latest/meta-data", "not allowed for this worker"),
    ],
)
def test_other_targets_are_denied(origin: Origin, url: str, words: str) -> None:
    e = caught(f"await fetch({url.format(port=origin.port)!r})", allow(origin))
    assert e[1] == "E_EGRESS_DENIED" and words in e[2]


def test_an_uncaught_denial_is_the_requests_error(origin: Origin) -> None:
    r = run("return await fetch('http://10.0.0.1/')", allow(origin))
    assert not r.ok and r.error is not None and r.error.code == "E_EGRESS_DENIED"


def test_redirects_are_followed_and_each_hop_is_checked(origin: Origin) -> None:
    b = origin.base
    v = value(
        """
        const r = await fetch(p.base + "/redirect?to=" + encodeURIComponent(p.base + "/hello"));
        const m = await fetch(p.base + "/redirect?to=/hello", {redirect: "manual"});
        const post = await (await fetch(p.base + "/redirect?code=303&to=/echo", {method: "POST", body: "x"})).json();
        const keep = await (await fetch(p.base + "/redirect?code=307&to=/echo", {method: "POST", body: "x"})).json();
        return [r.status, await r.text(), r.redirected, r.url, m.status, m.headers.get("location"),
                post.method, post.body, keep.method, keep.body];
    """,
        allow(origin),
        {"base": b},
    )
    assert v == [200, "hello", True, b + "/hello", 302, "/hello", "GET", "", "POST", "x"]
    for to in ("http://169.254.169.254/", "http://127.0.0.1:1/", "file:///etc/passwd"):
        e = caught(f"await fetch(p.base + '/redirect?to=' + encodeURIComponent({to!r}))", allow(origin), {"base": b})
        assert e[1] == "E_EGRESS_DENIED", (to, e)
    e = caught("await fetch(p.base + '/redirect?to=/hello', {redirect: 'error'})", allow(origin), {"base": b})
    assert e[1] == "E_FETCH_FAILED" and "redirect" in e[2]
    loop = f"{b}/redirect?to=" + quote(f"{b}/redirect?to=/hello", safe="")
    e = caught(f"await fetch({loop!r})", allow(origin, max_redirects=1))
    assert e[1] == "E_FETCH_FAILED" and "more than 1 redirects" in e[2]


def test_timeout_is_per_fetch_and_within_the_wall_budget(origin: Origin) -> None:
    t0 = time.monotonic()
    e = caught("await fetch(p.base + '/slow?ms=1500')", allow(origin, timeout_ms=300), {"base": origin.base})
    assert e[1] == "E_FETCH_TIMEOUT" and time.monotonic() - t0 < 1.4


def test_oversize_responses_are_refused(origin: Origin) -> None:
    for q in ("n=5000", "n=5000&chunked=1"):
        e = caught(f"await fetch(p.base + '/big?{q}')", allow(origin, max_response_bytes=1000), {"base": origin.base})
        assert e[1] == "E_RESPONSE_TOO_LARGE", (q, e)
    assert (
        value(
            "return (await (await fetch(p.base + '/big?n=1000')).text()).length",
            allow(origin, max_response_bytes=1000),
            {"base": origin.base},
        )
        == 1000
    )


def test_subrequest_cap(origin: Origin) -> None:
    v = value(
        """
        const out = [];
        for (let i = 0; i < 4; i++) {
          try { out.push((await fetch(p.base + "/hello")).status); } catch (e) { out.push(e.code); }
        }
        return out;
    """,
        allow(origin, max_subrequests=3),
        {"base": origin.base},
    )
    assert v == [200, 200, 200, "E_SUBREQUEST_LIMIT"]


def test_concurrency_cap_makes_extra_fetches_wait(origin: Origin) -> None:
    end = time.monotonic() + 5
    while origin.active and time.monotonic() < end:  # a slow request an earlier test gave up on
        time.sleep(0.05)
    origin.max_active = 0
    v = value(
        """
        const rs = await Promise.all(Array.from({length: 6}, () => fetch(p.base + "/slow?ms=150")));
        return rs.map((r) => r.status);
    """,
        allow(origin, max_concurrent=2),
        {"base": origin.base},
    )
    assert v == [200] * 6 and origin.max_active == 2


def test_abort(origin: Origin) -> None:
    t0 = time.monotonic()
    v = value(
        """
        const c = new AbortController();
        setTimeout(() => c.abort(), 50);
        const out = [];
        try { await fetch(p.base + "/slow?ms=2000", {signal: c.signal}); } catch (e) { out.push(e.name); }
        try { await fetch(p.base + "/hello", {signal: AbortSignal.abort()}); } catch (e) { out.push(e.name); }
        return out;
    """,
        allow(origin),
        {"base": origin.base},
    )
    assert v == ["AbortError", "AbortError"] and time.monotonic() - t0 < 1.5


@pytest.mark.parametrize(
    ("entry", "ok"),
    [
        ("api.example.com", True),
        ("*.example.org", True),
        ("127.0.0.1:8080", True),
        ("[::1]:8080", True),
        ("::1", True),
        ("http://x.com", False),
        ("*.1.2.3.4", False),
        ("x.com:99999", False),
        ("x.com:abc", False),
        ("*.", False),
        ("exa mple.com", False),
        ("*.127.0.0.1", False),
    ],
)
def test_allow_entries_are_validated(entry: str, ok: bool) -> None:
    if ok:
        parse_entry(entry)
    else:
        with pytest.raises(ValueError):
            parse_entry(entry)


def test_matching_rules() -> None:
    p = FetchPolicy(allow=("api.example.com", "*.example.org", "pinned.example.net:8443", "*.0.0.1"))
    assert check_url("https://api.example.com/x", p).exact
    assert check_url("http://api.example.com:9000/", p).port == 9000  # no port: any port
    assert not check_url("https://a.b.example.org/", p).exact  # via the wildcard
    assert check_url("https://pinned.example.net:8443/", p).port == 8443
    for url in (
        "https://example.org/",
        "https://pinned.example.net/",
        "https://api.example.com.evil.test/",
        "https://127.0.0.1/",
    ):  # apex, port, suffix trick, wildcard IP
        with pytest.raises(ShardrunError) as e:
            check_url(url, p)
        assert e.value.code == "E_EGRESS_DENIED", url


def test_hosts_allowed_by_a_wildcard_never_resolve_to_private_addresses() -> None:
    async def go() -> None:
        r = PublicOnlyResolver()
        try:
            await r.resolve("localhost", 80)
        finally:
            await r.close()

    with pytest.raises(EgressDenied, match="non-public addresses only"):
        asyncio.run(go())


def test_loadgen_reads_chunked_responses(origin: Origin) -> None:
    from shardrun.benchmarks.loadgen import run as load

    s = asyncio.run(load(origin.base, ["x"], concurrency=2, seconds=0.3)).summary()
    assert s["requests"] > 0 and set(s["codes"]) == {"200"}


def test_an_empty_fetched_body_is_a_body_and_a_null_body_status_or_head_has_none(origin: Origin) -> None:
    v = value(
        """
        const empty = await fetch(p.base + "/big?n=0");
        const before = [empty.body !== null, empty.bodyUsed];
        const text = await empty.text();
        const again = await empty.text().then(() => "read twice", (e) => e.name);
        const none = await fetch(p.base + "/redirect?code=204&to=/x", { redirect: "manual" });
        const head = await fetch(p.base + "/hello", { method: "HEAD" });
        return [before, text, empty.bodyUsed, again, none.body, head.body, await head.text(), head.bodyUsed];
        """,
        allow(origin),
        {"base": origin.base},
    )
    assert v == [[True, False], "", True, "TypeError", None, None, "", False]


def test_the_incoming_request_forwarded_unread_carries_the_hosts_headers(origin: Origin) -> None:
    # fetch(request, init) with the handler's request, its headers never read by the handler.
    src = f"""export default {{ async fetch(request) {{
      const r = await fetch(new Request("{origin.base}/echo", request), {{ method: "POST", body: "fwd" }});
      return new Response(await r.text());
    }} }}"""
    req = HttpRequest("GET", "http://w.localhost/", [("X-From-Client", "yes"), ("Accept", "text/x")])
    r = run_once(Script.from_source(src, "w.js"), "fetch", req, fetch=allow(origin))
    assert r.ok, r.error
    echo = orjson.loads(r.value.body)
    assert (echo["method"], echo["body"]) == ("POST", "fwd")
    assert echo["headers"]["x-from-client"] == "yes" and echo["headers"]["accept"] == "text/x"
