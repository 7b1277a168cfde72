"""The Web APIs of the prelude, used from a worker."""

from __future__ import annotations

import re

import pytest

from shardrun import HttpRequest

from .conftest import eval_js, run_js


def test_headers_are_case_insensitive_combined_and_sorted():
    assert eval_js("""
      const h = new Headers({ 'X-B': '1', 'x-a': ' spaced ' });
      h.append('x-b', '2'); h.append('Set-Cookie', 'a=1'); h.append('set-cookie', 'b=2');
      return { b: h.get('X-B'), a: h.get('x-a'), has: h.has('X-A'), missing: h.get('nope'),
               cookies: h.getSetCookie(), entries: [...h] };
    """) == {
        "b": "1, 2",
        "a": "spaced",
        "has": True,
        "missing": None,
        "cookies": ["a=1", "b=2"],
        "entries": [["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-a", "spaced"], ["x-b", "1, 2"]],
    }


@pytest.mark.parametrize(
    "bad", ["new Headers({'bad name': 'x'})", "new Headers({'x': 'a\\r\\nb'})", "new Headers([['only-one']])"]
)
def test_headers_reject_invalid_input(bad):
    assert eval_js(f"try {{ {bad}; return 'accepted' }} catch (e) {{ return e.name }}") == "TypeError"


def test_response_bodies_from_every_kind_of_source():
    assert eval_js("""
      const out = {};
      out.text = await new Response('héllo').text();
      out.u8 = await new Response(new Uint8Array([104, 105])).text();
      out.ab = [...new Uint8Array(await new Response(new Uint8Array([1, 2, 3]).buffer).arrayBuffer())];
      out.params = await new Response(new URLSearchParams({ a: '1', b: 'x y' })).text();
      out.paramsType = new Response(new URLSearchParams('a=1')).headers.get('content-type');
      out.empty = await new Response(null).text();
      out.blob = await new Response(new Blob(['ab', new Uint8Array([99])])).text();
      out.bytes = [...await new Response('hi').bytes()];
      return out;
    """) == {
        "text": "héllo",
        "u8": "hi",
        "ab": [1, 2, 3],
        "params": "a=1&b=x+y",
        "paramsType": "application/x-www-form-urlencoded;charset=UTF-8",
        "empty": "",
        "blob": "abc",
        "bytes": [104, 105],
    }


def test_response_helpers_and_status_rules():
    assert eval_js("""
      const j = Response.json({ a: 1 }, { status: 201 });
      const r = Response.redirect('https://example.com/x', 301);
      const errs = [];
      for (const s of [199, 600, 1.5]) { try { new Response('', { status: s }); errs.push('ok') } catch (e) { errs.push(e.name) } }
      try { new Response('body', { status: 204 }) } catch (e) { errs.push(e.name) }
      const used = new Response('x'); await used.text();
      try { await used.text() } catch (e) { errs.push(e.name) }
      return { j: [j.status, j.headers.get('content-type'), await j.json()], r: [r.status, r.headers.get('location')],
               ok: [new Response('', { status: 299 }).ok, new Response('', { status: 300 }).ok], errs,
               err: Response.error().type };
    """) == {
        "j": [201, "application/json", {"a": 1}],
        "r": [301, "https://example.com/x"],
        "ok": [True, False],
        "errs": ["RangeError", "RangeError", "RangeError", "TypeError", "TypeError"],
        "err": "error",
    }


def test_request_construction_and_clone():
    assert eval_js("""
      const r = new Request('https://a.test/p?q=1', { method: 'post', headers: { 'x': '1' }, body: 'data' });
      const c = r.clone();
      const errs = [];
      try { new Request('/relative') } catch (e) { errs.push(e.name) }
      try { new Request('https://a.test/', { method: 'GET', body: 'x' }) } catch (e) { errs.push(e.name) }
      try { new Request('https://a.test/', { method: 'CONNECT' }) } catch (e) { errs.push(e.name) }
      return [r.method, r.url, r.headers.get('x'), await r.text(), await c.text(), r.signal.aborted, errs];
    """) == ["POST", "https://a.test/p?q=1", "1", "data", "data", False, ["TypeError", "TypeError", "TypeError"]]


def test_fetch_handler_gets_method_url_headers_and_binary_body():
    src = """export default { async fetch(req) {
      const b = new Uint8Array(await req.arrayBuffer());
      return new Response(b.reverse(), { status: 202, statusText: 'Accepted', headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-m', req.method + ' ' + new URL(req.url).pathname + ' ' + req.headers.get('x-in')]] });
    } }"""
    body = bytes(range(256))
    r = run_js(src, HttpRequest("PUT", "https://w.test/up", [("X-In", "v")], body), kind="fetch")
    assert r.ok, r.error
    res = r.value
    assert (res.status, res.status_text) == (202, "Accepted")
    assert res.body == body[::-1]
    assert ("set-cookie", "a=1") in res.headers and ("set-cookie", "b=2") in res.headers
    assert ("x-m", "PUT /up v") in res.headers


def test_text_encoder_and_decoder():
    assert eval_js(r"""
      const e = new TextEncoder(), d = new TextDecoder();
      const bytes = (s) => [...e.encode(s)];
      const out = {
        ascii: bytes('A'), two: bytes('é'), three: bytes('€'), four: bytes('😀'), lone: bytes('\ud800'),
        round: d.decode(e.encode('héllo €😀')),
        bad: d.decode(new Uint8Array([0x61, 0xff, 0x62, 0xc3])),
        overlong: d.decode(new Uint8Array([0xc0, 0xaf])),
        bom: d.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])),
      };
      try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xff])) } catch (e) { out.fatal = e.name }
      const sd = new TextDecoder();
      out.stream = sd.decode(new Uint8Array([0xe2, 0x82]), { stream: true }) + sd.decode(new Uint8Array([0xac]));
      const buf = new Uint8Array(4);
      out.into = e.encodeInto('a€b', buf);
      try { new TextDecoder('no-such-encoding') } catch (e) { out.label = e.name }
      return out;
    """) == {
        "ascii": [65],
        "two": [0xC3, 0xA9],
        "three": [0xE2, 0x82, 0xAC],
        "four": [0xF0, 0x9F, 0x98, 0x80],
        "lone": [0xEF, 0xBF, 0xBD],
        "round": "héllo €😀",
        "bad": "a\ufffdb\ufffd",
        "overlong": "\ufffd\ufffd",
        "bom": "a",
        "fatal": "TypeError",
        "stream": "€",
        "into": {"read": 2, "written": 4},
        "label": "RangeError",
    }


def test_base64():
    assert eval_js(
        "return [btoa('hello'), atob('aGVsbG8='), (() => { try { atob('***') } catch (e) { return e.name } })()]"
    ) == ["aGVsbG8=", "hello", "InvalidCharacterError"]


def test_crypto_random_values_and_uuid():
    out = eval_js("""
      const a = crypto.getRandomValues(new Uint8Array(32)), b = crypto.getRandomValues(new Uint8Array(32));
      const errs = [];
      try { crypto.getRandomValues(new Uint8Array(65537)) } catch (e) { errs.push(e.name) }
      try { crypto.getRandomValues(new Float64Array(2)) } catch (e) { errs.push(e.name) }
      return { a: [...a], b: [...b], u: [crypto.randomUUID(), crypto.randomUUID()], errs };
    """)
    assert out["a"] != out["b"] and len(set(out["a"])) > 10
    assert all(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", u) for u in out["u"]
    )
    assert out["u"][0] != out["u"][1]
    assert out["errs"] == ["QuotaExceededError", "TypeMismatchError"]


def test_two_isolates_draw_different_random_streams():
    src = "export default { task() { return crypto.randomUUID() } }"
    assert run_js(src).value != run_js(src).value


def test_random_values_come_from_the_host_in_pooled_blocks():
    # 5,000 bytes span two 4 KiB pool blocks; every byte value shows up and a UUID is version 4.
    out = eval_js("""
      const a = crypto.getRandomValues(new Uint8Array(5000));
      const seen = new Set(a);
      const u = crypto.randomUUID();
      return [seen.size, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u)];
    """)
    assert out == [256, True]


def test_the_host_call_is_not_reachable_from_tenant_code():
    assert eval_js("""
      return [typeof globalThis.host, Object.keys(crypto).join(','), typeof crypto.__chachaBlock];
    """) == ["undefined", "getRandomValues,randomUUID,subtle", "undefined"]


def test_a_host_function_refusing_its_arguments_is_a_coded_js_error():
    from shardrun.runtime.hostcall import HostCallError, HostState, bind, resolve

    call = bind(HostState())
    assert len(call("random.bytes", 16)) == 16
    for bad in (-1, 65537, "16", 1.5, None):
        with pytest.raises(HostCallError) as e:
            call("random.bytes", bad)
        assert e.value.code == "E_HOST_ARGUMENT"
    with pytest.raises(HostCallError) as e:
        resolve("nope.nothing")
    assert e.value.code == "E_HOST_UNKNOWN"


def test_events_and_abort():
    assert eval_js("""
      const log = [];
      const t = new EventTarget();
      const h = (e) => log.push(e.type + ':' + (e.target === t));
      t.addEventListener('ping', h); t.addEventListener('ping', h);
      t.addEventListener('ping', () => log.push('once'), { once: true });
      t.dispatchEvent(new Event('ping')); t.dispatchEvent(new Event('ping'));
      t.removeEventListener('ping', h); t.dispatchEvent(new Event('ping'));
      const c = new AbortController();
      c.signal.addEventListener('abort', () => log.push('aborted'));
      c.abort();
      const reason = c.signal.reason.name;
      let thrown; try { c.signal.throwIfAborted() } catch (e) { thrown = e.name }
      const ts = AbortSignal.timeout(5);
      await new Promise((r) => setTimeout(r, 20));
      const any = AbortSignal.any([new AbortController().signal, AbortSignal.abort('why')]);
      return { log, reason, thrown, timeout: [ts.aborted, ts.reason.name], any: any.reason };
    """) == {
        "log": ["ping:true", "once", "ping:true", "aborted"],
        "reason": "AbortError",
        "thrown": "AbortError",
        "timeout": [True, "TimeoutError"],
        "any": "why",
    }


def test_structured_clone():
    assert eval_js("""
      const a = { d: new Date(0), m: new Map([[1, { x: 1 }]]), s: new Set([1]), u8: new Uint8Array([1, 2]), re: /x/g };
      a.self = a;
      const b = structuredClone(a);
      let err; try { structuredClone({ f() {} }) } catch (e) { err = e.name }
      return [b !== a, b.self === b, b.d instanceof Date, b.d.getTime(), b.m.get(1).x, b.s.has(1), [...b.u8], b.re.flags, err];
    """) == [True, True, True, 0, 1, True, [1, 2], "g", "DataCloneError"]


def test_blob_and_file():
    assert eval_js("""
      const b = new Blob(['hello ', new Uint8Array([119, 111]), new Blob(['rld'])], { type: 'Text/Plain' });
      const f = new File(['x'], 'a.txt', { lastModified: 5 });
      return [b.size, b.type, await b.text(), await b.slice(6, -3).text(), await b.slice(-3).text(), f.name, f.lastModified, f instanceof Blob];
    """) == [11, "text/plain", "hello world", "wo", "rld", "a.txt", 5, True]


def test_lazy_apis_are_loaded_on_first_use_only():
    assert eval_js("""
      const d = (n) => Object.getOwnPropertyDescriptor(globalThis, n);
      const before = [typeof d('URL').get, typeof d('Headers').get];
      new URL('https://x.test/');
      return [before, typeof d('URL').get, typeof d('URL').value, typeof d('Headers').get];
    """) == [["function", "function"], "undefined", "function", "function"]


def test_a_worker_may_replace_a_lazy_global():
    assert eval_js("globalThis.URL = 5; return URL") == 5
