"""Web API micro-benchmarks: CompressionStream / DecompressionStream and TextDecoder on 1 MiB.

    .venv/bin/python -m bench.webapi_bench [--seconds 1.0]

Each row is the median per call of 5 timed loops in a warm isolate (the task builds nothing but
the stream or decoder it measures: the input is made at the script's top level), next to the
host doing the same work directly in Python (zlib, bytes.decode), measured in the same run.
"""

from __future__ import annotations

import argparse
import time
import zlib
from collections.abc import Callable
from typing import Any

from bench.runtime_bench import per_call_us
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script

MIB = 1 << 20
LINE = '{{"id":{i},"name":"item {i}","tags":["alpha","beta"],"price":{p}}}\n'


def payload() -> bytes:
    out, i = [], 0
    while sum(map(len, out)) < MIB:
        out.append(LINE.format(i=i, p=i * 37 % 1000).encode())
        i += 1
    return b"".join(out)[:MIB]


SOURCE = r"""
const lines = [];
for (let i = 0, n = 0; n < 1048576; i++) { const l = '{"id":' + i + ',"name":"item ' + i + '","tags":["alpha","beta"],"price":' + (i * 37 % 1000) + '}\n'; lines.push(l); n += l.length }
const text = lines.join('').slice(0, 1048576), bytes = new TextEncoder().encode(text);
const sjis = new Uint8Array(1048576).map((_, i) => i % 2 ? 0xa0 : 0x82);
async function pipe(input, ts) {
  const w = ts.writable.getWriter(), parts = [];
  w.write(input); w.close();
  let n = 0;
  for await (const c of ts.readable) { parts.push(c); n += c.length }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length }
  return out;
}
let gz = null;
export default { async task(what) {
  if (gz === null) gz = await pipe(bytes, new CompressionStream('gzip'));
  if (what === 'gzip') return (await pipe(bytes, new CompressionStream('gzip'))).length;
  if (what === 'gunzip') return (await pipe(gz, new DecompressionStream('gzip'))).length;
  if (what === 'utf8') return new TextDecoder().decode(bytes).length;
  if (what === 'sjis') return new TextDecoder('shift_jis').decode(sjis).length;
} }
"""


def call(w: WorkerIsolate, what: str) -> Callable[[], Any]:
    def run() -> Any:
        c = w.submit("task", what)
        while not c.finished:
            wake = w.pump()
            if wake is not None:
                time.sleep(max(0.0, wake - time.monotonic()))
        assert c.result is not None and c.result.ok, c.result
        return c.result.value

    return run


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each timed loop")
    seconds = ap.parse_args(argv).seconds
    data = payload()
    gz = _gzip(data)
    sjis = bytes(0xA0 if i % 2 else 0x82 for i in range(MIB))
    w = WorkerIsolate(Script.from_source(SOURCE, "webapi.js"))
    rows = [
        ("gzip 1 MiB through CompressionStream", call(w, "gzip"), lambda: _gzip(data)),
        ("gunzip it through DecompressionStream", call(w, "gunzip"), lambda: zlib.decompress(gz, wbits=31)),
        ("TextDecoder utf-8, 1 MiB (host codec)", call(w, "utf8"), lambda: data.decode()),
        ("TextDecoder shift_jis, 1 MiB (host)", call(w, "sjis"), lambda: sjis.decode("cp932")),
    ]
    print("| operation | shardrun ms | host Python alone ms |\n|---|---:|---:|")
    for name, js, py in rows:
        print(f"| {name} | {per_call_us(js, seconds) / 1000:.2f} | {per_call_us(py, seconds) / 1000:.2f} |")


def _gzip(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=31)  # zlib's default level, as CompressionStream uses
    return c.compress(data) + c.flush()


if __name__ == "__main__":
    main()
