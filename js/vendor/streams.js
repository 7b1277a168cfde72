// Streams: web-streams-polyfill (the WHATWG Streams Standard reference implementation),
// plus TextEncoderStream / TextDecoderStream on the prelude's TextEncoder / TextDecoder and
// what fetch_api needs to turn bodies into streams and back (shared through `sr`).
import {
  ReadableStream, ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamDefaultController,
  ReadableByteStreamController, ReadableStreamBYOBRequest, WritableStream, WritableStreamDefaultWriter,
  WritableStreamDefaultController, TransformStream, TransformStreamDefaultController, ByteLengthQueuingStrategy,
  CountQueuingStrategy,
} from "web-streams-polyfill";

const { uncurry, getter, push, list, is, isView, U8, AB, TypeErr, bytesLen, Str, code, slice } = sr.prim;
// Captured now, while the classes are fresh: the tenant cannot have patched them yet.
const getReader = uncurry(ReadableStream.prototype.getReader);
const read = uncurry(ReadableStreamDefaultReader.prototype.read);
const cancelReader = uncurry(ReadableStreamDefaultReader.prototype.cancel);
const tee = uncurry(ReadableStream.prototype.tee);
const pipeThrough = uncurry(ReadableStream.prototype.pipeThrough);
const locked = getter(ReadableStream.prototype, "locked");
const enqueue = uncurry(ReadableByteStreamController.prototype.enqueue);
const closeBytes = uncurry(ReadableByteStreamController.prototype.close);
const tsEnqueue = uncurry(TransformStreamDefaultController.prototype.enqueue);
const tsReadable = getter(TransformStream.prototype, "readable");
const tsWritable = getter(TransformStream.prototype, "writable");
const hasOwn = uncurry(Object.prototype.hasOwnProperty);

const CHUNK = 65536;   // a body made from bytes is handed out in pieces of at most this size
const isStream = (o) => o !== null && typeof o === "object" && hasOwn(o, "_readableStreamController") && is(o, ReadableStream);
// A byte stream over a Uint8Array (or a string, encoded on the first pull), in bounded chunks.
function streamOf(src) {
  let bytes = typeof src === "string" ? null : src, at = 0;
  return new ReadableStream({
    type: "bytes",
    pull(c) {
      if (bytes === null) { sr.load("encoding"); bytes = sr.utf8(src); }
      if (at >= bytesLen(bytes)) { closeBytes(c); return; }
      const end = at + CHUNK < bytesLen(bytes) ? at + CHUNK : bytesLen(bytes);
      enqueue(c, bytes.slice(at, end));   // a copy: enqueue transfers (detaches) its buffer
      at = end;
      if (at >= bytesLen(bytes)) { closeBytes(c); bytes = null; src = ""; }
    },
  });
}
// The whole of a stream as one Uint8Array; each chunk must be a Uint8Array (Fetch: TypeError
// otherwise). Over `max` bytes the stream is cancelled and `tooLarge(n)` is thrown.
async function readAll(stream, max, tooLarge) {
  const r = getReader(stream), parts = list();
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await read(r);
      if (done) break;
      if (!isView(value) || !is(value, U8)) throw new TypeErr("a body stream chunk must be a Uint8Array, got " + (value === null ? "null" : typeof value));
      n += bytesLen(value);
      if (max !== undefined && n > max) throw tooLarge(n);
      push(parts, value);
    }
  } catch (e) {
    (async () => { try { await cancelReader(r, e); } catch (_) {} })();
    throw e;
  }
  // The reader is kept: a body read to its end stays locked (Fetch: "fully read" never releases it).
  const u = new U8(n);
  for (let i = 0, o = 0; i < parts.length; i++) { u.set(parts[i], o); o += bytesLen(parts[i]); }
  return u;
}
// A stream that is already disturbed and locked: the .body of a body read before anyone asked
// for its stream, as it would be had it been read through a stream.
function usedStream() {
  const s = new ReadableStream({ type: "bytes", start(c) { closeBytes(c); } });
  const r = getReader(s);
  (async () => { try { await read(r); } catch (_) {} })();
  return s;
}
sr.isStream = isStream;
sr.streamOf = streamOf;
sr.readAll = readAll;
sr.usedStream = usedStream;
// For Request/Response clone(): the Streams standard's tee with cloneForBranch2, so the second
// branch gets structured clones of the chunks, never the buffers the first branch hands out.
sr.tee = (s) => {
  const t = tee(s);
  const clone = sr.get("structuredClone");
  const copy = new TransformStream({ transform(chunk, c) { tsEnqueue(c, clone(chunk)); } });
  return [t[0], pipeThrough(t[1], copy)];
};
sr.streamLocked = (s) => locked(s);
sr.streamDisturbed = (s) => s._disturbed === true;
// A reader of a response body the host takes in pieces: read() and cancel(reason) on the captured methods.
sr.bodyReader = (s) => {
  const r = getReader(s);
  return { __proto__: null, read: () => read(r), cancel: (e) => cancelReader(r, e) };
};
// For chunks that build streams of their own (compression): the real classes and the
// controllers' methods, whatever the tenant did to the prototypes.
sr.newReadable = (source, strategy) => new ReadableStream(source, strategy);
sr.newWritable = (sink, strategy) => new WritableStream(sink, strategy);
sr.rsEnqueue = uncurry(ReadableStreamDefaultController.prototype.enqueue);
sr.rsClose = uncurry(ReadableStreamDefaultController.prototype.close);
sr.rsError = uncurry(ReadableStreamDefaultController.prototype.error);
sr.rsDesired = getter(ReadableStreamDefaultController.prototype, "desiredSize");
sr.wsError = uncurry(WritableStreamDefaultController.prototype.error);

// ---- TextEncoderStream / TextDecoderStream (Encoding Standard) -------------------
class TextEncoderStream {
  #ts;
  constructor() {
    let pending = "";   // a lead surrogate that ended the last chunk
    sr.load("encoding");
    this.#ts = new TransformStream({
      transform(chunk, c) {
        let s = pending + Str(chunk);
        pending = "";
        const last = s.length ? code(s, s.length - 1) : 0;
        if (last >= 0xd800 && last <= 0xdbff) { pending = slice(s, -1); s = slice(s, 0, -1); }
        if (s.length) tsEnqueue(c, sr.utf8(s));
      },
      flush(c) { if (pending) tsEnqueue(c, new U8([0xef, 0xbf, 0xbd])); },
    });
  }
  get encoding() { return "utf-8"; }
  get readable() { return tsReadable(this.#ts); }
  get writable() { return tsWritable(this.#ts); }
  get [Symbol.toStringTag]() { return "TextEncoderStream"; }
}
class TextDecoderStream {
  #ts; #dec;
  constructor(label = "utf-8", options = {}) {
    const dec = (this.#dec = new (sr.get("TextDecoder"))(label, options));
    this.#ts = new TransformStream({
      transform(chunk, c) {
        if (!(is(chunk, AB) || isView(chunk))) throw new TypeErr("TextDecoderStream: a chunk must be an ArrayBuffer or a view");
        const s = dec.decode(chunk, { stream: true });
        if (s) tsEnqueue(c, s);
      },
      flush(c) { const s = dec.decode(); if (s) tsEnqueue(c, s); },
    });
  }
  get encoding() { return this.#dec.encoding; }
  get fatal() { return this.#dec.fatal; }
  get ignoreBOM() { return this.#dec.ignoreBOM; }
  get readable() { return tsReadable(this.#ts); }
  get writable() { return tsWritable(this.#ts); }
  get [Symbol.toStringTag]() { return "TextDecoderStream"; }
}

sr.install({
  __proto__: null, ReadableStream, ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamDefaultController,
  ReadableByteStreamController, ReadableStreamBYOBRequest, WritableStream, WritableStreamDefaultWriter,
  WritableStreamDefaultController, TransformStream, TransformStreamDefaultController, ByteLengthQueuingStrategy,
  CountQueuingStrategy, TextEncoderStream, TextDecoderStream,
});
