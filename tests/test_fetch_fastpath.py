"""The cheap paths of a fetch request: the request the host sends (its headers parsed only when
read), Response.json and new Response(text) without init, Headers from a record. Each must
behave as the general path does, whatever the tenant did first."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from shardrun import HttpRequest
from shardrun.errors import UsageError

from .conftest import eval_js, worker

REQ = HttpRequest("GET", "http://hello.localhost/p?q=1", [("Host", "hello.localhost"), ("X-Two", "a"), ("x-two", "b")])


def fetch(src: str, arg: Any = REQ, *, raw: bool = True) -> Any:
    w = worker(src, raw_fetch=raw)
    call = w.submit("fetch", arg)
    assert call.finished and call.result is not None
    return call.result


def body(src: str, arg: Any = REQ) -> Any:
    r = fetch(src, arg)
    assert r.ok, r.error
    return r.value


def test_host_request_headers_read_late_and_mutated():
    # Read after the handler awaited; the lazily made Headers is one object, mutable like any request's.
    v = body("""export default { async fetch(r) {
      await null;
      const h = r.headers, same = h === r.headers;
      h.set('x-new', '1'); h.delete('host');
      return Response.json({ same, entries: [...r.headers], two: r.headers.get('x-two'), method: r.method, url: r.url });
    } }""")
    assert v["headers"] == [["content-type", "application/json"]]
    assert orjson.loads(v["text"]) == {
        "same": True,
        "entries": [["x-new", "1"], ["x-two", "a, b"]],
        "two": "a, b",
        "method": "GET",
        "url": "http://hello.localhost/p?q=1",
    }


def test_host_request_headers_never_read_still_reach_a_copy_and_a_fetch_argument():
    # new Request(request) and request.clone() copy the headers the host sent without the handler reading them.
    v = body("""export default { fetch(r) {
      const c = r.clone(), n = new Request(r, { method: 'POST', body: 'x' });
      return new Response([...c.headers].join('|') + ' ' + n.headers.get('x-two') + ' ' + n.headers.get('content-type'));
    } }""")
    assert v["text"] == "host,hello.localhost|x-two,a, b a, b text/plain;charset=UTF-8"


def test_host_request_headers_survive_patched_builtins():
    # The tenant's top level patched JSON, Array and Object.prototype before the first request.
    v = body("""
      JSON.parse = () => { throw new Error('patched parse') };
      JSON.stringify = () => 'patched';
      Array.isArray = () => false;
      Array.prototype[Symbol.iterator] = function* () { yield 'evil'; };
      Object.defineProperty(Object.prototype, '0', { get() { throw new Error('proto getter') }, configurable: true });
      RegExp.prototype.exec = () => { throw new Error('patched exec') };
      export default { fetch(r) {
        return Response.json({ ua: r.headers.get('x-two'), has: r.headers.has('host') });
      } }""")
    assert v["text"] == '{"ua":"a, b","has":true}'
    assert v["headers"] == [["content-type", "application/json"]]


def test_host_request_body_is_decoded_and_method_kept():
    req = HttpRequest("PUT", "http://h.localhost/", [("content-type", "text/plain")], b"payload")
    src = "export default { async fetch(r) { return new Response(r.method + ':' + await r.text()) } }"
    assert body(src, req)["text"] == "PUT:payload"


@pytest.mark.parametrize(
    "arg",
    [
        None,
        5,
        {"url": "http://h/"},
        {"method": "GET", "url": 1, "headers": []},
        {"method": "GET", "url": "http://h/", "headers": {"a": "b"}},
        {"method": "GET", "url": "http://h/", "headers": [], "body": 5},
    ],
)
def test_fetch_argument_of_another_shape_is_refused_at_submit(arg):
    w = worker("export default { fetch() { return new Response('x') } }")
    with pytest.raises(UsageError) as e:
        w.submit("fetch", arg)
    assert e.value.code == "E_BAD_REQUEST"
    assert not w.inflight and not w.retiring and w.requests == 0  # nothing reached JS: the isolate serves on
    assert w.submit("fetch", REQ).result.ok


@pytest.mark.parametrize(
    ("pairs", "seen"),
    [
        ([["a", "1"], ["b", 2], ["c"], "d", [["e", "f"]], ["g", "7"]], "a,1|g,7"),
        ([["b", None], ["a", "1"], ["c", "3"]], "a,1|c,3"),
        ([["a", "1"], ["c", "3"], {"0": "x", "1": "y"}], "a,1|c,3"),
        ([], ""),
    ],
)
def test_pairs_that_are_not_two_strings_are_dropped_without_running_tenant_code(pairs, seen):
    arg = {"method": "GET", "url": "http://h/", "headers": pairs}
    v = body(
        """Object.prototype.toString = () => { throw new Error('tenant toString ran') };
        export default { fetch(r) { return new Response([...r.headers].join('|')) } }""",
        arg,
    )
    assert v["text"] == seen


def test_response_fast_paths_match_the_general_path():
    assert eval_js("""
      const show = async (r) => [r.status, r.statusText, r.ok, [...r.headers], r.bodyUsed, await r.text(), r.bodyUsed, r.type];
      return {
        json: await show(Response.json({ a: 1 })),
        jsonInit: await show(Response.json({ a: 1 }, {})),
        jsonUndef: await show(Response.json([1], undefined)),
        text: await show(new Response('hi')),
        nul: await show(new Response(null)),
        none: await show(new Response()),
        und: await show(new Response(undefined, undefined)),
        textInit: await show(new Response('hi', {})),
      };
    """) == {
        "json": [200, "", True, [["content-type", "application/json"]], False, '{"a":1}', True, "default"],
        "jsonInit": [200, "", True, [["content-type", "application/json"]], False, '{"a":1}', True, "default"],
        "jsonUndef": [200, "", True, [["content-type", "application/json"]], False, "[1]", True, "default"],
        "text": [200, "", True, [["content-type", "text/plain;charset=UTF-8"]], False, "hi", True, "default"],
        "nul": [200, "", True, [], False, "", False, "default"],
        "none": [200, "", True, [], False, "", False, "default"],
        "und": [200, "", True, [], False, "", False, "default"],
        "textInit": [200, "", True, [["content-type", "text/plain;charset=UTF-8"]], False, "hi", True, "default"],
    }


def test_fast_path_responses_are_ordinary_responses():
    assert eval_js("""
      const r = Response.json({ a: 1 });
      r.headers.set('x-a', '1'); r.headers.append('content-type', 'x');
      const c = new Response('hi').clone(), b = new Response('hi').body;
      let jsonThrows, statusThrows;
      try { Response.json(undefined); } catch (e) { jsonThrows = e.name; }
      try { Response.json(1, { status: 204 }); } catch (e) { statusThrows = e.name; }
      return { h: [...r.headers], proto: Object.getPrototypeOf(r) === Response.prototype, isResp: r instanceof Response,
               clone: await c.text(), stream: typeof b.getReader, jsonThrows, statusThrows, len: Response.json.length };
    """) == {
        "h": [["content-type", "application/json, x"], ["x-a", "1"]],
        "proto": True,
        "isResp": True,
        "clone": "hi",
        "stream": "function",
        "jsonThrows": "TypeError",
        "statusThrows": "TypeError",
        "len": 1,
    }


def test_response_with_odd_inits():
    assert eval_js("""
      const out = {};
      const r = Response.json({ a: 1 }, { status: 201, statusText: 'Made', headers: { 'Content-Type': 'text/x', 'X-A': ' v ' } });
      out.a = [r.status, r.statusText, [...r.headers]];
      out.b = [...new Response('x', { headers: [['X-B', '1'], ['x-b', '2']] }).headers];
      out.c = [...new Response('x', { headers: new Headers({ 'content-type': 'a/b' }) }).headers];
      const order = [];
      const init = { get status() { order.push('status'); return 202 }, get statusText() { order.push('statusText'); return 'ok' },
                     get headers() { order.push('headers'); return { y: '1' } } };
      out.d = [new Response('x', init).status, order.join(',')];
      const errs = [];
      for (const h of [{ 'bad name': 'x' }, { x: 'a\\nb' }, { x: 'ā' }, { 'ā': 'x' }, { [Symbol('s')]: 'x' }]) {
        try { new Response('x', { headers: h }); errs.push('accepted'); } catch (e) { errs.push(e.name + ': ' + e.message); }
      }
      out.errs = errs;
      try { new Response('x', { statusText: 'a\\nb' }); out.st = 'accepted' } catch (e) { out.st = e.name }
      return out;
    """) == {
        "a": [201, "Made", [["content-type", "text/x"], ["x-a", "v"]]],
        "b": [["content-type", "text/plain;charset=UTF-8"], ["x-b", "1, 2"]],
        "c": [["content-type", "a/b"]],
        "d": [202, "status,statusText,headers"],
        "errs": [
            'TypeError: invalid header name: "bad name"',
            "TypeError: invalid header value (contains CR, LF or NUL)",
            "TypeError: invalid header value (a character over U+00FF)",
            'TypeError: invalid header name: "ā"',
            "TypeError: Headers: a header name cannot be a Symbol",
        ],
        "st": "TypeError",
    }


def test_fast_path_response_crosses_the_boundary_like_any_other():
    assert body("export default { fetch() { return Response.json({ ok: true }) } }") == {
        "status": 200,
        "statusText": "",
        "headers": [["content-type", "application/json"]],
        "text": '{"ok":true}',
    }
    r = fetch("export default { fetch() { return new Response('hi') } }", raw=False)
    assert (r.value.status, r.value.headers, r.value.body) == (
        200,
        [("content-type", "text/plain;charset=UTF-8")],
        b"hi",
    )


def test_header_values_are_trimmed_and_checked_on_every_path():
    assert eval_js("""
      const vals = ['v', '', ' v', 'v ', '\\t v \\n', '\\r\\nv', 'a\\tb', 'a b', '  ', 'ÿ'];
      const out = [];
      for (const v of vals) {
        out.push([new Headers({ x: v }).get('x'), new Headers([['x', v]]).get('x'), (() => { const h = new Headers(); h.append('x', v); return h.get('x'); })()]);
      }
      const bad = [];
      for (const v of ['a\\rb', 'a\\nb', 'a\\0b', 'aĀ', 'a\\u{1F4A5}']) {
        for (const make of [(x) => new Headers({ x }), (x) => new Headers([['x', x]]), (x) => new Headers().set('x', x)]) {
          try { make(v); bad.push('accepted'); } catch (e) { bad.push(e.message); }
        }
      }
      return { out, bad };
    """) == {
        "out": [[w] * 3 for w in ["v", "", "v", "v", "v", "v", "a\tb", "a b", "", "ÿ"]],
        "bad": ["invalid header value (contains CR, LF or NUL)"] * 9
        + ["invalid header value (a character over U+00FF)"] * 6,
    }
