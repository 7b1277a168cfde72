"""CompressionStream / DecompressionStream on the host's zlib (js/src/compression.js, hostfns/compression.py)."""

from __future__ import annotations

import gzip
import zlib

import pytest

from shardrun.engine.limits import Limits
from shardrun.runtime.hostcall import HostCallError, HostState
from shardrun.runtime.hostfns import compression as host

from .conftest import eval_js, run_js

HELPERS = r"""
  const pipe = async (bytes, ts, pieces = 1) => {
    const w = ts.writable.getWriter(), parts = [];
    const reading = (async () => { for await (const c of ts.readable) parts.push(c) })();
    const step = Math.ceil(bytes.length / pieces) || 1;
    for (let i = 0; i < bytes.length; i += step) await w.write(bytes.subarray(i, i + step));
    await w.close();
    await reading;
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { if (!(p instanceof Uint8Array)) throw new Error('not a Uint8Array'); out.set(p, o); o += p.length; }
    return out;
  };
  const error = async (bytes, format) => {
    try { await pipe(bytes, new DecompressionStream(format)); return 'no error' } catch (e) { return e.name + ': ' + e.message }
  };
"""


def test_round_trips_in_every_format_whole_and_in_pieces():
    got = eval_js(
        HELPERS
        + r"""
      const text = 'hello compression '.repeat(2000), bytes = new TextEncoder().encode(text), out = {};
      for (const f of ['gzip', 'deflate', 'deflate-raw']) {
        const z = await pipe(bytes, new CompressionStream(f), 7);
        const back = new TextDecoder().decode(await pipe(z, new DecompressionStream(f), 13));
        out[f] = [z.length < bytes.length / 10, back === text, Array.from(z.subarray(0, 2))];
      }
      return out"""
    )
    assert got["gzip"][:2] == [True, True] and got["gzip"][2] == [0x1F, 0x8B]
    assert got["deflate"][:2] == [True, True] and got["deflate"][2][0] == 0x78
    assert got["deflate-raw"][:2] == [True, True]


def test_output_is_what_python_zlib_reads_and_python_output_decompresses():
    data = b"shardrun " * 500
    z = list(gzip.compress(data))
    got = eval_js(
        HELPERS
        + f"const fromPy = new Uint8Array({z});"
        + r"""
      const mine = await pipe(new TextEncoder().encode('shardrun '.repeat(500)), new CompressionStream('deflate'));
      return [new TextDecoder().decode(await pipe(fromPy, new DecompressionStream('gzip'), 5)).length, Array.from(mine)]"""
    )
    assert got[0] == len(data)
    assert zlib.decompress(bytes(got[1])) == data


def test_corrupt_truncated_and_trailing_data_are_type_errors():
    good = list(zlib.compress(b"abc" * 100))
    got = eval_js(
        HELPERS
        + f"const good = new Uint8Array({good});"
        + r"""
      const junk = new Uint8Array([...good, 1, 2, 3]);
      return [await error(new Uint8Array([1, 2, 3, 4, 5]), 'deflate'), await error(good.subarray(0, good.length - 3), 'deflate'),
              await error(junk, 'deflate'), await error(new Uint8Array(0), 'gzip'), await error(good, 'gzip')]"""
    )
    assert [g.split(":")[0] for g in got] == ["TypeError"] * 5
    assert "corrupt" in got[0] and "ends before" in got[1] and "after the end" in got[2]


def test_bad_formats_and_chunks():
    got = eval_js(r"""
      const out = [];
      for (const f of ['br', 'GZIP', undefined, 'deflate64']) { try { new CompressionStream(f); out.push('ok') } catch (e) { out.push(e.name) } }
      try { new DecompressionStream() } catch (e) { out.push(e.name) }
      const cs = new CompressionStream('gzip'), w = cs.writable.getWriter();
      cs.readable.getReader().read().catch(() => {});
      try { await w.write('a string'); out.push('ok') } catch (e) { out.push(e.name) }
      out.push(CompressionStream.name, DecompressionStream.name, Object.prototype.toString.call(cs));
      return out""")
    assert got == ["TypeError"] * 5 + [
        "TypeError",
        "CompressionStream",
        "DecompressionStream",
        "[object CompressionStream]",
    ]


def test_a_decompression_bomb_is_handed_over_in_pieces_as_the_reader_asks():
    bomb = list(zlib.compress(b"\0" * (8 << 20), 9))  # 8 MiB of zeros in about 8 KiB
    got = eval_js(
        f"const bomb = new Uint8Array({bomb});"
        + r"""
      const ds = new DecompressionStream('deflate'), w = ds.writable.getWriter(), r = ds.readable.getReader();
      let written = false;
      w.write(bomb).then(() => { written = true });
      const first = (await r.read()).value.length;
      await scheduler.wait(5);
      const waiting = !written;   // backpressure: the rest is not made until it is read
      w.close();
      let n = first, biggest = first;
      for (;;) { const { done, value } = await r.read(); if (done) break; n += value.length; biggest = Math.max(biggest, value.length) }
      return [waiting, n, biggest, written]"""
    )
    assert got == [True, 8 << 20, host.MAX_PIECE, True]


def test_a_bomb_bigger_than_the_heap_can_be_read_through():
    bomb = list(zlib.compress(b"\0" * (64 << 20), 9))
    r = run_js(
        "export default { async task() {"
        f"const bomb = new Uint8Array({bomb});"
        r"""
      const ds = new DecompressionStream('deflate'), w = ds.writable.getWriter(), r = ds.readable.getReader();
      w.write(bomb); w.close();
      let n = 0;
      for (;;) { const { done, value } = await r.read(); if (done) break; n += value.length }
      return n
    } }""",
        limits=Limits(memory_mb=16, cpu_ms=5_000),
    )
    assert r.ok, r.error
    assert r.value == 64 << 20


def test_an_error_on_one_side_errors_the_other():
    got = eval_js(r"""
      const out = [];
      const ds = new DecompressionStream('gzip'), w = ds.writable.getWriter(), r = ds.readable.getReader();
      w.write(new Uint8Array([1, 2, 3])).catch((e) => out.push('write ' + e.name));
      try { await r.read() } catch (e) { out.push('read ' + e.name) }
      const cs = new CompressionStream('gzip'), cw = cs.writable.getWriter();
      await cs.readable.cancel(new Error('not wanted'));
      try { await cw.write(new Uint8Array([1])) } catch (e) { out.push('after cancel ' + e.message) }
      const piped = await new Response(new Response('abc'.repeat(1000)).body.pipeThrough(new CompressionStream('deflate-raw'))
        .pipeThrough(new DecompressionStream('deflate-raw'))).text();
      out.push(piped.length);
      return out.sort()""")
    assert got == [3000, "after cancel not wanted", "read TypeError", "write TypeError"]


def test_host_handles_are_given_back():
    st = HostState()
    h = host.open_stream(st, "gzip", False)
    first, more = host.push(st, h, b"abc")
    out, last = host.finish(st, h)
    assert gzip.decompress(first + out) == b"abc" and more is last is False and len(st) == 0
    d = host.open_stream(st, "deflate", True)
    assert host.push(st, d, b"not zlib")[0] is None and len(st) == 0
    with pytest.raises(HostCallError):
        host.push(st, d, b"")
    with pytest.raises(HostCallError):
        host.open_stream(st, "br", True)
    with pytest.raises(HostCallError):
        host.push(st, host.open_stream(st, "gzip", True), "text")
