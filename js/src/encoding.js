// TextEncoder / TextDecoder (UTF-8 only, as in Workers), per the Encoding Standard.
(function (sr) {
  "use strict";
  function encode(s) {
    const n = s.length;
    const out = new Uint8Array(n * 3);
    let o = 0;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) { out[o++] = c; continue; }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
        else c = 0xfffd;
      }
      if (c < 0x800) { out[o++] = 0xc0 | (c >> 6); out[o++] = 0x80 | (c & 63); }
      else if (c < 0x10000) { out[o++] = 0xe0 | (c >> 12); out[o++] = 0x80 | ((c >> 6) & 63); out[o++] = 0x80 | (c & 63); }
      else { out[o++] = 0xf0 | (c >> 18); out[o++] = 0x80 | ((c >> 12) & 63); out[o++] = 0x80 | ((c >> 6) & 63); out[o++] = 0x80 | (c & 63); }
    }
    return out.slice(0, o);
  }
  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(s = "") { return encode(String(s)); }
    encodeInto(s, dest) {
      s = String(s);
      let read = 0, written = 0;
      for (const ch of s) {
        const b = encode(ch);
        if (written + b.length > dest.length) break;
        dest.set(b, written);
        written += b.length;
        read += ch.length;
      }
      return { read, written };
    }
    get [Symbol.toStringTag]() { return "TextEncoder"; }
  }
  const NON_ASCII = /[\x80-\xff]/, slice = String.prototype.slice;
  const LABELS = new Set(["utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"]);
  class TextDecoder {
    #fatal; #ignoreBOM; #pending = []; #bomSeen = false;
    constructor(label = "utf-8", opts = {}) {
      const l = String(label).trim().toLowerCase();
      if (!LABELS.has(l)) throw new RangeError("TextDecoder: only utf-8 is supported, got " + JSON.stringify(String(label)));
      this.#fatal = !!(opts && opts.fatal);
      this.#ignoreBOM = !!(opts && opts.ignoreBOM);
    }
    get encoding() { return "utf-8"; }
    get fatal() { return this.#fatal; }
    get ignoreBOM() { return this.#ignoreBOM; }
    decode(input, opts = {}) {
      let u;
      if (input === undefined) u = new Uint8Array(0);
      else if (input instanceof ArrayBuffer) u = new Uint8Array(input);
      else if (ArrayBuffer.isView(input)) u = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      else throw new TypeError("TextDecoder.decode: input must be an ArrayBuffer or a view");
      const stream = !!(opts && opts.stream);
      if (this.#pending.length) { const m = new Uint8Array(this.#pending.length + u.length); m.set(this.#pending); m.set(u, this.#pending.length); u = m; this.#pending = []; }
      let s = "", i = 0;
      const n = u.length;
      const bad = () => { if (this.#fatal) { this.#pending = []; this.#bomSeen = false; throw new TypeError("The encoded data was not valid utf-8"); } s += "\ufffd"; };
      const parts = [];
      let win = 16;
      while (i < n) {
        const b = u[i];
        if (b < 0x80) {   // ASCII a window at a time (the window grows while it stays ASCII), not a byte at a time
          let run = String.fromCharCode.apply(null, u.subarray(i, i + win < n ? i + win : n));
          const k = run.search(NON_ASCII);
          if (k >= 0) { run = slice.call(run, 0, k); win = 16; } else if (win < 8192) win *= 2;
          s += run;
          i += run.length;
          if (s.length > 8192) { parts.push(s); s = ""; }
          continue;
        }
        let need, cp, lo = 0x80, hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf) { need = 1; cp = b & 0x1f; }
        else if (b >= 0xe0 && b <= 0xef) { need = 2; cp = b & 0xf; if (b === 0xe0) lo = 0xa0; if (b === 0xed) hi = 0x9f; }
        else if (b >= 0xf0 && b <= 0xf4) { need = 3; cp = b & 0x7; if (b === 0xf0) lo = 0x90; if (b === 0xf4) hi = 0x8f; }
        else { bad(); i++; continue; }
        let j = 1, ok = true;
        for (; j <= need; j++) {
          if (i + j >= n) { ok = false; break; }
          const c = u[i + j];
          if (c < lo || c > hi) { ok = false; break; }
          lo = 0x80; hi = 0xbf;
          cp = (cp << 6) | (c & 0x3f);
        }
        if (!ok) {
          if (i + j >= n && stream) { this.#pending = Array.from(u.subarray(i)); break; }
          bad(); i += j; continue;
        }
        s += String.fromCodePoint(cp);
        i += need + 1;
      }
      parts.push(s);
      let r = parts.join("");
      if (!this.#bomSeen && r.length) { if (!this.#ignoreBOM && r.charCodeAt(0) === 0xfeff) r = r.slice(1); this.#bomSeen = true; }
      if (!stream) { this.#bomSeen = false; }
      return r;
    }
    get [Symbol.toStringTag]() { return "TextDecoder"; }
  }
  // For the bodies of fetch_api: the real conversions, whatever the tenant did to the globals.
  sr.utf8 = encode;
  sr.fromUtf8 = (u8) => new TextDecoder().decode(u8);
  sr.install({ __proto__: null, TextEncoder, TextDecoder });
});
