"""Streams and the Fetch body model: ReadableStream / WritableStream / TransformStream, the text
streams, and Request / Response bodies as streams (bodyUsed, clone, re-wrapping, the runtime
reading a streamed Response to its end within max_output_bytes)."""

from __future__ import annotations

from typing import Any

import pytest

from shardrun.cli.oneshot import run_once
from shardrun.engine.limits import Limits
from shardrun.runtime.calls import HttpRequest
from shardrun.runtime.script import Script

from .conftest import eval_js, run_js
from .origin import Origin
from .test_fetch import allow

GET = HttpRequest("GET", "https://w.test/")


def fetch_handler(body: str, req: HttpRequest = GET, limits: Limits | None = None) -> Any:
    return run_js(
        "export default { async fetch(request, env, ctx) {\n" + body + "\n} }", req, kind="fetch", limits=limits
    )


# ---- streams -----------------------------------------------------------------------
def test_stream_globals_are_lazy_getters_until_first_read():
    assert eval_js("""
      const d = Object.getOwnPropertyDescriptor(globalThis, 'TransformStream');
      const before = typeof d.get;
      void ReadableStream;   // loads the chunk: every stream global is now a plain value
      const after = Object.getOwnPropertyDescriptor(globalThis, 'TransformStream');
      return [before, typeof after.value, 'get' in after, ReadableStream.name, WritableStream.name, TextDecoderStream.name];
    """) == ["function", "function", False, "ReadableStream", "WritableStream", "TextDecoderStream"]


def test_default_reader_and_async_iteration():
    assert eval_js("""
      const make = () => new ReadableStream({ start(c) { c.enqueue('a'); c.enqueue('b'); c.close(); } });
      const r = make().getReader();
      const reads = [await r.read(), await r.read(), await r.read()];
      const it = [];
      for await (const x of make()) it.push(x);
      const s = make();
      s.getReader();
      let second;
      try { s.getReader(); } catch (e) { second = e.name; }
      return [reads, it, s.locked, second];
    """) == [
        [{"value": "a", "done": False}, {"value": "b", "done": False}, {"done": True}],
        ["a", "b"],
        True,
        "TypeError",
    ]


def test_tee_pipe_through_and_pipe_to():
    assert eval_js("""
      const src = new ReadableStream({ start(c) { c.enqueue('x'); c.enqueue('y'); c.close(); } });
      const [a, b] = src.tee();
      const upper = new TransformStream({ transform(ch, c) { c.enqueue(ch.toUpperCase()); } });
      const got = [];
      await a.pipeThrough(upper).pipeTo(new WritableStream({ write(ch) { got.push(ch); } }));
      const other = [];
      for await (const x of b) other.push(x);
      return [got, other];
    """) == [["X", "Y"], ["x", "y"]]


def test_byob_reader_reads_into_the_callers_buffer():
    assert eval_js("""
      const s = new ReadableStream({ type: 'bytes', start(c) { c.enqueue(new Uint8Array([1, 2, 3, 4, 5])); c.close(); } });
      const r = s.getReader({ mode: 'byob' });
      const first = await r.read(new Uint8Array(2));
      const rest = await r.read(new Uint8Array(8));
      return [Array.from(first.value), Array.from(rest.value), r instanceof ReadableStreamBYOBReader];
    """) == [[1, 2], [3, 4, 5], True]


def test_backpressure_pull_stops_at_the_high_water_mark():
    assert eval_js("""
      let pulls = 0;
      const s = new ReadableStream({ pull(c) { pulls++; c.enqueue(pulls); } }, new CountQueuingStrategy({ highWaterMark: 3 }));
      await new Promise((r) => setTimeout(r, 5));
      const idle = pulls;
      const r = s.getReader();
      await r.read();
      await new Promise((r) => setTimeout(r, 5));
      const w = new WritableStream({ write() { return new Promise(() => {}); } }, new ByteLengthQueuingStrategy({ highWaterMark: 4 }));
      const wr = w.getWriter();
      wr.write(new Uint8Array(3));
      const ds1 = wr.desiredSize;
      wr.write(new Uint8Array(3));
      return [idle, pulls, ds1, wr.desiredSize];
    """) == [3, 4, 1, -2]


def test_text_encoder_and_decoder_streams_split_characters_across_chunks():
    assert eval_js("""
      const te = new TextEncoderStream();
      const w = te.writable.getWriter();
      w.write('h\\u00e9 \\ud83d'); w.write('\\ude00!'); w.write('\\ud800'); w.close();
      const bytes = await new Response(te.readable).bytes();
      const parts = [bytes.slice(0, 2), bytes.slice(2, 6), bytes.slice(6)];   // cuts inside é and the emoji
      const src = new ReadableStream({ start(c) { for (const p of parts) c.enqueue(p); c.close(); } });
      let text = '';
      for await (const s of src.pipeThrough(new TextDecoderStream())) text += s;
      const d = new TextDecoderStream('utf-8', { fatal: true });
      let fatal;
      const dw = d.writable.getWriter();
      dw.write(new Uint8Array([0xff])).catch(() => {});
      try { await d.readable.getReader().read(); } catch (e) { fatal = e.name; }
      return [te.encoding, Array.from(bytes), text, d.fatal, fatal];
    """) == [
        "utf-8",
        [104, 0xC3, 0xA9, 32, 0xF0, 0x9F, 0x98, 0x80, 33, 0xEF, 0xBF, 0xBD],
        "h\u00e9 \U0001f600!\ufffd",
        True,
        "TypeError",
    ]


# ---- bodies --------------------------------------------------------------------------
def test_body_is_null_only_where_there_is_no_body():
    assert eval_js("""
      const post = new Request('https://a.test/', { method: 'POST', body: 'x' });
      return [new Response().body, new Response(null).body, new Response(null, { status: 204 }).body,
              new Request('https://a.test/').body, new Response('').body instanceof ReadableStream,
              post.body instanceof ReadableStream, new Response(new Uint8Array(0)).body instanceof ReadableStream];
    """) == [None, None, None, None, True, True, True]


def test_a_body_is_read_once_including_an_empty_one():
    assert eval_js("""
      const out = [];
      for (const body of ['text', '', new Uint8Array([1])]) {
        const r = new Response(body);
        out.push(r.bodyUsed);
        await r.arrayBuffer();
        out.push(r.bodyUsed);
        try { await r.text(); out.push('read twice'); } catch (e) { out.push(e.name); }
        try { r.clone(); out.push('cloned'); } catch (e) { out.push(e.name); }
      }
      const none = new Response();   // no body: nothing to use up (Fetch)
      out.push(await none.text(), await none.text(), none.bodyUsed);
      return out;
    """) == [False, True, "TypeError", "TypeError"] * 3 + ["", "", False]


def test_reading_the_stream_uses_the_body_and_text_reads_a_stream_body():
    assert eval_js("""
      const r = new Response('streamed');
      const reader = r.body.getReader();
      const { value } = await reader.read();
      let after;
      try { await r.text(); } catch (e) { after = e.name; }
      const chunks = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('a,')); c.enqueue(new TextEncoder().encode('b')); c.close(); } });
      const j = new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('{"k":1}')); c.close(); } }));
      const blob = await new Response(new Blob(['xy'], { type: 'text/x' })).blob();
      return [new TextDecoder().decode(value), r.bodyUsed, after, await new Response(chunks).text(), await j.json(),
              [blob.type, blob.size]];
    """) == ["streamed", True, "TypeError", "a,b", {"k": 1}, ["text/x", 2]]


def test_stream_chunks_must_be_uint8arrays():
    assert eval_js("""
      const r = new Response(new ReadableStream({ start(c) { c.enqueue('not bytes'); c.close(); } }));
      try { await r.text(); return 'read'; } catch (e) { return [e.name, e.message]; }
    """) == ["TypeError", "a body stream chunk must be a Uint8Array, got string"]


def test_a_locked_or_read_stream_cannot_become_a_body():
    assert (
        eval_js("""
      const s = new ReadableStream();
      s.getReader();
      try { new Response(s); return 'accepted'; } catch (e) { return e.name; }
    """)
        == "TypeError"
    )


def test_clone_tees_a_stream_body():
    assert eval_js("""
      const r = new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array([104, 105])); c.close(); } }), { status: 201 });
      const c = r.clone();
      const s = new Response('plain'); void s.body; const sc = s.clone();
      return [await r.text(), await c.text(), c.status, await sc.text(), await s.text()];
    """) == ["hi", "hi", 201, "plain", "plain"]


def test_request_from_a_request_takes_its_body_and_adds_no_content_type():
    assert eval_js("""
      const a = new Request('https://a.test/', { method: 'POST', body: 'payload', headers: { 'content-type': 'application/json' } });
      const b = new Request(a, { headers: { 'x-only': '1' } });
      const c = new Request('https://a.test/', { method: 'POST', body: new Uint8Array([1]) });
      const d = new Request(c, { headers: {} });
      return [[...b.headers], a.bodyUsed, await b.text(), [...d.headers], (await d.bytes()).length];
    """) == [[["x-only", "1"]], True, "payload", [], 1]


def test_blob_stream_gives_the_bytes():
    assert eval_js("""
      const parts = [];
      for await (const c of new Blob(['ab', new Uint8Array([99])]).stream()) parts.push(...c);
      return parts;
    """) == [97, 98, 99]


def test_large_body_goes_through_a_stream_in_bounded_chunks():
    assert eval_js("""
      const n = 10 * 1000 * 1000;
      const r = new Response(new Uint8Array(n).fill(7));
      let total = 0, biggest = 0, count = 0;
      for await (const c of r.body) { total += c.length; count++; if (c.length > biggest) biggest = c.length; }
      return [total, biggest <= 65536, count >= 150, r.bodyUsed];
    """) == [10_000_000, True, True, True]


STREAM_10MB = """export default { async task(p) {
  const chunk = new Uint8Array(1 << 16).fill(120);
  let left = 160;   // 10 MiB in 64 KiB chunks, made as they are pulled
  const body = new ReadableStream({ pull(c) { if (left-- === 0) c.close(); else c.enqueue(chunk.slice()); } });
  const res = new Response(body.pipeThrough(new TransformStream()));
  if (p.whole) return (await res.arrayBuffer()).byteLength;
  let n = 0;
  for await (const c of res.body) n += c.length;
  return [n, res.bodyUsed];
} }"""


def test_a_10_mb_streamed_body_keeps_memory_flat():
    """10 MiB through a Response body and a TransformStream, read chunk by chunk, in a 6 MiB heap."""
    small = Limits(memory_mb=6, cpu_ms=20_000)
    r = run_once(Script.from_source(STREAM_10MB, "w.js"), "task", {"whole": False}, small)
    assert r.ok, r.error
    assert r.value == [10 << 20, True]
    # The control: the same body held whole does not fit in that heap.
    r = run_once(Script.from_source(STREAM_10MB, "w.js"), "task", {"whole": True}, small)
    assert not r.ok


# ---- what the fetch handler returns -------------------------------------------------
def test_rewrapped_response_keeps_its_body_and_headers():
    r = fetch_handler("""
      const res = new Response('the body', { status: 202, headers: { 'x-a': '1' } });
      const out = new Response(res.body, res);
      out.headers.set('access-control-allow-origin', '*');
      return out;
    """)
    assert r.ok, r.error
    assert r.value.status == 202 and r.value.body == b"the body"
    assert ("x-a", "1") in r.value.headers and ("access-control-allow-origin", "*") in r.value.headers
    assert ("content-type", "text/plain;charset=UTF-8") in r.value.headers


def test_a_streamed_response_is_read_to_its_end_across_timers():
    r = fetch_handler("""
      const enc = new TextEncoder();
      let i = 0;
      return new Response(new ReadableStream({
        async pull(c) {
          await new Promise((res) => setTimeout(res, 1));
          if (i === 3) return c.close();
          c.enqueue(enc.encode('part' + i++ + ';'));
        },
      }), { headers: { 'content-type': 'text/event-stream' } });
    """)
    assert r.ok, r.error
    assert r.value.body == b"part0;part1;part2;"
    assert ("content-type", "text/event-stream") in r.value.headers


def test_a_request_body_arrives_as_a_stream():
    req = HttpRequest("POST", "https://w.test/", [("content-type", "text/plain")], b"abc" * 1000)
    r = fetch_handler(
        "let n = 0; for await (const c of request.body) n += c.length; return new Response(String(n) + ' ' + request.bodyUsed);",
        req,
    )
    assert r.ok, r.error
    assert r.value.body == b"3000 true"


def test_a_10_mb_streamed_response_within_max_output_bytes():
    r = fetch_handler("""
      const chunk = new Uint8Array(1 << 16).fill(120);
      let left = 160;   // 10 MiB in 64 KiB chunks
      return new Response(new ReadableStream({ pull(c) { if (left-- === 0) c.close(); else c.enqueue(chunk.slice()); } }));
    """)
    assert r.ok, r.error
    assert len(r.value.body) == 10 << 20 and r.value.body[:3] == b"xxx"


@pytest.mark.parametrize("limit", [1000, 4096])
def test_a_streamed_response_over_max_output_bytes_is_refused(limit):
    r = fetch_handler(
        """
      return new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(512)); } }));
    """,
        limits=Limits(max_output_bytes=limit),
    )
    assert not r.ok
    assert r.error.code == "E_RESPONSE_TOO_LARGE" and f"over the limit of {limit}" in r.error.message


def test_a_used_or_locked_returned_stream_body_is_an_error():
    r = fetch_handler("const res = new Response('x'); res.body.getReader(); return res;")
    assert not r.ok and r.error.name == "TypeError" and "already been used" in r.error.message


def test_fetch_sends_a_stream_request_body():
    o = Origin()
    try:
        src = """export default { async task(p) {
          const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('str')); c.enqueue(new Uint8Array([101, 97, 109])); c.close(); } });
          const req = new Request(p.base + '/echo', { method: 'POST', body });
          const r = await fetch(req);
          return [(await r.json()).body, req.bodyUsed];
        } }"""
        r = run_once(Script.from_source(src, "w.js"), "task", {"base": o.base}, fetch=allow(o))
    finally:
        o.close()
    assert r.ok, r.error
    assert r.value == ["stream", True]


@pytest.mark.parametrize(
    "src, body",
    [
        # untouched: the stream's own source is sent without reading the stream
        ("const res = new Response('hi', {headers: {'x-a': '1'}}); return new Response(res.body, res);", b"hi"),
        # a read through the stream counts: what is left is sent, or the body is used
        (
            "const res = new Response('hi'); const r = res.body.getReader(); await r.read(); r.releaseLock(); return res;",
            None,
        ),
        ("const res = new Response('hi'); res.body.cancel(); return res;", None),
        (
            "const res = new Response(new Uint8Array([104, 105])); const [a] = res.body.tee(); return new Response(a);",
            b"hi",
        ),
        (
            "const res = new Response('abc'); const s = res.body.pipeThrough(new TransformStream({ transform(c, k) { k.enqueue(c.subarray(1)) } }));"
            " return new Response(s);",
            b"bc",
        ),
    ],
)
def test_a_returned_body_stream_is_sent_as_read_or_refused_once_used(src, body):
    r = fetch_handler(src)
    if body is None:
        assert not r.ok and "already been used" in r.error.message
    else:
        assert r.ok, r.error
        assert r.value.body == body
