// CompressionStream / DecompressionStream (Compression Standard: gzip, deflate, deflate-raw).
// The (de)compressor is the host's zlib, held as a host handle per stream
// (shardrun/runtime/hostfns/compression.py). The host hands output over in pieces of at most
// 1 MiB, and the next piece is asked for only when the reader wants more (the readable side's
// backpressure, within one input chunk too), so a decompression bomb costs what its reader keeps.
// The pair behaves as the TransformStream of the standard: writable high-water mark 1,
// readable 0; an error on one side errors the other.
(function (sr) {
  "use strict";
  const { TypeErr, Str, q, is, isView, AB, U8, bytesLen, Prom } = sr.prim;
  const host = sr.host, FORMATS = { __proto__: null, gzip: 1, deflate: 1, "deflate-raw": 1 };
  // A stream dropped unfinished gives its handle back when it is collected.
  const registry = new FinalizationRegistry((h) => { try { host("compression.close", h); } catch (_) {} });
  function pair(format, decompress, what) {
    format = Str(format);
    if (!FORMATS[format]) throw new TypeErr(what + ": unsupported format " + q(format) + " (gzip, deflate or deflate-raw)");
    sr.load("streams");
    const h = host("compression.open", format, decompress);
    let rc, wc, wake = null, demand = false, failed = null;
    const drop = () => host("compression.close", h);
    const fail = (e) => {   // error both sides once
      if (failed) return;
      failed = { e };
      drop();
      try { sr.rsError(rc, e); } catch (_) {}
      try { sr.wsError(wc, e); } catch (_) {}
      if (wake) { const w = wake; wake = null; w(); }
    };
    async function emit(r) {   // r: [bytes, more] or [null, error message]
      for (;;) {
        if (r[0] === null) throw new TypeErr(what + ": " + r[1]);
        demand = false;
        if (bytesLen(r[0])) sr.rsEnqueue(rc, r[0]);   // may pull at once, for a read still waiting
        if (!r[1]) return;
        if (!demand && sr.rsDesired(rc) <= 0) {   // wait for a read before asking the host for more
          await new Prom((resolve) => { wake = resolve; });
          if (failed) throw failed.e;
        }
        r = host("compression.more", h);
      }
    }
    const source = {
      start(c) { rc = c; },
      pull() { demand = true; if (wake) { const w = wake; wake = null; w(); } },
      cancel(reason) { fail(reason); },
    };
    const sink = {
      start(c) { wc = c; },
      async write(chunk) {
        try {
          if (!is(chunk, AB) && !isView(chunk)) throw new TypeErr(what + ": a chunk must be an ArrayBuffer or an ArrayBufferView");
          await emit(host("compression.push", h, is(chunk, AB) ? new U8(chunk) : new U8(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
        } catch (e) { fail(e); throw e; }
      },
      async close() {
        try { await emit(host("compression.finish", h)); sr.rsClose(rc); } catch (e) { fail(e); throw e; }
      },
      abort(reason) { fail(reason); },
    };
    registry.register(source, h);
    return [sr.newReadable(source, { highWaterMark: 0 }), sr.newWritable(sink, { highWaterMark: 1 })];
  }
  class CompressionStream {
    #readable; #writable;
    constructor(format) {
      if (arguments.length === 0) throw new TypeErr("CompressionStream: the format argument is required");
      [this.#readable, this.#writable] = pair(format, false, "CompressionStream");
    }
    get readable() { return this.#readable; }
    get writable() { return this.#writable; }
    get [Symbol.toStringTag]() { return "CompressionStream"; }
  }
  class DecompressionStream {
    #readable; #writable;
    constructor(format) {
      if (arguments.length === 0) throw new TypeErr("DecompressionStream: the format argument is required");
      [this.#readable, this.#writable] = pair(format, true, "DecompressionStream");
    }
    get readable() { return this.#readable; }
    get writable() { return this.#writable; }
    get [Symbol.toStringTag]() { return "DecompressionStream"; }
  }
  sr.install({ __proto__: null, CompressionStream, DecompressionStream });
});
