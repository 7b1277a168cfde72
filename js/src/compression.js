// CompressionStream / DecompressionStream (Compression Standard: gzip, deflate, deflate-raw),
// TransformStreams whose (de)compressor is the host's zlib, held as a host handle per stream
// (shardrun/runtime/hostfns/compression.py). The host hands output over in pieces of at most
// 1 MiB; the output of one input chunk is capped at a quarter of the isolate's heap limit (it
// is queued in the heap before anyone can read it), so a decompression bomb fails with a
// RangeError instead of running the isolate out of memory.
(function (sr) {
  "use strict";
  const { TypeErr, RangeErr, Str, q, is, isView, AB, U8, bytesLen } = sr.prim;
  const host = sr.host, FORMATS = { __proto__: null, gzip: 1, deflate: 1, "deflate-raw": 1 };
  // A stream dropped unfinished gives its handle back when it is collected.
  const registry = new FinalizationRegistry((h) => { try { host("compression.close", h); } catch (_) {} });
  function transformStream(format, decompress, what) {
    format = Str(format);
    if (!FORMATS[format]) throw new TypeErr(what + ": unsupported format " + q(format) + " (gzip, deflate or deflate-raw)");
    sr.load("streams");
    const h = host("compression.open", format, decompress);
    const drop = () => host("compression.close", h);
    const cap = (sr.limits && sr.limits.maxHeapBytes > 0 ? sr.limits.maxHeapBytes : 1 << 30) / 4;
    function emit(c, r) {   // r: [bytes, more] or [null, error message]
      let total = 0;
      for (;;) {
        if (r[0] === null) throw new TypeErr(what + ": " + r[1]);
        const n = bytesLen(r[0]);
        if (n) {
          total += n;
          if (total > cap) throw new RangeErr(what + ": one chunk decompresses to over " + cap + " bytes, a quarter of the isolate's memory limit");
          sr.tsEnqueue(c, r[0]);
        }
        if (!r[1]) return;
        r = host("compression.more", h);
      }
    }
    const transformer = {
      transform(chunk, c) {
        try {
          if (!is(chunk, AB) && !isView(chunk)) throw new TypeErr(what + ": a chunk must be an ArrayBuffer or an ArrayBufferView");
          emit(c, host("compression.push", h, is(chunk, AB) ? new U8(chunk) : new U8(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
        } catch (e) { drop(); throw e; }
      },
      flush(c) {
        try { emit(c, host("compression.finish", h)); } catch (e) { drop(); throw e; }
      },
      cancel() { drop(); },
    };
    registry.register(transformer, h);
    return sr.newTransform(transformer);
  }
  class CompressionStream {
    #ts;
    constructor(format) {
      if (arguments.length === 0) throw new TypeErr("CompressionStream: the format argument is required");
      this.#ts = transformStream(format, false, "CompressionStream");
    }
    get readable() { return sr.tsReadable(this.#ts); }
    get writable() { return sr.tsWritable(this.#ts); }
    get [Symbol.toStringTag]() { return "CompressionStream"; }
  }
  class DecompressionStream {
    #ts;
    constructor(format) {
      if (arguments.length === 0) throw new TypeErr("DecompressionStream: the format argument is required");
      this.#ts = transformStream(format, true, "DecompressionStream");
    }
    get readable() { return sr.tsReadable(this.#ts); }
    get writable() { return sr.tsWritable(this.#ts); }
    get [Symbol.toStringTag]() { return "DecompressionStream"; }
  }
  sr.install({ __proto__: null, CompressionStream, DecompressionStream });
});
