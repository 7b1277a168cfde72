"""FormData, form bodies (multipart/form-data both ways, application/x-www-form-urlencoded), and the
small worker globals: self, navigator, CustomEvent, queueMicrotask, Response.json, AbortSignal."""

from __future__ import annotations

import json

from shardrun.runtime.calls import HttpRequest

from .conftest import eval_js, run_js


def test_formdata_methods():
    assert eval_js("""
      const f = new FormData();
      f.append('a', '1'); f.append('b', 2); f.append('a', '3');
      const got = [f.get('a'), f.getAll('a'), f.has('b'), f.get('nope'), f.getAll('nope')];
      f.set('a', 'only');
      f.delete('b');
      const seen = [];
      f.forEach((v, k, o) => seen.push([k, v, o === f]));
      f.append('c', 'x');
      return [got, [...f], [...f.keys()], [...f.values()], [...f.entries()], seen, Object.prototype.toString.call(f)];
    """) == [
        ["1", ["1", "3"], True, None, []],
        [["a", "only"], ["c", "x"]],
        ["a", "c"],
        ["only", "x"],
        [["a", "only"], ["c", "x"]],
        [["a", "only", True]],
        "[object FormData]",
    ]


def test_formdata_file_entries():
    assert eval_js("""
      const f = new FormData();
      f.append('blob', new Blob(['ab'], { type: 'text/x' }));
      f.append('named', new Blob(['c']), 'c.txt');
      const file = new File(['d'], 'd.bin', { type: 'application/x-d' });
      f.append('file', file);
      f.append('renamed', file, 'e.bin');
      const e = (k) => { const v = f.get(k); return [v instanceof File, v.name, v.type, v.size]; };
      return [e('blob'), e('named'), f.get('file') === file, e('renamed')];
    """) == [[True, "blob", "text/x", 2], [True, "c.txt", "", 1], True, [True, "e.bin", "application/x-d", 1]]


def test_formdata_errors():
    assert (
        eval_js("""
      const f = new FormData(), out = [];
      for (const fn of [() => f.append('a'), () => f.append('a', 'b', 'name.txt'), () => new FormData({}), () => f.forEach(1)]) {
        try { fn(); out.push('no error'); } catch (e) { out.push(e.name); }
      }
      return out;
    """)
        == ["TypeError"] * 4
    )


def test_a_formdata_body_is_multipart_with_its_boundary():
    assert eval_js("""
      const f = new FormData();
      f.append('name', 'Tom "T"\\nline');
      f.append('up', new File(['file body'], 'a.txt', { type: 'text/plain' }));
      const r = new Request('https://a.test/', { method: 'POST', body: f });
      const ct = r.headers.get('content-type');
      const boundary = ct.split('boundary=')[1];
      const text = await r.clone().text();
      const back = await r.formData();
      return [ct.startsWith('multipart/form-data; boundary='), text.startsWith('--' + boundary + '\\r\\n'),
              text.endsWith('--' + boundary + '--\\r\\n'),
              text.includes('Content-Disposition: form-data; name="name"\\r\\n\\r\\nTom "T"\\r\\nline\\r\\n'),
              text.includes('name="up"; filename="a.txt"\\r\\nContent-Type: text/plain\\r\\n\\r\\nfile body\\r\\n'),
              back.get('name'), back.get('up').name, await back.get('up').text()];
    """) == [True, True, True, True, True, 'Tom "T"\r\nline', "a.txt", "file body"]


def test_form_data_of_a_multipart_request_as_a_browser_sends_it():
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="title"\r\n\r\n'
        b"caf\xc3\xa9\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="pic"; filename="p%22q.png"\r\n'
        b"Content-Type: image/png\r\n\r\n"
        b"\x89PNG\r\n\x00\xff\r\n"
        b"--XyZ--\r\n"
    )
    src = """export default { async fetch(req) {
      const f = await req.formData(), pic = f.get('pic');
      return Response.json([f.get('title'), pic.name, pic.type, Array.from(await pic.bytes()), req.bodyUsed]);
    } }"""
    r = run_js(
        src,
        HttpRequest("POST", "https://w.test/", [("content-type", "multipart/form-data; boundary=XyZ")], body),
        kind="fetch",
    )
    assert r.ok, r.error
    assert json.loads(r.value.body) == ["caf\u00e9", 'p"q.png', "image/png", [0x89, 80, 78, 71, 13, 10, 0, 255], True]


def test_form_data_of_a_urlencoded_body():
    assert eval_js("""
      const r = new Request('https://a.test/', { method: 'POST', body: new URLSearchParams('a=1&b=x+y&a=%C3%A9') });
      const ct = r.headers.get('content-type');
      const f = await r.formData();
      return [ct, f.getAll('a'), f.get('b')];
    """) == ["application/x-www-form-urlencoded;charset=UTF-8", ["1", "\u00e9"], "x y"]


def test_form_data_errors():
    assert (
        eval_js("""
      const out = [];
      const cases = [
        new Response('a=1', { headers: { 'content-type': 'text/plain' } }),
        new Response('x', { headers: { 'content-type': 'multipart/form-data' } }),
        new Response('no boundary here', { headers: { 'content-type': 'multipart/form-data; boundary=b' } }),
        new Response('--b\\r\\nContent-Disposition: form-data; name="a"\\r\\n\\r\\nunterminated', { headers: { 'content-type': 'multipart/form-data; boundary=b' } }),
      ];
      for (const r of cases) { try { await r.formData(); out.push('parsed'); } catch (e) { out.push(e.name + ' ' + /Content-Type|malformed/.test(e.message)); } }
      return out;
    """)
        == ["TypeError true"] * 4
    )


# ---- small globals ------------------------------------------------------------------
def test_self_and_navigator():
    assert eval_js("""
      return [self === globalThis, typeof self, navigator.userAgent, navigator.hardwareConcurrency,
              Object.prototype.toString.call(navigator)];
    """) == [True, "object", "shardrun", 1, "[object Navigator]"]


def test_custom_event_and_the_other_small_globals():
    assert eval_js("""
      const t = new EventTarget();
      let detail;
      t.addEventListener('ping', (e) => { detail = e.detail; });
      t.dispatchEvent(new CustomEvent('ping', { detail: { n: 1 } }));
      let micro = false;
      queueMicrotask(() => { micro = true; });
      await null;
      const j = Response.json({ a: 1 }, { status: 201 });
      const aborted = AbortSignal.any([new AbortController().signal, AbortSignal.abort('why')]);
      const timed = AbortSignal.timeout(1);
      await new Promise((r) => setTimeout(r, 5));
      return [detail, new CustomEvent('x').detail, new CustomEvent('x') instanceof Event, micro,
              [j.status, j.headers.get('content-type'), await j.json()], [aborted.aborted, aborted.reason],
              [timed.aborted, timed.reason.name]];
    """) == [
        {"n": 1},
        None,
        True,
        True,
        [201, "application/json", {"a": 1}],
        [True, "why"],
        [True, "TimeoutError"],
    ]
