// Blob and File: the second part of the fetch_api chunk (after headers.js, before fetch_api.js,
// which takes what it needs of them from sr.blobParts, private to the prelude).
//
// Like the rest of the chunk it is evaluated lazily, maybe after tenant code patched
// built-ins, so it uses core's primordials (sr.prim) and never a global.
(function (sr) {
  "use strict";
  const { push, list, q, is, Num, TypeErr, iter, code, lower, U8, AB, isView, bytesLen } = sr.prim;
  const { toStr, dict, asObject, utf8, fromUtf8 } = sr.fetchParts;
  const streams = () => { sr.load("streams"); return sr; };

  // ---- Blob ------------------------------------------------------------------
  let isBlob, blobBytes, blobType, blobOf;
  function copyBytes(p) {   // an ArrayBuffer or a view -> a fresh Uint8Array, else null
    if (is(p, AB)) return new U8(p.slice(0));
    if (isView(p)) return new U8(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength));
    return null;
  }
  // Parts that were strings are kept as strings until the options are read: `endings` applies to them only.
  function partBytes(p) { return isBlob(p) ? blobBytes(p) : copyBytes(p) || toStr(p, "a Blob part"); }
  const nativeEndings = (p) => typeof p === "string" ? p.replace(/\r\n?/g, "\n") : p;
  // BlobPropertyBag, its members read in lexicographic order: endings, then type.
  function blobOptions(opts, what) {
    const o = dict(opts, what + ": options");
    const e = o.endings;
    const endings = e === undefined ? "transparent" : toStr(e, "endings");
    if (endings !== "transparent" && endings !== "native") throw new TypeErr(what + ": endings must be \"transparent\" or \"native\", got " + q(endings));
    const t = o.type !== undefined ? toStr(o.type, what + " type") : "";
    let ok = true;
    for (let i = 0; i < t.length; i++) { const c = code(t, i); if (c < 0x20 || c > 0x7e) ok = false; }
    return [ok ? lower(t) : "", endings, o];
  }
  function concat(chunks) {
    let n = 0;
    for (let i = 0; i < chunks.length; i++) { if (typeof chunks[i] === "string") chunks[i] = utf8(chunks[i]); n += bytesLen(chunks[i]); }
    const u = new U8(n);
    for (let i = 0, o = 0; i < chunks.length; i++) { u.set(chunks[i], o); o += bytesLen(chunks[i]); }
    return u;
  }
  // WebIDL long long: ToNumber, then NaN and infinities are 0, truncated, wrapped modulo 2^64.
  function toLongLong(v) {
    let n = Num(v);
    if (n !== n || n === Infinity || n === -Infinity) return 0;
    n = Math.trunc(n);
    return Number(BigInt.asIntN(64, BigInt(n)));
  }
  class Blob {
    #bytes;
    #type;
    constructor(parts = undefined, opts = undefined) {
      const bs = list();
      if (parts !== undefined) {
        if ((typeof parts !== "object" && typeof parts !== "function") || parts === null) throw new TypeErr("Blob: parts must be a sequence");
        const m = parts[iter];
        if (typeof m !== "function") throw new TypeErr("Blob: parts must be a sequence");
        for (const p of { [iter]: () => m.call(parts) }) push(bs, partBytes(p));
      }
      const o = blobOptions(opts, "Blob"), t = o[0], endings = o[1];   // by index: a patched Array iterator is not consulted
      if (endings === "native") for (let i = 0; i < bs.length; i++) bs[i] = nativeEndings(bs[i]);
      this.#bytes = concat(bs);
      this.#type = t;
    }
    static {
      isBlob = (o) => asObject(o) && #bytes in o;
      blobBytes = (b) => b.#bytes;
      blobType = (b) => b.#type;
      // A Blob made by the runtime from bytes it owns (not copied again).
      blobOf = (bytes, type) => { const b = new Blob(); b.#bytes = bytes; b.#type = type; return b; };
      sr.blobBytes = blobBytes;
      sr.isBlob = isBlob;
      // structuredClone of a Blob or a File: the same bytes (never changed in place), type, name and date.
      sr.cloneBlob = (b) => isFile(b) ? fileOf(b.#bytes, b.#type, b) : blobOf(b.#bytes, b.#type);
    }
    get size() { return bytesLen(this.#bytes); }
    get type() { return this.#type; }
    slice(start = 0, end = this.size, type = "") {
      const n = this.size;
      const rel = (x) => (x < 0 ? (n + x > 0 ? n + x : 0) : x < n ? x : n);
      const s = rel(Math.trunc(start) || 0), e = rel(Math.trunc(end) || 0);
      return blobOf(this.#bytes.slice(s, s > e ? s : e), sliceType(type));
    }
    async arrayBuffer() { return this.#bytes.slice().buffer; }
    async bytes() { return this.#bytes.slice(); }
    async text() { return fromUtf8(this.#bytes); }
    stream() { return streams().streamOf(this.#bytes); }
    get [Symbol.toStringTag]() { return "Blob"; }
  }
  function sliceType(t) {
    if (t === undefined) return "";
    t = toStr(t, "the content type");
    for (let i = 0; i < t.length; i++) { const c = code(t, i); if (c < 0x20 || c > 0x7e) return ""; }
    return lower(t);
  }
  let isFile, fileOf;
  class File extends Blob {
    #name;
    #lastModified;
    constructor(parts, name, opts = undefined) {
      if (arguments.length < 2) throw new TypeErr("File: the parts and name arguments are required");
      const o = dict(opts, "File: options");
      super(parts, o);
      this.#name = toStr(name, "File name");
      const lm = o.lastModified;
      this.#lastModified = lm !== undefined ? toLongLong(lm) : Date.now();
    }
    static {
      isFile = (o) => asObject(o) && #name in o;
      fileOf = (bytes, type, f) => { const c = new File([bytes], f.#name, { type }); c.#lastModified = f.#lastModified; return c; };
    }
    get name() { return this.#name; }
    get lastModified() { return this.#lastModified; }
    get [Symbol.toStringTag]() { return "File"; }
  }

  sr.blobParts = { __proto__: null, Blob, File, isBlob, blobBytes, blobType, copyBytes };
});
