// FormData, and the form bodies of fetch_api: FormData encoded as multipart/form-data
// (sr.multipart) and body.formData() for multipart/form-data and
// application/x-www-form-urlencoded (sr.parseForm), per the Fetch and XHR standards.
(function (sr) {
  "use strict";
  const { push, list, is, setProto, Str, TypeErr, AP, code, lower, slice, U8, bytesLen } = sr.prim;
  sr.load("encoding");
  const utf8 = sr.utf8;
  // The standards' "UTF-8 decode without BOM": a leading U+FEFF of a form value is kept.
  const noBom = new (sr.get("TextDecoder"))("utf-8", { ignoreBOM: true });
  const fromUtf8 = (u8) => noBom.decode(u8);
  const File = sr.get("File");
  const array = (l) => setProto(l, AP);
  function toStr(v, what) {
    if (typeof v === "string") return v;
    if (typeof v === "symbol") throw new TypeErr(what + " cannot be a Symbol");
    return Str(v);
  }
  // A USVString: lone surrogates become U+FFFD.
  const usv = (s) => sr.prim.wellFormed(s);
  // An entry value: a string, or a File (a Blob becomes a File named "blob" or `filename`).
  function entryValue(value, filename, n) {
    if (sr.isBlob(value)) {
      if (filename === undefined && is(value, File)) return value;
      const name = filename !== undefined ? usv(toStr(filename, "the filename")) : is(value, File) ? value.name : "blob";
      const opts = { __proto__: null, type: value.type };
      if (is(value, File)) opts.lastModified = value.lastModified;
      return new File([value], name, opts);
    }
    if (n === 3) throw new TypeErr("FormData: a filename is only allowed with a Blob value");
    return usv(toStr(value, "a FormData value"));
  }
  let entriesOf;
  class FormData {
    #entries = list();
    constructor(form, submitter) {
      if (form !== undefined) throw new TypeErr("FormData: there are no HTML forms here; construct it with no argument");
      void submitter;
    }
    static { entriesOf = (f) => f.#entries; }
    append(name, value, filename) {
      if (arguments.length < 2) throw new TypeErr("FormData.append: a name and a value are required");
      push(this.#entries, [usv(toStr(name, "a FormData name")), entryValue(value, filename, arguments.length)]);
    }
    set(name, value, filename) {
      if (arguments.length < 2) throw new TypeErr("FormData.set: a name and a value are required");
      const n = usv(toStr(name, "a FormData name")), v = entryValue(value, filename, arguments.length), kept = list();
      let seen = false;
      for (let i = 0; i < this.#entries.length; i++) {
        const e = this.#entries[i];
        if (e[0] !== n) push(kept, e);
        else if (!seen) { seen = true; push(kept, [n, v]); }
      }
      if (!seen) push(kept, [n, v]);
      this.#entries = kept;
    }
    delete(name) {
      const n = usv(toStr(name, "a FormData name")), kept = list();
      for (let i = 0, e; i < this.#entries.length; i++) if ((e = this.#entries[i])[0] !== n) push(kept, e);
      this.#entries = kept;
    }
    get(name) {
      const n = usv(toStr(name, "a FormData name"));
      for (let i = 0, e; i < this.#entries.length; i++) if ((e = this.#entries[i])[0] === n) return e[1];
      return null;
    }
    getAll(name) {
      const n = usv(toStr(name, "a FormData name")), vs = list();
      for (let i = 0, e; i < this.#entries.length; i++) if ((e = this.#entries[i])[0] === n) push(vs, e[1]);
      return array(vs);
    }
    has(name) {
      const n = usv(toStr(name, "a FormData name"));
      for (let i = 0, e; i < this.#entries.length; i++) if ((e = this.#entries[i])[0] === n) return true;
      return false;
    }
    *entries() { for (let i = 0; i < this.#entries.length; i++) yield array([this.#entries[i][0], this.#entries[i][1]]); }
    *keys() { for (let i = 0; i < this.#entries.length; i++) yield this.#entries[i][0]; }
    *values() { for (let i = 0; i < this.#entries.length; i++) yield this.#entries[i][1]; }
    forEach(cb, thisArg) {
      if (typeof cb !== "function") throw new TypeErr("FormData.forEach: the callback must be a function");
      for (let i = 0; i < this.#entries.length; i++) cb.call(thisArg, this.#entries[i][1], this.#entries[i][0], this);
    }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return "FormData"; }
  }

  // ---- multipart/form-data encoding (HTML's algorithm) -------------------------
  const escapeName = (s) => {
    let o = "";
    for (let i = 0; i < s.length; i++) {
      const c = code(s, i);
      o += c === 10 ? "%0A" : c === 13 ? "%0D" : c === 34 ? "%22" : slice(s, i, i + 1);
    }
    return o;
  };
  const normNewlines = (s) => {   // a lone CR or LF becomes CRLF
    let o = "";
    for (let i = 0; i < s.length; i++) {
      const c = code(s, i);
      if (c === 13) { o += "\r\n"; if (code(s, i + 1) === 10) i++; } else if (c === 10) o += "\r\n"; else o += slice(s, i, i + 1);
    }
    return o;
  };
  const HEX = "0123456789abcdef";
  const rand = Math.random;
  function concat(parts) {
    let n = 0;
    for (let i = 0; i < parts.length; i++) n += bytesLen(parts[i]);
    const u = new U8(n);
    for (let i = 0, o = 0; i < parts.length; i++) { u.set(parts[i], o); o += bytesLen(parts[i]); }
    return u;
  }
  sr.multipart = (fd) => {
    let boundary = "----formdata-shardrun-";
    for (let i = 0; i < 24; i++) boundary += HEX[(rand() * 16) | 0];
    const parts = list();
    const es = entriesOf(fd);
    for (let i = 0; i < es.length; i++) {
      const name = es[i][0], v = es[i][1];
      let head = "--" + boundary + '\r\nContent-Disposition: form-data; name="' + escapeName(normNewlines(name)) + '"';
      if (typeof v === "string") { push(parts, utf8(head + "\r\n\r\n" + normNewlines(v) + "\r\n")); continue; }
      head += '; filename="' + escapeName(v.name) + '"\r\nContent-Type: ' + (v.type || "application/octet-stream") + "\r\n\r\n";
      push(parts, utf8(head));
      push(parts, sr.blobBytes(v));
      push(parts, utf8("\r\n"));
    }
    push(parts, utf8("--" + boundary + "--\r\n"));
    return [concat(parts), "multipart/form-data; boundary=" + boundary];
  };

  // ---- parsing ---------------------------------------------------------------------
  // The parameters of a header value (`a; k=v; k2="q"`), lowercased names, quotes removed.
  function params(v) {
    const out = { __proto__: null };
    let i = 0;
    const n = v.length;
    const skipWs = () => { while (i < n && (code(v, i) === 32 || code(v, i) === 9)) i++; };
    while (i < n && code(v, i) !== 59) i++;   // the value itself
    out[""] = lower(trim(slice(v, 0, i)));
    while (i < n) {
      i++;
      skipWs();
      let k = "";
      while (i < n && code(v, i) !== 61 && code(v, i) !== 59) k += slice(v, i, ++i);
      k = lower(trim(k));
      let val = "";
      if (code(v, i) === 61) {
        i++;
        skipWs();
        if (code(v, i) === 34) {
          i++;
          while (i < n && code(v, i) !== 34) { if (code(v, i) === 92 && i + 1 < n) i++; val += slice(v, i, ++i); }
          i++;
          while (i < n && code(v, i) !== 59) i++;
        } else {
          while (i < n && code(v, i) !== 59) val += slice(v, i, ++i);
          val = trim(val);
        }
      }
      if (k && !(k in out)) out[k] = val;
    }
    return out;
  }
  function trim(s) {
    let a = 0, b = s.length;
    while (a < b && (code(s, a) === 32 || code(s, a) === 9)) a++;
    while (b > a && (code(s, b - 1) === 32 || code(s, b - 1) === 9)) b--;
    return slice(s, a, b);
  }
  function find(u, pat, from) {
    const n = bytesLen(u), m = bytesLen(pat), first = pat[0];
    outer: for (let i = from; i + m <= n; i++) {
      if (u[i] !== first) continue;
      for (let j = 1; j < m; j++) if (u[i + j] !== pat[j]) continue outer;
      return i;
    }
    return -1;
  }
  const unescapeName = (s) => {
    let o = "";
    for (let i = 0; i < s.length; i++) {
      if (code(s, i) === 37 && i + 2 < s.length) {
        const t = slice(s, i, i + 3);
        if (t === "%0A" || t === "%0a") { o += "\n"; i += 2; continue; }
        if (t === "%0D" || t === "%0d") { o += "\r"; i += 2; continue; }
        if (t === "%22") { o += '"'; i += 2; continue; }
      }
      o += slice(s, i, i + 1);
    }
    return o;
  };
  const bad = (why) => new TypeErr("formData(): the multipart/form-data body is malformed: " + why);
  function parseMultipart(u, boundary) {
    const fd = new FormData(), delim = utf8("--" + boundary), next = utf8("\r\n--" + boundary), crlf2 = utf8("\r\n\r\n");
    let pos = find(u, delim, 0);
    if (pos < 0) throw bad("no boundary line");
    pos += bytesLen(delim);
    for (;;) {
      if (u[pos] === 45 && u[pos + 1] === 45) return fd;   // the closing "--boundary--"
      while (u[pos] === 32 || u[pos] === 9) pos++;
      if (u[pos] !== 13 || u[pos + 1] !== 10) throw bad("a boundary line does not end with CRLF");
      pos += 2;
      const he = find(u, crlf2, pos);
      if (he < 0) throw bad("a part has no end of headers");
      const lines = fromUtf8(u.subarray(pos, he));
      let name, filename, type = "";
      let ls = 0;
      for (let i = 0; i <= lines.length; i++) {
        if (i < lines.length && !(code(lines, i) === 13 && code(lines, i + 1) === 10)) continue;
        const line = slice(lines, ls, i);
        ls = i + 2;
        let c = 0;
        while (c < line.length && code(line, c) !== 58) c++;
        const hn = lower(trim(slice(line, 0, c))), hv = trim(slice(line, c + 1));
        if (hn === "content-disposition") {
          const p = params(hv);
          if (p[""] !== "form-data" || !("name" in p)) throw bad("a part's Content-Disposition is not form-data with a name");
          name = unescapeName(p.name);
          if ("filename" in p) filename = unescapeName(p.filename);
        } else if (hn === "content-type") type = hv;
      }
      if (name === undefined) throw bad("a part has no Content-Disposition");
      const start = he + 4, end = find(u, next, start);
      if (end < 0) throw bad("a part is not followed by a boundary");
      const value = u.subarray(start, end);
      if (filename !== undefined) fd.append(name, new File([value], filename, { __proto__: null, type: type || "text/plain" }));
      else fd.append(name, fromUtf8(value));
      pos = end + bytesLen(next);
    }
  }
  sr.parseForm = (u, contentType) => {
    const p = params(contentType), mime = p[""];
    if (mime === "multipart/form-data") {
      if (!p.boundary) throw new TypeErr("formData(): the multipart/form-data Content-Type has no boundary");
      return parseMultipart(u, p.boundary);
    }
    if (mime === "application/x-www-form-urlencoded") {
      const fd = new FormData();
      for (const [k, v] of new (sr.get("URLSearchParams"))(fromUtf8(u))) fd.append(k, v);
      return fd;
    }
    throw new TypeErr("formData(): the body's Content-Type must be multipart/form-data or application/x-www-form-urlencoded, it is " + (contentType ? sr.prim.q(contentType) : "missing"));
  };
  sr.install({ __proto__: null, FormData });
});
