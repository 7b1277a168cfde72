// TextEncoder (UTF-8) and TextDecoder (every encoding of the Encoding Standard).
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
    encode(s = "") { return utf8(Str(s)); }
    encodeInto(s, dest) {
      s = Str(s);
      if (!isView(dest) || !is(dest, U8)) throw new TypeErr("TextEncoder.encodeInto: the destination must be a Uint8Array");
      if (s.length >= SHORT) {
        const r = sr.host("encoding.utf8_encode_into", wellFormed(s), dest.length);
        dest.set(r[0]);
        return { read: r[1], written: r[0].length };
      }
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
  // ---- TextDecoder: every encoding of the Encoding Standard -------------------------
  // "name:label label ..." per encoding (the standard's label table; a name is also a label).
  // UTF-16, x-user-defined and short UTF-8 decode here, longer UTF-8 with the host's codec; a
  // single-byte encoding decodes here with the table the host gives once; a multi-byte one
  // decodes on the host (hostfns/encoding.py).
  const { Str, TypeErr, RangeErr, lower, code, isView, U8, AB, is, mget, mset, MapC, wellFormed, q } = sr.prim;
  const TABLE = "utf-8:unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf8 x-unicode20utf8|ibm866:866 cp866 csibm866|" +
    "iso-8859-2:csisolatin2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2|" +
    "iso-8859-3:csisolatin3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3|" +
    "iso-8859-4:csisolatin4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4|" +
    "iso-8859-5:csisolatincyrillic cyrillic iso-ir-144 iso8859-5 iso88595 iso_8859-5 iso_8859-5:1988|" +
    "iso-8859-6:arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987|" +
    "iso-8859-7:csisolatingreek ecma-118 elot_928 greek greek8 iso-ir-126 iso8859-7 iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek|" +
    "iso-8859-8:csiso88598e csisolatinhebrew hebrew iso-8859-8-e iso-ir-138 iso8859-8 iso88598 iso_8859-8 iso_8859-8:1988 visual|" +
    "iso-8859-8-i:csiso88598i logical|iso-8859-10:csisolatin6 iso-ir-157 iso8859-10 iso885910 l6 latin6|" +
    "iso-8859-13:iso8859-13 iso885913|iso-8859-14:iso8859-14 iso885914|iso-8859-15:csisolatin9 iso8859-15 iso885915 iso_8859-15 l9|" +
    "iso-8859-16:|koi8-r:cskoi8r koi koi8 koi8_r|koi8-u:koi8-ru|macintosh:csmacintosh mac x-mac-roman|" +
    "windows-874:dos-874 iso-8859-11 iso8859-11 iso885911 tis-620|windows-1250:cp1250 x-cp1250|windows-1251:cp1251 x-cp1251|" +
    "windows-1252:ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii x-cp1252|" +
    "windows-1253:cp1253 x-cp1253|windows-1254:cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989 l5 latin5 x-cp1254|" +
    "windows-1255:cp1255 x-cp1255|windows-1256:cp1256 x-cp1256|windows-1257:cp1257 x-cp1257|windows-1258:cp1258 x-cp1258|" +
    "x-mac-cyrillic:x-mac-ukrainian|gbk:chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 iso-ir-58 x-gbk|gb18030:|" +
    "big5:big5-hkscs cn-big5 csbig5 x-x-big5|euc-jp:cseucpkdfmtjapanese x-euc-jp|iso-2022-jp:csiso2022jp|" +
    "shift_jis:csshiftjis ms932 ms_kanji shift-jis sjis windows-31j x-sjis|" +
    "euc-kr:cseuckr csksc56011987 iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601 ksc_5601 windows-949|" +
    "replacement:csiso2022kr hz-gb-2312 iso-2022-cn iso-2022-cn-ext iso-2022-kr|utf-16be:unicodefffe|" +
    "utf-16le:csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16|x-user-defined:";
  let labels = null;   // label -> encoding name, made on first use
  const MULTI = { __proto__: null, gbk: 1, gb18030: 1, big5: 1, "euc-jp": 1, "iso-2022-jp": 1, shift_jis: 1, "euc-kr": 1 };
  function encodingOf(label) {
    if (labels === null) {
      labels = new MapC();
      for (const entry of TABLE.split("|")) {
        const k = entry.indexOf(":"), name = entry.slice(0, k), rest = entry.slice(k + 1);
        mset(labels, name, name);
        if (rest) for (const l of rest.split(" ")) mset(labels, l, name);
      }
    }
    // The standard trims ASCII whitespace only and lowercases ASCII only (every label is ASCII).
    let a = 0, b = label.length;
    const ws = (c) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
    while (a < b && ws(code(label, a))) a++;
    while (b > a && ws(code(label, b - 1))) b--;
    for (let i = a; i < b; i++) if (code(label, i) > 0x7e) return undefined;
    return mget(labels, lower(label.slice(a, b)));
  }
  const tables = { __proto__: null };   // single-byte encoding -> its 128 characters for 0x80-0xFF
  const BLOCK = 4 << 20;                 // bytes per host call for a multi-byte encoding

  // Each decoder: decode(bytes, stream) -> string, or throws `bad` (fatal); state lives in `st`.
  // Short strings and chunks stay in JS; longer ones go to the host, whose C loops are some
  // hundred times faster than the engine's (see bench/webapi_bench.py).
  const SHORT = 64;
  function utf8(s) {
    if (s.length < SHORT) return encode(s);
    return sr.host("encoding.utf8_encode", wellFormed(s));
  }
  function fromUtf8(u, st, stream, fatal) {
    if (st.pending) { const m = new U8(st.pending.length + u.length); m.set(st.pending); m.set(u, st.pending.length); u = m; st.pending = null; }
    if (u.length < SHORT) return utf8Js(u, st, stream, fatal);
    const r = sr.host("encoding.utf8_decode", u, fatal, stream);
    if (r[0] === null) throw BAD;
    if (r[1] < u.length) st.pending = u.slice(r[1]);
    return r[0];
  }
  function utf8Js(u, st, stream, fatal) {
    if (st.pending) { const m = new U8(st.pending.length + u.length); m.set(st.pending); m.set(u, st.pending.length); u = m; st.pending = null; }
    let s = "", i = 0;
    const n = u.length, parts = [];
    const bad = () => { if (fatal) throw BAD; s += "\ufffd"; };
    while (i < n) {
      const b = u[i];
      if (b < 0x80) { s += String.fromCharCode(b); i++; if (s.length > 8192) { parts.push(s); s = ""; } continue; }
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
        if (i + j >= n && stream) { st.pending = u.slice(i); break; }
        bad(); i += j; continue;
      }
      s += String.fromCodePoint(cp);
      i += need + 1;
    }
    parts.push(s);
    return parts.join("");
  }
  function utf16(u, st, stream, fatal, be) {
    let s = "", i = 0, lead = st.lead ?? -1, sur = st.sur ?? -1;   // a pending byte, a pending lead surrogate
    const n = u.length, parts = [];
    for (; i < n; i++) {
      if (lead < 0) { lead = u[i]; continue; }
      const unit = be ? (lead << 8) | u[i] : lead | (u[i] << 8);
      lead = -1;
      if (sur >= 0) {
        const hi = sur;
        sur = -1;
        if (unit >= 0xdc00 && unit <= 0xdfff) { s += String.fromCharCode(hi, unit); continue; }
        if (fatal) throw BAD;
        s += "\ufffd";
      }
      if (unit >= 0xd800 && unit <= 0xdbff) { sur = unit; continue; }
      if (unit >= 0xdc00 && unit <= 0xdfff) { if (fatal) throw BAD; s += "\ufffd"; continue; }
      s += String.fromCharCode(unit);
      if (s.length > 8192) { parts.push(s); s = ""; }
    }
    if (!stream && (lead >= 0 || sur >= 0)) { lead = sur = -1; if (fatal) throw BAD; s += "\ufffd"; }
    st.lead = lead; st.sur = sur;
    parts.push(s);
    return parts.join("");
  }
  function singleByte(u, table, fatal, user) {
    let s = "";
    const parts = [];
    for (let i = 0; i < u.length; i++) {
      const b = u[i];
      if (b < 0x80) s += String.fromCharCode(b);
      else if (user) s += String.fromCharCode(0xf780 + b - 0x80);
      else {
        const c = table[b - 0x80];
        if (c === "\ufffd" && fatal) throw BAD;
        s += c;
      }
      if (s.length > 8192) { parts.push(s); s = ""; }
    }
    parts.push(s);
    return parts.join("");
  }
  function multiByte(name, u, st, stream, fatal) {
    const parts = [];
    for (let at = 0; ; at += BLOCK) {
      const last = u.length - at <= BLOCK, piece = at === 0 && last ? u : u.subarray(at, at + BLOCK);
      const r = sr.host("encoding.decode", name, piece, fatal, stream || !last, st.rest || EMPTY, st.mode || 0);
      if (r[0] === null) throw BAD;
      parts.push(r[0]);
      st.rest = r[1]; st.mode = r[2];
      if (last) break;
    }
    return parts.join("");
  }
  const BAD = { __proto__: null };   // thrown by a decoder in fatal mode, turned into TypeError below
  const EMPTY = new U8(0);

  class TextDecoder {
    #encoding; #fatal; #ignoreBOM; #st = { __proto__: null }; #bomSeen = false;
    constructor(label = "utf-8", options = undefined) {
      const enc = encodingOf(Str(label));
      if (enc === undefined || enc === "replacement") throw new RangeErr("TextDecoder: " + q(Str(label)) + " is not the label of an encoding TextDecoder supports");
      if (options !== undefined && options !== null && typeof options !== "object" && typeof options !== "function") throw new TypeErr("TextDecoder: options must be an object");
      this.#encoding = enc;
      this.#fatal = !!(options && options.fatal);
      this.#ignoreBOM = !!(options && options.ignoreBOM);
      if (enc !== "utf-8" && enc !== "utf-16le" && enc !== "utf-16be" && enc !== "x-user-defined" && !MULTI[enc] && !tables[enc]) tables[enc] = sr.host("encoding.table", enc);
    }
    get encoding() { return this.#encoding; }
    get fatal() { return this.#fatal; }
    get ignoreBOM() { return this.#ignoreBOM; }
    decode(input = undefined, options = undefined) {
      let u;
      if (input === undefined) u = EMPTY;
      else if (is(input, AB)) u = new U8(input);
      else if (isView(input)) u = new U8(input.buffer, input.byteOffset, input.byteLength);
      else throw new TypeErr("TextDecoder.decode: the input must be an ArrayBuffer or an ArrayBufferView");
      if (options !== undefined && options !== null && typeof options !== "object" && typeof options !== "function") throw new TypeErr("TextDecoder.decode: options must be an object");
      const stream = !!(options && options.stream), enc = this.#encoding, st = this.#st, fatal = this.#fatal;
      let r;
      try {
        if (enc === "utf-8") r = fromUtf8(u, st, stream, fatal);
        else if (enc === "utf-16le" || enc === "utf-16be") r = utf16(u, st, stream, fatal, enc === "utf-16be");
        else if (MULTI[enc]) r = multiByte(enc, u, st, stream, fatal);
        else r = singleByte(u, tables[enc], fatal, enc === "x-user-defined");
      } catch (e) {
        if (e !== BAD) throw e;
        this.#st = { __proto__: null }; this.#bomSeen = false;
        throw new TypeErr("The encoded data was not valid " + enc);
      }
      if (!this.#bomSeen && r.length) {
        if (!this.#ignoreBOM && code(r, 0) === 0xfeff && (enc === "utf-8" || enc === "utf-16le" || enc === "utf-16be")) r = r.slice(1);
        this.#bomSeen = true;
      }
      if (!stream) { this.#bomSeen = false; this.#st = { __proto__: null }; }
      return r;
    }
    get [Symbol.toStringTag]() { return "TextDecoder"; }
  }
  // For the bodies of fetch_api: the real conversions, whatever the tenant did to the globals.
  sr.utf8 = utf8;
  sr.fromUtf8 = (u8) => new TextDecoder().decode(u8);
  sr.install({ __proto__: null, TextEncoder, TextDecoder });
});
