"""structuredClone (js/src/structured_clone.js) and the WebIDL argument rules of Headers and Blob."""

from __future__ import annotations

import pytest

from .conftest import eval_js


def test_structured_clone_keeps_what_json_loses():
    v = eval_js("""
      const src = { z: -0, big: 10n, d: new Date(5), re: /a+/gi, m: new Map([[1, { x: 1 }]]), s: new Set(['a']),
        n: new Number(3), str: new String('s'), err: new RangeError('bad'), u8: new Uint8Array([1, 2, 3]).subarray(1) };
      src.self = src;
      const arr = [1, 2]; arr.extra = 'kept'; src.arr = arr;
      const c = structuredClone(src);
      return [Object.is(c.z, -0), typeof c.big, c.d instanceof Date && c.d.getTime(), c.re instanceof RegExp && c.re.flags,
        c.m.get(1).x, c.m.get(1) !== src.m.get(1), c.s.has('a'), c.n instanceof Number && +c.n, c.str instanceof String,
        c.err instanceof RangeError && c.err.message, [...c.u8], c.u8.byteOffset, c.self === c, c.arr.extra, c !== src];
    """)
    assert v == [True, "bigint", 5, "gi", 1, True, True, 3, True, "bad", [2, 3], 1, True, "kept", True]


def test_structured_clone_of_blobs_and_files():
    v = eval_js("""
      const f = new File(['hé'], 'a.txt', { type: 'text/plain', lastModified: 42 });
      const [b2, f2] = structuredClone([new Blob(['xy'], { type: 'a/b' }), f]);
      return [b2 instanceof Blob, b2.type, await b2.text(), f2 instanceof File, f2.name, f2.lastModified, f2.type, await f2.text()];
    """)
    assert v == [True, "a/b", "xy", True, "a.txt", 42, "text/plain", "hé"]


def test_structured_clone_transfer_detaches_and_keeps_resizable_buffers():
    v = eval_js("""
      const buf = new ArrayBuffer(8, { maxByteLength: 16 });
      new Uint8Array(buf)[0] = 7;
      const view = new Uint8Array(buf, 2);
      const c = structuredClone({ buf, view }, { transfer: [buf] });
      return [buf.byteLength, buf.detached, c.buf.byteLength, c.buf.resizable, c.buf.maxByteLength,
        new Uint8Array(c.buf)[0], c.view.buffer === c.buf, c.view.byteOffset];
    """)
    assert v == [0, True, 8, True, 16, 7, True, 2]


@pytest.mark.parametrize(
    "call",
    [
        "structuredClone(() => 1)",
        "structuredClone({ s: Symbol('x') })",
        "structuredClone(new WeakMap())",
        "structuredClone(Promise.resolve())",
        "const b = new ArrayBuffer(1); structuredClone(b, { transfer: [b, b] })",
        "const b = new ArrayBuffer(1); b.transfer(); structuredClone(b)",
        "structuredClone(1, { transfer: [{}] })",
    ],
)
def test_structured_clone_refuses_with_a_data_clone_error(call):
    assert eval_js(f"try {{ {call}; return 'cloned' }} catch (e) {{ return [e.name, e instanceof DOMException] }}") == [
        "DataCloneError",
        True,
    ]


@pytest.mark.parametrize(
    "call",
    [
        "new Headers(null)",
        "new Headers(5)",
        "new Headers({ [Symbol('k')]: 'v' })",
        "new Headers({ a: 'caf\\u0100' })",
        "new Headers([['a']])",
        "new Blob([], 123)",
        "new Blob([], 'abc')",
        "new Blob([], { endings: 'other' })",
        "new Blob(null)",
        "new File([])",
        "new Request('https://x.test/', { headers: null })",
    ],
)
def test_webidl_arguments_that_must_throw_a_type_error(call):
    assert eval_js(f"try {{ {call}; return 'made' }} catch (e) {{ return e.name }}") == "TypeError"


def test_a_throwing_to_string_propagates_unchanged():
    v = eval_js("""
      const boom = new Error('mine');
      try { new Blob([{ toString() { throw boom } }]) } catch (e) { return e === boom }
    """)
    assert v is True


def test_blob_options_are_read_endings_then_type_and_native_endings_apply_to_strings():
    v = eval_js("""
      const seen = [];
      const opts = new Proxy({}, { get(t, k) { seen.push(k); return undefined } });
      new Blob([], opts);
      const b = new Blob(['a\\r\\nb\\rc', new Uint8Array([13, 10])], { endings: 'native' });
      return [seen, [...new Uint8Array(await b.arrayBuffer())]];
    """)
    assert v == [["endings", "type"], [97, 10, 98, 10, 99, 13, 10]]


def test_headers_iterators_are_webidl_iterators_that_see_changes():
    v = eval_js("""
      const h = new Headers({ b: '2', a: '1' });
      const it = h.entries();
      const proto = Object.getPrototypeOf(it);
      const first = it.next().value;
      h.append('c', '3');
      const rest = [...it];
      return [Object.prototype.toString.call(it), Object.getPrototypeOf(proto) === Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
        first, rest, [...h.keys()], typeof it.next, Object.getPrototypeOf(h.values()) === proto, h[Symbol.iterator] === h.entries];
    """)
    assert v == [
        "[object Headers Iterator]",
        True,
        ["a", "1"],
        [["b", "2"], ["c", "3"]],
        ["a", "b", "c"],
        "function",
        True,
        True,
    ]


def test_a_request_from_a_request_with_new_headers_gets_no_content_type():
    v = eval_js("""
      const r = new Request('https://x.test/', { method: 'POST', body: 'hi' });
      const r2 = new Request(r, { headers: { a: '1' } });
      return [[...r2.headers], await r2.text(), r.bodyUsed];
    """)
    assert v == [[["a", "1"]], "hi", True]


def test_a_request_from_a_request_whose_body_is_locked_is_a_type_error():
    v = eval_js("""
      const r = new Request('https://x.test/', { method: 'POST', body: 'hi' });
      r.body.getReader();
      try { new Request(r); return 'made' } catch (e) { return [e.name, r.bodyUsed] }
    """)
    assert v == ["TypeError", False]


def test_iterating_many_headers_is_not_quadratic():
    """3,000 headers iterated, each step of the iterator reusing the sorted list (well within the 1 s CPU budget)."""
    v = eval_js("""
      const h = new Headers();
      for (let i = 0; i < 3000; i++) h.append('x-' + i, 'v');
      let n = 0;
      for (const [k] of h) n++;
      h.forEach(() => n++);
      return n;
    """)
    assert v == 6000
